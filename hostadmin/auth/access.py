"""Host scoping and roles for every page.

Host pages live under /h/<host_slug>/…: the slug is resolved once per request
into g.host (404 for anyone who is not a member, so other hosts' existence is
never revealed), url_for fills it in again, and writes need the ADMIN role.
"""
from functools import wraps

from flask import Blueprint, abort, current_app, g, request
from flask_login import current_user
from sqlalchemy import select

from hostadmin.auth.models import HostMember, Role
from hostadmin.extensions import db
from hostadmin.ledger.accounts import SLUG_RE
from hostadmin.ledger.models import Host
from hostadmin.params import parse_id

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_blueprint(name, import_name, url_prefix=""):
    """A blueprint whose routes are scoped to one host the current user belongs to."""
    bp = Blueprint(name, import_name, url_prefix=f"/h/<host_slug>{url_prefix}")

    @bp.url_value_preprocessor
    def load_host(endpoint, values):
        slug = values.pop("host_slug")
        if not current_user.is_authenticated:
            return  # the app-wide login check redirects to the login page
        if not SLUG_RE.fullmatch(slug):  # never a slug (NUL would even fail the query on PostgreSQL)
            abort(404)
        row = db.session.execute(
            select(Host, HostMember)
            .join(HostMember, HostMember.host_id == Host.id)
            .where(Host.slug == slug, HostMember.user_id == current_user.id)
        ).first()
        if row is None:
            abort(404)
        g.host, g.membership = row

    @bp.url_defaults
    def add_host(endpoint, values):
        if "host_slug" not in values and getattr(g, "host", None) is not None:
            values["host_slug"] = g.host.slug

    @bp.before_request
    def writes_need_admin():
        if getattr(current_app.view_functions.get(request.endpoint), "open_to_members", False):
            return
        if request.method not in SAFE_METHODS and g.membership.role != Role.ADMIN.value:
            abort(403)

    return bp


def open_to_members(view):
    """Route decorator: any member (accountants too) may POST here; for requests that change no money or data."""
    view.open_to_members = True
    return view


def role_required(role):
    """Route decorator: the member's role on g.host must be `role`."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.membership.role != Role(role).value:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def get_for_host_or_404(model, object_id):
    """Load `model` #object_id if it belongs to the current host; 404 otherwise (also for a non-id)."""
    object_id = parse_id(object_id)
    obj = db.session.get(model, object_id) if object_id is not None else None
    if obj is None or obj.host_id != g.host.id:
        abort(404)
    return obj


def is_admin():
    """True when the current member may change things on g.host."""
    membership = getattr(g, "membership", None)
    return membership is not None and membership.role == Role.ADMIN.value
