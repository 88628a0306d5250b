"""Connections pages: connect a bank through Plaid Link, see sync health, sync now, reconnect, disconnect."""
from flask import flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from hostadmin.auth.access import get_for_host_or_404, host_blueprint
from hostadmin.banking import accounts as bank_accounts
from hostadmin.banking import connect, progress, service
from hostadmin.banking.jobs import request_sync
from hostadmin.banking.models import PlaidItem
from hostadmin.banking.plaid_client import get_client
from hostadmin.extensions import db
from hostadmin.params import parse_id
from hostadmin.text import clean_line

bp = host_blueprint("banking", __name__, url_prefix="/connections")
UPDATE_PURPOSES = {"reconnect": service.RECONNECT, "new-accounts": service.NEW_ACCOUNTS}


@bp.get("/")
def connections():
    items = service.items_of(g.host)
    context = {"items": items, "runs": {item.id: service.recent_runs(item, 3) for item in items},
               "link_script": service.link_script_url()}
    if request.htmx and request.args.get("fragment") == "list":
        return render_block("banking/connections.html", "items_list", **context)
    return render_template("banking/connections.html", **context)


@bp.get("/<int:item_id>")
def item(item_id):
    plaid_item = get_for_host_or_404(PlaidItem, item_id)
    context = {"item": plaid_item, "runs": service.recent_runs(plaid_item, 25),
               "link_script": service.link_script_url(), "waiting": progress.waiting(plaid_item),
               "live_pages": progress.pages_so_far}
    if request.htmx and request.args.get("fragment") == "status":
        return render_block("banking/item.html", "status", **context)
    return render_template("banking/item.html", **context)


@bp.post("/link-token")
def link_token():
    """A Link token for Connect (or update mode with ?item_id=&purpose=), as JSON for the Link script."""
    purpose, plaid_item = service.CONNECT, None
    if request.form.get("item_id"):
        plaid_item = get_for_host_or_404(PlaidItem, request.form["item_id"])
        purpose = UPDATE_PURPOSES.get(request.form.get("purpose"), service.RECONNECT)
    try:
        token = service.create_link_token(get_client(), g.host, current_user, purpose, plaid_item)
    except service.ConnectError as error:
        return jsonify(error=str(error)), 502
    # An OAuth bank sends the browser back to /plaid/oauth-return: remember which Link it resumes.
    session["plaid_link_token"] = token
    return jsonify(link_token=token)


@bp.post("/exchange")
def exchange():
    """Plaid Link's onSuccess for a new connection: store the item and queue its first sync."""
    public_token = clean_line(request.form.get("public_token", ""))
    token = clean_line(request.form.get("link_token", ""))
    if not public_token or not token:
        flash("Plaid Link did not return a connection. Try again.", "error")
        return redirect(url_for("banking.connections"))
    try:
        plaid_item = service.complete_connect(get_client(), g.host, current_user, token, public_token)
    except connect.AlreadyConnected as error:
        flash(f"Already connected: {error}. Reconnect the existing connection instead of adding a copy.",
              "error")
        return redirect(url_for("banking.item", item_id=error.existing.id))
    except service.ConnectError as error:
        flash(str(error), "error")
        return redirect(url_for("banking.connections"))
    _queue_sync(plaid_item, "connect", f"Connected {plaid_item.display_name}. The first sync has started.")
    return redirect(url_for("banking.item", item_id=plaid_item.id))


@bp.post("/<int:item_id>/update-complete")
def update_complete(item_id):
    """Link in update mode finished: the login is fixed (or accounts chosen); sync again."""
    plaid_item = get_for_host_or_404(PlaidItem, item_id)
    purpose = UPDATE_PURPOSES.get(request.form.get("purpose"), service.RECONNECT)
    try:
        token = clean_line(request.form.get("link_token", ""))
        service.complete_update(g.host, current_user, plaid_item, token, purpose)
    except service.ConnectError as error:
        flash(str(error), "error")
        return redirect(url_for("banking.item", item_id=item_id))
    if purpose == service.NEW_ACCOUNTS:
        # No token exchange: the access token is the same. The Accounts page reads /accounts/get afresh.
        flash("Plaid now shares the accounts you chose. Tick the ones hostadmin should import.", "success")
        return redirect(url_for("banking.accounts", item_id=item_id))
    _queue_sync(plaid_item, "reconnect", f"{plaid_item.display_name} reconnected. A sync has started.")
    return redirect(url_for("banking.item", item_id=item_id))


