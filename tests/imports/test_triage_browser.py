"""The daily triage path in a real browser: filter, keyboard add funds, link, bulk ignore, unlink, CSV."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow
from hostadmin.ledger import accounts, service as ledger
from hostadmin.ledger.models import Host, LedgerTransaction, Order
from tests.factories import (
    make_bank_account, make_collective, make_contributor, make_host, make_import, make_import_row, make_payee,
    make_user,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def world(db, clock):
    host = make_host(slug="river", name="River Host")
    rowers = make_collective(host, "River Rowers")
    make_collective(host, "Harbour Choir")
    ada = make_contributor(host, "Ada Lovelace")
    account = make_bank_account(host, "Checking", default_collective=rowers)
    imp = make_import(host, "River checking", bank_account=account)
    funding = accounts.create_order(host, contributor=ada, collective=rowers, amount=100000)
    ledger.record_order_paid(funding, cleared_at=clock.now)
    expense = accounts.create_expense(host, collective=rowers, payee=make_payee(host, "City Print Shop"),
                                      amount=4200, description="Flyers")
    rows = {
        "gift": make_import_row(imp, amount=25000, date=date(2026, 11, 18), bank_account=account,
                                description="WIRE FROM ADA LOVELACE"),
        "print": make_import_row(imp, amount=-4200, date=date(2026, 11, 17), bank_account=account,
                                 description="CITY PRINT SHOP"),
    }
    for day in (14, 15, 16):
        rows[f"fee{day}"] = make_import_row(imp, amount=-150, date=date(2026, 11, day), bank_account=account,
                                            description="MONTHLY SERVICE FEE")
    admin = make_user(host, email="admin@river.org")
    db.session.commit()
    return {"imp": imp, "rows": rows, "admin": admin, "expense": expense, "rowers": rowers, "account": account}


def row_locator(page, row):
    return page.locator(f"#row-{row.id}")


def test_filter_then_add_funds_with_the_keyboard(logged_in_page, world):
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows")
    page.keyboard.press("/")
    page.keyboard.type("ada")
    expect(page.locator("tbody.row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=ada"))

    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    gift = row_locator(page, world["rows"]["gift"])
    expect(gift.locator("tr.main")).to_be_focused()
    page.keyboard.press("a")
    collective = gift.locator("select[name=collective]")
    expect(collective).to_be_focused()
    expect(collective).to_have_value(str(world["rowers"].id))  # the account's assignment
    page.keyboard.press("Control+Enter")

    expect(gift.locator(".status-badge")).to_have_text("linked")
    expect(page.locator('#counts [data-count="LINKED"]')).to_have_text("1")
    db.session.expire_all()
    order = db.session.get(Order, db.session.get(ImportRow, world["rows"]["gift"].id).order_id)
    assert order.from_account.name == "Ada Lovelace" and order.amount == 25000


def test_link_an_expense_from_a_suggestion_then_unlink_it(logged_in_page, world):
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows")
    printing = row_locator(page, world["rows"]["print"])
    printing.get_by_role("button", name="Link").click()
    expect(printing.locator(".suggestions")).to_contain_text(f"Expense #{world['expense'].id}")
    printing.locator(".suggestions button").first.click()
    expect(printing.locator(".status-badge")).to_have_text("linked")

    printing.get_by_role("button", name="Unlink").click()
    expect(printing).to_contain_text("City Print Shop: $42.00 → -$42.00")
    printing.get_by_role("button", name="Reverse and unlink").click()
    expect(printing.locator(".status-badge")).to_have_text("to do")
    db.session.expire_all()
    assert LedgerTransaction.query.filter_by(is_refund=True, expense_id=world["expense"].id).count() == 2


def test_bulk_ignore_a_filtered_set(logged_in_page, world):
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows?q=fee")
    expect(page.locator("tbody.row")).to_have_count(3)
    page.get_by_label(re.compile("All 3 rows matching this filter")).check()
    page.locator("#bulk-form").get_by_role("button", name="Ignore").click()
    expect(page.locator("#feedback [data-feedback]")).to_have_text("3 rows ignored.")
    expect(page.locator("tbody.row")).to_have_count(0)
    expect(page.locator('#counts [data-count="IGNORED"]')).to_have_text("3")


def test_shift_click_selects_a_range_shows_its_sum_and_holds_it(logged_in_page, world):
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows")
    boxes = page.locator('input[name="row"]')
    boxes.nth(0).click()
    boxes.nth(2).click(modifiers=["Shift"])
    expect(page.locator("[data-selected-count]")).to_have_text("3")
    # Newest first: the $250.00 gift, the -$42.00 print shop, the -$1.50 fee of the 16th.
    expect(page.locator('[data-sum="selected"]')).to_have_text("$206.50 (3 rows)")
    expect(page.locator('[data-sum="shown"]')).to_have_text("$203.50 (5 rows)")
    page.locator("#bulk-form").get_by_role("button", name="Hold").click()
    expect(page.locator("#feedback [data-feedback]")).to_have_text("3 rows put on hold.")
    expect(page.locator("tbody.row")).to_have_count(2)


def test_keyboard_ignore_and_undo_keep_the_admins_place(logged_in_page, world):
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows")
    page.locator("h1").click()
    page.keyboard.press("j")
    page.keyboard.press("j")
    printing = row_locator(page, world["rows"]["print"])
    expect(printing.locator("tr.main")).to_be_focused()
    page.keyboard.press("i")
    expect(printing.locator(".status-badge")).to_have_text("ignored")
    expect(printing.locator("tr.main")).to_be_focused()
    expect(page.locator('#counts [data-count="IGNORED"]')).to_have_text("1")
    page.keyboard.press("u")
    expect(printing.locator(".status-badge")).to_have_text("to do")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()


def test_upload_a_csv_twice_and_see_no_duplicates(logged_in_page, world, tmp_path):
    page = logged_in_page(world["admin"])
    page.goto("/h/river/imports/")
    page.get_by_label("Import name").fill("Credit Union")
    page.get_by_role("button", name="Create CSV import").click()
    statement = tmp_path / "november.csv"
    statement.write_text("Date,Description,Amount,Currency\n2026-11-01,Gift from Grace,40.00,USD\n"
                         "2026-11-02,Bank fee,-3.50,USD\n2026-11-31,Broken date,1.00,USD\n")
    upload_url = page.url
    assert upload_url.endswith("/upload")
    for expected_new in ("2", "0"):
        page.goto(upload_url)
        page.get_by_label("Statement").set_input_files(str(statement))
        page.get_by_role("button", name="Preview").click()
        expect(page.locator('[data-count="new"]')).to_have_text(expected_new)
        expect(page.locator("#preview .invalid-lines")).to_contain_text("Line 4:")
        if expected_new == "2":
            page.get_by_role("button", name="Import 2 new lines").click()
            expect(page.locator(".flash-success")).to_contain_text("2 new rows imported, 0 already imported, 1 invalid")
            expect(page.locator("tbody.row")).to_have_count(2)
        else:
            expect(page.get_by_role("button", name="Import 0 new lines")).to_be_disabled()


def test_csv_mapping_is_detected_and_a_corrected_column_redraws_the_preview(logged_in_page, world, tmp_path):
    page = logged_in_page(world["admin"])
    page.goto("/h/river/imports/")
    page.get_by_label("Import name").fill("Sparkasse")
    page.get_by_role("button", name="Create CSV import").click()
    statement = tmp_path / "november.csv"
    statement.write_text("Datum;Text;Betrag;Waehrung;Notiz\n2026-11-01;Spende Grace;40.00;EUR;Dank\n")
    page.get_by_label("Statement").set_input_files(str(statement))
    page.get_by_role("button", name="Preview").click()
    # Detection fills the mapping in from the file's own columns; the preview is ready at once.
    expect(page.locator("datalist#csv-columns option")).to_have_count(5)
    expect(page.get_by_label("Date", exact=True)).to_have_value("Datum")
    expect(page.locator('[data-count="new"]')).to_have_text("1")
    expect(page.locator("#preview table")).to_contain_text("Spende Grace")
    # A column the file does not have is refused by a message; a corrected one redraws the preview
    # (htmx on change, from the file stored on the server).
    page.get_by_label("Date", exact=True).fill("Buchungstag")
    page.get_by_label("Date", exact=True).press("Tab")
    expect(page.locator("#preview [role=alert]")).to_contain_text("The date column “Buchungstag” is not in this file.")
    page.get_by_label("Date", exact=True).fill("Datum")
    page.get_by_label("Date", exact=True).press("Tab")
    expect(page.locator("#preview [role=alert]")).to_have_count(0)
    description = page.get_by_label("Description", exact=True)
    description.fill("Notiz")
    description.press("Tab")
    expect(page.locator("#preview table")).to_contain_text("Dank")
    expect(page.locator("#preview table")).not_to_contain_text("Spende Grace")
    page.get_by_role("button", name="Import 1 new line").click()
    expect(page.locator(".flash-success")).to_contain_text("1 new rows imported")
    expect(page.locator("tbody.row")).to_contain_text("Dank")
    page.get_by_role("link", name="Upload a statement").click()
    expect(page.locator("#history tbody tr").first).to_contain_text("november.csv")


def test_shortcut_letters_typed_in_a_field_are_text_not_actions(logged_in_page, world):
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows")
    page.locator("h1").click()
    page.keyboard.press("j")
    gift = row_locator(page, world["rows"]["gift"])
    page.keyboard.press("n")  # the note panel, its box focused
    box = gift.locator("textarea")
    expect(box).to_be_focused()
    page.keyboard.type("hold in limbo")  # h, i, l, n, a: none fires
    expect(box).to_have_value("hold in limbo")
    expect(gift.locator(".status-badge")).to_have_text("to do")
    page.locator("#q").fill("")
    page.locator("#q").type("ih")
    expect(page.locator('#counts [data-count="IGNORED"]')).to_have_text("0")
    expect(page.locator('#counts [data-count="ON_HOLD"]')).to_have_text("0")


def test_focus_is_visible_and_returns_to_the_row_when_its_panel_closes(logged_in_page, world):
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/imports/{world['imp'].id}/rows")
    page.locator("h1").click()
    # The gift's link panel focuses its number box; the print shop's focuses the suggested expense's button.
    for steps, name, focused in ((1, "gift", 'input[name="target_id"]'), (1, "print", "button.primary")):
        for _ in range(steps):
            page.keyboard.press("j")
        row = row_locator(page, world["rows"][name])
        main = row.locator("tr.main")
        expect(main).to_be_focused()
        assert main.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
        page.keyboard.press("l")
        expect(row.locator(f"tr.panel {focused}")).to_be_focused()
        page.keyboard.press("Escape")
        expect(row.locator("tr.panel")).to_have_count(0)
        expect(main).to_be_focused()


def test_an_accountant_has_no_checkboxes_actions_or_action_keys(logged_in_page, world, db):
    reader = make_user(db.session.get(Host, world["imp"].host_id), Role.ACCOUNTANT, email="books@river.org")
    db.session.commit()
    page = logged_in_page(reader)
    page.goto(f"/h/river/imports/{world['imp'].id}/rows")
    expect(page.locator('input[name="row"]')).to_have_count(0)
    expect(page.get_by_role("columnheader", name="Actions")).to_have_count(0)
    page.locator("h1").click()
    page.keyboard.press("j")
    page.keyboard.press("i")
    expect(row_locator(page, world["rows"]["gift"]).locator(".status-badge")).to_have_text("to do")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_contain_text("next / previous row")
    expect(page.locator("#shortcuts")).not_to_contain_text("ignore")
