"""CSV statement imports: create, upload, preview (validates every line), confirm."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from hostadmin.auth.access import get_for_host_or_404, role_required
from hostadmin.extensions import db
from hostadmin.imports import csv_import
from hostadmin.imports.forms import InputError
from hostadmin.imports.models import ImportSource, TransactionsImport
from hostadmin.imports.routes import bp
from hostadmin.text import clean_line, clean_text

TEMPLATE = "imports/csv_upload.html"


def csv_import_or_404(import_id):
    """The host's CSV import, or 404 (Plaid imports take no uploads)."""
    imp = get_for_host_or_404(TransactionsImport, import_id)
    if imp.source != ImportSource.CSV.value:
        abort(404)
    return imp


@bp.post("/csv")
def create_csv():
    """Create a CSV import and go to its upload page."""
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
    """The upload form, prefilled with the import's remembered mapping."""
    imp = csv_import_or_404(import_id)
    return render_template(TEMPLATE, imp=imp, result=None, mapping=imp.csv_mapping or {},
                           content="", filename="", date_formats=csv_import.DATE_FORMATS)


@bp.post("/<int:import_id>/preview")
def csv_preview(import_id):
    """The file (first upload) or the carried-over content (mapping changed): validate, write nothing."""
    imp = csv_import_or_404(import_id)
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        content, filename = decode(upload.read()), clean_line(upload.filename)
    else:
        content, filename = request.form.get("content", ""), clean_line(request.form.get("filename", ""))
    if content is None:
        return render_page(imp, "", filename, imp.csv_mapping or {},
                           error="This is not a text file. Export the statement as CSV and upload that.")
    content = clean_text(content)  # the page carries it over in a hidden field: no NUL, no CR
    if upload is not None and upload.filename:
        try:
            header, _ = csv_import.read_table(content)
        except InputError as error:
            return render_page(imp, "", filename, imp.csv_mapping or {}, error=str(error))
        mapping = csv_import.guess_mapping(header, imp.csv_mapping)
    else:
        mapping = csv_import.mapping_from_form(request.form)
    result = csv_import.preview(imp, content, mapping)
    return render_page(imp, content, filename, mapping, result=result)


@bp.post("/<int:import_id>/import")
def csv_confirm(import_id):
    """Import the previewed file's new lines and show the import's rows."""
    imp = csv_import_or_404(import_id)
    mapping = csv_import.mapping_from_form(request.form)
    content, filename = request.form.get("content", ""), clean_line(request.form.get("filename", ""))
    try:
        run = csv_import.import_csv(g.host, current_user, imp, content, mapping, filename)
    except InputError as error:
        db.session.rollback()
        return render_page(imp, content, filename, mapping, error=str(error))
    flash(f"{run.filename}: {run.added:,} new rows imported, {run.duplicates:,} already imported, "
          f"{run.invalid:,} invalid.", "success")
    target = url_for("imports.rows", import_id=imp.id)
    if request.htmx:
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


def render_page(imp, content, filename, mapping, result=None, error=None):
    """The upload page, or only its preview block for htmx."""
    context = dict(imp=imp, content=content, filename=filename, mapping=mapping, result=result,
                   error=error, date_formats=csv_import.DATE_FORMATS)
    status = 422 if error or (result and result.error) else 200
    if request.htmx:
        return render_block(TEMPLATE, "preview", **context), status
    return render_template(TEMPLATE, **context), status


def decode(data):
    """Text of an uploaded file (UTF-8, UTF-16 with a byte order mark, else Windows-1252/Latin-1),
    or None for a binary file (Latin-1 decodes any bytes, so NUL bytes are the tell)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
