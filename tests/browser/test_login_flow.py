"""The sign-in path in a real browser."""
import pytest

from hostadmin.auth.models import Role
from hostadmin.ledger import accounts, service as ledger
from tests.factories import make_collective, make_contributor, make_host, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(db, clock):
    host = make_host(slug="river", name="River Host")
    rowers = make_collective(host, "River Rowers")
    order = accounts.create_order(host, contributor=make_contributor(host), collective=rowers, amount=250075)
    ledger.record_order_paid(order, cleared_at=clock.now)
    user = make_user(host, Role.ADMIN, email="admin@river.org")
    db.session.commit()
    return user


def test_wrong_password_shows_a_message(page, seeded):
    page.goto("/")
    assert "/login" in page.url
    page.get_by_label("Email").fill("admin@river.org")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Email or password is incorrect."
    assert "/login" in page.url


def test_login_succeeds_and_dashboard_shows_seeded_balances(logged_in_page, seeded):
    page = logged_in_page(seeded)
    assert page.get_by_role("heading", level=1).inner_text() == "River Host"
    row = page.locator("tr[data-collective='river-rowers']")
    assert row.locator("td").nth(1).inner_text() == "$2,500.75"
    assert page.locator("#total-balance").inner_text() == "$2,500.75"


def test_logout_returns_to_login_and_pages_need_login_again(logged_in_page, seeded):
    page = logged_in_page(seeded)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    assert "You are signed out." in page.content()
    page.goto("/h/river/")
    assert "/login" in page.url


def test_add_collective_from_the_dashboard(logged_in_page, seeded):
    page = logged_in_page(seeded)
    page.get_by_role("button", name="Add collective").click()
    assert page.locator(".field-error").inner_text() == "Give the collective a name."
    page.get_by_label("Collective name").fill("Harbour Choir")
    page.get_by_role("button", name="Add collective").click()
    assert page.locator("tr[data-collective='harbour-choir']").is_visible()
