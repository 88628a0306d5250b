"""Big statements imported by an RQ job: the run is recorded when it is queued, the job fills it in.

The page that confirmed the upload shows the run in the upload history with a progress bar (the job's
`meta["progress"]`, lines written so far), then its counts. The import is one transaction: a job that
fails or whose worker is killed writes no line, its run says FAILED (or is still RUNNING with no job
left), and Retry queues it again from the file still stored under its token.
"""
import os
from dataclasses import dataclass

from flask import current_app
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job

from hostadmin.audit import service as audit
from hostadmin.auth.models import User
from hostadmin.clock import utcnow
from hostadmin.extensions import db, queues
from hostadmin.imports.models import ImportRun, RunOutcome, TransactionsImport
from hostadmin.jobs import app_job, enqueue, note_process, process_gone
from hostadmin.ledger.models import Host
from hostadmin.queueing import REDIS_DOWN
from hostadmin.statements import service, uploads

GONE = "The uploaded file is no longer kept (uploads are kept for a day): upload it again."
_UNFETCHED = object()  # state(run) fetches the job itself
FAILED = "The import stopped before it finished; nothing was written. Retry, or upload the file again."
QUEUE_DOWN = ("The job queue is unavailable right now, so this big statement was not imported; nothing was "
              "written. Import it again in a moment.")


class QueueUnavailable(Exception):
    """Redis could not take the job: the run is recorded FAILED and the stored file is kept."""


def uploads_dir():
    """Where uploads wait for their confirm (and a background import for its job)."""
    return current_app.config.get("STATEMENTS_DIR") or os.path.join(current_app.instance_path, "statement-uploads")


def is_big(data):
    """True when the file has more lines than STATEMENT_BACKGROUND_LINES: it is imported in the background."""
    return data.count(b"\n") + 1 > current_app.config["STATEMENT_BACKGROUND_LINES"]


def queue(host, user, imp, token, filename, given):
    """Record a RUNNING upload run and queue its import; returns the run (QueueUnavailable: Redis is down)."""
    run = ImportRun(import_id=imp.id, host_id=host.id, trigger="upload", started_at=utcnow(),
                    outcome=RunOutcome.RUNNING.value, filename=(filename or "statement")[:300],
                    uploaded_by=getattr(user, "email", None))
    db.session.add(run)
    db.session.flush()
    run.job_id = f"upload-run-{run.id}"
    audit.record(host, user, "import.upload_queued", imp, data={"run_id": run.id, "filename": run.filename})
    db.session.commit()
    try:
        _enqueue(run, user, token, given)
    except REDIS_DOWN:
        # Nothing will run it: the run says so (no Retry: the stored file can simply be imported again).
        db.session.query(ImportRun).filter(ImportRun.id == run.id).update(
            {"outcome": RunOutcome.FAILED.value, "error": QUEUE_DOWN, "finished_at": utcnow(),
             "job_id": None}, synchronize_session=False)
        db.session.commit()
        raise QueueUnavailable(QUEUE_DOWN) from None
    return run


def _enqueue(run, user, token, given):
    # The job's meta keeps what a retry needs (the token and mapping; never the file itself).
    enqueue(import_upload, run.id, run.restarts, getattr(user, "id", None), token, given, job_id=run.job_id,
            job_timeout=3600, meta={"progress": 0, "token": token, "given": given})


def job_of(run):
    """The run's RQ job, or None when Redis no longer has it (finished long ago, its worker died) or is down
    (the page still shows the run, without its progress)."""
    if not run.job_id:
        return None
    try:
        return Job.fetch(run.job_id, connection=queues.connection)
    except Exception:  # NoSuchJobError, or Redis unreachable
        return None


@dataclass(frozen=True)
class State:
    """What the upload history shows of a run: "running" (with percent), "failed" or "done"."""

    kind: str
    percent: int = 0
    retryable: bool = False


def state(run, job=_UNFETCHED):
    """The run's State; Redis is asked (once) only for a background run still RUNNING.

    A RUNNING run whose job is gone, failed or stopped, or whose process was killed (RQ would still say
    "started" for up to the job's timeout), lost its worker: it is shown failed, with Retry.
    """
    background = (run.job_id or "").startswith("upload-run-")
    if run.outcome == RunOutcome.FAILED.value:
        return State("failed", retryable=background)
    if run.outcome != RunOutcome.RUNNING.value:
        return State("done")
    if not background:
        return State("running")
    job = job_of(run) if job is _UNFETCHED else job
    status = job.get_status(refresh=False) if job is not None else None
    if job is None or status in ("failed", "stopped", "canceled") \
            or (status == "started" and process_gone(job)):
        return State("failed", retryable=True)
    return State("running", percent=int((job.meta or {}).get("progress", 0)))


def can_retry(run):
    """A background run that failed, or that is RUNNING with no live job (its worker was killed)."""
    return state(run).retryable


def retry(host, user, imp, run):
    """Queue a failed run again; a conditional UPDATE makes two clicks queue it once. False: not retryable."""
    job = job_of(run)
    if not state(run, job).retryable or job is None:
        return False
    token, given = job.meta.get("token"), job.meta.get("given")
    if uploads.load(uploads_dir(), token, host.id, imp.id, utcnow()) is None:
        return False
    # Two clicks (or two admins) race here: only the one whose UPDATE still sees the attempt it read wins
    # (a conditional UPDATE, the same on SQLite and PostgreSQL). The job runs only for the latest attempt.
    seen = run.restarts
    claimed = db.session.query(ImportRun).filter(ImportRun.id == run.id, ImportRun.restarts == seen).update(
        {"outcome": RunOutcome.RUNNING.value, "error": None, "finished_at": None, "restarts": seen + 1},
        synchronize_session=False)
    if not claimed:
        db.session.rollback()
        return False
    audit.record(host, user, "import.upload_retried", imp, data={"run_id": run.id})
    db.session.commit()
    db.session.refresh(run)
    job.delete()
    _enqueue(run, user, token, given)
    return True


@app_job
def import_upload(run_id, attempt, user_id, token, given):
    """The job: import the stored file into run `run_id`, in one transaction, with progress in job.meta."""
    job = get_current_job()
    run = db.session.get(ImportRun, run_id)
    if run is None or run.outcome != RunOutcome.RUNNING.value or run.restarts != attempt:
        return None  # already done, or a later retry owns the run
    note_process(job)  # so the page can tell a killed import from a running one
    imp = db.session.get(TransactionsImport, run.import_id)
    host = db.session.get(Host, run.host_id)
    user = db.session.get(User, user_id) if user_id else None
    stored = uploads.load(uploads_dir(), token, host.id, imp.id, utcnow())
    if stored is None:
        return _fail(run_id, GONE)
    data, filename = stored

    def report(done, total):
        if job is not None:
            job.meta["progress"] = int(done * 100 / total) if total else 100
            job.save_meta()

    try:
        service.upload(host, user, imp, data, filename, given, progress=report, run=run)
    except service.StatementError as error:  # the file itself: retrying would fail the same way
        db.session.rollback()
        return _fail(run_id, str(error))
    except Exception:
        db.session.rollback()
        _fail(run_id, FAILED)
        raise
    uploads.discard(uploads_dir(), token)
    report(1, 1)
    return run_id


def _fail(run_id, message):
    """Mark the run FAILED with its reason, in a transaction of its own."""
    db.session.query(ImportRun).filter(ImportRun.id == run_id).update(
        {"outcome": RunOutcome.FAILED.value, "error": message, "finished_at": utcnow()}, synchronize_session=False)
    db.session.commit()
    return None
