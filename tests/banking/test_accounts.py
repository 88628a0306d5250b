"""A connection's Accounts page: new-account prompts, selection, dismissal, matching, churn."""
import re

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from hostadmin.audit.models import AuditEntry
from hostadmin.auth.models import Role
from hostadmin.banking import connect
from hostadmin.banking.models import BankAccount, PlaidItem
from hostadmin.banking.sync import sync_item
from hostadmin.extensions import db, queues
from hostadmin.imports.models import ImportRow
from hostadmin.plaid_local.testing import EmulatorServer
from tests.factories import make_user


@pytest.fixture
def plaid(app, tmp_path):
    """The emulator on the app's frozen clock (its signed webhooks are fresh), delivering on demand."""
    with EmulatorServer(tmp_path / "plaid.sqlite3", clock=app.clock, webhook_delivery="manual") as server:
        app.extensions.pop("webhook_keys", None)
        yield server


@pytest.fixture
def item(app, host, plaid, plaid_client, live_server):
    """A connected item whose webhooks reach the app over HTTP, with history on every account, synced once."""
    app.config.update(PUBLIC_BASE_URL=live_server)
    item = connect.sandbox_connect(host, plaid_client)
    for n, account in enumerate(item.accounts):
        plaid.add_transactions(item.plaid_item_id, account_id=account.plaid_account_id,
                               specs=[{"amount": -10.0 - n, "date": "2026-10-0%d" % (n + 1), "name": f"Gift {n}"}])
    deliver(plaid)
    assert sync_item(item, plaid_client).outcome == "SUCCEEDED"
    return item


@pytest.fixture
def web(client, login_as, host):
    admin = make_user(host, Role.ADMIN)
    db.session.commit()
    return login_as(admin)


def states(web, item):
    """{account name: (state, rows)} from the Accounts page."""
    page = web.get(f"/h/river/connections/{item.id}/accounts").get_data(as_text=True)
    out = {}
    for state, body in re.findall(r'<tr data-account="\d+" data-state="([a-z-]+)"[^>]*>(.*?)</tr>', page, re.S):
        name = re.search(r'<label for="sync-\d+">([^<]*)</label>', body).group(1).split(" ••")[0]
        rows = int(re.search(r'<td class="num">(\d+)</td>', body).group(1))
        out[name] = (state, rows)
    return out


def account_named(item, name):
    return db.session.scalar(select(BankAccount).where(BankAccount.item_id == item.id, BankAccount.name == name))


def rows_of(account):
    return db.session.scalar(select(func.count()).select_from(ImportRow).where(ImportRow.bank_account_id == account.id))


def save(web, item, selected, collectives=None):
    data = {"sync": [str(a.id) for a in selected]}
    data.update({f"collective-{a.id}": str(c.id) for a, c in (collectives or {}).items()})
    return web.post_with_csrf(f"/h/river/connections/{item.id}/accounts", data=data)


def deliver(plaid):
    """Plaid POSTs its signed webhooks to the live app; this session then reads what they changed."""
    attempts = plaid.deliver_webhooks()
    db.session.commit()
    db.session.expire_all()
    return attempts


def run_sync_jobs():
    SimpleWorker([queues.get("sync")], connection=queues.connection).work(burst=True)
    db.session.expire_all()


def new_shared_account(plaid, item):
    """The bank opens an account (Plaid signs and sends NEW_ACCOUNTS_AVAILABLE); Link shares it."""
    account_id = plaid.new_account(item.plaid_item_id)
    assert deliver(plaid) >= 1
    plaid.share_accounts(item.plaid_item_id, account_id)
    return account_id


