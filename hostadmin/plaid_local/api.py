"""Plaid endpoints for Link tokens, Items, accounts and webhook verification keys."""
from flask import Blueprint

from . import objects
from .errors import invalid_field
from .wire import emulator, get, missing, plaid_endpoint

bp = Blueprint("plaid_api", __name__)
REMOVE_REASONS = ("FRAUD_FIRST_PARTY", "FRAUD_FALSE_IDENTITY", "FRAUD_ABUSE", "FRAUD_OTHER",
                  "CONNECTION_IS_NON_FUNCTIONAL", "OTHER")
KNOWN_PRODUCTS = ("transactions", "auth", "identity", "assets", "investments", "liabilities",
                  "income_verification", "signal", "statements", "transfer")


@plaid_endpoint(bp, "/link/token/create")
def link_token_create(body):
    """Create a Link token for a new Item or, with access_token, for update mode."""
    em = emulator()
    get(body, "client_name", str, required=True)
    language = get(body, "language", str, required=True)
    countries = get(body, "country_codes", list, required=True)
    if not countries or not all(isinstance(c, str) for c in countries):
        raise invalid_field("country_codes must be a non-empty list of country codes")
    user = get(body, "user", dict)
    user_id = get(body, "user_id", str)
    if user is None and user_id is None:
        raise missing("user")
    client_user_id = user_id
    if user is not None:
        client_user_id = get(user, "client_user_id", str, required=True)
    access_token = get(body, "access_token", str, nullable=True)
    update = get(body, "update", dict, default={}) or {}
    products = get(body, "products", list, nullable=True) or []
    item_id = None
    if access_token:
        item_id = em.item_for_token(access_token)["item_id"]
    elif "transactions" not in products:
        raise invalid_field("products must include transactions")
    for product in products:
        if product not in KNOWN_PRODUCTS:
            raise invalid_field(f"products contains an invalid product: {product}")
    days = get(get(body, "transactions", dict, default={}) or {}, "days_requested", int,
               default=90)
    if not 1 <= days <= 730:
        raise invalid_field("transactions.days_requested must be between 1 and 730")
    data = {"client_name": body["client_name"], "language": language, "country_codes": countries,
            "client_user_id": client_user_id, "products": products,
            "webhook": get(body, "webhook", str, nullable=True), "days_requested": days,
            "account_selection_enabled": bool(get(update, "account_selection_enabled", bool,
                                                  default=False)),
            "redirect_uri": get(body, "redirect_uri", str, nullable=True)}
    link_token, expiration = em.create_link_token(data, item_id)
    return {"link_token": link_token, "expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}


@plaid_endpoint(bp, "/item/public_token/exchange")
def item_public_token_exchange(body):
    """Exchange a public token (once, within 30 minutes) for an access token."""
    public_token = get(body, "public_token", str, required=True)
    access_token, item_id = emulator().exchange_public_token(public_token)
    return {"access_token": access_token, "item_id": item_id}


@plaid_endpoint(bp, "/accounts/get")
def accounts_get(body):
    """Return the Item's shared accounts with cached balances."""
    em = emulator()
    item = em.item_for_token(get(body, "access_token", str, required=True))
    em.require_healthy(item)
    accounts = em.account_json(item["item_id"])
    wanted = get(get(body, "options", dict, default={}) or {}, "account_ids", list)
    if wanted is not None:
        known = {a["account_id"] for a in accounts}
        unknown = [a for a in wanted if a not in known]
        if unknown:
            raise invalid_field(f"invalid account_ids: {', '.join(map(str, unknown))}")
        accounts = [a for a in accounts if a["account_id"] in wanted]
    return {"accounts": accounts, "item": objects.item(item, None)}


@plaid_endpoint(bp, "/item/get")
def item_get(body):
    """Return the Item, with its error (if any) inside a 200, and its status."""
    em = emulator()
    item = em.item_for_token(get(body, "access_token", str, required=True))
    return {"item": objects.item(item, em.item_error(item), with_consent=True),
            "status": objects.item_status(item)}


@plaid_endpoint(bp, "/item/remove")
def item_remove(body):
    """Remove the Item; its access token stops working."""
    em = emulator()
    item = em.item_for_token(get(body, "access_token", str, required=True))
    reason = get(body, "reason_code", str, nullable=True)
    if reason is not None and reason not in REMOVE_REASONS:
        raise invalid_field("reason_code is invalid")
    note = get(body, "reason_note", str, nullable=True)
    if note is not None and len(note) > 512:
        raise invalid_field("reason_note must be at most 512 characters")
    em.remove_item(item["item_id"])
    return {}


@plaid_endpoint(bp, "/item/webhook/update")
def item_webhook_update(body):
    """Change the Item's webhook URL; WEBHOOK_UPDATE_ACKNOWLEDGED goes to the new URL."""
    em = emulator()
    item = em.item_for_token(get(body, "access_token", str, required=True))
    webhook = get(body, "webhook", str, nullable=True)
    em.set_webhook(item["item_id"], webhook or None)
    item = em.item(item["item_id"])
    return {"item": objects.item(item, em.item_error(item))}


@plaid_endpoint(bp, "/webhook_verification_key/get")
def webhook_verification_key_get(body):
    """Publish the JWK for a signing key id (expired keys stay published with expired_at)."""
    return {"key": emulator().keys.jwk(get(body, "key_id", str, required=True))}
