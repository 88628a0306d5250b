"""Wise: the X-Signature-SHA256 check (RSA-SHA256 over the raw body) and transfer events as domain events.

A Wise event has no id of its own; (transfer id, state, occurred_at) is one, and stays the same when Wise
delivers it again. X-Test-Notification marks the test Wise sends when a subscription is made.
"""
import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from hostadmin.processors import timestamps
from hostadmin.processors.events import ExpensePaid, Recorded
from hostadmin.processors.verification import InvalidBody, VerificationError, parse_json
from hostadmin.text import clean_line

# RSA-2048 to 4096 signatures, base64: 344 to 684 characters.
MAX_SIGNATURE_CHARS = 700
PAID, REFUNDED = "outgoing_payment_sent", "funds_refunded"


def is_test_notification(headers):
    """True for Wise's test delivery (X-Test-Notification: true)."""
    return (headers.get("X-Test-Notification") or "").strip().lower() == "true"


def verify(raw, signature, public_key_pem):
    """The event (a dict) if `signature` is Wise's RSA-SHA256 signature of `raw`; else raises."""
    if not signature:
        raise VerificationError("missing signature header")
    if len(signature) > MAX_SIGNATURE_CHARS:
        raise VerificationError("signature header too long")
    try:
        decoded = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("signature is not base64") from None
    key = load_pem_public_key(public_key_pem.encode())
    try:
        key.verify(decoded, raw, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise VerificationError("bad signature") from None
    return parse_json(raw)


def event_identity(body):
    """(event id, event type) of a verified Wise event: stable across Wise's redeliveries."""
    kind = body.get("event_type")
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    resource = data.get("resource") if isinstance(data.get("resource"), dict) else {}
    if not isinstance(kind, str) or not kind:
        raise InvalidBody("not a Wise event (no event_type)")
    ref = transfer_ref(resource)
    state, occurred = data.get("current_state"), data.get("occurred_at")
    if ref is None or not isinstance(state, str) or not isinstance(occurred, str):
        return f"{clean_line(kind, 60)}:{clean_line(str(body.get('sent_at')), 40)}", kind
    return f"{ref}:{clean_line(state, 60)}:{clean_line(occurred, 40)}", kind


def transfer_ref(resource):
    """The transfer id as text, or None."""
    ref = resource.get("id")
    if isinstance(ref, bool) or not isinstance(ref, (int, str)) or not str(ref).isascii() \
            or not str(ref).isdigit() or len(str(ref)) > 30:
        return None
    return str(int(ref))


def translate(body, cleared_field, now):
    """The domain events of a Wise event: a transfer paid, refunded, or another state recorded."""
    kind = body.get("event_type")
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    resource = data.get("resource") if isinstance(data.get("resource"), dict) else {}
    if kind != "transfers#state-change" or resource.get("type", "transfer") != "transfer":
        return [Recorded(None, f"{clean_line(str(kind), 100)} is recorded only")]
    ref = transfer_ref(resource)
    if ref is None:
        raise InvalidBody("the transfer has no id")
    state = clean_line(str(data.get("current_state")), 60)
    occurred = timestamps.from_iso(data.get("occurred_at"), now, "occurred_at")
    raw = {"occurred_at": data.get("occurred_at"), "sent_at": body.get("sent_at")}
    word = "paid" if state == PAID else "refunded" if state == REFUNDED else state
    return [ExpensePaid(ref=ref, expense_id=None, amount=None, currency=None, cleared_at=occurred,
                        cleared_field="occurred_at", raw_timestamps=raw, state=word)]
