"""What every processor's webhook check raises, and the JSON parse after it: the Plaid endpoint's own."""
from hostadmin.webhooks.verify import InvalidBody, VerificationError, parse_body

__all__ = ["InvalidBody", "VerificationError", "parse_json"]


def parse_json(raw):
    """The verified body as a JSON object (no NaN, bounded nesting); InvalidBody for anything else."""
    return parse_body(raw)
