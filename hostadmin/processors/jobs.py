"""RQ entry point for processor events: apply one stored event (and whatever was waiting for it)."""
from hostadmin.jobs import app_job
from hostadmin.processors import service
from hostadmin.processors.fees import fetch_fee
from hostadmin.processors.wise_api import find_expense


@app_job
def apply_event_job(event_id):
    """Apply the stored processor event `event_id`; safe to run twice."""
    return service.apply_event(event_id, fetch_fee=fetch_fee, find_parent=find_expense)
