"""PayPal's signing certificate: fetched only from PayPal's own domains, its chain validated, cached.

PAYPAL_CERT_DOMAINS (paypal.com) and PAYPAL_CERT_SCHEMES (https) say where a PAYPAL-CERT-URL may point;
PAYPAL_TRUST_ROOTS (a PEM file; default: certifi's roots) is what the chain must lead to. The chain is
validated by cryptography's X.509 verifier on the app clock; a good certificate is kept for a day per URL,
in the process and in Redis (shared by every web process, so one fetch serves them all). What Redis holds is
validated again before it is used: a certificate planted there is refused like one fetched from a bad URL.
"""
import hashlib
import logging
import threading
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

import certifi
import redis
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store
from cryptography.x509.verification import VerificationError as ChainError
from flask import current_app

from hostadmin.processors.verification import VerificationError

log = logging.getLogger("hostadmin.processors")
REDIS_KEY = "paypal-cert:{digest}"
DEFAULT_DOMAINS = ("paypal.com",)
MAX_CERT_BYTES = 64 * 1024
CACHE_FOR = timedelta(hours=24)
FETCH_TIMEOUT_SECONDS = 5


class _Cache:
    lock = threading.Lock()
    certs = {}  # url -> (leaf certificate, validated at)
    roots = {}  # roots file -> [certificates]


def allowed_url(url):
    """True when `url` names a host under PayPal's domains (or the configured ones), nothing else."""
    if not isinstance(url, str) or len(url) > 500 or not url.isascii():
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    schemes = current_app.config.get("PAYPAL_CERT_SCHEMES", ("https",))
    domains = current_app.config.get("PAYPAL_CERT_DOMAINS", DEFAULT_DOMAINS)
    host = (parts.hostname or "").lower()
    if parts.scheme not in schemes or parts.username or parts.password or not host or parts.query or parts.fragment:
        return False
    if parts.scheme == "https" and port not in (None, 443):
        return False
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def certificate(url, now):
    """The validated leaf certificate at `url`; VerificationError when it is not PayPal's."""
    if not allowed_url(url):
        raise VerificationError("certificate URL is not PayPal's")
    with _Cache.lock:
        cached = _Cache.certs.get(url)
    if cached and now - cached[1] < CACHE_FOR and cached[0].not_valid_after_utc > now:
        return cached[0]
    shared = _shared_get(url)
    leaf = None
    if shared is not None:
        try:
            leaf = _validate(_parse(shared), now)
        except VerificationError:
            leaf = None  # expired since, or not PayPal's: fetch it again
    if leaf is None:
        data = _fetch(url)
        leaf = _validate(_parse(data), now)
        _shared_put(url, data)
    with _Cache.lock:
        _Cache.certs[url] = (leaf, now)
    return leaf


def _key(url):
    return REDIS_KEY.format(digest=hashlib.sha256(url.encode()).hexdigest())


def _shared_get(url):
    from hostadmin.extensions import queues
    try:
        return queues.connection.get(_key(url))
    except redis.RedisError:
        return None


def _shared_put(url, data):
    from hostadmin.extensions import queues
    try:
        queues.connection.set(_key(url), data, ex=int(CACHE_FOR.total_seconds()))
    except redis.RedisError:
        log.warning("paypal certificate cache: Redis unavailable, kept %s in this process only", url)


def forget():
    """Empty the per-process cache (tests; a rotated trust store)."""
    with _Cache.lock:
        _Cache.certs.clear()
        _Cache.roots.clear()


def _fetch(url):
    try:
        # The URL was checked against the allowed domains; redirects are not followed to anywhere else.
        opener = urllib.request.build_opener(_NoRedirect)
        with opener.open(url, timeout=FETCH_TIMEOUT_SECONDS) as response:
            data = response.read(MAX_CERT_BYTES + 1)
    except OSError:
        raise VerificationError("certificate could not be fetched") from None
    return data


def _parse(data):
    if len(data) > MAX_CERT_BYTES:
        raise VerificationError("certificate too large")
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise VerificationError("certificate is not PEM") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _roots():
    path = current_app.config.get("PAYPAL_TRUST_ROOTS") or certifi.where()
    with _Cache.lock:
        if path not in _Cache.roots:
            with open(path, "rb") as handle:
                _Cache.roots[path] = x509.load_pem_x509_certificates(handle.read())
        return _Cache.roots[path]


def _validate(certs, now):
    leaf, intermediates = certs[0], certs[1:]
    verifier = (PolicyBuilder().store(Store(_roots())).time(now)
                .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                    ee_policy=ExtensionPolicy.permit_all())
                .build_client_verifier())
    try:
        verifier.verify(leaf, intermediates)
    except ChainError:
        raise VerificationError("certificate chain not trusted") from None
    names = [attr.value for attr in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if not any(isinstance(n, str) and (n == "paypal.com" or n.endswith(".paypal.com")) for n in names):
        raise VerificationError("certificate is not issued to PayPal")
    return leaf
