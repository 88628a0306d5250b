"""In a real browser: a ledger row's group expands under it and folds again; filters and Show more update the list."""
import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from hostadmin.extensions import db
from hostadmin.funds import service
from tests.factories import make_collective, make_host, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def world(db, clock):
    host = make_host(slug="river", host_fee_bps=500)
    rowers = make_collective(host, "River Rowers")
    admin = make_user(host, email="admin@river.org")
    db.session.commit()
    for number in range(1, 31):
        service.add_funds(host, admin, collective=rowers, amount=1000 + number, description=f"Cheque {number}",
                          cleared_at=datetime(2026, 11, 1 + number % 19, tzinfo=timezone.utc))
    service.edit_funds(host, admin, 1, amount=900, reason="Miscounted")
    return {"admin": admin, "rowers": rowers}


def test_a_group_expands_in_place_folds_again_and_show_more_appends_rows(logged_in_page, world):
    page = logged_in_page(world["admin"])
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto("/h/river/ledger/")
    rows = page.locator("tbody.ledger-row")
    expect(rows).to_have_count(50)

    first = rows.first
    first.get_by_role("link", name="4 rows").click()
    detail = first.locator(".ledger-group")
    expect(detail).to_be_visible()
    expect(detail.locator("tr[data-row-id]")).to_have_count(4)
    first.get_by_role("link", name="4 rows").click()
    expect(detail).to_have_count(0)

    page.get_by_role("link", name="Show more").click()
    expect(rows).to_have_count(100)

    page.get_by_label("Search").fill("Cheque 1")  # Cheque 1, 10 … 19: eleven groups, one of them corrected
    expect(page).to_have_url(re.compile(r"q=Cheque(%20|\+)1"))
    expect(page.locator("a.reversed-by")).to_have_count(4)
    page.get_by_label("Hide corrections").check()
    expect(page).to_have_url(re.compile("hide_corrections=1"))
    expect(page.locator("a.reversed-by")).to_have_count(0)
    # Eleven groups of four rows (funds and host-fee pairs): Cheque 1's correction stands, not what it replaced.
    expect(rows).to_have_count(44)
    assert [e for e in errors if "Failed to load resource" not in e] == []  # the favicon is a 404
