"""Row actions: add funds, link, ignore, hold, restore, note, unlink, undo. Each commits or rolls back.

Every change to money is a conditional UPDATE whose row count decides, never a
read then a write: a link first *claims* the row (status still open, not removed,
no ledger group yet), the ledger then moves the order PENDING → PAID or the expense
APPROVED → PAID the same way, and an unlink claims the row back (still linked to
the same group) before it reverses anything. Under concurrency the second claimant's
UPDATE matches nothing, so it stops before touching the ledger, on SQLite as on
PostgreSQL (SELECT … FOR UPDATE does nothing on SQLite).
"""
from sqlalchemy import select, update

from hostadmin.audit import service as audit
from hostadmin.audit.models import AuditEntry
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.funds import cleared as cleared_rules
from hostadmin.imports.forms import NOTE_MAX
from hostadmin.imports.models import ImportRow, RowStatus
from hostadmin.ledger import accounts as ledger_accounts
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import (
    Account, AccountKind, Expense, ExpenseStatus, Host, LedgerTransaction, Order, OrderKind, OrderStatus,
)
from hostadmin.funds.versions import STALE
from hostadmin.money import major_units
from hostadmin.text import clean_line

PENDING, LINKED, IGNORED, ON_HOLD = (s.value for s in
                                     (RowStatus.PENDING, RowStatus.LINKED, RowStatus.IGNORED, RowStatus.ON_HOLD))
OPEN = (PENDING, ON_HOLD)
# action: (new status, statuses it may come from)
TRANSITIONS = {"ignore": (IGNORED, {PENDING, ON_HOLD}), "hold": (ON_HOLD, {PENDING, IGNORED}),
               "restore": (PENDING, {IGNORED, ON_HOLD})}
STATUS_WORDS = {PENDING: "to do", LINKED: "linked", IGNORED: "ignored", ON_HOLD: "on hold"}
SUGGEST_WINDOW_DAYS = 10
# The audit actions that link a row (undo and unlink look for them).
LINK_ACTIONS = ("import_row.add_funds", "import_row.link_order", "import_row.link_expense",
                "import_row.link_payout")
# What the accounts table holds: longer input is refused with a message rather than failing the INSERT.
NAME_MAX, EMAIL_MAX = Account.__table__.c.name.type.length, Account.__table__.c.email.type.length


class TriageError(ValueError):
    """An action that cannot be done on this row; nothing was written. The message says why."""


def cleared_at_of(row):
    """The bank date of `row` at 00:00 in the host's time zone (the ledger's cleared_at), as UTC."""
    return cleared_rules.start_of_day(db.session.get(Host, row.host_id), row.date)


def snapshot(row):
    """The triage-relevant fields of a row, for audit before/after."""
    return {"status": row.status, "note": row.note, "collective_id": row.collective_id,
            "order_id": row.order_id, "expense_id": row.expense_id, "ledger_group_id": row.ledger_group_id}


# --------------------------------------------------------------------------- status and note

def change_status(host, user, row, action):
    """Ignore, hold or restore a row that has no link."""
    target, allowed = TRANSITIONS[action]
    before = snapshot(row)
    if row.status == LINKED:
        raise TriageError("This row is linked: unlink it first.")
    if row.removed_at is not None:
        raise TriageError("The bank removed this row: there is nothing to triage.")
    if row.status not in allowed:
        raise TriageError(f"This row is already {STATUS_WORDS[row.status]}.")
    # Conditional on the status we read, so a concurrent change is not silently overwritten.
    update_or_refuse(row, {"status": row.status, "removed_at": None}, {"status": target})
    audit.record(host, user, f"import_row.{action}", row, before=before, after=snapshot(row))
    db.session.commit()
    return row


def set_note(host, user, row, note, seen_version=None):
    """Replace the row's note (blank removes it).

    `seen_version` is the row's version on the page the note was typed on: if anyone changed the row since
    (another admin's note, a link, an ignore), the save is refused and the row shown as it is now, so two
    admins never silently overwrite each other's note. None (a caller that showed no version) checks nothing.
    """
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise TriageError(f"A note can be at most {NOTE_MAX:,} characters (this one has {len(note):,}).")
    before = snapshot(row)
    expected = {"version": seen_version} if seen_version is not None else {}
    try:
        update_or_refuse(row, expected, {"note": note or None})
    except TriageError:
        raise TriageError(f"This row was {STALE}: it is shown as it is now, with its current note. "
                          "Your text was not saved; it is still in the box: save again to replace the note.") from None
    audit.record(host, user, "import_row.note", row, before=before, after=snapshot(row))
    db.session.commit()
    return row


