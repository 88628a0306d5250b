"""The dashboard's to-do list in a browser: each item leads to the page where it gets done."""
import pytest
from playwright.sync_api import expect

from tests.factories import make_bank_account, make_collective, make_host, make_import, make_import_row, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def river(db):
    host = make_host(slug="river", name="River Host")
    make_collective(host, "River Rowers")
    broken, fresh = make_bank_account(host, "Checking"), make_bank_account(host, "Savings")
    broken.item.status, broken.item.institution_name = "LOGIN_REQUIRED", "Broken Bank"
    fresh.item.new_accounts_available, fresh.item.institution_name = True, "Fresh Bank"
    imp = make_import(host, "River checking", bank_account=broken)
    for n in range(2):
        make_import_row(imp, amount=1000 + n, bank_account=broken, description=f"DEPOSIT {n}")
    admin = make_user(host)
    db.session.commit()
    return {"admin": admin, "broken": broken, "fresh": fresh}


def test_each_to_do_link_opens_the_page_where_it_is_done(logged_in_page, river):
    page = logged_in_page(river["admin"])
    page.goto("/h/river/")
    todo = page.get_by_role("region", name="To do")
    todo.get_by_role("link", name="2 bank rows to triage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("All bank rows")
    expect(page.locator("tbody.row")).to_have_count(2)

    page.go_back()
    todo.locator('[data-todo="connection"]').get_by_role("link", name="Reconnect").click()
    expect(page).to_have_url(f"{page.url.split('/h/')[0]}/h/river/connections/{river['broken'].item.id}")

    page.go_back()
    todo.get_by_role("link", name="Choose accounts").click()
    expect(page).to_have_url(f"{page.url.split('/h/')[0]}/h/river/connections/{river['fresh'].item.id}/accounts")

    page.go_back()
    page.get_by_role("link", name="River Rowers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("River Rowers")
