"""RQ entry points for reports: thin, they push an app context and call the service."""
from rq import get_current_job

from hostadmin.jobs import app_job, note_process
from hostadmin.reports import service


@app_job
def build_export(export_id):
    """Build report or export `export_id` (a report_exports row), updating its progress."""
    job = get_current_job()
    note_process(job)  # so can_retry tells a killed export from one still running
    return service.run(export_id, job=job)


@app_job
def expire_files():
    """Remove report files past REPORT_FILE_TTL_DAYS."""
    return service.expire_files()
