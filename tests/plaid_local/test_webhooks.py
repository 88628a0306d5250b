"""Webhooks: Plaid's signature scheme, key rotation, defects on demand, outbox retries."""
import hashlib
import json
import time

import jwt
import pytest
from plaid.model.transactions_sync_request import TransactionsSyncRequest

from hostadmin.plaid_local.testing import EmulatorServer, WebhookReceiver

from .helpers import verify_webhook


def received(receiver) -> list[tuple[bytes, str]]:
    """(raw body, Plaid-Verification) pairs the receiver got."""
    return [(body, headers["Plaid-Verification"]) for headers, body in receiver.received]


def test_webhook_is_signed_as_plaid_signs_it(api, item, server, receiver, clock):
    server.fire_webhook(item.item_id, "SYNC_UPDATES_AVAILABLE")
    server.deliver_webhooks()
    ((body, token),) = received(receiver)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "kid": server.emulator.keys.active_kid(), "typ": "JWT"}
    payload = verify_webhook(body, token, api, now=clock().timestamp())
    assert body == json.dumps(payload, indent=2, sort_keys=True).encode()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {"iat": int(clock().timestamp()),
                      "request_body_sha256": hashlib.sha256(body).hexdigest()}
    assert receiver.received[0][0]["Content-Type"] == "application/json"


def test_key_rotation_expires_the_old_key(api, item, server, receiver, clock):
    old_kid = server.emulator.keys.active_kid()
    new_kid = server.rotate_key()
    server.fire_webhook(item.item_id, "DEFAULT_UPDATE")
    server.deliver_webhooks()
    ((body, token),) = received(receiver)
    assert jwt.get_unverified_header(token)["kid"] == new_kid
    verify_webhook(body, token, api, now=clock().timestamp())
    from plaid.model.webhook_verification_key_get_request import (
        WebhookVerificationKeyGetRequest)
    old = api.webhook_verification_key_get(WebhookVerificationKeyGetRequest(key_id=old_kid)).key
    assert old.expired_at == int(clock().timestamp())


@pytest.mark.parametrize("defect, failure", [
    ("stale_iat", "stale iat"),
    ("tampered_body", "body hash"),
    ("expired_key", "expired key"),
])
def test_each_defect_fails_verification_for_its_reason(api, item, server, receiver, clock,
                                                       defect, failure):
    server.fire_webhook(item.item_id, "SYNC_UPDATES_AVAILABLE", defect=defect)
    server.deliver_webhooks()
    ((body, token),) = received(receiver)
    with pytest.raises(ValueError, match=failure):
        verify_webhook(body, token, api, now=clock().timestamp())


def test_unknown_kid_is_not_published(api, item, server, receiver):
    import plaid
    server.fire_webhook(item.item_id, "SYNC_UPDATES_AVAILABLE", defect="unknown_kid")
    server.deliver_webhooks()
    ((body, token),) = received(receiver)
    with pytest.raises(plaid.ApiException) as info:
        verify_webhook(body, token, api)
    assert json.loads(info.value.body)["error_code"] == "INVALID_WEBHOOK_VERIFICATION_KEY_ID"


def test_duplicate_delivers_the_same_body_twice(api, item, server, receiver, clock):
    server.fire_webhook(item.item_id, "SYNC_UPDATES_AVAILABLE", defect="duplicate")
    server.deliver_webhooks()
    (body1, token1), (body2, token2) = received(receiver)
    assert body1 == body2
    for body, token in ((body1, token1), (body2, token2)):
        verify_webhook(body, token, api, now=clock().timestamp())


def test_out_of_order_delivers_after_the_next_webhook(item, server, receiver):
    server.arm_webhook_defect(item.item_id, "out_of_order")
    server.fire_webhook(item.item_id, "DEFAULT_UPDATE")
    assert server.deliver_webhooks() == 0  # held until a later webhook exists
    server.fire_webhook(item.item_id, "SYNC_UPDATES_AVAILABLE")
    server.deliver_webhooks()
    codes = [json.loads(body)["webhook_code"] for body in receiver.bodies()]
    assert codes == ["SYNC_UPDATES_AVAILABLE", "DEFAULT_UPDATE"]


def test_sync_updates_available_only_after_sync_was_called(api, item, server):
    server.add_transactions(item.item_id, count=2, seed=1)
    assert server.outbox(item.item_id) == []
    api.transactions_sync(TransactionsSyncRequest(access_token=item.access_token))
    server.add_transactions(item.item_id, count=2, seed=2)
    (row,) = server.outbox(item.item_id)
    assert json.loads(row["body"]) == {
        "webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
        "item_id": item.item_id, "initial_update_complete": True,
        "historical_update_complete": True, "environment": "sandbox"}


