"""Local demo: events signed as Stripe and Wise sign them, posted to the running app (`processors simulate`).

Signing needs what the processor holds: Stripe's endpoint secret (the configured one) and, for Wise, the
private half of the configured public key, which only `processors demo-credentials` creates (kept in the
instance folder). Nothing here is used by the webhook endpoints themselves.
"""
import base64
import json
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import current_app
from stripe import WebhookSignature

from hostadmin.clock import utcnow
from hostadmin.processors import connections

STRIPE_EVENTS = ("charge.succeeded", "charge.refunded", "charge.dispute.created", "charge.dispute.closed",
                 "payout.paid", "issuing_transaction.created")
# Events about an earlier charge: --ref names it.
STRIPE_NEEDS_CHARGE = ("charge.refunded", "charge.dispute.created", "charge.dispute.closed")
WISE_STATES = ("outgoing_payment_sent", "funds_refunded", "processing", "cancelled", "bounced_back")


class SimulateError(ValueError):
    """The event cannot be simulated; the message says what is missing."""


def wise_key_path():
    """Where demo-credentials keeps the Wise demo private key."""
    return Path(current_app.config.get("WISE_SIMULATOR_KEY") or Path(current_app.instance_path) / "wise-demo-key.pem")


def demo_credentials(host):
    """Connect Stripe (a fresh test secret) and Wise (a fresh key pair, private half kept locally) to `host`."""
    connections.configure(host, "stripe", material="whsec_demo_" + secrets.token_hex(16))
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = wise_key_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    connections.configure(host, "wise", material=public)
    return path


def stripe_request(host, event, *, amount, collective, ref):
    """(body, headers) of a Stripe event signed with the host's configured secret."""
    connection = connections.connection_of(host, "stripe")
    if connection is None:
        raise SimulateError(f"Stripe is not connected to host {host.slug}: run processors configure stripe first")
    if event not in STRIPE_EVENTS:
        raise SimulateError(f"Stripe events that can be simulated: {', '.join(STRIPE_EVENTS)}")
    if event in STRIPE_NEEDS_CHARGE and not ref:
        what = "a refund needs the charge it refunds" if event == "charge.refunded" else \
            "a dispute needs the charge it disputes"
        raise SimulateError(f"{what}: --ref ch_…")
    now = int(utcnow().timestamp())
    currency = host.currency.lower()
    if event.startswith("charge.dispute."):
        # One dispute per charge in the demo, so the close finds what the creation held; a demo dispute is won.
        obj = {"id": f"dp_{ref}"[:255], "object": "dispute", "charge": ref, "amount": amount, "currency": currency,
               "status": "won" if event == "charge.dispute.closed" else "needs_response", "reason": "fraudulent",
               "created": now}
    elif event == "payout.paid":
        obj = {"id": ref or f"po_sim_{secrets.token_hex(8)}", "object": "payout", "amount": amount,
               "currency": currency, "arrival_date": now, "created": now}
    elif event == "issuing_transaction.created":
        obj = {"id": ref or f"ipi_sim_{secrets.token_hex(8)}", "object": "issuing.transaction", "type": "capture",
               "amount": -amount, "currency": currency, "created": now,
               "merchant_data": {"name": "Demo merchant"},
               "card": {"id": "ic_sim", "object": "issuing.card",
                        "metadata": {"collective": collective} if collective else {}}}
    else:
        obj = _charge(event, amount=amount, collective=collective, ref=ref, currency=currency, now=now)
    body = json.dumps({"id": f"evt_sim_{secrets.token_hex(8)}", "object": "event", "type": event, "created": now,
                       "livemode": False, "data": {"object": obj}}).encode()
    secret = connections.verification_of(connection).material
    header = WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=now)
    return body, {"Stripe-Signature": header}


def _charge(event, *, amount, collective, ref, currency, now):
    return {"id": ref or f"ch_sim_{secrets.token_hex(8)}", "object": "charge", "amount": amount,
            "amount_refunded": amount if event == "charge.refunded" else 0, "currency": currency,
            "created": now, "description": "Simulated Stripe payment", "billing_details": {"name": "Demo donor"},
            "metadata": {"collective": collective} if collective else {},
            "balance_transaction": {"id": f"txn_sim_{secrets.token_hex(8)}", "object": "balance_transaction",
                                    "fee": amount * 29 // 1000 + 30, "currency": currency,
                                    "available_on": now + 2 * 86400}}


def wise_request(host, state, *, transfer_id):
    """(body, headers) of a Wise transfer state change signed with the demo private key."""
    if connections.connection_of(host, "wise") is None:
        raise SimulateError(f"Wise is not connected to host {host.slug}: run processors demo-credentials first")
    if state not in WISE_STATES:
        raise SimulateError(f"Wise states that can be simulated: {', '.join(WISE_STATES)}")
    path = wise_key_path()
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError):
        raise SimulateError(f"no Wise demo key at {path}: run processors demo-credentials first") from None
    occurred = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps({"data": {"resource": {"type": "transfer", "id": int(transfer_id), "profile_id": 1},
                                "current_state": state, "previous_state": "processing", "occurred_at": occurred},
                       "subscription_id": "demo", "event_type": "transfers#state-change",
                       "schema_version": "2.0.0", "sent_at": occurred}).encode()
    signature = private.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return body, {"X-Signature-SHA256": base64.b64encode(signature).decode()}


def post(processor, host, body, headers):
    """POST the signed event to the running app; (status, answer text)."""
    url = f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/webhooks/{processor}/{host.slug}"
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(errors="replace"), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), time.monotonic() - started
    except OSError as error:
        raise SimulateError(f"the app does not answer at {url}: {error}") from None