def test_new_accounts_webhook_prompts_with_a_banner_and_badge_leading_to_the_accounts_page(plaid, item, web):
    plaid.new_account(item.plaid_item_id)
    deliver(plaid)

    dashboard = web.get("/h/river/").get_data(as_text=True)
    assert 'data-banner="NEW_ACCOUNTS"' in dashboard
    assert f'href="/h/river/connections/{item.id}/accounts">Choose accounts' in dashboard
    connections = web.get("/h/river/connections/").get_data(as_text=True)
    assert f'data-new-accounts href="/h/river/connections/{item.id}/accounts"' in connections
    page = web.get(f"/h/river/connections/{item.id}/accounts").get_data(as_text=True)
    assert 'id="new-accounts-prompt"' in page and 'data-purpose="new-accounts"' in page


def test_accounts_page_shows_new_synced_and_closed_accounts_from_a_fresh_accounts_get(plaid, item, web):
    new_shared_account(plaid, item)
    closed = item.accounts[1]
    plaid.emulator.unshare_accounts(item.plaid_item_id, [closed.plaid_account_id])

    shown = states(web, item)
    first = item.accounts[0]
    assert shown[first.name] == ("synced", rows_of(first)) and rows_of(first) > 0
    assert shown[closed.name][0] == "gone"
    assert [state for state, _ in shown.values()].count("new") == 1
    assert "closed or removed at the bank" in web.get(f"/h/river/connections/{item.id}/accounts").get_data(as_text=True)


def test_a_new_account_is_imported_only_once_selected_and_then_with_its_history(plaid, item, web, plaid_client):
    new_id = new_shared_account(plaid, item)
    states(web, item)  # the page stores the new account (not synced)
    assert sync_item(db.session.get(PlaidItem, item.id), plaid_client).outcome == "SUCCEEDED"
    new = db.session.scalar(select(BankAccount).where(BankAccount.plaid_account_id == new_id))
    assert not new.synced and rows_of(new) == 0

    old = list(item.accounts)
    new_pk, item_pk = new.id, item.id
    response = save(web, item, old + [new])
    assert response.status_code == 302
    run_sync_jobs()

    new = db.session.get(BankAccount, new_pk)
    assert rows_of(new) > 0 and new.synced and new.reviewed_at is not None
    assert not db.session.get(PlaidItem, item_pk).new_accounts_available
    assert 'data-banner="NEW_ACCOUNTS"' not in web.get("/h/river/").get_data(as_text=True)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == new.id,
                                                                 AuditEntry.object_type == "bank_accounts")).all()
    assert "bank_account.select" in actions


def test_deselecting_an_account_stops_importing_it_and_keeps_its_rows(plaid, item, web, plaid_client):
    dropped = item.accounts[0]
    kept_rows = rows_of(dropped)
    save(web, item, item.accounts[1:])
    plaid.add_transactions(item.plaid_item_id, account_id=dropped.plaid_account_id,
                           specs=[{"amount": -25.0, "date": "2026-11-01", "name": "After deselect"}])
    plaid.add_transactions(item.plaid_item_id, account_id=item.accounts[1].plaid_account_id,
                           specs=[{"amount": -30.0, "date": "2026-11-01", "name": "Still imported"}])
    assert sync_item(db.session.get(PlaidItem, item.id), plaid_client).outcome == "SUCCEEDED"

    db.session.expire_all()
    assert rows_of(dropped) == kept_rows and not dropped.synced
    assert db.session.scalar(select(func.count()).select_from(ImportRow).where(ImportRow.description.like("Still%"))) == 1
    assert states(web, item)[dropped.name][0] == "not-synced"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "bank_account.deselect"))
    assert entry.object_id == dropped.id and entry.user_id is not None


def test_dismissed_prompt_returns_only_when_plaid_reports_another_account(plaid, item, web):
    plaid.new_account(item.plaid_item_id)
    deliver(plaid)
    web.post_with_csrf(f"/h/river/connections/{item.id}/accounts/dismiss")
    assert 'data-banner="NEW_ACCOUNTS"' not in web.get("/h/river/").get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "plaid_item.new_accounts_dismissed"))

    plaid.new_account(item.plaid_item_id)
    deliver(plaid)
    assert 'data-banner="NEW_ACCOUNTS"' in web.get("/h/river/").get_data(as_text=True)


