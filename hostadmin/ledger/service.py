"""The ledger: the only code that writes ledger rows.

Every write is a double-entry group: rows sharing a group_id whose amounts sum
to zero (per currency, and in host currency). A contribution credits the
collective and debits the contributor; a host fee moves part of it from the
collective to the host; an expense debits the collective and credits the payee.
Corrections never edit a row: reverse_group() records refund rows that point at
the originals.
"""
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.ledger.models import (
    Account, AccountKind, EntryType, Expense, ExpenseStatus, Host, LedgerKind, LedgerTransaction, Order,
    OrderKind, OrderStatus,
)
from hostadmin.money import MAX_MINOR_UNITS, major_units
from hostadmin.text import shorten

DESCRIPTION_MAX = LedgerTransaction.description.type.length


class LedgerError(ValueError):
    """A ledger write that would break an invariant; nothing was written."""


@dataclass(frozen=True)
class Entry:
    """One side of a movement: `amount` minor units credited (+) or debited (-) on account."""

    account: Account
    counterparty: Account
    amount: int
    kind: LedgerKind


def record_group(host, entries, *, currency, cleared_at, description="", created_by=None,
                 order=None, expense=None, refunds=None, reason=None, correction=None):
    """Insert one balanced group of ledger rows and return them (not committed).

    `refunds` optionally pairs each entry with the original row it reverses.
    All rows share created_at (now) and cleared_at, so the group reads as one event.
    cleared_at is required and may not fall in a closed month (funds.cleared holds the rules).
    A description longer than the column is shortened with an ellipsis, so that no
    text (a long bank line, "Reversal: " before it) can make a ledger write fail.
    """
    from hostadmin.funds import cleared as cleared_rules  # funds builds on this module
    cleared_rules.check_recordable(host, cleared_at)
    if not entries:
        raise LedgerError("a ledger group needs at least two rows")
    if currency != host.currency:
        # Foreign-currency money needs an FX rate recorded with it; not supported yet.
        raise LedgerError(f"only {host.currency} (the host currency) can be recorded, not {currency}")
    for entry in entries:
        if not isinstance(entry.amount, int) or isinstance(entry.amount, bool):
            raise LedgerError("ledger amounts are integers in minor units")
        if entry.amount == 0:
            raise LedgerError("a ledger row cannot be zero")
        if abs(entry.amount) > MAX_MINOR_UNITS:
            # Bounded so that balances (sums of many rows) stay far inside a 64-bit integer.
            raise LedgerError(f"{major_units(abs(entry.amount), currency)} {currency} is more than "
                              f"the largest amount the ledger records ({major_units(MAX_MINOR_UNITS, currency)})")
        if entry.account.host_id != host.id or entry.counterparty.host_id != host.id:
            raise LedgerError("every account in a group must belong to the host")
    if sum(entry.amount for entry in entries) != 0:
        raise LedgerError("a ledger group must sum to zero")

    group_id = str(uuid.uuid4())
    now = utcnow()
    rows = []
    for index, entry in enumerate(entries):
        row = LedgerTransaction(
            host_id=host.id,
            group_id=group_id,
            kind=entry.kind.value,
            type=(EntryType.CREDIT if entry.amount > 0 else EntryType.DEBIT).value,
            account_id=entry.account.id,
            counterparty_id=entry.counterparty.id,
            amount=entry.amount,
            currency=currency,
            amount_in_host_currency=entry.amount,
            host_currency=host.currency,
            description=shorten(description or "", DESCRIPTION_MAX),
            order_id=order.id if order else None,
            expense_id=expense.id if expense else None,
            is_refund=refunds is not None,
            refund_of_id=refunds[index].id if refunds is not None else None,
            reason=reason,
            correction=correction.value if correction else None,
            created_by_id=created_by.id if created_by else None,
            created_at=now,
            cleared_at=cleared_at,
        )
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


def host_fee_of(amount, fee_bps):
    """The host's fee on `amount`, rounded half up to a whole minor unit."""
    return (amount * fee_bps + 5000) // 10000


