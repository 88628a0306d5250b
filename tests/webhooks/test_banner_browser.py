"""An admin sees the bank banner a Plaid webhook raised, in a real browser, and follows it."""
import re

import pytest

from hostadmin.auth.models import Role
from hostadmin.banking import connect
from hostadmin.extensions import db
from tests.factories import make_host, make_user

pytestmark = pytest.mark.browser


def test_login_required_webhook_shows_a_banner_that_leads_to_the_connection(
        app, plaid, live_server, logged_in_page):
    app.config.update(PUBLIC_BASE_URL=live_server, PLAID_HOST=plaid.url)
    host = make_host(slug="river", name="River Host")
    admin = make_user(host, Role.ADMIN)
    db.session.commit()
    item = connect.sandbox_connect(host, app.extensions["plaid"])
    item_id, plaid_item_id = item.id, item.plaid_item_id
    page = logged_in_page(admin)
    assert page.locator("#banners .banner").count() == 0

    plaid.reset_login(plaid_item_id)  # Plaid fires ITEM / ERROR ITEM_LOGIN_REQUIRED
    plaid.deliver_webhooks()
    page.reload()

    banner = page.locator('#banners [data-banner="LOGIN_REQUIRED"]')
    assert banner.inner_text().startswith("First Platypus Bank needs you to sign in again")
    banner.get_by_role("link", name="Reconnect").click()
    page.wait_for_url(re.compile(rf"/h/river/connections/{item_id}$"))

    plaid.repair_login(plaid_item_id)  # Plaid fires ITEM / LOGIN_REPAIRED
    plaid.deliver_webhooks()
    page.goto("/h/river/")
    assert page.locator("#banners .banner").count() == 0
