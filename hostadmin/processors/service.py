"""Processor webhooks: stored once per event id at the edge, applied to the ledger by a job.

receive() runs in the request: it stores the verified event (a redelivery only bumps a counter) and
asks for its job. apply_event() runs in the job: the processor's module turns the event into domain
events, apply.py writes them, and events that were waiting for this one's money are applied after it.
"""
import logging

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hostadmin.clock import utcnow
from hostadmin.extensions import db, queues
from hostadmin.funds.records import RecordError
from hostadmin.jobs import process_gone
from hostadmin.ledger.accounts import ValidationError
from hostadmin.ledger.models import Host
from hostadmin.ledger.service import LedgerError
from hostadmin.processors import apply, connections, events as domain
from hostadmin.processors.models import EventStatus, ProcessorEvent
from hostadmin.processors.timestamps import AbsurdTimestamp
from hostadmin.processors.verification import InvalidBody
from hostadmin.text import clean_line

log = logging.getLogger("hostadmin.processors")
REFUSALS = (LedgerError, ValidationError, RecordError, AbsurdTimestamp, InvalidBody)


def job_id_for(event_id):
    """The deterministic RQ job id of a stored event's application."""
    return f"processor-event-{event_id}"


def receive(host, processor, event_id, event_type, body, body_sha256):
    """Store a verified event once; returns (event, is_redelivery). Its job is asked for after commit."""
    event = ProcessorEvent(host_id=host.id, processor=processor, event_id=clean_line(event_id, 255),
                           event_type=clean_line(event_type, 100), body=body, body_sha256=body_sha256,
                           status=EventStatus.RECEIVED, received_at=utcnow())
    db.session.add(event)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(select(ProcessorEvent).where(
            ProcessorEvent.host_id == host.id, ProcessorEvent.processor == processor,
            ProcessorEvent.event_id == event.event_id))
        db.session.execute(update(ProcessorEvent).where(ProcessorEvent.id == existing.id)
                           .values(redeliveries=ProcessorEvent.redeliveries + 1))
        db.session.commit()
        if existing.status == EventStatus.RECEIVED and not job_alive(existing):
            dispatch(existing)  # the first delivery's job never ran or died: this one gets it applied
        return existing, True
    dispatch(event)
    return event, False


def dispatch(event):
    """Enqueue the event's job; with Redis down it stays RECEIVED for dispatch_pending()."""
    from hostadmin.jobs import enqueue
    from hostadmin.processors.jobs import apply_event_job

    try:
        enqueue(apply_event_job, event.id, job_id=job_id_for(event.id))
    except redis.RedisError as exc:
        log.warning("processor event %s kept for later: queue unavailable (%s)", event.id, exc)
        return False
    db.session.execute(update(ProcessorEvent).where(ProcessorEvent.id == event.id)
                       .values(job_id=job_id_for(event.id)))
    db.session.commit()
    return True


def dispatch_pending():
    """Enqueue every event still RECEIVED whose job was never asked for (Redis was down) or died (an
    unforeseen error failed it, or its worker was killed); returns how many."""
    pending = db.session.scalars(select(ProcessorEvent).where(ProcessorEvent.status == EventStatus.RECEIVED)
                                 .order_by(ProcessorEvent.id)).all()
    done = 0
    for event in pending:
        if job_alive(event):
            continue
        if not dispatch(event):
            break
        done += 1
    return done


def job_alive(event):
    """True while the event's job may still run: queued, or started by a process that lives.

    A job that failed, was stopped, vanished from Redis or whose process was killed will never apply the
    event. With Redis unreachable the answer is True: nothing can be enqueued then anyway.
    """
    if event.job_id is None:
        return False
    try:
        job = Job.fetch(event.job_id, connection=queues.connection)
        status = job.get_status(refresh=False)
    except NoSuchJobError:
        return False
    except redis.RedisError:
        return True
    if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.FINISHED):
        return False
    return not (status == JobStatus.STARTED and process_gone(job))


def apply_event(event_id, fetch_fee=None, find_parent=None):
    """Apply one stored event (idempotent: only a RECEIVED or WAITING event is applied), then its waiters.

    `fetch_fee(connection, event)` may return the event with its fee filled in (Stripe's API);
    `find_parent(host, connection, ref)` may find what a waiting event waits for (Wise's API), applying it,
    or return why it still waits.
    """
    event = db.session.get(ProcessorEvent, event_id)
    if event is None or event.status not in (EventStatus.RECEIVED, EventStatus.WAITING):
        return event.status if event else None
    host = db.session.get(Host, event.host_id)
    connection = connections.connection_of(host, event.processor)
    if connection is None:
        return _finish(event, EventStatus.FAILED, f"{event.processor} is no longer connected to this host")
    body = event.body
    if fetch_fee is not None:
        body = fetch_fee(connection, body)
    try:
        items = translate(event, body, connection)
        results = [_apply_one(host, event.processor, item) for item in items]
    except apply.WaitForParent as waiting:
        db.session.rollback()
        event = db.session.get(ProcessorEvent, event_id)
        event.parent_ref = clean_line(waiting.ref, 255)
        _finish(event, EventStatus.WAITING, f"waiting for {waiting.ref}")
        # find_parent may find what it waits for and apply it (its status is read back), or say why not.
        why = find_parent(host, connection, waiting.ref) if find_parent else None
        db.session.refresh(event)
        if why and event.status == EventStatus.WAITING:
            return _finish(event, EventStatus.WAITING, clean_line(f"waiting for {waiting.ref}: {why}", 1000))
        return event.status
    except REFUSALS as error:
        db.session.rollback()
        return _finish(db.session.get(ProcessorEvent, event_id), EventStatus.FAILED, str(error))
    recorded_only = all(isinstance(result, str) and result.startswith("recorded only") for result in results)
    status = _finish(event, EventStatus.IGNORED if recorded_only else EventStatus.APPLIED, "; ".join(results))
    refs = set(_refs(items))
    for waiting in db.session.scalars(select(ProcessorEvent.id).where(
            ProcessorEvent.host_id == host.id, ProcessorEvent.processor == event.processor,
            ProcessorEvent.status == EventStatus.WAITING, ProcessorEvent.parent_ref.in_(refs))
            .order_by(ProcessorEvent.id)).all() if refs else []:
        apply_event(waiting)
    return status


