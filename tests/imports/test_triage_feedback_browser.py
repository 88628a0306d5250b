"""Every triage action says what it did in one live region, with Undo where it can be undone."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow
from tests.factories import make_import_row
from tests.imports.test_triage_browser import row_locator, world  # noqa: F401  (the shared fixture)

pytestmark = pytest.mark.browser


def feedback(page):
    return page.locator("#feedback")


def open_rows(logged_in_page, world):
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows")
    expect(feedback(page)).to_have_attribute("aria-live", "polite")
    return page


def test_ignore_says_so_and_its_undo_button_puts_the_row_back(logged_in_page, world):
    page = open_rows(logged_in_page, world)
    printing = row_locator(page, world["rows"]["print"])
    printing.get_by_role("button", name="Ignore").click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text("Row ignored.")
    expect(printing.locator(".status-badge")).to_have_text("ignored")
    feedback(page).get_by_role("button", name="Undo").click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text("Undone: the row is back as it was.")
    expect(feedback(page).get_by_role("button", name="Undo")).to_have_count(0)
    expect(printing.locator(".status-badge")).to_have_text("to do")
    expect(page.locator('#counts [data-count="IGNORED"]')).to_have_text("0")


def test_hold_restore_and_the_u_key_each_answer_in_the_same_region(logged_in_page, world):
    page = open_rows(logged_in_page, world)
    fee = row_locator(page, world["rows"]["fee16"])
    fee.get_by_role("button", name="Hold").click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text("Row put on hold.")
    expect(feedback(page).get_by_role("button", name="Undo")).to_be_visible()
    page.goto(f"/h/river/imports/{world['imp'].id}/rows?status=ON_HOLD")
    fee = row_locator(page, world["rows"]["fee16"])
    fee.get_by_role("button", name="Restore").click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text("Row back in to do.")
    page.locator("h1").click()
    page.keyboard.press("u")
    expect(feedback(page).locator("[data-feedback]")).to_have_text("Undone: the row is back as it was.")
    expect(page.locator("#feedback")).to_have_count(1)  # one region, never a second one
    db.session.expire_all()
    assert db.session.get(ImportRow, world["rows"]["fee16"].id).status == "ON_HOLD"


def test_a_note_is_confirmed_and_undone(logged_in_page, world):
    page = open_rows(logged_in_page, world)
    fee = row_locator(page, world["rows"]["fee15"])
    fee.get_by_role("button", name="Note").click()
    fee.get_by_role("textbox", name=re.compile("Note")).fill("Ask the bank about this fee")
    fee.get_by_role("button", name="Save note").click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text("Note saved.")
    expect(fee.locator(".note")).to_have_text("Ask the bank about this fee")
    feedback(page).get_by_role("button", name="Undo").click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text("Undone: the note is back as it was.")
    expect(fee.locator(".note")).to_have_count(0)


def test_add_funds_confirms_and_its_undo_asks_for_the_unlink(logged_in_page, world):
    page = open_rows(logged_in_page, world)
    gift = row_locator(page, world["rows"]["gift"])
    gift.get_by_role("button", name="Add funds").click()
    gift.get_by_label("New contributor's name").fill("Ada L.")
    gift.locator("form").get_by_role("button", name="Add funds").click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text(re.compile(r"^Funds added: \$250\.00 as order #\d+\.$"))
    feedback(page).get_by_role("button", name="Undo").click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text("To undo the link, confirm the unlink below.")
    gift.get_by_role("button", name="Reverse and unlink").click()
    expect(feedback(page).locator("[data-feedback]")).to_contain_text("Unlinked")
    expect(gift.locator(".status-badge")).to_have_text("to do")


def test_link_and_a_refusal_show_in_the_region(logged_in_page, world):
    page = open_rows(logged_in_page, world)
    printing = row_locator(page, world["rows"]["print"])
    printing.get_by_role("button", name="Link").click()
    printing.get_by_label("Or expense number").fill("999999")
    printing.locator("form.inline").last.get_by_role("button", name="Link").click()
    expect(feedback(page).locator(".feedback-error")).to_be_visible()
    printing.locator(".suggestions").get_by_role("button", name="Link").first.click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text(f"Linked to expense #{world['expense'].id}.")
    expect(feedback(page).get_by_role("button", name="Undo")).to_be_visible()


def test_bulk_action_and_its_undo(logged_in_page, world):
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows?q=fee")
    page.get_by_label(re.compile("All 3 rows matching this filter")).check()
    page.locator("#bulk-form").get_by_role("button", name="Ignore").click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text("3 rows ignored.")
    expect(page.locator("tbody.row")).to_have_count(0)
    feedback(page).get_by_role("button", name="Undo").click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text("Undone: 3 rows put back.")
    expect(page.locator("tbody.row")).to_have_count(3)
    expect(page.locator('#counts [data-count="IGNORED"]')).to_have_text("0")


@pytest.fixture
def many_fees(world):
    for day in range(1, 26):
        make_import_row(world["imp"], amount=-200, date=date(2026, 10, day), description="ATM FEE",
                        bank_account=world["account"])
    db.session.commit()
    return world


def test_all_matching_says_how_many_and_asks_first(logged_in_page, many_fees):
    world = many_fees
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows?q=atm")
    selection = page.locator("#bulk-form .selection")
    page.locator('input[name="row"]').nth(0).click()
    page.locator('input[name="row"]').nth(1).click()
    expect(selection).to_have_text(re.compile(r"2 selected\s+· -\$4\.00 \(2 rows\)"))
    page.get_by_label(re.compile(r"All 25 rows matching this filter \(-\$50\.00\)")).check()
    expect(selection).to_have_text(re.compile(r"25 selected\s+· -\$50\.00 \(all matching\)"))
    page.locator("#bulk-form").get_by_role("button", name="Ignore").click()
    confirm = page.locator("#bulk-confirm")
    expect(confirm).to_contain_text("25 rows match this filter (-$50.00).")
    expect(confirm).to_contain_text("They will move to Ignored")
    expect(page.locator('#counts [data-count="IGNORED"]')).to_have_text("0")  # nothing done yet
    confirm.get_by_role("button", name="Ignore 25 rows").click()
    expect(feedback(page).locator("[data-feedback]")).to_have_text("25 rows ignored.")
    expect(page.locator('#counts [data-count="IGNORED"]')).to_have_text("25")
    expect(page.locator("#bulk-confirm")).to_have_count(0)


def test_the_confirmation_can_be_cancelled(logged_in_page, many_fees):
    world = many_fees
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows?q=atm")
    page.get_by_label(re.compile("All 25 rows matching")).check()
    page.locator("#bulk-form").get_by_role("button", name="Hold").click()
    page.locator("#bulk-confirm").get_by_role("link", name="Cancel").click()
    expect(page.locator("#bulk-confirm")).to_have_count(0)
    expect(page.locator('#counts [data-count="ON_HOLD"]')).to_have_text("0")
