"""Ledger invariants, checked by `flask ledger check` and after every test."""
from sqlalchemy import func, select

from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.funds.models import ClosedPeriod
from hostadmin.ledger.models import Host, LedgerTransaction
from hostadmin.ledger.service import unbalanced_groups


def ledger_problems(session=None):
    """One line per broken invariant, naming the group: [] when the ledger is sound."""
    session = session or db.session
    row = LedgerTransaction
    problems = [f"group {g}: rows do not sum to zero" for g in sorted(set(unbalanced_groups(session)))]
    problems += [f"group {g}: rows without cleared_at" for g in session.scalars(
        select(row.group_id).where(row.cleared_at.is_(None)).distinct().order_by(row.group_id))]
    problems += [f"group {g}: rows with different cleared_at" for g in session.scalars(
        select(row.group_id).group_by(row.group_id)
        .having(func.count(func.distinct(row.cleared_at)) > 1).order_by(row.group_id))]
    problems += _rows_written_into_closed_months(session)
    return problems


def _rows_written_into_closed_months(session):
    """Rows cleared in a month and created while that month was closed (for any of its closings)."""
    problems = []
    closings = session.execute(select(ClosedPeriod, Host).join(Host, Host.id == ClosedPeriod.host_id)
                               .order_by(ClosedPeriod.id)).all()
    for period, host in closings:
        start, end = cleared.month_bounds(host, period.month)
        row = LedgerTransaction
        conditions = [row.host_id == host.id, row.cleared_at >= start, row.cleared_at < end,
                      row.created_at > period.closed_at]
        if period.reopened_at is not None:
            conditions.append(row.created_at < period.reopened_at)
        groups = session.scalars(select(row.group_id).where(*conditions)
                                 .distinct().order_by(row.group_id)).all()
        problems += [f"group {g}: recorded in {period.month} after the month was closed" for g in groups]
    return problems
