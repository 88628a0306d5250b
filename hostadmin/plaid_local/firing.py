"""Webhooks that /sandbox/item/fire_webhook and the control API can fire on demand."""
from datetime import timedelta

from .errors import PlaidAPIError, error_body, invalid_field

# webhook_code -> webhook_type (PLAID.md §7); codes for products an Item lacks are refused.
FIREABLE = {
    "SYNC_UPDATES_AVAILABLE": "TRANSACTIONS", "DEFAULT_UPDATE": "TRANSACTIONS",
    "RECURRING_TRANSACTIONS_UPDATE": "TRANSACTIONS", "NEW_ACCOUNTS_AVAILABLE": "ITEM",
    "USER_PERMISSION_REVOKED": "ITEM", "USER_ACCOUNT_REVOKED": "ITEM",
    "PENDING_DISCONNECT": "ITEM", "LOGIN_REPAIRED": "ITEM", "ERROR": "ITEM",
    "SMS_MICRODEPOSITS_VERIFICATION": "AUTH", "AUTHORIZATION_GRANTED": "INCOME",
    "PRODUCT_READY": "INCOME",
}
WEBHOOK_TYPES = ("AUTH", "HOLDINGS", "INVESTMENTS_TRANSACTIONS", "ITEM", "LIABILITIES",
                 "TRANSACTIONS", "ASSETS", "INCOME")


def payload(em, item, code: str) -> dict:
    """Build the body (without item_id/environment) of a fired webhook."""
    webhook_type = FIREABLE[code]
    body = {"webhook_type": webhook_type, "webhook_code": code}
    if code == "SYNC_UPDATES_AVAILABLE":
        body.update(initial_update_complete=bool(item["ready"]),
                    historical_update_complete=bool(item["ready"]))
    elif code == "DEFAULT_UPDATE":
        body.update(new_transactions=0, error=None)
    elif code in ("NEW_ACCOUNTS_AVAILABLE", "LOGIN_REPAIRED"):
        body["error"] = None
    elif code == "USER_PERMISSION_REVOKED":
        body["error"] = error_body("USER_PERMISSION_REVOKED", with_request_id=False,
                                   status_field=True)
    elif code == "ERROR":
        body["error"] = em.item_error(item) or error_body(
            "ITEM_LOGIN_REQUIRED", with_request_id=False)
        body["error"]["status"] = 400
    elif code == "USER_ACCOUNT_REVOKED":
        accounts = em.accounts(item["item_id"])
        body["account_id"] = accounts[0]["account_id"] if accounts else None
    elif code == "PENDING_DISCONNECT":
        when = em.clock() + timedelta(days=7)
        body.update(reason="INSTITUTION_TOKEN_EXPIRATION",
                    disconnect_time=when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return body


def fire(em, item_id: str, code: str, webhook_type: str | None = None,
         defect: str | None = None) -> list[int]:
    """Validate and queue a fired webhook; returns outbox ids."""
    if code not in FIREABLE:
        raise invalid_field(f"webhook_code must be one of {', '.join(FIREABLE)}")
    if webhook_type is not None and webhook_type not in WEBHOOK_TYPES:
        raise invalid_field("webhook_type is invalid")
    item = em.item(item_id)
    expected = FIREABLE[code]
    if expected not in ("ITEM", "TRANSACTIONS") or (webhook_type or expected) != expected:
        raise PlaidAPIError("SANDBOX_PRODUCT_NOT_ENABLED")
    if not item["webhook"]:
        raise PlaidAPIError("SANDBOX_WEBHOOK_INVALID")
    if defect:
        em.arm_webhook_defect(item_id, defect)
    return em.notify(item_id, payload(em, item, code))
