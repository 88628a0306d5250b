"""Money on the command line: `flask periods|collectives|funds|ledger …`, the twins of the money pages.

Refusals exit 1 with the reason on stderr; commands that create something print its id last.
"""
import sys
from decimal import Decimal

import click
from flask.cli import AppGroup
from sqlalchemy import select

from hostadmin import csvsafe, money
from hostadmin.extensions import db
from hostadmin.funds import cleared, collectives, periods, service
from hostadmin.funds.checks import ledger_problems
from hostadmin.ledger.accounts import ValidationError
from hostadmin.ledger.models import Host, LedgerTransaction
from hostadmin.ledger.service import LedgerError
from hostadmin.money import AmountError, major_units

periods_cli = AppGroup("periods", help="Close and reopen months.")
collectives_cli = AppGroup("collectives", help="Create, rename and archive collectives; list their balances.")
funds_cli = AppGroup("funds", help="Add, correct and revert added funds.")
ledger_cli = AppGroup("ledger", help="Check and export the ledger.")
COMMANDS = (periods_cli, collectives_cli, funds_cli, ledger_cli)

DATE = click.DateTime(formats=["%Y-%m-%d"])
REFUSALS = (LedgerError, ValidationError, service.FundsError)


def refuse(message):
    """Stop with `message` on stderr and exit status 1 (nothing was written)."""
    db.session.rollback()
    raise click.ClickException(str(message))


def host_of(slug):
    host = db.session.scalar(select(Host).where(Host.slug == slug))
    if host is None:
        refuse(f"no host with slug {slug!r}")
    return host


def parse_amount(text, currency, option):
    """"100.00" -> 10000 minor units with CLDR decimals for `currency` (money.parse_amount); refuses anything else."""
    try:
        return money.parse_amount(text, currency)
    except AmountError as error:
        message = str(error)
        if "is not an amount" in message:
            refuse(f"{option} must be a number such as 100.00, not {text!r}")
        # "“10.005” has too many decimals: …" -> "--amount has too many decimals: …"
        refuse(f"{option} {message.split('” ', 1)[1] if message.startswith('“') else message}")


def parse_percent(text):
    """"8.5" -> 850 basis points."""
    if not money.PLAIN_DECIMAL.fullmatch(text.strip()):
        refuse(f"--host-fee-percent must be a number of percent, e.g. 8, not {text!r}")
    bps = Decimal(text.strip()) * 100
    if not bps.is_finite() or bps != bps.to_integral_value() or not 0 <= bps <= 10000:
        refuse("--host-fee-percent must be between 0 and 100 with at most two decimals")
    return int(bps)


# --------------------------------------------------------------------------- periods

@periods_cli.command("close")
@click.option("--host", "host_slug", required=True)
@click.option("--month", required=True, help="YYYY-MM, in the host's time zone.")
@click.option("--reason", default=None)
def close(host_slug, month, reason):
    """Close a month: nothing can be recorded in it afterwards."""
    host = host_of(host_slug)
    try:
        period = periods.close_month(host, None, month, reason)
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Closed {cleared.month_name(period.month)} for {host.slug}")


@periods_cli.command("reopen")
@click.option("--host", "host_slug", required=True)
@click.option("--month", required=True, help="YYYY-MM, in the host's time zone.")
@click.option("--reason", default=None, help="Required: why the month is reopened.")
def reopen(host_slug, month, reason):
    """Reopen a closed month (audited, with a reason)."""
    host = host_of(host_slug)
    try:
        period = periods.reopen_month(host, None, month, reason)
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Reopened {cleared.month_name(period.month)} for {host.slug}")


# --------------------------------------------------------------------------- collectives

@collectives_cli.command("create")
@click.option("--host", "host_slug", required=True)
@click.argument("slug")
@click.option("--name", required=True, help="Unique on the host, case-insensitively.")
def create_collective(host_slug, slug, name):
    """Create a collective; prints its id last."""
    host = host_of(host_slug)
    try:
        collective = collectives.create_collective(host, slug, name)
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Created collective {collective.slug} ({collective.name})")
    click.echo(collective.id)


@collectives_cli.command("rename")
@click.option("--host", "host_slug", required=True)
@click.argument("slug")
@click.option("--name", required=True, help="The new name: unique on the host, case-insensitively.")
def rename_collective(host_slug, slug, name):
    """Rename a collective (its slug stays)."""
    host = host_of(host_slug)
    try:
        collective = collectives.rename(host, None, collectives.collective_by_slug(host, slug), name)
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Renamed collective {collective.slug} to {collective.name}")


@collectives_cli.command("archive")
@click.option("--host", "host_slug", required=True)
@click.argument("slug")
def archive_collective(host_slug, slug):
    """Archive a collective: it keeps its history and takes no new money (its balance must be zero)."""
    host = host_of(host_slug)
    try:
        collective = collectives.archive(host, None, collectives.collective_by_slug(host, slug))
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Archived collective {collective.slug} ({collective.name})")


