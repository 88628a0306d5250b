"""wise.verify: X-Signature-SHA256, RSA-SHA256 over the raw body with Wise's public key."""
import base64
import json

import pytest

from hostadmin.processors import wise
from hostadmin.processors.verification import InvalidBody, VerificationError
from tests.processors.keys import rsa_key_pair
from tests.processors.wise_sender import WiseSender

PRIVATE, PUBLIC = rsa_key_pair()
OTHER, _ = rsa_key_pair()
SENDER = WiseSender(None, PRIVATE)
BODY = SENDER.body()


def reason(raw, signature):
    with pytest.raises(VerificationError) as caught:
        wise.verify(raw, signature, PUBLIC)
    return caught.value.reason


def test_a_genuine_signature_gives_the_event():
    assert wise.verify(BODY, SENDER.sign(BODY), PUBLIC)["event_type"] == "transfers#state-change"


@pytest.mark.parametrize("signature", [None, ""])
def test_a_missing_signature_is_refused(signature):
    assert reason(BODY, signature) == "missing signature header"


def test_a_signature_by_another_key_is_refused():
    assert reason(BODY, SENDER.sign(BODY, OTHER)) == "bad signature"


def test_a_body_changed_by_one_byte_is_refused():
    assert reason(BODY.replace(b"4242", b"4243"), SENDER.sign(BODY)) == "bad signature"
    assert reason(BODY + b"\n", SENDER.sign(BODY)) == "bad signature"


@pytest.mark.parametrize("signature,expected", [("not base64!", "signature is not base64"),
                                                ("QUJD", "bad signature"),
                                                ("A" * 701, "signature header too long")])
def test_a_malformed_signature_is_refused(signature, expected):
    assert reason(BODY, signature) == expected


def test_a_truncated_signature_is_refused():
    good = base64.b64decode(SENDER.sign(BODY))
    assert reason(BODY, base64.b64encode(good[:-1]).decode()) == "bad signature"


def test_a_signed_body_that_is_not_an_object_is_invalid():
    with pytest.raises(InvalidBody):
        wise.verify(b"[1]", SENDER.sign(b"[1]"), PUBLIC)


def test_the_event_id_is_the_transfer_its_state_and_when():
    event_id, kind = wise.event_identity(json.loads(BODY))
    assert (event_id, kind) == ("4242:outgoing_payment_sent:2026-11-19T10:00:00Z", "transfers#state-change")


def test_the_test_notification_header_is_read_case_insensitively():
    assert wise.is_test_notification({"X-Test-Notification": "TRUE"})
    assert not wise.is_test_notification({"X-Test-Notification": "false"})
    assert not wise.is_test_notification({})
