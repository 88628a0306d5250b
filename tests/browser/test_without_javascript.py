"""Without JavaScript, nothing outside triage is silently impossible: assignments save, a statement's preview
is redrawn by a button, lists page on, and Connect a bank says it needs JavaScript."""
import pytest
from playwright.sync_api import expect

from hostadmin.banking.models import BankAccount
from hostadmin.extensions import db
from tests.factories import PASSWORD, make_bank_account, make_collective, make_host, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def river(db):
    host = make_host(slug="river", name="River Host")
    rowers = make_collective(host, "River Rowers")
    account = make_bank_account(host, "Checking")
    admin = make_user(host)
    db.session.commit()
    return {"admin": admin, "rowers": rowers, "account": account}


@pytest.fixture
def plain_page(browser, live_server):
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


def test_an_account_assignment_saves_without_javascript(plain_page, river):
    page = plain_page(river["admin"])
    page.goto("/h/river/imports/assignments")
    page.get_by_label(f"Default collective for {river['account'].label}").select_option(label="River Rowers")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"{river['account'].label}: default collective set to River Rowers.")).to_be_visible()
    assert page.url.endswith("/h/river/imports/assignments")
    db.session.expire_all()
    assert db.session.get(BankAccount, river["account"].id).default_collective_id == river["rowers"].id


def test_a_statement_preview_is_redrawn_by_a_button_without_javascript(plain_page, river, tmp_path):
    page = plain_page(river["admin"])
    page.goto("/h/river/imports/")
    page.get_by_label("Import name").fill("Sparkasse")
    page.get_by_role("button", name="Create CSV import").click()
    statement = tmp_path / "november.csv"
    statement.write_text("Datum;Text;Betrag;Waehrung;Notiz\n2026-11-01;Spende Grace;40.00;EUR;Dank\n")
    page.get_by_label("Statement").set_input_files(str(statement))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview table")).to_contain_text("Spende Grace")
    page.get_by_label("Description", exact=True).fill("Notiz")
    page.get_by_role("button", name="Update the preview").click()
    expect(page.locator("#preview table")).to_contain_text("Dank")


def test_connect_a_bank_says_it_needs_javascript(plain_page, river):
    page = plain_page(river["admin"])
    page.goto("/h/river/connections/")
    expect(page.locator("#link-needs-javascript")).to_be_visible()
    expect(page.locator("#link-needs-javascript")).to_contain_text("needs JavaScript")
