"""What is checked of a Plaid webhook token before any key is fetched: exactly, field by field."""
import hashlib

import pytest

from hostadmin.webhooks.verify import VerificationError, precheck
from tests.webhooks.test_verification import unsigned_token

BODY = b'{"webhook_type": "TRANSACTIONS"}'
NOW = 1_795_000_000
GOOD_SIGNATURE = "A" * 86


def token(signature=GOOD_SIGNATURE, claimed=None, iat=NOW):
    claims = {"iat": iat, "request_body_sha256": hashlib.sha256(BODY).hexdigest() if claimed is None else claimed}
    head, payload, _ = unsigned_token({"alg": "ES256", "kid": "k1", "typ": "JWT"}, claims).split(".")
    return f"{head}.{payload}.{signature}"


def test_a_plausible_token_passes_with_its_kid_and_the_bodys_hash():
    found = precheck(BODY, token(), NOW)
    assert (found.kid, found.iat, found.body_sha256) == ("k1", NOW, hashlib.sha256(BODY).hexdigest())


@pytest.mark.parametrize("signature", ["A" * 85, "A" * 87, "A" * 85 + "!", "A" * 85 + "=", "A" * 85 + "."])
def test_a_signature_of_another_size_or_alphabet_is_refused_before_any_key(signature):
    with pytest.raises(VerificationError) as refused:
        precheck(BODY, token(signature=signature), NOW)
    assert refused.value.reason == "malformed JWT"


@pytest.mark.parametrize("claimed", ["Z" * 64, "A" * 64, "a" * 63, "a" * 65, 12, 0, ["a" * 64]])
def test_a_body_hash_that_is_not_64_lower_case_hex_digits_is_a_malformed_claim(claimed):
    with pytest.raises(VerificationError) as refused:
        precheck(BODY, token(claimed=claimed), NOW)
    assert refused.value.reason == "JWT claims malformed"


def test_a_well_formed_hash_of_another_body_is_refused_as_such():
    with pytest.raises(VerificationError) as refused:
        precheck(BODY, token(claimed="a" * 64), NOW)
    assert refused.value.reason == "body does not match request_body_sha256"