def mark_reviewed(host, user, row):
    """Clear the "changed by the bank" flag after the admin has looked at it."""
    if not row.needs_review:
        raise TriageError("This row has nothing to review.")
    row.needs_review = False
    row.updated_at = utcnow()
    audit.record(host, user, "import_row.review", row, data={"reason": row.review_reason})
    db.session.commit()
    return row


# --------------------------------------------------------------------------- linking

def add_funds(host, user, row, *, collective, contributor=None, new_contributor=None, description=""):
    """Create an ADDED_FUNDS order from a deposit, pay it (cleared at the bank date), link the row."""
    check_linkable(row)
    if row.amount <= 0:
        raise TriageError("Only money coming in can be added as funds.")
    if collective is None or collective.host_id != host.id or collective.kind != AccountKind.COLLECTIVE.value:
        raise TriageError("Choose the collective that receives the money.")
    if contributor is None and not (new_contributor and new_contributor.get("name", "").strip()):
        raise TriageError("Choose a contributor or give a new contributor's name.")
    if contributor is None:
        _check_new_contributor(new_contributor)
    before = snapshot(row)
    try:
        claim(row)
        if contributor is None:
            contributor = ledger_accounts.create_account(
                host, AccountKind.CONTRIBUTOR, new_contributor["name"].strip(),
                email=(new_contributor.get("email") or "").strip() or None)
        order = ledger_accounts.create_order(
            host, contributor=contributor, collective=collective, amount=row.amount,
            kind=OrderKind.ADDED_FUNDS,
            description=clean_line(description or "").strip() or row.description,
            created_by=user, currency=row.currency)
        order.data = {"import_row_id": row.id}
        group = ledger.record_order_paid(order, cleared_at=cleared_at_of(row), created_by=user)
    except (ledger.LedgerError, ledger_accounts.ValidationError) as error:
        db.session.rollback()
        raise TriageError(str(error)) from None
    _mark_linked(row, group, order=order, collective_id=collective.id)
    audit.record(host, user, "import_row.add_funds", row, before=before, after=snapshot(row),
                 data={"order_id": order.id, "cleared_at": cleared_at_of(row).isoformat()})
    db.session.commit()
    return row


def _check_new_contributor(new):
    """Refuse a new contributor's name or email that does not fit, naming the field."""
    for key, label, limit in (("name", "name", NAME_MAX), ("email", "email", EMAIL_MAX)):
        value = (new.get(key) or "").strip()
        if len(value) > limit:
            raise TriageError(f"The new contributor's {label} can be at most {limit:,} characters "
                              f"(this one has {len(value):,}).")


def link_order(host, user, row, order_id):
    """Mark an expected contribution paid by this deposit and link the row to it."""
    check_linkable(row)
    order = _pending_order(host, order_id)
    check_match(row, order.amount, order.currency, incoming=True, what=f"order #{order.id}")
    return _pay_and_link(host, user, row, lambda **when: ledger.record_order_paid(order, **when),
                         lambda: _pending_order(host, order_id),
                         "import_row.link_order", {"order_id": order.id},
                         order=order, collective_id=order.to_account_id)


def link_expense(host, user, row, expense_id):
    """Mark an approved expense paid by this withdrawal and link the row to it."""
    check_linkable(row)
    expense = _approved_expense(host, expense_id)
    check_match(row, expense.amount, expense.currency, incoming=False, what=f"expense #{expense.id}")
    return _pay_and_link(host, user, row, lambda **when: ledger.record_expense_paid(expense, **when),
                         lambda: _approved_expense(host, expense_id),
                         "import_row.link_expense", {"expense_id": expense.id},
                         expense=expense, collective_id=expense.collective_id)


def _pending_order(host, order_id):
    order = db.session.scalars(select(Order).where(Order.id == order_id, Order.host_id == host.id)
                               .execution_options(populate_existing=True)).first()
    if order is None:
        raise TriageError(f"There is no order #{order_id} on this host.")
    if order.status != OrderStatus.PENDING.value:
        raise TriageError(f"Order #{order.id} is {order.status.lower()}, not expected any more.")
    return order


def _approved_expense(host, expense_id):
    expense = db.session.scalars(select(Expense).where(Expense.id == expense_id, Expense.host_id == host.id)
                                 .execution_options(populate_existing=True)).first()
    if expense is None:
        raise TriageError(f"There is no expense #{expense_id} on this host.")
    if expense.status != ExpenseStatus.APPROVED.value:
        raise TriageError(f"Expense #{expense.id} is {expense.status.lower()}, not waiting for payment.")
    return expense


