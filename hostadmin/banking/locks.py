"""The per-item sync lock: one sync per item at a time, and a lock that dies with its holder.

PostgreSQL: a session-level advisory lock held on a connection of its own for the whole sync; the
server drops it the moment that connection goes (process killed; machine gone, through TCP keepalives).
SQLite: a lease on the item's row naming the holder's host and pid, kept fresh by a heartbeat thread;
it is taken over as soon as that pid is gone from this host, or once it expired (the last resort, for a
holder elsewhere or a reused pid).
On both, the row's sync_lock_token is the fencing token: a run applies its rows only while the row still
names it, and the "run again" flag is handed over by conditional UPDATEs of the row.
"""
import logging
import os
import secrets
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from hostadmin.banking.models import PlaidItem
from hostadmin.extensions import db

log = logging.getLogger("hostadmin.banking.locks")

# First key of the two-key advisory lock (the item id is the second): "hsyn", so no other user collides.
ADVISORY_NAMESPACE = 0x6873796E
DEFAULT_LEASE_SECONDS = 60
WAIT_POLL_SECONDS = 0.2
HOSTNAME = socket.gethostname()
# A holder whose machine vanishes is noticed by PostgreSQL within about a minute instead of hours.
KEEPALIVES = {"tcp_keepalives_idle": 30, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}
_HELD_BY_SOMEONE = text(
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND classid = CAST(:namespace AS oid) AND objid = CAST(:key AS oid))")


class SyncRunning(Exception):
    """Another live process holds the item's sync lock (the message says which)."""


def _postgres():
    return db.engine.dialect.name == "postgresql"


def _now():
    # A lease measures real time between processes, not the app's (in tests, frozen) business clock.
    return datetime.now(timezone.utc)


def _lease():
    return timedelta(seconds=current_app.config.get("SYNC_LOCK_TTL_SECONDS", DEFAULT_LEASE_SECONDS))


def _update(statement):
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process its parent has not reaped yet is a zombie: as dead as it gets (Linux)
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _lease_alive(row):
    """Whether the SQLite lease in `row` still protects a running holder."""
    if row.sync_lock_token is None:
        return False
    if row.sync_lock_expires_at is None or row.sync_lock_expires_at < _now():
        return False
    if row.sync_lock_host == HOSTNAME and row.sync_lock_pid is not None:
        return _pid_alive(row.sync_lock_pid)
    return True


def _lock_row(item_id):
    return db.session.execute(
        select(PlaidItem.sync_lock_token, PlaidItem.sync_lock_expires_at, PlaidItem.sync_lock_host,
               PlaidItem.sync_lock_pid).where(PlaidItem.id == item_id)).one()


class SyncLock:
    """The item's sync lock, held by this process until release."""

    def __init__(self, item_id, token, connection=None):
        self.item_id = item_id
        self.token = token
        self._connection = connection  # PostgreSQL: the session holding the advisory lock
        self._heartbeat = None if connection is not None else _Heartbeat(db.engine, item_id, token, _lease())

    def renew(self):
        """Between pages: False if the lock was lost (its connection dropped, or the lease was taken over)."""
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                return False
        return _update(update(PlaidItem).where(PlaidItem.id == self.item_id, PlaidItem.sync_lock_token == self.token)
                       .values(sync_lock_expires_at=_now() + _lease()))

    def fence(self):
        """Inside the applying transaction (no commit): True while the row still names this holder.

        It writes the row, so on both databases nobody can take the lock over until that transaction ends.
        """
        result = db.session.execute(
            update(PlaidItem).where(PlaidItem.id == self.item_id, PlaidItem.sync_lock_token == self.token)
            .values(sync_lock_token=self.token).execution_options(synchronize_session=False))
        return result.rowcount == 1

    def release_unless_requested(self):
        """Release the lock unless another sync was requested meanwhile.

        Returns True when released; False means "run again" was set: the caller
        still holds the lock (flag now cleared) and must sync once more.
        """
        if _update(update(PlaidItem).where(PlaidItem.id == self.item_id, PlaidItem.sync_lock_token == self.token,
                                           PlaidItem.sync_requested.is_(False)).values(**_FREE)):
            self._let_go()
            return True
        still_ours = _update(update(PlaidItem).where(PlaidItem.id == self.item_id,
                                                     PlaidItem.sync_lock_token == self.token)
                             .values(sync_requested=False))
        if not still_ours:  # lost the lock entirely: nothing more to do here
            self._let_go()
        return not still_ours

    def release(self):
        """Release the lock regardless of the run-again flag (after a failure)."""
        try:
            _update(update(PlaidItem).where(PlaidItem.id == self.item_id, PlaidItem.sync_lock_token == self.token)
                    .values(**_FREE))
        finally:
            self._let_go()

    def _let_go(self):
        if self._heartbeat is not None:
            self._heartbeat.stop()
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:namespace, :key)"),
                                         {"namespace": ADVISORY_NAMESPACE, "key": self.item_id})
            except DBAPIError:
                pass  # the connection is gone, and the lock with it
            finally:
                self._connection.close()
                self._connection = None


