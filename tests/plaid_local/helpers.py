"""Helpers shared by the emulator tests: errors, the sync loop, webhook verification."""
import hashlib
import hmac
import json
import time

import jwt
import plaid
from plaid.model.transactions_sync_request import TransactionsSyncRequest
from plaid.model.webhook_verification_key_get_request import WebhookVerificationKeyGetRequest


def error_of(exc: plaid.ApiException) -> dict:
    """Decode the PlaidError body of an ApiException."""
    return json.loads(exc.body)


def sync_raw(client, access_token: str, cursor: str = "", count: int = 500) -> dict:
    """One /transactions/sync call through plaid-python, decoded as plain JSON."""
    kwargs = {"access_token": access_token, "count": count}
    if cursor:
        kwargs["cursor"] = cursor
    resp = client.transactions_sync(TransactionsSyncRequest(**kwargs), _preload_content=False)
    return json.loads(resp.data)


def sync_all(client, access_token: str, cursor: str = "", count: int = 500) -> tuple:
    """Run the sync loop to has_more=false; returns (added, modified, removed, cursor, pages)."""
    added, modified, removed, pages = [], [], [], []
    while True:
        page = sync_raw(client, access_token, cursor, count)
        pages.append(page)
        added += page["added"]
        modified += page["modified"]
        removed += page["removed"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return added, modified, removed, cursor, pages


def verify_webhook(raw_body: bytes, token: str, client, now: float | None = None) -> dict:
    """Verify a Plaid webhook as PLAID.md §6 prescribes (ES256 only, JWK via plaid-python)."""
    header = jwt.get_unverified_header(token)
    if header.get("alg") != "ES256":
        raise ValueError("alg")
    jwk = client.webhook_verification_key_get(
        WebhookVerificationKeyGetRequest(key_id=header["kid"])).key.to_dict()
    if jwk.get("expired_at") is not None:
        raise ValueError("expired key")
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["ES256"],
                        options={"require": ["iat", "request_body_sha256"],
                                 "verify_iat": False})
    now = time.time() if now is None else now
    if not now - 300 <= claims["iat"] <= now + 60:
        raise ValueError("stale iat")
    if not hmac.compare_digest(hashlib.sha256(raw_body).hexdigest(),
                               str(claims["request_body_sha256"])):
        raise ValueError("body hash")
    return json.loads(raw_body)
