"""A certificate chain made for the test (root CA → PayPal-named leaf), served over loopback, and a sender."""
import base64
import datetime as dt
import json
import threading
import zlib
from itertools import count

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

_serial = count(1)
NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_root(cn="hostadmin test root"):
    key = _key()
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(next(_serial)).not_valid_before(NOW - dt.timedelta(days=30))
            .not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(root_key, root_cert, cn="messageverificationcerts.paypal.com", days=90):
    key = _key()
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(root_cert.subject)
            .public_key(key.public_key()).serial_number(next(_serial))
            .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    return key, cert


def pem(*certs):
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


class CertServer:
    """Serves PEM files by path on 127.0.0.1, counting requests."""

    def __init__(self):
        self.files, self.hits = {}, []
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def __call__(self, environ, start_response):
        path = Request(environ).path
        self.hits.append(path)
        if path not in self.files:
            return Response("missing", 404)(environ, start_response)
        return Response(self.files[path], 200, content_type="application/x-pem-file")(environ, start_response)

    def serve(self, path, data):
        self.files[path] = data
        return self.base + path

    def close(self):
        self.server.shutdown()


class PayPalSender:
    """Posts PayPal webhooks with PAYPAL-TRANSMISSION-SIG over id|time|webhook id|crc32(body)."""

    def __init__(self, client, key, cert_url, webhook_id):
        self.client, self.key, self.cert_url, self.webhook_id = client, key, cert_url, webhook_id

    def event(self, kind, resource, event_id=None):
        return json.dumps({"id": event_id or f"WH-{next(_serial)}", "event_version": "1.0",
                           "create_time": "2026-11-20T15:00:00Z", "resource_type": "capture",
                           "event_type": kind, "resource": resource}).encode()

    def headers(self, body, key=None, webhook_id=None, cert_url=None, transmission_id=None):
        transmission_id = transmission_id or f"tx-{next(_serial)}"
        when = "2026-11-20T15:29:00Z"
        message = f"{transmission_id}|{when}|{webhook_id or self.webhook_id}|{zlib.crc32(body)}".encode()
        signature = (key or self.key).sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {"PAYPAL-TRANSMISSION-ID": transmission_id, "PAYPAL-TRANSMISSION-TIME": when,
                "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
                "PAYPAL-CERT-URL": cert_url or self.cert_url, "PAYPAL-AUTH-ALGO": "SHA256withRSA"}

    def post(self, body, headers, host="river"):
        return self.client.post(f"/webhooks/paypal/{host}", data=body,
                                headers={"Content-Type": "application/json", **headers})

    def send(self, kind, resource, event_id=None, **post):
        body = self.event(kind, resource, event_id)
        return self.post(body, self.headers(body), **post)
