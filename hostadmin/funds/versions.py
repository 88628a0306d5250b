"""Optimistic concurrency for contributions: a save based on a version someone else moved past is refused."""
from sqlalchemy.orm.exc import StaleDataError

STALE = "changed by someone else meanwhile"


class StaleVersion(ValueError):
    """The object changed since the page that asked for this save was shown; nothing was written."""

    def __init__(self, what, seen=None, current=None):
        super().__init__(f"{what} was {STALE}: look at its current state and try again")
        self.seen, self.current = seen, current


def check(obj, seen, what):
    """Refuse unless `obj.version` is still `seen` (None: the caller showed no version, nothing to check).

    Call it on the row locked for the update (SELECT … FOR UPDATE), so nobody moves it between
    the check and the write; Order's version_id_col also makes the UPDATE itself conditional.
    """
    if seen is not None and obj.version != seen:
        raise StaleVersion(what, seen, obj.version)


def parse(text):
    """The version a form sent ("3"), or None when it sent none or garbage."""
    from hostadmin.params import MAX_ID, parse_int
    return parse_int((text or "").strip(), maximum=MAX_ID)


def is_stale(error):
    """True for the ORM's refusal of an UPDATE whose version no longer matches (a race past the lock)."""
    return isinstance(error, (StaleVersion, StaleDataError))
