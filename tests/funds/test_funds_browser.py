"""Add funds with a cleared date, edit with the before/after preview, batch revert, and two browsers editing
one contribution, in Chromium."""
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from hostadmin.extensions import db
from hostadmin.funds import periods, service
from hostadmin.ledger.models import LedgerTransaction, Order
from tests.factories import PASSWORD, make_collective, make_host, make_user

pytestmark = pytest.mark.browser
NOV_3 = datetime(2026, 11, 3, tzinfo=timezone.utc)


@pytest.fixture
def world(app):
    host = make_host(slug="river", name="River Host", host_fee_bps=500)
    rowers, choir = make_collective(host, "River Rowers"), make_collective(host, "Harbour Choir")
    admin, other = make_user(host, email="admin@river.org"), make_user(host, email="other@river.org")
    db.session.commit()
    orders = [service.add_funds(host, admin, collective=rowers, amount=10000 + i * 100, cleared_at=NOV_3,
                                description=f"Cheque {i}") for i in range(3)]
    return {"host": host, "rowers": rowers, "choir": choir, "admin": admin, "other": other, "orders": orders}


def sign_in(page, user):
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_add_funds_on_the_date_they_cleared_a_closed_month_refused_by_the_field(logged_in_page, world):
    periods.close_month(world["host"], world["admin"], "2026-10")
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/collectives/{world['choir'].slug}")
    page.get_by_role("link", name="Add funds").first.click()
    page.get_by_label("Collective").select_option(label="Harbour Choir")
    page.get_by_label("Source (contributor)").fill("Ann Lee")
    page.get_by_label("Amount (USD)").fill("120.00")
    page.get_by_label("Description").fill("Cheque from the fair")
    page.get_by_label("Payment processor fee").fill("1.20")
    date_field = page.get_by_label("Date the funds cleared")
    expect(date_field).to_have_value("2026-11-20")  # today in the host's zone by default
    expect(page.locator("#cleared_on-hint")).to_contain_text("not in a closed month")
    date_field.fill("2026-10-30")
    page.get_by_role("button", name="Add funds").click()

    expect(page.locator("#cleared_on-error")).to_contain_text("October 2026 is closed")
    expect(date_field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Amount (USD)")).to_have_value("120.00")  # nothing typed is lost
    db.session.expire_all()
    assert db.session.query(Order).filter(Order.description == "Cheque from the fair").count() == 0

    date_field.fill("2026-11-02")
    page.get_by_role("button", name="Add funds").click()
    expect(page.locator(".flash-success")).to_contain_text("(contribution #")
    expect(page.locator("h1")).to_have_text("Harbour Choir")
    expect(page.locator("#balance-today")).to_have_text("$112.80")  # 120.00 - 5 % host fee - 1.20
    db.session.expire_all()
    order = db.session.query(Order).filter(Order.description == "Cheque from the fair").one()
    rows = db.session.query(LedgerTransaction).filter(LedgerTransaction.order_id == order.id).all()
    assert len(rows) == 6 and {r.cleared_at for r in rows} == {datetime(2026, 11, 2, tzinfo=timezone.utc)}


def test_edit_shows_before_and_after_then_confirms(logged_in_page, world):
    order = world["orders"][0]
    page = logged_in_page(world["admin"])
    page.goto(f"/h/river/funds/{order.id}/edit")
    page.get_by_label("Collective").select_option(label="Harbour Choir")
    page.get_by_label("Amount (USD)").fill("120.00")
    page.get_by_label("Reason for the correction").fill("Was for the choir")
    page.get_by_role("button", name="Preview the correction").click()

    preview = page.locator("#preview")
    expect(preview).to_be_visible()
    expect(page).to_have_url(f"{page.url.split('/h/')[0]}/h/river/funds/{order.id}/edit")  # htmx swap, no reload
    expect(preview.locator("#before-after")).to_contain_text("River Rowers")
    expect(preview.locator("#before-after")).to_contain_text("Harbour Choir")
    expect(preview.locator("#before-after tr[data-key=amount]")).to_contain_text("$100.00")
    expect(preview.locator("#before-after tr[data-key=amount]")).to_contain_text("$120.00")
    expect(preview.locator("#balances")).to_contain_text("$114.00")
    expect(preview.locator("#reversal-rows tbody tr")).to_have_count(4)
    expect(preview.locator("#new-rows tbody tr")).to_have_count(4)

    page.get_by_role("button", name="Confirm the correction").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Corrected contribution #{order.id}")
    expect(page.locator("h1")).to_have_text("Harbour Choir")
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "REPLACED"


def test_batch_revert_previews_totals_then_reverts_the_selection(logged_in_page, world):
    first, second, kept = world["orders"]
    page = logged_in_page(world["admin"])
    page.goto("/h/river/funds/revert")
    expect(page.locator("#all-matching").locator("xpath=..")).to_contain_text("All 3 matching this filter")
    page.get_by_label(f"Select #{first.id}").check()
    page.get_by_label(f"Select #{second.id}").check()
    page.get_by_label("Reason").fill("Cheques bounced")
    page.get_by_role("button", name="Preview the revert").click()

    totals = page.locator("#revert-preview #totals")
    expect(totals).to_contain_text("River Rowers")
    expect(totals.locator("tbody tr td").first).to_have_text("2")
    expect(totals).to_contain_text("$201.00")  # 100.00 + 101.00
    page.get_by_role("button", name="Confirm: revert them all").click()

    expect(page.locator(".flash-success")).to_have_text("Reverted 2 contributions.")
    expect(page.locator("#revertable tbody tr")).to_have_count(1)
    db.session.expire_all()
    assert [db.session.get(Order, o.id).status for o in world["orders"]] == ["REFUNDED", "REFUNDED", "PAID"]


def test_two_browsers_editing_the_same_contribution_the_second_is_told_and_nothing_is_overwritten(
        browser, live_server, world):
    order = world["orders"][0]
    pages = []
    for user in (world["admin"], world["other"]):
        context = browser.new_context(base_url=live_server)
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in(page, user)
        page.goto(f"/h/river/funds/{order.id}/edit")
        pages.append(page)
    try:
        first, second = pages
        first.get_by_label("Amount (USD)").fill("90.00")
        first.get_by_label("Reason for the correction").fill("Typo")
        second.get_by_label("Amount (USD)").fill("80.00")
        second.get_by_label("Reason for the correction").fill("Other typo")
        for page in pages:
            page.get_by_role("button", name="Preview the correction").click()
            expect(page.locator("#preview")).to_be_visible()

        first.get_by_role("button", name="Confirm the correction").click()
        expect(first.locator(".flash-success")).to_contain_text("Corrected contribution")
        second.get_by_role("button", name="Confirm the correction").click()

        expect(second.locator("#stale")).to_contain_text("changed by someone else meanwhile")
        expect(second.locator("#current-state")).to_contain_text("can no longer be edited")
        db.session.expire_all()
        amounts = sorted(o.amount for o in db.session.query(Order).filter(Order.description == "Cheque 0"))
        assert amounts == [9000, 10000]  # the original and the first admin's correction; no 80.00
    finally:
        for page in pages:
            page.context.close()
