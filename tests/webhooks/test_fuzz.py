"""Whatever arrives at /webhooks/plaid, the answer is never a server error."""
import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hostadmin.extensions import db
from tests.webhooks.conftest import make_item

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def json_like(floats):
    return st.recursive(st.none() | st.booleans() | st.integers() | floats | st.text(max_size=20),
                        lambda children: st.lists(children, max_size=4)
                        | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=10)


json_values = json_like(st.floats())  # NaN and Infinity too: Python writes them, JSON has no such thing
finite_json = json_like(st.floats(allow_nan=False, allow_infinity=False))

jwt_like = st.builds(lambda header, claims, sig: f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(sig)}",
                     st.fixed_dictionaries({"alg": st.sampled_from(["ES256", "none", "HS256", "RS256", ""]) | st.text(max_size=8)},
                                           optional={"kid": st.text(max_size=40) | json_values, "typ": json_values}),
                     st.dictionaries(st.sampled_from(["iat", "request_body_sha256", "exp"]), json_values),
                     st.binary(max_size=80))

plaid_error = st.fixed_dictionaries({}, optional={"error_code": st.text(max_size=30), "display_message": st.text(),
                                                 "error_message": st.text(), "status": finite_json})

headers = st.one_of(st.none(), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=300),
                    jwt_like)


@pytest.fixture
def item(app, host):
    app.config["WEBHOOK_REFUSALS_PER_CLIENT"] = "100000 per minute"  # every example must reach verification
    make_item(host, "item-1")
    db.session.commit()


@FUZZ
@given(token=headers, body=st.binary(max_size=500) | json_values.map(lambda v: json.dumps(v).encode()))
def test_random_headers_and_bodies_never_cause_a_server_error(sender, item, token, body):
    response = sender.post(body, token)
    assert response.status_code in (401, 400)


@FUZZ
@given(payload=st.dictionaries(st.sampled_from(["webhook_type", "webhook_code", "item_id", "error",
                                                "consent_expiration_time", "disconnect_time", "new_webhook_url"]),
                               finite_json)
       | st.fixed_dictionaries({"webhook_type": st.sampled_from(["ITEM", "TRANSACTIONS"]),
                                "webhook_code": st.sampled_from(["ERROR", "PENDING_EXPIRATION", "PENDING_DISCONNECT",
                                                                 "LOGIN_REPAIRED", "SYNC_UPDATES_AVAILABLE",
                                                                 "NEW_ACCOUNTS_AVAILABLE", "USER_PERMISSION_REVOKED"]),
                                "item_id": st.just("item-1")},
                               optional={"error": finite_json | plaid_error, "consent_expiration_time": finite_json,
                                         "disconnect_time": finite_json}))
def test_odd_but_genuinely_signed_bodies_are_answered_200(sender, item, payload):
    body = json.dumps(payload, indent=2).encode()
    response = sender.post(body, sender.keys.sign(body))
    assert response.status_code == 200
