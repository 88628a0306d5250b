"""Edit added funds: a form, a before/after preview (POST, htmx-enhanced), confirm = reverse and recreate."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from hostadmin.auth.access import get_for_host_or_404, role_required
from hostadmin.funds import cleared, collectives, service, versions
from hostadmin.funds.edit import preview_edit
from hostadmin.funds.forms import EditFundsForm, FormError, bps_to_percent
from hostadmin.funds.routes import _field_of, _parsed, bp
from hostadmin.ledger.models import Order, OrderKind, OrderStatus
from hostadmin.money import major_units

TEMPLATE = "funds/edit.html"
ECHOED = ("collective", "contributor", "amount", "description", "cleared_on", "host_fee_percent",
          "processor_fee", "reason", "version")


@bp.route("/funds/<int:order_id>/edit", methods=["GET", "POST"])
@role_required("ADMIN")
def edit_funds(order_id):
    """The edit form, filled with the contribution's current values; POST confirms.

    One rule for GET and POST: with two, an id out of range is a 405 instead of a 404.
    """
    if request.method == "POST":
        return edit_confirm(order_id)
    order = _added_funds(order_id)
    return _page(order, _filled_form(order))


@bp.post("/funds/<int:order_id>/edit/preview")
@role_required("ADMIN")
def edit_preview(order_id):
    """Before and after side by side, computed by running the edit and rolling it back."""
    order = _added_funds(order_id)
    form = _choices(EditFundsForm())
    if not form.validate_on_submit():
        return _page(order, form, status=400)
    try:
        preview = preview_edit(g.host, current_user, order.id, **_changes(order, form))
    except (FormError, service.FundsError) as error:
        return _refused(order, form, error)
    return _page(order, form, preview=preview)


def edit_confirm(order_id):
    """Confirm: reverse and recreate in one transaction, then show the corrected contribution's collective."""
    order = _added_funds(order_id)
    form = _choices(EditFundsForm())
    if not form.validate_on_submit():
        return _page(order, form, status=400)
    try:
        corrected = service.edit_funds(g.host, current_user, order.id, **_changes(order, form))
    except (FormError, service.FundsError) as error:
        return _refused(order, form, error)
    flash(f"Corrected contribution #{order.id}: it is now #{corrected.id}, {service.describe(corrected)}.", "success")
    return redirect(url_for("funds.collective", slug=corrected.to_account.slug))


def _added_funds(order_id):
    order = get_for_host_or_404(Order, order_id)
    if order.kind != OrderKind.ADDED_FUNDS.value:
        abort(404)
    return order


def _choices(form):
    form.collective.choices = [(c.id, c.name) for c in collectives.collectives_of(g.host)]
    form.amount.label.text = f"Amount ({g.host.currency})"
    form.cleared_on.render_kw = {"max": cleared.today(g.host).isoformat()}
    return form


def _filled_form(order):
    rows = service._group_rows(service._live_group(order)) if order.status == OrderStatus.PAID.value else []
    form = _choices(EditFundsForm(formdata=None))
    form.collective.data, form.contributor.data = order.to_account_id, order.from_account.name
    form.amount.data = _major(order.amount)
    form.description.data = order.description
    form.cleared_on.data = rows[0].cleared_at.astimezone(cleared.zone_of(g.host)).date() if rows else None
    form.host_fee_percent.data = bps_to_percent(order.host_fee_bps)
    fee = (order.data or {}).get("processor_fee", 0)
    form.processor_fee.data = _major(fee) if fee else ""
    form.version.data = str(order.version)
    return form


def _changes(order, form):
    """Service keywords from the form; the cleared date only when it differs from the original's."""
    original_day = service._group_rows(service._live_group(order))[0].cleared_at \
        .astimezone(cleared.zone_of(g.host)).date() if order.status == OrderStatus.PAID.value else None
    typed_day = form.cleared_on.data
    if typed_day == original_day:
        # Unchanged: keep the original's date, so a closed original month moves the correction to today
        # rather than refusing the typed date. Today is never in a closed month, so it parses.
        form.cleared_on.data = cleared.today(g.host)
    parsed = _parsed(form)
    form.cleared_on.data = typed_day
    if typed_day == original_day:
        parsed["cleared_at"] = None
    return {**parsed, "reason": form.reason.data, "expected_version": versions.parse(form.version.data)}


def _refused(order, form, error):
    if isinstance(error, service.Stale):
        db_order = get_for_host_or_404(Order, order.id)
        return _page(db_order, _filled_form(db_order) if db_order.status == OrderStatus.PAID.value else form,
                     stale=str(error)[:1].upper() + str(error)[1:] + ".", status=409)
    if isinstance(error, FormError):
        getattr(form, error.field).errors.append(str(error))
    else:
        field = "reason" if "reason" in str(error) else _field_of(error)
        if "nothing to change" in str(error):
            field = "amount"
        getattr(form, field).errors.append(str(error)[:1].upper() + str(error)[1:] + ".")
    return _page(order, form, status=400)


def _page(order, form, preview=None, stale=None, status=200):
    context = {"order": order, "form": form, "preview": preview, "stale": stale, "echoed": ECHOED,
               "replaced_by": (order.data or {}).get("replaced_by_order_id")}
    if request.htmx and request.method == "POST" and status in (200, 400):
        # htmx swaps only 2xx answers: field errors come back as the editor with its messages
        return render_block(TEMPLATE, "editor", **context)
    return render_template(TEMPLATE, **context), status


def _major(amount):
    return major_units(amount, g.host.currency)