@collectives_cli.command("unarchive")
@click.option("--host", "host_slug", required=True)
@click.argument("slug")
def unarchive_collective(host_slug, slug):
    """Bring an archived collective back: it takes money again."""
    host = host_of(host_slug)
    try:
        collective = collectives.unarchive(host, None, collectives.collective_by_slug(host, slug))
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Unarchived collective {collective.slug} ({collective.name})")


@collectives_cli.command("balances")
@click.option("--host", "host_slug", required=True)
@click.option("--at", "at", type=DATE, default=None, help="YYYY-MM-DD, inclusive, in the host's time zone.")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv")
def balances(host_slug, at, fmt):
    """Each collective's balance by effective date: slug,name,balance,currency."""
    host = host_of(host_slug)
    writer = csvsafe.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["slug", "name", "balance", "currency"])
    for item in collectives.balances_at(host, at.date() if at else None):
        writer.writerow([item.account.slug, item.account.name, major_units(item.balance, item.currency),
                         item.currency])


# --------------------------------------------------------------------------- funds

@funds_cli.command("add")
@click.option("--host", "host_slug", required=True)
@click.option("--collective", "collective_slug", required=True)
@click.option("--amount", required=True, help="In major units, e.g. 100.00.")
@click.option("--cleared-on", type=DATE, required=True, help="Date the funds cleared (YYYY-MM-DD).")
@click.option("--description", required=True)
@click.option("--contributor", default=None, help="Name of the source; found or created.")
@click.option("--host-fee-percent", default=None, help="Default: the host's fee.")
@click.option("--processor-fee", default=None, help="A payment processor's fee, e.g. 1.20.")
def add(host_slug, collective_slug, amount, cleared_on, description, contributor, host_fee_percent,
        processor_fee):
    """Add funds to a collective; prints the new contribution's id last."""
    host = host_of(host_slug)
    minor = parse_amount(amount, host.currency, "--amount")
    fee = parse_amount(processor_fee, host.currency, "--processor-fee") if processor_fee else 0
    bps = parse_percent(host_fee_percent) if host_fee_percent is not None else None
    try:
        collective = collectives.collective_by_slug(host, collective_slug)
        order = service.add_funds(host, None, collective=collective, amount=minor,
                                  cleared_at=cleared.cleared_at_for_day(host, cleared_on.date()),
                                  description=description, contributor_name=contributor,
                                  host_fee_bps=bps, processor_fee=fee)
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Added {service.describe(order)}, cleared {cleared_on.date().isoformat()}")
    click.echo(order.id)


@funds_cli.command("edit")
@click.argument("order_id", type=int)
@click.option("--host", "host_slug", default=None, help="Only needed to double-check the host.")
@click.option("--amount", default=None)
@click.option("--collective", "collective_slug", default=None)
@click.option("--cleared-on", type=DATE, default=None)
@click.option("--description", default=None)
@click.option("--reason", required=True)
def edit(order_id, host_slug, amount, collective_slug, cleared_on, description, reason):
    """Correct added funds (reverse and recreate in one transaction); prints the corrected id last."""
    host = _host_of_order(order_id, host_slug)
    try:
        order = service.edit_funds(
            host, None, order_id, reason=reason,
            amount=parse_amount(amount, host.currency, "--amount") if amount is not None else None,
            collective=collectives.collective_by_slug(host, collective_slug) if collective_slug else None,
            cleared_at=cleared.cleared_at_for_day(host, cleared_on.date()) if cleared_on else None,
            description=description)
    except REFUSALS as error:
        refuse(error)
    click.echo(f"Replaced #{order_id} with #{order.id}: {service.describe(order)}")
    click.echo(order.id)


@funds_cli.command("revert")
@click.argument("order_ids", type=int, nargs=-1, required=True)
@click.option("--host", "host_slug", default=None, help="Only needed to double-check the host.")
@click.option("--reason", required=True)
def revert(order_ids, host_slug, reason):
    """Revert added funds, all or nothing."""
    host = _host_of_order(order_ids[0], host_slug)
    try:
        done = service.revert_funds(host, None, list(order_ids), reason=reason)
    except REFUSALS as error:
        refuse(error)
    for item in done:
        click.echo(f"Reverted #{item.order.id}: {service.describe(item.order)}")
    click.echo(f"{len(done)} reverted")


def _host_of_order(order_id, host_slug):
    from hostadmin.ledger.models import Order
    order = db.session.get(Order, order_id)
    if host_slug is not None:
        host = host_of(host_slug)
        if order is not None and order.host_id != host.id:
            refuse(f"there is no contribution #{order_id} on host {host.slug}")
        return host
    if order is None:
        refuse(f"there is no contribution #{order_id}")
    return db.session.get(Host, order.host_id)


# --------------------------------------------------------------------------- ledger

@ledger_cli.command("check")
def check():
    """Check the ledger's invariants; exit 1 naming each group that breaks one."""
    problems = ledger_problems()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise click.exceptions.Exit(1)
    rows = db.session.scalar(select(db.func.count()).select_from(LedgerTransaction))
    groups = db.session.scalar(select(db.func.count(db.func.distinct(LedgerTransaction.group_id))))
    click.echo(f"Ledger OK: {rows} row{'s' * (rows != 1)} in {groups} group{'s' * (groups != 1)}")
