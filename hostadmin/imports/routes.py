"""Triage pages: imports list, rows list (filters, keyset pages, counts, new-row notice), bulk actions."""
from flask import g, make_response, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from hostadmin.auth.access import get_for_host_or_404, host_blueprint, is_admin
from hostadmin.extensions import db
from hostadmin.imports import bulk, queries
from hostadmin.imports.forms import SORTS, TAB_LABELS, TABS, Filters
from hostadmin.imports.models import TransactionsImport
from hostadmin.imports.service import TriageError
from hostadmin.ledger.models import Account, AccountKind
from hostadmin.params import parse_id, parse_ids

bp = host_blueprint("imports", __name__, url_prefix="/imports")
ROWS_TEMPLATE = "imports/rows.html"


def wants_fragment():
    """True for an htmx request that swaps part of the page (not a history restore)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


@bp.get("/")
def index():
    """Every import of the host with its accounts, last sync and counts by status."""
    return render_template("imports/index.html", imports=queries.imports_overview(g.host),
                           count_label=queries.count_label)


def scope(import_id):
    """The import (404 unless the host's), or None for all of the host's imports."""
    return get_for_host_or_404(TransactionsImport, import_id) if import_id is not None else None


def scope_args(imp):
    """url_for arguments of the list's scope."""
    return {"import_id": imp.id} if imp is not None else {}


def rows_context(imp, filters, page=None, **extra):
    """Everything rows.html needs; the counts and page are computed here once."""
    args = scope_args(imp)
    since = extra.pop("since_id", None) or queries.newest_row_id(g.host)
    context = {
        "imp": imp, "filters": filters, "tabs": TABS, "tab_labels": TAB_LABELS, "sorts": SORTS,
        "counts": queries.status_counts(g.host, filters, imp.id if imp else None),
        "page": page, "since_id": since, "is_admin": is_admin(), "count_label": queries.count_label,
        "bank_accounts": queries.bank_accounts(g.host),
        "statement_accounts_list": queries.statement_accounts(g.host),
        "collectives": queries.accounts_of_kind(g.host, AccountKind.COLLECTIVE),
        "rows_url": url_for("imports.rows", **args),
        "counts_url": url_for("imports.counts", **args),
        "poll_url": url_for("imports.new_rows", since=since, **args),
        "bulk_url": url_for("imports.bulk_action", **args),
        "tab_url": lambda tab: url_for("imports.rows", **args, **filters.to_args(status=tab)),
        "title": imp.name if imp else "All bank rows",
        **extra,
    }
    if page is not None:
        context.update(queries.names_for(page.rows))
        context["more_url"] = url_for("imports.rows", after=page.next_cursor, **args) if page.next_cursor else None
    return context


@bp.get("/rows", defaults={"import_id": None})
@bp.get("/<int:import_id>/rows")
def rows(import_id):
    """The rows list: full page, the results fragment (filters, tabs) or the next page (Show more)."""
    imp = scope(import_id)
    filters = Filters.from_args(request.args, g.host.currency)
    after = request.args.get("after")
    page = queries.page_of_rows(g.host, filters, imp.id if imp else None, after=after)
    if wants_fragment() and after:
        # "Show more": only the next rows, appended in place of the button.
        return render_block(ROWS_TEMPLATE, "rows", page=page, is_admin=is_admin(),
                            **queries.names_for(page.rows),
                            more_url=url_for("imports.rows", after=page.next_cursor, **scope_args(imp))
                            if page.next_cursor else None)
    context = rows_context(imp, filters, page)
    if wants_fragment():
        return render_block(ROWS_TEMPLATE, "results", **context)
    return render_template(ROWS_TEMPLATE, **context)


@bp.get("/counts", defaults={"import_id": None})
@bp.get("/<int:import_id>/counts")
def counts(import_id):
    """The status tabs with their counts (refreshed on counts-changed)."""
    imp = scope(import_id)
    filters = Filters.from_args(request.args, g.host.currency)
    return render_block(ROWS_TEMPLATE, "counts", **rows_context(imp, filters))


@bp.get("/new", defaults={"import_id": None})
@bp.get("/<int:import_id>/new")
def new_rows(import_id):
    """Polled: how many rows arrived since the list was drawn (the list itself stays put)."""
    imp = scope(import_id)
    filters = Filters.from_args(request.args, g.host.currency)
    since = parse_id(request.args.get("since")) or 0
    number = queries.new_rows_count(g.host, filters, since, imp.id if imp else None)
    return render_block(ROWS_TEMPLATE, "notice", new_count=number, filters=filters,
                        rows_url=url_for("imports.rows", **scope_args(imp)),
                        poll_url=url_for("imports.new_rows", since=since, **scope_args(imp)))


@bp.post("/bulk", defaults={"import_id": None})
@bp.post("/<int:import_id>/bulk")
def bulk_action(import_id):
    """Ignore, hold, restore or assign the selected rows, or all rows matching the filter."""
    imp = scope(import_id)
    filters = Filters.from_args(request.form, g.host.currency)
    action = request.form.get("action", "")
    collective = None
    if action == "assign":
        collective_id = parse_id(request.form.get("collective"))
        collective = get_for_host_or_404(Account, collective_id) if collective_id else None
    row_ids = None if request.form.get("all_matching") else parse_ids(request.form.getlist("row"))
    status, message, category = 200, None, "success"
    if row_ids == []:
        message, category, status = "Select some rows first.", "error", 422
    else:
        try:
            result = bulk.bulk_apply(g.host, current_user, action, row_ids=row_ids,
                                     filters=filters if row_ids is None else None,
                                     import_id=imp.id if imp else None, collective=collective)
            message = result.message + "."
        except TriageError as error:
            message, category, status = str(error), "error", 422
    page = queries.page_of_rows(g.host, filters, imp.id if imp else None)
    context = rows_context(imp, filters, page, bulk_message=message, bulk_category=category)
    response = make_response(render_block(ROWS_TEMPLATE, "results", **context), status)
    response.headers["HX-Trigger"] = "counts-changed"
    return response


@bp.get("/assignments")
def assignments():
    """Bank accounts and the collective each one's deposits usually belong to."""
    return render_template("imports/assignments.html", accounts=queries.bank_accounts(g.host),
                           collectives=queries.accounts_of_kind(g.host, AccountKind.COLLECTIVE),
                           saved=None, is_admin=is_admin())


@bp.post("/assignments/<int:account_id>")
def assign_account(account_id):
    """Set (or clear) one bank account's default collective; swaps its table row."""
    from hostadmin.banking.models import BankAccount
    from hostadmin.imports.service import set_default_collective

    account = get_for_host_or_404(BankAccount, account_id)
    collective_id = parse_id(request.form.get("collective"))
    collective = get_for_host_or_404(Account, collective_id) if collective_id else None
    try:
        set_default_collective(g.host, current_user, account, collective)
        error = None
    except TriageError as exc:
        db.session.rollback()
        error = str(exc)
    return render_block("imports/assignments.html", "account_row", account=account, error=error,
                        collectives=queries.accounts_of_kind(g.host, AccountKind.COLLECTIVE),
                        saved=error is None, is_admin=is_admin()), (422 if error else 200)


from hostadmin.imports import csv_routes, row_routes  # noqa: E402,F401  (routes on the same blueprint)
