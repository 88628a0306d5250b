"""Contributions pages: the host-wide list, a page per contribution, expect one, mark one received."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from hostadmin.auth.access import host_blueprint, is_admin, role_required
from hostadmin.extensions import db
from hostadmin.funds import cleared, collectives, contributions, records
from hostadmin.funds.forms import FormError
from hostadmin.funds.record_forms import ExpectedContributionForm, ReceiveForm
from hostadmin.funds.records import Filters, RecordError
from hostadmin.funds.views import amount_of, cleared_at_of, load_or_404, show_error, wants_fragment
from hostadmin.ledger.models import Account, AccountKind, Order
from hostadmin.params import parse_id
from hostadmin.text import clean_line

bp = host_blueprint("contributions", __name__, url_prefix="/contributions")
LIST = "funds/contributions.html"
PAGE = "funds/contribution.html"


@bp.get("/")
def index():
    """Every contribution of the host, filtered (kept in the URL), newest first, keyset pages."""
    filters = Filters.from_args(request.args, contributions.STATUSES, g.host.currency)
    after = parse_id(request.args.get("after"))
    orders, cursor = contributions.page(g.host, filters, after)
    args = filters.to_args(g.host.currency)
    context = {"filters": filters, "orders": orders, "statuses": contributions.STATUSES,
               "words": contributions.STATUS_WORDS, "collectives": collectives.collectives_of(g.host),
               "currency": g.host.currency, "is_admin": is_admin(),
               "more_url": url_for("contributions.index", after=cursor, **args) if cursor else None}
    if wants_fragment():
        return render_block(LIST, "rows" if after else "results", **context)
    return render_template(LIST, **context)


@bp.get("/contributors")
def contributors():
    """Search-as-you-type: the contributors whose name contains what was typed (htmx fragment)."""
    return picker("contributor", AccountKind.CONTRIBUTOR)


@bp.route("/new", methods=["GET", "POST"])
@role_required("ADMIN")
def new():
    """Record an expected contribution (PENDING)."""
    form = ExpectedContributionForm(collective=parse_id(request.args.get("collective")))
    form.collective.choices = [(c.id, c.name) for c in collectives.open_collectives_of(g.host)]
    form.amount.label.text = f"Amount ({g.host.currency})"
    if not form.validate_on_submit():
        return _new_page(form, 400 if request.method == "POST" else 200)
    try:
        order = contributions.create_expected(
            g.host, current_user, collective=db.session.get(Account, form.collective.data),
            amount=amount_of(form), contributor_name=form.contributor.data, description=form.description.data)
    except (FormError, RecordError) as error:
        show_error(form, error, {"collective", "contributor", "amount", "description"}, "amount")
        return _new_page(form, 400)
    flash(f"Expecting contribution #{order.id} from {order.from_account.name}.", "success")
    return redirect(url_for("contributions.show", order_id=order.id))


@bp.get("/<int:order_id>")
def show(order_id):
    """A contribution: its status, history, ledger groups and bank line; Mark received while expected."""
    order = load_or_404(Order, order_id)
    form = ReceiveForm()
    form.cleared_on.data = cleared.today(g.host)
    return _page(order, form)


@bp.post("/<int:order_id>/receive")
def receive(order_id):
    """Mark an expected contribution received on the date the money cleared."""
    order = load_or_404(Order, order_id)
    form = ReceiveForm()
    if not form.validate_on_submit():
        return _page(order, form, 400)
    try:
        contributions.mark_received(g.host, current_user, order.id, cleared_at=cleared_at_of(form))
    except (FormError, RecordError) as error:
        db.session.refresh(order)
        show_error(form, error, {"cleared_on"}, "cleared_on")
        return _page(order, form, 400)
    flash(f"Contribution #{order.id} received, cleared {form.cleared_on.data.isoformat()}.", "success")
    return redirect(url_for("contributions.show", order_id=order.id))


def _page(order, form, status=200):
    form.cleared_on.render_kw = {"max": cleared.today(g.host).isoformat()}
    return render_template(PAGE, order=order, form=form, words=contributions.STATUS_WORDS, is_admin=is_admin(),
                           **contributions.details(g.host, order)), status


def _new_page(form, status):
    return render_template("funds/contribution_new.html", form=form), status


def picker(field, kind):
    """The picker fragment of a contributor or payee field for what was typed in it."""
    text = clean_line(request.args.get(field, ""), 200).strip()
    found = records.search_parties(g.host, kind, text)
    exact = records.party_named(g.host, kind, text) if text.strip() else None
    return render_template("funds/_party_picker.html", field=field, found=found, exact=exact,
                           typed=text, kind_word=field)

