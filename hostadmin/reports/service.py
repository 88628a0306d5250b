"""Report and export requests: create the row, run it (in a job), store closed months, retry, expire.

A request is a report_exports row plus an RQ job on the `reports` queue; the job updates the row and
job.meta with its progress. A closed month's report is stored when the month closes, inside the closing's
transaction, and never changed; reopening and closing again stores a new version beside it.
"""
from datetime import date, timedelta

from flask import current_app
from rq.job import Job, JobStatus
from sqlalchemy import func, select, update

from hostadmin.clock import utcnow
from hostadmin.extensions import db, queues
from hostadmin.funds import cleared
from hostadmin.jobs import process_gone
from hostadmin.queueing import REDIS_DOWN
from hostadmin.ledger.models import Host
from hostadmin.reports import exports, files, monthly
from hostadmin.reports.models import ExportKind, ExportStatus, ReportExport

RETRYABLE_JOB_STATES = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


class RequestError(ValueError):
    """A report request the rules refuse; nothing was written."""


class QueueUnavailable(RequestError):
    """Redis could not take the job: the request is kept as FAILED, to be retried once the queue is back."""


QUEUE_DOWN = "the job queue is unavailable right now: the request is kept as failed, retry it in a moment"


def request_monthly(host, user, month, fmt="csv"):
    """Queue the monthly report of `month` ("YYYY-MM"); return the row."""
    try:
        month = cleared.parse_month(month)
    except cleared.ClearedDateError as error:
        raise RequestError(str(error)) from None
    if month > cleared.month_of(host, utcnow()):
        raise RequestError(f"{cleared.month_name(month)} has not started yet")
    return _queue(host, user, ExportKind.MONTHLY, _format(fmt), {"month": month})


def request_ledger(host, user, start, end, by="effective", columns=exports.DEFAULT_COLUMNS, fmt="csv"):
    """Queue a ledger export of [start, end] (inclusive dates, host time zone); return the row."""
    try:
        wanted = exports.LedgerRange(start, end, by, tuple(columns))
    except exports.ExportError as error:
        raise RequestError(str(error)) from None
    return _queue(host, user, ExportKind.LEDGER, _format(fmt),
                  {"from": start.isoformat(), "to": end.isoformat(), "by": wanted.by,
                   "columns": list(wanted.columns)})


def retry(export):
    """Queue a failed (or killed) request again; the old file, if any, is gone with it."""
    if not can_retry(export):
        raise RequestError("only a failed request can be retried")
    export.status, export.progress, export.error, export.row_count = ExportStatus.QUEUED.value, 0, None, None
    export.started_at = export.finished_at = None
    db.session.commit()
    _enqueue(export)
    return export


def can_retry(export):
    """Failed, or queued/running under a job that no longer runs (a killed worker)."""
    if export.closed_period_id is not None:
        return False
    if export.status == ExportStatus.FAILED.value:
        return True
    if export.status not in (ExportStatus.QUEUED.value, ExportStatus.RUNNING.value):
        return False
    job = _job(export)
    if job is None:
        return True
    status = job.get_status(refresh=True)
    return status in RETRYABLE_JOB_STATES or (status == JobStatus.STARTED and process_gone(job))


