"""Recording webhooks and acting on them: item status changes now, syncs through the queue.

Every verified webhook becomes a webhook_events row; refused requests are
counted, and only a few a minute per reason are kept as rows (flood.py). A verified event that needs a
sync is committed as RECEIVED *before* Redis is asked, so if Redis is down
the event waits in the database and dispatch_pending() enqueues it later.
"""
import logging
import time
from datetime import timedelta

import redis
from flask import current_app
from sqlalchemy import delete, or_, select, update

from hostadmin.banking.jobs import job_id_for, request_sync
from hostadmin.banking.models import ItemStatus, PlaidItem
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.webhooks import flood, items
from hostadmin.webhooks.models import Outcome, WebhookEvent

log = logging.getLogger("hostadmin.webhooks")


SYNC_CODES = {"SYNC_UPDATES_AVAILABLE", "DEFAULT_UPDATE", "INITIAL_UPDATE", "HISTORICAL_UPDATE"}
# Items in these states cannot sync until a person acts, or never will again.
NO_SYNC_STATUSES = {ItemStatus.DISCONNECTED.value, ItemStatus.REVOKED.value}
STALE_SKIP_STATUSES = NO_SYNC_STATUSES | {ItemStatus.LOGIN_REQUIRED.value}
# What request_sync said, as the admin page shows it (None: a new job was enqueued).
SYNC_NOTES = {"coalesced": "joined a sync that was already waiting",
              "run-again": "a sync was running; it will run once more"}
DEFAULT_STALE_HOURS = 12
DEFAULT_RETENTION_DAYS = 90
OPPORTUNISTIC_LIMIT = 20


def record_rejection(reason, detail=None, body_sha256=None):
    """Count a refused request under `reason`; store it as a row only if it is one of this minute's samples.

    Returns the stored event, or None when it was only counted. Nothing from the body is kept.
    """
    if not flood.worth_a_sample(flood.count_refusal(reason)):
        return None
    event = WebhookEvent(received_at=utcnow(), verified=False, rejection_reason=(detail or reason)[:200],
                         body_sha256=body_sha256, outcome=Outcome.REJECTED)
    db.session.add(event)
    db.session.commit()
    return event


def receive(body, body_sha256):
    """Record a verified webhook, apply what it says to its item, and dispatch its sync if any.

    Returns (event id, outcome). The event is committed before Redis is asked for anything.
    """
    webhook_type = items.identifier(body.get("webhook_type"), 50)
    webhook_code = items.identifier(body.get("webhook_code"), 50)
    plaid_item_id = items.identifier(body.get("item_id"), 100)
    item = plaid_item_id and db.session.scalar(
        select(PlaidItem).where(PlaidItem.plaid_item_id == plaid_item_id))
    event = WebhookEvent(received_at=utcnow(), verified=True, webhook_type=webhook_type,
                         webhook_code=webhook_code, plaid_item_id=plaid_item_id,
                         body_sha256=body_sha256, body=body, outcome=Outcome.IGNORED)
    db.session.add(event)
    if not item:
        event.error = "unknown item"
    else:
        event.item_id, event.host_id = item.id, item.host_id
        _act(event, item, webhook_type, webhook_code, body)
    _commit_keeping_objects()
    outcome = event.outcome
    if outcome == Outcome.RECEIVED:
        outcome = dispatch(event, item)
        if outcome != Outcome.RECEIVED and _waiting_events_worth_a_look():
            dispatch_pending(limit=OPPORTUNISTIC_LIMIT)
    return event.id, outcome


def _commit_keeping_objects():
    # The acknowledgement path reads the event and item again only for their ids and what it just
    # set; expiring them would cost a SELECT each on a path that must answer in milliseconds.
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


class _Hint:
    """Per process: when to look for events left waiting (right after a failure here, else every few seconds)."""

    queue_failed = False
    checked_at = 0.0
    interval = 5.0


def _waiting_events_worth_a_look():
    now = time.monotonic()
    if _Hint.queue_failed or now - _Hint.checked_at > _Hint.interval:
        _Hint.queue_failed, _Hint.checked_at = False, now
        return True
    return False


