"""Statement imports: create, upload (stored server-side), detected preview, corrected preview, confirm."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from hostadmin.auth.access import get_for_host_or_404, role_required
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.imports import csv_import
from hostadmin.imports.forms import InputError
from hostadmin.imports.models import ImportRun, ImportSource, TransactionsImport
from hostadmin.imports.routes import bp
from hostadmin.statements import background, dates, forms, service as statements, uploads
from hostadmin.text import clean_line

TEMPLATE = "imports/csv_upload.html"
EXPIRED = "This upload is no longer kept (uploads are kept for a day). Upload the file again."


def csv_import_or_404(import_id):
    """The host's statement import, or 404 (Plaid imports take no uploads)."""
    imp = get_for_host_or_404(TransactionsImport, import_id)
    if imp.source != ImportSource.CSV.value:
        abort(404)
    return imp


@bp.post("/csv")
def create_csv():
    """Create a statement import and go to its upload page."""
    try:
        imp = csv_import.create_csv_import(g.host, current_user, clean_line(request.form.get("name")),
                                           clean_line(request.form.get("account")))
    except InputError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("imports.index"))
    return redirect(url_for("imports.csv_upload", import_id=imp.id))


@bp.get("/<int:import_id>/upload")
@role_required("ADMIN")
def csv_upload(import_id):
    """The upload form and the import's upload history."""
    imp = csv_import_or_404(import_id)
    return render_page(imp, None, "", "")[0]


@bp.post("/<int:import_id>/preview")
def csv_preview(import_id):
    """A new file: store it, detect its mapping, preview. A token: re-read the stored file with the mapping
    the admin corrected. Writes no rows."""
    imp = csv_import_or_404(import_id)
    upload = request.files.get("file")
    now = utcnow()
    if upload is not None and upload.filename:
        data, filename = upload.read(), clean_line(upload.filename)[:300]
        token = uploads.store(background.uploads_dir(), g.host.id, imp.id, data, filename, now)
        given = None
    else:
        token = request.form.get("token", "")
        stored = uploads.load(background.uploads_dir(), token, g.host.id, imp.id, now)
        if stored is None:
            return render_page(imp, None, "", "", error=EXPIRED)
        (data, filename), given = stored, forms.mapping_from_form(request.form)
    try:
        result = statements.read(imp, data, given, default_currency=g.host.currency)
    except statements.StatementError as error:
        return render_page(imp, None, token, filename, error=str(error))
    return render_page(imp, result, token, filename)


@bp.post("/<int:import_id>/import")
def csv_confirm(import_id):
    """Import the stored file's new lines under the previewed mapping; the stored file is then removed."""
    imp = csv_import_or_404(import_id)
    token = request.form.get("token", "")
    stored = uploads.load(background.uploads_dir(), token, g.host.id, imp.id, utcnow())
    if stored is None:
        return render_page(imp, None, "", "", error=EXPIRED)
    data, filename = stored
    given = forms.mapping_from_form(request.form)
    if background.is_big(data):
        try:
            run = background.queue(g.host, current_user, imp, token, filename, given)
        except background.QueueUnavailable as error:
            result = statements.read(imp, data, given, default_currency=g.host.currency)
            return render_page(imp, result, token, filename, error=str(error), status=503)
        flash(f"{run.filename} is being imported in the background; its progress is shown below.", "success")
        return _to(url_for("imports.csv_upload", import_id=imp.id) + f"#run-{run.id}")
    try:
        _, run = statements.upload(g.host, current_user, imp, data, filename, given)
    except statements.StatementError as error:
        db.session.rollback()
        return render_page(imp, None, token, filename, error=str(error))
    uploads.discard(background.uploads_dir(), token)
    flash(f"{run.filename}: {run.added:,} new rows imported, {run.duplicates:,} already imported, "
          f"{run.invalid:,} invalid, {run.skipped:,} skipped.", "success")
    # Straight to triage: the imported lines are what the admin works on next (the history is on the
    # upload page).
    return _to(url_for("imports.rows", import_id=imp.id))


def _to(target):
    if request.htmx:
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


@bp.get("/<int:import_id>/uploads/<int(max=2147483647):run_id>/progress")
@role_required("ADMIN")
def csv_upload_progress(import_id, run_id):
    """One upload's history row; 286 once it has finished, which stops htmx polling."""
    imp = csv_import_or_404(import_id)
    run = _run_or_404(imp, run_id)
    shown = background.state(run)
    body = render_block(TEMPLATE, "upload_run", run=run, imp=imp, shown=shown)
    return body, 200 if shown.kind == "running" else 286


@bp.post("/<int:import_id>/uploads/<int(max=2147483647):run_id>/retry")
@role_required("ADMIN")
def csv_upload_retry(import_id, run_id):
    """Queue a failed background upload again from its stored file."""
    imp = csv_import_or_404(import_id)
    run = _run_or_404(imp, run_id)
    if background.retry(g.host, current_user, imp, run):
        flash(f"{run.filename} is being imported again.", "success")
    else:
        flash(f"{run.filename} cannot be retried: " + (background.GONE if background.can_retry(run) else
              "it is not a failed background upload."), "error")
    return _to(url_for("imports.csv_upload", import_id=imp.id) + f"#run-{run.id}")


def _run_or_404(imp, run_id):
    run = db.session.get(ImportRun, run_id)
    if run is None or run.import_id != imp.id or run.host_id != g.host.id:
        abort(404)
    return run


def render_page(imp, result, token, filename, error=None, status=None):
    """The upload page, or only its preview block for htmx."""
    mapping = result.mapping if result else {}
    context = dict(imp=imp, result=result, token=token, filename=filename, mapping=mapping, error=error,
                   date_formats={f: dates.example(f) for f in dates.FORMATS}, encodings=forms.ENCODINGS,
                   delimiter_name=forms.DELIMITER_NAMES.get(mapping.get("delimiter"), ""),
                   skip_text=forms.skip_text(mapping.get("skip")), runs=statements.history(imp), state=background.state,
                   described=_described(mapping))
    status = status or (422 if error or (result and result.error) else 200)
    if request.htmx and request.method == "POST":
        return render_block(TEMPLATE, "preview", **context), status
    return render_template(TEMPLATE, **context), status


def _described(mapping):
    value = mapping.get("description") or []
    columns = [value] if isinstance(value, str) else list(value)
    return (columns + ["", "", ""])[:3]
