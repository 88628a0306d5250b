"""Test switches under /_emulator/: a JSON control API that is deliberately not Plaid's."""
import ipaddress

from flask import Blueprint, abort, current_app, request

from . import firing
from .errors import PlaidAPIError
from .wire import emulator, error_response, json_response

bp = Blueprint("plaid_control", __name__, url_prefix="/_emulator")


@bp.before_request
def loopback_only():
    """Refuse the control API to remote callers unless CONTROL_ALLOW_REMOTE is set."""
    if current_app.config.get("CONTROL_ALLOW_REMOTE"):
        return None
    try:
        if ipaddress.ip_address(request.remote_addr or "127.0.0.1").is_loopback:
            return None
    except ValueError:
        pass
    abort(403)


@bp.errorhandler(PlaidAPIError)
def plaid_error(exc):
    """Control calls report bad input the same way the API does."""
    return error_response(exc)


@bp.errorhandler(ValueError)
def value_error(exc):
    """Bad switch arguments are a 400 with a plain message."""
    return json_response({"error": str(exc)}, 400)


def _body() -> dict:
    return request.get_json(silent=True) or {}


def _ok(**fields):
    return json_response({"ok": True, **fields})


@bp.get("/health")
def health():
    """Readiness probe for launchers and benchmarks."""
    return _ok()


@bp.post("/items")
def create_item():
    """Create an Item directly (optionally not ready); returns its tokens."""
    body, em = _body(), emulator()
    item_id = em.create_item(body.get("institution_id", "ins_109508"),
                             webhook=body.get("webhook"),
                             username=body.get("username", "user_good"),
                             ready=body.get("ready", True), share=body.get("share"),
                             days_requested=body.get("days_requested", 90),
                             seed=body.get("seed"))
    item = em.item(item_id)
    return _ok(item_id=item_id, access_token=item["access_token"],
               public_token=em.issue_public_token(item_id))


@bp.post("/busy_host")
def busy_host():
    """Create an Item with a large history (default 100,000 transactions over two years)."""
    body, em = _body(), emulator()
    item_id = em.busy_host(int(body.get("total", 100_000)), webhook=body.get("webhook"),
                           institution_id=body.get("institution_id", "ins_109508"),
                           seed=body.get("seed", 1), days=int(body.get("days", 730)))
    return _ok(item_id=item_id, access_token=em.item(item_id)["access_token"])


@bp.get("/items/<item_id>")
def show_item(item_id):
    """Inspect an Item: state flags, all accounts (shared or not), transaction count."""
    em = emulator()
    item = dict(em.item(item_id))
    item["accounts"] = em.accounts(item_id, shared=None)
    item["transaction_count"] = len(em.transactions(item_id))
    return json_response(item)


@bp.post("/items/<item_id>/public_token")
def public_token(item_id):
    """Mint a fresh public token for an existing Item."""
    return _ok(public_token=emulator().issue_public_token(emulator().item(item_id)["item_id"]))


@bp.post("/items/<item_id>/ready")
def set_ready(item_id):
    """Mark transactions ready (or not ready) for the Item."""
    emulator().set_ready(item_id, bool(_body().get("ready", True)))
    return _ok()


@bp.get("/items/<item_id>/transactions")
def list_transactions(item_id):
    """The Item's current transactions, as sync would rebuild them."""
    return json_response({"transactions": list(emulator().transactions(item_id).values())})


@bp.post("/items/<item_id>/transactions")
def add_transactions(item_id):
    """Add `count` realistic transactions (seeded) and/or explicit `transactions` specs."""
    body = _body()
    tids = emulator().add_transactions(
        item_id, count=int(body.get("count", 0)), specs=body.get("transactions", []),
        account_id=body.get("account_id"), seed=body.get("seed"),
        days=int(body.get("days", 90)), pending_share=float(body.get("pending_share", 0.15)))
    return _ok(transaction_ids=tids)


