"""POST /webhooks/plaid accepts genuine Plaid webhooks and refuses everything else, changing nothing."""
import base64
import hashlib
import hmac
import json

import pytest
from cryptography.hazmat.primitives import serialization
from rq.job import Job
from sqlalchemy import func, select

from hostadmin.banking.models import PlaidItem
from hostadmin.extensions import db, queues
from hostadmin.imports.models import ImportRow
from hostadmin.plaid_local.signing import webhook_body
from hostadmin.webhooks.models import WebhookEvent
from tests.webhooks.conftest import make_item


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header, claims, signature=b""):
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), b64url(signature)])


def claims_for(body, iat):
    return {"iat": iat, "request_body_sha256": hashlib.sha256(body).hexdigest()}


@pytest.fixture
def item(host):
    item = make_item(host, "item-1")
    db.session.commit()
    return item


def queued_sync_jobs():
    return queues.get("sync").job_ids


def assert_nothing_changed(item):
    """No trusted event, no job, no status change, no import row."""
    db.session.expire_all()
    assert queued_sync_jobs() == []
    assert db.session.get(PlaidItem, item.id).status == "HEALTHY"
    assert db.session.scalar(select(func.count()).select_from(ImportRow)) == 0
    events = db.session.scalars(select(WebhookEvent)).all()
    assert all(not e.verified and e.outcome == "REJECTED" and e.body is None and e.item_id is None
               for e in events)
    return events


def test_genuine_webhook_is_recorded_dispatched_and_answered_200(sender, item):
    body = sender.body("SYNC_UPDATES_AVAILABLE", "item-1", initial_update_complete=True,
                       historical_update_complete=True)
    response = sender.post(body, sender.keys.sign(body))

    assert response.status_code == 200
    event = db.session.scalars(select(WebhookEvent)).one()
    assert (event.verified, event.webhook_type, event.webhook_code, event.plaid_item_id, event.item_id) == \
        (True, "TRANSACTIONS", "SYNC_UPDATES_AVAILABLE", "item-1", item.id)
    assert event.body_sha256 == hashlib.sha256(body).hexdigest()
    assert event.body["historical_update_complete"] is True
    assert event.outcome == "DISPATCHED" and event.job_id == f"sync-item-{item.id}"
    assert queued_sync_jobs() == [f"sync-item-{item.id}"]
    assert Job.fetch(event.job_id, connection=queues.connection).args == (item.id, "webhook")


def test_header_name_is_case_insensitive(sender, item):
    body = sender.body()
    response = sender.client.post("/webhooks/plaid", data=body,
                                  headers={"plaid-verification": sender.keys.sign(body)})
    assert response.status_code == 200


def forged(sender, case):
    """(body, token) for each way a request can fail verification."""
    keys, now = sender.keys, int(sender.plaid.emulator.now())
    body = sender.body()
    kid = keys.active_kid()
    if case == "missing header":
        return body, None
    if case == "malformed JWT":
        return body, "this.is-not-a.jwt"
    if case == "alg none":
        return body, unsigned_token({"alg": "none", "kid": kid, "typ": "JWT"}, claims_for(body, now))
    if case == "HS256 signed with the public key":
        public_pem = keys._key(kid).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        header, claims = {"alg": "HS256", "kid": kid, "typ": "JWT"}, claims_for(body, now)
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        return body, f"{signing_input}.{b64url(signature)}"
    if case == "unknown kid":
        return body, keys.sign_with_unknown_kid(body)
    if case == "expired key":
        old = kid
        keys.rotate()
        return body, keys.sign(body, kid=old)
    if case == "tampered body":
        token = keys.sign(body)
        return body.replace(b'"item-1"', b'"item-2"'), token
    if case == "different whitespace":
        token = keys.sign(body)
        return json.dumps(json.loads(body), separators=(",", ":"), sort_keys=True).encode(), token
    if case == "iat 6 minutes old":
        return body, keys.sign(body, iat=now - 360)
    if case == "iat 10 minutes in the future":
        return body, keys.sign(body, iat=now + 600)
    if case == "replayed JWT with a different body":
        token = keys.sign(sender.body("LOGIN_REPAIRED", "item-1"))
        return body, token
    if case == "signature from another key":
        from cryptography.hazmat.primitives.asymmetric import ec
        return body, keys.sign(body, kid=kid, key=ec.generate_private_key(ec.SECP256R1()))
    if case == "huge body":
        huge = webhook_body({"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
                             "item_id": "item-1", "padding": "x" * 200_000})
        return huge, keys.sign(huge)
    raise AssertionError(case)


