"""An OAuth bank in a real browser: Link leaves for the bank's page, which sends the browser back to resume."""
import re

import pytest
from sqlalchemy import select

from hostadmin.auth.models import Role
from hostadmin.banking.models import PlaidItem
from hostadmin.extensions import db
from tests.factories import make_user

pytestmark = pytest.mark.browser


def through_the_bank(page):
    """Authorise at the emulator's fake bank page; it redirects to PLAID_REDIRECT_URI, where Link resumes."""
    page.wait_for_url(re.compile(r"/link/oauth/bank\?"))
    assert page.locator("#bank").inner_text() == "Platypus OAuth Bank"
    page.locator("#authorize").click()
    page.wait_for_url(re.compile(r"/plaid/oauth-return\?oauth_state_id="))
    link = page.frame_locator("#plaid-local-link-iframe")
    assert "Back from your bank" in link.locator("#oauth-back").inner_text()
    link.locator("#connect").click()


def test_connect_and_update_mode_with_an_oauth_bank_resume_link_after_the_bank_redirect(
        app, host, plaid, plaid_client, live_server, logged_in_page):
    app.config.update(PLAID_REDIRECT_URI=f"{live_server}/plaid/oauth-return")
    admin = make_user(host, Role.ADMIN)
    db.session.commit()
    page = logged_in_page(admin)

    page.goto("/h/river/connections/")
    page.get_by_role("button", name="Connect a bank").click()
    link = page.frame_locator("#plaid-local-link-iframe")
    link.locator("#institution-ins_127287").check()
    link.locator("#connect").click()
    through_the_bank(page)

    page.wait_for_url(re.compile(r"/h/river/connections/\d+$"))
    assert "Connected Platypus OAuth Bank" in page.locator(".flash-success").inner_text()
    db.session.expire_all()
    item = db.session.scalar(select(PlaidItem))
    assert item.institution_id == "ins_127287"

    plaid.reset_login(item.plaid_item_id)
    page.get_by_role("button", name="Reconnect").first.click()
    page.frame_locator("#plaid-local-link-iframe").locator("#connect").click()
    through_the_bank(page)
    page.wait_for_selector(".flash-success")
    assert "reconnected" in page.locator(".flash-success").inner_text()

