"""Plaid's /sandbox/* endpoints."""
from datetime import date, timedelta

from flask import Blueprint

from . import firing, institutions
from .errors import PlaidAPIError, invalid_field
from .wire import emulator, get, plaid_endpoint

bp = Blueprint("plaid_sandbox", __name__)


@plaid_endpoint(bp, "/sandbox/public_token/create")
def sandbox_public_token_create(body):
    """Create an Item without Link and return a public token for it."""
    em = emulator()
    institution_id = get(body, "institution_id", str, required=True)
    products = get(body, "initial_products", list, required=True)
    if not products:
        raise invalid_field("initial_products must contain at least one product")
    if institution_id not in institutions.INSTITUTIONS:
        raise PlaidAPIError("INVALID_INSTITUTION")
    options = get(body, "options", dict, default={}) or {}
    txn_options = get(options, "transactions", dict, default={}) or {}
    days = get(txn_options, "days_requested", int, default=None)
    start = get(txn_options, "start_date", str, default=None)
    if days is None and start:
        try:
            days = (em.today() - date.fromisoformat(start)).days
        except ValueError:
            raise invalid_field("options.transactions.start_date must be a date") from None
    days = days or 90
    if not 1 <= days <= 730:
        raise invalid_field("options.transactions.days_requested must be between 1 and 730")
    item_id = em.create_item(institution_id, webhook=get(options, "webhook", str, nullable=True),
                             username=get(options, "override_username", str,
                                          default="user_good") or "user_good",
                             days_requested=days)
    return {"public_token": em.issue_public_token(item_id)}


@plaid_endpoint(bp, "/sandbox/item/fire_webhook")
def sandbox_item_fire_webhook(body):
    """Fire one of the sandbox webhooks at the Item's webhook URL."""
    em = emulator()
    item = em.item_for_token(get(body, "access_token", str, required=True))
    firing.fire(em, item["item_id"], get(body, "webhook_code", str, required=True),
                get(body, "webhook_type", str, nullable=True))
    return {"webhook_fired": True}


@plaid_endpoint(bp, "/sandbox/item/reset_login")
def sandbox_item_reset_login(body):
    """Force the Item into ITEM_LOGIN_REQUIRED (fires ITEM:ERROR)."""
    em = emulator()
    item = em.item_for_token(get(body, "access_token", str, required=True))
    em.reset_login(item["item_id"])
    return {"reset_login": True}


@plaid_endpoint(bp, "/sandbox/transactions/create")
def sandbox_transactions_create(body):
    """Add up to 10 posted transactions to the Item's depository account."""
    em = emulator()
    item = em.item_for_token(get(body, "access_token", str, required=True))
    txns = get(body, "transactions", list, required=True)
    if not 1 <= len(txns) <= 10:
        raise invalid_field("transactions must contain between 1 and 10 transactions")
    today, specs = em.today(), []
    for index, txn in enumerate(txns):
        if not isinstance(txn, dict):
            raise invalid_field(f"transactions[{index}] must be an object")
        transacted = _date(txn, "date_transacted", index)
        posted = _date(txn, "date_posted", index)
        amount = get(txn, "amount", (int, float), required=True)
        description = get(txn, "description", str, required=True)
        for day in (transacted, posted):
            if not today - timedelta(days=14) <= day <= today:
                raise invalid_field("transaction dates must be today or within the last 14 days")
        if posted < transacted:
            raise invalid_field("date_posted must not be before date_transacted")
        specs.append({"amount": amount, "date": posted.isoformat(), "name": description,
                      "authorized_date": transacted.isoformat(),
                      "iso_currency_code": get(txn, "iso_currency_code", str, default="USD")})
    em.add_transactions(item["item_id"], specs=specs)
    return {}


def _date(txn: dict, name: str, index: int) -> date:
    try:
        return date.fromisoformat(get(txn, name, str, required=True))
    except ValueError:
        raise invalid_field(f"transactions[{index}].{name} must be a YYYY-MM-DD date") from None
