"""Added funds and their corrections: add, edit (reverse and recreate), revert. Each commits or rolls back.

A correction never edits a ledger row: it writes a reversal group (every row of the
original negated, linked to the row it reverses) and, for an edit, a new order with
its own group, all in one database transaction with an audit entry and a reason.
"""
from dataclasses import dataclass

from sqlalchemy import select, update

from hostadmin.audit import service as audit
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.funds import versions as versions_module
from hostadmin.imports.models import ImportRow, RowStatus
from hostadmin.ledger import accounts as ledger_accounts
from hostadmin.ledger import service as ledger
from hostadmin.ledger.accounts import ValidationError
from hostadmin.ledger.models import (
    Account,
    AccountKind,
    Correction,
    LedgerTransaction,
    Order,
    OrderKind,
    OrderStatus,
)
from hostadmin.money import major_units
from hostadmin.text import clean_line, clean_text

DEFAULT_SOURCE = "Anonymous"
EDITABLE = ("amount", "collective", "cleared_at", "description", "contributor", "host_fee_bps", "processor_fee")


class FundsError(ValueError):
    """A money operation refused; nothing was written. The message says why."""


class Stale(FundsError):
    """The contribution changed since the page was shown (another admin saved first); nothing was written."""


@dataclass(frozen=True)
class Reverted:
    """What a revert wrote for one order."""

    order: Order
    reversal_group_id: str


def add_funds(host, user, *, collective, amount, cleared_at, description, contributor=None,
              contributor_name=None, host_fee_bps=None, processor_fee=0):
    """Record money that did not come through a bank feed: a PAID ADDED_FUNDS order and its group.

    `cleared_at` comes from funds.cleared (cleared_at_for_day for a typed date). Without a
    contributor the money comes from the host's "Anonymous" contributor.
    """
    try:
        order = _new_order(host, user, collective=collective, amount=amount, description=description,
                           contributor=contributor or _contributor(host, contributor_name),
                           host_fee_bps=host.host_fee_bps if host_fee_bps is None else host_fee_bps,
                           processor_fee=processor_fee)
        group = ledger.record_added_funds_paid(order, cleared_at=cleared_at, created_by=user)
        audit.record(host, user, "funds.add", order, after=snapshot(order, group[0].cleared_at))
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _refuse(error)
    return order


def edit_funds(host, user, order_id, *, reason, amount=None, collective=None, cleared_at=None,
               description=None, contributor=None, contributor_name=None, host_fee_bps=None,
               processor_fee=None, expected_version=None):
    """Correct added funds: reverse the original group and write the corrected order, in one transaction.

    Fields left None keep their value. The reversal is dated like the original unless its month is
    closed (then today); the corrected group keeps the original date unless a new one is given or
    the original month is closed. `expected_version` (the version the page showed) refuses a stale save.
    """
    try:
        edited = _edit(host, user, order_id, reason=reason, amount=amount, collective=collective,
                       cleared_at=cleared_at, description=description, contributor=contributor,
                       contributor_name=contributor_name, host_fee_bps=host_fee_bps,
                       processor_fee=processor_fee, expected_version=expected_version)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _refuse(error)
    return edited.corrected


@dataclass
class Edited:
    """Everything an edit wrote (not yet committed): the preview shows it, edit_funds commits it."""

    original: Order
    corrected: Order
    reversed_rows: list
    reversal_rows: list
    new_rows: list
    before: dict
    after: dict
    changed: dict


