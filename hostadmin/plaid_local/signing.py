"""ES256 webhook signing keys and Plaid-Verification JWTs (PLAID.md §6.3)."""
import base64
import hashlib
import json
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .errors import PlaidAPIError


def _b64url(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


def webhook_body(payload: dict) -> bytes:
    """Serialise a webhook body exactly as Plaid does: 2-space indent, sorted keys."""
    return json.dumps(payload, indent=2, sort_keys=True).encode()


class KeyRing:
    """The emulator's P-256 signing keys, kept in the store so they survive restarts."""

    def __init__(self, store, clock):
        self.store = store
        self.clock = clock
        self._private = {}
        if not self.store.one("SELECT kid FROM signing_keys WHERE active=1"):
            self.rotate()

    def _now(self) -> int:
        return int(self.clock().timestamp())

    def rotate(self) -> str:
        """Create a new active key; the previous one gets `expired_at` and stays published."""
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        kid = str(uuid.uuid4())
        now = self._now()
        with self.store.write() as conn:
            conn.execute("UPDATE signing_keys SET active=0, expired_at=? WHERE active=1", (now,))
            conn.execute("INSERT INTO signing_keys VALUES (?,?,?,NULL,1)", (kid, pem, now))
        return kid

    def active_kid(self) -> str:
        """Return the kid that signs new webhooks."""
        return self.store.one("SELECT kid FROM signing_keys WHERE active=1")["kid"]

    def _key(self, kid):
        if kid not in self._private:
            row = self.store.one("SELECT private_pem FROM signing_keys WHERE kid=?", (kid,))
            self._private[kid] = serialization.load_pem_private_key(row[0].encode(), None)
        return self._private[kid]

    def jwk(self, kid: str) -> dict:
        """Return the public JWK for `kid`, or raise INVALID_WEBHOOK_VERIFICATION_KEY_ID."""
        row = self.store.one("SELECT * FROM signing_keys WHERE kid=?", (kid,))
        if row is None:
            raise PlaidAPIError("INVALID_WEBHOOK_VERIFICATION_KEY_ID")
        numbers = self._key(kid).public_key().public_numbers()
        return {"alg": "ES256", "crv": "P-256", "kid": kid, "kty": "EC", "use": "sig",
                "x": _b64url(numbers.x), "y": _b64url(numbers.y),
                "created_at": row["created_at"], "expired_at": row["expired_at"]}

    def sign(self, body: bytes, *, iat: int | None = None, kid: str | None = None,
             key=None) -> str:
        """Return the Plaid-Verification JWT for the exact body bytes."""
        kid = kid or self.active_kid()
        claims = {"iat": self._now() if iat is None else iat,
                  "request_body_sha256": hashlib.sha256(body).hexdigest()}
        return jwt.encode(claims, key or self._key(kid), algorithm="ES256",
                          headers={"kid": kid, "typ": "JWT"})

    def sign_with_unknown_kid(self, body: bytes) -> str:
        """Sign with a throwaway key whose kid is never published."""
        return self.sign(body, kid=str(uuid.uuid4()),
                         key=ec.generate_private_key(ec.SECP256R1()))
