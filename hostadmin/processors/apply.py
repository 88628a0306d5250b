"""Domain events into the ledger, through the ledger and funds services only (not committed here).

Each function either writes what the event means, finds it already written (a second delivery of the
same money under another event id), or raises WaitForParent / a LedgerError that the caller records.
The database decides races: payments are unique per (host, processor, ref), and refund totals and fees
move by conditional UPDATEs.
"""
import json

from sqlalchemy import select, update

from hostadmin.extensions import db
from hostadmin.funds import cleared, records
from hostadmin.imports.models import ImportRow, TransactionsImport
from hostadmin.ledger import accounts as ledger_accounts
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import (
    Account, AccountKind, LedgerKind, LedgerTransaction, Order, OrderKind, OrderStatus,
)
from hostadmin.processors.models import ProcessorPayment
from hostadmin.text import clean_line

IMPORT_NAMES = {"stripe": "Stripe", "paypal": "PayPal", "wise": "Wise"}
CONTRIBUTOR = {"stripe": "Stripe contributor", "paypal": "PayPal contributor", "wise": "Wise contributor"}


class WaitForParent(Exception):
    """The event is about money this app has not seen yet; it waits for `ref`."""

    def __init__(self, ref):
        super().__init__(f"waiting for {ref}")
        self.ref = ref


def payment_of(host, processor, ref):
    """The stored payment `ref` of the host's processor, or None."""
    return db.session.scalar(select(ProcessorPayment).where(
        ProcessorPayment.host_id == host.id, ProcessorPayment.processor == processor, ProcessorPayment.ref == ref))


def contribution_paid(host, processor, paid):
    """A PAID contribution (and its processor-fee group) or, for an unknown collective, a row for triage."""
    existing = payment_of(host, processor, paid.ref)
    if existing is not None:
        if paid.fee is not None and existing.fee is None:
            return fee_charged(host, processor, paid.ref, paid.fee)
        return "already recorded"
    collective = _collective(host, paid.collective_slug)
    payment = ProcessorPayment(host_id=host.id, processor=processor, ref=paid.ref, amount=paid.amount,
                               currency=paid.currency, raw_timestamps=paid.raw_timestamps,
                               cleared_field=paid.cleared_field, cleared_at=paid.cleared_at, fee=paid.fee)
    if collective is None:
        payment.kind = "TRIAGE"
        payment.import_row_id = _triage_row(host, processor, paid, paid.amount).id
        db.session.add(payment)
        db.session.flush()
        return "waiting in triage"
    contributor = records.party(host, AccountKind.CONTRIBUTOR, paid.contributor_name or CONTRIBUTOR[processor],
                                field_name="contributor")
    order = ledger_accounts.create_order(host, contributor=contributor, collective=collective, amount=paid.amount,
                                         kind=OrderKind.CONTRIBUTION, description=paid.description,
                                         currency=paid.currency)
    order.data = {"processor": processor, "processor_ref": paid.ref}
    group = ledger.record_order_paid(order, cleared_at=paid.cleared_at)
    order.data = {**order.data, "group_id": group[0].group_id}
    payment.kind, payment.order_id, payment.group_id = "CONTRIBUTION", order.id, group[0].group_id
    if paid.fee:
        payment.fee_group_id = _fee_group(host, order, collective, paid.fee, paid.cleared_at)
    db.session.add(payment)
    db.session.flush()  # the unique (host, processor, ref) refuses a second payment here
    return "recorded"


