"""A flood of forged webhooks costs a counter each, is cut off per client, and cannot keep out a genuine one."""
from sqlalchemy import func, select

from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.webhooks import flood
from hostadmin.webhooks.models import WebhookEvent
from tests.factories import make_user
from tests.webhooks.conftest import make_item
from tests.webhooks.test_keys import CountingPlaid
from tests.webhooks.test_verification import claims_for, unsigned_token


def rows():
    return db.session.scalar(select(func.count()).select_from(WebhookEvent))


def this_minute(reason):
    counts = list(flood.recent_counts(1).values())
    return counts[0].get(reason, 0) if counts else 0


def test_a_forged_flood_is_counted_per_reason_and_only_sampled_into_rows(app, sender, host):
    make_item(host, "item-1")
    db.session.commit()
    body = sender.body()
    now = int(sender.plaid.emulator.now())
    alg_none = unsigned_token({"alg": "none", "kid": "k1", "typ": "JWT"}, claims_for(body, now))
    for n in range(60):  # every one from its own address: the per-client limit is not what saves us here
        assert sender.post(body, alg_none, address=f"10.1.{n // 250}.{n % 250 + 1}").status_code == 401
        assert sender.post(body, None, address=f"10.2.{n // 250}.{n % 250 + 1}").status_code == 401

    samples = flood.DEFAULT_SAMPLES_PER_MINUTE
    assert rows() == 2 * samples
    assert this_minute("JWT alg is not ES256") == 60 and this_minute("missing Plaid-Verification header") == 60
    assert sender.send().status_code == 200 and rows() == 2 * samples + 1  # genuine webhooks are all stored


def test_samples_start_again_the_next_minute(app, sender, host, clock):
    body = sender.body()
    for _ in range(8):
        sender.post(body, None, address="10.3.0.1")
    clock.advance(minutes=1)
    for _ in range(8):
        sender.post(body, None, address="10.3.0.2")
    assert rows() == 2 * flood.DEFAULT_SAMPLES_PER_MINUTE
    assert [counts["missing Plaid-Verification header"] for counts in flood.recent_counts(5).values()] == [8, 8]


def test_a_random_kid_flood_does_not_keep_out_a_freshly_rotated_key(app, sender, host, plaid):
    make_item(host, "item-1")
    db.session.commit()
    counting = app.extensions["plaid"] = CountingPlaid(plaid.plaid_client())
    assert sender.send().status_code == 200
    body = sender.body()
    for n in range(40):
        assert sender.post(body, sender.keys.sign_with_unknown_kid(body), address=f"10.4.0.{n + 1}").status_code == 401
    new_kid = plaid.rotate_key()

    assert sender.send().status_code == 200  # signed with the new key, whose kid was never seen before
    assert counting.key_gets.count(new_kid) == 1


def test_a_kid_is_fetched_only_for_a_well_formed_current_token(app, sender, host, plaid):
    counting = app.extensions["plaid"] = CountingPlaid(plaid.plaid_client())
    keys, now = sender.keys, int(plaid.emulator.now())
    body = sender.body()
    import uuid

    from cryptography.hazmat.primitives.asymmetric import ec

    def forged(iat=None, signed_body=None, **header):
        token = keys.sign(signed_body or body, iat=now if iat is None else iat, kid=str(uuid.uuid4()),
                          key=ec.generate_private_key(ec.SECP256R1()))
        return token
    tokens = {
        "stale": forged(iat=now - 301),
        "future": forged(iat=now + 61),
        "other body": forged(signed_body=b"{}"),
        "short signature": forged().rsplit(".", 1)[0] + ".AAAA",
        "alg none": unsigned_token({"alg": "none", "kid": str(uuid.uuid4())}, claims_for(body, now)),
        "no iat": unsigned_token({"alg": "ES256", "kid": str(uuid.uuid4())},
                                 {"request_body_sha256": claims_for(body, now)["request_body_sha256"]}, b"s" * 64),
    }
    for n, token in enumerate(tokens.values()):
        assert sender.post(body, token, address=f"10.5.0.{n + 1}").status_code == 401
    assert counting.key_gets == []


