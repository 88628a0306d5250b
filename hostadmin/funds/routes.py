"""Money pages: a collective's page (balance today and at a date, its ledger rows) and Add funds."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from hostadmin.auth.access import SLUG_RE, host_blueprint, is_admin, role_required
from hostadmin.extensions import db
from hostadmin.funds import cleared, collectives, service, versions
from hostadmin.funds.forms import (
    AddFundsForm, ArchiveCollectiveForm, FormError, RenameCollectiveForm, bps_to_percent, minor_units, percent_to_bps,
)
from hostadmin.funds.views import sentence
from hostadmin.ledger import queries as ledger_queries, views as ledger_views
from hostadmin.ledger.accounts import ValidationError
from hostadmin.ledger.models import Account
from hostadmin.ledger.service import LedgerError
from hostadmin.params import parse_id

bp = host_blueprint("funds", __name__)
SERVICE_FIELDS = {"collective", "description", "amount", "host_fee_percent", "processor_fee"}


@bp.get("/collectives/<slug>")
def collective(slug):
    """A collective: balance today and at a chosen date (by effective date), its ledger rows."""
    account = _collective_or_404(slug)  # never a slug (NUL would even fail the query on PostgreSQL): 404
    fragment = ledger_views.wants_fragment()
    # An htmx request swaps either the balance at a date or the ledger list: compute only that part.
    ledger_part = fragment and request.htmx.target in ("ledger-results", "ledger-more")
    context = {"collective": account, "is_admin": is_admin(), **_manage_forms(account)}
    if not ledger_part:
        at, at_error = None, None
        if request.args.get("at"):
            try:
                at = _date(request.args["at"])
            except ValueError:
                at_error = "Give a date as YYYY-MM-DD."
        context.update({"at": at, "at_error": at_error, "today": cleared.today(g.host),
                        "balance_today": _balance(account, None),
                        "balance_at": _balance(account, at) if at else None})
        if fragment:
            return render_block("funds/collective.html", "balance_at", **context)
    # The ledger list: the same filters, pages and fragments as the host's ledger, for this account.
    filters, after = ledger_views.parse_filters(g.host), request.args.get("after")
    page = ledger_queries.page_of_rows(g.host, filters, account=account, after=after)
    context.update(ledger_views.list_context(
        g.host, filters, page, list_url=url_for("funds.collective", slug=slug), account=account,
        keep={"at": request.args.get("at", "")}))
    if ledger_part:
        return render_template("ledger/_rows.html" if after else "ledger/_results.html", **context)
    return render_template("funds/collective.html", **context)


@bp.post("/collectives/<slug>/rename")
@role_required("ADMIN")
def rename_collective(slug):
    """Rename a collective (unique on the host in any case); a rename based on a stale page is refused."""
    account = _collective_or_404(slug)
    form = RenameCollectiveForm()
    if form.validate_on_submit():
        try:
            collectives.rename(g.host, current_user, account, form.name.data, versions.parse(form.version.data))
        except ValidationError as error:
            form.name.errors.append(sentence(error))
        except versions.StaleVersion as error:
            return _manage_refused(account, sentence(error), rename_form=form)
        else:
            flash(f"Renamed the collective to {account.name}.", "success")
            return redirect(url_for("funds.collective", slug=slug))
    return _manage_refused(account, None, rename_form=form, status=400)


@bp.post("/collectives/<slug>/archive")
@role_required("ADMIN")
def archive_collective(slug):
    """Archive a collective (its balance must be zero) or, with `unarchive`, bring it back."""
    account = _collective_or_404(slug)
    form = ArchiveCollectiveForm()
    action = collectives.unarchive if request.form.get("unarchive") else collectives.archive
    if not form.validate_on_submit():
        return _manage_refused(account, "The form expired: reload the page and try again.", status=400)
    try:
        action(g.host, current_user, account, versions.parse(form.version.data))
    except versions.StaleVersion as error:
        return _manage_refused(account, sentence(error))
    except ValidationError as error:
        return _manage_refused(account, sentence(error), status=400)
    flash(f"{account.name} is archived: it takes no new money until it is unarchived." if account.archived_at
          else f"{account.name} is no longer archived.", "success")
    return redirect(url_for("funds.collective", slug=slug))


def _collective_or_404(slug):
    if not SLUG_RE.fullmatch(slug):
        abort(404)
    try:
        return collectives.collective_by_slug(g.host, slug)
    except ValidationError:
        abort(404)


def _manage_forms(account, rename_form=None):
    """The rename and archive forms of the collective page, carrying the version shown."""
    rename_form = rename_form or RenameCollectiveForm(formdata=None, name=account.name)
    rename_form.version.data = str(account.version)
    return {"rename_form": rename_form, "archive_form": ArchiveCollectiveForm(formdata=None, version=account.version)}


def _manage_refused(account, message, rename_form=None, status=409):
    """The collective page as it is now, the refusal above its forms (409 for a stale page, 400 for bad input)."""
    db.session.rollback()
    db.session.refresh(account)
    filters = ledger_views.parse_filters(g.host)
    page = ledger_queries.page_of_rows(g.host, filters, account=account)
    context = {"collective": account, "is_admin": is_admin(), "manage_error": message,
               "at": None, "at_error": None, "today": cleared.today(g.host), "balance_today": _balance(account, None),
               "balance_at": None, **_manage_forms(account, rename_form)}
    context.update(ledger_views.list_context(g.host, filters, page, account=account,
                                             list_url=url_for("funds.collective", slug=account.slug), keep={"at": ""}))
    return render_template("funds/collective.html", **context), status


@bp.route("/funds/add", methods=["GET", "POST"])
@role_required("ADMIN")
def add_funds():
    """Add funds that did not come through a bank feed, with the date they cleared."""
    form = AddFundsForm(collective=parse_id(request.args.get("collective")))
    form.collective.choices = [(c.id, c.name) for c in collectives.open_collectives_of(g.host)]
    form.amount.label.text = f"Amount ({g.host.currency})"
    form.cleared_on.render_kw = {"max": cleared.today(g.host).isoformat()}
    if request.method == "GET":
        form.cleared_on.data = form.cleared_on.data or cleared.today(g.host)
        form.host_fee_percent.data = form.host_fee_percent.data or bps_to_percent(g.host.host_fee_bps)
    if not form.validate_on_submit():
        return render_template("funds/add_funds.html", form=form), 400 if request.method == "POST" else 200
    try:
        order = service.add_funds(g.host, current_user, **_parsed(form))
    except FormError as error:
        getattr(form, error.field).errors.append(str(error))
        return render_template("funds/add_funds.html", form=form), 400
    except service.FundsError as error:
        field = _field_of(error)
        getattr(form, field).errors.append(str(error)[:1].upper() + str(error)[1:] + ".")
        return render_template("funds/add_funds.html", form=form), 400
    flash(f"Added {service.describe(order)} (contribution #{order.id}).", "success")
    return redirect(url_for("funds.collective", slug=order.to_account.slug))


def _parsed(form):
    """Service arguments from a validated form; FormError names the field at fault."""
    currency = g.host.currency
    collective = db.session.get(Account, form.collective.data)  # the service refuses another host's
    amount = minor_units(form.amount.data, currency, "amount")
    if amount <= 0:
        raise FormError("The amount must be more than zero.", "amount")
    try:
        cleared_at = cleared.cleared_at_for_day(g.host, form.cleared_on.data)
    except LedgerError as error:
        raise FormError(str(error)[:1].upper() + str(error)[1:] + ".", "cleared_on") from None
    return {
        "collective": collective,
        "amount": amount,
        "cleared_at": cleared_at,
        "description": form.description.data,
        "contributor_name": form.contributor.data,
        "host_fee_bps": percent_to_bps(form.host_fee_percent.data, "host_fee_percent")
        if (form.host_fee_percent.data or "").strip() else None,
        "processor_fee": minor_units(form.processor_fee.data, currency, "processor_fee")
        if (form.processor_fee.data or "").strip() else 0,
    }


def _field_of(error):
    cause = error.__cause__
    field = getattr(cause, "field", None)
    if field in SERVICE_FIELDS:
        return field
    return "cleared_on" if isinstance(cause, cleared.ClearedDateError) else "amount"


def _balance(account, day):
    return collectives.balances_at(g.host, day, account_ids=[account.id])[0].balance


def _date(text):
    from datetime import date
    return date.fromisoformat(text.strip())



from hostadmin.funds import batch_routes, edit_routes  # noqa: E402,F401  (their routes live on bp)
