"""Connecting a bank: Link tokens bound to host and user, exchange, duplicates, disconnect."""

import pytest
from plaid.model.products import Products
from plaid.model.sandbox_public_token_create_request import SandboxPublicTokenCreateRequest
from sqlalchemy import func, select

from hostadmin.auth.models import Role
from hostadmin.banking import connect, service
from hostadmin.banking.models import BankAccount, LinkTokenGrant, PlaidItem
from hostadmin.imports.models import TransactionsImport
from tests.factories import make_host, make_user


def public_token(plaid_client, institution="ins_109508"):
    return plaid_client.sandbox_public_token_create(SandboxPublicTokenCreateRequest(
        institution_id=institution, initial_products=[Products("transactions")])).public_token


@pytest.fixture
def admin(db, host):
    user = make_user(host, Role.ADMIN)
    db.session.commit()
    return user


def test_connect_stores_item_accounts_and_import(db, host, admin, plaid_client):
    token = service.create_link_token(plaid_client, host, admin)
    item = service.complete_connect(plaid_client, host, admin, token, public_token(plaid_client))

    assert item.institution_name == "First Platypus Bank" and item.status == "HEALTHY"
    assert len(item.accounts) == 3 and {a.type for a in item.accounts} >= {"depository", "credit"}
    assert db.session.scalar(select(TransactionsImport).where(TransactionsImport.plaid_item_id == item.id))
    assert db.session.scalar(select(LinkTokenGrant.used_at)) is not None


def test_link_token_of_another_user_or_host_is_refused(db, host, admin, plaid_client):
    other_admin = make_user(host, Role.ADMIN)
    other_host = make_host()
    db.session.commit()
    token = service.create_link_token(plaid_client, host, admin)

    with pytest.raises(service.ConnectError, match="not started from your session"):
        service.complete_connect(plaid_client, host, other_admin, token, public_token(plaid_client))
    with pytest.raises(service.ConnectError, match="not started from your session"):
        service.complete_connect(plaid_client, other_host, admin, token, public_token(plaid_client))
    assert db.session.scalar(select(func.count()).select_from(PlaidItem)) == 0


def test_link_token_is_single_use_and_expires(db, host, admin, plaid_client, clock):
    token = service.create_link_token(plaid_client, host, admin)
    service.complete_connect(plaid_client, host, admin, token, public_token(plaid_client))
    with pytest.raises(service.ConnectError, match="already completed"):
        service.complete_connect(plaid_client, host, admin, token, public_token(plaid_client, "ins_109509"))

    late = service.create_link_token(plaid_client, host, admin)
    clock.advance(hours=4, minutes=1)
    with pytest.raises(service.ConnectError, match="expired"):
        service.complete_connect(plaid_client, host, admin, late, public_token(plaid_client, "ins_109509"))


def test_disconnect_removes_at_plaid_and_keeps_history(db, host, admin, item, plaid, plaid_client):
    service.disconnect(plaid_client, host, admin, item)

    assert item.status == "DISCONNECTED" and item.disconnected_at is not None
    assert db.session.scalar(select(func.count()).select_from(BankAccount)) == 3
    from hostadmin.banking.sync import run_locked_sync
    assert run_locked_sync(item.id, client=plaid_client)[0].error_code == "DISCONNECTED"


def test_accountant_cannot_start_link_and_other_hosts_items_are_404(app, db, host, item, client, login_as):
    accountant = make_user(host, Role.ACCOUNTANT)
    stranger_host = make_host(slug="lake")
    stranger = make_user(stranger_host, Role.ADMIN)
    db.session.commit()

    login_as(accountant)
    assert client.get(f"/h/river/connections/{item.id}").status_code == 200
    assert client.post_with_csrf("/h/river/connections/link-token", htmx=True).status_code == 403
    client.post_with_csrf("/logout")

    login_as(stranger)
    assert client.get(f"/h/lake/connections/{item.id}").status_code == 404
    assert client.post_with_csrf(f"/h/lake/connections/{item.id}/sync").status_code == 404
    assert client.get(f"/h/river/connections/{item.id}").status_code == 404