def test_a_client_over_its_refusal_allowance_gets_429_and_other_clients_do_not(app, sender, host):
    make_item(host, "item-1")
    db.session.commit()
    app.config["WEBHOOK_REFUSALS_PER_CLIENT"] = "3 per minute"
    body = sender.body()
    statuses = [sender.post(body, None, address="203.0.113.9").status_code for _ in range(6)]

    assert statuses == [401, 401, 401, 429, 429, 429]
    limited = sender.post(body, None, address="203.0.113.9")
    assert limited.headers["Retry-After"] == "60" and limited.get_data(as_text=True) == "too many requests\n"
    assert sender.send(address="203.0.113.10").status_code == 200  # Plaid, from its own address
    assert rows() == 3 + 1  # a 429 is counted, never stored
    assert this_minute(flood.RATE_LIMITED) == 4


def test_genuine_webhooks_do_not_use_up_a_clients_allowance(app, sender, host):
    make_item(host, "item-1")
    db.session.commit()
    app.config["WEBHOOK_REFUSALS_PER_CLIENT"] = "3 per minute"
    assert [sender.send().status_code for _ in range(10)] == [200] * 10
    assert sender.post(sender.body(), None).status_code == 401


def test_ipv6_clients_share_an_allowance_per_64(app, sender, host):
    app.config["WEBHOOK_REFUSALS_PER_CLIENT"] = "2 per minute"
    body = sender.body()
    statuses = [sender.post(body, None, address=address).status_code
                for address in ("2001:db8::1", "2001:db8::2:3", "2001:db8::ffff", "2001:db8:0:1::1")]
    assert statuses == [401, 401, 429, 401]


def test_the_webhooks_page_shows_refusal_counts(app, sender, host, client, login_as, clock):
    body = sender.body()
    for n in range(12):
        sender.post(body, None, address=f"10.6.0.{n + 1}")
    clock.advance(minutes=2)
    sender.post(body, b"x".decode(), address="10.6.1.1")
    login_as(make_user(host, Role.ADMIN))

    page = client.get("/h/river/webhooks/").get_data(as_text=True)

    assert 'id="refusals"' in page
    assert ('<tr data-reason="missing Plaid-Verification header"><td>missing Plaid-Verification header</td>'
            '<td>0</td><td>12</td><td>12</td></tr>') in page
    assert '<tr data-reason="malformed JWT"><td>malformed JWT</td><td>1</td><td>1</td><td>1</td></tr>' in page


def test_flask_webhooks_refusals_prints_counts_per_minute_and_reason(app, sender, host, clock):
    body = sender.body()
    for n in range(7):
        sender.post(body, None, address=f"10.7.0.{n + 1}")
    clock.advance(minutes=1)
    sender.post(body, "not-a-jwt", address="10.7.1.1")

    result = app.test_cli_runner().invoke(args=["webhooks", "refusals", "--minutes", "5"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["2026-11-20 15:30 UTC        7  missing Plaid-Verification header",
                                          "2026-11-20 15:31 UTC        1  malformed JWT"]


def test_with_redis_down_refusals_are_still_sampled_and_webhooks_verified(app, sender, host, monkeypatch):
    from hostadmin.extensions import queues
    from tests.webhooks.test_keys import dead_redis

    make_item(host, "item-1")
    db.session.commit()
    monkeypatch.setattr(queues, "_connection", dead_redis())
    monkeypatch.setattr(flood._Local, "minute", None)
    body = sender.body()
    assert [sender.post(body, None, address=f"10.8.0.{n + 1}").status_code for n in range(10)] == [401] * 10
    assert rows() == flood.DEFAULT_SAMPLES_PER_MINUTE
    assert sender.send().status_code == 200
    assert flood.summary() is None
