"""Back-fill of cleared_at for ledger groups recorded without one (`flask ledger backfill-cleared-at`).

The one change ever made to a ledger row, through a narrow gate: cleared_at goes from NULL to a value,
nothing else changes, every row of a group gets the same value. On PostgreSQL the immutability trigger
lets exactly that through while `hostadmin.backfill` is on, which only this module sets, for its own
transaction (SET LOCAL); the ORM guard lets through only an UPDATE of cleared_at carrying BACKFILL_OPTION.
"""
from collections import Counter
from dataclasses import dataclass, field

import click
from flask.cli import with_appcontext
from sqlalchemy import bindparam, case, func, select, text, update
from sqlalchemy.orm import aliased

from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.funds.models import ClosedPeriod
from hostadmin.imports.models import ImportRow
from hostadmin.ledger.guards import BACKFILL_OPTION
from hostadmin.ledger.models import Expense, Host, LedgerTransaction, Order

Row = LedgerTransaction
BATCH = 500
# In the order they are tried; the last two are the fallback and its closed-month variant.
SOURCES = ("rest of its group", "reversed group", "bank line", "order paid date", "expense paid date",
           "created_at", "created_at (date fell in a closed month)")


@dataclass
class BackfillResult:
    """What the back-fill set (or would set, on a dry run): groups and rows by source."""

    dry_run: bool
    groups: Counter = field(default_factory=Counter)
    rows: Counter = field(default_factory=Counter)
    skipped: list = field(default_factory=list)  # (group id, why) of groups left as they are

    def lines(self):
        """The command's report, one line per source used."""
        total_groups, total_rows = sum(self.groups.values()), sum(self.rows.values())
        head = "Dry run, nothing written: would back-fill" if self.dry_run else "Back-filled"
        lines = [f"{head} cleared_at on {total_groups} group{'s' * (total_groups != 1)} "
                 f"({total_rows} row{'s' * (total_rows != 1)})"]
        for source in SOURCES:
            if self.groups[source]:
                lines.append(f"  {source}: {self.groups[source]} group{'s' * (self.groups[source] != 1)} "
                             f"({self.rows[source]} row{'s' * (self.rows[source] != 1)})")
        lines += [f"  skipped group {group}: {why}" for group, why in self.skipped]
        return lines


def backfill_cleared_at(dry_run=False):
    """Set cleared_at on every group that lacks one, in one transaction; a dry run writes nothing.

    Each group takes, in order: the cleared_at its other rows already carry; for a reversal, the
    cleared_at of the group it reverses (so it nets out in the same period); its linked bank line's
    date; its order's or expense's paid date; else its created_at. A date that would move the group's
    effective date into or out of a closed month is not used: created_at keeps it where it is.
    """
    result = BackfillResult(dry_run=dry_run)
    try:
        if not dry_run and db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL hostadmin.backfill = 'on'"))
        groups = _groups_without_cleared_at()
        chosen = {}  # group id -> cleared_at set in this run (reversals read their original's)
        for start in range(0, len(groups), BATCH):
            batch = groups[start:start + BATCH]
            updates = _choose(batch, chosen, result)
            if updates and not dry_run:
                db.session.execute(
                    update(Row.__table__).where(Row.group_id == bindparam("group"), Row.cleared_at.is_(None))
                    .values(cleared_at=bindparam("value")).execution_options(**{BACKFILL_OPTION: True}),
                    updates)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def _groups_without_cleared_at():
    """One summary per group with a NULL cleared_at: originals first, so reversals can follow them."""
    missing = select(Row.group_id).where(Row.cleared_at.is_(None)).distinct().subquery()
    is_refund = func.max(case((Row.is_refund, 1), else_=0))
    return db.session.execute(
        select(Row.group_id, Row.host_id, func.min(Row.created_at).label("created_at"),
               func.max(Row.order_id).label("order_id"), func.max(Row.expense_id).label("expense_id"),
               is_refund.label("is_refund"), func.count().label("rows"), func.count(Row.cleared_at).label("dated"),
               func.min(Row.cleared_at).label("earliest"), func.max(Row.cleared_at).label("latest"))
        .where(Row.group_id.in_(select(missing.c.group_id)))
        .group_by(Row.group_id, Row.host_id).order_by(is_refund, func.min(Row.id))).all()


