"""RQ entry points for bank sync, and request_sync(): the one way to ask for a sync.

Coalescing: a Redis mark says "a sync job is waiting", so duplicate webhooks and
storms enqueue one job; it is written with the job in one Redis transaction and
the job clears it once it holds the item's lock. A request that arrives while a
sync runs sets the run-again flag instead, so exactly one more run follows. A
mark whose job no longer waits (a worker died before the job began, or someone
emptied the queue) counts for nothing. The lock in banking.locks is what finally
guarantees one sync per item at a time.
"""
import logging
from datetime import timedelta

from redis.exceptions import WatchError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from hostadmin.extensions import queues
from hostadmin.jobs import app_job, enqueue

log = logging.getLogger("hostadmin.banking")
PENDING_KEY = "hostadmin:sync-pending:{item_id}"
PENDING_TTL_SECONDS = 3600
WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def job_id_for(item_id):
    """The deterministic RQ job id of an item's sync."""
    return f"sync-item-{item_id}"


def _job_status(job_id, connection):
    try:
        return Job.fetch(job_id, connection=connection).get_status()
    except NoSuchJobError:
        return None


def request_sync(item, trigger="manual"):
    """Ask for a sync of `item`. Returns "enqueued", "coalesced" (a job already waits), "run-again",
    or "disconnected" (the host removed the connection: nothing to sync).

    Raises redis.exceptions.ConnectionError when Redis is down (callers that
    must not lose the request record it first).
    """
    from hostadmin.banking import locks

    if item.status == "DISCONNECTED":
        return "disconnected"
    redis = queues.connection
    pending = PENDING_KEY.format(item_id=item.id)
    job_id = job_id_for(item.id)
    for _attempt in range(5):
        with redis.pipeline() as pipe:
            try:
                pipe.watch(pending)
                status = _job_status(job_id, redis)
                if pipe.exists(pending) and status in WAITING:
                    return "coalesced"
                if status == JobStatus.STARTED and locks.request_run_again(item.id):
                    return "run-again"
                # Otherwise no live job covers this request (a STARTED status may be a killed worker's).
                pipe.multi()
                pipe.set(pending, trigger, ex=PENDING_TTL_SECONDS)
                enqueue(sync_item_job, item.id, trigger, queue="sync", job_id=job_id, job_timeout=3600,
                        result_ttl=86400, failure_ttl=7 * 86400, pipeline=pipe)
                pipe.execute()
                return "enqueued"
            except WatchError:
                continue  # another request enqueued, or the job took the lock: look again
    return "coalesced"


RETRY_DELAYS_SECONDS = (60, 300, 1800, 7200)


@app_job
def sync_item_job(item_id, trigger="manual"):
    """Run the item's sync under its lock; schedule a later retry after a transient failure."""
    from hostadmin.banking.sync import consecutive_retrying_runs, run_locked_sync

    def clear_pending():
        queues.connection.delete(PENDING_KEY.format(item_id=item_id))

    # The "job waiting" mark is cleared only once this job holds the lock (or has handed its
    # request to the holder): a request arriving before then is already covered by this job.
    try:
        runs = run_locked_sync(item_id, trigger, on_acquired=clear_pending)
    finally:
        clear_pending()
    if runs and runs[-1].outcome == "RETRYING":
        failures = consecutive_retrying_runs(item_id)
        if failures <= len(RETRY_DELAYS_SECONDS):
            delay = RETRY_DELAYS_SECONDS[failures - 1]
            queues.get("sync").enqueue_in(timedelta(seconds=delay), sync_item_job, item_id, "retry",
                                          job_id=f"{job_id_for(item_id)}-retry")
            log.info("item %s: transient sync failure #%s, retrying in %ss", item_id, failures, delay)
    return [run.id for run in runs]
