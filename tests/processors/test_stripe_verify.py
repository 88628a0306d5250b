"""stripe.verify: the Stripe-Signature scheme through the official library, on raw bytes, on the app clock."""
import json
from datetime import datetime, timezone

import pytest
from stripe import WebhookSignature

from hostadmin.processors import stripe
from hostadmin.processors.verification import InvalidBody, VerificationError

SECRET = "whsec_unit_" + "7" * 24
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)
T = int(NOW.timestamp())
BODY = json.dumps({"id": "evt_1", "type": "charge.succeeded", "data": {"object": {"id": "ch_1"}}}).encode()


def header(body=BODY, secret=SECRET, t=T):
    return WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=t)


def reason(raw, sig, secret=SECRET, now=NOW):
    with pytest.raises(VerificationError) as caught:
        stripe.verify(raw, sig, secret, now)
    return caught.value.reason


def test_a_genuine_signature_gives_the_event():
    assert stripe.verify(BODY, header(), SECRET, NOW)["id"] == "evt_1"


def test_one_of_several_v1_signatures_is_enough_as_during_a_secret_roll():
    other = header(secret="whsec_old_" + "1" * 24).split(",")[1]
    assert stripe.verify(BODY, f"{header()},{other}", SECRET, NOW)["type"] == "charge.succeeded"


@pytest.mark.parametrize("sig", [None, ""])
def test_a_missing_header_is_refused(sig):
    assert reason(BODY, sig) == "missing signature header"


def test_the_wrong_secret_is_refused():
    assert reason(BODY, header(secret="whsec_wrong_" + "2" * 24)) == "bad signature"


def test_a_body_changed_by_one_byte_is_refused():
    assert reason(BODY.replace(b"ch_1", b"ch_2"), header()) == "bad signature"
    assert reason(BODY + b" ", header()) == "bad signature"


@pytest.mark.parametrize("sig", ["t=abc,v1=00", "v1=abcd", "t=1", "garbage", "t=1,v0=" + "0" * 64,
                                 "t=" + "9" * 30 + ",v1=00"])
def test_a_malformed_header_is_refused(sig):
    assert reason(BODY, sig) == "bad signature"


def test_an_overlong_header_is_refused_before_any_hmac():
    assert reason(BODY, "t=1," + "v1=" + "0" * 3000) == "signature header too long"


def test_a_signature_older_or_newer_than_five_minutes_is_stale():
    assert stripe.verify(BODY, header(t=T - 300), SECRET, NOW)
    assert stripe.verify(BODY, header(t=T + 300), SECRET, NOW)
    assert reason(BODY, header(t=T - 301)) == "stale timestamp"
    assert reason(BODY, header(t=T + 301)) == "stale timestamp"


def test_the_timestamp_that_counts_is_the_signed_one():
    genuine = header(t=T - 400)
    assert reason(BODY, genuine) == "stale timestamp"
    # A fresh t put in front does not change what the HMAC covered, so it is not accepted either.
    assert reason(BODY, f"t={T}," + genuine) == "bad signature"


def test_a_body_that_is_not_utf8_is_refused():
    raw = b"\xff\xfe"
    assert reason(raw, "t=1,v1=00") == "body is not UTF-8"


@pytest.mark.parametrize("body", [b"[1]", b"not json", json.dumps({"id": "evt"}).encode(),
                                  json.dumps({"id": "e", "type": "x", "data": {"object": []}}).encode(),
                                  b'{"id": "e", "type": "x", "n": NaN}'])
def test_a_signed_body_that_is_not_a_stripe_event_is_invalid(body):
    with pytest.raises(InvalidBody):
        stripe.verify(body, header(body), SECRET, NOW)


@pytest.mark.parametrize("value,currency,expected", [
    (5000, "USD", 5000), (500, "JPY", 500), (1234, "KWD", 1234), (50000, "ISK", 500), (0, "USD", 0),
])
def test_stripe_amounts_become_cldr_minor_units(value, currency, expected):
    assert stripe.amount_of(value, currency) == expected


@pytest.mark.parametrize("value", [-1, 1.5, "100", True, None])
def test_amounts_that_are_not_whole_non_negative_numbers_are_refused(value):
    with pytest.raises(InvalidBody):
        stripe.amount_of(value, "USD")


def test_an_isk_amount_that_is_not_whole_kronur_is_refused():
    with pytest.raises(InvalidBody, match="not a whole amount"):
        stripe.amount_of(50001, "ISK")
