"""What the ledger list templates need, shared by the host's ledger page and each collective's page."""
from urllib.parse import urlencode

from flask import request, url_for

from hostadmin.funds import cleared
from hostadmin.ledger import queries
from hostadmin.ledger.filters import KINDS, LedgerFilters


def wants_fragment():
    """True for an htmx request that swaps part of the page (not a history restore)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def parse_filters(host):
    """The list's filters from the query string (anything typed is tolerated)."""
    return LedgerFilters.from_args(request.args, host.currency)


def _with_args(url, args):
    return f"{url}?{urlencode(args)}" if args else url


def display_helpers(host):
    """Dates in the host's time zone and links to groups, for the row templates."""
    zone = cleared.zone_of(host)
    return {
        "local_day": lambda moment: moment.astimezone(zone).date().isoformat(),
        "local_time": lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "group_url": lambda group_id: url_for("ledger.group", group_id=group_id),
        "zone_name": host.timezone or "UTC",
    }


def list_context(host, filters, page, *, list_url, account=None, keep=None):
    """Context of a ledger list at `list_url` (`account` set on a collective's page).

    `keep` holds other parameters of the page (a collective's balance date) that its links carry on.
    """
    keep = {key: value for key, value in (keep or {}).items() if value}
    return {
        "filters": filters, "page": page, "list_url": list_url, "ledger_account": account,
        "kinds": KINDS, "collectives": queries.collective_choices(host) if account is None else [],
        "more_url": _with_args(list_url, {**keep, **filters.to_args(), "after": page.next_cursor})
        if page.next_cursor else None,
        **display_helpers(host),
    }


def group_context(host, page):
    """Context of one group's rows (its page, or the fragment that expands it in a list)."""
    return {"page": page, "summary": queries.group_summary(page), **display_helpers(host)}
