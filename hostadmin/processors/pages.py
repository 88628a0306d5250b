"""The host's Processors page: connections (never their secrets), events waiting or refused, Wise matching."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from hostadmin.auth.access import host_blueprint, is_admin, role_required
from hostadmin.extensions import db
from hostadmin.funds.records import RecordError
from hostadmin.params import parse_id
from hostadmin.processors import connections, service
from hostadmin.processors.models import PROCESSORS, EventStatus, ProcessorEvent, ProcessorPayment

bp = host_blueprint("processors", __name__, "/processors")
SHOWN = 100


@bp.get("/")
def index():
    """Connections, and the events that wait for something or were refused (newest first)."""
    return _index()


# What each processor's form asks for: the verification material's label and hint, and what it also takes.
MATERIAL = {
    "stripe": ("Webhook signing secret", "Stripe Dashboard → Developers → Webhooks → this endpoint → Signing secret "
                                        "(whsec_…)."),
    "wise": ("Wise webhook public key (PEM)", "Wise's public key for the environment, from Wise's webhook "
                                               "documentation: -----BEGIN PUBLIC KEY----- …"),
    "paypal": ("Webhook id", "PayPal Developer Dashboard → the app → Webhooks → the webhook's id."),
}


@bp.post("/configure")
@role_required("ADMIN")
def configure():
    """Connect a processor or replace its secret: stored encrypted, never shown again."""
    processor = request.form.get("processor", "")
    if processor not in PROCESSORS:
        flash("Choose Stripe, Wise or PayPal.", "error")
        return redirect(url_for("processors.index")), 303
    form = request.form
    try:
        connections.configure(g.host, processor, material=form.get("material", ""),
                              api_key=form.get("api_key", "").strip() or ("-" if form.get("remove_api_key") else None),
                              sandbox=bool(form.get("sandbox")), cleared_field=form.get("cleared_field") or None,
                              user=current_user)
    except connections.ConfigError as error:
        db.session.rollback()
        message = str(error)[:1].upper() + str(error)[1:] + "."
        return _index(errors={processor: {error.field or "material": message}}, open_form=processor), 400
    flash(f"{processor.capitalize()} is connected: its webhooks are checked with what you saved "
          f"(stored encrypted; it is not shown again).", "success")
    return redirect(url_for("processors.index")), 303


def _index(errors=None, open_form=None):
    connected = {p: connections.connection_of(g.host, p) for p in PROCESSORS}
    attention = db.session.scalars(select(ProcessorEvent).where(
        ProcessorEvent.host_id == g.host.id,
        ProcessorEvent.status.in_([EventStatus.WAITING, EventStatus.FAILED]))
        .order_by(ProcessorEvent.id.desc()).limit(SHOWN)).all()
    recent = db.session.scalars(select(ProcessorEvent).where(ProcessorEvent.host_id == g.host.id)
                                .order_by(ProcessorEvent.id.desc()).limit(20)).all()
    payouts = db.session.scalars(select(ProcessorPayment).where(
        ProcessorPayment.host_id == g.host.id, ProcessorPayment.kind == "PAYOUT")
        .order_by(ProcessorPayment.id.desc()).limit(20)).all()
    return render_template("processors/index.html", payouts=payouts, connected=connected, choices=connections.CLEARED_FIELDS,
                           urls={p: connections.webhook_url(g.host, p) for p in PROCESSORS},
                           attention=attention, recent=recent, is_admin=is_admin(), material=MATERIAL,
                           errors=errors or {}, open_form=open_form)


@bp.post("/wise-transfer")
def wise_transfer():
    """Record the Wise transfer that pays an expense; events that waited for it are applied."""
    expense_id = parse_id(request.form.get("expense_id"))
    try:
        results = service.set_wise_transfer(g.host, current_user, expense_id, request.form.get("transfer_id"))
    except RecordError as error:
        flash(str(error), "error")
        return redirect(url_for("processors.index")), 303
    flash(f"Expense #{expense_id} is paid by that Wise transfer; {len(results)} waiting event(s) applied.",
          "success")
    return redirect(url_for("processors.index")), 303


@bp.post("/cleared-field")
def cleared_field():
    """Choose which of a connected processor's timestamps becomes cleared_at for what it sends from now on."""
    processor = request.form.get("processor", "")
    if processor not in PROCESSORS:
        flash("Choose Stripe, Wise or PayPal.", "error")
        return redirect(url_for("processors.index")), 303
    try:
        connection = connections.set_cleared_field(g.host, processor, request.form.get("cleared_field", ""))
    except connections.ConfigError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("processors.index")), 303
    flash(f"{processor.capitalize()}: cleared dates now come from {connection.cleared_field} "
          f"(for events applied from now on; recorded rows keep theirs).", "success")
    return redirect(url_for("processors.index")), 303
