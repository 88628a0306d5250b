"""`flask contributions|expenses …`: stdout's last line is the new id, refusals exit 1 with the reason on stderr."""
from datetime import datetime, timezone

from sqlalchemy import select

from hostadmin.extensions import db
from hostadmin.ledger.models import Expense, LedgerTransaction, Order
from tests.funds.test_cli_funds import last_line, setup_river


def contribution(cli, *extra, amount="100.00"):
    return cli("contributions", "create", "--host", "river", "--collective", "rowers", "--amount", amount, *extra)


def expense(cli, *extra, amount="12.50"):
    return cli("expenses", "create", "--host", "river", "--collective", "rowers", "--payee", "Print Shop",
               "--amount", amount, "--description", "Flyers", *extra)


def cleared_dates():
    return {r.cleared_at for r in db.session.scalars(select(LedgerTransaction))}


def test_contributions_create_prints_the_id_last_and_receive_clears_it_on_the_date(app, cli):
    setup_river(cli)
    created = contribution(cli, "--contributor", "Ann Lee", "--description", "Pledge")
    assert created.exit_code == 0, created.output
    order = db.session.get(Order, int(last_line(created)))
    assert (order.status, order.amount, order.from_account.name, order.description) == (
        "PENDING", 10000, "Ann Lee", "Pledge")

    received = cli("contributions", "receive", order.id, "--cleared-on", "2026-11-03")

    assert received.exit_code == 0, received.output
    assert f"Received contribution #{order.id}, cleared 2026-11-03" in received.stdout
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "PAID"
    assert cleared_dates() == {datetime(2026, 11, 3, tzinfo=timezone.utc)}


def test_contribution_refusals_exit_1_with_the_reason_on_stderr(app, cli):
    setup_river(cli)
    assert cli("periods", "close", "--host", "river", "--month", "2026-10").exit_code == 0
    order_id = int(last_line(contribution(cli)))
    for args, message in [
        (("contributions", "receive", order_id, "--cleared-on", "2026-11-21"), "cannot be in the future"),
        (("contributions", "receive", order_id, "--cleared-on", "2026-10-31"), "October 2026 is closed"),
        (("contributions", "receive", 999, "--cleared-on", "2026-11-03"), "there is no contribution #999"),
        (("contributions", "create", "--host", "river", "--collective", "nope", "--amount", "1"),
         "no collective 'nope'"),
        (("contributions", "create", "--host", "river", "--collective", "rowers", "--amount", "1.005"),
         "--amount has too many decimals"),
        (("contributions", "create", "--host", "nowhere", "--collective", "rowers", "--amount", "1"),
         "no host with slug 'nowhere'"),
    ]:
        result = cli(*args)
        assert result.exit_code == 1 and message in result.stderr, (args, result.output)
        assert result.stdout == ""
    assert cli("contributions", "receive", order_id, "--cleared-on", "2026-11-03").exit_code == 0
    again = cli("contributions", "receive", order_id, "--cleared-on", "2026-11-03")
    assert again.exit_code == 1 and "is received, not expected" in again.stderr
    assert len(cleared_dates()) == 1


def test_expenses_create_approve_pay_in_a_three_decimal_currency(app, cli):
    setup_river(cli, currency="KWD", fee="0")
    created = expense(cli, "--incurred-on", "2026-11-01", amount="12.125")
    assert created.exit_code == 0, created.output
    expense_id = int(last_line(created))
    assert "awaiting approval" in created.stdout

    assert cli("expenses", "approve", expense_id).stdout.strip() == f"Approved expense #{expense_id}"
    paid = cli("expenses", "pay", expense_id, "--cleared-on", "2026-11-04")

    assert paid.exit_code == 0, paid.output
    db.session.expire_all()
    saved = db.session.get(Expense, expense_id)
    assert (saved.status, saved.amount, saved.incurred_on.isoformat()) == ("PAID", 12125, "2026-11-01")
    assert cleared_dates() == {datetime(2026, 11, 4, tzinfo=timezone.utc)}


def test_expense_refusals_exit_1_with_the_reason_on_stderr(app, cli):
    setup_river(cli)
    assert cli("periods", "close", "--host", "river", "--month", "2026-10").exit_code == 0
    expense_id = int(last_line(expense(cli)))
    for args, message in [
        (("expenses", "pay", expense_id, "--cleared-on", "2026-11-03"), "only an approved expense can be marked paid"),
        (("expenses", "reject", expense_id, "--reason", " "), "a reason is required"),
        (("expenses", "approve", 999), "there is no expense #999"),
        (("expenses", "create", "--host", "river", "--collective", "rowers", "--payee", "X", "--amount", "0",
          "--description", "Nothing"), "positive whole number"),
        (("expenses", "create", "--host", "river", "--collective", "rowers", "--payee", "X", "--amount", "1",
          "--description", "Later", "--incurred-on", "2026-12-01"), "cannot be in the future"),
    ]:
        result = cli(*args)
        assert result.exit_code == 1 and message in result.stderr, (args, result.output)
        assert result.stdout == ""
    assert cli("expenses", "approve", expense_id).exit_code == 0
    closed = cli("expenses", "pay", expense_id, "--cleared-on", "2026-10-15")
    assert closed.exit_code == 1 and "October 2026 is closed" in closed.stderr
    rejected = cli("expenses", "reject", expense_id, "--reason", "Duplicate")
    assert rejected.exit_code == 0 and rejected.stdout.strip() == f"Rejected expense #{expense_id}"
    late = cli("expenses", "pay", expense_id, "--cleared-on", "2026-11-03")
    assert late.exit_code == 1 and "is rejected" in late.stderr
    assert cleared_dates() == set()
