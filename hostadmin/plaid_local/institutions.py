"""Seeded sandbox institutions and the accounts a new Item gets at each."""

INSTITUTIONS = {
    "ins_109508": {"name": "First Platypus Bank", "persistent_ids": False},
    "ins_109509": {"name": "First Gingham Credit Union", "persistent_ids": False},
    "ins_109510": {"name": "Tattersall Federal Credit Union", "persistent_ids": False},
    "ins_109511": {"name": "Tartan Bank", "persistent_ids": True},
    # Authenticates by OAuth: with a redirect_uri, Link sends the browser through the bank's page and back.
    "ins_127287": {"name": "Platypus OAuth Bank", "persistent_ids": False, "oauth": True},
}
DEFAULT_INSTITUTION = "ins_109508"

# (name, official_name, type, subtype, opening balance cents, credit limit cents)
ACCOUNT_TEMPLATES = [
    ("Business Checking", "Platinum Business Checking", "depository", "checking",
     4_812_455, None),
    ("Business Savings", "High-Yield Business Savings", "depository", "savings",
     12_000_000, None),
    ("Business Credit Card", "Business Rewards Visa Signature", "credit", "credit card",
     -184_312, 2_500_000),
]
# Accounts that appear later at the bank (NEW_ACCOUNTS_AVAILABLE), in the order they open.
EXTRA_ACCOUNT_TEMPLATES = [
    ("Reserve Money Market", "Business Money Market Reserve", "depository", "money market",
     2_500_000, None),
    ("Grants Checking", "Restricted Grants Checking", "depository", "checking", 750_000, None),
    ("Operating CD", "12-Month Certificate of Deposit", "depository", "cd", 5_000_000, None),
]


def institution_name(institution_id: str) -> str | None:
    """Return the display name of a seeded institution, or None if unknown."""
    info = INSTITUTIONS.get(institution_id)
    return info["name"] if info else None
