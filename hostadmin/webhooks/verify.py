"""Plaid-Verification checks (PLAID.md §6.1): nothing in the body is trusted before they pass.

Everything that needs no key (shape, alg, kid, iat window, body hash) is checked first, so a
verification key is fetched only for a kid that arrives on a well-formed, current token.
"""
import base64
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
# Plaid's bodies nest three levels at most; a deep body would exhaust the stack wherever it is walked.
MAX_BODY_DEPTH = 32
KID_RE = re.compile(r"[A-Za-z0-9._-]{1,100}")
SEGMENT_RE = re.compile(r"[A-Za-z0-9_-]+")
SHA256_HEX_RE = re.compile(r"[0-9a-f]{64}")
# ES256 signatures are r || s, 32 bytes each: 86 base64url characters without padding.
ES256_SIGNATURE_CHARS = 86


class VerificationError(Exception):
    """The request is not a genuine Plaid webhook; `reason` is fixed text (counted), `str()` adds the detail."""

    def __init__(self, reason, detail=None):
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.reason = reason


class InvalidBody(VerificationError):
    """The signature holds but the body is not a JSON object (answered 400)."""


@dataclass(frozen=True)
class Verified:
    """A webhook whose JWT, key, age and body hash all checked out."""

    kid: str
    iat: int
    body_sha256: str


@dataclass(frozen=True)
class Unverified:
    """What a well-formed, current token claims, before its signature is checked."""

    kid: str
    iat: int | float
    body_sha256: str


def unverified_kid(token):
    """The `kid` of a token whose header says ES256; raises VerificationError for anything else."""
    return _header(_segments(token))


def precheck(raw_body, token, now_ts):
    """Everything that can be checked without the key, so a key is fetched only for a plausible token.

    Returns Unverified, or raises VerificationError. The signature still has to be checked.
    """
    segments = _segments(token)
    kid = _header(segments)
    if len(segments[2]) != ES256_SIGNATURE_CHARS or not SEGMENT_RE.fullmatch(segments[2]):
        raise VerificationError("malformed JWT", "signature is not ES256-sized")
    claims = _json_segment(segments[1])
    claimed = claims.get("request_body_sha256") if isinstance(claims, dict) else None
    if not isinstance(claimed, str) or not SHA256_HEX_RE.fullmatch(claimed):
        raise VerificationError("JWT claims malformed")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, (int, float)):
        raise VerificationError("iat is not a number")
    # Written as ranges, which also refuse a NaN should one ever get past the parser.
    if not now_ts - MAX_AGE_SECONDS <= iat:
        raise VerificationError("iat older than 5 minutes")
    if not iat <= now_ts + MAX_FUTURE_SECONDS:
        raise VerificationError("iat in the future")
    actual = hashlib.sha256(raw_body).hexdigest()
    if not hmac.compare_digest(actual.encode(), claimed.encode()):
        raise VerificationError("body does not match request_body_sha256")
    return Unverified(kid=kid, iat=iat, body_sha256=actual)


def verify(raw_body, token, get_key, now_ts):
    """Check a webhook as Plaid specifies; `get_key(kid)` returns the JWK dict or None.

    Returns Verified, or raises VerificationError with the reason.
    """
    claimed = precheck(raw_body, token, now_ts)
    jwk = get_key(claimed.kid)
    if jwk is None:
        raise VerificationError("unknown key id")
    if jwk.get("expired_at") is not None:
        raise VerificationError("verification key has expired")
    try:
        public_key = _public_key(json.dumps(jwk, sort_keys=True))
        jwt.decode(token, public_key, algorithms=["ES256"],
                   options={"require": ["iat", "request_body_sha256"], "verify_iat": False,
                            "verify_exp": False, "verify_nbf": False, "verify_aud": False})
    except (jwt.PyJWTError, ValueError, TypeError):
        raise VerificationError("bad signature") from None
    # The signature covers the very bytes precheck read, so its claims are now trusted.
    return Verified(kid=claimed.kid, iat=int(claimed.iat), body_sha256=claimed.body_sha256)


def _segments(token):
    if not token:
        raise VerificationError("missing Plaid-Verification header")
    if len(token) > MAX_TOKEN_CHARS:
        raise VerificationError("Plaid-Verification header too long")
    segments = token.split(".")
    if len(segments) != 3 or not all(SEGMENT_RE.fullmatch(part) for part in segments[:2]):
        raise VerificationError("malformed JWT")
    return segments


def _header(segments):
    header = _json_segment(segments[0])
    if not isinstance(header, dict):
        raise VerificationError("malformed JWT")
    # Checked before any key is looked up: blocks `none` and HS256-with-the-public-key tricks.
    if header.get("alg") != "ES256":
        raise VerificationError("JWT alg is not ES256", repr(str(header.get("alg"))[:20]))
    if "crit" in header:  # RFC 7515: extensions we would have to understand; Plaid uses none
        raise VerificationError("malformed JWT", "crit header")
    kid = header.get("kid")
    if not isinstance(kid, str) or not KID_RE.fullmatch(kid):
        raise VerificationError("JWT kid missing or malformed")
    return kid


def _json_segment(segment):
    try:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)), parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise VerificationError("malformed JWT") from None


@functools.lru_cache(maxsize=32)
def _public_key(jwk_json):
    # Parsing the JWK costs more than the signature check; a handful of keys are ever live.
    return ECAlgorithm.from_jwk(jwk_json)


def parse_body(raw_body):
    """The verified body as a dict; InvalidBody when it is not a JSON object or nests too deeply."""
    try:
        # NaN/Infinity are Python's extensions, not JSON: PostgreSQL would refuse to store them.
        body = json.loads(raw_body, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError):
        raise InvalidBody("body is not JSON") from None
    except RecursionError:
        raise InvalidBody("body is nested too deeply") from None
    if not isinstance(body, dict):
        raise InvalidBody("body is not a JSON object")
    if _depth(body) > MAX_BODY_DEPTH:
        raise InvalidBody("body is nested too deeply")
    return body


def _depth(value):
    """How deeply `value` nests, walked without recursion (the parser's own limit is far above what is safe)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (value.values() if isinstance(value, dict) else value))
    return deepest


def _not_json(name):
    raise ValueError(f"{name} is not JSON")
