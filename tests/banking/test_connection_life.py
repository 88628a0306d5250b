"""A connection's life: one reconnect action, one state after it, reuse after a disconnect, removal, Link errors."""
import re

import pytest
from sqlalchemy import func, select

from hostadmin.audit.models import AuditEntry
from hostadmin.auth.models import Role
from hostadmin.banking import connect, service
from hostadmin.banking.models import BankAccount, PlaidItem
from hostadmin.banking.sync import sync_item
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow, TransactionsImport
from tests.factories import make_collective, make_user


@pytest.fixture
def admin(host):
    user = make_user(host, Role.ADMIN)
    db.session.commit()
    return user


@pytest.fixture
def web(client, login_as, admin):
    return login_as(admin)


def reconnect_through_link(web, item):
    """What connect.js does: a reconnect Link token, then Link's onSuccess posts it back."""
    token = web.post_with_csrf("/h/river/connections/link-token",
                               data={"item_id": item.id, "purpose": "reconnect"}).get_json()["link_token"]
    return web.post_with_csrf(f"/h/river/connections/{item.id}/update-complete",
                              data={"link_token": token, "purpose": "reconnect"}, follow_redirects=True)


def test_after_a_reconnect_the_page_shows_one_healthy_state(item, plaid, plaid_client, web):
    plaid.reset_login(item.plaid_item_id)
    sync_item(item, plaid_client)
    assert 'id="item-error"' in web.get(f"/h/river/connections/{item.id}").get_data(as_text=True)

    page = reconnect_through_link(web, item).get_data(as_text=True)

    assert "reconnected" in page and 'id="item-error"' not in page and "needs attention" not in page
    assert db.session.get(PlaidItem, item.id).status == "HEALTHY"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "plaid_item.reconnect"))
    assert entry.before["status"] == "LOGIN_REQUIRED" and entry.after["status"] == "HEALTHY"


def test_update_bank_login_and_reconnect_are_one_action_with_one_name(item, plaid, plaid_client, web):
    plaid.reset_login(item.plaid_item_id)
    sync_item(item, plaid_client)
    page = web.get(f"/h/river/connections/{item.id}").get_data(as_text=True)
    assert "Update bank login" not in page
    labels = set(re.findall(r'data-purpose="reconnect"[^>]*>([^<]+)</button>', page, re.S))
    assert labels == {"Reconnect"}


def test_connecting_a_disconnected_bank_again_reuses_its_import_accounts_and_collectives(
        item, host, admin, plaid_client):
    collective = make_collective(host)
    account = item.accounts[0]
    account.default_collective_id = collective.id
    db.session.commit()
    item_pk, account_pk = item.id, account.id
    service.disconnect(plaid_client, host, admin, item)

    again = connect.sandbox_connect(host, plaid_client, user=admin)

    assert again.id == item_pk and again.status == "HEALTHY" and again.cursor is None
    assert db.session.scalar(select(func.count()).select_from(TransactionsImport)) == 1
    assert db.session.scalar(select(func.count()).select_from(BankAccount)) == 3
    kept = db.session.get(BankAccount, account_pk)
    assert kept.default_collective_id == collective.id and kept.synced
    assert sync_item(again, plaid_client).outcome == "SUCCEEDED"


def test_a_reconnected_bank_does_not_import_its_old_history_twice(item, host, admin, plaid, plaid_client):
    assert sync_item(item, plaid_client).outcome == "SUCCEEDED"
    before = {a.id: rows_of(a) for a in item.accounts}
    last_day = {a.id: db.session.scalar(select(func.max(ImportRow.date)).where(ImportRow.bank_account_id == a.id))
                for a in item.accounts}
    last_row = db.session.scalar(select(func.max(ImportRow.id)))
    service.disconnect(plaid_client, host, admin, item)

    again = connect.sandbox_connect(host, plaid_client, user=admin)  # a new Item: same history, new ids
    assert sync_item(again, plaid_client).outcome == "SUCCEEDED"

    new_rows = db.session.scalars(select(ImportRow).where(ImportRow.id > last_row)).all()
    assert all(row.date >= last_day[row.bank_account_id] for row in new_rows)
    assert len(new_rows) < sum(before.values())


def rows_of(account):
    return db.session.scalar(select(func.count()).select_from(ImportRow).where(ImportRow.bank_account_id == account.id))


def test_a_disconnected_connection_can_be_removed_from_the_list_and_its_import_stays(
        item, host, admin, plaid_client, web):
    refused = web.post_with_csrf(f"/h/river/connections/{item.id}/remove", follow_redirects=True)
    assert "Disconnect the bank before" in refused.get_data(as_text=True)
    service.disconnect(plaid_client, host, admin, item)
    imports = web.get("/h/river/imports/").get_data(as_text=True)
    assert 'data-connection-state="disconnected"' in imports

    web.post_with_csrf(f"/h/river/connections/{item.id}/remove")

    assert f'data-item="{item.plaid_item_id}"' not in web.get("/h/river/connections/").get_data(as_text=True)
    tx_import = db.session.scalar(select(TransactionsImport).where(TransactionsImport.plaid_item_id == item.id))
    assert f'data-import="{tx_import.id}"' in web.get("/h/river/imports/").get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "plaid_item.remove_from_list"))


def test_imports_list_shows_a_connection_that_needs_attention(item, plaid, plaid_client, web):
    plaid.reset_login(item.plaid_item_id)
    sync_item(item, plaid_client)
    page = web.get("/h/river/imports/").get_data(as_text=True)
    assert re.search(rf'data-connection-state="needs-attention"\s+href="/h/river/connections/{item.id}"', page)


@pytest.mark.parametrize("fault", ["timeout", "INSTITUTION_DOWN"])
def test_an_error_starting_link_is_a_readable_message(app, plaid, plaid_client, web, fault):
    if fault == "timeout":
        app.config["PLAID_TIMEOUT"] = (1, 0.3)
        plaid.delay_next("/link/token/create", 1.0)
    else:
        plaid.fail_next("/link/token/create", fault)
    response = web.post_with_csrf("/h/river/connections/link-token")
    assert response.status_code == 502
    message = response.get_json()["error"]
    assert message.startswith("Plaid") and "Try again" in message and "Traceback" not in message


def test_the_oauth_return_page_resumes_only_a_link_token_issued_to_this_user(app, host, plaid_client, client, web):
    other = make_user(host, Role.ADMIN)
    db.session.commit()
    token = service.create_link_token(plaid_client, host, other)
    with web.session_transaction() as browser_session:
        browser_session["plaid_link_token"] = token
    assert web.get("/plaid/oauth-return?oauth_state_id=x").status_code == 404

    own = web.post_with_csrf("/h/river/connections/link-token").get_json()["link_token"]
    page = web.get("/plaid/oauth-return?oauth_state_id=x").get_data(as_text=True)
    assert f'data-link-token="{own}"' in page and 'data-complete-url="/h/river/connections/exchange"' in page
