"""In a real browser: text from outside never runs as JavaScript, and the pages break no CSP rule."""
from datetime import date

import pytest
from playwright.sync_api import expect

from hostadmin.banking.models import PlaidItem
from hostadmin.extensions import db
from tests.factories import (
    make_bank_account, make_collective, make_host, make_import, make_import_row, make_user,
)

pytestmark = pytest.mark.browser

EVIL = "Evil Bank');alert(document.domain);//"
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def world(db):
    host = make_host(slug="river", name="River Host")
    rowers = make_collective(host, "River Rowers")
    account = make_bank_account(host, "Checking", default_collective=rowers)
    item = db.session.get(PlaidItem, account.item_id)
    item.institution_name = EVIL
    imp = make_import(host, "River checking", bank_account=account)
    make_import_row(imp, amount=25000, date=date(2026, 11, 18), bank_account=account, description="WIRE FROM ADA")
    make_import_row(imp, amount=-4200, date=date(2026, 11, 17), bank_account=account, description=EVIL)
    csv_import = make_import(host, "Credit union", source="CSV")
    admin = make_user(host, email="admin@river.org")
    db.session.commit()
    return {"item": item, "imp": imp, "csv": csv_import, "admin": admin}


@pytest.fixture
def watched_page(page):
    """The page, recording CSP violations and console errors."""
    page.add_init_script(RECORD_VIOLATIONS)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.console_errors = errors
    return page


def test_a_bank_name_with_javascript_in_it_is_only_shown(watched_page, logged_in_page, world):
    page = logged_in_page(world["admin"])
    dialogs = []

    def answer(dialog):
        dialogs.append((dialog.type, dialog.message))
        dialog.dismiss()
    page.on("dialog", answer)

    page.goto(f"/h/river/connections/{world['item'].id}")
    page.get_by_role("button", name="Disconnect").click()

    assert dialogs == [("confirm", f"Disconnect {EVIL}? It will not sync again.")]
    db.session.expire_all()
    assert db.session.get(PlaidItem, world["item"].id).status != "DISCONNECTED"  # dismissed: nothing sent


def test_the_main_pages_break_no_content_security_rule(watched_page, logged_in_page, world):
    page = watched_page
    page.goto("/login")
    logged_in_page(world["admin"])
    imp, csv_import = world["imp"].id, world["csv"].id
    for path in ["/h/river/", "/h/river/connections/", f"/h/river/connections/{world['item'].id}",
                 "/h/river/imports/", "/h/river/imports/rows", f"/h/river/imports/{imp}/rows",
                 "/h/river/imports/assignments", f"/h/river/imports/{csv_import}/upload", "/h/river/webhooks/"]:
        response = page.goto(path)
        assert response.status == 200, path
        page.wait_for_load_state("load")
        assert page.evaluate("window.__cspViolations") == [], path

    # htmx at work: a filter swap and a row form, then the keyboard help.
    page.goto(f"/h/river/imports/{imp}/rows")
    page.keyboard.press("/")
    page.keyboard.type("wire")
    expect(page.locator("tbody.row")).to_have_count(1)
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    page.keyboard.press("a")
    page.locator("form").filter(has_text="Add funds").first.wait_for()
    assert page.evaluate("window.__cspViolations") == []
    assert [error for error in page.console_errors if "Content Security Policy" in error] == []


def test_the_money_ledger_and_report_pages_break_no_content_security_rule(watched_page, logged_in_page, world):
    page = watched_page
    page.goto("/login")
    logged_in_page(world["admin"])
    for path in ["/h/river/collectives/river-rowers", "/h/river/contributions/", "/h/river/contributions/new",
                 "/h/river/expenses/", "/h/river/expenses/new", "/h/river/funds/add", "/h/river/funds/revert",
                 "/h/river/ledger/", "/h/river/processors/", "/h/river/settings", "/h/river/reports/",
                 "/h/river/reports/audit", "/h/river/reports/months/2026-10"]:
        response = page.goto(path)
        assert response.status == 200, path
        page.wait_for_load_state("load")
        assert page.evaluate("window.__cspViolations") == [], path
    expect(page.locator("canvas").first).to_be_visible()  # the month page's charts (Chart.js, reports.js)
    assert [error for error in page.console_errors if "Content Security Policy" in error] == []