FORGERIES = ["missing header", "malformed JWT", "alg none", "HS256 signed with the public key", "unknown kid",
             "expired key", "tampered body", "different whitespace", "iat 6 minutes old",
             "iat 10 minutes in the future", "replayed JWT with a different body", "signature from another key",
             "huge body"]


@pytest.mark.parametrize("case", FORGERIES)
def test_forged_or_stale_webhook_is_refused_and_changes_nothing(sender, item, case):
    body, token = forged(sender, case)
    response = sender.post(body, token)

    assert response.status_code == 401
    assert response.get_data(as_text=True) == "unauthorized\n"
    events = assert_nothing_changed(item)
    assert len(events) == 1 and events[0].rejection_reason


def test_rejection_reasons_say_what_failed(sender, item):
    reasons = {}
    for case in ("missing header", "alg none", "unknown kid", "expired key", "tampered body",
                 "iat 6 minutes old", "iat 10 minutes in the future", "huge body"):
        sender.post(*forged(sender, case))
        reasons[case] = db.session.scalars(select(WebhookEvent.rejection_reason)
                                           .order_by(WebhookEvent.id.desc()).limit(1)).one()
    assert reasons == {
        "missing header": "missing Plaid-Verification header",
        "alg none": "JWT alg is not ES256 ('none')",
        "unknown kid": "unknown key id",
        "expired key": "verification key has expired",
        "tampered body": "body does not match request_body_sha256",
        "iat 6 minutes old": "iat older than 5 minutes",
        "iat 10 minutes in the future": "iat in the future",
        "huge body": "body too large",
    }


def test_huge_body_is_refused_before_it_is_hashed(sender, item):
    _, token = forged(sender, "huge body")
    response = sender.post(b"x" * 200_000, token)
    assert response.status_code == 401
    assert db.session.scalars(select(WebhookEvent)).one().body_sha256 is None


def test_non_json_body_with_a_valid_signature_is_a_400(sender, item):
    body = b"this is not json"
    response = sender.post(body, sender.keys.sign(body))
    assert response.status_code == 400
    event = assert_nothing_changed(item)[0]
    assert event.rejection_reason == "body is not JSON"


def test_json_that_is_not_an_object_with_a_valid_signature_is_a_400(sender, item):
    body = b"[1, 2, 3]"
    assert sender.post(body, sender.keys.sign(body)).status_code == 400
    assert_nothing_changed(item)


def test_iat_at_the_edges_of_the_window_is_accepted(sender, item):
    now = int(sender.plaid.emulator.now())
    for iat in (now - 300, now + 60):
        body = sender.body()
        assert sender.post(body, sender.keys.sign(body, iat=iat)).status_code == 200


def test_a_replayed_jwt_with_its_own_body_is_accepted_as_a_duplicate(sender, item):
    body = sender.body()
    token = sender.keys.sign(body)
    assert [sender.post(body, token).status_code for _ in range(2)] == [200, 200]
    assert queued_sync_jobs() == [f"sync-item-{item.id}"]


def test_a_chunked_body_over_the_limit_is_refused_without_a_length_header(sender, item):
    import io

    body = b"{" + b" " * 100_000 + b"}"
    response = sender.client.post("/webhooks/plaid", input_stream=io.BytesIO(body), headers={
        "Plaid-Verification": sender.keys.sign(body), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})  # what gunicorn sets for a chunked request
    assert response.status_code == 401
    assert assert_nothing_changed(item)[0].rejection_reason == "body too large"


def test_other_methods_get_no_webhook_handling(sender, item):
    # Not a route for them: the login wall answers first (the endpoint is unknown), and nothing is recorded.
    assert sender.client.get("/webhooks/plaid").status_code == 302
    assert sender.client.put("/webhooks/plaid", data=b"{}").status_code == 302
    assert assert_nothing_changed(item) == []


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_python_only_json_constants_are_not_json(sender, item, constant):
    body = b'{"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE", "x": ' + constant + b"}"
    assert sender.post(body, sender.keys.sign(body)).status_code == 400
    assert assert_nothing_changed(item)[0].rejection_reason == "body is not JSON"


# -- exact boundaries ------------------------------------------------------------------------------
def signed(sender, body, claims, header_extra=None, kid=None):
    """A token signed with the emulator's active key over any claims and header fields."""
    import jwt

    keys = sender.keys
    kid = keys.active_kid() if kid is None else kid
    return jwt.encode(claims, keys._key(keys.active_kid()), algorithm="ES256",
                      headers={"kid": kid, "typ": "JWT", **(header_extra or {})})


def last_reason():
    return db.session.scalars(select(WebhookEvent.rejection_reason).order_by(WebhookEvent.id.desc()).limit(1)).one()


