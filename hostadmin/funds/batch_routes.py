"""Batch revert of added funds: pick by checkbox or "all matching this filter", preview per collective, confirm."""
from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from hostadmin.auth.access import role_required
from hostadmin.extensions import db
from hostadmin.params import parse_id
from hostadmin.funds import batch, cleared, collectives, service, versions
from hostadmin.funds.routes import bp
from hostadmin.text import clean_line

TEMPLATE = "funds/revert.html"


@bp.get("/funds/revert")
@role_required("ADMIN")
def revert_list():
    """Added funds that can be reverted, filtered; each with a checkbox, and the count matching the filter."""
    flt = _filter(request.args)
    return _page(flt)


@bp.post("/funds/revert/preview")
@role_required("ADMIN")
def revert_preview():
    """Totals per collective of what the revert would do (done and rolled back)."""
    flt = _filter(request.form)
    ids, error = _selected(flt)
    reason = clean_line(request.form.get("reason", ""), 2000).strip()
    if error or not reason:
        return _page(flt, error=error or "Say why the funds are reverted: a reason is required.",
                     checked=set(ids), status=400)
    try:
        preview = batch.preview(g.host, current_user, ids, reason=reason)
    except service.FundsError as refusal:
        return _page(flt, error=_sentence(refusal), checked=set(ids), status=409 if _stale(refusal) else 400)
    return _page(flt, preview=preview, reason=reason, checked=set(ids))


@bp.post("/funds/revert")
@role_required("ADMIN")
def revert_confirm():
    """Revert the previewed contributions, all or nothing, refusing any changed since the preview."""
    shown = {}
    for token in request.form.getlist("order"):
        order_id, _, version = token.partition(":")
        if parse_id(order_id) is not None and versions.parse(version) is not None:
            shown[parse_id(order_id)] = versions.parse(version)
    if not shown:
        return _page(batch.Filter(), error="Choose at least one contribution.", status=400)
    try:
        done = service.revert_funds(g.host, current_user, list(shown), reason=request.form.get("reason", ""),
                                    versions=shown)
    except service.FundsError as refusal:
        return _page(batch.Filter(), error=_sentence(refusal), status=409 if _stale(refusal) else 400)
    flash(f"Reverted {len(done)} contribution{'s' if len(done) != 1 else ''}.", "success")
    return redirect(url_for("funds.revert_list"))


def _filter(source):
    """The list's filter from query or form fields; unreadable values are ignored."""
    def day(name):
        try:
            return date.fromisoformat((source.get(name) or "").strip()) if source.get(name) else None
        except ValueError:
            return None
    collective = (source.get("collective") or "").strip()
    return batch.Filter(collective_id=parse_id(collective),
                        cleared_from=day("from"), cleared_to=day("to"),
                        text=clean_line(source.get("q") or "", 200).strip())


def _selected(flt):
    """The ids chosen: every one matching the filter, or the ticked ones; an error sentence if none."""
    if request.form.get("all") == "1":
        ids = batch.ids_matching(g.host, flt)
    else:
        ids = sorted({parse_id(v) for v in request.form.getlist("id")} - {None})
    return ids, None if ids else "Choose at least one contribution."


def _page(flt, preview=None, error=None, reason="", checked=(), status=200):
    orders = list(db.session.scalars(
        batch.matching(g.host, flt).limit(batch.PAGE)))
    context = {"filter": flt, "orders": orders, "total": batch.count_matching(g.host, flt),
               "collectives": collectives.collectives_of(g.host), "preview": preview, "error": error,
               "reason": reason, "checked": checked, "page_size": batch.PAGE,
               "day": lambda moment: moment.astimezone(cleared.zone_of(g.host)).date().isoformat()}
    return render_template(TEMPLATE, **context), status


def _sentence(error):
    text = str(error)
    return text[:1].upper() + text[1:] + "."


def _stale(error):
    return isinstance(error, service.Stale)
