"""Row actions over HTMX: each swaps only its row and tells the counts to refresh."""
from types import SimpleNamespace

from flask import abort, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from hostadmin.auth.access import get_for_host_or_404, is_admin, role_required
from hostadmin.extensions import db
from hostadmin.funds import versions
from hostadmin.imports import payouts, queries, service, undo
from hostadmin.imports.feedback import Feedback, attach, redirect_back
from hostadmin.imports.forms import Filters
from hostadmin.imports.models import ImportRow
from hostadmin.imports.routes import ROWS_TEMPLATE, bp
from hostadmin.imports.service import TriageError
from hostadmin.ledger.models import Account, AccountKind
from hostadmin.money import format_money
from hostadmin.params import parse_id
from hostadmin.text import clean_line, clean_text

PANELS = ("add_funds", "link", "unlink", "note")
STATUS_DONE = {"ignore": "Row ignored.", "hold": "Row put on hold.", "restore": "Row back in to do."}


def render_row(row, *, panel=None, error=None, status=200, changed=False, feedback=None, **extra):
    """The row's <tbody> (with an optional panel or error), and the live region's message if any.

    HX-Trigger counts-changed if the row changed.
    """
    if panel:
        extra.update(panel_context(row, panel))
    html = render_block(ROWS_TEMPLATE, "row", row=row, panel=panel, error=error, is_admin=is_admin(),
                        **queries.names_for([row]), **extra)
    response = make_response(html, status)
    if changed:
        response.headers["HX-Trigger"] = "counts-changed"
    return attach(response, feedback) if feedback else response


def list_url(row):
    """The rows list of the row's import (where a form without JavaScript returns by default)."""
    return url_for("imports.rows", import_id=row.import_id)


def row_page(row, panel, error=None, status=200):
    """Without JavaScript: the whole page with just this row and its panel open."""
    from hostadmin.imports.routes import rows_context

    context = rows_context(None, Filters.from_args({}, g.host.currency),
                           SimpleNamespace(rows=[row], next_cursor=None),
                           title=f"Bank row of {row.date.isoformat()}", single_row=True,
                           back_url=list_url(row))
    context.update(panel=panel, error=error, form=request.form if request.method == "POST" else None,
                   **panel_context(row, panel))
    return render_template(ROWS_TEMPLATE, **context), status


def panel_context(row, panel):
    """What a row's panel (add funds, link, unlink, note) needs to render."""
    if panel == "add_funds":
        collectives = [c for c in queries.accounts_of_kind(g.host, AccountKind.COLLECTIVE) if c.archived_at is None]
        contributors = queries.accounts_of_kind(g.host, AccountKind.CONTRIBUTOR)
        return {"collectives": collectives, "contributors": contributors,
                "default_collective_id": default_collective_id(row),
                "guessed_contributor_id": guess_contributor(row, contributors)}
    if panel == "link":
        return {"suggestions": service.suggestions(g.host, row), "payouts": payouts.suggestions(g.host, row),
                "payout_window": payouts.WINDOW_DAYS}
    if panel == "unlink":
        return {"preview": service.unlink_preview(g.host, row)}
    return {}


def default_collective_id(row):
    """The row's own assignment, else its bank account's default collective."""
    if row.collective_id:
        return row.collective_id
    if row.bank_account_id:
        from hostadmin.banking.models import BankAccount
        account = db.session.get(BankAccount, row.bank_account_id)
        return account.default_collective_id if account else None
    return None


def guess_contributor(row, contributors):
    """A contributor whose name appears in the bank line, to preselect."""
    text = f"{row.description} {row.merchant_name or ''}".lower()
    return next((c.id for c in contributors if len(c.name) > 3 and c.name.lower() in text), None)


def load_row(row_id):
    """The row of the current host, or 404."""
    return get_for_host_or_404(ImportRow, row_id)


@bp.get("/row/<int:row_id>")
def row(row_id):
    """The row alone (closes a panel)."""
    return render_row(load_row(row_id))


@bp.get("/row/<int:row_id>/panel/<panel>")
@role_required("ADMIN")
def panel(row_id, panel):
    """The row with one of its action panels open."""
    row = load_row(row_id)
    if panel not in PANELS:
        return render_row(row, error="Unknown action.", status=404)
    try:
        if not request.htmx:
            return row_page(row, panel)
        return render_row(row, panel=panel)
    except TriageError as error:
        if not request.htmx:
            return redirect_back(Feedback(str(error), category="error"), list_url(row))
        return render_row(row, error=str(error), status=409)


@bp.post("/row/<int:row_id>/<action>")
def status_action(row_id, action):
    """Ignore, hold or restore one row."""
    if action not in service.TRANSITIONS:
        abort(404)
    return run(load_row(row_id), lambda row: service.change_status(g.host, current_user, row, action),
               done=lambda row: Feedback(STATUS_DONE[action], undo=True))


@bp.post("/row/<int:row_id>/review")
def review(row_id):
    """Clear the row's changed-by-the-bank flag."""
    return run(load_row(row_id), lambda row: service.mark_reviewed(g.host, current_user, row),
               done=lambda row: Feedback("Marked reviewed."))


@bp.post("/row/<int:row_id>/note")
def note(row_id):
    """Save the row's note."""
    note = clean_text(request.form.get("note"))
    seen = versions.parse(request.form.get("version"))
    return run(load_row(row_id), lambda row: service.set_note(g.host, current_user, row, note, seen), panel="note",
               done=lambda row: Feedback("Note saved." if note else "Note removed.", undo=True))


