"""The layout around every page: a favicon, values that never wrap, and a top bar that fits a phone."""
import pytest
from playwright.sync_api import expect

from tests.factories import make_bank_account, make_collective, make_host, make_import, make_import_row, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def river(db):
    host = make_host(slug="river", name="River Host with a rather long name")
    rowers = make_collective(host, "River Rowers")
    account = make_bank_account(host, "Everyday checking at the Credit Union", default_collective=rowers)
    imp = make_import(host, "River checking", bank_account=account)
    for n in range(3):
        make_import_row(imp, amount=-1250 * (n + 1), bank_account=account,
                        description="CARD PURCHASE AT A SHOP WITH A VERY LONG NAME AND A REFERENCE 0042")
    admin = make_user(host, email="someone.with.a.long.address@river-rowers.example.org")
    db.session.commit()
    return {"admin": admin, "imp": imp}


def pages(river):
    return ["/h/river/", f"/h/river/imports/{river['imp'].id}/rows", "/h/river/imports/", "/h/river/ledger/",
            "/h/river/webhooks/", "/h/river/connections/", "/h/river/reports/", "/h/river/contributions/",
            "/h/river/expenses/", "/h/river/processors/", "/h/river/imports/assignments"]


def test_no_page_asks_for_a_missing_favicon(logged_in_page, river):
    page = logged_in_page(river["admin"])
    missing = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    for url in ["/login", *pages(river)[:3]]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
    assert missing == []
    assert page.locator('link[rel="icon"]').get_attribute("href").endswith("favicon.svg")


def lines(page, selector):
    """How many lines the element's text takes (one client rect per line box)."""
    return page.locator(selector).first.evaluate(
        "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length; }")


def test_date_and_account_label_stay_on_one_line_in_a_narrow_window(logged_in_page, river):
    page = logged_in_page(river["admin"])
    page.set_viewport_size(PHONE)
    page.goto(f"/h/river/imports/{river['imp'].id}/rows")
    assert lines(page, "table.triage-rows td.date") == 1
    assert lines(page, "table.triage-rows td.account") == 1


def test_at_phone_width_the_top_bar_is_a_menu_and_no_page_scrolls_sideways(logged_in_page, river):
    page = logged_in_page(river["admin"])
    page.set_viewport_size(PHONE)
    for url in pages(river):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{url} is {width}px wide"
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Webhooks")).to_be_hidden()
        page.locator(".topbar summary").click()
        expect(nav.get_by_role("link", name="Webhooks")).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], url
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Webhook")


def test_a_wide_table_scrolls_inside_its_box_at_phone_width(logged_in_page, river):
    page = logged_in_page(river["admin"])
    page.set_viewport_size(PHONE)
    page.goto(f"/h/river/imports/{river['imp'].id}/rows")
    box = page.locator("table.triage-rows")
    scroll, client = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert client <= PHONE["width"] and scroll > client  # the table's own scroll, not the page's
    expect(box.locator("td.amount").first).to_be_attached()


def test_on_a_wide_screen_the_menu_is_an_ordinary_bar(logged_in_page, river):
    page = logged_in_page(river["admin"])
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto("/h/river/")
    expect(page.locator(".topbar summary")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