def _edit(host, user, order_id, *, reason, amount=None, collective=None, cleared_at=None, description=None,
          contributor=None, contributor_name=None, host_fee_bps=None, processor_fee=None, expected_version=None):
    """The writes of an edit inside the caller's transaction; the caller commits or rolls back."""
    reason = clean_text(reason or "", 2000).strip()
    if not reason:
        raise FundsError("say why the funds are corrected: a reason is required")
    original = _lock_paid_added_funds(host, [order_id], {order_id: expected_version})[0]
    group_id = _live_group(original)
    rows = _group_rows(group_id)
    before = snapshot(original, rows[0].cleared_at)
    if contributor is None and contributor_name is not None and clean_line(contributor_name, 200).strip() \
            and clean_line(contributor_name, 200).strip().lower() != original.from_account.name.lower():
        contributor = _contributor(host, contributor_name)
    after = {**before,
             "amount": amount if amount is not None else original.amount,
             "collective": collective.slug if collective is not None else before["collective"],
             "cleared_at": (cleared_at or rows[0].cleared_at).isoformat(),
             "description": (clean_line(description, 500).strip() if description is not None
                             else original.description),
             "contributor": contributor.name if contributor is not None else before["contributor"],
             "host_fee_bps": host_fee_bps if host_fee_bps is not None else before["host_fee_bps"],
             "processor_fee": processor_fee if processor_fee is not None else before["processor_fee"]}
    if before == after:
        raise FundsError("nothing to change: give a new amount, collective, contributor, date, description or fee")
    if cleared_at is None:
        cleared_at = rows[0].cleared_at
        if cleared.is_closed(host, cleared_at):  # the correction lands on its own date
            cleared_at = cleared.start_of_day(host, cleared.today(host))
            after["cleared_at"] = cleared_at.isoformat()
    cleared.check_recordable(host, cleared_at)
    changed = {field: [before[field], after[field]] for field in EDITABLE if before[field] != after[field]}

    reversal = ledger.reverse_group(host, group_id, reason=f"Edit: {reason}", created_by=user,
                                    correction=Correction.EDIT)
    original.status = OrderStatus.REPLACED.value
    corrected = _new_order(
        host, user, collective=collective or original.to_account, amount=after["amount"],
        description=after["description"], contributor=contributor or original.from_account,
        host_fee_bps=after["host_fee_bps"], processor_fee=after["processor_fee"],
        data={"replaces_order_id": original.id, "replaces_group_id": group_id,
              **({"import_row_id": original.data["import_row_id"]}
                 if (original.data or {}).get("import_row_id") else {})})
    group = ledger.record_added_funds_paid(corrected, cleared_at=cleared_at, created_by=user)
    corrected.data = {**corrected.data, "group_id": group[0].group_id}
    original.data = {**(original.data or {}), "replaced_by_order_id": corrected.id,
                     "replaced_by_group_id": group[0].group_id, "reversal_group_id": reversal[0].group_id}
    _move_bank_link(original, corrected, group[0].group_id)
    audit.record(host, user, "funds.edit", original, before={f: v[0] for f, v in changed.items()},
                 after={f: v[1] for f, v in changed.items()},
                 data={"reason": reason, "corrected_order_id": corrected.id,
                       "reversal_group_id": reversal[0].group_id, "new_group_id": group[0].group_id,
                       "reversal_cleared_at": reversal[0].cleared_at.isoformat()})
    db.session.flush()
    return Edited(original, corrected, rows, reversal, group, before, after, changed)


def revert_funds(host, user, order_ids, *, reason, versions=None):
    """Take back added funds: reverse each order's group, all in one transaction (all or nothing).

    `versions` ({id: version the page showed}) refuses any order changed since.
    """
    from hostadmin.funds import batch  # batch builds on this module's checks
    reason = clean_text(reason or "", 2000).strip()
    if not reason:
        raise FundsError("say why the funds are reverted: a reason is required")
    try:
        done = batch.revert_many(host, user, order_ids, reason=reason, versions=versions)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        _refuse(error)
    return done


def snapshot(order, cleared_at):
    """The editable fields of an added-funds order, for previews and the audit diff."""
    return {"amount": order.amount, "collective": order.to_account.slug, "cleared_at": cleared_at.isoformat(),
            "description": order.description, "contributor": order.from_account.name,
            "host_fee_bps": order.host_fee_bps, "processor_fee": (order.data or {}).get("processor_fee", 0),
            "currency": order.currency}


def describe(order):
    """"100.00 USD to river-fund" for messages."""
    return f"{major_units(order.amount, order.currency)} {order.currency} to {order.to_account.slug}"


# --------------------------------------------------------------------------- helpers

def _new_order(host, user, *, collective, amount, description, contributor, host_fee_bps, processor_fee,
               data=None):
    if collective is None or collective.host_id != host.id or collective.kind != AccountKind.COLLECTIVE.value:
        raise ValidationError("choose one of the host's collectives", "collective")
    description = clean_line(description or "", 500).strip()
    if not description:
        raise ValidationError("a description is required", "description")
    if not 0 <= host_fee_bps <= 10000:
        raise ValidationError("the host fee is a percentage between 0 and 100", "host_fee_percent")
    if not isinstance(processor_fee, int) or processor_fee < 0:
        raise ValidationError("the processor fee cannot be negative", "processor_fee")
    order = ledger_accounts.create_order(host, contributor=contributor, collective=collective, amount=amount,
                                         kind=OrderKind.ADDED_FUNDS, description=description, created_by=user)
    order.host_fee_bps = host_fee_bps
    order.data = {**(data or {}), **({"processor_fee": processor_fee} if processor_fee else {})}
    if ledger.host_fee_of(amount, host_fee_bps) + processor_fee > amount:
        raise ValidationError("the host fee and processor fee are larger than the amount", "processor_fee")
    return order