@bp.post("/row/<int:row_id>/add-funds")
def add_funds(row_id):
    """Add funds from a deposit (existing or new contributor)."""
    row = load_row(row_id)
    collective_id = parse_id(request.form.get("collective"))
    contributor_id = parse_id(request.form.get("contributor"))
    collective = get_for_host_or_404(Account, collective_id) if collective_id else None
    contributor = get_for_host_or_404(Account, contributor_id) if contributor_id else None
    if contributor is not None and contributor.kind != AccountKind.CONTRIBUTOR.value:
        contributor = None
    new = {"name": clean_line(request.form.get("new_name", "")),
           "email": clean_line(request.form.get("new_email", ""))}
    description = clean_line(request.form.get("description", ""))
    return run(row, lambda r: service.add_funds(g.host, current_user, r, collective=collective,
                                                contributor=contributor, new_contributor=new,
                                                description=description),
               panel="add_funds", done=funds_feedback)


@bp.post("/row/<int:row_id>/link")
def link(row_id):
    """Link to a pending order (money in) or an approved expense (money out)."""
    row = load_row(row_id)
    if "payout_id" in request.form:
        payout = parse_id(request.form.get("payout_id"))
        if payout is None:
            return refuse(row, "link", "Give the payout to link to.", 422)
        return run(row, lambda r: payouts.link(g.host, current_user, r, payout), panel="link",
                   done=lambda r: Feedback("Linked as a payout: a transfer from the processor, no ledger entries.",
                                           undo=True))
    target = parse_id(request.form.get("target_id"))
    if target is None:
        return refuse(row, "link", "Give the number to link to.", 422)
    action = service.link_order if row.amount > 0 else service.link_expense
    return run(row, lambda r: action(g.host, current_user, r, target), panel="link", done=linked_feedback)


def linked_feedback(row):
    """What a link did, with Undo (which asks for the unlink confirmation)."""
    target = f"order #{row.order_id}" if row.order_id else f"expense #{row.expense_id}"
    return Feedback(f"Linked to {target}.", undo=True)


def funds_feedback(row):
    """What add funds did, with Undo (which asks for the unlink confirmation)."""
    return Feedback(f"Funds added: {format_money(row.amount, row.currency)} as order #{row.order_id}.", undo=True)


@bp.post("/row/<int:row_id>/unlink")
def unlink(row_id):
    """Reverse the row's link after the confirmation."""
    reason = clean_line(request.form.get("reason"))
    return run(load_row(row_id), lambda row: service.unlink(g.host, current_user, row, reason),
               panel="unlink", done=lambda row: Feedback("Unlinked: the ledger entries are reversed and the row "
                                                         "is back in to do."))


@bp.post("/undo", endpoint="undo")
def undo_last():
    """`u` or the Undo button: undo the user's last reversible action (a link asks for the unlink confirmation)."""
    entry = undo.last_undoable(g.host, current_user)
    if entry is None:
        return feedback_only(Feedback("Nothing to undo."))
    if entry.action in undo.LINK_ACTIONS:
        row = get_for_host_or_404(ImportRow, entry.object_id)
        if row.status != service.LINKED:
            return feedback_only(Feedback("That link was already undone.", category="error"))
        if not request.htmx:
            return redirect(url_for("imports.panel", row_id=row.id, panel="unlink"), 303)
        response = render_row(row, panel="unlink",
                              feedback=Feedback("To undo the link, confirm the unlink below."))
        response.headers.update({"HX-Retarget": f"#row-{row.id}", "HX-Reswap": "outerHTML"})
        return response
    try:
        row_ids = undo.undo(g.host, current_user, entry)
    except TriageError as error:
        return feedback_only(Feedback(str(error), category="error"))
    rows = db.session.scalars(select(ImportRow).where(ImportRow.id.in_(row_ids[:1]))).all()
    if entry.action.startswith("import_row.") and rows:
        done = Feedback("Undone: the note is back as it was." if entry.action == "import_row.note"
                        else "Undone: the row is back as it was.")
        if not request.htmx:
            return redirect_back(done, list_url(rows[0]))
        response = render_row(rows[0], changed=True, feedback=done)
        response.headers.update({"HX-Retarget": f"#row-{rows[0].id}", "HX-Reswap": "outerHTML"})
        return response
    done = Feedback(f"Undone: {len(row_ids):,} row{'s' if len(row_ids) != 1 else ''} put back.")
    response = feedback_only(done)
    if request.htmx:
        response.headers["HX-Trigger"] = "counts-changed, rows-changed"
    return response


def feedback_only(feedback):
    """Only the live region changes (htmx); without JavaScript, back to the list with the message."""
    if not request.htmx:
        return redirect_back(feedback, url_for("imports.rows"))
    return attach(make_response("", 200, {"HX-Reswap": "none"}), feedback)


def refuse(row, panel, message, status):
    """The row with the refusal (its panel kept); without JavaScript, the row's page with the message."""
    if not request.htmx:
        if panel:
            return row_page(row, panel, error=message, status=status)
        return redirect_back(Feedback(message, category="error"), list_url(row))
    return render_row(row, panel=panel, error=message, status=status, form=request.form,
                      feedback=Feedback(message, category="error"))


def run(row, action, panel=None, done=None):
    """Do `action` on the row: the updated row and what was done, or the refusal (409) with its panel kept.

    Without JavaScript the browser is redirected back to the list, where the message is shown.
    """
    try:
        action(row)
    except TriageError as error:
        db.session.rollback()
        db.session.refresh(row)
        keep = panel if panel and (panel != "unlink" or row.status == service.LINKED) else None
        return refuse(row, keep, str(error), 409)
    feedback = done(row) if done else None
    if not request.htmx:
        return redirect_back(feedback or Feedback("Saved."), list_url(row))
    return render_row(row, changed=True, feedback=feedback)
