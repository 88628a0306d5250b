"""POST /webhooks/<processor>/<host-slug>: verified on the raw bytes, stored once, acknowledged at once.

Refusals go through the Plaid endpoint's machinery: counted per reason in Redis, a few a minute kept as
rows, and a per-client allowance (Flask-Limiter) spent only by refused requests.
"""
import hashlib
import logging

from flask import Blueprint, current_app, g, request
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from hostadmin.clock import utcnow
from hostadmin.extensions import csrf, db, limiter
from hostadmin.ledger.accounts import SLUG_RE
from hostadmin.ledger.models import Host
from hostadmin.processors import connections, paypal, service, stripe, wise
from hostadmin.processors.verification import InvalidBody, VerificationError
from hostadmin.webhooks import flood
from hostadmin.webhooks import service as webhook_log
from hostadmin.webhooks.verify import DEFAULT_MAX_BODY_BYTES

log = logging.getLogger("hostadmin.processors")
bp = Blueprint("processor_webhooks", __name__)
PLAIN = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
LIMIT = dict(key_func=flood.client_key, deduct_when=flood.refused, on_breach=flood.on_limited)


def check_stripe(raw, headers, verification, now):
    """(event id, type, body) of a Stripe webhook whose signature holds."""
    body = stripe.verify(raw, headers.get("Stripe-Signature"), verification.material, now)
    return body["id"], body["type"], body


def check_wise(raw, headers, verification, now):
    """(event id, type, body) of a Wise webhook whose signature holds."""
    body = wise.verify(raw, headers.get("X-Signature-SHA256"), verification.material)
    event_id, event_type = wise.event_identity(body)
    return event_id, event_type, body


def check_paypal(raw, headers, verification, now):
    """(event id, type, body) of a PayPal webhook whose transmission signature holds."""
    body = paypal.verify(raw, headers, verification.material, now)
    return body["id"], body["event_type"], body


CHECKS = {"stripe": check_stripe, "wise": check_wise, "paypal": check_paypal}


@bp.post("/webhooks/stripe/<host_slug>", endpoint="stripe")
@csrf.exempt
@limiter.limit(flood.refusals_per_client, **LIMIT)
def stripe_webhook(host_slug):
    """Stripe's webhook for one host."""
    return _receive("stripe", host_slug)


@bp.post("/webhooks/wise/<host_slug>", endpoint="wise")
@csrf.exempt
@limiter.limit(flood.refusals_per_client, **LIMIT)
def wise_webhook(host_slug):
    """Wise's webhook for one host."""
    return _receive("wise", host_slug)


@bp.post("/webhooks/paypal/<host_slug>", endpoint="paypal")
@csrf.exempt
@limiter.limit(flood.refusals_per_client, **LIMIT)
def paypal_webhook(host_slug):
    """PayPal's webhook for one host."""
    return _receive("paypal", host_slug)


def _receive(processor, host_slug):
    limit = current_app.config.get("WEBHOOK_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
    if request.content_length is not None and request.content_length > limit:
        return _refuse(processor, VerificationError("body too large"))
    request.max_content_length = limit + 1
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return _refuse(processor, VerificationError("body too large"))
    if len(raw) > limit:
        return _refuse(processor, VerificationError("body too large"))
    # Never a slug (NUL would even fail the query on PostgreSQL): refused like an unknown host.
    host = db.session.scalar(select(Host).where(Host.slug == host_slug)) if SLUG_RE.fullmatch(host_slug) else None
    connection = host and connections.connection_of(host, processor)
    if connection is None:
        return _refuse(processor, VerificationError("no such endpoint"), status=404)
    digest = hashlib.sha256(raw).hexdigest()
    try:
        event_id, event_type, body = CHECKS[processor](raw, request.headers, connections.verification_of(connection),
                                                       utcnow())
    except VerificationError as exc:
        return _refuse(processor, exc, digest)
    if processor == "wise" and wise.is_test_notification(request.headers):
        log.info("wise test notification for host %s verified", host.slug)  # Wise's check of the URL only
        return {"status": "test notification"}, 200, {"Cache-Control": "no-store"}
    event, again = service.receive(host, processor, event_id, event_type, body, digest)
    return ({"status": "duplicate" if again else "ok", "event": event.id}, 200, {"Cache-Control": "no-store"})


def _refuse(processor, exc, body_sha256=None, status=None):
    """401 for anything not proven to come from the processor, 400 for a signed unusable body, 404 no endpoint."""
    reason = f"{processor}: {exc.reason}"
    if webhook_log.record_rejection(reason, reason, body_sha256):  # only the sampled ones are logged
        log.warning("%s webhook refused: %s (request_id=%s)", processor, exc.reason, g.request_id)
    if status == 404:
        return "not found\n", 404, PLAIN
    if isinstance(exc, InvalidBody):
        return "bad request\n", 400, PLAIN
    return "unauthorized\n", 401, PLAIN
