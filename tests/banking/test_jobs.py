"""request_sync(): coalescing in Redis, RQ job ids, retries scheduled after transient failures."""
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from hostadmin.banking import locks
from hostadmin.banking.jobs import job_id_for, request_sync
from hostadmin.extensions import db, queues
from hostadmin.imports.models import ImportRun
from tests.banking.helpers import active_rows, truth


def work():
    """Run queued sync jobs in a real RQ worker (in-process; the job ends by closing the session)."""
    SimpleWorker([queues.get("sync")], connection=queues.connection).work(burst=True)


def test_duplicate_requests_enqueue_one_job_with_a_deterministic_id(app, item, plaid, plaid_client):
    outcomes = [request_sync(item, "webhook") for _ in range(20)]

    assert outcomes == ["enqueued"] + ["coalesced"] * 19
    assert queues.get("sync").job_ids == [job_id_for(item.id)]
    work()
    item = db.session.merge(item)
    assert db.session.query(ImportRun).count() == 1
    assert active_rows(item) == truth(plaid, item)
    assert request_sync(item, "webhook") == "enqueued"  # once the job has started, a new one may wait


def test_request_while_a_sync_runs_asks_for_one_more_run(app, item, plaid_client):
    request_sync(item, "webhook")
    queues.connection.delete(f"hostadmin:sync-pending:{item.id}")  # the job started…
    lock = locks.acquire(item.id)                                   # …and holds the lock
    job = queues.get("sync").fetch_job(job_id_for(item.id))
    job.set_status("started")

    assert request_sync(item, "webhook") == "run-again"
    db.session.refresh(item)
    assert item.sync_requested
    lock.release()


def test_request_after_the_waiting_job_was_lost_enqueues_a_new_one(app, item, plaid, plaid_client):
    assert request_sync(item, "webhook") == "enqueued"
    queues.get("sync").empty()  # an operator emptied the queue: the job is gone, its "waiting" mark is not

    assert request_sync(item, "webhook") == "enqueued"
    assert queues.get("sync").job_ids == [job_id_for(item.id)]
    work()
    item = db.session.merge(item)
    assert active_rows(item) == truth(plaid, item)


def test_transient_failure_schedules_a_retry(app, item, plaid, plaid_client):
    app.config["SYNC_SLEEP"] = lambda seconds: None
    plaid.fail_next("/transactions/sync", "INTERNAL_SERVER_ERROR", count=10)
    request_sync(item, "webhook")
    retry_job_id = f"{job_id_for(item.id)}-retry"

    work()

    registry = ScheduledJobRegistry(queue=queues.get("sync"))
    assert registry.get_job_ids() == [retry_job_id]
    assert db.session.query(ImportRun).one().outcome == "RETRYING"


def test_disconnected_items_are_not_synced(app, item):
    item.status = "DISCONNECTED"
    db.session.commit()
    assert request_sync(item) == "disconnected"
    assert queues.get("sync").job_ids == []