@pytest.mark.parametrize("offset, status", [(-300, 200), (-301, 401), (60, 200), (61, 401)])
def test_iat_window_is_exactly_five_minutes_back_and_one_minute_ahead(sender, item, offset, status):
    now = int(sender.plaid.emulator.now())
    body = sender.body()
    assert sender.post(body, sender.keys.sign(body, iat=now + offset)).status_code == status


@pytest.mark.parametrize("iat", [None, "1700000000", True, [1], {"n": 1}], ids=repr)
def test_a_signed_token_with_a_missing_or_non_numeric_iat_is_a_401(sender, item, iat):
    body = sender.body()
    claims = claims_for(body, iat)
    if iat is None:
        del claims["iat"]
    assert sender.post(body, signed(sender, body, claims)).status_code == 401
    assert last_reason() == "iat is not a number"
    assert_nothing_changed(item)


def test_a_signed_token_with_a_nan_iat_is_refused(sender, item):
    body = sender.body()
    token = signed(sender, body, claims_for(body, 0)).split(".")
    # PyJWT will not write NaN, Python's json reads it: put it in by hand, then sign those bytes.
    import jwt
    payload = b64url(b'{"iat": NaN, "request_body_sha256": "%s"}' % hashlib.sha256(body).hexdigest().encode())
    signing_input = f"{token[0]}.{payload}".encode()
    algorithm = jwt.get_algorithm_by_name("ES256")
    signature = algorithm.sign(signing_input, sender.keys._key(sender.keys.active_kid()))
    assert sender.post(body, f"{token[0]}.{payload}.{b64url(signature)}").status_code == 401


@pytest.mark.parametrize("kid, reason", [
    ("k" * 100, "unknown key id"),
    ("k" * 101, "JWT kid missing or malformed"),
    ("kid\n", "JWT kid missing or malformed"),
    ("\nkid", "JWT kid missing or malformed"),
    ("kid/../x", "JWT kid missing or malformed"),
    ("", "JWT kid missing or malformed"),
])
def test_kid_format_is_checked_over_the_whole_value(sender, item, kid, reason):
    body = sender.body()
    now = int(sender.plaid.emulator.now())
    assert sender.post(body, signed(sender, body, claims_for(body, now), kid=kid)).status_code == 401
    assert last_reason() == reason


def token_of_length(sender, body, length):
    """A genuine token padded (a header field, a claim) to exactly `length` characters."""
    now = int(sender.plaid.emulator.now())
    base = len(signed(sender, body, claims_for(body, now), header_extra={"pad": ""}))
    estimate = (length - base) * 3 // 4
    for extra in range(6):  # base64 lengths are never 1 mod 4: vary both segments
        claims = {**claims_for(body, now), "x": "y" * extra}
        for pad in range(estimate - 8, estimate + 8):
            token = signed(sender, body, claims, header_extra={"pad": "p" * pad})
            if len(token) == length:
                return token
    raise AssertionError(f"no token of length {length}")


@pytest.mark.parametrize("length, status", [(4096, 200), (4097, 401)])
def test_token_length_cap_is_exactly_4096_characters(sender, item, length, status):
    body = sender.body()
    token = token_of_length(sender, body, length)
    assert len(token) == length
    assert sender.post(body, token).status_code == status


def body_of_size(sender, size):
    body = sender.body()
    return body[:-1] + b" " * (size - len(body)) + b"}"


@pytest.mark.parametrize("size, status", [(64 * 1024, 200), (64 * 1024 + 1, 401)])
def test_body_limit_is_exactly_64_kib(sender, item, size, status):
    body = body_of_size(sender, size)
    assert len(body) == size
    response = sender.post(body, sender.keys.sign(body))
    assert response.status_code == status
    if status == 401:
        assert last_reason() == "body too large"


def nested(depth):
    return (b'{"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE", "item_id": "item-1", "x": '
            + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}")


@pytest.mark.parametrize("depth, status", [(32, 200), (33, 400), (990, 400), (30_000, 400)])
def test_a_signed_body_nested_too_deeply_is_a_400(sender, item, depth, status):
    body = nested(depth)
    assert sender.post(body, sender.keys.sign(body)).status_code == status
    if status == 400:
        assert last_reason() == "body is nested too deeply"
        assert_nothing_changed(item)


def test_a_deeply_nested_jwt_header_is_a_401(sender, item):
    body = sender.body()
    header = b64url(b'{"alg": "ES256", "kid": "k", "x": ' + b"[" * 1400 + b"]" * 1400 + b"}")
    token = f"{header}.{b64url(json.dumps(claims_for(body, 0)).encode())}.{b64url(b's' * 64)}"
    assert len(token) <= 4096
    assert sender.post(body, token).status_code == 401
    assert last_reason() == "malformed JWT"
