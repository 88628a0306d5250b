"""RQ entry point for processor events: apply one stored event (and whatever was waiting for it)."""
from rq import get_current_job

from hostadmin.jobs import app_job, note_process
from hostadmin.processors import service
from hostadmin.processors.fees import fetch_fee
from hostadmin.processors.wise_api import find_expense


@app_job
def apply_event_job(event_id):
    """Apply the stored processor event `event_id`; safe to run twice."""
    note_process(get_current_job())  # the safety net re-dispatches only once this process is gone
    return service.apply_event(event_id, fetch_fee=fetch_fee, find_parent=find_expense)
