"""Local demo of PayPal webhooks: a demo certificate authority, a PayPal-named certificate, signed events.

PayPal signs each webhook with the private key of a certificate the receiver fetches from PAYPAL-CERT-URL and
checks against its trusted roots. To show that working without PayPal, `processors demo-credentials` makes a
demo root and a leaf named messageverificationcerts.sandbox.paypal.com (kept in the instance folder), and a
roots file of certifi's roots plus the demo root; `make run` points the app at that file and lets it fetch
certificates from 127.0.0.1 over http (PAYPAL_TRUST_ROOTS, PAYPAL_CERT_DOMAINS, PAYPAL_CERT_SCHEMES). While
`processors simulate paypal` posts an event it serves the leaf from its own process on loopback.
Nothing here is used by the webhook endpoint.
"""
import base64
import datetime as dt
import json
import secrets
import threading
import zlib
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from flask import current_app
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from hostadmin import money
from hostadmin.clock import utcnow
from hostadmin.processors import connections

EVENTS = ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.REFUNDED", "PAYMENT.PAYOUTS-ITEM.SUCCEEDED",
          "PAYMENT.PAYOUTS-ITEM.FAILED")
LEAF_NAME = "messageverificationcerts.sandbox.paypal.com"
CERT_PATH = "/v1/notifications/certs/CERT-DEMO"


class SimulateError(ValueError):
    """The event cannot be simulated; the message says what is missing."""


def files():
    """Where demo-credentials keeps the PayPal demo material: {roots, cert, key}."""
    base = Path(current_app.config.get("PAYPAL_SIMULATOR_DIR") or current_app.instance_path)
    return {"roots": base / "paypal-demo-roots.pem", "cert": base / "paypal-demo-cert.pem",
            "key": base / "paypal-demo-key.pem"}


def demo_credentials(host):
    """Connect PayPal (sandbox, a fresh webhook id) to `host` with a fresh demo certificate chain."""
    now = utcnow()
    root_key, root = _certificate("hostadmin demo PayPal root", None, None, now, ca=True)
    leaf_key, leaf = _certificate(LEAF_NAME, root_key, root, now, ca=False)
    paths = files()
    paths["key"].parent.mkdir(parents=True, exist_ok=True)
    paths["key"].touch(mode=0o600)
    paths["key"].write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    paths["cert"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths["roots"].write_bytes(Path(certifi.where()).read_bytes() + b"\n" + root.public_bytes(serialization.Encoding.PEM))
    connections.configure(host, "paypal", material="DEMO" + secrets.token_hex(8).upper(), sandbox=True)
    return paths


def connected(host):
    """The host's PayPal connection; SimulateError when there is none."""
    connection = connections.connection_of(host, "paypal")
    if connection is None:
        raise SimulateError(f"PayPal is not connected to host {host.slug}: run processors demo-credentials first")
    return connection


def request(host, event, *, amount, collective=None, capture_id=None, expense_id=None, cert_url):
    """(body, headers) of a PayPal event for `host`, signed with the demo key, naming `cert_url`."""
    connection = connected(host)
    if event not in EVENTS:
        raise SimulateError(f"PayPal events that can be simulated: {', '.join(EVENTS)}")
    try:
        key = serialization.load_pem_private_key(files()["key"].read_bytes(), password=None)
    except (OSError, ValueError):
        raise SimulateError(f"no PayPal demo key at {files()['key']}: run processors demo-credentials first") from None
    now = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    value = {"currency_code": host.currency, "value": str(money.major_units(amount, host.currency))}
    if event == "PAYMENT.CAPTURE.COMPLETED":
        resource_type, resource = "capture", {
            "id": capture_id or f"CAP-SIM-{secrets.token_hex(6).upper()}", "status": "COMPLETED", "amount": value,
            "create_time": now, "update_time": now, "invoice_id": "Simulated PayPal payment",
            "seller_receivable_breakdown": {"gross_amount": value, "paypal_fee": {
                "currency_code": host.currency, "value": str(money.major_units(_fee(amount), host.currency))}}}
        if collective:
            resource["custom_id"] = collective
    elif event == "PAYMENT.CAPTURE.REFUNDED":
        if not capture_id:
            raise SimulateError("a refund needs the capture it refunds: --ref CAP-…")
        resource_type, resource = "refund", {
            "id": f"REF-SIM-{secrets.token_hex(6).upper()}", "status": "COMPLETED", "amount": value,
            "create_time": now, "links": [{"rel": "up", "href": f"https://api.sandbox.paypal.com/v2/payments/"
                                                                f"captures/{capture_id}", "method": "GET"}]}
    else:
        if not expense_id:
            raise SimulateError("a payout item needs the expense it pays: --expense ID")
        resource_type, resource = "payouts_item", {
            "payout_item_id": f"ITEM-SIM-{secrets.token_hex(6).upper()}", "time_processed": now,
            "transaction_status": "SUCCESS" if event.endswith("SUCCEEDED") else "FAILED",
            "payout_item": {"sender_item_id": f"expense-{expense_id}", "amount": value}}
    body = json.dumps({"id": f"WH-SIM-{secrets.token_hex(8).upper()}", "event_version": "1.0", "create_time": now,
                       "resource_type": resource_type, "event_type": event, "resource": resource}).encode()
    transmission_id = secrets.token_hex(16)
    webhook_id = connections.verification_of(connection).material
    message = f"{transmission_id}|{now}|{webhook_id}|{zlib.crc32(body)}".encode()
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return body, {"PAYPAL-TRANSMISSION-ID": transmission_id, "PAYPAL-TRANSMISSION-TIME": now,
                  "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(), "PAYPAL-CERT-URL": cert_url,
                  "PAYPAL-AUTH-ALGO": "SHA256withRSA"}


@contextmanager
def serving_certificate():
    """Serve the demo leaf on 127.0.0.1 while the app verifies the event; yields its URL."""
    try:
        pem = files()["cert"].read_bytes()
    except OSError:
        raise SimulateError(f"no PayPal demo certificate at {files()['cert']}: run processors demo-credentials "
                            "first") from None

    def app(environ, start_response):
        found = environ.get("PATH_INFO") == CERT_PATH
        return Response(pem if found else b"missing", 200 if found else 404,
                        content_type="application/x-pem-file")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{CERT_PATH}"
    finally:
        server.shutdown()
        thread.join(5)


def _fee(amount):
    """A PayPal-like fee for the demo: 3.49 % plus 49 minor units, rounded half up."""
    return int((Decimal(amount) * Decimal("0.0349") + 49).to_integral_value(rounding="ROUND_HALF_UP"))


def _certificate(name, issuer_key, issuer, now, *, ca):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer.subject if issuer else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650 if ca else 365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = (builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                         critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    else:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                        critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())
