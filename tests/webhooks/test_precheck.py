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



def test_claims_plaid_does_not_send_are_not_checked_against_the_wall_clock():
    # The iat window on the app's clock is the rule; PyJWT's own exp/nbf/iat/aud checks would read the wall
    # clock (and refuse a token by claims Plaid never sends), so they stay off.
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    from hostadmin.webhooks.verify import verify

    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {**jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1", "alg": "ES256",
           "expired_at": None}
    later = 4_102_444_800  # 2100-01-01: an iat far past the wall clock, inside the app's window
    claims = {"iat": later, "request_body_sha256": hashlib.sha256(BODY).hexdigest(), "exp": 1,
              "nbf": later + 86_400 * 366, "aud": "someone else"}
    signed = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1", "typ": "JWT"})
    assert verify(BODY, signed, lambda kid: jwk if kid == "k1" else None, later).kid == "k1"


@pytest.mark.parametrize("where", [0, 1])
def test_a_header_or_claims_segment_with_characters_outside_base64url_is_malformed(where):
    # Python's base64 decoder would silently drop the "!" and read the rest: the alphabet is checked first.
    parts = token().split(".")
    parts[where] = parts[where][:4] + "!!!!" + parts[where][4:]  # dropped, the rest would read the same
    with pytest.raises(VerificationError) as refused:
        precheck(BODY, ".".join(parts), NOW)
    assert refused.value.reason == "malformed JWT"


def test_a_header_with_critical_extensions_is_malformed():
    claims = {"iat": NOW, "request_body_sha256": hashlib.sha256(BODY).hexdigest()}
    head, payload, _ = unsigned_token({"alg": "ES256", "kid": "k1", "crit": ["b64"]}, claims).split(".")
    with pytest.raises(VerificationError) as refused:
        precheck(BODY, f"{head}.{payload}.{GOOD_SIGNATURE}", NOW)
    assert refused.value.reason == "malformed JWT" and "crit" in str(refused.value)
