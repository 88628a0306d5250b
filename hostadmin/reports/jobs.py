"""RQ entry points for reports: thin, they push an app context and call the service."""
from rq import get_current_job

from hostadmin.jobs import app_job
from hostadmin.reports import service


@app_job
def build_export(export_id):
    """Build report or export `export_id` (a report_exports row), updating its progress."""
    return service.run(export_id, job=get_current_job())


@app_job
def expire_files():
    """Remove report files past REPORT_FILE_TTL_DAYS."""
    return service.expire_files()
