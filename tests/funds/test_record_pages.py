"""Contributions and expenses pages: lists and their htmx fragments, the pickers, create, receive, pay, reject."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.funds import contributions, expenses, periods, service
from hostadmin.ledger.models import Account, Expense, LedgerTransaction, Order
from tests.factories import make_collective, make_host, make_import, make_import_row, make_user

HTMX = {"HX-Request": "true"}


@pytest.fixture
def river(app):
    host = make_host(slug="river", host_fee_bps=500)
    rowers = make_collective(host, "River Rowers")
    admin = make_user(host)
    db.session.commit()
    return host, rowers, admin


def text(response):
    return response.get_data(as_text=True)


def cleared_dates():
    return {r.cleared_at for r in db.session.scalars(select(LedgerTransaction))}


# --------------------------------------------------------------------------- contributions

def test_contributions_list_filters_in_the_url_htmx_results_and_show_more(river, client, login_as):
    host, rowers, admin = river
    choir = make_collective(host, "Harbour Choir")
    db.session.commit()
    made = [contributions.create_expected(host, admin, collective=choir if n == 7 else rowers, amount=1000 + n,
                                          contributor_name="Ann Lee" if n % 2 else "Bob Stone")
            for n in range(55)]
    login_as(admin)

    page = client.get("/h/river/contributions/")
    html = text(page)
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    assert html.count("<tr data-order=") == 50 and 'hx-push-url="true"' in html and "Show more" in html
    more = client.get(f"/h/river/contributions/?after={made[5].id}", headers=HTMX)
    assert text(more).count("<tr data-order=") == 5 and "<table" not in text(more)

    results = client.get(f"/h/river/contributions/?party=ann&collective={choir.id}", headers=HTMX)
    assert text(results).lstrip().startswith('<div id="results">')
    assert text(results).count("<tr data-order=") == 1 and f"#{made[7].id}<" in text(results)
    reloaded = text(client.get("/h/river/contributions/?party=ann&min=10.10&status=PENDING"))
    assert 'value="ann"' in reloaded and 'value="10.10"' in reloaded and '<option value="PENDING" selected>' in reloaded
    bad = text(client.get("/h/river/contributions/?min=abc&from=never&after=\x00", headers=HTMX))
    assert "“abc” is not an amount (ignored)" in bad and "“never” is not a date (YYYY-MM-DD) (ignored)" in bad


def test_contributor_picker_suggests_existing_names_and_says_a_new_one_is_created(river, client, login_as):
    host, rowers, admin = river
    contributions.create_expected(host, admin, collective=rowers, amount=100, contributor_name="Ann Lee")
    login_as(admin)

    found = text(client.get("/h/river/contributions/contributors?contributor=an", headers=HTMX))
    assert found.lstrip().startswith('<div id="contributor-picker"') and '<option value="Ann Lee">' in found
    assert "“an” is new" in found
    exact = text(client.get("/h/river/contributions/contributors?contributor=ANN%20lee", headers=HTMX))
    assert "Ann Lee: an existing contributor." in exact
    assert "is new" not in text(client.get("/h/river/contributions/contributors?contributor=%00", headers=HTMX))
    payees = text(client.get("/h/river/expenses/payees?payee=an", headers=HTMX))
    assert '<div id="payee-picker"' in payees and "<option" not in payees


def test_expect_a_contribution_creates_the_contributor_inline_then_mark_received_on_the_cleared_date(
        river, client, login_as):
    host, rowers, admin = river
    login_as(admin)
    form = text(client.get(f"/h/river/contributions/new?collective={rowers.id}"))
    assert 'hx-get="/h/river/contributions/contributors"' in form and 'list="contributor-options"' in form

    created = client.post_with_csrf("/h/river/contributions/new", {
        "collective": rowers.id, "contributor": "New Friend", "amount": "1,200.50", "description": "Pledge"})

    order = db.session.scalar(select(Order))
    assert created.status_code == 302 and created.headers["Location"].endswith(f"/contributions/{order.id}")
    assert (order.status, order.amount, order.from_account.name) == ("PENDING", 120050, "New Friend")
    page = text(client.get(created.headers["Location"]))
    assert "Date the money cleared" in page and 'value="2026-11-20"' in page and 'max="2026-11-20"' in page
    assert "not in a closed month" in page and "No ledger rows yet" in page

    received = client.post_with_csrf(f"/h/river/contributions/{order.id}/receive", {"cleared_on": "2026-11-02"})

    assert received.status_code == 302
    assert cleared_dates() == {datetime(2026, 11, 2, tzinfo=timezone.utc)}
    after = text(client.get(received.headers["Location"]))
    assert "cleared 2026-11-02" in after and "Mark received</button>" not in after
    assert after.count('class="data ledger-group"') == 1


@pytest.mark.parametrize("value,message", [
    ("2026-11-21", "cannot be in the future"),
    ("2026-10-30", "October 2026 is closed"),
    ("", "Give a date (YYYY-MM-DD)."),
    ("\x00", "Give a date (YYYY-MM-DD)."),
])
def test_mark_received_refusals_show_by_the_date_field_and_write_nothing(river, client, login_as, value, message):
    host, rowers, admin = river
    order = contributions.create_expected(host, admin, collective=rowers, amount=100)
    periods.close_month(host, admin, "2026-10")
    login_as(admin)

    response = client.post_with_csrf(f"/h/river/contributions/{order.id}/receive", {"cleared_on": value})

    html = text(response)
    assert response.status_code == 400
    error_at = html.index('id="cleared_on-error"')
    assert message in html[error_at:error_at + 300] and 'aria-invalid="true"' in html
    assert cleared_dates() == set()


@pytest.mark.parametrize("overrides,field,message", [
    ({"amount": "12.345"}, "amount", "at most 2 decimals"),
    ({"amount": "0"}, "amount", "The amount must be more than zero."),
    ({"amount": "\x00lots"}, "amount", "is not an amount"),
    ({"collective": "999999999999"}, "collective", "Not a valid choice"),
])
def test_expect_contribution_errors_show_by_their_field(river, client, login_as, overrides, field, message):
    host, rowers, admin = river
    login_as(admin)
    response = client.post_with_csrf("/h/river/contributions/new", {
        "collective": rowers.id, "contributor": "Ann", "amount": "10.00", **overrides})
    html = text(response)
    assert response.status_code == 400
    assert message in html[html.index(f'id="{field}-error"'):][:300]
    assert db.session.scalar(select(Order.id)) is None


def test_contribution_page_shows_history_reversal_and_bank_line(river, client, login_as):
    host, rowers, admin = river
    original = service.add_funds(host, admin, collective=rowers, amount=1000, description="Cheque",
                                 cleared_at=datetime(2026, 11, 3, tzinfo=timezone.utc))
    corrected = service.edit_funds(host, admin, original.id, amount=900, reason="Typo")
    expected = contributions.create_expected(host, admin, collective=rowers, amount=5000)
    from hostadmin.imports import service as triage
    imp = make_import(host)
    row = make_import_row(imp, amount=5000, description="Transfer from Ann", date=date(2026, 11, 9))
    db.session.commit()
    triage.link_order(host, admin, row, expected.id)
    login_as(admin)

    html = text(client.get(f"/h/river/contributions/{original.id}"))
    assert f"replaced by #{corrected.id}" in html and "Reversal (edit)" in html and html.count("ledger-group") == 2
    assert f'href="/h/river/contributions/{corrected.id}"' in html
    linked = text(client.get(f"/h/river/contributions/{expected.id}"))
    assert "Bank line <a" in linked and "Transfer from Ann" in linked and "cleared 2026-11-09" in linked
    assert client.get("/h/river/contributions/99999999999").status_code == 404


# --------------------------------------------------------------------------- expenses

def test_record_approve_and_pay_an_expense_through_the_pages(river, client, login_as):
    host, rowers, admin = river
    login_as(admin)
    form = text(client.get("/h/river/expenses/new"))
    assert 'hx-get="/h/river/expenses/payees"' in form and "Date incurred" in form

    created = client.post_with_csrf("/h/river/expenses/new", {
        "collective": rowers.id, "payee": "Print Shop", "amount": "12.50", "description": "Flyers",
        "incurred_on": "2026-11-01"})

    expense = db.session.scalar(select(Expense))
    assert created.status_code == 302 and (expense.status, expense.amount) == ("PENDING", 1250)
    assert db.session.scalar(select(Account.kind).where(Account.name == "Print Shop")) == "PAYEE"
    page = text(client.get(f"/h/river/expenses/{expense.id}"))
    assert "awaiting approval" in page and ">Approve</button>" in page and "Mark paid" not in page

    assert client.post_with_csrf(f"/h/river/expenses/{expense.id}/approve").status_code == 302
    page = text(client.get(f"/h/river/expenses/{expense.id}"))
    assert "Date the money left the account" in page and "not in a closed month" in page
    paid = client.post_with_csrf(f"/h/river/expenses/{expense.id}/pay", {"cleared_on": "2026-11-04"})
    assert paid.status_code == 302
    assert cleared_dates() == {datetime(2026, 11, 4, tzinfo=timezone.utc)}
    page = text(client.get(paid.headers["Location"]))
    assert "paid, cleared 2026-11-04" in page and "Mark paid</button>" not in page
    again = client.post_with_csrf(f"/h/river/expenses/{expense.id}/approve")
    assert "is paid: it cannot be approved." in text(client.get(again.headers["Location"]))


def test_pay_and_reject_refusals_show_by_their_field(river, client, login_as):
    host, rowers, admin = river
    expense = expenses.record_expense(host, admin, collective=rowers, payee_name="Cafe", amount=500,
                                      description="Coffee")
    expenses.approve(host, admin, expense.id)
    periods.close_month(host, admin, "2026-10")
    login_as(admin)

    closed = client.post_with_csrf(f"/h/river/expenses/{expense.id}/pay", {"cleared_on": "2026-10-31"})
    html = text(closed)
    assert closed.status_code == 400 and "October 2026 is closed" in html[html.index('id="cleared_on-error"'):][:300]
    blank = client.post_with_csrf(f"/h/river/expenses/{expense.id}/reject", {"reason": "  "})
    html = text(blank)
    assert blank.status_code == 400 and "Say why the expense is rejected." in html[html.index('id="reason-error"'):][:200]

    rejected = client.post_with_csrf(f"/h/river/expenses/{expense.id}/reject", {"reason": "Duplicate\x00"})
    assert rejected.status_code == 302
    page = text(client.get(rejected.headers["Location"]))
    assert 'id="reject-reason">Duplicate<' in page and "rejected" in page and ">Reject</button>" not in page
    assert cleared_dates() == set()


@pytest.mark.parametrize("overrides,field,message", [
    ({"payee": ""}, "payee", "Name the payee."),
    ({"description": ""}, "description", "Describe the expense."),
    ({"incurred_on": "2026-12-01"}, "incurred_on", "cannot be in the future"),
    ({"amount": "1.001"}, "amount", "at most 2 decimals"),
])
def test_record_expense_errors_show_by_their_field(river, client, login_as, overrides, field, message):
    host, rowers, admin = river
    login_as(admin)
    response = client.post_with_csrf("/h/river/expenses/new", {
        "collective": rowers.id, "payee": "Cafe", "amount": "5", "description": "Coffee", **overrides})
    html = text(response)
    assert response.status_code == 400 and message in html[html.index(f'id="{field}-error"'):][:300]
    assert db.session.scalar(select(Expense.id)) is None


def test_expenses_list_filters_and_fragments(river, client, login_as):
    host, rowers, admin = river
    first = expenses.record_expense(host, admin, collective=rowers, payee_name="Cafe", amount=500, description="A")
    second = expenses.record_expense(host, admin, collective=rowers, payee_name="Print", amount=900, description="B")
    expenses.approve(host, admin, second.id)
    login_as(admin)
    html = text(client.get("/h/river/expenses/"))
    assert html.count("<tr data-expense=") == 2 and "Record an expense" in html
    results = text(client.get("/h/river/expenses/?status=APPROVED", headers=HTMX))
    assert results.lstrip().startswith('<div id="results">') and f"#{second.id}<" in results and f"#{first.id}<" not in results
    rows = text(client.get(f"/h/river/expenses/?after={second.id}", headers=HTMX))
    assert f"#{first.id}<" in rows and "<table" not in rows


# --------------------------------------------------------------------------- access

def test_accountants_read_every_page_but_get_403_on_writes(river, client, login_as):
    host, rowers, admin = river
    order = contributions.create_expected(host, admin, collective=rowers, amount=100)
    expense = expenses.record_expense(host, admin, collective=rowers, payee_name="Cafe", amount=500,
                                      description="Coffee")
    accountant = make_user(host, role=Role.ACCOUNTANT)
    db.session.commit()
    login_as(accountant)

    for path in ["/h/river/contributions/", f"/h/river/contributions/{order.id}", "/h/river/expenses/",
                 f"/h/river/expenses/{expense.id}", "/h/river/contributions/contributors?contributor=a"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Mark received</button>" not in text(response) and ">Approve</button>" not in text(response)
    assert client.get("/h/river/contributions/new").status_code == 403
    assert client.get("/h/river/expenses/new").status_code == 403
    for path, data in [("/h/river/contributions/new", {"collective": rowers.id, "amount": "1"}),
                       (f"/h/river/contributions/{order.id}/receive", {"cleared_on": "2026-11-02"}),
                       ("/h/river/expenses/new", {"collective": rowers.id, "payee": "X", "amount": "1",
                                                  "description": "X"}),
                       (f"/h/river/expenses/{expense.id}/approve", {}),
                       (f"/h/river/expenses/{expense.id}/pay", {"cleared_on": "2026-11-02"}),
                       (f"/h/river/expenses/{expense.id}/reject", {"reason": "no"})]:
        assert client.post_with_csrf(path, data).status_code == 403, path
    assert (order.status, expense.status) == ("PENDING", "PENDING")


def test_another_hosts_contribution_and_expense_are_not_found(river, client, login_as):
    host, rowers, admin = river
    lake = make_host(slug="lake")
    fund = make_collective(lake, "Lake Fund")
    db.session.commit()
    order = contributions.create_expected(lake, None, collective=fund, amount=100)
    expense = expenses.record_expense(lake, None, collective=fund, payee_name="X", amount=100, description="X")
    login_as(admin)
    assert client.get(f"/h/river/contributions/{order.id}").status_code == 404
    assert client.get(f"/h/river/expenses/{expense.id}").status_code == 404
    assert client.post_with_csrf(f"/h/river/expenses/{expense.id}/approve").status_code == 404
    assert client.get("/h/lake/contributions/").status_code == 404


def test_an_amount_with_a_huge_exponent_is_refused_by_its_field_not_a_server_error(river, client, login_as):
    host, rowers, admin = river
    login_as(admin)
    listed = client.get("/h/river/contributions/?min=1e999999&max=-1E+999999", headers=HTMX)
    assert listed.status_code == 200 and "“1e999999” is not an amount (ignored)" in text(listed)
    for path, data in [("/h/river/contributions/new", {"collective": rowers.id, "amount": "1e999999"}),
                       ("/h/river/expenses/new", {"collective": rowers.id, "payee": "X", "description": "X",
                                                  "amount": "9E+999999"}),
                       ("/h/river/funds/add", {"collective": rowers.id, "amount": "1e999999", "description": "X",
                                               "cleared_on": "2026-11-02"})]:
        response = client.post_with_csrf(path, data)
        html = text(response)
        assert response.status_code == 400, path
        assert "is not an amount" in html[html.index('id="amount-error"'):][:200], path


def test_an_expense_page_acted_on_after_someone_else_changed_it_says_so_and_shows_it_now(app, client, login_as):
    from hostadmin.funds import expenses
    from hostadmin.ledger.models import Expense

    host = make_host(slug="river")
    rowers = make_collective(host, "River Rowers")
    admin = make_user(host)
    db.session.commit()
    expense = expenses.record_expense(host, admin, collective=rowers, payee_name="Boat shop", amount=2500,
                                      description="Oars")
    login_as(admin)
    page = client.get(f"/h/river/expenses/{expense.id}").get_data(as_text=True)
    assert page.count(f'name="version" value="{expense.version}"') == 2  # approve and reject
    seen = expense.version
    expenses.approve(host, admin, expense.id)  # another admin, meanwhile

    response = client.post_with_csrf(f"/h/river/expenses/{expense.id}/reject", {"reason": "Too dear",
                                                                                "version": str(seen)})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "changed by someone else meanwhile" in html
    assert "Mark paid" in html  # the expense as it is now: approved
    db.session.expire_all()
    assert db.session.get(Expense, expense.id).status == "APPROVED"
