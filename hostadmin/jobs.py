"""RQ glue: enqueue jobs, run them inside an app context, and the `flask worker` command.

Job functions are plain module-level functions wrapped with @app_job. In a
`flask worker` process (or a test's SimpleWorker) an app context already
exists; in a bare `rq worker` process one is created once from the environment.
"""
import functools
import logging
import os
import socket

import click
from flask import current_app, has_app_context
from flask.cli import with_appcontext
from rq import Worker

from hostadmin.extensions import db, queues
from hostadmin.queueing import QUEUE_NAMES, REDIS_DOWN, run_with_redis_retry

log = logging.getLogger("hostadmin.jobs")
_process_app = None


def _app_for_process():
    global _process_app
    if _process_app is None:
        from hostadmin import create_app
        _process_app = create_app()
    return _process_app


def app_job(func):
    """Run `func` with an app context and a fresh database session for each job."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()
        with _app_for_process().app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()
    return wrapper


def enqueue(func, *args, queue="default", job_id=None, **kwargs):
    """Put `func(*args, **kwargs)` on `queue` (job_id: a deterministic id, e.g. "sync-item-7"; RQ allows letters, digits, - and _)."""
    return queues.get(queue).enqueue(func, *args, job_id=job_id, **kwargs)


def note_process(job):
    """Record in `job.meta` the process running it (the work horse RQ forked), for process_gone."""
    if job is not None:
        job.meta.update(pid=os.getpid(), hostname=socket.gethostname())
        job.save_meta()


def process_gone(job):
    """True when the process running a started `job` was killed: on this machine, that pid no longer exists.

    The pid is the one note_process recorded (the work horse, in a process group of its own, outlives a
    killed worker), else the worker's. RQ notices a dead worker's job only when its registry entry expires
    (the job's timeout, up to an hour); until then the job still says "started". Another machine's
    process is left to RQ.
    """
    meta = job.meta or {}
    if meta.get("pid"):
        hostname, pid = meta.get("hostname"), meta["pid"]
    else:
        worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + (job.worker_name or ""),
                                    connection=queues.connection) if job.worker_name else None
        if worker is None:
            return True
        hostname, pid = worker.hostname, worker.pid
    if hostname != socket.gethostname() or not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.argument("queue_names", nargs=-1)
@with_appcontext
def worker_command(burst, queue_names):
    """Run an RQ worker on the app's Redis (works with the embedded Redis too)."""
    names = queue_names or QUEUE_NAMES
    log.info("worker listening on %s (%s)", ", ".join(names), current_app.config.get("REDIS_URL") or "embedded")
    if burst:
        _Worker([queues.get(name) for name in names], connection=queues.connection).work(burst=True)
        return

    def work():
        # A fresh worker each time: RQ's own one quits (or raises) when Redis fails outside its dequeue.
        worker = _Worker([queues.get(name) for name in names], connection=queues.connection)
        try:
            worker.work(with_scheduler=True)
        except REDIS_DOWN:
            if worker.stopping:
                return True
            raise
        return worker.stopping

    run_with_redis_retry("worker", queues.connection, work)


class _Worker(Worker):
    """An RQ worker that remembers whether it was asked to stop (as opposed to giving up on an error)."""

    stopping = False

    def request_stop(self, signum, frame):
        self.stopping = True
        super().request_stop(signum, frame)
