"""Realistic, seed-deterministic transaction data for a fiscal host's bank accounts."""
import random
from datetime import date, timedelta

from . import ids, objects

# (name on statement, merchant, entity id, website, PFC primary, detailed, channel,
#  min cents, max cents, direction) — direction +1 is money out, -1 is money in.
MERCHANTS = [
    ("AMAZON WEB SERVICES AWS.AMAZON.CO", "Amazon Web Services", "AWS001", "aws.amazon.com",
     "GENERAL_SERVICES", "GENERAL_SERVICES_OTHER_GENERAL_SERVICES", "online", 2_000, 90_000, 1),
    ("GITHUB INC SAN FRANCISCO CA", "GitHub", "GTH001", "github.com", "GENERAL_SERVICES",
     "GENERAL_SERVICES_OTHER_GENERAL_SERVICES", "online", 400, 21_000, 1),
    ("ZOOM.US 888-799-9666", "Zoom", "ZOM001", "zoom.us", "GENERAL_SERVICES",
     "GENERAL_SERVICES_OTHER_GENERAL_SERVICES", "online", 1_499, 24_990, 1),
    ("OFFICE DEPOT #1023", "Office Depot", "ODP001", "officedepot.com", "GENERAL_MERCHANDISE",
     "GENERAL_MERCHANDISE_OFFICE_SUPPLIES", "in store", 899, 34_500, 1),
    ("STARBUCKS STORE 08812", "Starbucks", "SBX001", "starbucks.com", "FOOD_AND_DRINK",
     "FOOD_AND_DRINK_COFFEE", "in store", 325, 4_800, 1),
    ("UBER TRIP HELP.UBER.COM", "Uber", "UBR001", "uber.com", "TRANSPORTATION",
     "TRANSPORTATION_TAXIS_AND_RIDE_SHARES", "online", 950, 8_900, 1),
    ("UNITED AIRLINES 0162", "United Airlines", "UAL001", "united.com", "TRAVEL",
     "TRAVEL_FLIGHTS", "online", 18_900, 96_000, 1),
    ("MARRIOTT HOTEL BOSTON", "Marriott", "MAR001", "marriott.com", "TRAVEL",
     "TRAVEL_LODGING", "in store", 21_000, 180_000, 1),
    ("COMCAST BUSINESS", "Comcast", "CMC001", "comcast.com", "RENT_AND_UTILITIES",
     "RENT_AND_UTILITIES_INTERNET_AND_CABLE", "other", 8_900, 24_900, 1),
    ("GUSTO PAYROLL", "Gusto", "GUS001", "gusto.com", "TRANSFER_OUT",
     "TRANSFER_OUT_ACCOUNT_TRANSFER", "other", 250_000, 1_400_000, 1),
    ("STRIPE TRANSFER ST-8K2J", "Stripe", "STR001", "stripe.com", "INCOME",
     "INCOME_OTHER_INCOME", "other", 5_000, 900_000, -1),
    ("GITHUB SPONSORS PAYOUT", "GitHub", "GTH001", "github.com", "INCOME",
     "INCOME_OTHER_INCOME", "other", 2_500, 250_000, -1),
    ("ACH DEPOSIT DONATION", None, None, None, "TRANSFER_IN", "TRANSFER_IN_DEPOSIT",
     "other", 1_000, 500_000, -1),
    ("WIRE TRANSFER IN FOUNDATION GRANT", None, None, None, "TRANSFER_IN",
     "TRANSFER_IN_DEPOSIT", "other", 500_000, 5_000_000, -1),
    ("PAYPAL TRANSFER", "PayPal", "PYP001", "paypal.com", "TRANSFER_IN",
     "TRANSFER_IN_ACCOUNT_TRANSFER", "online", 1_500, 120_000, -1),
]
SAVINGS_ITEMS = [
    ("INTEREST PAYMENT", "INCOME", "INCOME_INTEREST_EARNED", 150, 9_000, -1, "interest"),
    ("ONLINE TRANSFER FROM CHECKING", "TRANSFER_IN", "TRANSFER_IN_ACCOUNT_TRANSFER", 50_000,
     500_000, -1, "transfer"),
    ("ONLINE TRANSFER TO CHECKING", "TRANSFER_OUT", "TRANSFER_OUT_ACCOUNT_TRANSFER", 50_000,
     300_000, 1, "transfer"),
]
CITIES = [("Boston", "MA", "02110"), ("Oakland", "CA", "94612"), ("Austin", "TX", "78701"),
          ("Portland", "OR", "97204")]