def test_churned_account_id_lands_on_the_existing_bank_account_with_its_assignment(
        plaid, item, web, plaid_client, host):
    from tests.factories import make_collective
    account = item.accounts[0]
    collective = make_collective(host)
    db.session.commit()
    save(web, item, item.accounts, {account: collective})
    rows_before = rows_of(account)
    # The bank re-issues the account under a new account_id (same mask, name, type).
    store = plaid.emulator.store
    with store.write() as conn:
        conn.execute("UPDATE accounts SET account_id='churned-1', data=json_set(data, '$.account_id', 'churned-1') "
                     "WHERE account_id=?", (account.plaid_account_id,))
        conn.execute("UPDATE transactions SET account_id='churned-1' WHERE account_id=?", (account.plaid_account_id,))
    plaid.add_transactions(item.plaid_item_id, account_id="churned-1",
                           specs=[{"amount": -40.0, "date": "2026-11-02", "name": "After churn"}])

    assert sync_item(db.session.get(PlaidItem, item.id), plaid_client).outcome == "SUCCEEDED"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(BankAccount).where(BankAccount.item_id == item.id)) == 3
    assert account.plaid_account_id == "churned-1" and account.default_collective_id == collective.id
    assert rows_of(account) == rows_before + 1


def test_an_account_another_connection_syncs_is_shown_and_cannot_be_selected(plaid, item, web, plaid_client, host):
    # A second login at the same bank shares a new account plus one the first connection syncs.
    first = item.accounts[0]
    other = PlaidItem(host_id=host.id, plaid_item_id="item-two", institution_id=item.institution_id,
                      institution_name="First Platypus Bank", access_token_encrypted=item.access_token_encrypted)
    db.session.add(other)
    db.session.flush()
    copy = BankAccount(host_id=host.id, item_id=other.id, plaid_account_id="copy-1", name=first.name,
                       mask=first.mask, type=first.type, synced=False)
    db.session.add(copy)
    db.session.commit()

    page = web.get(f"/h/river/connections/{other.id}/accounts").get_data(as_text=True)
    assert re.search(rf'data-account="{copy.id}" data-state="elsewhere"', page)
    assert re.search(rf'id="sync-{copy.id}"[^>]*\bdisabled', page, re.S)
    save(web, other, [copy])
    db.session.expire_all()
    assert not copy.synced


def test_accountants_see_the_accounts_page_read_only_and_cannot_choose(item, client, login_as, host):
    accountant = make_user(host, Role.ACCOUNTANT)
    db.session.commit()
    web = login_as(accountant)
    page = web.get(f"/h/river/connections/{item.id}/accounts").get_data(as_text=True)
    assert 'id="save-accounts"' not in page and re.search(r'id="sync-\d+"[^>]*\bdisabled', page, re.S)
    assert web.post_with_csrf(f"/h/river/connections/{item.id}/accounts", data={"sync": "1"}).status_code == 403
    assert web.post_with_csrf(f"/h/river/connections/{item.id}/accounts/dismiss").status_code == 403


def test_arbitrary_text_in_the_accounts_form_is_ignored_not_an_error(item, web):
    response = web.post_with_csrf(f"/h/river/connections/{item.id}/accounts", data={
        "sync": ["x\u0000", "99999999999999999999", "-1"], "collective-abc": "1", "collective-1": "\u0007"})
    assert response.status_code == 302
    db.session.expire_all()
    assert not any(a.synced for a in db.session.get(PlaidItem, item.id).accounts)


def test_accounts_page_still_lists_known_accounts_when_plaid_cannot_answer(plaid, item, web):
    plaid.reset_login(item.plaid_item_id)  # /accounts/get now answers ITEM_LOGIN_REQUIRED
    page = web.get(f"/h/river/connections/{item.id}/accounts")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="accounts-error"' in text
    assert text.count('data-state="synced"') == 3