def run(export_id, job=None):
    """Build the file of request `export_id` (the job's body): status, progress, row count, file, or error."""
    export = db.session.get(ReportExport, export_id)
    if export is None or export.status not in (ExportStatus.QUEUED.value, ExportStatus.RUNNING.value):
        return None  # already done, or retried under another job
    host = db.session.get(Host, export.host_id)
    export.status, export.started_at, export.progress = ExportStatus.RUNNING.value, utcnow(), 0
    db.session.commit()
    _meta(job, 0)
    data = None
    try:
        file_name = f"{host.slug}-{export.id}-{export.kind.lower()}.{export.format}"
        if export.kind == ExportKind.MONTHLY.value:
            report = monthly.build(host, export.params["month"])
            _progress(export.id, job, 50)
            row_count, size = files.write(file_name, export.format, report.csv_rows())
            data = report.to_dict()
        else:
            wanted = _range(export.params)
            total, shown = exports.count_rows(host, wanted) or 1, [0]

            def on_row(count):
                percent = min(99, count * 100 // total)
                if percent >= shown[0] + 5:  # a write per 5 %, not per row
                    shown[0] = percent
                    _progress(export.id, job, percent)
            row_count, size = exports.write(host, wanted, export.format, files.path_of(file_name), on_row)
    except Exception as error:
        db.session.rollback()
        _finish(export.id, status=ExportStatus.FAILED.value, error=str(error)[:2000] or type(error).__name__)
        _meta(job, None)
        raise
    db.session.rollback()  # the streamed read's transaction; the row is updated on its own below
    ttl = timedelta(days=current_app.config.get("REPORT_FILE_TTL_DAYS", 7))
    _finish(export.id, status=ExportStatus.DONE.value, progress=100, row_count=row_count, file_name=file_name,
            file_size=size, expires_at=utcnow() + ttl,
            **({"data": data} if data is not None else {}))
    _meta(job, 100)
    return export_id


def store_closed_month(host, period, user):
    """Store the report of a month being closed (inside close_month's transaction): a new version, kept."""
    report = monthly.build(host, period.month)
    version = 1 + db.session.scalar(select(func.count()).select_from(ReportExport).where(
        ReportExport.host_id == host.id, ReportExport.closed_period_id.is_not(None),
        ReportExport.kind == ExportKind.MONTHLY.value, ReportExport.params["month"].as_string() == period.month))
    now = utcnow()
    export = ReportExport(host_id=host.id, requested_by_id=getattr(user, "id", None), kind=ExportKind.MONTHLY.value,
                          format="csv", params={"month": period.month}, status=ExportStatus.DONE.value,
                          progress=100, closed_period_id=period.id, version=version, data=report.to_dict(),
                          created_at=now, started_at=now, finished_at=now)
    db.session.add(export)
    db.session.flush()
    export.file_name = f"{host.slug}-{period.month}-closed-v{version}-{export.id}.csv"
    export.row_count, export.file_size = files.write(export.file_name, "csv", report.csv_rows())
    return export


def stored_versions(host, month):
    """A month's stored reports, oldest version first."""
    return db.session.scalars(select(ReportExport).where(
        ReportExport.host_id == host.id, ReportExport.closed_period_id.is_not(None),
        ReportExport.params["month"].as_string() == month).order_by(ReportExport.version)).all()


def expire_files(now=None):
    """Remove files past their expiry (never a stored month's); return how many."""
    now = now or utcnow()
    expired = db.session.scalars(select(ReportExport).where(
        ReportExport.expires_at.is_not(None), ReportExport.expires_at < now,
        ReportExport.status == ExportStatus.DONE.value)).all()
    for export in expired:
        files.remove(export.file_name)
        export.status, export.file_name = ExportStatus.EXPIRED.value, None
    db.session.commit()
    return len(expired)


def download_name(export):
    """The file name offered to the browser."""
    params = export.params or {}
    if export.kind == ExportKind.MONTHLY.value:
        suffix = f"-closed-v{export.version}" if export.version else ""
        return f"monthly-{params.get('month')}{suffix}.{export.format}"
    return f"ledger-{params.get('by')}-{params.get('from')}-to-{params.get('to')}.{export.format}"


def describe(export):
    """"Monthly report, October 2026" / "Ledger, effective 2026-10-01 to 2026-10-31"."""
    params = export.params or {}
    if export.kind == ExportKind.MONTHLY.value:
        text = f"Monthly report, {cleared.month_name(params['month'])}"
        return text + (f" (stored at closing, version {export.version})" if export.version else "")
    return f"Ledger by {params.get('by')} date, {params.get('from')} to {params.get('to')}"


def _queue(host, user, kind, fmt, params):
    export = ReportExport(host_id=host.id, requested_by_id=getattr(user, "id", None), kind=kind.value,
                          format=fmt, params=params, status=ExportStatus.QUEUED.value, progress=0,
                          created_at=utcnow())
    db.session.add(export)
    db.session.commit()
    _enqueue(export)
    return export


def _enqueue(export):
    from hostadmin.reports.jobs import build_export
    attempt = 1 + int((export.job_id or "-0").rsplit("-", 1)[-1])
    job_id = f"report-export-{export.id}-{attempt}"
    export.job_id = job_id
    db.session.commit()
    try:
        queues.get("reports").enqueue(build_export, export.id, job_id=job_id, job_timeout=3600)
    except REDIS_DOWN:
        export.status, export.error, export.finished_at = ExportStatus.FAILED.value, QUEUE_DOWN, utcnow()
        db.session.commit()
        raise QueueUnavailable(QUEUE_DOWN) from None


def _job(export):
    if not export.job_id:
        return None
    try:
        return Job.fetch(export.job_id, connection=queues.connection)
    except Exception:  # rq.exceptions.NoSuchJobError, or an expired hash
        return None


def _format(fmt):
    fmt = (fmt or "csv").lower()
    if fmt not in files.FORMATS:
        raise RequestError(f"format must be csv or xlsx, not {fmt!r}")
    return fmt


def _range(params):
    return exports.LedgerRange(date.fromisoformat(params["from"]), date.fromisoformat(params["to"]),
                               params["by"], tuple(params["columns"]))


def _progress(export_id, job, percent):
    # Its own connection and transaction: the export's read is still streaming in the session's.
    with db.engine.begin() as connection:
        connection.execute(update(ReportExport).where(ReportExport.id == export_id).values(progress=percent))
    _meta(job, percent)


def _finish(export_id, **values):
    with db.engine.begin() as connection:
        connection.execute(update(ReportExport).where(ReportExport.id == export_id)
                           .values(finished_at=utcnow(), **values))
    db.session.expire_all()


def _meta(job, percent):
    if job is not None:
        job.meta["progress"] = percent
        job.save_meta()


def recent(host, limit=50):
    """The host's latest requests and stored months, newest first."""
    return db.session.scalars(select(ReportExport).where(ReportExport.host_id == host.id)
                              .order_by(ReportExport.id.desc()).limit(limit)).all()
