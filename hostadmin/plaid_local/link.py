"""Emulated Plaid Link: a drop-in link-initialize.js and the Link page it opens."""
import uuid

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from . import institutions
from .errors import PlaidAPIError, invalid_field
from .wire import emulator, error_response, json_response

bp = Blueprint("plaid_link", __name__, template_folder="templates")


def _base_url() -> str:
    return (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")


@bp.get("/link/v2/stable/link-initialize.js")
def link_initialize():
    """Serve `window.Plaid.create(...)` that opens this emulator's Link page."""
    script = render_template("plaid_local/link-initialize.js", base_url=_base_url())
    return Response(script, mimetype="application/javascript")


@bp.get("/link/session")
def link_page():
    """The Link page for a link token: pick an institution and accounts, or update an Item."""
    em = emulator()
    try:
        session = em.link_session(request.args.get("token", ""))
    except PlaidAPIError as exc:
        return render_template("plaid_local/link.html", error=exc.body()["error_message"]), 400
    oauth_state = request.args.get("oauth_state_id")
    if oauth_state:
        try:
            em.oauth_choice(session["link_token"], oauth_state)
        except PlaidAPIError as exc:
            return render_template("plaid_local/link.html", error=exc.body()["error_message"]), 400
    item, accounts = None, []
    if session["item_id"]:
        item = em.item(session["item_id"])
        accounts = em.accounts(session["item_id"], shared=None)
    templates = [{"position": i, "name": t[0], "type": t[2], "subtype": t[3]}
                 for i, t in enumerate(institutions.ACCOUNT_TEMPLATES)]
    return render_template("plaid_local/link.html", session=session, item=item,
                           accounts=accounts, templates=templates,
                           institutions=institutions.INSTITUTIONS, error=None, oauth_state=oauth_state,
                           oauth_item=bool(item and session.get("redirect_uri")
                                           and _is_oauth(item["institution_id"])))


def _is_oauth(institution_id) -> bool:
    return bool(institutions.INSTITUTIONS.get(institution_id, {}).get("oauth"))


@bp.get("/link/oauth/bank")
def oauth_bank():
    """The OAuth bank's own sign-in page (fake): authorising sends the browser back to redirect_uri."""
    em = emulator()
    token = request.args.get("token", "")
    try:
        session = em.link_session(token)
    except PlaidAPIError as exc:
        return render_template("plaid_local/link.html", error=exc.body()["error_message"]), 400
    institution_id = request.args.get("institution") or (em.item(session["item_id"])["institution_id"]
                                                          if session["item_id"] else None)
    if not _is_oauth(institution_id) or not session.get("redirect_uri"):
        return render_template("plaid_local/link.html", error="not an OAuth institution"), 400
    return render_template("plaid_local/oauth_bank.html", bank=institutions.institution_name(institution_id),
                           authorize_url=url_for("plaid_link.oauth_authorize", **request.args))


@bp.get("/link/oauth/authorize")
def oauth_authorize():
    """The bank approved: remember Link's choice, redirect to the app's redirect_uri with oauth_state_id."""
    em = emulator()
    token = request.args.get("token", "")
    try:
        session = em.link_session(token)
        state_id = em.start_oauth(token, {"institution_id": request.args.get("institution"),
                                          "accounts": request.args.getlist("account"),
                                          "deselected": request.args.getlist("deselected")})
    except PlaidAPIError as exc:
        return render_template("plaid_local/link.html", error=exc.body()["error_message"]), 400
    return redirect(f"{session['redirect_uri']}?oauth_state_id={state_id}")


@bp.post("/link/session/complete")
def complete():
    """Finish a Link session; returns {public_token, metadata} shaped like Plaid's onSuccess."""
    body = request.get_json(silent=True) or {}
    try:
        if body.get("oauth_state_id"):
            # Resumed after the OAuth bank: the choice made before the redirect stands.
            body.update(emulator().oauth_choice(body.get("link_token", ""), body["oauth_state_id"]))
        result = complete_session(body.get("link_token", ""), body.get("institution_id"),
                                  body.get("accounts") or [], body.get("deselected") or [])
    except PlaidAPIError as exc:
        return error_response(exc)
    return json_response(result)


def complete_session(link_token: str, institution_id: str | None, selected: list,
                     deselected: list = ()) -> dict:
    """Create the Item (or apply update mode) for a Link session; return onSuccess arguments."""
    em = emulator()
    session = em.link_session(link_token)
    if session["item_id"]:
        item_id = session["item_id"]
        em.repair_login(item_id, via_link=True)
        if session["account_selection_enabled"]:
            shared = {a["account_id"] for a in em.accounts(item_id)}
            em.share_accounts(item_id, [a for a in selected if a not in shared])
            # Unticking a shared account in account selection stops sharing it (Plaid's update mode).
            em.unshare_accounts(item_id, [a for a in deselected if a in shared])
    else:
        if institution_id not in institutions.INSTITUTIONS:
            raise PlaidAPIError("INVALID_INSTITUTION")
        try:
            positions = sorted({int(p) for p in selected})
        except (TypeError, ValueError):
            raise invalid_field("accounts must be template positions") from None
        if not positions:
            raise invalid_field("select at least one account")
        item_id = em.create_item(institution_id, webhook=session.get("webhook"),
                                 share=positions, client_user_id=session.get("client_user_id"),
                                 days_requested=session.get("days_requested", 90))
    item = em.item(item_id)
    public_token = em.issue_public_token(item_id)
    metadata = {
        "status": None,
        "link_session_id": str(uuid.uuid4()),
        "institution": {"name": item["institution_name"],
                        "institution_id": item["institution_id"]},
        "accounts": [{"id": a["account_id"], "name": a["name"], "mask": a["mask"],
                      "type": a["type"], "subtype": a["subtype"], "verification_status": None,
                      "class_type": None} for a in em.accounts(item_id)],
        "transfer_status": None,
        "public_token": public_token,
    }
    return {"public_token": public_token, "metadata": metadata}
