"""Plaid-Verification checks, in Plaid's order (PLAID.md §6.1): nothing in the body is trusted before they pass."""
import functools
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

import jwt
from jwt.algorithms import ECAlgorithm

# Plaid's webhook bodies are well under 2 KB; anything far larger is not Plaid.
DEFAULT_MAX_BODY_BYTES = 64 * 1024
MAX_TOKEN_CHARS = 4096
MAX_AGE_SECONDS = 5 * 60
MAX_FUTURE_SECONDS = 60
KID_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class VerificationError(Exception):
    """The request is not a genuine Plaid webhook; `reason` is for the log and the event record."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class InvalidBody(Exception):
    """The signature holds but the body is not a JSON object (answered 400)."""


@dataclass(frozen=True)
class Verified:
    """A webhook whose JWT, key, age and body hash all checked out."""

    kid: str
    iat: int
    body_sha256: str


def unverified_kid(token):
    """The `kid` of a token whose header says ES256; raises VerificationError for anything else."""
    if not token:
        raise VerificationError("missing Plaid-Verification header")
    if len(token) > MAX_TOKEN_CHARS:
        raise VerificationError("Plaid-Verification header too long")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise VerificationError("malformed JWT") from None
    # Checked before any key is looked up: blocks `none` and HS256-with-the-public-key tricks.
    if header.get("alg") != "ES256":
        raise VerificationError(f"JWT alg is not ES256 ({str(header.get('alg'))[:20]!r})")
    kid = header.get("kid")
    if not isinstance(kid, str) or not KID_RE.match(kid):
        raise VerificationError("JWT kid missing or malformed")
    return kid


def verify(raw_body, token, get_key, now_ts):
    """Check a webhook as Plaid specifies; `get_key(kid)` returns the JWK dict or None.

    Returns Verified, or raises VerificationError with the reason.
    """
    kid = unverified_kid(token)
    jwk = get_key(kid)
    if jwk is None:
        raise VerificationError("unknown key id")
    if jwk.get("expired_at") is not None:
        raise VerificationError("verification key has expired")
    try:
        public_key = _public_key(json.dumps(jwk, sort_keys=True))
        claims = jwt.decode(token, public_key, algorithms=["ES256"],
                            options={"require": ["iat", "request_body_sha256"], "verify_iat": False,
                                     "verify_exp": False, "verify_nbf": False, "verify_aud": False})
    except (jwt.PyJWTError, ValueError, TypeError):
        raise VerificationError("bad signature or claims") from None
    iat = claims["iat"]
    if isinstance(iat, bool) or not isinstance(iat, (int, float)):
        raise VerificationError("iat is not a number")
    # Replay protection: PyJWT checks neither age (no exp) nor, with verify_iat off, the future.
    if now_ts - iat > MAX_AGE_SECONDS:
        raise VerificationError("iat older than 5 minutes")
    if iat - now_ts > MAX_FUTURE_SECONDS:
        raise VerificationError("iat in the future")
    claimed = claims["request_body_sha256"]
    actual = hashlib.sha256(raw_body).hexdigest()
    # Bytes, not str: compare_digest raises on non-ASCII str, and a forged claim may hold anything.
    if not isinstance(claimed, str) or not hmac.compare_digest(actual.encode(), claimed.encode()):
        raise VerificationError("body does not match request_body_sha256")
    return Verified(kid=kid, iat=int(iat), body_sha256=actual)


@functools.lru_cache(maxsize=32)
def _public_key(jwk_json):
    # Parsing the JWK costs more than the signature check; a handful of keys are ever live.
    return ECAlgorithm.from_jwk(jwk_json)


def parse_body(raw_body):
    """The verified body as a dict; InvalidBody when it is not a JSON object."""
    try:
        # NaN/Infinity are Python's extensions, not JSON: PostgreSQL would refuse to store them.
        body = json.loads(raw_body, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError):
        raise InvalidBody("body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidBody("body is not a JSON object")
    return body


def _not_json(name):
    raise ValueError(f"{name} is not JSON")
