"""Expenses pages: the host-wide list, a page per expense, record, approve, mark paid, reject."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from hostadmin.auth.access import host_blueprint, is_admin, role_required
from hostadmin.extensions import db
from hostadmin.funds import cleared, collectives, expenses, versions
from hostadmin.funds.contribution_routes import picker
from hostadmin.funds.forms import FormError
from hostadmin.funds.record_forms import ExpenseForm, PayForm, RejectForm
from hostadmin.funds.records import Filters, RecordError
from hostadmin.funds.views import amount_of, cleared_at_of, load_or_404, sentence, show_error, wants_fragment
from hostadmin.ledger.models import Account, AccountKind, Expense
from hostadmin.params import parse_id

bp = host_blueprint("expenses", __name__, url_prefix="/expenses")
LIST = "funds/expenses.html"
PAGE = "funds/expense.html"


@bp.get("/")
def index():
    """Every expense of the host, filtered (kept in the URL), newest first, keyset pages."""
    filters = Filters.from_args(request.args, expenses.STATUSES, g.host.currency)
    after = parse_id(request.args.get("after"))
    found, cursor = expenses.page(g.host, filters, after)
    args = filters.to_args(g.host.currency)
    context = {"filters": filters, "expenses": found, "statuses": expenses.STATUSES, "words": expenses.STATUS_WORDS,
               "collectives": collectives.collectives_of(g.host), "currency": g.host.currency,
               "is_admin": is_admin(),
               "more_url": url_for("expenses.index", after=cursor, **args) if cursor else None}
    if wants_fragment():
        return render_block(LIST, "rows" if after else "results", **context)
    return render_template(LIST, **context)


@bp.get("/payees")
def payees():
    """Search-as-you-type: the payees whose name contains what was typed (htmx fragment)."""
    return picker("payee", AccountKind.PAYEE)


@bp.route("/new", methods=["GET", "POST"])
@role_required("ADMIN")
def new():
    """Record an expense; it waits for approval."""
    form = ExpenseForm(collective=parse_id(request.args.get("collective")))
    form.collective.choices = [(c.id, c.name) for c in collectives.open_collectives_of(g.host)]
    form.amount.label.text = f"Amount ({g.host.currency})"
    form.incurred_on.render_kw = {"max": cleared.today(g.host).isoformat()}
    if request.method == "GET":
        form.incurred_on.data = cleared.today(g.host)
    if not form.validate_on_submit():
        return _new_page(form, 400 if request.method == "POST" else 200)
    try:
        expense = expenses.record_expense(
            g.host, current_user, collective=db.session.get(Account, form.collective.data),
            payee_name=form.payee.data, amount=amount_of(form), description=form.description.data,
            incurred_on=form.incurred_on.data)
    except (FormError, RecordError) as error:
        show_error(form, error, {"collective", "payee", "amount", "description", "incurred_on"}, "amount")
        return _new_page(form, 400)
    flash(f"Recorded expense #{expense.id}: it waits for approval.", "success")
    return redirect(url_for("expenses.show", expense_id=expense.id))


@bp.get("/<int:expense_id>")
def show(expense_id):
    """An expense: its status, ledger group and bank line; approve, pay or reject it."""
    return _page(load_or_404(Expense, expense_id))


@bp.post("/<int:expense_id>/approve")
def approve(expense_id):
    """Approve an expense awaiting approval."""
    expense = load_or_404(Expense, expense_id)
    try:
        expenses.approve(g.host, current_user, expense.id, _seen())
    except versions.StaleVersion as error:
        return _stale(expense, error)
    except RecordError as error:
        flash(sentence(error), "error")
        return redirect(url_for("expenses.show", expense_id=expense.id))
    flash(f"Expense #{expense.id} approved: it can now be paid.", "success")
    return redirect(url_for("expenses.show", expense_id=expense.id))


@bp.post("/<int:expense_id>/pay")
def pay(expense_id):
    """Mark an approved expense paid on the date the money left the account."""
    expense = load_or_404(Expense, expense_id)
    form = PayForm()
    if not form.validate_on_submit():
        return _page(expense, pay_form=form, status=400)
    try:
        expenses.mark_paid(g.host, current_user, expense.id, cleared_at=cleared_at_of(form), seen_version=_seen())
    except versions.StaleVersion as error:
        return _stale(expense, error)
    except (FormError, RecordError) as error:
        db.session.refresh(expense)
        show_error(form, error, {"cleared_on"}, "cleared_on")
        return _page(expense, pay_form=form, status=400)
    flash(f"Expense #{expense.id} paid, cleared {form.cleared_on.data.isoformat()}.", "success")
    return redirect(url_for("expenses.show", expense_id=expense.id))


@bp.post("/<int:expense_id>/reject")
def reject(expense_id):
    """Reject an expense that is not paid, with a reason."""
    expense = load_or_404(Expense, expense_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _page(expense, reject_form=form, status=400)
    try:
        expenses.reject(g.host, current_user, expense.id, reason=form.reason.data, seen_version=_seen())
    except versions.StaleVersion as error:
        return _stale(expense, error)
    except RecordError as error:
        db.session.refresh(expense)
        form.reason.errors.append(sentence(error))
        return _page(expense, reject_form=form, status=400)
    flash(f"Expense #{expense.id} rejected.", "success")
    return redirect(url_for("expenses.show", expense_id=expense.id))


def _seen():
    """The expense version the page showed (its forms send it)."""
    return versions.parse(request.form.get("version"))


def _stale(expense, error):
    """The expense as it is now, saying someone else changed it since the page was shown (409)."""
    db.session.rollback()
    db.session.refresh(expense)
    return _page(expense, stale=sentence(error), status=409)


def _page(expense, pay_form=None, reject_form=None, status=200, stale=None):
    if pay_form is None:
        pay_form = PayForm(formdata=None)
        pay_form.cleared_on.data = cleared.today(g.host)
    pay_form.cleared_on.render_kw = {"max": cleared.today(g.host).isoformat()}
    return render_template(PAGE, expense=expense, pay_form=pay_form, reject_form=reject_form or RejectForm(formdata=None),
                           words=expenses.STATUS_WORDS, is_admin=is_admin(), stale=stale,
                           **expenses.details(g.host, expense)), status


def _new_page(form, status):
    return render_template("funds/expense_new.html", form=form), status

