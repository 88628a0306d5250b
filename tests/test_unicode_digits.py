"""Amounts and percentages a person types are ASCII digits: `Decimal()` also reads "８" and "٣", so every
place that reads one goes through the shared rule (money.parse_amount, money.PLAIN_DECIMAL)."""
import pytest
from sqlalchemy import select

from hostadmin.extensions import db
from hostadmin.funds import service as funds
from hostadmin.ledger.models import Order
from tests.factories import make_collective, make_host, make_user
from tests.funds.conftest import cli  # noqa: F401  (the fixture)

HX = {"HX-Request": "true"}


@pytest.fixture
def river(app):
    host = make_host(slug="river", host_fee_bps=500)
    rowers = make_collective(host, "River Rowers")
    admin = make_user(host)
    db.session.commit()
    return host, rowers, admin


@pytest.mark.parametrize("percent", ["８", "٥", "1e1", "5_0"])
def test_add_funds_page_refuses_a_host_fee_that_is_not_ascii_digits(river, client, login_as, percent):
    host, rowers, admin = river
    login_as(admin)
    response = client.post_with_csrf("/h/river/funds/add", {
        "collective": str(rowers.id), "contributor": "Ann Lee", "amount": "120.00",
        "description": "Cheque from the fair", "cleared_on": "2026-11-03", "host_fee_percent": percent,
        "processor_fee": ""})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    error_at = html.index('id="host_fee_percent-error"')
    assert "Give the fee as a percentage, e.g. 8." in html[error_at:error_at + 300]
    assert db.session.scalar(select(Order.id)) is None


@pytest.mark.parametrize("percent", ["８", "٥", "1e1"])
def test_funds_add_cli_refuses_a_host_fee_percent_that_is_not_ascii_digits(river, cli, percent):
    result = cli("funds", "add", "--host", "river", "--collective", river[1].slug, "--amount", "100.00",
                 "--cleared-on", "2026-11-03", "--description", "Cheque", "--host-fee-percent", percent)
    assert result.exit_code == 1 and "--host-fee-percent must be a number of percent" in result.stderr
    assert db.session.scalar(select(Order.id)) is None


@pytest.mark.parametrize("amount", ["１２３", "٣", "1e3", "²"])
def test_a_ledger_amount_filter_in_other_digits_is_named_and_ignored(river, client, login_as, app, amount):
    host, rowers, admin = river
    funds.add_funds(host, admin, collective=rowers, amount=5000, cleared_at=app.clock.now,
                    description="Cheque from the fair", contributor_name="Ann Lee")
    login_as(admin)
    html = client.get("/h/river/ledger/", query_string={"min": amount}, headers=HX).get_data(as_text=True)
    assert f"“{amount}” is not an amount (ignored)" in html
    assert "Cheque from the fair" in html  # 50.00 is listed: the filter is not read as 123 or 3 or 1000
