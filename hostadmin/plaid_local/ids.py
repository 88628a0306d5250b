"""Identifiers and tokens in Plaid's formats."""
import random
import secrets
import string
import uuid

_ALNUM = string.ascii_letters + string.digits
# Ids are not secrets, and generating 100k of them must be fast: a private, OS-seeded PRNG.
_ID_RNG = random.Random(secrets.randbits(128))


def plaid_id(length: int = 37) -> str:
    """Return a case-sensitive alphanumeric id like Plaid's item/account/transaction ids."""
    return "".join(_ID_RNG.choices(_ALNUM, k=length))


def request_id() -> str:
    """Return a short request id as Plaid puts in every response."""
    return "".join(secrets.choice(_ALNUM) for _ in range(15))


def token(kind: str, environment: str = "sandbox") -> str:
    """Return a `link-`, `public-` or `access-` token for the environment."""
    return f"{kind}-{environment}-{uuid.uuid4()}"