@bp.post("/transactions/<transaction_id>/modify")
def modify_transaction(transaction_id):
    """Change a transaction's amount, name, date or merchant."""
    return _ok(transaction=emulator().modify_transaction(transaction_id, **_body()))


@bp.post("/transactions/remove")
def remove_transactions():
    """Remove transactions by id."""
    emulator().remove_transactions(_body().get("transaction_ids", []))
    return _ok()


@bp.post("/transactions/post")
def post_pending():
    """Post pending transactions (removals first, then the posted adds)."""
    body = _body()
    tids = emulator().post_pending(body.get("transaction_ids", []), amount=body.get("amount"),
                                   name=body.get("name"), posted_date=body.get("date"))
    return _ok(transaction_ids=tids)


@bp.post("/items/<item_id>/accounts")
def new_account(item_id):
    """Open a new, not-yet-shared account (fires NEW_ACCOUNTS_AVAILABLE)."""
    return _ok(account_id=emulator().add_account(item_id))


@bp.post("/items/<item_id>/accounts/share")
def share_accounts(item_id):
    """Share accounts with the app, as update-mode account selection does."""
    emulator().share_accounts(item_id, _body().get("account_ids", []))
    return _ok()


@bp.post("/items/<item_id>/force_mutation")
def force_mutation(item_id):
    """Fail the next paginated sync read with TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION."""
    emulator().force_mutation(item_id)
    return _ok()


@bp.post("/items/<item_id>/reset_login")
def reset_login(item_id):
    """Put the Item into ITEM_LOGIN_REQUIRED (fires ITEM:ERROR)."""
    emulator().reset_login(item_id)
    return _ok()


@bp.post("/items/<item_id>/repair_login")
def repair_login(item_id):
    """Repair the login outside the app (fires LOGIN_REPAIRED)."""
    emulator().repair_login(item_id)
    return _ok()


@bp.post("/items/<item_id>/webhook_defect")
def webhook_defect(item_id):
    """Arm a defect for the Item's next webhook."""
    emulator().arm_webhook_defect(item_id, _body().get("defect", ""))
    return _ok()


@bp.post("/items/<item_id>/fire_webhook")
def fire_webhook(item_id):
    """Fire a webhook now, optionally with a defect."""
    body = _body()
    ids = firing.fire(emulator(), item_id, body.get("webhook_code", ""),
                      body.get("webhook_type"), body.get("defect"))
    return _ok(outbox_ids=ids)


@bp.post("/keys/rotate")
def rotate_key():
    """Rotate the signing key; the old one gets expired_at."""
    return _ok(kid=emulator().keys.rotate())


@bp.get("/keys")
def list_keys():
    """All signing keys as published JWKs."""
    em = emulator()
    rows = em.store.all("SELECT kid FROM signing_keys ORDER BY created_at, rowid")
    return json_response({"active_kid": em.keys.active_kid(),
                          "keys": [em.keys.jwk(r["kid"]) for r in rows]})


@bp.get("/outbox")
def outbox():
    """Webhook outbox rows with every attempt."""
    args = request.args
    return json_response({"webhooks": emulator().outbox.rows(args.get("item_id"),
                                                             args.get("status"))})


@bp.post("/outbox/deliver")
def deliver():
    """Deliver due webhooks now (all pending ones with force=true)."""
    return _ok(attempts=emulator().outbox.deliver_due(force=bool(_body().get("force", True))))


@bp.get("/faults")
def list_faults():
    """Armed chaos switches."""
    return json_response({"faults": emulator().faults.list()})


@bp.post("/faults")
def arm_fault():
    """Fail, delay or malform the next `count` calls to `endpoint`."""
    body = _body()
    fault_id = emulator().faults.arm(
        body.get("endpoint", "*"), body.get("kind", "error"), error_code=body.get("error_code"),
        count=body.get("count", 1), delay=body.get("delay"), drop_key=body.get("drop_key"))
    return _ok(fault_id=fault_id)


@bp.delete("/faults")
def clear_faults():
    """Disarm every chaos switch."""
    emulator().faults.clear()
    return _ok()