def new_transaction(rng: random.Random, account: dict, day: date, *, pending: bool = False,
                    amount_cents: int | None = None, name: str | None = None) -> dict:
    """Return one realistic Transaction for the account on `day`."""
    if account.get("subtype") in ("savings", "money market", "cd"):
        label, primary, detailed, low, high, sign, code = rng.choice(SAVINGS_ITEMS)
        cents = amount_cents if amount_cents is not None else sign * rng.randint(low, high)
        return objects.transaction(
            transaction_id=ids.plaid_id(), account_id=account["account_id"],
            amount_cents=cents, txn_date=day, authorized_date=day, name=name or label,
            pending=pending, category=(primary, detailed), transaction_code=code)
    pool = MERCHANTS if account.get("type") == "depository" else [
        m for m in MERCHANTS if m[9] == 1] + [("PAYMENT THANK YOU", None, None, None,
                                             "LOAN_PAYMENTS", "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT",
                                             "other", 50_000, 400_000, -1)]
    label, merchant, entity, website, primary, detailed, channel, low, high, sign = rng.choice(pool)
    cents = amount_cents if amount_cents is not None else sign * rng.randint(low, high)
    location = None
    if channel == "in store":
        city, region, postal = rng.choice(CITIES)
        location = {"city": city, "region": region, "postal_code": postal, "country": "US"}
    merchant_info = None
    if merchant:
        merchant_info = {"name": merchant, "entity_id": entity * 3 + "x" * 28,
                         "website": website,
                         "logo_url": f"https://plaid-merchant-logos.plaid.com/{entity.lower()}.png"}
    authorized = day - timedelta(days=0 if pending else rng.randint(0, 3))
    return objects.transaction(
        transaction_id=ids.plaid_id(), account_id=account["account_id"], amount_cents=cents,
        txn_date=day, authorized_date=authorized, name=name or label, pending=pending,
        merchant=merchant_info, payment_channel=channel, category=(primary, detailed),
        location=location, transaction_code="purchase" if sign > 0 else "transfer")


def history(rng: random.Random, accounts: list[dict], today: date, *, months: int = 3,
            per_month: int = 12, pending: int = 2) -> list[dict]:
    """Return months of posted history plus a few pending transactions, oldest first."""
    days = months * 30
    out = []
    for account in accounts:
        count = max(1, per_month * months // (2 if account["subtype"] != "checking" else 1))
        for _ in range(count):
            out.append(new_transaction(rng, account, today - timedelta(days=rng.randint(2, days))))
        for _ in range(pending if account["subtype"] == "checking" else 0):
            out.append(new_transaction(rng, account, today - timedelta(days=rng.randint(0, 1)),
                                       pending=True))
    out.sort(key=lambda t: t["date"])  # stable: ids are random, the order must not be
    return out


def busy_history(rng: random.Random, accounts: list[dict], today: date, count: int, *,
                 start: int = 0, total: int | None = None, days: int = 730) -> list[dict]:
    """Return transactions start..start+count of `total` spread over `days`, oldest first."""
    total = total or count
    out = []
    weights = [6, 1, 3][:len(accounts)] + [1] * max(0, len(accounts) - 3)
    for i in range(start, start + count):
        account = rng.choices(accounts, weights)[0]
        day = today - timedelta(days=days - (i * days) // total)
        out.append(new_transaction(rng, account, day))
    return out
