"""Resuming Plaid Link after an OAuth bank sends the browser back (PLAID_REDIRECT_URI)."""
from flask import Blueprint, abort, render_template, session, url_for
from flask_login import current_user
from sqlalchemy import select

from hostadmin.auth.models import HostMember, Role
from hostadmin.banking import service
from hostadmin.banking.models import PlaidItem
from hostadmin.extensions import db
from hostadmin.ledger.models import Host

bp = Blueprint("plaid_oauth", __name__)
PURPOSE_FIELD = {service.RECONNECT: "reconnect", service.NEW_ACCOUNTS: "new-accounts"}


@bp.get("/plaid/oauth-return")
def oauth_return():
    """Reopen Link with the token this user started, bound to its host; Link reads the bank's answer."""
    grant = service.resumable_grant(current_user, session.get("plaid_link_token", ""))
    if grant is None:
        abort(404)
    host = db.session.get(Host, grant.host_id)
    member = db.session.scalar(select(HostMember).where(HostMember.host_id == host.id,
                                                        HostMember.user_id == current_user.id))
    if member is None or member.role != Role.ADMIN.value:
        abort(404)
    if grant.item_id is None:
        complete_url = url_for("banking.exchange", host_slug=host.slug)
    else:
        item = db.session.get(PlaidItem, grant.item_id)
        complete_url = url_for("banking.update_complete", host_slug=host.slug, item_id=item.id)
    return render_template("banking/oauth_return.html", host=host, link_token=grant.link_token,
                           purpose=PURPOSE_FIELD.get(grant.purpose, ""), complete_url=complete_url,
                           link_script=service.link_script_url())
