"""Plaid's webhook verification keys by kid: shared through Redis by every process, copied per process.

A kid Plaid does not know is remembered for a short while (the negative
cache), and each kid has its own small per-minute fetch budget (a fetch that
failed is not cached), so forged tokens with random kids cannot spend the
fetches a genuine, freshly rotated kid needs. What bounds the number of
distinct kids a client can make hostadmin ask about is the per-client limit on
refused webhooks (flood.py), and verify.precheck: only a well-formed token
with a current iat and a matching body hash gets this far. When Redis is
down the per-process copy and direct fetches keep verification working.
"""
import json
import logging
import threading
import time

import plaid
import redis
import urllib3
from plaid.model.webhook_verification_key_get_request import WebhookVerificationKeyGetRequest

from hostadmin.banking.plaid_client import MALFORMED_RESPONSE_ERRORS, get_client, plaid_error
from hostadmin.clock import utcnow
from hostadmin.webhooks.verify import VerificationError

log = logging.getLogger("hostadmin.webhooks")

KEY = "hostadmin:plaid-jwk:{kid}"
KNOWN = "hostadmin:plaid-jwk:known"
BUDGET = "hostadmin:plaid-jwk:fetches:{minute}:{kid}"
MISSING = "missing"
# Plaid gives up on a webhook after 10 s, so a key fetch inside the request must fail sooner
# than plaid_client.TIMEOUT's 60 s read timeout would.
FETCH_TIMEOUT = (2, 5)
UNKNOWN_KID_CODE = "INVALID_WEBHOOK_VERIFICATION_KEY_ID"


class KeyUnavailable(VerificationError):
    """The key could not be looked up right now (Plaid unreachable, this kid's fetch budget spent)."""


def fetch_from_plaid(kid):
    """The JWK dict for `kid` from /webhook_verification_key/get, or None if Plaid does not know it."""
    request = WebhookVerificationKeyGetRequest(key_id=kid)
    try:
        response = get_client().webhook_verification_key_get(request, _request_timeout=FETCH_TIMEOUT)
    except plaid.ApiException as exc:
        code, _, _ = plaid_error(exc)
        if code == UNKNOWN_KID_CODE:
            return None
        raise KeyUnavailable("key fetch failed", code or exc.status) from None
    except urllib3.exceptions.HTTPError as exc:
        raise KeyUnavailable("key fetch failed", type(exc).__name__) from None
    except MALFORMED_RESPONSE_ERRORS as exc:
        raise KeyUnavailable("key fetch failed", f"malformed response: {type(exc).__name__}") from None
    key = response["key"].to_dict()
    return {name: key.get(name) for name in
            ("alg", "crv", "kid", "kty", "use", "x", "y", "created_at", "expired_at")}


