"""Batch revert of added funds: find them by filter, preview totals per collective, revert all or nothing."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm.exc import StaleDataError

from hostadmin.audit import service as audit
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.funds import service
from hostadmin.imports.models import ImportRow, RowStatus
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import Account, Correction, LedgerTransaction, Order, OrderKind, OrderStatus
from hostadmin.text import clean_line

PAGE = 200


@dataclass(frozen=True)
class Filter:
    """Which added funds the page lists: collective, cleared-date range (host days, inclusive), text."""

    collective_id: int | None = None
    cleared_from: date | None = None
    cleared_to: date | None = None
    text: str = ""


@dataclass
class CollectiveTotal:
    """One collective's share of a batch revert: contributions, net reverted, balance before and after."""

    collective: Account
    count: int = 0
    amount: int = 0       # the contributions' amounts
    net: int = 0          # what leaves the collective's balance (amount less fees)
    balance_before: int = 0
    balance_after: int = 0


@dataclass
class Preview:
    orders: list
    totals: list = field(default_factory=list)
    rows_reversed: int = 0
    bank_lines: int = 0
    closed_months_moved: int = 0


def matching(host, flt):
    """The query of PAID added funds of `host` matching `flt`, newest first (order id)."""
    query = select(Order).where(Order.host_id == host.id, Order.kind == OrderKind.ADDED_FUNDS.value,
                                Order.status == OrderStatus.PAID.value)
    if flt.collective_id:
        query = query.where(Order.to_account_id == flt.collective_id)
    if flt.cleared_from:
        query = query.where(Order.paid_at >= cleared.start_of_day(host, flt.cleared_from))
    if flt.cleared_to:
        query = query.where(Order.paid_at < cleared.end_of_day(host, flt.cleared_to))
    text = clean_line(flt.text or "", 200).strip()
    if text:
        query = query.where(func.lower(Order.description).contains(text.lower(), autoescape=True))
    return query.order_by(Order.id.desc())


def count_matching(host, flt):
    """How many added funds match `flt`."""
    return db.session.scalar(select(func.count()).select_from(matching(host, flt).order_by(None).subquery()))


def ids_matching(host, flt):
    """The ids of every added-funds contribution matching `flt`."""
    return list(db.session.scalars(matching(host, flt).with_only_columns(Order.id)))


def revert_many(host, user, order_ids, *, reason, versions=None):
    """Reverse the live group of each order and mark it REFUNDED, in the caller's transaction.

    Set-based: a few statements whatever the count. A linked bank line goes back to "to do".
    `versions` ({id: version shown}) refuses an order someone else changed meanwhile.
    Returns [service.Reverted] in id order.
    """
    orders = service._lock_paid_added_funds(host, order_ids, versions)
    live = _live_groups(orders)
    reversals = ledger.reverse_groups(host, live.values(), reason=f"Revert: {reason}", created_by=user,
                                      correction=Correction.REVERT)
    lines = {r.order_id: r for r in db.session.scalars(select(ImportRow).where(
        ImportRow.order_id.in_([o.id for o in orders]), ImportRow.status == RowStatus.LINKED.value)
        .with_for_update())}
    now, done, updates, entries = utcnow(), [], [], []
    for order in orders:
        reversal_group, reversal_cleared_at = reversals[live[order.id]]
        updates.append({"order_id": order.id, "seen": order.version, "next": order.version + 1,
                        "data": {**(order.data or {}), "reversal_group_id": reversal_group}})
        line = lines.get(order.id)
        if line is not None:
            line.status, line.order_id, line.expense_id, line.ledger_group_id = (
                RowStatus.PENDING.value, None, None, None)
            line.updated_at = now
        entries.append({"object_id": order.id, "before": {"status": OrderStatus.PAID.value},
                        "after": {"status": OrderStatus.REFUNDED.value},
                        "data": {"reason": reason, "reversal_group_id": reversal_group,
                                 "import_row_id": line.id if line is not None else None,
                                 "reversal_cleared_at": reversal_cleared_at.isoformat()}})
        done.append(service.Reverted(order, reversal_group))
    _mark_refunded(updates)
    audit.record_many(host, user, "funds.revert", "orders", entries)
    db.session.flush()
    for order in orders:
        db.session.expire(order)
    return done


def _mark_refunded(updates):
    """One executemany UPDATE, conditional on the version each order was locked at (as the ORM's would be)."""
    table = Order.__table__
    statement = (table.update().where(table.c.id == bindparam("order_id"), table.c.version == bindparam("seen"))
                 .values(status=OrderStatus.REFUNDED.value, data=bindparam("data", type_=table.c.data.type), version=bindparam("next")))
    result = db.session.execute(statement, updates)
    if result.rowcount not in (-1, len(updates)):  # -1: the driver cannot count an executemany
        raise StaleDataError(f"{len(updates) - result.rowcount} contributions changed while being reverted")


def preview(host, user, order_ids, *, reason, versions=None):
    """What a batch revert would do, per collective, by doing it and rolling back: nothing is kept.

    Running the real writes means the preview refuses exactly what the revert would refuse and its
    balances are the ones the revert leaves.
    """
    try:
        ids = sorted(set(order_ids))
        orders = service._lock_paid_added_funds(host, ids, versions)
        shown = [{"id": o.id, "version": o.version} for o in orders]
        collective_ids = sorted({o.to_account_id for o in orders})
        before = ledger.balances(host, collective_ids)
        amounts, counts, closed_months = defaultdict(int), defaultdict(int), {}
        moved = 0
        for order in orders:
            amounts[order.to_account_id] += order.amount
            counts[order.to_account_id] += 1
            month = cleared.month_of(host, order.paid_at)
            if month not in closed_months:
                closed_months[month] = cleared.closing_in_force(host, month) is not None
            moved += closed_months[month]
        bank_lines = db.session.scalar(select(func.count()).where(
            ImportRow.order_id.in_(ids), ImportRow.status == RowStatus.LINKED.value))
        done = revert_many(host, user, ids, reason=reason or "preview", versions=versions)
        after = ledger.balances(host, collective_ids)
        rows = db.session.scalar(select(func.count()).where(
            LedgerTransaction.group_id.in_([d.reversal_group_id for d in done])))
        accounts = {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(collective_ids)))}
        totals = [CollectiveTotal(accounts[cid], counts[cid], amounts[cid], before[cid] - after[cid],
                                  before[cid], after[cid])
                  for cid in sorted(collective_ids, key=lambda i: accounts[i].name.lower())]
        result = Preview(shown, totals, rows, bank_lines, moved)
    except Exception as error:
        db.session.rollback()
        service._refuse(error)
    db.session.rollback()
    return result


def _live_groups(orders):
    """{order id: its one ledger group no reversal cancels}; refuses an order with none or several."""
    row = LedgerTransaction
    ids = [o.id for o in orders]
    cancelled = select(row.refund_of_id).where(row.order_id.in_(ids), row.refund_of_id.is_not(None))
    pairs = db.session.execute(select(row.order_id, row.group_id).where(
        row.order_id.in_(ids), row.is_refund.is_(False), row.id.not_in(cancelled)).distinct()).all()
    groups = defaultdict(set)
    for order_id, group_id in pairs:
        groups[order_id].add(group_id)
    for order_id in ids:
        if len(groups[order_id]) != 1:
            raise service.FundsError(f"contribution #{order_id} has {len(groups[order_id])} ledger groups in "
                                     "force, expected one")
    return {order_id: next(iter(found)) for order_id, found in groups.items()}