def _contributor(host, name):
    """The host's contributor called `name` (case-insensitively), created if new."""
    name = clean_line(name or "", 200).strip() or DEFAULT_SOURCE
    existing = db.session.scalar(select(Account).where(
        Account.host_id == host.id, Account.kind == AccountKind.CONTRIBUTOR.value,
        db.func.lower(Account.name) == name.lower()).order_by(Account.id))
    return existing or ledger_accounts.create_account(host, AccountKind.CONTRIBUTOR, name)


def _lock_paid_added_funds(host, order_ids, versions=None):
    """The orders, locked in id order, each PAID added funds of this host; refuses any other.

    `versions` ({id: version the page showed}) refuses an order changed since, before any other check,
    so a second admin hears "changed by someone else meanwhile" rather than a bare status refusal.
    """
    ids = sorted(set(order_ids))
    if not ids:
        raise FundsError("give at least one contribution id")
    # A no-op UPDATE first: on SQLite it takes the write lock before anything is read (FOR UPDATE locks
    # nothing there), so a second edit or revert of the same orders waits, then sees them reverted or changed.
    db.session.execute(update(Order).where(Order.host_id == host.id, Order.id.in_(ids))
                       .values(version=Order.version).execution_options(synchronize_session=False))
    orders = {o.id: o for o in db.session.scalars(
        select(Order).where(Order.host_id == host.id, Order.id.in_(ids)).order_by(Order.id)
        .with_for_update().execution_options(populate_existing=True))}
    for order_id in ids:
        order = orders.get(order_id)
        if order is None:
            raise FundsError(f"there is no contribution #{order_id} on host {host.slug}")
        versions_module.check(order, (versions or {}).get(order_id), f"contribution #{order_id}")
        if order.kind != OrderKind.ADDED_FUNDS.value:
            raise FundsError(f"contribution #{order_id} is not added funds")
        if order.status == OrderStatus.REPLACED.value:
            raise FundsError(f"contribution #{order_id} was replaced by "
                             f"#{(order.data or {}).get('replaced_by_order_id')}: correct that one")
        if order.status == OrderStatus.REFUNDED.value:
            raise FundsError(f"contribution #{order_id} was already reverted")
        if order.status != OrderStatus.PAID.value:
            raise FundsError(f"contribution #{order_id} is {order.status.lower()}, not received")
    return [orders[i] for i in ids]


def _live_group(order):
    """The group id of the order's ledger rows that no reversal cancels (exactly one for PAID funds)."""
    reversed_ids = select(LedgerTransaction.refund_of_id).where(LedgerTransaction.refund_of_id.is_not(None))
    groups = db.session.scalars(select(LedgerTransaction.group_id).where(
        LedgerTransaction.order_id == order.id, LedgerTransaction.is_refund.is_(False),
        LedgerTransaction.id.not_in(reversed_ids)).distinct()).all()
    if len(groups) != 1:
        raise FundsError(f"contribution #{order.id} has {len(groups)} ledger groups in force, expected one")
    return groups[0]


def _group_rows(group_id):
    return db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.group_id == group_id)
                              .order_by(LedgerTransaction.id)).all()


def _linked_row(order):
    return db.session.scalars(select(ImportRow).where(
        ImportRow.order_id == order.id, ImportRow.status == RowStatus.LINKED.value).with_for_update()).first()


def _move_bank_link(original, corrected, group_id):
    row = _linked_row(original)
    if row is not None:
        row.order_id, row.ledger_group_id, row.collective_id = corrected.id, group_id, corrected.to_account_id
        row.updated_at = utcnow()


def _refuse(error):
    """Turn a domain refusal into FundsError (the transaction is already rolled back); re-raise the rest."""
    if versions_module.is_stale(error):
        raise Stale(str(error) if isinstance(error, versions_module.StaleVersion)
                    else f"a contribution was {versions_module.STALE}: look at its current state and try again"
                    ) from error
    if isinstance(error, (FundsError, ledger.LedgerError, ValidationError)):
        raise FundsError(str(error)) from error
    raise error
