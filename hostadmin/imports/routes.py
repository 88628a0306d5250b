"""Triage pages: imports list, rows list (filters, keyset pages, counts, new-row notice), bulk actions."""
from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from hostadmin.auth.access import get_for_host_or_404, host_blueprint, is_admin
from hostadmin.extensions import db
from hostadmin.imports import bulk, feedback, queries
from hostadmin.imports.feedback import Feedback
from hostadmin.imports.forms import SORTS, TAB_LABELS, TABS, Filters
from hostadmin.imports.models import TransactionsImport
from hostadmin.imports.service import TriageError
from hostadmin.ledger.models import Account, AccountKind
from hostadmin.money import format_money
from hostadmin.params import parse_id, parse_ids

bp = host_blueprint("imports", __name__, url_prefix="/imports")
ROWS_TEMPLATE = "imports/rows.html"
CONFIRM_ABOVE = 20  # "all rows matching" acts on more than this many rows only after a confirmation


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
    totals, matching = queries.matching_totals(g.host, filters, imp.id if imp else None)
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
        "matching_sum": sum_text(totals), "matching_count": matching, "filter_args": filters.to_args(),
        **extra,
    }
    if page is not None:
        context.update(queries.names_for(page.rows))
        context["more_url"] = url_for("imports.rows", after=page.next_cursor, **args, **filters.to_args()) \
            if page.next_cursor else None
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
                            more_url=url_for("imports.rows", after=page.next_cursor, **scope_args(imp),
                                             **filters.to_args()) if page.next_cursor else None)
    context = rows_context(imp, filters, page)
    if wants_fragment():
        return render_block(ROWS_TEMPLATE, "results", **context)
    return render_template(ROWS_TEMPLATE, feedback=feedback.pop(), **context)


def sum_text(totals):
    """ "$1,234.00 + €5.00" (one sum per currency), or "—"."""
    return " + ".join(format_money(amount, currency) for currency, amount in totals.items()) or "—"


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
    """Ignore, hold, restore or assign the selected rows, or all rows matching the filter.

    All rows matching, when more than CONFIRM_ABOVE, first answer a confirmation naming the count,
    the sum and what will happen; without JavaScript the browser is then redirected back to the list.
    """
    imp = scope(import_id)
    filters = Filters.from_args(request.form, g.host.currency)
    action = request.form.get("action", "")
    collective = None
    if action == "assign":
        collective_id = parse_id(request.form.get("collective"))
        collective = get_for_host_or_404(Account, collective_id) if collective_id else None
    all_matching = bool(request.form.get("all_matching"))
    row_ids = None if all_matching else parse_ids(request.form.getlist("row"))
    confirm, status = None, 200
    if row_ids == []:
        done, status = Feedback("Select some rows first.", category="error"), 422
    elif all_matching and not request.form.get("confirmed") and action in bulk.ACTIONS:
        totals, number = queries.matching_totals(g.host, filters, imp.id if imp else None)
        if number > CONFIRM_ABOVE:
            done = None
            confirm = {"action": action, "count": number, "sum": sum_text(totals),
                       "effect": bulk.effect(action, collective), "collective": collective,
                       "label": bulk.LABELS[action]}
    if status == 200 and confirm is None:
        try:
            result = bulk.bulk_apply(g.host, current_user, action, row_ids=row_ids,
                                     filters=filters if row_ids is None else None,
                                     import_id=imp.id if imp else None, collective=collective)
            done = Feedback(result.message + ".", undo=result.done > 0)
        except TriageError as error:
            done, status = Feedback(str(error), category="error"), 422
    page = queries.page_of_rows(g.host, filters, imp.id if imp else None)
    context = rows_context(imp, filters, page, confirm=confirm)
    if not request.htmx:
        if confirm:
            return render_template(ROWS_TEMPLATE, **context)
        feedback.keep(done)
        return redirect(url_for("imports.rows", **scope_args(imp), **filters.to_args()), 303)
    response = make_response(render_block(ROWS_TEMPLATE, "results", **context), status)
    response.headers["HX-Trigger"] = "counts-changed"
    return feedback.attach(response, done or Feedback(
        f"Confirm below: {confirm['count']:,} rows match this filter."))


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
    if not request.htmx:  # the plain form: back to the list, which says what happened
        flash(error or f"{account.label}: default collective "
              f"{'set to ' + collective.name if collective else 'removed'}.", "error" if error else "success")
        return redirect(url_for("imports.assignments"), 303)
    return render_block("imports/assignments.html", "account_row", account=account, error=error,
                        collectives=queries.accounts_of_kind(g.host, AccountKind.COLLECTIVE),
                        saved=error is None, is_admin=is_admin()), (422 if error else 200)


from hostadmin.imports import csv_routes, row_routes  # noqa: E402,F401  (routes on the same blueprint)