def fee_charged(host, processor, ref, fee):
    """The processor fee of `ref` as a processor-fee pair, once (a fee already known is left alone)."""
    payment = payment_of(host, processor, ref)
    if payment is None:
        raise WaitForParent(ref)
    if payment.fee is not None:
        return "fee already recorded"
    claimed = db.session.execute(update(ProcessorPayment).where(
        ProcessorPayment.id == payment.id, ProcessorPayment.fee.is_(None)).values(fee=fee)
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        return "fee already recorded"
    payment.fee = fee
    if payment.kind != "CONTRIBUTION" or not fee:
        return "fee noted"
    order = db.session.get(Order, payment.order_id)
    group_id = _fee_group(host, order, order.to_account, fee, _when(host, payment.cleared_at))
    db.session.execute(update(ProcessorPayment).where(ProcessorPayment.id == payment.id)
                       .values(fee_group_id=group_id).execution_options(synchronize_session=False))
    return "fee recorded"


def refunded(host, processor, refund):
    """Reverse the newly refunded part of `refund.ref`: all of it by reverse_group, a part by a new group."""
    payment = _paid_contribution(host, processor, refund.ref, "refund")
    for _ in range(3):  # a refund of its own amount (PayPal) tries again when another refund moved first
        before = payment.refunded
        total = min(before + refund.amount if refund.refunded_total is None else refund.refunded_total,
                    payment.amount)
        if total <= before:
            return "refund already recorded"
        moved = db.session.execute(update(ProcessorPayment).where(
            ProcessorPayment.id == payment.id, ProcessorPayment.refunded == before).values(refunded=total)
            .execution_options(synchronize_session=False)).rowcount
        if moved:
            break
        if refund.refunded_total is not None:
            return "refund already recorded"
        db.session.refresh(payment)
    else:
        raise ledger.LedgerError(f"refunds of {refund.ref} kept changing; the job will try again")
    order = db.session.get(Order, payment.order_id)
    reason = f"Refunded in {IMPORT_NAMES[processor]} ({refund.ref})"
    if before == 0 and total == payment.amount:
        ledger.reverse_group(host, payment.group_id, reason=reason)
    else:
        _partial_reversal(host, payment, order, total - before, reason)
    if total == payment.amount:
        ledger.move_status(Order, order, OrderStatus.PAID.value, OrderStatus.REFUNDED.value)
    return "refund recorded" if total == payment.amount else "partial refund recorded"


def _paid_contribution(host, processor, ref, what):
    """The contribution payment `ref`; it waits if unknown, and is refused if it is a row waiting in triage."""
    payment = payment_of(host, processor, ref)
    if payment is None:
        raise WaitForParent(ref)
    if payment.kind != "CONTRIBUTION":
        raise ledger.LedgerError(f"{ref} is waiting in triage (import row #{payment.import_row_id}): "
                                 f"handle its {what} there")
    return payment


def _partial_reversal(host, payment, order, part, reason):
    originals = db.session.scalars(select(LedgerTransaction).where(
        LedgerTransaction.group_id == payment.group_id).order_by(LedgerTransaction.id)).all()
    collective, contributor = order.to_account, order.from_account
    entries = [ledger.Entry(collective, contributor, -part, LedgerKind.CONTRIBUTION),
               ledger.Entry(contributor, collective, part, LedgerKind.CONTRIBUTION)]
    host_fee = ledger.host_fee_of(part, order.host_fee_bps)
    if host_fee:
        host_account = ledger.host_account_of(host)
        entries += [ledger.Entry(host_account, collective, -host_fee, LedgerKind.HOST_FEE),
                    ledger.Entry(collective, host_account, host_fee, LedgerKind.HOST_FEE)]
    ledger.record_group(host, entries, currency=order.currency,
                        cleared_at=cleared.reversal_cleared_at(host, originals),
                        description=f"Partial refund: {order.description}", order=order, reason=reason)


def _fee_group(host, order, collective, fee, cleared_at, what="Processor fee"):
    """The collective pays `fee` to the processor account (a negative fee: the processor gives it back)."""
    processor_account = ledger.processor_account_of(host)
    rows = ledger.record_group(host, [
        ledger.Entry(processor_account, collective, fee, LedgerKind.PROCESSOR_FEE),
        ledger.Entry(collective, processor_account, -fee, LedgerKind.PROCESSOR_FEE),
    ], currency=order.currency, cleared_at=cleared_at, description=f"{what}: {order.description}",
        order=order)
    return rows[0].group_id


def _collective(host, slug):
    if not slug:
        return None
    return db.session.scalar(select(Account).where(
        Account.host_id == host.id, Account.kind == AccountKind.COLLECTIVE.value, Account.slug == slug))


def _triage_row(host, processor, paid, amount):
    """A row in the host's import for this processor (money in > 0, out < 0), for triage to link or add."""
    name = IMPORT_NAMES[processor]
    imp = db.session.scalar(select(TransactionsImport).where(
        TransactionsImport.host_id == host.id, TransactionsImport.source == processor.upper(),
        TransactionsImport.name == name))
    if imp is None:
        imp = TransactionsImport(host_id=host.id, source=processor.upper(), name=name)
        db.session.add(imp)
        db.session.flush()
    why = f"collective {paid.collective_slug!r} is unknown" if paid.collective_slug else "no collective named"
    row = ImportRow(import_id=imp.id, host_id=host.id, source_id=paid.ref,
                    date=paid.cleared_at.astimezone(cleared.zone_of(host)).date(), amount=amount,
                    currency=paid.currency,
                    description=clean_line(f"{paid.description} ({paid.ref}; {why})", 500), merchant_name=name,
                    raw=json.dumps({"ref": paid.ref, "collective": paid.collective_slug,
                                    "timestamps": paid.raw_timestamps, "fee": getattr(paid, "fee", None)}))
    db.session.add(row)
    db.session.flush()
    return row


def expense_paid(host, processor, paid):
    """A transfer's state: paid marks its expense PAID, refunded reverses that, failed puts it back to approved."""
    from hostadmin.audit import service as audit
    from hostadmin.ledger.models import Expense, ExpenseStatus

    expense = _expense_of(host, processor, paid)
    if expense is None:
        if paid.state in ("paid", "refunded", "failed"):
            raise WaitForParent(paid.ref)
        return f"recorded only: state {paid.state} of a transfer no expense names"
    payment = payment_of(host, processor, paid.ref)
    audit.record(host, None, f"expense.{processor}_state", expense,
                 data={"ref": paid.ref, "state": paid.state, "timestamps": paid.raw_timestamps})
    if paid.state == "paid":
        if payment is not None and payment.group_id:
            return "already paid"
        if expense.status != ExpenseStatus.APPROVED.value:
            raise ledger.LedgerError(f"expense #{expense.id} is {expense.status.lower()}, not approved: "
                                     f"{IMPORT_NAMES[processor]} paid it anyway; check it")
        group = ledger.record_expense_paid(expense, cleared_at=paid.cleared_at)
        if payment is None:
            payment = ProcessorPayment(host_id=host.id, processor=processor, ref=paid.ref, kind="EXPENSE",
                                       amount=expense.amount, currency=expense.currency)
            db.session.add(payment)
        payment.expense_id, payment.group_id = expense.id, group[0].group_id
        payment.raw_timestamps, payment.cleared_field = paid.raw_timestamps, paid.cleared_field
        payment.cleared_at = paid.cleared_at
        db.session.flush()  # the unique (host, processor, ref) refuses a second payment here
        return "expense paid"
    if paid.state in ("refunded", "failed"):
        if payment is None or not payment.group_id:
            if paid.state == "failed":
                return f"payout failed before it was paid: the expense stays {expense.status.lower()}"
            raise WaitForParent(paid.ref)
        if payment.refunded:
            return "already reversed"
        moved = db.session.execute(update(ProcessorPayment).where(
            ProcessorPayment.id == payment.id, ProcessorPayment.refunded == 0).values(refunded=payment.amount)
            .execution_options(synchronize_session=False)).rowcount
        if not moved:
            return "already reversed"
        ledger.reverse_group(host, payment.group_id, reason=f"{IMPORT_NAMES[processor]} transfer {paid.ref} "
                                                            f"{'refunded' if paid.state == 'refunded' else 'failed'}")
        ledger.move_status(Expense, expense, ExpenseStatus.PAID.value, ExpenseStatus.APPROVED.value, paid_at=None)
        return "expense payment reversed: back to approved"
    return f"recorded only: state {paid.state} on the expense's history"


def _expense_of(host, processor, paid):
    from hostadmin.ledger.models import Expense

    if paid.expense_id is not None:
        expense = db.session.get(Expense, paid.expense_id)
        return expense if expense is not None and expense.host_id == host.id else None
    if processor == "wise":
        return db.session.scalar(select(Expense).where(Expense.host_id == host.id,
                                                       Expense.wise_transfer_id == paid.ref))
    return None


def payout_paid(host, processor, payout):
    """The processor paid its balance out to the host's bank: kept as a transfer, never as ledger rows."""
    if payment_of(host, processor, payout.ref) is not None:
        return "payout already recorded"
    db.session.add(ProcessorPayment(host_id=host.id, processor=processor, ref=payout.ref, kind="PAYOUT",
                                    amount=payout.amount, currency=payout.currency,
                                    raw_timestamps=payout.raw_timestamps, cleared_field="arrival_date",
                                    cleared_at=payout.arrival_date))
    db.session.flush()
    return "payout recorded (a transfer to the bank: no ledger rows)"


def _when(host, moment):
    """`moment`, or the start of today when its month is closed (the money is learnt of after the close)."""
    return cleared.start_of_day(host, cleared.today(host)) if cleared.is_closed(host, moment) else moment


def dispute_opened(host, processor, opened):
    """Hold the disputed amount: the collective's money moves to the processor until the dispute closes."""
    charge = _paid_contribution(host, processor, opened.ref, "dispute")
    if payment_of(host, processor, opened.dispute_id) is not None:
        return "dispute already recorded"
    if opened.amount > charge.amount or opened.currency != charge.currency:
        raise ledger.LedgerError(f"dispute {opened.dispute_id} is for more than charge {opened.ref}")
    order = db.session.get(Order, charge.order_id)
    processor_account, collective = ledger.processor_account_of(host), order.to_account
    cleared_at = _when(host, opened.opened_at)
    rows = ledger.record_group(host, [
        ledger.Entry(collective, processor_account, -opened.amount, LedgerKind.DISPUTE),
        ledger.Entry(processor_account, collective, opened.amount, LedgerKind.DISPUTE),
    ], currency=opened.currency, cleared_at=cleared_at, description=f"Disputed, held by "
                                                                    f"{IMPORT_NAMES[processor]}: {order.description}",
        order=order)
    dispute = ProcessorPayment(host_id=host.id, processor=processor, ref=opened.dispute_id, kind="DISPUTE",
                               amount=opened.amount, currency=opened.currency, order_id=order.id,
                               group_id=rows[0].group_id, raw_timestamps=opened.raw_timestamps,
                               cleared_field="dispute_created", cleared_at=cleared_at, fee=opened.fee)
    if opened.fee:
        dispute.fee_group_id = _fee_group(host, order, collective, opened.fee, cleared_at, "Dispute fee")
    db.session.add(dispute)
    db.session.flush()  # the unique (host, processor, ref) refuses a second hold of one dispute here
    return "dispute opened: the disputed amount is held" + (" and its fee recorded" if opened.fee else "")


def dispute_closed(host, processor, closed):
    """Release the hold (won) or release it and refund the disputed amount to the cardholder (lost), once."""
    dispute = payment_of(host, processor, closed.dispute_id)
    if dispute is None:
        raise WaitForParent(closed.dispute_id)
    # `refunded` marks a dispute closed: the conditional UPDATE lets one delivery of the close act.
    moved = db.session.execute(update(ProcessorPayment).where(
        ProcessorPayment.id == dispute.id, ProcessorPayment.refunded == 0).values(refunded=dispute.amount)
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        return "dispute already closed"
    closed_at = _when(host, closed.closed_at)
    ledger.reverse_group(host, dispute.group_id, reason=f"Dispute {closed.dispute_id} {closed.outcome}",
                         cleared_at=closed_at)
    fee_note = ""
    if closed.fee_total is not None and closed.fee_total != (dispute.fee or 0):
        change = closed.fee_total - (dispute.fee or 0)
        order = db.session.get(Order, dispute.order_id)
        _fee_group(host, order, order.to_account, change, closed_at,
                   "Dispute fee" if change > 0 else "Dispute fee returned")
        db.session.execute(update(ProcessorPayment).where(ProcessorPayment.id == dispute.id)
                           .values(fee=closed.fee_total).execution_options(synchronize_session=False))
        fee_note = "; its fee recorded" if change > 0 else "; its fee returned"
    if closed.outcome == "won":
        return "dispute won: the held amount is released to the collective" + fee_note
    from hostadmin.processors.events import Refunded

    refunded(host, processor, Refunded(closed.ref, None, dispute.currency, closed.raw_timestamps,
                                       refund_id=closed.dispute_id, amount=dispute.amount))
    return "dispute lost: the disputed amount is refunded to the cardholder" + fee_note


def card_spent(host, processor, spent):
    """A virtual-card purchase: an expense of the card's collective, paid when the card was charged."""
    if payment_of(host, processor, spent.ref) is not None:
        return "card purchase already recorded"
    payment = ProcessorPayment(host_id=host.id, processor=processor, ref=spent.ref, amount=spent.amount,
                               currency=spent.currency, raw_timestamps=spent.raw_timestamps,
                               cleared_field=spent.cleared_field, cleared_at=spent.cleared_at)
    collective = _collective(host, spent.collective_slug)
    if collective is None:
        payment.kind = "TRIAGE"
        payment.import_row_id = _triage_row(host, processor, spent, -spent.amount).id
        db.session.add(payment)
        db.session.flush()
        return "waiting in triage"
    payee = records.party(host, AccountKind.PAYEE, spent.merchant, field_name="payee")
    expense = ledger_accounts.create_expense(host, collective=collective, payee=payee, amount=spent.amount,
                                             description=spent.description, currency=spent.currency)
    group = ledger.record_expense_paid(expense, cleared_at=spent.cleared_at)
    payment.kind, payment.expense_id, payment.group_id = "EXPENSE", expense.id, group[0].group_id
    db.session.add(payment)
    db.session.flush()  # the unique (host, processor, ref) refuses a second purchase here
    return f"card purchase recorded as expense #{expense.id}, paid"
