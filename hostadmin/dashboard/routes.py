"""Dashboard pages."""
from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_login import current_user

from hostadmin.auth.access import host_blueprint
from hostadmin.auth.service import hosts_of
from hostadmin.dashboard import service
from hostadmin.dashboard.forms import CollectiveForm
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
