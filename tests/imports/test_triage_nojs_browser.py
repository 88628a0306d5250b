"""Without JavaScript every triage action is a form that POSTs and comes back to the list, saying what it did."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow
from tests.factories import PASSWORD, make_import_row
from tests.imports.test_triage_browser import row_locator, world  # noqa: F401  (the shared fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def plain_page(browser, live_server):
    """login(user): a browser page with JavaScript disabled, signed in."""
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()

    def login(user):
        page.goto("/login")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        return page
    yield login
    context.close()


def message(page):
    return page.locator("#feedback [data-feedback]")


def status_of(row):
    db.session.expire_all()
    return db.session.get(ImportRow, row.id).status


def rows_page(plain_page, world, query=""):
    page = plain_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows{query}")
    return page


def test_ignore_hold_restore_and_undo_without_javascript(plain_page, world):
    page = rows_page(plain_page, world)
    fee = world["rows"]["fee16"]
    row_locator(page, fee).get_by_role("button", name="Ignore").click()
    expect(message(page)).to_have_text("Row ignored.")
    assert status_of(fee) == "IGNORED"
    page.locator("#feedback").get_by_role("button", name="Undo").click()
    expect(message(page)).to_have_text("Undone: the row is back as it was.")
    assert status_of(fee) == "PENDING"
    row_locator(page, fee).get_by_role("button", name="Hold").click()
    expect(message(page)).to_have_text("Row put on hold.")
    page.goto(f"/h/river/imports/{world['imp'].id}/rows?status=ON_HOLD")
    row_locator(page, fee).get_by_role("button", name="Restore").click()
    expect(message(page)).to_have_text("Row back in to do.")
    expect(page).to_have_url(re.compile(r"status=ON_HOLD"))  # back to the list it came from
    assert status_of(fee) == "PENDING"


def test_note_without_javascript(plain_page, world):
    page = rows_page(plain_page, world)
    fee = world["rows"]["fee15"]
    row_locator(page, fee).get_by_role("button", name="Note").click()
    page.get_by_role("textbox", name=re.compile("Note")).fill("Card fee, refund asked")
    page.get_by_role("button", name="Save note").click()
    expect(message(page)).to_have_text("Note saved.")
    expect(row_locator(page, fee).locator(".note")).to_have_text("Card fee, refund asked")


def test_add_funds_then_undo_asks_for_the_unlink_without_javascript(plain_page, world):
    page = rows_page(plain_page, world)
    gift = world["rows"]["gift"]
    row_locator(page, gift).get_by_role("button", name="Add funds").click()
    expect(page.get_by_role("form", name="Add funds")).to_be_visible()
    page.get_by_label("New contributor's name").fill("Ada L.")
    page.get_by_role("form", name="Add funds").get_by_role("button", name="Add funds").click()
    expect(message(page)).to_have_text(re.compile(r"^Funds added: \$250\.00 as order #\d+\.$"))
    assert status_of(gift) == "LINKED"
    page.locator("#feedback").get_by_role("button", name="Undo").click()
    page.get_by_role("button", name="Reverse and unlink").click()
    expect(message(page)).to_contain_text("Unlinked")
    assert status_of(gift) == "PENDING"


def test_link_a_suggestion_and_a_refused_number_without_javascript(plain_page, world):
    page = rows_page(plain_page, world)
    printing = world["rows"]["print"]
    row_locator(page, printing).get_by_role("button", name="Link").click()
    page.get_by_label("Or expense number").fill("999999")
    page.locator("form.inline").last.get_by_role("button", name="Link").click()
    expect(page.locator(".row-error")).to_be_visible()  # the row's page again, with the reason
    page.locator(".suggestions").get_by_role("button", name="Link").first.click()
    expect(message(page)).to_have_text(f"Linked to expense #{world['expense'].id}.")
    assert status_of(printing) == "LINKED"


def test_bulk_selected_rows_without_javascript(plain_page, world):
    page = rows_page(plain_page, world, "?q=fee")
    boxes = page.locator('input[name="row"]')
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.locator("#bulk-form").get_by_role("button", name="Hold").click()
    expect(message(page)).to_have_text("2 rows put on hold.")
    expect(page).to_have_url(re.compile(r"q=fee"))
    expect(page.locator("tbody.row")).to_have_count(1)


def test_bulk_all_matching_asks_then_acts_without_javascript(plain_page, world):
    for day in range(1, 26):
        make_import_row(world["imp"], amount=-200, date=date(2026, 10, day), description="ATM FEE",
                        bank_account=world["account"])
    db.session.commit()
    page = rows_page(plain_page, world, "?q=atm")
    page.get_by_label(re.compile("All 25 rows matching")).check()
    page.locator("#bulk-form").get_by_role("button", name="Ignore").click()
    expect(page.locator("#bulk-confirm")).to_contain_text("25 rows match this filter (-$50.00).")
    assert db.session.query(ImportRow).filter_by(status="IGNORED").count() == 0
    page.locator("#bulk-confirm").get_by_role("button", name="Ignore 25 rows").click()
    expect(message(page)).to_have_text("25 rows ignored.")
    db.session.expire_all()
    assert db.session.query(ImportRow).filter_by(status="IGNORED").count() == 25


def test_show_more_keeps_the_filter_without_javascript(plain_page, world):
    for day in range(1, 29):
        for n in range(2):
            make_import_row(world["imp"], amount=-100, date=date(2026, 9, day), description="ATM FEE",
                            bank_account=world["account"])
    db.session.commit()
    page = rows_page(plain_page, world, "?q=atm")
    expect(page.locator("tbody.row")).to_have_count(50)
    page.get_by_role("button", name="Show more rows").click()
    expect(page.locator("tbody.row")).to_have_count(6)
    expect(page.locator("tbody.row").first).to_contain_text("ATM FEE")
