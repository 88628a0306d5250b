"""Verification keys: fetched from Plaid once, shared through Redis, refreshed on a new kid, never hammered."""
import pytest
import redis
from sqlalchemy import select

from hostadmin.extensions import db, queues
from hostadmin.webhooks.keys import KeyUnavailable, fetch_from_plaid, key_cache
from hostadmin.webhooks.models import WebhookEvent
from tests.webhooks.conftest import make_item


class CountingPlaid:
    """Wraps the app's Plaid client and counts /webhook_verification_key/get calls per kid."""

    def __init__(self, client):
        self._client, self.key_gets = client, []

    def webhook_verification_key_get(self, request, **kwargs):
        self.key_gets.append(request.key_id)
        return self._client.webhook_verification_key_get(request, **kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.fixture
def counting(app, plaid):
    counting = app.extensions["plaid"] = CountingPlaid(plaid.plaid_client())
    return counting


@pytest.fixture
def item(host):
    item = make_item(host, "item-1")
    db.session.commit()
    return item


def dead_redis():
    return redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)


def test_a_key_is_fetched_once_then_served_from_the_cache(sender, item, counting):
    for _ in range(5):
        assert sender.send().status_code == 200
    assert counting.key_gets == [sender.keys.active_kid()]


def test_the_key_cache_is_shared_by_every_process_through_redis(app, sender, item, counting):
    sender.send()
    key_cache(app).clear_local()  # a second process: empty local cache, same Redis
    sender.send()
    assert counting.key_gets == [sender.keys.active_kid()]


def test_an_unknown_kid_is_asked_once_per_negative_cache_period(sender, item, counting):
    body = sender.body()
    token = sender.keys.sign_with_unknown_kid(body)
    responses = [sender.post(body, token).status_code for _ in range(5)]
    assert responses == [401] * 5
    assert len(counting.key_gets) == 1


def test_random_kids_from_one_client_are_cut_off_by_its_refusal_allowance(app, sender, item, counting):
    app.config["WEBHOOK_REFUSALS_PER_CLIENT"] = "5 per minute"
    body = sender.body()
    statuses = [sender.post(body, sender.keys.sign_with_unknown_kid(body)).status_code for _ in range(12)]
    assert statuses == [401] * 5 + [429] * 7
    assert len(counting.key_gets) == 5  # the 429s are answered before any key is looked up


def test_each_kid_has_its_own_fetch_budget(app, sender, item, counting, plaid):
    plaid.fail_next("/webhook_verification_key/get", "INTERNAL_SERVER_ERROR", count=2)
    body = sender.body()
    failing = sender.keys.sign_with_unknown_kid(body)
    reasons = [sender.post(body, failing) and db.session.scalars(
        select(WebhookEvent.rejection_reason).order_by(WebhookEvent.id.desc()).limit(1)).one() for _ in range(3)]
    assert reasons == ["key fetch failed (INTERNAL_SERVER_ERROR)"] * 2 + ["key fetch budget for this kid is spent"]
    assert len(counting.key_gets) == 2
    assert sender.send().status_code == 200  # the genuine kid's budget is untouched (and Plaid answers again)


def test_a_new_kid_after_rotation_is_fetched_and_the_old_key_is_then_refused(sender, item, counting):
    old_kid = sender.keys.active_kid()
    assert sender.send().status_code == 200
    new_kid = sender.keys.rotate()
    assert sender.send().status_code == 200  # signed with the new key: unknown kid, fetched
    body = sender.body()
    late = sender.post(body, sender.keys.sign(body, kid=old_kid))  # a retry still signed with the old key
    assert late.status_code == 401
    assert counting.key_gets == [old_kid, new_kid, old_kid]  # the refresh learnt the old key's expired_at


def test_plaid_unreachable_refuses_without_caching_the_failure(app, sender, item, plaid):
    plaid.fail_next("/webhook_verification_key/get", "INTERNAL_SERVER_ERROR")
    assert sender.send().status_code == 401
    reason = db.session.scalars(select(WebhookEvent.rejection_reason)).one()
    assert reason == "key fetch failed (INTERNAL_SERVER_ERROR)"
    assert sender.send().status_code == 200  # Plaid's retry succeeds


def test_verification_works_while_redis_is_down(app, sender, item, counting, monkeypatch):
    monkeypatch.setattr(queues, "_connection", dead_redis())
    assert sender.send().status_code == 200
    assert sender.send().status_code == 200
    assert counting.key_gets == [sender.keys.active_kid()]  # the process keeps its own copy


def test_fetch_from_plaid_returns_the_published_jwk(app, plaid):
    kid = plaid.emulator.keys.active_kid()
    jwk = fetch_from_plaid(kid)
    assert jwk["kid"] == kid and jwk["alg"] == "ES256" and jwk["crv"] == "P-256" and jwk["expired_at"] is None
    assert fetch_from_plaid("00000000-0000-0000-0000-000000000000") is None


def test_key_fetch_errors_surface_as_key_unavailable(app, plaid):
    plaid.fail_next("/webhook_verification_key/get", "PLANNED_MAINTENANCE")
    with pytest.raises(KeyUnavailable):
        fetch_from_plaid(plaid.emulator.keys.active_kid())
