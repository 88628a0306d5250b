"""A sync's live state for its connection page: waiting in the queue, and pages fetched so far.

Kept in Redis, not on the run's row: the sync must not write the database while it fetches pages
(it would hold SQLite's write lock across Plaid's HTTP calls). Redis being down only hides the figures.
"""
from redis.exceptions import RedisError

from hostadmin.banking.jobs import PENDING_KEY
from hostadmin.extensions import queues

PAGES_KEY = "hostadmin:sync-pages:{run_id}"
PAGES_TTL_SECONDS = 3600


def report_pages(run_id, pages):
    """The running run `run_id` has fetched `pages` pages."""
    try:
        queues.connection.set(PAGES_KEY.format(run_id=run_id), pages, ex=PAGES_TTL_SECONDS)
    except RedisError:
        pass


def pages_so_far(run_id):
    """Pages the running run has fetched (0 before its first page, or when Redis cannot say)."""
    try:
        return int(queues.connection.get(PAGES_KEY.format(run_id=run_id)) or 0)
    except (RedisError, ValueError):
        return 0


def waiting(item):
    """True while a requested sync of `item` waits in the queue."""
    try:
        return bool(queues.connection.exists(PENDING_KEY.format(item_id=item.id)))
    except RedisError:
        return False