def translate(event, body, connection):
    """The domain events of a stored event, by its processor's module."""
    from hostadmin.processors import paypal, stripe, wise
    now = utcnow()
    if event.processor == "stripe":
        return stripe.translate(body, connection.cleared_field, now)
    if event.processor == "wise":
        return wise.translate(body, connection.cleared_field, now)
    if event.processor == "paypal":
        return paypal.translate(body, connection.cleared_field, now)
    raise InvalidBody(f"no reader for {event.processor} events")


def _apply_one(host, processor, item):
    if isinstance(item, domain.ContributionPaid):
        return apply.contribution_paid(host, processor, item)
    if isinstance(item, domain.FeeCharged):
        return apply.fee_charged(host, processor, item.ref, item.fee)
    if isinstance(item, domain.Refunded):
        return apply.refunded(host, processor, item)
    if isinstance(item, domain.ExpensePaid):
        return apply.expense_paid(host, processor, item)
    if isinstance(item, domain.PayoutPaid):
        return apply.payout_paid(host, processor, item)
    if isinstance(item, domain.DisputeOpened):
        return apply.dispute_opened(host, processor, item)
    if isinstance(item, domain.DisputeClosed):
        return apply.dispute_closed(host, processor, item)
    if isinstance(item, domain.CardSpent):
        return apply.card_spent(host, processor, item)
    return f"recorded only: {item.note}"


def _refs(items):
    """What events waiting on these items wait for: a charge, a transfer, or a dispute (its close)."""
    refs = [item.ref for item in items
            if isinstance(item, (domain.ContributionPaid, domain.ExpensePaid)) and item.ref]
    return refs + [item.dispute_id for item in items if isinstance(item, domain.DisputeOpened)]


def set_wise_transfer(host, user, expense_id, transfer_id):
    """Record which Wise transfer pays an expense (committed), then apply the events that waited for it.

    Refused (RecordError) unless the expense is the host's, not yet paid, and has no transfer id yet, and
    the transfer id is digits that no other expense of the host has.
    """
    from hostadmin.audit import service as audit
    from hostadmin.ledger.models import Expense, ExpenseStatus

    transfer_id = (transfer_id or "").strip()
    if not (transfer_id.isascii() and transfer_id.isdigit()) or len(transfer_id) > 30:
        raise RecordError("a Wise transfer id is a number (Wise → the transfer → its reference number)")
    transfer_id = str(int(transfer_id))
    expense = db.session.get(Expense, expense_id) if expense_id else None
    if expense is None or expense.host_id != host.id:
        raise RecordError("no such expense for this host")
    if expense.status not in (ExpenseStatus.APPROVED.value, ExpenseStatus.PENDING.value):
        raise RecordError(f"expense #{expense.id} is {expense.status.lower()}: only an expense to be paid can "
                          f"get a Wise transfer")
    if expense.wise_transfer_id:
        raise RecordError(f"expense #{expense.id} is already paid by Wise transfer {expense.wise_transfer_id}")
    try:
        claimed = db.session.execute(update(Expense).where(
            Expense.id == expense.id, Expense.wise_transfer_id.is_(None)).values(wise_transfer_id=transfer_id)
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            raise RecordError(f"expense #{expense.id} got a Wise transfer meanwhile")
        audit.record(host, user, "expense.wise_transfer", expense, data={"wise_transfer_id": transfer_id})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise RecordError(f"Wise transfer {transfer_id} already pays another expense of this host") from None
    except RecordError:
        db.session.rollback()
        raise
    waiting = db.session.scalars(select(ProcessorEvent.id).where(
        ProcessorEvent.host_id == host.id, ProcessorEvent.processor == "wise",
        ProcessorEvent.status == EventStatus.WAITING, ProcessorEvent.parent_ref == transfer_id)
        .order_by(ProcessorEvent.id)).all()
    return [apply_event(event_id) for event_id in waiting]


def _finish(event, status, note):
    event.status, event.error = status, (note or None)
    if status in (EventStatus.APPLIED, EventStatus.IGNORED):
        event.applied_at = utcnow()
    db.session.commit()
    return status
