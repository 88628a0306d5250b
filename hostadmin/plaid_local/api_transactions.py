"""Plaid endpoints /transactions/sync and /transactions/refresh."""
import json

from flask import Blueprint

from . import ids, objects
from .errors import invalid_field
from .wire import emulator, get, plaid_endpoint

bp = Blueprint("plaid_transactions", __name__)


@plaid_endpoint(bp, "/transactions/sync")
def transactions_sync(body):
    """Serve one page of the Item's change log since the cursor (pre-serialised JSON)."""
    em = emulator()
    item = em.item_for_token(get(body, "access_token", str, required=True))
    cursor = get(body, "cursor", str, nullable=True) or ""
    count = get(body, "count", int, default=100)
    if not 1 <= count <= 500:
        raise invalid_field("count must be between 1 and 500")
    options = get(body, "options", dict, nullable=True) or {}
    with_original = bool(get(options, "include_original_description", bool, nullable=True))
    if get(options, "account_id", str) is not None:
        raise invalid_field("options.account_id streams are not supported by the local emulator")
    days = get(options, "days_requested", int)
    if days is not None and not 1 <= days <= 730:
        raise invalid_field("options.days_requested must be between 1 and 730")
    em.require_healthy(item)
    em.mark_sync_called(item)
    if not item["ready"]:
        return {"added": [], "modified": [], "removed": [], "accounts": [], "next_cursor": "",
                "has_more": False, "transactions_update_status": "NOT_READY"}
    page = em.log.page(item, cursor, count, with_original)
    accounts = {a["account_id"]: a for a in em.accounts(item["item_id"], shared=None)}
    page_accounts = [objects.account(accounts[a]) for a in page["account_ids"] if a in accounts]
    # Assemble the body from stored JSON strings: no per-transaction encode on the hot path.
    return "".join((
        '{"added":[', ",".join(page["added"]),
        '],"modified":[', ",".join(page["modified"]),
        '],"removed":[', ",".join(page["removed"]),
        '],"accounts":', json.dumps(page_accounts, separators=(",", ":")),
        ',"next_cursor":', json.dumps(page["next_cursor"]),
        ',"has_more":', "true" if page["has_more"] else "false",
        ',"transactions_update_status":"HISTORICAL_UPDATE_COMPLETE"',
        ',"request_id":"', ids.request_id(), '"}')).encode()


@plaid_endpoint(bp, "/transactions/refresh")
def transactions_refresh(body):
    """Check the bank now; dynamic sandbox users get new activity and a webhook."""
    em = emulator()
    item = em.item_for_token(get(body, "access_token", str, required=True))
    em.require_healthy(item)
    em.refresh(item["item_id"])
    return {}
