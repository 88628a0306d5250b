"""Banners about the current host's bank connections, shown to its admins on every host page."""
from dataclasses import dataclass

from flask import current_app, g, url_for
from sqlalchemy import func, or_, select

from hostadmin.auth.models import Role
from hostadmin.banking.errors import explain, in_words
from hostadmin.banking.models import ItemStatus, PlaidItem
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRun, RunOutcome, TransactionsImport
from hostadmin.text import shorten

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


def accounts_url(item):
    """The connection's Accounts page, where new accounts are chosen."""
    return url_for("banking.accounts", item_id=item.id)


def banners_for(host):
    """The banners a host's admins should see now: broken logins, expiries, failing syncs, new accounts."""
    items = db.session.scalars(
        select(PlaidItem)
        .where(PlaidItem.host_id == host.id,
               or_(PlaidItem.status.in_(MESSAGES), PlaidItem.new_accounts_available.is_(True),
                   PlaidItem.last_sync_error.is_not(None)))
        .order_by(PlaidItem.id)).all()
    failing = failed_runs([item for item in items if item.status == ItemStatus.HEALTHY.value
                           and item.last_sync_error])
    banners = []
    for item in items:
        url = item_url(item)
        if item.status in MESSAGES:
            level, text, action = MESSAGES[item.status]
            detail = item.error_message or item.error_code or "an error at the bank."
            if item.status == ItemStatus.ERROR.value:  # Plaid's raw text, said in words with its code
                detail = in_words(item.error_code, item.error_message) + \
                    (f" ({item.error_code})" if item.error_code else "")
            banners.append(Banner(item.id, item.status, level, text.format(bank=item.display_name, detail=detail),
                                  action, url))
        if item.id in failing:
            run = failing[item.id]
            banners.append(Banner(item.id, "SYNC_FAILED", "error",
                                  f"{item.display_name} cannot sync: {shorten(in_words(run.error_code, run.error), 200)}"
                                  f" ({run.error_code})",
                                  "Review", item_url(item, run)))
        if item.new_accounts_available and item.status != ItemStatus.DISCONNECTED.value:
            banners.append(Banner(item.id, "NEW_ACCOUNTS", "info", f"New accounts available at {item.display_name}.",
                                  "Choose accounts", accounts_url(item)))
    return banners


def failed_runs(items):
    """{item id: run} for the items whose latest decisive run (succeeded or failed) failed since
    their status last changed.

    A FAILED run will fail the same way again (RETRYING ones are retried on their own), so the
    item keeps its banner until a run succeeds, unless the item changed since (a repaired login).
    """
    if not items:
        return {}
    latest = (select(TransactionsImport.plaid_item_id, func.max(ImportRun.id).label("run_id"))
              .join(ImportRun, ImportRun.import_id == TransactionsImport.id)
              .where(TransactionsImport.plaid_item_id.in_([item.id for item in items]),
                     ImportRun.outcome.in_((RunOutcome.SUCCEEDED.value, RunOutcome.FAILED.value)))
              .group_by(TransactionsImport.plaid_item_id).subquery())
    rows = db.session.execute(select(latest.c.plaid_item_id, ImportRun)
                              .join(ImportRun, ImportRun.id == latest.c.run_id)
                              .where(ImportRun.outcome == RunOutcome.FAILED.value)).all()
    changed = {item.id: item.status_changed_at for item in items}
    return {item_id: run for item_id, run in rows
            if changed[item_id] is None or run.finished_at is None or run.finished_at >= changed[item_id]}


def failed_sync_run(item):
    """The item's failed run if its syncing is failing now (for its connection page), else None."""
    return failed_runs([item]).get(item.id)


def install(app):
    """Register the context processor (item_banners) and the item_url and failed_sync_run template helpers."""
    app.add_template_global(item_url, "item_url")
    app.add_template_global(failed_sync_run, "failed_sync_run")
    app.add_template_global(explain, "plaid_error")

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
