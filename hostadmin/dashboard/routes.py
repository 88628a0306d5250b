"""Dashboard pages."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from hostadmin.auth.access import host_blueprint, is_admin, role_required
from hostadmin.auth.service import hosts_of
from hostadmin.dashboard import service, settings as host_settings
from hostadmin.dashboard.forms import CollectiveForm, SettingsForm
from hostadmin.extensions import db
from hostadmin.ledger.accounts import ValidationError

root = Blueprint("root", __name__)
bp = host_blueprint("dashboard", __name__)


@root.get("/")
def index():
    """Send the user to their host (or let them choose one)."""
    hosts = hosts_of(current_user)
    if len(hosts) == 1:
        return redirect(url_for("dashboard.home", host_slug=hosts[0].slug))
    return render_template("dashboard/choose_host.html", hosts=hosts)


@bp.get("/")
def home(form=None, status=200):
    rows = service.collective_balances(g.host)
    return render_template(
        "dashboard/home.html",
        rows=rows,
        total=sum(row.balance for row in rows),
        host_fees=service.host_fee_balance(g.host),
        todo=service.todo(g.host, admin=is_admin()),
        form=form or CollectiveForm(formdata=None),
    ), status


@bp.post("/collectives")
def add_collective():
    form = CollectiveForm()
    if not form.validate_on_submit():
        return home(form=form, status=400)
    try:
        collective = service.add_collective(g.host, form.name.data)
    except ValidationError as error:
        db.session.rollback()
        form.name.errors.append(str(error))
        return home(form=form, status=400)
    flash(f"Collective “{collective.name}” added.", "success")
    return redirect(url_for("dashboard.home"))


@bp.route("/settings", methods=["GET", "POST"])
@role_required("ADMIN")
def settings():
    """The host's settings: its time zone."""
    form = SettingsForm(data={"timezone": g.host.timezone} if request.method == "GET" else None)
    form.timezone.choices = host_settings.time_zones()
    if not form.validate_on_submit():
        return render_template("dashboard/settings.html", form=form), 400 if request.method == "POST" else 200
    try:
        host_settings.set_timezone(g.host, current_user, form.timezone.data or "")
    except host_settings.SettingsError as error:
        form.timezone.errors.append(str(error))
        return render_template("dashboard/settings.html", form=form), 400
    flash(f"Time zone set to {g.host.timezone}: months and dates are now in it.", "success")
    return redirect(url_for("dashboard.settings"))
