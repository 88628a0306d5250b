"""Choosing new accounts in a real browser: banner → Accounts page → Link account selection → import."""
import re

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from hostadmin.auth.models import Role
from hostadmin.banking import connect
from hostadmin.banking.models import BankAccount
from hostadmin.banking.sync import sync_item
from hostadmin.extensions import db, queues
from hostadmin.imports.models import ImportRow
from hostadmin.plaid_local.testing import EmulatorServer
from tests.factories import make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def plaid(app, tmp_path):
    """The emulator on the app's frozen clock, delivering its signed webhooks on demand."""
    with EmulatorServer(tmp_path / "plaid.sqlite3", clock=app.clock, webhook_delivery="manual") as server:
        app.extensions.pop("webhook_keys", None)
        yield server


def test_admin_chooses_a_new_account_in_link_and_its_history_is_imported(
        app, host, plaid, plaid_client, live_server, logged_in_page):
    app.config.update(PUBLIC_BASE_URL=live_server)
    admin = make_user(host, Role.ADMIN)
    item = connect.sandbox_connect(host, plaid_client)
    item_id, plaid_item_id = item.id, item.plaid_item_id
    assert sync_item(item, plaid_client).outcome == "SUCCEEDED"
    new_id = plaid.new_account(plaid_item_id)  # Plaid signs and sends NEW_ACCOUNTS_AVAILABLE
    plaid.deliver_webhooks()
    db.session.commit()
    page = logged_in_page(admin)

    page.locator('#banners [data-banner="NEW_ACCOUNTS"]').get_by_role("link", name="Choose accounts").click()
    page.wait_for_url(re.compile(rf"/connections/{item_id}/accounts$"))
    page.locator("#new-accounts-prompt").get_by_role("button", name="Choose accounts").click()
    link = page.frame_locator("#plaid-local-link-iframe")
    link.locator(f"#account-{new_id}").check()  # selectable: Link was opened with account selection
    link.locator("#connect").click()

    page.wait_for_selector(".flash-success")
    assert "Tick the ones hostadmin should import" in page.locator(".flash-success").inner_text()
    new_row = page.locator('#accounts tr[data-state="new"]')
    assert new_row.count() == 1
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector(".flash-success")
    SimpleWorker([queues.get("sync")], connection=queues.connection).work(burst=True)

    page.goto(f"/h/river/connections/{item_id}/accounts")
    assert page.locator('#banners [data-banner="NEW_ACCOUNTS"]').count() == 0
    assert page.locator('#accounts tr[data-state="new"]').count() == 0
    db.session.expire_all()
    account = db.session.scalar(select(BankAccount).where(BankAccount.plaid_account_id == new_id))
    assert account.synced
    assert db.session.scalar(select(func.count()).select_from(ImportRow)
                             .where(ImportRow.bank_account_id == account.id)) > 0