def move_status(model, obj, from_status, to_status, **values):
    """UPDATE an order's or expense's status only if it is still `from_status`; LedgerError if not.

    The row count of the conditional UPDATE decides, on every database: of two
    transactions racing to pay one order, the second matches no row (PostgreSQL
    re-checks the condition after the first commits; SQLite serialises writers).
    """
    result = db.session.execute(
        update(model).where(model.id == obj.id, model.status == from_status)
        .values(status=to_status, **values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(obj, ["status"])
        raise LedgerError(f"{model.__name__.lower()} {obj.id} is {obj.status}, not {from_status}")
    for name, value in {"status": to_status, **values}.items():
        set_committed_value(obj, name, value)


@contextmanager
def _paying(model, obj, from_status, paid_at):
    """Move obj to PAID for the block; back to `from_status` if the block raises LedgerError (nothing written)."""
    move_status(model, obj, from_status, "PAID", paid_at=paid_at)
    try:
        yield
    except LedgerError:
        move_status(model, obj, "PAID", from_status, paid_at=None)
        raise


def record_order_paid(order, *, cleared_at, created_by=None):
    """Mark a PENDING contribution or added-funds order PAID and write its ledger group."""
    host = db.session.get(Account, order.to_account_id).host
    collective, contributor = order.to_account, order.from_account
    kind = LedgerKind(order.kind)
    entries = [
        Entry(collective, contributor, order.amount, kind),
        Entry(contributor, collective, -order.amount, kind),
    ]
    fee = host_fee_of(order.amount, order.host_fee_bps)
    if fee:
        host_account = host_account_of(host)
        entries += [
            Entry(host_account, collective, fee, LedgerKind.HOST_FEE),
            Entry(collective, host_account, -fee, LedgerKind.HOST_FEE),
        ]
    with _paying(Order, order, OrderStatus.PENDING.value, paid_at=cleared_at or utcnow()):
        return record_group(host, entries, currency=order.currency, cleared_at=cleared_at,
                            description=order.description, created_by=created_by, order=order)


def record_expense_paid(expense, *, cleared_at, created_by=None):
    """Mark an APPROVED expense PAID and write its ledger group."""
    host = expense.collective.host
    entries = [
        Entry(expense.collective, expense.payee, -expense.amount, LedgerKind.EXPENSE),
        Entry(expense.payee, expense.collective, expense.amount, LedgerKind.EXPENSE),
    ]
    with _paying(Expense, expense, ExpenseStatus.APPROVED.value, paid_at=cleared_at or utcnow()):
        return record_group(host, entries, currency=expense.currency, cleared_at=cleared_at,
                            description=expense.description, created_by=created_by, expense=expense)


def reverse_group(host, group_id, *, reason, cleared_at=None, created_by=None, correction=None):
    """Record a refund group that cancels every row of `group_id`; return the new rows.

    Without `cleared_at` the reversal is dated like the original, or now if that month is closed.
    """
    if not reason or not reason.strip():
        raise LedgerError("a reversal needs a reason")
    originals = db.session.scalars(
        select(LedgerTransaction)
        .where(LedgerTransaction.host_id == host.id, LedgerTransaction.group_id == group_id)
        .order_by(LedgerTransaction.id)
    ).all()
    if not originals:
        raise LedgerError(f"no ledger group {group_id} for this host")
    if any(row.is_refund for row in originals):
        raise LedgerError("a reversal cannot itself be reversed; record a new movement")
    already = db.session.scalar(
        select(func.count()).where(LedgerTransaction.refund_of_id.in_([row.id for row in originals]))
    )
    if already:
        raise LedgerError(f"ledger group {group_id} was already reversed")
    accounts = {a.id: a for a in db.session.scalars(select(Account).where(
        Account.id.in_({r.account_id for r in originals} | {r.counterparty_id for r in originals})))}
    entries = [
        Entry(accounts[row.account_id], accounts[row.counterparty_id], -row.amount, LedgerKind(row.kind))
        for row in originals
    ]
    first = originals[0]
    from hostadmin.funds import cleared as cleared_rules
    try:
        return record_group(
            host, entries, currency=first.currency,
            cleared_at=cleared_at or cleared_rules.reversal_cleared_at(host, originals),
            description=f"Reversal: {first.description}".strip(), created_by=created_by,
            order=db.session.get(Order, first.order_id) if first.order_id else None,
            expense=db.session.get(Expense, first.expense_id) if first.expense_id else None,
            refunds=originals, reason=reason.strip(), correction=correction,
        )
    except IntegrityError:
        # refund_of_id is unique: a concurrent reversal of the same rows committed first (the
        # count above ran before it). The caller rolls back, as after any LedgerError.
        raise LedgerError(f"ledger group {group_id} was already reversed") from None


def host_account_of(host):
    """The host's own account (receives host fees)."""
    account = db.session.scalar(select(Account).where(
        Account.host_id == host.id, Account.kind == "HOST"))
    if account is None:
        raise LedgerError(f"host {host.slug} has no host account")
    return account


def balances(host, account_ids=None):
    """{account_id: balance in host-currency minor units} for the host's accounts.

    Summed as two sums of bounded parts (see sum_parts), so no SUM overflows 64 bits,
    even over rows written before amounts were bounded: SQLite's SUM of integers raises
    on overflow, and a balance that cannot be read would break the dashboard for good.
    """
    query = (select(LedgerTransaction.account_id, *sum_parts(LedgerTransaction.amount_in_host_currency))
             .where(LedgerTransaction.host_id == host.id)
             .group_by(LedgerTransaction.account_id))
    if account_ids is not None:
        query = query.where(LedgerTransaction.account_id.in_(account_ids))
    totals = defaultdict(int)
    for account_id, high, low in db.session.execute(query):
        totals[account_id] = int(high) * _PART + int(low)
    return totals


# amount = (amount // _PART) * _PART + amount % _PART: SQL integer division truncates and % keeps
# the dividend's sign, on both databases, so the recombination is exact for negative amounts too.
# Each part's magnitude is below 2**63 / 10**9, so a billion rows' sum of either part fits a BIGINT.
_PART = 10**9


def sum_parts(column):
    """SUM of the high and the low part of an integer column: their recombination is the exact sum."""
    return func.sum(column // _PART), func.sum(column % _PART)


def joined_parts(high, low):
    """The exact sum from the two parts sum_parts() gave."""
    return int(high or 0) * _PART + int(low or 0)


def unbalanced_groups(session=None):
    """Group ids whose rows do not sum to zero (should always be empty)."""
    session = session or db.session
    unbalanced = []
    for column, keys in ((LedgerTransaction.amount, (LedgerTransaction.currency,)),
                         (LedgerTransaction.amount_in_host_currency, ())):
        high, low = sum_parts(column)
        # A balanced group has both parts zero, or parts that cancel (checked exactly here).
        unbalanced += [group_id for group_id, high, low in session.execute(
            select(LedgerTransaction.group_id, high, low).group_by(LedgerTransaction.group_id, *keys)
            .having(or_(high != 0, low != 0)))
            if int(high) * _PART + int(low) != 0]
    return list(dict.fromkeys(unbalanced))  # a group off in both sums is named once



# --------------------------------------------------------------------------- added funds with fees

def processor_account_of(host):
    """The host's payment-processor account (receives processor fees), created on first use."""
    from hostadmin.ledger.accounts import create_account
    account = db.session.scalar(select(Account).where(
        Account.host_id == host.id, Account.kind == AccountKind.PROCESSOR.value).order_by(Account.id))
    return account or create_account(host, AccountKind.PROCESSOR, "Payment processor",
                                     slug="payment-processor")


def record_added_funds_paid(order, *, cleared_at, created_by=None):
    """Mark an ADDED_FUNDS order PAID: one group with the funds, the host fee and the processor fee pairs.

    The processor fee (minor units) is order.data["processor_fee"], so a recreated order keeps it.
    """
    if order.kind != OrderKind.ADDED_FUNDS.value:
        raise LedgerError(f"order {order.id} is not added funds")
    host = db.session.get(Host, order.host_id)
    collective, source = order.to_account, order.from_account
    host_fee = host_fee_of(order.amount, order.host_fee_bps)
    processor_fee = int((order.data or {}).get("processor_fee") or 0)
    if host_fee + processor_fee > order.amount:
        raise LedgerError("the fees are larger than the amount")
    entries = [Entry(collective, source, order.amount, LedgerKind.ADDED_FUNDS),
               Entry(source, collective, -order.amount, LedgerKind.ADDED_FUNDS)]
    if host_fee:
        host_account = host_account_of(host)
        entries += [Entry(host_account, collective, host_fee, LedgerKind.HOST_FEE),
                    Entry(collective, host_account, -host_fee, LedgerKind.HOST_FEE)]
    if processor_fee:
        processor = processor_account_of(host)
        entries += [Entry(processor, collective, processor_fee, LedgerKind.PROCESSOR_FEE),
                    Entry(collective, processor, -processor_fee, LedgerKind.PROCESSOR_FEE)]
    with _paying(Order, order, OrderStatus.PENDING.value, paid_at=cleared_at):
        return record_group(host, entries, currency=order.currency, cleared_at=cleared_at,
                            description=order.description, created_by=created_by, order=order)


# --------------------------------------------------------------------------- many reversals at once

def reverse_groups(host, group_ids, *, reason, created_by=None, correction=None):
    """Reverse many groups at once, set-based: {group_id: (reversal group id, cleared_at)} (not committed).

    The same rows reverse_group writes (each original negated, linked to it, is_refund, the reason):
    on PostgreSQL one INSERT … SELECT from the originals, elsewhere one executemany, so a batch of a
    thousand contributions costs a few statements rather than thousands. Each reversal is dated like its group unless that
    month is closed (then today); the unique refund_of_id refuses a row reversed twice.
    """
    from hostadmin.funds import cleared as cleared_rules
    if not reason or not reason.strip():
        raise LedgerError("a reversal needs a reason")
    group_ids = sorted(set(group_ids))
    row = LedgerTransaction
    groups = db.session.execute(select(
        row.group_id, func.min(row.cleared_at), func.min(row.created_at),
        func.max(case((row.is_refund, 1), else_=0)),
    ).where(row.host_id == host.id, row.group_id.in_(group_ids)).group_by(row.group_id)).all()
    if len(groups) != len(group_ids):
        raise LedgerError("no such ledger group for this host: "
                          + ", ".join(sorted(set(group_ids) - {g[0] for g in groups})))
    if any(g[3] for g in groups):
        raise LedgerError("a reversal cannot itself be reversed; record a new movement")
    reversed_already = db.session.scalar(select(row.refund_of_id).where(
        row.refund_of_id.in_(select(row.id).where(row.group_id.in_(group_ids)))).limit(1))
    if reversed_already is not None:
        raise LedgerError(f"ledger row {reversed_already} was already reversed")

    # One read of the closed months: the checks record_group makes per group, for every group at once.
    closed, done = cleared_rules.closed_months(host), {}
    today = cleared_rules.start_of_day(host, cleared_rules.today(host))
    if cleared_rules.month_of(host, today) in closed:
        raise cleared_rules.ClearedDateError(f"{cleared_rules.month_name(cleared_rules.month_of(host, today))} "
                                             "is closed: nothing can be recorded in it")
    now, reason = utcnow(), reason.strip()
    for group_id, cleared_at, created_at, _ in groups:  # a group's rows share one cleared_at
        effective = cleared_at or created_at
        done[group_id] = (str(uuid.uuid4()), today if cleared_rules.month_of(host, effective) in closed else effective)
    fields = {"reason": reason, "correction": correction.value if correction else None,
              "created_by": created_by.id if created_by else None, "now": now}
    if db.session.get_bind().dialect.name == "postgresql":
        _insert_reversals_server_side(host, done, fields)
    else:
        _insert_reversals(host, done, fields)
    return done


REVERSALS_FROM_ORIGINALS = text("""
INSERT INTO ledger_transactions (host_id, group_id, kind, type, account_id, counterparty_id, amount, currency,
    amount_in_host_currency, host_currency, description, order_id, expense_id, is_refund, refund_of_id, reason,
    correction, created_by_id, created_at, cleared_at)
SELECT o.host_id, m.new_group, o.kind, CASE WHEN o.amount < 0 THEN 'CREDIT' ELSE 'DEBIT' END,
    o.account_id, o.counterparty_id, -o.amount, o.currency, -o.amount_in_host_currency, o.host_currency,
    left(btrim('Reversal: ' || o.description), 500), o.order_id, o.expense_id, true, o.id, :reason,
    :correction, :created_by, :now, m.cleared_at
FROM unnest(CAST(:old_groups AS text[]), CAST(:new_groups AS text[]), CAST(:cleared AS timestamptz[]))
    AS m(old_group, new_group, cleared_at)
JOIN ledger_transactions o ON o.group_id = m.old_group AND o.host_id = :host
ORDER BY o.id
""")


def _insert_reversals_server_side(host, done, fields):
    """PostgreSQL: the reversal rows computed from the originals by the server, in one INSERT … SELECT."""
    old = list(done)
    db.session.execute(REVERSALS_FROM_ORIGINALS, {
        **fields, "host": host.id, "old_groups": old, "new_groups": [done[g][0] for g in old],
        "cleared": [done[g][1] for g in old]})


def _insert_reversals(host, done, fields):
    """Other databases: the same rows built here and sent as one executemany."""
    row = LedgerTransaction
    originals = db.session.execute(select(
        row.id, row.group_id, row.kind, row.account_id, row.counterparty_id, row.amount, row.currency,
        row.amount_in_host_currency, row.host_currency, row.description, row.order_id, row.expense_id,
    ).where(row.host_id == host.id, row.group_id.in_(list(done))).order_by(row.id)).all()
    values = []
    for original in originals:
        new_group, cleared_at = done[original.group_id]
        values.append({
            "host_id": host.id, "group_id": new_group, "kind": original.kind,
            "type": (EntryType.CREDIT if -original.amount > 0 else EntryType.DEBIT).value,
            "account_id": original.account_id, "counterparty_id": original.counterparty_id,
            "amount": -original.amount, "currency": original.currency,
            "amount_in_host_currency": -original.amount_in_host_currency, "host_currency": original.host_currency,
            "description": f"Reversal: {original.description}".strip()[:500], "order_id": original.order_id,
            "expense_id": original.expense_id, "is_refund": True, "refund_of_id": original.id,
            "reason": fields["reason"], "correction": fields["correction"], "created_by_id": fields["created_by"],
            "created_at": fields["now"], "cleared_at": cleared_at,
        })
    if values:
        db.session.execute(LedgerTransaction.__table__.insert(), values)
