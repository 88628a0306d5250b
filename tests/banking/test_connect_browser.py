"""The Connect flow in a real browser, through the emulator's Link page."""
import re

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from hostadmin.auth.models import Role
from hostadmin.extensions import db, queues
from hostadmin.imports.models import ImportRow
from tests.factories import make_user

pytestmark = pytest.mark.browser


def test_admin_connects_a_bank_with_link_and_sees_the_first_sync(
        app, host, plaid, plaid_client, live_server, logged_in_page):
    admin = make_user(host, Role.ADMIN)
    db.session.commit()
    page = logged_in_page(admin)

    page.get_by_role("link", name="Connections").click()
    page.get_by_role("button", name="Connect a bank").click()
    link = page.frame_locator("#plaid-local-link-iframe")
    link.locator("#institution-ins_109508").check()
    link.locator("#connect").click()

    page.wait_for_url(re.compile(r"/connections/\d+$"))
    assert "Connected First Platypus Bank" in page.locator(".flash-success").inner_text()
    assert page.locator("#accounts tbody tr").count() == 3

    SimpleWorker([queues.get("sync")], connection=queues.connection).work(burst=True)
    page.reload()
    assert page.locator("#runs tbody tr").first.locator("td").nth(2).inner_text() == "Succeeded"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ImportRow)) > 0


def test_login_required_banner_reconnects_through_link_update_mode(
        app, host, item, plaid, plaid_client, live_server, logged_in_page):
    from hostadmin.banking.sync import sync_item
    admin = make_user(host, Role.ADMIN)
    plaid.reset_login(item.plaid_item_id)
    sync_item(item, plaid_client)
    db.session.commit()
    page = logged_in_page(admin)

    page.goto(f"/h/river/connections/{item.id}")
    banner = page.locator("#item-error")
    assert "sign in again" in banner.inner_text()
    banner.get_by_role("button", name="Reconnect").click()
    page.frame_locator("#plaid-local-link-iframe").locator("#connect").click()

    page.wait_for_selector(".flash-success")
    assert "reconnected" in page.locator(".flash-success").inner_text()
    SimpleWorker([queues.get("sync")], connection=queues.connection).work(burst=True)
    page.reload()
    assert page.locator("#item-error").count() == 0
    assert page.locator("[data-status]").first.get_attribute("data-status") == "HEALTHY"