def _pay_and_link(host, user, row, pay, recheck, action, data, **link):
    """Claim the row, pay (`pay(cleared_at=, created_by=)` writes the ledger group), link, audit, commit.

    The status checks before are for the message; the conditional UPDATEs inside
    `claim` and `pay` decide. When `pay` finds the target taken meanwhile,
    `recheck()` reads it again to say why, in the same words as before.
    """
    before = snapshot(row)
    try:
        claim(row)
        group = pay(cleared_at=cleared_at_of(row), created_by=user)
    except ledger.LedgerError as error:
        db.session.rollback()
        recheck()
        raise TriageError(str(error)) from None
    _mark_linked(row, group, **link)
    audit.record(host, user, action, row, before=before, after=snapshot(row),
                 data={**data, "cleared_at": cleared_at_of(row).isoformat()})
    db.session.commit()
    return row


def suggestions(host, row, limit=8):
    """Pending orders (money in) or approved expenses (money out) that could match the row.

    Same amount and currency within ±10 days of the bank date first (closest date on
    top), then the same amount at any date.
    """
    if row.amount > 0:
        model, status, amount = Order, OrderStatus.PENDING.value, row.amount
    else:
        model, status, amount = Expense, ExpenseStatus.APPROVED.value, -row.amount
    candidates = db.session.scalars(select(model).where(
        model.host_id == host.id, model.status == status, model.amount == amount,
        model.currency == row.currency).limit(200)).all()

    def distance(candidate):
        return abs((candidate.created_at.date() - row.date).days)
    ranked = sorted(candidates, key=lambda c: (distance(c) > SUGGEST_WINDOW_DAYS, distance(c), c.id))
    return [{"object": c, "days": distance(c), "close": distance(c) <= SUGGEST_WINDOW_DAYS}
            for c in ranked[:limit]]


def check_linkable(row):
    if row.removed_at is not None:
        raise TriageError("The bank removed this row: it cannot be linked.")
    if row.status == LINKED or row.ledger_group_id:
        raise TriageError("This row is already linked.")
    if row.status == IGNORED:
        raise TriageError("This row is ignored: restore it first.")


def check_match(row, amount, currency, *, incoming, what):
    if incoming and row.amount <= 0:
        raise TriageError(f"This row is money going out; {what} expects money in.")
    if not incoming and row.amount >= 0:
        raise TriageError(f"This row is money coming in; {what} is a payment out.")
    if abs(row.amount) != amount or row.currency != currency:
        raise TriageError(f"The amounts differ: the bank line is {major_units(abs(row.amount), row.currency)} "
                          f"{row.currency}, {what} is {major_units(amount, currency)} {currency}.")


