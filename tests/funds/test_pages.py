"""The money pages: a collective's page (balance today / at a date, ledger rows) and Add funds."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.funds import periods, service
from hostadmin.ledger.models import LedgerTransaction, Order
from tests.factories import make_collective, make_host, make_user


@pytest.fixture
def river(app):
    host = make_host(slug="river", host_fee_bps=500)
    rowers = make_collective(host, "River Rowers")
    admin = make_user(host)
    db.session.commit()
    return host, rowers, admin


def form(rowers, **overrides):
    return {"collective": str(rowers.id), "contributor": "Ann Lee", "amount": "120.00",
            "description": "Cheque from the fair", "cleared_on": "2026-11-03", "host_fee_percent": "5",
            "processor_fee": "", **overrides}


def test_collective_page_shows_balance_today_at_a_date_and_its_ledger_rows(river, client, login_as):
    host, rowers, admin = river
    for day, amount in [(3, 10000), (10, 5000)]:
        service.add_funds(host, admin, collective=rowers, amount=amount, description=f"Cheque {day}",
                          cleared_at=datetime(2026, 11, day, tzinfo=timezone.utc))
    login_as(admin)

    page = client.get(f"/h/river/collectives/{rowers.slug}?at=2026-11-05")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Vary"].count("HX-Request") >= 1
    assert 'id="balance-today">$142.50<' in html  # 150.00 less 5%
    assert "at the end of 2026-11-05" in html and "$95.00" in html
    assert html.count("<tr data-group=") == 4 and "Cheque 10" in html and "2026-11-03" in html

    fragment = client.get(f"/h/river/collectives/{rowers.slug}?at=2026-11-02", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and text.lstrip().startswith('<div id="balance-at"') and "$0.00" in text
    bad = client.get(f"/h/river/collectives/{rowers.slug}?at=soon", headers={"HX-Request": "true"})
    assert "Give a date as YYYY-MM-DD." in bad.get_data(as_text=True)
    assert client.get("/h/river/collectives/nobody").status_code == 404


def test_add_funds_page_records_the_funds_cleared_on_the_date_given(river, client, login_as):
    host, rowers, admin = river
    login_as(admin)
    page = client.get(f"/h/river/funds/add?collective={rowers.id}").get_data(as_text=True)
    assert "Date the funds cleared" in page and 'value="2026-11-20"' in page and 'value="5"' in page

    response = client.post_with_csrf("/h/river/funds/add", form(rowers, processor_fee="1.20"))

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/collectives/{rowers.slug}")
    order = db.session.scalar(select(Order))
    assert (order.amount, order.kind, order.data) == (12000, "ADDED_FUNDS", {"processor_fee": 120})
    assert {r.cleared_at for r in db.session.scalars(select(LedgerTransaction))} == {
        datetime(2026, 11, 3, tzinfo=timezone.utc)}
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"contribution #{order.id}" in followed


@pytest.mark.parametrize("overrides,field,message", [
    ({"cleared_on": "2026-11-21"}, "cleared_on", "cannot be in the future"),
    ({"cleared_on": "2026-10-30"}, "cleared_on", "October 2026 is closed"),
    ({"cleared_on": ""}, "cleared_on", "Give a date (YYYY-MM-DD)."),
    ({"amount": "12.345"}, "amount", "The amount has too many decimals: USD amounts have at most 2 decimals."),
    ({"amount": "0"}, "amount", "The amount must be more than zero."),
    ({"amount": "lots"}, "amount", "“lots” is not an amount"),
    ({"processor_fee": "500"}, "processor_fee", "larger than the amount"),
    ({"host_fee_percent": "120"}, "host_fee_percent", "between 0 and 100"),
    ({"description": " "}, "description", "Describe the funds."),
])
def test_add_funds_errors_show_by_their_field_and_write_nothing(river, client, login_as, overrides, field,
                                                                message):
    host, rowers, admin = river
    periods.close_month(host, admin, "2026-10")
    login_as(admin)

    response = client.post_with_csrf("/h/river/funds/add", form(rowers, **overrides))

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    error_at = html.index(f'id="{field}-error"')
    assert message in html[error_at:error_at + 300]
    assert f'id="{field}" name="{field}"' in html or f'name="{field}"' in html
    assert db.session.scalar(select(Order.id)) is None


def test_accountants_see_the_collective_but_cannot_add_funds(river, client, login_as):
    host, rowers, _ = river
    accountant = make_user(host, role=Role.ACCOUNTANT)
    db.session.commit()
    login_as(accountant)
    page = client.get(f"/h/river/collectives/{rowers.slug}").get_data(as_text=True)
    assert "River Rowers" in page and "Add funds" not in page
    assert client.get("/h/river/funds/add").status_code == 403
    assert client.post_with_csrf("/h/river/funds/add", form(rowers)).status_code == 403