class KeyCache:
    """get(kid) -> JWK dict or None; see the module docstring for the layers."""

    def __init__(self, connection, fetch=fetch_from_plaid, *, positive_ttl=86400, negative_ttl=60,
                 local_ttl=60, fetches_per_kid=2, monotonic=time.monotonic):
        self._connection = connection  # a callable returning the Redis client
        self._fetch = fetch
        self.positive_ttl = positive_ttl
        self.negative_ttl = negative_ttl
        self.local_ttl = local_ttl
        self.fetches_per_kid = fetches_per_kid
        self._now = monotonic
        self._local = {}  # kid -> (expires, jwk or None)
        self._local_budget = (0, {})  # (minute, {kid: fetches}) when Redis cannot count
        self._lock = threading.Lock()

    def get(self, kid):
        """The JWK for `kid` (None: Plaid does not know it). Raises KeyUnavailable."""
        found, jwk = self._local_get(kid)
        if found:
            return jwk
        found, jwk = self._shared_get(kid)
        if found:
            self._local_put(kid, jwk, self.negative_ttl if jwk is None else self.local_ttl)
            return jwk
        self._spend_budget(kid)
        jwk = self._fetch(kid)
        self._store(kid, jwk)
        if jwk is not None:
            self._refresh_known(except_kid=kid)
        return jwk

    def clear_local(self):
        """Forget this process's copies (tests, and after a key rotation by hand)."""
        with self._lock:
            self._local.clear()

    # -- layers ------------------------------------------------------------------
    def _local_get(self, kid):
        with self._lock:
            entry = self._local.get(kid)
        if entry and entry[0] > self._now():
            return True, entry[1]
        return False, None

    def _local_put(self, kid, jwk, ttl):
        with self._lock:
            if len(self._local) > 1000:  # bounded: random kids must not grow memory
                self._local = {k: v for k, v in self._local.items() if v[1] is not None}
            self._local[kid] = (self._now() + ttl, jwk)

    def _shared_get(self, kid):
        try:
            raw = self._connection().get(KEY.format(kid=kid))
        except redis.RedisError:
            return False, None
        if raw is None:
            return False, None
        raw = raw.decode() if isinstance(raw, bytes) else raw
        return True, (None if raw == MISSING else json.loads(raw))

    def _store(self, kid, jwk):
        self._local_put(kid, jwk, self.negative_ttl if jwk is None else self.local_ttl)
        try:
            connection = self._connection()
            if jwk is None:
                connection.set(KEY.format(kid=kid), MISSING, ex=self.negative_ttl)
            else:
                connection.set(KEY.format(kid=kid), json.dumps(jwk), ex=self.positive_ttl)
                connection.sadd(KNOWN, kid)
        except redis.RedisError:
            log.warning("webhook key cache: Redis unavailable, kept kid %s in this process only", kid)

    def _refresh_known(self, except_kid):
        """A new kid means Plaid rotated keys: re-read the others so an expired_at shows up (Plaid's sample)."""
        try:
            kids = {k.decode() if isinstance(k, bytes) else k for k in self._connection().smembers(KNOWN)}
        except redis.RedisError:
            with self._lock:
                kids = {k for k, (_, jwk) in self._local.items() if jwk is not None}
        for kid in sorted(kids - {except_kid}):
            found, jwk = self._shared_get(kid)
            if found and jwk is not None and jwk.get("expired_at") is not None:
                continue  # already known to be expired; it stays expired
            try:
                fresh = self._fetch(kid)
            except KeyUnavailable:
                continue
            self._store(kid, fresh)
            if fresh is None:
                self._forget_known(kid)

    def _forget_known(self, kid):
        try:
            self._connection().srem(KNOWN, kid)
        except redis.RedisError:
            pass

    def _spend_budget(self, kid):
        # Per kid, so a flood of made-up kids cannot use up the fetches a genuine new kid needs;
        # a second fetch in the minute is for a kid whose first fetch failed (failures are not cached).
        minute = int(utcnow().timestamp() // 60)
        try:
            key = BUDGET.format(minute=minute, kid=kid)
            spent, _ = self._connection().pipeline().incr(key).expire(key, 120).execute()
        except redis.RedisError:
            with self._lock:
                if self._local_budget[0] != minute or len(self._local_budget[1]) > 10000:
                    self._local_budget = (minute, {})
                counts = self._local_budget[1]
                counts[kid] = spent = counts.get(kid, 0) + 1
        if spent > self.fetches_per_kid:
            raise KeyUnavailable("key fetch budget for this kid is spent")


def key_cache(app):
    """The app's KeyCache (one per process), configured from app.config."""
    cache = app.extensions.get("webhook_keys")
    if cache is None:
        from hostadmin.extensions import queues

        config = app.config
        cache = app.extensions["webhook_keys"] = KeyCache(
            lambda: queues.connection,
            positive_ttl=config.get("WEBHOOK_KEY_CACHE_SECONDS", 86400),
            negative_ttl=config.get("WEBHOOK_KEY_NEGATIVE_CACHE_SECONDS", 60),
            local_ttl=config.get("WEBHOOK_KEY_LOCAL_CACHE_SECONDS", 60),
            fetches_per_kid=config.get("WEBHOOK_KEY_FETCHES_PER_KID_PER_MINUTE", 2))
    return cache