def _act(event, item, webhook_type, code, body):
    """Decide the event's outcome and make the item changes it calls for (not committed)."""
    if item.status == ItemStatus.DISCONNECTED.value:
        event.error = "item is disconnected"
        return
    if webhook_type == "TRANSACTIONS" and code in SYNC_CODES:
        if item.status in NO_SYNC_STATUSES:
            event.error = f"item is {item.status}"
            return
        event.outcome = Outcome.RECEIVED
        return
    if webhook_type != "ITEM":
        event.error = "unhandled webhook code" if webhook_type == "TRANSACTIONS" else "unhandled webhook type"
        return
    handler = items.HANDLERS.get(code)
    if handler is None:
        event.error = "recorded only" if code == "WEBHOOK_UPDATE_ACKNOWLEDGED" else "unhandled webhook code"
        return
    if item.status == ItemStatus.REVOKED.value and code != "USER_PERMISSION_REVOKED":
        # Only relinking (update mode) brings a revoked item back; a late webhook must not.
        event.error = "item is REVOKED"
        return
    handler(event, item, body)


def dispatch(event, item=None):
    """Ask for the sync a RECEIVED event calls for; returns the event's outcome (RECEIVED if Redis is down)."""
    item = item or db.session.get(PlaidItem, event.item_id)
    if item is None or item.status in NO_SYNC_STATUSES:
        _finish(event.id, Outcome.IGNORED, error=f"item is {item.status if item else 'gone'}")
        return Outcome.IGNORED
    try:
        result = request_sync(item, trigger="webhook")
    except redis.RedisError as exc:
        _Hint.queue_failed = True
        log.warning("webhook event %s kept for later dispatch: queue unavailable (%s)", event.id, exc)
        db.session.execute(update(WebhookEvent).where(WebhookEvent.id == event.id)
                           .values(error="queue unavailable; will be dispatched when it is back"))
        db.session.commit()
        return Outcome.RECEIVED
    _finish(event.id, Outcome.DISPATCHED, job_id=job_id_for(item.id), error=SYNC_NOTES.get(result))
    return Outcome.DISPATCHED


def _finish(event_id, outcome, job_id=None, error=None):
    # Conditional: when two dispatchers race for one event, the first one's record stands.
    db.session.execute(update(WebhookEvent)
                       .where(WebhookEvent.id == event_id, WebhookEvent.outcome == Outcome.RECEIVED)
                       .values(outcome=outcome, job_id=job_id, error=error, dispatched_at=utcnow()))
    _commit_keeping_objects()


def dispatch_pending(limit=None):
    """Dispatch verified events that never got a job (Redis was down); returns how many were dispatched."""
    query = (select(WebhookEvent, PlaidItem).outerjoin(PlaidItem, PlaidItem.id == WebhookEvent.item_id)
             .where(WebhookEvent.outcome == Outcome.RECEIVED).order_by(WebhookEvent.id))
    pending = db.session.execute(query.limit(limit) if limit else query).all()
    done = 0
    for event, item in pending:
        if dispatch(event, item) == Outcome.RECEIVED:
            break  # the queue is still down; the next webhook or the periodic job tries again
        done += 1
    return done


def sync_stale_items(max_age=None):
    """Request a sync of every syncable item whose last successful sync is older than `max_age`."""
    hours = current_app.config.get("SYNC_STALE_AFTER_HOURS", DEFAULT_STALE_HOURS)
    cutoff = utcnow() - (max_age or timedelta(hours=hours))
    items = db.session.scalars(
        select(PlaidItem)
        .where(PlaidItem.status.not_in(STALE_SKIP_STATUSES),
               or_(PlaidItem.last_synced_at.is_(None), PlaidItem.last_synced_at < cutoff))
        .order_by(PlaidItem.id)).all()
    results = {item.id: request_sync(item, trigger="schedule") for item in items}
    db.session.commit()
    return results


def prune(retention=None):
    """Delete events older than the retention (WEBHOOK_EVENT_RETENTION_DAYS); returns how many."""
    days = current_app.config.get("WEBHOOK_EVENT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    cutoff = utcnow() - (retention or timedelta(days=days))
    # RECEIVED events are never pruned: they still owe a sync.
    result = db.session.execute(delete(WebhookEvent).where(WebhookEvent.received_at < cutoff,
                                                           WebhookEvent.outcome != Outcome.RECEIVED))
    db.session.commit()
    return result.rowcount


def run_safety_net():
    """The periodic job's work: dispatch waiting events, sync quiet items, prune old events."""
    dispatched = dispatch_pending()
    from hostadmin.processors import service as processors  # their events wait the same way
    dispatched += processors.dispatch_pending()
    stale = sync_stale_items()
    pruned = prune()
    log.info("safety net: %s events dispatched, %s stale items asked to sync, %s old events pruned",
             dispatched, len(stale), pruned)
    return {"dispatched": dispatched, "stale_items": sorted(stale), "pruned": pruned}