def test_reset_login_sends_item_error_without_request_id(item, server):
    server.reset_login(item.item_id)
    body = json.loads(server.outbox(item.item_id)[-1]["body"])
    assert (body["webhook_type"], body["webhook_code"]) == ("ITEM", "ERROR")
    assert body["error"]["error_code"] == "ITEM_LOGIN_REQUIRED"
    assert body["error"]["status"] == 400 and "request_id" not in body["error"]
    server.repair_login(item.item_id)
    assert json.loads(server.outbox(item.item_id)[-1]["body"])["webhook_code"] == "LOGIN_REPAIRED"


def test_new_account_is_announced_but_not_shared(api, item, server):
    from plaid.model.accounts_get_request import AccountsGetRequest
    account_id = server.new_account(item.item_id)
    body = json.loads(server.outbox(item.item_id)[-1]["body"])
    assert (body["webhook_code"], body["error"]) == ("NEW_ACCOUNTS_AVAILABLE", None)
    ids = [a.account_id for a in api.accounts_get(
        AccountsGetRequest(access_token=item.access_token)).accounts]
    assert account_id not in ids
    server.share_accounts(item.item_id, account_id)
    ids = [a.account_id for a in api.accounts_get(
        AccountsGetRequest(access_token=item.access_token)).accounts]
    assert account_id in ids
    history = [t for t in server.transactions(item.item_id).values()
               if t["account_id"] == account_id]
    assert history


def test_failed_delivery_is_retried_on_the_scaled_schedule(tmp_path, clock):
    with WebhookReceiver(statuses=[500, 500, 200]) as rx, EmulatorServer(
            tmp_path / "p.sqlite3", webhook_delivery="manual", clock=clock,
            webhook_retry_scale=0.01) as server:
        item = server.create_item(webhook=rx.url)
        server.fire_webhook(item.item_id, "SYNC_UPDATES_AVAILABLE")
        start = clock().timestamp()
        assert server.deliver_webhooks(force=False) == 1
        (row,) = server.outbox(item.item_id)
        assert (row["status"], row["attempts"], row["last_status"]) == ("pending", 1, 500)
        assert row["next_attempt_at"] == pytest.approx(start + 30 * 0.01)
        assert server.deliver_webhooks(force=False) == 0  # not due yet
        clock.advance(0.3)
        assert server.deliver_webhooks(force=False) == 1
        (row,) = server.outbox(item.item_id)
        assert row["next_attempt_at"] == pytest.approx(start + 0.3 + 120 * 0.01)
        clock.advance(1.2)
        server.deliver_webhooks(force=False)
        (row,) = server.outbox(item.item_id)
        assert (row["status"], row["attempts"], row["last_status"]) == ("delivered", 3, 200)
        assert len(set(rx.bodies())) == 1 and len(rx.bodies()) == 3


def test_429_retry_after_is_honoured_and_attempts_are_capped(tmp_path, clock):
    with WebhookReceiver(statuses=[429], headers={"Retry-After": "120"}) as rx, \
            EmulatorServer(tmp_path / "p.sqlite3", webhook_delivery="manual", clock=clock,
                           webhook_retry_scale=0.5, webhook_max_attempts=3) as server:
        item = server.create_item(webhook=rx.url)
        server.fire_webhook(item.item_id, "SYNC_UPDATES_AVAILABLE")
        server.deliver_webhooks(force=False)
        (row,) = server.outbox(item.item_id)
        assert row["next_attempt_at"] == pytest.approx(clock().timestamp() + 120 * 0.5)
        server.deliver_webhooks(force=True)
        (row,) = server.outbox(item.item_id)
        assert (row["status"], row["attempts"], row["last_status"]) == ("failed", 3, 429)
        assert len(row["attempt_log"]) == 3


def test_background_thread_delivers_and_retries(tmp_path):
    with WebhookReceiver(statuses=[500, 200]) as rx, EmulatorServer(
            tmp_path / "p.sqlite3", webhook_retry_scale=0.001) as server:
        item = server.create_item(webhook=rx.url)
        server.fire_webhook(item.item_id, "SYNC_UPDATES_AVAILABLE")
        deadline = time.monotonic() + 20
        while server.outbox(item.item_id)[0]["status"] != "delivered":
            assert time.monotonic() < deadline, "webhook was never delivered"
            time.sleep(0.02)
        assert len(rx.bodies()) == 2
