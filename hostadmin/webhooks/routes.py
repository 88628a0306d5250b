"""POST /webhooks/plaid (public, verified by its JWT) and the per-host Webhooks page."""
import hashlib
import logging

from flask import Blueprint, current_app, g, render_template, request
from jinja2_fragments.flask import render_block
from werkzeug.exceptions import RequestEntityTooLarge

from hostadmin.auth.access import host_blueprint
from hostadmin.clock import utcnow
from hostadmin.extensions import csrf, limiter
from hostadmin.webhooks import flood, history, service
from hostadmin.webhooks.keys import key_cache
from hostadmin.webhooks.verify import DEFAULT_MAX_BODY_BYTES, InvalidBody, VerificationError, parse_body, verify

log = logging.getLogger("hostadmin.webhooks")

bp = Blueprint("webhooks", __name__)
admin = host_blueprint("webhook_log", __name__, "/webhooks")

PLAIN = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.post("/webhooks/plaid", endpoint="plaid")
@csrf.exempt
@limiter.limit(flood.refusals_per_client, key_func=flood.client_key, deduct_when=flood.refused,
               on_breach=flood.on_limited)
def plaid():
    """Verify, record, dispatch, answer: no Plaid call here except a key fetch on a cache miss."""
    limit = current_app.config.get("WEBHOOK_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
    too_large = VerificationError("body too large")
    if request.content_length is not None and request.content_length > limit:
        return _refuse(too_large)
    # A chunked body declares no length: read at most one byte past the limit to tell "too large".
    request.max_content_length = limit + 1
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return _refuse(too_large)
    if len(raw) > limit:
        return _refuse(too_large)
    try:
        verified = verify(raw, request.headers.get("Plaid-Verification"), key_cache(current_app).get,
                          utcnow().timestamp())
        body = parse_body(raw)
    except VerificationError as exc:
        return _refuse(exc, hashlib.sha256(raw).hexdigest())
    event_id, _ = service.receive(body, verified.body_sha256)
    return {"status": "ok", "event": event_id}, 200, {"Cache-Control": "no-store"}


def _refuse(exc, body_sha256=None):
    """401 for anything not proven to come from Plaid, 400 for a signed body that is not a usable object."""
    if service.record_rejection(exc.reason, str(exc), body_sha256):  # only the sampled ones are logged
        log.warning("webhook refused: %s (request_id=%s)", exc, g.request_id)
    if isinstance(exc, InvalidBody):
        return "bad request\n", 400, PLAIN
    return "unauthorized\n", 401, PLAIN


@admin.get("/")
def events():
    """Recent webhook events for this host's items, filterable by code, outcome and item."""
    filters = history.Filters.from_args(request.args)
    page = history.event_page(g.host, filters)
    context = {"page": page, "filters": filters, "choices": history.filter_choices(g.host)}
    if request.htmx and not request.htmx.boosted:
        return render_block("webhooks/events.html", "events", **context)
    return render_template("webhooks/events.html", refusals=flood.summary(), **context)
