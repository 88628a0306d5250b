"""Banners about the current host's bank connections, shown to its admins on every host page."""
from dataclasses import dataclass

from flask import current_app, g, url_for
from sqlalchemy import or_, select

from hostadmin.auth.models import Role
from hostadmin.banking.models import ItemStatus, PlaidItem
from hostadmin.extensions import db

ITEM_ENDPOINT = "banking.item"
# status -> (css level, message, action label); {bank} and {detail} are filled in.
MESSAGES = {
    ItemStatus.LOGIN_REQUIRED.value: ("error", "{bank} needs you to sign in again before it can sync.", "Reconnect"),
    ItemStatus.PENDING_EXPIRATION.value: ("warn", "{bank}: {detail} Reconnect it to keep syncing.", "Reconnect"),
    ItemStatus.PENDING_DISCONNECT.value: ("warn", "{bank}: {detail} Reconnect it to keep syncing.", "Reconnect"),
    ItemStatus.REVOKED.value: ("error", "{bank}: the account holder revoked access at the bank. Connect it again or remove it.",
                               "Review"),
    ItemStatus.ERROR.value: ("error", "{bank} cannot sync: {detail}", "Review"),
}


@dataclass(frozen=True)
class Banner:
    item_id: int
    kind: str
    level: str
    message: str
    action: str
    url: str


def item_url(item, run=None):
    """The item's connection page (the dashboard until that page exists), optionally at a sync run."""
    if ITEM_ENDPOINT in current_app.view_functions and item is not None:
        return url_for(ITEM_ENDPOINT, item_id=item.id, _anchor=f"run-{run.id}" if run else None)
    return url_for("dashboard.home")


def banners_for(host):
    """The banners a host's admins should see now: broken logins, expiries, new accounts."""
    items = db.session.scalars(
        select(PlaidItem)
        .where(PlaidItem.host_id == host.id,
               or_(PlaidItem.status.in_(MESSAGES), PlaidItem.new_accounts_available.is_(True)))
        .order_by(PlaidItem.id)).all()
    banners = []
    for item in items:
        url = item_url(item)
        if item.status in MESSAGES:
            level, text, action = MESSAGES[item.status]
            detail = item.error_message or item.error_code or "an error at the bank."
            banners.append(Banner(item.id, item.status, level, text.format(bank=item.display_name, detail=detail),
                                  action, url))
        if item.new_accounts_available and item.status != ItemStatus.DISCONNECTED.value:
            banners.append(Banner(item.id, "NEW_ACCOUNTS", "info", f"New accounts available at {item.display_name}.",
                                  "Choose accounts", url))
    return banners


def install(app):
    """Register the context processor (item_banners) and the item_url template helper."""
    app.add_template_global(item_url, "item_url")

    @app.context_processor
    def item_banners():
        host, membership = getattr(g, "host", None), getattr(g, "membership", None)
        if host is None or membership is None or membership.role != Role.ADMIN.value:
            return {"item_banners": ()}
        return {"item_banners": _Lazy(host)}


class _Lazy:
    """Queries only when a template actually shows the banners (htmx fragments do not)."""

    def __init__(self, host):
        self._host, self._banners = host, None

    def __iter__(self):
        if self._banners is None:
            self._banners = banners_for(self._host)
        return iter(self._banners)
