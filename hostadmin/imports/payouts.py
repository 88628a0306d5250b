"""Payouts are not income: a bank line that is a processor paying its balance out, linked as a transfer.

Stripe (`payout.paid`) tells us when it pays the host's bank; the contributions behind that money are in the
ledger already (recorded from their charges), so the bank line is linked to the payout and writes no ledger
rows: counting it again would double the income. The link is kept on the payout
(processor_payments.import_row_id); the row is LINKED without a ledger group.
"""
from datetime import timedelta

from sqlalchemy import select, update

from hostadmin.audit import service as audit
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.imports.models import ImportRow, RowStatus
from hostadmin.imports.service import (
    TriageError, check_linkable, check_match, claim, collective_before_link, snapshot,
)
from hostadmin.processors.models import ProcessorPayment

WINDOW_DAYS = 3  # a payout's arrival date and the bank's booking date differ by a weekend or a bank holiday
NAMES = {"stripe": "Stripe", "paypal": "PayPal", "wise": "Wise"}


def label(payout):
    """How a payout is named on pages: 'Stripe payout po_123'."""
    return f"{NAMES.get(payout.processor, payout.processor)} payout {payout.ref}"


def arrival_day(host, payout):
    return payout.cleared_at.astimezone(cleared.zone_of(host)).date()


def suggestions(host, row, limit=5):
    """Unlinked payouts of the row's amount arriving within WINDOW_DAYS of its date, closest first."""
    if row.amount <= 0 or row.status == RowStatus.LINKED.value:
        return []
    # A day's slack each side for the host's time zone; the exact day distance is worked out below.
    window = timedelta(days=WINDOW_DAYS + 1)
    day = cleared.start_of_day(host, row.date)
    candidates = db.session.scalars(select(ProcessorPayment).where(
        ProcessorPayment.host_id == host.id, ProcessorPayment.kind == "PAYOUT",
        ProcessorPayment.import_row_id.is_(None), ProcessorPayment.amount == row.amount,
        ProcessorPayment.currency == row.currency, ProcessorPayment.cleared_at >= day - window,
        ProcessorPayment.cleared_at < day + window + timedelta(days=1)).limit(50)).all()
    ranked = []
    for payout in candidates:
        days = abs((arrival_day(host, payout) - row.date).days)
        if days <= WINDOW_DAYS:
            ranked.append({"object": payout, "days": days, "label": label(payout),
                           "arrival": arrival_day(host, payout)})
    ranked.sort(key=lambda s: (s["days"], s["object"].id))
    return ranked[:limit]


def linked_to(rows):
    """{row id: payout} for the rows of a page that are linked to a payout (one query)."""
    ids = [row.id for row in rows if row.status == RowStatus.LINKED.value and not row.ledger_group_id]
    if not ids:
        return {}
    return {p.import_row_id: p for p in db.session.scalars(select(ProcessorPayment).where(
        ProcessorPayment.host_id.in_({row.host_id for row in rows}), ProcessorPayment.kind == "PAYOUT",
        ProcessorPayment.import_row_id.in_(ids)))}


def link(host, user, row, payout_id):
    """Link a deposit to the payout it is: no ledger rows, the row leaves triage, the payout is matched."""
    check_linkable(row)
    payout = db.session.scalar(select(ProcessorPayment).where(
        ProcessorPayment.id == payout_id, ProcessorPayment.host_id == host.id, ProcessorPayment.kind == "PAYOUT"))
    if payout is None:
        raise TriageError(f"There is no payout #{payout_id} on this host.")
    check_match(row, payout.amount, payout.currency, incoming=True, what=label(payout))
    before = snapshot(row)
    claim(row)
    # The conditional UPDATE decides when two lines race for one payout: one wins, the other is refused.
    taken = db.session.execute(update(ProcessorPayment).where(
        ProcessorPayment.id == payout.id, ProcessorPayment.import_row_id.is_(None))
        .values(import_row_id=row.id).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        db.session.rollback()
        db.session.refresh(payout)
        raise TriageError(f"{label(payout)} is already linked to bank line #{payout.import_row_id}.")
    db.session.refresh(row)
    row.order_id = row.expense_id = row.ledger_group_id = row.collective_id = None
    row.updated_at = utcnow()
    audit.record(host, user, "import_row.link_payout", row, before=before, after=snapshot(row),
                 data={"payout_id": payout.id, "processor": payout.processor, "ref": payout.ref})
    db.session.commit()
    return row


def linked_payout(host, row):
    """The payout the row is linked to, or None."""
    if row.status != RowStatus.LINKED.value or row.ledger_group_id:
        return None
    return db.session.scalar(select(ProcessorPayment).where(
        ProcessorPayment.host_id == host.id, ProcessorPayment.kind == "PAYOUT",
        ProcessorPayment.import_row_id == row.id))


def unlink(host, user, row, payout, reason):
    """Undo a payout link: the row back to "to do", the payout unmatched; no ledger rows either way."""
    before = snapshot(row)
    moved = db.session.execute(update(ImportRow).where(
        ImportRow.id == row.id, ImportRow.status == RowStatus.LINKED.value, ImportRow.ledger_group_id.is_(None))
        .values(status=RowStatus.PENDING.value, collective_id=collective_before_link(host, row), updated_at=utcnow(),
                version=ImportRow.version + 1)
        .execution_options(synchronize_session=False)).rowcount
    freed = db.session.execute(update(ProcessorPayment).where(
        ProcessorPayment.id == payout.id, ProcessorPayment.import_row_id == row.id)
        .values(import_row_id=None).execution_options(synchronize_session=False)).rowcount
    if moved != 1 or freed != 1:
        db.session.rollback()
        db.session.refresh(row)
        raise TriageError("This row changed meanwhile; it now shows its current state.")
    db.session.refresh(row)
    audit.record(host, user, "import_row.unlink", row, before=before, after=snapshot(row),
                 data={"reason": reason, "payout_id": payout.id, "ref": payout.ref})
    db.session.commit()
    return row
