"""Reports pages: request reports and exports, watch their progress, download them; the month summary."""
import io
from datetime import date, timedelta

from flask import (Response, abort, flash, g, redirect, render_template, request, send_file, stream_with_context,
                   url_for)
from flask_login import current_user
from jinja2_fragments.flask import render_block

from hostadmin.auth.access import get_for_host_or_404, host_blueprint, open_to_members
from hostadmin.clock import utcnow
from hostadmin.funds import cleared, periods
from hostadmin.money import major_units
from hostadmin import csvsafe
from hostadmin.reports import audit as audit_trail, exports, files, monthly, service
from hostadmin.reports.models import ExportStatus, ReportExport
from hostadmin.ledger.service import LedgerError
from hostadmin.text import clean_line

bp = host_blueprint("reports", __name__, url_prefix="/reports")
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@bp.app_template_filter("major_units")
def major_units_filter(amount, currency):
    """12345 -> "123.45" for a chart's data (None stays None: a month that does not reconcile)."""
    return None if amount is None else major_units(amount, currency)


@bp.get("/")
def index():
    """Requested reports and exports, newest first, with the forms to request more."""
    return render_template("reports/index.html", **_index_context())


@bp.post("/monthly")
@open_to_members
def request_monthly():
    """Queue a monthly report (accountants may too)."""
    try:
        service.request_monthly(g.host, current_user, clean_line(request.form.get("month", ""), 7),
                                clean_line(request.form.get("format", "csv"), 8))
    except service.RequestError as error:
        return _refused(error)
    flash("Report requested: it is being built.", "success")
    return redirect(url_for("reports.index"), 303)


@bp.post("/ledger")
@open_to_members
def request_ledger():
    """Queue a ledger export for a date range (accountants may too)."""
    form = request.form
    try:
        start, end = _day(form.get("from"), "from"), _day(form.get("to"), "to")
        columns = [clean_line(c, 40) for c in form.getlist("columns")] or list(exports.DEFAULT_COLUMNS)
        service.request_ledger(g.host, current_user, start, end, clean_line(form.get("by", "effective"), 10),
                               columns, clean_line(form.get("format", "csv"), 8))
    except service.RequestError as error:
        return _refused(error)
    flash("Export requested: it is being built.", "success")
    return redirect(url_for("reports.index"), 303)


@bp.get("/<int(max=2147483647):export_id>/progress")
def progress(export_id):
    """One request's row; 286 once it is finished, which stops htmx polling."""
    export = get_for_host_or_404(ReportExport, export_id)
    body = render_block("reports/index.html", "export_row", export=export, describe=service.describe,
                        can_retry=service.can_retry)
    return body, 286 if export.finished else 200


@bp.get("/<int(max=2147483647):export_id>/download")
def download(export_id):
    """Stream a finished file."""
    export = get_for_host_or_404(ReportExport, export_id)
    if export.status != ExportStatus.DONE.value or not export.file_name:
        abort(404)
    path = files.path_of(export.file_name)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=MIME[export.format], as_attachment=True,
                     download_name=service.download_name(export), max_age=0)


@bp.post("/<int(max=2147483647):export_id>/retry")
@open_to_members
def retry(export_id):
    """Queue a failed (or killed) request again."""
    export = get_for_host_or_404(ReportExport, export_id)
    try:
        service.retry(export)
    except service.RequestError as error:
        return _refused(error)
    flash("Queued again.", "success")
    return redirect(url_for("reports.index"), 303)


@bp.get("/months/<month>")
def month(month):
    """The monthly report on screen, its closing (close or reopen it), its stored versions."""
    return _month_page(_month_or_404(month))


def _month_page(month, closing_error=None, status=200, refused=None):
    context = {"month": month, "month_name": cleared.month_name(month), "report": None, "error": None,
               "versions": service.stored_versions(g.host, month), "columns": monthly.COLUMNS,
               "describe": service.describe, "closing": cleared.closing_in_force(g.host, month),
               "has_ended": month < cleared.month_of(g.host, utcnow()), "closing_error": closing_error,
               "refused": refused,
               "reason": clean_line(request.form.get("reason", ""), 2000) if closing_error else ""}
    try:
        context["report"] = monthly.build(g.host, month)
        context["trend"] = monthly.trend(g.host, month)
    except monthly.ReconciliationError as error:
        context["error"] = str(error)
        return render_template("reports/month.html", **context), 409
    return render_template("reports/month.html", **context), status


@bp.post("/months/<month>/close")
def close_month(month):
    """Close the month (admins): nothing can be recorded in it; its report is stored as it closes."""
    month = _month_or_404(month)
    try:
        periods.close_month(g.host, current_user, month, request.form.get("reason"))
    except LedgerError as error:  # not ended, already closed, or a report that does not reconcile
        return _closing_refused(month, error, "close")
    flash(f"{cleared.month_name(month)} is closed; its report is stored.", "success")
    return redirect(url_for("reports.month", month=month), 303)


@bp.post("/months/<month>/reopen")
def reopen_month(month):
    """Reopen a closed month (admins), with a reason; closing it again stores a new version."""
    month = _month_or_404(month)
    try:
        periods.reopen_month(g.host, current_user, month, request.form.get("reason"))
    except LedgerError as error:
        return _closing_refused(month, error, "reopen")
    flash(f"{cleared.month_name(month)} is open again: close it again to store a new version.", "success")
    return redirect(url_for("reports.month", month=month), 303)


def _month_or_404(text):
    try:
        return cleared.parse_month(clean_line(text or "", 7))
    except cleared.ClearedDateError:
        abort(404)


def _closing_refused(month, error, action):
    """The month page again with the refusal (by the form, what was typed kept, when it is that form)."""
    return _month_page(month, closing_error=str(error)[:1].upper() + str(error)[1:], status=400, refused=action)


def _index_context():
    today = cleared.today(g.host)
    previous = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    return {"exports": service.recent(g.host), "describe": service.describe, "can_retry": service.can_retry,
            "default_month": previous.strftime("%Y-%m"), "this_month": today.strftime("%Y-%m"),
            "default_from": previous.isoformat(), "default_to": (today.replace(day=1) - timedelta(days=1)).isoformat(),
            "columns": exports.ALL_COLUMNS, "default_columns": exports.DEFAULT_COLUMNS}


def _refused(error):
    flash(str(error)[:1].upper() + str(error)[1:] + ".", "error")
    status = 503 if isinstance(error, service.QueueUnavailable) else 400
    return render_template("reports/index.html", **_index_context()), status


def _day(text, name):
    try:
        return date.fromisoformat(clean_line(text or "", 10).strip())
    except ValueError:
        raise service.RequestError(f"{name} must be a date such as 2026-10-31") from None


@bp.get("/audit")
def audit():
    """The audit log: who did what, when, to which object, the change and the reason."""
    filters = audit_trail.Filters.from_args(request.args)
    context = {"page": audit_trail.page(g.host, filters), "filters": filters, "changes": audit_trail.changes}
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return render_block("reports/audit.html", "entries", **context)
    return render_template("reports/audit.html", **context)


@bp.get("/audit.csv")
def audit_csv():
    """The filtered audit log as CSV, streamed."""
    filters = audit_trail.Filters.from_args(request.args)
    rows = audit_trail.csv_rows(g.host, filters)
    return Response(stream_with_context(_csv_lines(rows)), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename=audit-{g.host.slug}.csv"})


def _csv_lines(rows):
    buffer = io.StringIO()
    out = csvsafe.writer(buffer, lineterminator="\n")
    for row in rows:
        out.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