@bp.post("/<int:item_id>/sync")
def sync_now(item_id):
    plaid_item = get_for_host_or_404(PlaidItem, item_id)
    if plaid_item.status == "DISCONNECTED":
        flash("This connection is disconnected; connect the bank again to sync.", "error")
    else:
        _queue_sync(plaid_item, "manual", "Sync requested.")
    return redirect(request.referrer if _same_site(request.referrer) else url_for("banking.item", item_id=item_id))


@bp.post("/<int:item_id>/disconnect")
def disconnect(item_id):
    plaid_item = get_for_host_or_404(PlaidItem, item_id)
    try:
        service.disconnect(get_client(), g.host, current_user, plaid_item)
    except service.ConnectError as error:
        flash(str(error), "error")
    else:
        flash(f"{plaid_item.display_name} disconnected. Its history stays; it will not sync again.", "success")
    return redirect(url_for("banking.item", item_id=item_id))


@bp.route("/<int:item_id>/accounts", methods=["GET", "POST"])
def accounts(item_id):
    """Every account Plaid reports now beside what hostadmin knows, and which are imported.

    One rule for GET and POST: with two, an id out of range is a 405 instead of a 404.
    """
    if request.method == "POST":
        return choose_accounts(item_id)
    plaid_item = get_for_host_or_404(PlaidItem, item_id)
    reported, error = None, None
    if plaid_item.status != "DISCONNECTED":
        try:
            reported = bank_accounts.store_reported(plaid_item, bank_accounts.fetch(get_client(), plaid_item))
            db.session.commit()
        except bank_accounts.AccountsError as exc:
            error = str(exc)
    return render_template("banking/accounts.html", item=plaid_item, error=error,
                           lines=bank_accounts.lines(plaid_item, reported),
                           collectives=bank_accounts.collectives(g.host),
                           link_script=service.link_script_url())


def choose_accounts(item_id):
    """Save which accounts are imported and their default collectives; sync if one was selected."""
    plaid_item = get_for_host_or_404(PlaidItem, item_id)
    selected = {parse_id(value) for value in request.form.getlist("sync")}
    collectives = {}
    for key, value in request.form.items():
        account_id = parse_id(key.removeprefix("collective-")) if key.startswith("collective-") else None
        if account_id is not None:
            collectives[account_id] = parse_id(value)
    backfill = bank_accounts.choose(g.host, current_user, plaid_item, selected, collectives)
    if backfill and plaid_item.status != "DISCONNECTED":
        _queue_sync(plaid_item, "accounts",
                    "Accounts saved. A sync is importing the selected accounts' history.")
    else:
        flash("Accounts saved.", "success")
    return redirect(url_for("banking.accounts", item_id=item_id))


@bp.post("/<int:item_id>/accounts/dismiss")
def dismiss_new_accounts(item_id):
    """Hide the new-accounts prompt until Plaid reports another account."""
    plaid_item = get_for_host_or_404(PlaidItem, item_id)
    bank_accounts.dismiss(g.host, current_user, plaid_item)
    flash("Dismissed. You will be asked again if the bank reports another account.", "success")
    return redirect(url_for("banking.accounts", item_id=item_id))


@bp.post("/<int:item_id>/remove")
def remove(item_id):
    """Remove a disconnected connection from the list (its import keeps every row)."""
    plaid_item = get_for_host_or_404(PlaidItem, item_id)
    try:
        service.remove_from_list(g.host, current_user, plaid_item)
    except service.ConnectError as error:
        flash(str(error), "error")
        return redirect(url_for("banking.item", item_id=item_id))
    flash(f"{plaid_item.display_name} removed from the list. Its rows stay in Imports.", "success")
    return redirect(url_for("banking.connections"))


def _queue_sync(plaid_item, trigger, message):
    try:
        outcome = request_sync(plaid_item, trigger=trigger)
    except Exception:  # noqa: BLE001 (Redis down: the safety-net job will sync it later)
        flash(f"{message} The job queue is unavailable right now; the sync will run when it is back.", "info")
        return
    flash(message if outcome != "coalesced" else f"{message} (one was already queued)", "success")


def _same_site(url):
    return bool(url) and url.startswith(request.host_url)
