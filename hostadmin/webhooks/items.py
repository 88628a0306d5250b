"""What ITEM webhooks do to an item: status, error, the new-accounts flag, an audit entry (not committed).

Each handler sets the event's outcome: APPLIED, or RECEIVED when a sync must follow.
"""
import re
from datetime import datetime, timezone

from hostadmin.audit import service as audit
from hostadmin.banking.models import ItemStatus
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.ledger.models import Host
from hostadmin.webhooks.models import Outcome


IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:-]+$")


def identifier(value, length):
    """A Plaid code or id from a body, or None: anything else (NUL, odd Unicode) is not one."""
    return value[:length] if isinstance(value, str) and IDENTIFIER.match(value) else None


def free_text(value, length):
    """A message from a body, made storable (no NUL, no lone surrogates), or None."""
    if not isinstance(value, str) or not value:
        return None
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:length] or None


def _set_status(event, item, status, error_code=None, error_message=None):
    before = {"status": item.status, "error_code": item.error_code}
    if item.status != status.value or item.error_code != error_code:
        item.status_changed_at = utcnow()
    item.status, item.error_code, item.error_message = status.value, error_code, error_message
    event.outcome = Outcome.APPLIED
    _audit(item, "plaid_item.status", before, {"status": item.status, "error_code": error_code},
           event.webhook_code)


def _audit(item, action, before, after, code):
    audit.record(db.session.get(Host, item.host_id), None, action, item, before=before, after=after,
                 data={"source": "plaid webhook", "webhook_code": code})


def _item_error(event, item, body):
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code = identifier(error.get("error_code"), 100) or "UNKNOWN_ITEM_ERROR"
    message = free_text(error.get("display_message"), 2000) or free_text(error.get("error_message"), 2000)
    status = ItemStatus.LOGIN_REQUIRED if code == "ITEM_LOGIN_REQUIRED" else ItemStatus.ERROR
    _set_status(event, item, status, code, message)


def _pending_expiration(event, item, body):
    when = _date_text(body.get("consent_expiration_time"))
    _set_status(event, item, ItemStatus.PENDING_EXPIRATION, "PENDING_EXPIRATION",
                f"Access to this bank ends on {when}." if when else "Access to this bank ends soon.")


def _pending_disconnect(event, item, body):
    when = _date_text(body.get("disconnect_time"))
    _set_status(event, item, ItemStatus.PENDING_DISCONNECT, "PENDING_DISCONNECT",
                f"Plaid will disconnect this bank on {when}." if when else "Plaid will disconnect this bank soon.")


def _revoked(event, item, body):
    _set_status(event, item, ItemStatus.REVOKED, "USER_PERMISSION_REVOKED",
                "The account holder revoked hostadmin's access at the bank.")


def _login_repaired(event, item, body):
    if item.status != ItemStatus.LOGIN_REQUIRED.value:
        event.error = f"item was {item.status}, not waiting for a login"
        return
    _set_status(event, item, ItemStatus.HEALTHY)
    # Transactions may have piled up while the login was broken: catch up now.
    event.outcome = Outcome.RECEIVED


def _new_accounts(event, item, body):
    if not item.new_accounts_available:
        item.new_accounts_available = True
        _audit(item, "plaid_item.new_accounts", {"new_accounts_available": False},
               {"new_accounts_available": True}, event.webhook_code)
    event.outcome = Outcome.APPLIED


def _date_text(value):
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d") if when.tzinfo else when.strftime("%Y-%m-%d")


HANDLERS = {
    "ERROR": _item_error,
    "PENDING_EXPIRATION": _pending_expiration,
    "PENDING_DISCONNECT": _pending_disconnect,
    "USER_PERMISSION_REVOKED": _revoked,
    "LOGIN_REPAIRED": _login_repaired,
    "NEW_ACCOUNTS_AVAILABLE": _new_accounts,
}
