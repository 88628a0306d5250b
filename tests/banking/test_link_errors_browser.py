"""A Link that cannot start shows a readable message and a retry, in a real browser."""
import pytest

from hostadmin.auth.models import Role
from hostadmin.extensions import db
from tests.factories import make_user

pytestmark = pytest.mark.browser


def test_an_institution_down_while_starting_link_shows_a_message_and_try_again_opens_link(
        app, host, plaid, plaid_client, live_server, logged_in_page):
    admin = make_user(host, Role.ADMIN)
    db.session.commit()
    page = logged_in_page(admin)
    page.goto("/h/river/connections/")
    plaid.fail_next("/link/token/create", "INSTITUTION_DOWN")

    page.get_by_role("button", name="Connect a bank").click()
    error = page.locator("#plaid-link-error")
    error.wait_for()
    assert error.inner_text().startswith("Plaid could not start Link:")
    error.get_by_role("button", name="Try again").click()

    page.frame_locator("#plaid-local-link-iframe").locator("#connect").wait_for()
    assert error.is_hidden()