def claim(row):
    """Take the row for a link, or refuse if someone else did first (conditional UPDATE)."""
    result = db.session.execute(
        update(ImportRow)
        .where(ImportRow.id == row.id, ImportRow.status.in_(OPEN), ImportRow.removed_at.is_(None),
               ImportRow.ledger_group_id.is_(None))
        .values(status=LINKED, updated_at=utcnow(), version=ImportRow.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(row)
        check_linkable(row)
        raise TriageError("This row changed meanwhile; reload it and try again.")


def _mark_linked(row, group, *, order=None, expense=None, collective_id=None):
    db.session.refresh(row)
    row.status = LINKED
    row.order_id = order.id if order else None
    row.expense_id = expense.id if expense else None
    row.ledger_group_id = group[0].group_id
    row.collective_id = collective_id or row.collective_id
    row.updated_at = utcnow()


def update_or_refuse(row, expected, values):
    """UPDATE the row only if it still holds `expected`; refuse (and show it as it is now) otherwise."""
    conditions = [getattr(ImportRow, name) == value for name, value in expected.items()]
    result = db.session.execute(
        update(ImportRow).where(ImportRow.id == row.id, *conditions)
        .values(**values, updated_at=utcnow(), version=ImportRow.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(row)
        raise TriageError("This row changed meanwhile; it now shows its current state.")
    db.session.refresh(row)


# --------------------------------------------------------------------------- unlink

def unlink_preview(host, row):
    """What an unlink would reverse: the ledger rows of the link and what happens to its order/expense.

    A row linked to a processor payout has no ledger rows: unlinking it only frees the payout.
    """
    if row.status == LINKED and not row.ledger_group_id:
        from hostadmin.imports import payouts  # payouts builds on this module's checks

        payout = payouts.linked_payout(host, row)
        if payout is not None:
            return {"entries": [], "order": None, "expense": None, "order_after": None, "payout": payout}
    if row.status != LINKED or not row.ledger_group_id:
        raise TriageError("This row is not linked.")
    entries = db.session.scalars(select(LedgerTransaction).where(
        LedgerTransaction.host_id == host.id, LedgerTransaction.group_id == row.ledger_group_id)
        .order_by(LedgerTransaction.id)).all()
    order = db.session.get(Order, row.order_id) if row.order_id else None
    expense = db.session.get(Expense, row.expense_id) if row.expense_id else None
    return {"entries": entries, "order": order, "expense": expense,
            "order_after": _order_status_after_unlink(order, row) if order else None, "payout": None}


def _order_status_after_unlink(order, row):
    # Added funds made from this very row never existed apart from it: they are refunded.
    # An expected contribution goes back to PENDING so the right bank line can be linked to it.
    if (order.data or {}).get("import_row_id") == row.id:
        return OrderStatus.REFUNDED.value
    return OrderStatus.PENDING.value


def unlink(host, user, row, reason):
    """Reverse the ledger group the link wrote (never edit it) and send the row back to triage.

    The reversal is cleared at the original bank date: the link was a mistake, so
    the money and its reversal net out in the same period of every report (unless
    that month is closed: then on today's date, see funds.cleared).
    """
    reason = clean_line(reason or "").strip()
    if not reason:
        raise TriageError("Say why the link is undone (it is kept with the reversal).")
    db.session.refresh(row)
    preview = unlink_preview(host, row)
    if preview["payout"] is not None:
        from hostadmin.imports import payouts

        return payouts.unlink(host, user, row, preview["payout"], reason)
    before, group_id = snapshot(row), row.ledger_group_id
    # Claim the row back first: of two unlinks at once, the second matches no row and reverses nothing.
    result = db.session.execute(
        update(ImportRow).where(ImportRow.id == row.id, ImportRow.status == LINKED,
                                ImportRow.ledger_group_id == group_id)
        .values(status=PENDING, order_id=None, expense_id=None, ledger_group_id=None, updated_at=utcnow(),
                collective_id=collective_before_link(host, row), version=ImportRow.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(row)
        unlink_preview(host, row)
        raise TriageError("This row changed meanwhile; it now shows its current state.")
    try:
        # No cleared_at: the reversal is dated like the original unless that month is closed (funds.cleared).
        reversal = ledger.reverse_group(host, group_id, reason=f"Unlinked bank line: {reason}",
                                        created_by=user)
        _reopen(preview)
    except ledger.LedgerError as error:
        db.session.rollback()
        raise TriageError(str(error)) from None
    db.session.refresh(row)
    audit.record(host, user, "import_row.unlink", row, before=before, after=snapshot(row),
                 data={"reason": reason, "reversal_group_id": reversal[0].group_id,
                       "order_status": preview["order_after"]})
    db.session.commit()
    return row


def collective_before_link(host, row):
    """The collective the row was assigned before its link (None if none): an unlinked row must not go on
    showing the collective of the order or expense it is no longer linked to."""
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.host_id == host.id, AuditEntry.object_id == row.id,
        AuditEntry.action.in_(LINK_ACTIONS)).order_by(AuditEntry.id.desc()).limit(1)).first()
    return (entry.before or {}).get("collective_id") if entry is not None else None


def _reopen(preview):
    """Put the unlinked order back to PENDING (or REFUNDED) and the expense to APPROVED, if still PAID."""
    targets = []
    if preview["order"] is not None:
        targets.append((Order, preview["order"], preview["order_after"]))
    if preview["expense"] is not None:
        targets.append((Expense, preview["expense"], ExpenseStatus.APPROVED.value))
    for model, target, status in targets:
        ledger.move_status(model, target, "PAID", status, paid_at=None)


# --------------------------------------------------------------------------- assignments

def set_default_collective(host, user, bank_account, collective):
    """Assign a bank account to the collective its deposits usually belong to (None clears it)."""
    if collective is not None and (collective.host_id != host.id
                                   or collective.kind != AccountKind.COLLECTIVE.value):
        raise TriageError("Choose one of the host's collectives.")
    before = {"default_collective_id": bank_account.default_collective_id}
    bank_account.default_collective_id = collective.id if collective else None
    audit.record(host, user, "bank_account.assign", bank_account, before=before,
                 after={"default_collective_id": bank_account.default_collective_id})
    db.session.commit()
    return bank_account
