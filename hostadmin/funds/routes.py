"""Money pages: a collective's page (balance today and at a date, its ledger rows) and Add funds."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from hostadmin.auth.access import SLUG_RE, host_blueprint, is_admin, role_required
from hostadmin.extensions import db
from hostadmin.funds import cleared, collectives, service
from hostadmin.funds.forms import AddFundsForm, FormError, bps_to_percent, minor_units, percent_to_bps
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
    if not SLUG_RE.fullmatch(slug):  # never a slug (NUL would even fail the query on PostgreSQL)
        abort(404)
    try:
        account = collectives.collective_by_slug(g.host, slug)
    except ValidationError:
        abort(404)
    fragment = ledger_views.wants_fragment()
    # An htmx request swaps either the balance at a date or the ledger list: compute only that part.
    ledger_part = fragment and request.htmx.target in ("ledger-results", "ledger-more")
    context = {"collective": account, "is_admin": is_admin()}
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


@bp.route("/funds/add", methods=["GET", "POST"])
@role_required("ADMIN")
def add_funds():
    """Add funds that did not come through a bank feed, with the date they cleared."""
    form = AddFundsForm(collective=parse_id(request.args.get("collective")))
    form.collective.choices = [(c.id, c.name) for c in collectives.collectives_of(g.host)]
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