def _choose(batch, chosen, result):
    """[{group, value}] for a batch of group summaries; counts each under its source in `result`."""
    ids = [g.group_id for g in batch]
    bank_dates = dict(db.session.execute(select(ImportRow.ledger_group_id, func.min(ImportRow.date))
                                         .where(ImportRow.ledger_group_id.in_(ids))
                                         .group_by(ImportRow.ledger_group_id)).all())
    reversed_groups = _reversed_groups([g.group_id for g in batch if g.is_refund])
    order_paid = _paid(Order, {g.order_id for g in batch if g.order_id})
    expense_paid = _paid(Expense, {g.expense_id for g in batch if g.expense_id})
    hosts = {h.id: h for h in db.session.scalars(select(Host).where(Host.id.in_({g.host_id for g in batch})))}
    closed = _closed_months(hosts)
    updates = []
    for group in batch:
        host = hosts[group.host_id]
        if group.dated and group.earliest != group.latest:
            result.skipped.append((group.group_id, "its rows already carry different cleared_at"))
            continue
        original = reversed_groups.get(group.group_id)
        if group.dated:
            value, source = group.earliest, "rest of its group"
        elif original and (chosen.get(original[0]) or original[1]):
            value, source = chosen.get(original[0]) or original[1], "reversed group"
        elif group.group_id in bank_dates:
            value, source = cleared.start_of_day(host, bank_dates[group.group_id]), "bank line"
        elif order_paid.get(group.order_id):
            value, source = order_paid[group.order_id], "order paid date"
        elif expense_paid.get(group.expense_id):
            value, source = expense_paid[group.expense_id], "expense paid date"
        else:
            value, source = group.created_at, "created_at"
        months = {cleared.month_of(host, value), cleared.month_of(host, group.created_at)}
        if len(months) > 1 and months & closed.get(host.id, set()):
            if group.dated:  # its other rows' date cannot change: leave the group for after a reopening
                result.skipped.append((group.group_id, "its other rows' date would change a closed month"))
                continue
            value, source = group.created_at, "created_at (date fell in a closed month)"
        chosen[group.group_id] = value
        result.groups[source] += 1
        result.rows[source] += group.rows - group.dated
        updates.append({"group": group.group_id, "value": value})
    return updates


def _reversed_groups(group_ids):
    """{reversal group id: (group id it reverses, that group's cleared_at or None)}."""
    if not group_ids:
        return {}
    original = aliased(Row)
    return {reversal: (group, cleared_at) for reversal, group, cleared_at in db.session.execute(
        select(Row.group_id, original.group_id, func.max(original.cleared_at))
        .join(original, original.id == Row.refund_of_id)
        .where(Row.group_id.in_(group_ids)).group_by(Row.group_id, original.group_id))}


def _paid(model, object_ids):
    if not object_ids:
        return {}
    return dict(db.session.execute(select(model.id, model.paid_at).where(model.id.in_(object_ids))).all())


def _closed_months(hosts):
    closings = db.session.execute(select(ClosedPeriod.host_id, ClosedPeriod.month).where(
        ClosedPeriod.host_id.in_(hosts), ClosedPeriod.reopened_at.is_(None))).all()
    months = {}
    for host_id, month in closings:
        months.setdefault(host_id, set()).add(month)
    return months


@click.command("backfill-cleared-at")
@click.option("--dry-run", is_flag=True, help="Say what would be set; write nothing.")
@with_appcontext
def backfill_command(dry_run):
    """Set cleared_at on ledger groups recorded without one (idempotent); print counts by source."""
    try:
        result = backfill_cleared_at(dry_run=dry_run)
    except Exception as error:  # the trigger's or the guard's refusal: nothing was written
        raise click.ClickException(f"back-fill refused, nothing written: {str(error).splitlines()[0]}") from None
    for line in result.lines():
        click.echo(line)
