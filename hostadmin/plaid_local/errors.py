"""Plaid error catalogue and the exception the endpoints raise."""
from . import ids

LOGIN_REQUIRED_MESSAGE = (
    "the login details of this item have changed (credentials, MFA, or required user "
    "action) and a user login is required to update this information. use Link's update "
    "mode to restore the item to a good state")
RATE_LIMIT_MESSAGE = "rate limit exceeded for attempts to access this item. please try again later"

# error_code -> (error_type, HTTP status, error_message)
CATALOG = {
    "INVALID_API_KEYS": ("INVALID_INPUT", 400, "invalid client_id or secret provided"),
    "INVALID_ACCESS_TOKEN": ("INVALID_INPUT", 400, "could not find matching access token"),
    "INVALID_PUBLIC_TOKEN": ("INVALID_INPUT", 400, "could not find matching public token"),
    "INVALID_LINK_TOKEN": ("INVALID_INPUT", 400, "provided link token is invalid or expired"),
    "INVALID_INSTITUTION": ("INVALID_INPUT", 400, "invalid institution_id provided"),
    "INVALID_WEBHOOK_VERIFICATION_KEY_ID": ("INVALID_INPUT", 400,
                                            "invalid webhook verification key id"),
    "ITEM_NOT_FOUND": ("ITEM_ERROR", 400, "The Item you requested cannot be found. This Item "
                       "does not exist, has been previously removed via /item/remove, or has "
                       "had access removed by the user."),
    "ITEM_LOGIN_REQUIRED": ("ITEM_ERROR", 400, LOGIN_REQUIRED_MESSAGE),
    "USER_PERMISSION_REVOKED": ("ITEM_ERROR", 400, "the holder of this account has revoked "
                                "their permission for your application to access it"),
    "INVALID_FIELD": ("INVALID_REQUEST", 400, "invalid field"),
    "MISSING_FIELDS": ("INVALID_REQUEST", 400, "the following required fields are missing"),
    "INVALID_BODY": ("INVALID_REQUEST", 400, "body could not be parsed as JSON"),
    "NOT_FOUND": ("INVALID_REQUEST", 404, "not found"),
    "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION": (
        "TRANSACTIONS_ERROR", 400, "Underlying transaction data changed since last page was "
        "fetched. Please restart pagination from last update."),
    "TRANSACTIONS_SYNC_LIMIT": ("RATE_LIMIT_EXCEEDED", 429, RATE_LIMIT_MESSAGE),
    "ACCOUNTS_LIMIT": ("RATE_LIMIT_EXCEEDED", 429, RATE_LIMIT_MESSAGE),
    "ITEM_GET_LIMIT": ("RATE_LIMIT_EXCEEDED", 429, RATE_LIMIT_MESSAGE),
    "RATE_LIMIT": ("RATE_LIMIT_EXCEEDED", 429, RATE_LIMIT_MESSAGE),
    "INTERNAL_SERVER_ERROR": ("API_ERROR", 500, "an unexpected error occurred"),
    "PLANNED_MAINTENANCE": ("API_ERROR", 503, "the Plaid API is temporarily unavailable due "
                            "to planned maintenance. visit https://status.plaid.com/ for more "
                            "information"),
    "INSTITUTION_DOWN": ("INSTITUTION_ERROR", 400, "this institution is not currently "
                         "responding to this request. please try again soon"),
    "INSTITUTION_NOT_RESPONDING": ("INSTITUTION_ERROR", 400, "this institution is not "
                                   "currently responding to this request. please try again soon"),
    "SANDBOX_PRODUCT_NOT_ENABLED": ("SANDBOX_ERROR", 400, "the requested product is not "
                                    "enabled for this Item"),
    "SANDBOX_WEBHOOK_INVALID": ("SANDBOX_ERROR", 400, "the webhook for this Item is not set "
                                "or is invalid"),
}


def error_body(code: str, message: str | None = None, *, with_request_id=True,
               status_field=False) -> dict:
    """Build a PlaidError object; webhooks carry `status` instead of `request_id`."""
    error_type, status, default = CATALOG[code]
    body = {
        "error_type": error_type,
        "error_code": code,
        "error_code_reason": None,
        "error_message": message or default,
        "display_message": None,
        "documentation_url": f"https://plaid.com/docs/errors/#{code.lower()}",
        "suggested_action": None,
        "causes": [],
    }
    if with_request_id:
        body["request_id"] = ids.request_id()
    if status_field:
        body["status"] = status
    return body


class PlaidAPIError(Exception):
    """An error answered to the API caller as a PlaidError body."""

    def __init__(self, code: str, message: str | None = None, headers: dict | None = None):
        super().__init__(f"{code}: {message or CATALOG[code][2]}")
        self.code = code
        self.message = message
        self.status = CATALOG[code][1]
        self.headers = headers or {}

    def body(self) -> dict:
        """Return the JSON body for this error."""
        return error_body(self.code, self.message)


def invalid_field(message: str) -> PlaidAPIError:
    """Return the 400 INVALID_REQUEST/INVALID_FIELD error Plaid gives for a bad value."""
    return PlaidAPIError("INVALID_FIELD", message)
