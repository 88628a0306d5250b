"""Contributions and expenses in a real browser: search-as-you-type pickers, mark received, mark paid, a closed month."""
import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from hostadmin.extensions import db
from hostadmin.funds import contributions, periods
from hostadmin.ledger.models import Expense, LedgerTransaction, Order
from tests.factories import make_collective, make_host, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def world(db):
    host = make_host(slug="river", name="River Host")
    rowers = make_collective(host, "River Rowers")
    admin = make_user(host, email="admin@river.org")
    db.session.commit()
    contributions.create_expected(host, admin, collective=rowers, amount=100, contributor_name="Ann Lee")
    periods.close_month(host, admin, "2026-10")
    return {"host": host, "rowers": rowers, "admin": admin}


def cleared_dates():
    db.session.expire_all()
    return {r.cleared_at for r in db.session.scalars(select(LedgerTransaction))}


def test_expect_a_contribution_with_the_picker_then_mark_it_received_on_the_cleared_date(logged_in_page, world):
    page = logged_in_page(world["admin"])
    page.goto("/h/river/contributions/")
    page.get_by_role("link", name="Expect a contribution").click()
    page.wait_for_load_state()  # htmx is deferred: wait until it is listening
    page.get_by_label("Collective").select_option(label="River Rowers")
    contributor = page.get_by_label("Contributor")
    contributor.press_sequentially("ann")
    expect(page.locator("#contributor-options option")).to_have_count(1)
    expect(page.locator("#contributor-options option")).to_have_attribute("value", "Ann Lee")
    contributor.press_sequentially(" Smith")
    expect(page.locator("#contributor-match")).to_have_text("“ann Smith” is new: saving creates this contributor.")
    page.get_by_label("Amount (USD)").fill("250.00")
    page.get_by_role("button", name="Expect this contribution").click()

    expect(page.locator("h1")).to_contain_text("expected")
    order = db.session.scalar(select(Order).order_by(Order.id.desc()))
    assert order.from_account.name == "ann Smith" and order.amount == 25000
    date_field = page.get_by_label("Date the money cleared")
    expect(date_field).to_have_value("2026-11-20")
    expect(page.locator("#cleared_on-hint")).to_contain_text("not in a closed month")
    date_field.fill("2026-11-02")
    page.get_by_role("button", name="Mark received").click()

    expect(page.locator(".flash-success")).to_have_text(f"Contribution #{order.id} received, cleared 2026-11-02.")
    expect(page.locator("h1")).to_contain_text("received")
    expect(page.locator(".ledger-group caption")).to_contain_text("cleared 2026-11-02")
    assert cleared_dates() == {datetime(2026, 11, 2, tzinfo=timezone.utc)}


def test_a_date_in_a_closed_month_is_refused_by_the_field(logged_in_page, world):
    order = db.session.scalar(select(Order))
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/contributions/{order.id}")
    page.get_by_label("Date the money cleared").fill("2026-10-15")
    page.get_by_role("button", name="Mark received").click()

    error = page.locator("#cleared_on-error")
    expect(error).to_contain_text("October 2026 is closed")
    expect(page.get_by_label("Date the money cleared")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Date the money cleared")).to_have_attribute("aria-describedby",
                                                                           "cleared_on-hint cleared_on-error")
    assert cleared_dates() == set()


def test_record_approve_and_mark_an_expense_paid_on_the_date_the_money_left(logged_in_page, world):
    page = logged_in_page(world["admin"])
    page.goto("/h/river/expenses/")
    page.get_by_role("link", name="Record an expense").click()
    page.wait_for_load_state()  # htmx is deferred: wait until it is listening
    page.get_by_label("Collective").select_option(label="River Rowers")
    page.get_by_label("Payee").press_sequentially("City Print")
    expect(page.locator("#payee-match")).to_contain_text("is new")
    page.get_by_label("Amount (USD)").fill("42.00")
    page.get_by_label("Description").fill("Flyers")
    page.get_by_label("Date incurred").fill("2026-11-01")
    page.get_by_role("button", name="Record expense").click()
    expect(page.locator("h1")).to_contain_text("awaiting approval")

    page.get_by_role("button", name="Approve").click()
    expect(page.locator("h1")).to_contain_text("approved")
    page.get_by_label("Date the money left the account").fill("2026-10-30")
    page.get_by_role("button", name="Mark paid").click()
    expect(page.locator("#cleared_on-error")).to_contain_text("October 2026 is closed")
    page.get_by_label("Date the money left the account").fill("2026-11-05")
    page.get_by_role("button", name="Mark paid").click()

    expect(page.locator("h1")).to_contain_text("paid")
    expense = db.session.scalar(select(Expense))
    assert (expense.status, expense.amount) == ("PAID", 4200)
    assert cleared_dates() == {datetime(2026, 11, 5, tzinfo=timezone.utc)}
    page.get_by_role("link", name="All expenses").click()
    page.wait_for_load_state()  # htmx is deferred: wait until it is listening
    page.get_by_label("Status").select_option(label="paid")
    expect(page).to_have_url(re.compile(r"status=PAID"))
    expect(page.locator("#expense-rows tr[data-expense]")).to_have_count(1)