def test_connections_page_shows_status_runs_and_login_required_banner(
        app, db, host, admin, item, plaid, plaid_client, client, login_as):
    from hostadmin.banking.sync import sync_item
    sync_item(item, plaid_client)
    plaid.reset_login(item.plaid_item_id)
    sync_item(item, plaid_client)
    login_as(admin)

    page = client.get(f"/h/river/connections/{item.id}").get_data(as_text=True)

    assert "needs attention" in page and "Reconnect" in page
    assert "ITEM_LOGIN_REQUIRED" in page and "Succeeded" in page
    listing = client.get("/h/river/connections/").get_data(as_text=True)
    assert "First Platypus Bank" in listing and "Login Required" in listing


@pytest.mark.parametrize("institution", ["ins_109508", "ins_109511"])  # matched by mask/name/type; by persistent id
def test_connecting_an_already_synced_bank_account_is_refused_and_removed_at_plaid(
        db, host, admin, plaid, plaid_client, institution):
    first = service.complete_connect(plaid_client, host, admin, service.create_link_token(plaid_client, host, admin),
                                     public_token(plaid_client, institution))

    with pytest.raises(connect.AlreadyConnected) as refused:
        service.complete_connect(plaid_client, host, admin, service.create_link_token(plaid_client, host, admin),
                                 public_token(plaid_client, institution))

    assert refused.value.existing.id == first.id
    assert db.session.scalar(select(func.count()).select_from(PlaidItem)) == 1
    assert len(plaid.emulator.store.all("SELECT item_id FROM items WHERE removed = 1")) == 1  # billing stops
    assert db.session.scalar(select(func.count()).select_from(BankAccount)) == 3


def test_the_same_bank_for_another_host_is_not_a_duplicate(db, host, admin, plaid_client):
    other = make_host()
    other_admin = make_user(other, Role.ADMIN)
    db.session.commit()
    service.complete_connect(plaid_client, host, admin, service.create_link_token(plaid_client, host, admin),
                             public_token(plaid_client))
    second = service.complete_connect(plaid_client, other, other_admin,
                                      service.create_link_token(plaid_client, other, other_admin),
                                      public_token(plaid_client))
    assert second.host_id == other.id


HX = {"HX-Request": "true"}


def test_connection_pages_auto_refresh_fragments_show_status_and_runs(
        db, host, admin, item, plaid, plaid_client, client, login_as):
    login_as(admin)
    status = client.get(f"/h/river/connections/{item.id}?fragment=status", headers=HX)
    listing = client.get("/h/river/connections/?fragment=list", headers=HX)
    assert status.status_code == 200 and listing.status_code == 200
    for fragment in (status, listing):
        html = fragment.get_data(as_text=True)
        assert "<html" not in html and 'data-status="HEALTHY"' in html and "Not synced yet" in html
    assert 'id="runs"' in status.get_data(as_text=True)

    from hostadmin.banking.sync import sync_item
    sync_item(item, plaid_client)
    db.session.commit()
    status = client.get(f"/h/river/connections/{item.id}?fragment=status", headers=HX).get_data(as_text=True)
    listing = client.get("/h/river/connections/?fragment=list", headers=HX).get_data(as_text=True)
    assert "Not synced yet" not in status and "Succeeded" in status and 'data-run="' in status
    assert "Last synced just now" in listing and "Last run:" in listing


def test_reconnect_leaves_no_needs_attention_beside_reconnected(
        db, host, admin, item, plaid, plaid_client, client, login_as):
    from hostadmin.banking.sync import sync_item
    plaid.reset_login(item.plaid_item_id)
    sync_item(item, plaid_client)
    db.session.commit()
    assert item.status == "LOGIN_REQUIRED"
    login_as(admin)
    token = service.create_link_token(plaid_client, host, admin, service.RECONNECT, item)
    plaid.repair_login(item.plaid_item_id)

    page = client.post_with_csrf(f"/h/river/connections/{item.id}/update-complete",
                                 {"link_token": token, "purpose": "reconnect"}, follow_redirects=True)

    html = page.get_data(as_text=True)
    assert "reconnected" in html and "needs attention" not in html
    assert 'data-status="HEALTHY"' in html and 'data-banner="LOGIN_REQUIRED"' not in html
    db.session.refresh(item)
    assert item.status == "HEALTHY" and item.error_code is None