_FREE = dict(sync_lock_token=None, sync_lock_expires_at=None, sync_lock_host=None, sync_lock_pid=None)


class _Heartbeat(threading.Thread):
    """Keeps a SQLite lease fresh while its process lives, however long one Plaid call takes."""

    def __init__(self, engine, item_id, token, lease):
        super().__init__(name=f"sync-lease-{item_id}", daemon=True)
        self._engine, self._item_id, self._token, self._lease = engine, item_id, token, lease
        self._stopped = threading.Event()
        self.start()

    def run(self):
        while not self._stopped.wait(self._lease.total_seconds() / 4):
            try:
                with self._engine.begin() as connection:
                    connection.execute(update(PlaidItem).where(PlaidItem.id == self._item_id,
                                                               PlaidItem.sync_lock_token == self._token)
                                       .values(sync_lock_expires_at=_now() + self._lease))
            except DBAPIError as error:  # busy while the holder applies its rows: the next beat tries again
                log.warning("item %s: could not renew the sync lease: %s", self._item_id, error)

    def stop(self):
        self._stopped.set()
        if self is not threading.current_thread():
            self.join(15)


def acquire(item_id, wait=False, on_wait=None):
    """The item's sync lock, or None when another live process holds it.

    wait=True waits for the holder to finish (or die) instead; on_wait(holder) is called once before waiting.
    """
    if _postgres():
        return _acquire_advisory(item_id, wait, on_wait)
    while True:
        lock = _acquire_lease(item_id)
        if lock is not None or not wait:
            return lock
        if on_wait is not None:
            on_wait(holder(item_id) or "finishing")
            on_wait = None
        time.sleep(WAIT_POLL_SECONDS)


def _take(item_id, token, *conditions):
    """Write this process into the row as the holder; a new holder's run covers any earlier run-again request."""
    return update(PlaidItem).where(PlaidItem.id == item_id, *conditions).values(
        sync_lock_token=token, sync_lock_host=HOSTNAME, sync_lock_pid=os.getpid(), sync_requested=False)


def _acquire_advisory(item_id, wait, on_wait):
    connection = db.engine.connect()
    try:
        connection.execution_options(isolation_level="AUTOCOMMIT")  # never idle in a transaction
        connection.detach()  # closed for good on release: no pooled session keeps settings or locks
        for name, value in KEEPALIVES.items():
            connection.execute(text(f"SET {name} = {int(value)}"))
        keys = {"namespace": ADVISORY_NAMESPACE, "key": item_id}
        if not connection.execute(text("SELECT pg_try_advisory_lock(:namespace, :key)"), keys).scalar():
            if not wait:
                connection.close()
                return None
            if on_wait is not None:
                on_wait(holder(item_id) or "finishing")
            connection.execute(text("SELECT pg_advisory_lock(:namespace, :key)"), keys)
        token = secrets.token_hex(16)
        # The advisory lock proves any token left in the row belongs to a holder that died.
        _update(_take(item_id, token).values(sync_lock_expires_at=None))
    except BaseException:
        connection.close()
        raise
    return SyncLock(item_id, token, connection=connection)


def _acquire_lease(item_id):
    row = _lock_row(item_id)
    db.session.commit()
    if _lease_alive(row):
        return None
    token = secrets.token_hex(16)
    # Conditional on the token seen: of several processes taking over the same dead lease, one wins.
    seen = (PlaidItem.sync_lock_token.is_(None) if row.sync_lock_token is None
            else PlaidItem.sync_lock_token == row.sync_lock_token)
    if not _update(_take(item_id, token, seen).values(sync_lock_expires_at=_now() + _lease())):
        return None
    return SyncLock(item_id, token)


def request_run_again(item_id):
    """Ask the live holder of the item's lock for one more run; False if no live process holds it."""
    statement = update(PlaidItem).where(PlaidItem.id == item_id, PlaidItem.sync_lock_token.is_not(None))
    if _postgres():
        return _update(statement.where(_HELD_BY_SOMEONE.bindparams(namespace=ADVISORY_NAMESPACE, key=item_id))
                       .values(sync_requested=True))
    row = _lock_row(item_id)
    if not _lease_alive(row):
        db.session.commit()
        return False
    return _update(statement.where(PlaidItem.sync_lock_token == row.sync_lock_token).values(sync_requested=True))


def holder(item_id):
    """Who holds the item's lock, for people ("pid 123 on host web-1"), or None."""
    row = _lock_row(item_id)
    db.session.commit()
    if row.sync_lock_token is None or row.sync_lock_pid is None:
        return None
    return f"pid {row.sync_lock_pid} on host {row.sync_lock_host}"
