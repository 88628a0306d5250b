"""Full wire shapes of Plaid objects (PLAID.md §3): every key, right JSON type, null only where allowed."""
from datetime import date, datetime, timezone

LOCATION_KEYS = ("address", "city", "region", "postal_code", "country", "lat", "lon",
                 "store_number")
PAYMENT_META_KEYS = ("reference_number", "ppd_id", "payee", "by_order_of", "payer",
                     "payment_method", "payment_processor", "reason")
PRODUCTS = ["transactions"]


def iso_datetime(ts: float | None) -> str | None:
    """Render a unix timestamp as Plaid's RFC 3339 UTC string."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def amount_from_cents(cents: int) -> float:
    """Convert integer cents to the JSON number Plaid sends (+ = money out)."""
    return round(cents / 100, 2)


def transaction(*, transaction_id: str, account_id: str, amount_cents: int, txn_date: date,
                name: str, pending: bool, authorized_date: date | None = None,
                pending_transaction_id: str | None = None, merchant: dict | None = None,
                payment_channel: str = "other", category: tuple = ("GENERAL_MERCHANDISE",
                "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE"), location: dict | None = None,
                iso_currency_code: str = "USD", transaction_code: str | None = None,
                check_number: str | None = None, payment_meta: dict | None = None) -> dict:
    """Build a complete Transaction object; `merchant` is {name, entity_id, website, logo_url}."""
    merchant = merchant or {}
    primary, detailed = category
    counterparties = []
    if merchant.get("name"):
        counterparties.append({
            "name": merchant["name"], "type": merchant.get("type", "merchant"),
            "website": merchant.get("website"), "logo_url": merchant.get("logo_url"),
            "entity_id": merchant.get("entity_id"), "confidence_level": "VERY_HIGH"})
    loc = {key: None for key in LOCATION_KEYS}
    loc.update(location or {})
    meta = {key: None for key in PAYMENT_META_KEYS}
    meta.update(payment_meta or {})
    return {
        "account_id": account_id,
        "account_owner": None,
        "amount": amount_from_cents(amount_cents),
        "iso_currency_code": iso_currency_code,
        "unofficial_currency_code": None,
        "authorized_date": authorized_date.isoformat() if authorized_date else None,
        "authorized_datetime": None,
        "category": None,
        "category_id": None,
        "check_number": check_number,
        "counterparties": counterparties,
        "date": txn_date.isoformat(),
        "datetime": None,
        "location": loc,
        "logo_url": merchant.get("logo_url"),
        "merchant_entity_id": merchant.get("entity_id"),
        "merchant_name": merchant.get("name"),
        "name": name,
        "payment_channel": payment_channel,
        "payment_meta": meta,
        "pending": pending,
        "pending_transaction_id": pending_transaction_id,
        "personal_finance_category": {"primary": primary, "detailed": detailed,
                                      "confidence_level": "VERY_HIGH"},
        "personal_finance_category_icon_url":
            f"https://plaid-category-icons.plaid.com/PFC_{primary}.png",
        "transaction_code": transaction_code,
        "transaction_id": transaction_id,
        "transaction_type": "place" if payment_channel == "in store" else "special",
        "website": merchant.get("website"),
    }


def account(data: dict) -> dict:
    """Build an AccountBase from the stored account data (balances in cents)."""
    balances = data["balances"]
    body = {
        "account_id": data["account_id"],
        "balances": {
            "available": _money(balances.get("available")),
            "current": _money(balances.get("current")),
            "limit": _money(balances.get("limit")),
            "iso_currency_code": balances.get("iso_currency_code", "USD"),
            "unofficial_currency_code": None,
        },
        "mask": data.get("mask"),
        "name": data["name"],
        "official_name": data.get("official_name"),
        "type": data["type"],
        "subtype": data.get("subtype"),
        "holder_category": "personal",
    }
    # persistent_account_id is optional but not nullable in plaid-python: omit when absent.
    if data.get("persistent_account_id"):
        body["persistent_account_id"] = data["persistent_account_id"]
    return body


def _money(cents):
    return None if cents is None else amount_from_cents(cents)


def item(row, error: dict | None, *, with_consent: bool = False) -> dict:
    """Build an Item (or ItemWithConsentFields for /item/get) from an items row."""
    body = {
        "item_id": row["item_id"],
        "institution_id": row["institution_id"],
        "institution_name": row["institution_name"],
        "webhook": row["webhook"],
        "auth_method": None,
        "error": error,
        "available_products": ["balance"],
        "billed_products": list(PRODUCTS),
        "products": list(PRODUCTS),
        "consented_products": list(PRODUCTS),
        "consent_expiration_time": None,
        "update_type": "background",
    }
    if with_consent:
        body["created_at"] = iso_datetime(row["created_at"])
        body["consented_use_cases"] = []
        body["consented_data_scopes"] = []
    return body


def item_status(row) -> dict:
    """Build the `status` object of /item/get."""
    last_webhook = None
    if row["last_webhook_code"]:
        last_webhook = {"sent_at": iso_datetime(row["last_webhook_at"]),
                        "code_sent": row["last_webhook_code"]}
    return {
        "transactions": {
            "last_successful_update": iso_datetime(row["last_successful_update"]),
            "last_failed_update": iso_datetime(row["last_failed_update"]),
        },
        "last_webhook": last_webhook,
    }
