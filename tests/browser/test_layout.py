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


def inside_the_screen(locator, width):
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def test_at_phone_width_each_bank_row_is_a_card_with_its_amount_and_actions_on_screen(logged_in_page, river):
    page = logged_in_page(river["admin"])
    page.set_viewport_size(PHONE)
    page.goto(f"/h/river/imports/{river['imp'].id}/rows")
    table = page.locator("table.triage-rows")
    scroll, client = table.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll <= client <= PHONE["width"]  # no sideways scroll, not even inside the box
    rows = page.locator("tbody.row")
    assert rows.count() == 3
    for index in range(rows.count()):
        row = rows.nth(index)
        expect(row.locator("td.amount")).to_be_visible()
        assert inside_the_screen(row.locator("td.amount"), PHONE["width"])
        for action in ("Add funds", "Link", "Ignore", "Hold", "Note"):
            button = row.get_by_role("button", name=action)
            if button.count():
                expect(button).to_be_visible()
                assert inside_the_screen(button, PHONE["width"]), action
        assert inside_the_screen(row.get_by_role("checkbox"), PHONE["width"])
    # A panel opened in a card fits the screen too.
    rows.first.get_by_role("button", name="Note").click()
    expect(rows.first.locator("textarea")).to_be_visible()
    assert inside_the_screen(rows.first.locator("tr.panel"), PHONE["width"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_wide_table_scrolls_inside_its_box_at_phone_width(logged_in_page, river):
    page = logged_in_page(river["admin"])
    page.set_viewport_size(PHONE)
    page.goto("/h/river/imports/")
    box = page.locator("table.data").first
    scroll, client = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert client <= PHONE["width"] and scroll > client  # the table's own scroll, not the page's
    assert box.get_attribute("tabindex") == "0"  # and the keyboard can scroll it


@pytest.mark.parametrize("width", [1100, 1280, 1400])
def test_on_a_wide_screen_the_menu_is_an_ordinary_bar(logged_in_page, river, width):
    page = logged_in_page(river["admin"])
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/h/river/")
    expect(page.locator(".topbar summary")).to_be_hidden()
    # A long host name and address wrap inside the dark bar: nothing falls off its end.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    bar = page.locator(".topbar").bounding_box()
    sign_out = page.get_by_role("button", name="Sign out").bounding_box()
    assert sign_out["x"] + sign_out["width"] <= bar["x"] + bar["width"]
    assert bar["y"] <= sign_out["y"] and sign_out["y"] + sign_out["height"] <= bar["y"] + bar["height"]
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture
def money(db, clock):
    from hostadmin.ledger import accounts, service as ledger
    from tests.factories import make_contributor, make_payee

    host = make_host(slug="river", name="River Host")
    rowers = make_collective(host, "River Rowers with a long collective name")
    order = accounts.create_order(host, contributor=make_contributor(host, "A contributor with a long name"),
                                  collective=rowers, amount=123456, description="A long description " * 3)
    ledger.record_order_paid(order, cleared_at=clock.now)
    accounts.create_expense(host, collective=rowers, payee=make_payee(host, "A payee with a long name"),
                            amount=4200, description="Another long description " * 3)
    admin = make_user(host)
    db.session.commit()
    return {"admin": admin}


@pytest.mark.parametrize("url", ["/h/river/ledger/", "/h/river/contributions/", "/h/river/expenses/"])
def test_at_phone_width_a_lists_amount_stays_on_screen_while_its_table_scrolls(logged_in_page, money, url):
    page = logged_in_page(money["admin"])
    page.set_viewport_size(PHONE)
    page.goto(url)
    table = page.locator("table.data").first
    scroll, client = table.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll > client  # the table scrolls in its box...
    amount = table.locator("tbody td.num").first
    assert inside_the_screen(amount, PHONE["width"])  # ...with the amount on screen at either end
    table.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert inside_the_screen(amount, PHONE["width"])
