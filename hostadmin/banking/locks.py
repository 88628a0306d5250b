"""The per-item sync lock, held in the database so it works across processes and machines.

Acquire and release are single conditional UPDATEs, atomic on PostgreSQL and
SQLite alike. A lock whose holder died expires after SYNC_LOCK_TTL_SECONDS; the
holder extends it after every page. Releasing fails (and the holder runs once
more) when someone asked for another sync meanwhile: the "run again" flag.
"""
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, update

from hostadmin.banking.models import PlaidItem
from hostadmin.clock import utcnow
from hostadmin.extensions import db

DEFAULT_TTL_SECONDS = 600


def _ttl():
    return timedelta(seconds=current_app.config.get("SYNC_LOCK_TTL_SECONDS", DEFAULT_TTL_SECONDS))


def _update(statement):
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def try_acquire(item_id):
    """A lock token if this caller now holds the item's sync lock, else None. Commits."""
    token = secrets.token_hex(16)
    now = utcnow()
    acquired = _update(
        update(PlaidItem)
        .where(PlaidItem.id == item_id,
               or_(PlaidItem.sync_lock_token.is_(None), PlaidItem.sync_lock_expires_at < now))
        .values(sync_lock_token=token, sync_lock_expires_at=now + _ttl(), sync_requested=False))
    return token if acquired else None


def extend(item_id, token):
    """Push the lock's expiry forward; False if the lock was lost (expired and taken)."""
    return _update(update(PlaidItem)
                   .where(PlaidItem.id == item_id, PlaidItem.sync_lock_token == token)
                   .values(sync_lock_expires_at=utcnow() + _ttl()))


def release_unless_requested(item_id, token):
    """Release the lock unless another sync was requested meanwhile.

    Returns True when released; False means "run again" was set: the caller
    still holds the lock (flag now cleared) and must sync once more.
    """
    released = _update(update(PlaidItem)
                       .where(PlaidItem.id == item_id, PlaidItem.sync_lock_token == token,
                              PlaidItem.sync_requested.is_(False))
                       .values(sync_lock_token=None, sync_lock_expires_at=None))
    if released:
        return True
    still_ours = _update(update(PlaidItem)
                         .where(PlaidItem.id == item_id, PlaidItem.sync_lock_token == token)
                         .values(sync_requested=False, sync_lock_expires_at=utcnow() + _ttl()))
    return not still_ours  # lost the lock entirely: nothing more to do here


def release(item_id, token):
    """Release the lock regardless of the run-again flag (after a failure)."""
    _update(update(PlaidItem)
            .where(PlaidItem.id == item_id, PlaidItem.sync_lock_token == token)
            .values(sync_lock_token=None, sync_lock_expires_at=None))


def request_run_again(item_id):
    """Ask the current lock holder for one more run; False if nobody holds the lock now."""
    return _update(update(PlaidItem)
                   .where(PlaidItem.id == item_id, PlaidItem.sync_lock_token.is_not(None),
                          PlaidItem.sync_lock_expires_at >= utcnow())
                   .values(sync_requested=True))
