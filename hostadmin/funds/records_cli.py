"""`flask contributions|expenses …`: the CLI twins of the contributions and expenses pages.

Refusals exit 1 with the reason on stderr; commands that create something print its id last.
"""
import click
from flask.cli import AppGroup

from hostadmin.extensions import db
from hostadmin.funds import cleared, collectives, contributions, expenses
from hostadmin.funds.cli import DATE, host_of, parse_amount, refuse
from hostadmin.funds.records import RecordError
from hostadmin.ledger.accounts import ValidationError
from hostadmin.ledger.models import Expense, Host, Order
from hostadmin.ledger.service import LedgerError
from hostadmin.money import major_units

contributions_cli = AppGroup("contributions", help="Expect contributions and mark them received.")
expenses_cli = AppGroup("expenses", help="Record, approve, pay and reject expenses.")
COMMANDS = (contributions_cli, expenses_cli)
REFUSALS = (RecordError, LedgerError, ValidationError)


def _host_and(model, object_id, what):
    obj = db.session.get(model, object_id)
    if obj is None:
        refuse(f"there is no {what} #{object_id}")
    return db.session.get(Host, obj.host_id)


def _cleared_at(host, day):
    try:
        return cleared.cleared_at_for_day(host, day.date())
    except LedgerError as error:
        refuse(error)


# --------------------------------------------------------------------------- contributions

@contributions_cli.command("create")
@click.option("--host", "host_slug", required=True)
@click.option("--collective", "collective_slug", required=True)
@click.option("--amount", required=True, help="In major units, e.g. 100.00.")
@click.option("--contributor", default=None, help="Name; found (any case) or created. Default: Anonymous.")
@click.option("--description", default="")
def create_contribution(host_slug, collective_slug, amount, contributor, description):
    """Record an expected contribution (PENDING); prints its id last."""
    host = host_of(host_slug)
    minor = parse_amount(amount, host.currency, "--amount")
    try:
        order = contributions.create_expected(
            host, None, collective=collectives.collective_by_slug(host, collective_slug), amount=minor,
            contributor_name=contributor, description=description)
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Expected {major_units(order.amount, order.currency)} {order.currency} "
               f"from {order.from_account.name} to {order.to_account.slug}")
    click.echo(order.id)


@contributions_cli.command("receive")
@click.argument("order_id", type=int)
@click.option("--cleared-on", type=DATE, required=True, help="Date the money cleared (YYYY-MM-DD).")
def receive(order_id, cleared_on):
    """Mark an expected contribution received, cleared on the date given."""
    host = _host_and(Order, order_id, "contribution")
    try:
        order = contributions.mark_received(host, None, order_id, cleared_at=_cleared_at(host, cleared_on))
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Received contribution #{order.id}, cleared {cleared_on.date().isoformat()}")


# --------------------------------------------------------------------------- expenses

@expenses_cli.command("create")
@click.option("--host", "host_slug", required=True)
@click.option("--collective", "collective_slug", required=True)
@click.option("--payee", required=True, help="Name; found (any case) or created.")
@click.option("--amount", required=True, help="In major units, e.g. 12.50.")
@click.option("--description", required=True)
@click.option("--incurred-on", type=DATE, default=None, help="YYYY-MM-DD; default today.")
def create_expense(host_slug, collective_slug, payee, amount, description, incurred_on):
    """Record an expense awaiting approval; prints its id last."""
    host = host_of(host_slug)
    minor = parse_amount(amount, host.currency, "--amount")
    try:
        expense = expenses.record_expense(
            host, None, collective=collectives.collective_by_slug(host, collective_slug), payee_name=payee,
            amount=minor, description=description, incurred_on=incurred_on.date() if incurred_on else None)
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Recorded expense of {major_units(expense.amount, expense.currency)} {expense.currency} "
               f"from {expense.collective.slug} to {expense.payee.name}, awaiting approval")
    click.echo(expense.id)


@expenses_cli.command("approve")
@click.argument("expense_id", type=int)
def approve(expense_id):
    """Approve an expense awaiting approval."""
    host = _host_and(Expense, expense_id, "expense")
    try:
        expenses.approve(host, None, expense_id)
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Approved expense #{expense_id}")


@expenses_cli.command("pay")
@click.argument("expense_id", type=int)
@click.option("--cleared-on", type=DATE, required=True, help="Date the money left the account (YYYY-MM-DD).")
def pay(expense_id, cleared_on):
    """Mark an approved expense paid, on the date the money left the account."""
    host = _host_and(Expense, expense_id, "expense")
    try:
        expenses.mark_paid(host, None, expense_id, cleared_at=_cleared_at(host, cleared_on))
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Paid expense #{expense_id}, cleared {cleared_on.date().isoformat()}")


@expenses_cli.command("reject")
@click.argument("expense_id", type=int)
@click.option("--reason", required=True)
def reject(expense_id, reason):
    """Reject an expense that is not paid."""
    host = _host_and(Expense, expense_id, "expense")
    try:
        expenses.reject(host, None, expense_id, reason=reason)
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Rejected expense #{expense_id}")
