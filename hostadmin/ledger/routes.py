"""Ledger pages: the host's ledger (filters, keyset pages) and one group (page, or a list row expanded)."""
from flask import abort, g, render_template, request, url_for

from hostadmin.auth.access import host_blueprint
from hostadmin.ledger import queries, views

bp = host_blueprint("ledger", __name__, url_prefix="/ledger")


@bp.get("/")
def index():
    """The host's ledger: full page, the results fragment (filters) or the next rows (Show more)."""
    filters = views.parse_filters(g.host)
    after = request.args.get("after")
    page = queries.page_of_rows(g.host, filters, after=after)
    context = views.list_context(g.host, filters, page, list_url=url_for("ledger.index"))
    if views.wants_fragment():
        return render_template("ledger/_rows.html" if after else "ledger/_results.html", **context)
    return render_template("ledger/index.html", **context)


@bp.get("/groups/<group_id>")
def group(group_id):
    """Every row of one group, with what it reverses or what reversed it; a fragment for htmx."""
    page = queries.group_page(g.host, group_id)
    if page is None:
        abort(404)
    fragment = views.wants_fragment()
    context = views.group_context(g.host, page)
    return render_template("ledger/_group.html" if fragment else "ledger/group.html", fragment=fragment, **context)
