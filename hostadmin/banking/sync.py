"""The sync engine: one service, sync_item(item, client), used by the RQ job, the CLI and the tests.

A run reads every /transactions/sync page from the committed cursor into a
spool, then applies rows and the new cursor in one database transaction, so a
crash anywhere loses nothing and duplicates nothing. On
TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION the spool is thrown away and the
run restarts from the cursor it began with.
"""
import logging
import time
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import exc, select, update

from hostadmin.banking import locks, progress as live
from hostadmin.banking.apply import RowWriter, account_map
from hostadmin.banking.crypto import decrypt_token
from hostadmin.banking.decode import InvalidLine, bank_line, currency_of, decode_transaction, invalid_entry
from hostadmin.banking.fetch import (
    ITEM_STATUS_BY_CODE, NEEDS_USER_CODES, CursorNotForItem, MutationDuringPagination, SyncError, Timings,
    fetch_page,
)
from hostadmin.banking.jobs import RETRY_DELAYS_SECONDS
from hostadmin.banking.models import ItemStatus, PlaidItem
from hostadmin.banking.plaid_client import get_client
from hostadmin.banking.staging import Spool
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRun, RunOutcome, TransactionsImport
from hostadmin.text import clean_line

log = logging.getLogger("hostadmin.banking.sync")

MAX_MUTATION_RESTARTS = 5


class LockLost(SyncError):
    """This process lost the item's sync lock (its connection or lease); this run's work is discarded."""

    def __init__(self):
        super().__init__("the item's sync lock was lost and may have been taken over", "LOCK_LOST", retryable=True)


def run_locked_sync(item_id, trigger="manual", client=None, on_acquired=None, if_running="run-again",
                    on_wait=None):
    """Sync an item under its lock, once more for each run-again request. Returns the runs.

    If another live process holds the lock: "run-again" asks it for one more run and returns [] (the
    job's way), "wait" waits for it to finish and then syncs (on_wait(holder) is called first), "raise"
    raises locks.SyncRunning. `on_acquired` is called once this caller holds the lock.
    """
    lock = locks.acquire(item_id)
    if lock is None and if_running == "raise":
        raise locks.SyncRunning(locks.holder(item_id) or "finishing")
    while lock is None and if_running == "run-again":
        if locks.request_run_again(item_id):
            return []
        time.sleep(0.05)  # the holder is letting go (or just took the lock and is writing its name)
        lock = locks.acquire(item_id)
    if lock is None:
        lock = locks.acquire(item_id, wait=True, on_wait=on_wait)
    if on_acquired is not None:
        on_acquired()
    runs = []
    try:
        while True:
            item = db.session.get(PlaidItem, item_id, populate_existing=True)
            runs.append(sync_item(item, client or get_client(), trigger=trigger, lock=lock))
            if lock.release_unless_requested():
                lock = None
                return runs
            trigger = "run-again"
    finally:
        if lock is not None:
            db.session.rollback()
            lock.release()


def sync_item(item, client, trigger="manual", lock=None):
    """Bring the item's import rows up to date with Plaid. Returns the (committed) ImportRun.

    Never raises for Plaid-side failures: they are recorded on the run (and the
    item, for errors that need the host). A retryable failure leaves the run
    RETRYING; the job layer schedules the next attempt.
    """
    tx_import = import_of(item)
    _abandon_stale_runs(tx_import)
    run = ImportRun(import_id=tx_import.id, host_id=item.host_id, trigger=trigger,
                    outcome=RunOutcome.RUNNING.value, started_at=utcnow())
    db.session.add(run)
    db.session.flush()
    run_id = run.id  # read before the commit expires `run`: the page loop reports its progress by it
    db.session.commit()
    run.timings = Timings()
    # Kept off the ORM object while pages are fetched: touching `run` would autoflush an
    # UPDATE and hold a write transaction (on SQLite, the database's write lock) across HTTP calls.
    progress = Progress()
    if item.status == ItemStatus.DISCONNECTED.value:
        return _finish(run, item, progress, RunOutcome.FAILED, SyncError("the item was disconnected", "DISCONNECTED"))
    start_cursor = began_with = item.cursor
    try:
        for _attempt in range(MAX_MUTATION_RESTARTS + 1):
            progress.invalid = []  # nothing of an abandoned loop survives
            with Spool() as spool:
                try:
                    cursor, accounts = _fetch_all(client, item, start_cursor, spool, run.timings, progress,
                                                  lock, run_id=run_id)
                except MutationDuringPagination:
                    progress.restarts += 1
                    continue
                except CursorNotForItem:
                    # Last resort (PLAID.md §13): the stored cursor belongs elsewhere; start over.
                    log.warning("item %s: cursor rejected by Plaid, resyncing from the start", item.id)
                    start_cursor = None
                    progress.restarts += 1
                    continue
                return _apply(run, item, tx_import, spool, cursor, accounts, progress, lock, began_with)
        raise SyncError("the bank's data kept changing during pagination", "MUTATION_PERSISTED", retryable=True)
    except SyncError as error:
        db.session.rollback()
        outcome, error = _outcome_of(error, run, item)
        return _finish(db.session.get(ImportRun, run.id), item, progress, outcome, error)
    except Exception as error:  # noqa: BLE001 (recorded, not swallowed: the run, the item page and a banner show it)
        # Anything else would fail the same way next time. Left RUNNING, the run would only be
        # marked ABANDONED by the next one, and nobody would learn why the item stopped syncing.
        db.session.rollback()
        log.exception("item %s: sync failed", item.id)
        outcome, error = _outcome_of(_unexpected(error), run, item)
        return _finish(db.session.get(ImportRun, run.id), item, progress, outcome, error)


def _outcome_of(error, run, item):
    """(outcome, error): RETRYING while the job has retries left for a retryable error, else FAILED
    (a failure that will repeat: shown on the connection page and in a banner)."""
    if error.retryable:
        previous = consecutive_retrying_runs(item.id, before=run.id)
        if previous < len(RETRY_DELAYS_SECONDS):
            return RunOutcome.RETRYING, error
        error = SyncError(f"{error} (the same after {previous + 1} runs in a row: no more automatic retries)",
                          error.code, item_error=error.item_error)
    return RunOutcome.FAILED, error


def _unexpected(error):
    """A SyncError for an exception the sync did not foresee: retryable only if the database was unreachable."""
    reason = getattr(error, "orig", None) or error
    message = clean_line(str(reason).strip().split("\n")[0], 500) or type(reason).__name__
    if isinstance(error, (exc.OperationalError, exc.InterfaceError, psycopg.OperationalError)):
        return SyncError(f"the database could not be reached: {message}", "DATABASE_UNAVAILABLE", retryable=True)
    return SyncError(f"{type(reason).__name__}: {message}", "SYNC_ERROR")


@dataclass
class Progress:
    """What a run has done so far, copied onto its ImportRun when it ends."""

    pages: int = 0
    restarts: int = 0
    invalid: list = field(default_factory=list)

    def record_on(self, run):
        run.pages, run.restarts = self.pages, self.restarts
        run.invalid = len(self.invalid)
        run.invalid_details = self.invalid[:100] or None


def import_of(item):
    """The transactions import of a Plaid item (created with the item)."""
    tx_import = db.session.scalar(select(TransactionsImport).where(TransactionsImport.plaid_item_id == item.id))
    if tx_import is None:
        tx_import = TransactionsImport(host_id=item.host_id, source="PLAID", name=item.display_name,
                                       plaid_item_id=item.id)
        db.session.add(tx_import)
        db.session.flush()
    return tx_import


def _fetch_all(client, item, start_cursor, spool, timings, progress, lock, run_id=None):
    """Read every page after start_cursor into the spool; returns (next_cursor, accounts seen)."""
    access_token = decrypt_token(item.access_token_encrypted)
    cursor = start_cursor
    accounts = {}
    pages = 0
    known_currency = {a.plaid_account_id: a.currency for a in item.accounts}
    while True:
        page = fetch_page(client, access_token, cursor, timings)
        pages += 1
        if run_id is not None:
            live.report_pages(run_id, pages)  # the connection page shows it while the run goes on
        started = time.perf_counter()
        for account in page.accounts:
            accounts[account.account_id] = account
            known_currency.setdefault(account.account_id, account.balances.iso_currency_code
                                      or account.balances.unofficial_currency_code)
        for kind in ("added", "modified"):
            lines = []
            for raw in getattr(page, kind):
                try:
                    lines.append(_line_of(raw, known_currency))
                except InvalidLine as error:
                    progress.invalid.append(invalid_entry(raw, error))
            spool.add(kind, lines)
        spool.add("removed", [(r.transaction_id, r.account_id) for r in page.removed])
        timings.stage += time.perf_counter() - started
        if lock is not None and not lock.renew():
            raise LockLost()
        cursor = page.next_cursor
        if not page.has_more:
            progress.pages = pages
            return cursor, accounts


def _line_of(raw, known_currency):
    """The BankLine of one raw transaction; InvalidLine if it cannot become an import row."""
    transaction = decode_transaction(raw)
    currency = currency_of(transaction, known_currency.get(transaction.account_id))
    if currency is None:
        raise InvalidLine("no currency on the transaction or its account")
    return bank_line(transaction, raw, currency)


def _apply(run, item, tx_import, spool, cursor, page_accounts, progress, lock, began_with):
    """Write rows, cursor and run counts in one transaction."""
    started = time.perf_counter()
    # Re-check ownership inside the applying transaction: a lost lock means someone else syncs.
    if lock is not None and not lock.fence():
        raise LockLost()
    writer = RowWriter(tx_import, run.id, account_map(item, page_accounts))
    for chunk in spool.read("added"):
        writer.upsert(chunk)
    writer.flush_new()
    for chunk in spool.read("modified"):
        writer.upsert(chunk, modified=True)
    writer.flush_new()
    writer.inherit_pending_triage()
    for chunk in spool.read("removed"):
        writer.remove(chunk)
    now = utcnow()
    healed = {}
    if item.status in (ItemStatus.LOGIN_REQUIRED.value, ItemStatus.ERROR.value):
        # Plaid answered every page: whatever was wrong with the login is fixed.
        healed = {"status": ItemStatus.HEALTHY.value, "error_code": None, "error_message": None,
                  "status_changed_at": now}
    # The cursor moves only from the one this run began with: an admin who selected an account
    # meanwhile reset it to re-read the history, and the run-again that follows must see that.
    began = PlaidItem.cursor.is_(None) if began_with is None else PlaidItem.cursor == began_with
    db.session.execute(update(PlaidItem).where(PlaidItem.id == item.id, began)
                       .values(cursor=cursor or began_with))
    db.session.execute(update(PlaidItem).where(PlaidItem.id == item.id).values(
        last_synced_at=now, last_sync_error=None, **healed))
    tx_import.last_synced_at = now
    counts = writer.counts
    progress.invalid += writer.invalid
    progress.record_on(run)
    run.added, run.modified, run.removed, run.duplicates = (counts.added, counts.modified, counts.removed,
                                                             counts.duplicates)
    run.outcome = RunOutcome.SUCCEEDED.value
    run.finished_at = now
    db.session.commit()
    run.timings.apply += time.perf_counter() - started
    log.info("item %s synced: %s pages, +%s ~%s -%s (dup %s, invalid %s, restarts %s, unsynced accounts %s)",
             item.id, run.pages, run.added, run.modified, run.removed, run.duplicates, run.invalid, run.restarts,
             counts.skipped_unsynced)
    return run


def _finish(run, item, progress, outcome, error):
    """Record a run that did not apply anything, and the item status an item error calls for."""
    progress.record_on(run)
    run.outcome = outcome.value
    run.finished_at = utcnow()
    run.error_code = error.code
    run.error = str(error)
    item = db.session.get(PlaidItem, item.id)
    item.last_sync_error = f"{error.code}: {error}"
    status = ITEM_STATUS_BY_CODE.get(error.code)
    if status is None and (error.code in NEEDS_USER_CODES or error.item_error):
        status = ItemStatus.ERROR
    if status is not None and item.status != ItemStatus.DISCONNECTED.value:
        item.status = status.value
        item.error_code = error.code
        item.error_message = str(error)
        item.status_changed_at = run.finished_at
    db.session.commit()
    log.warning("item %s sync %s: %s %s", item.id, outcome.value, error.code, error)
    return run


def _abandon_stale_runs(tx_import):
    """Runs left RUNNING by a worker that died: we hold the lock now, so they are over."""
    db.session.execute(update(ImportRun).where(
        ImportRun.import_id == tx_import.id, ImportRun.outcome == RunOutcome.RUNNING.value
    ).values(outcome=RunOutcome.ABANDONED.value, finished_at=utcnow(),
             error="the worker running this sync stopped before it finished"))


def consecutive_retrying_runs(item_id, before=None):
    """How many of the item's latest runs (older than run id `before`) in a row ended RETRYING."""
    query = (select(ImportRun.outcome).join(TransactionsImport, TransactionsImport.id == ImportRun.import_id)
             .where(TransactionsImport.plaid_item_id == item_id))
    if before is not None:
        query = query.where(ImportRun.id < before)
    outcomes = db.session.scalars(query.order_by(ImportRun.id.desc()).limit(10)).all()
    count = 0
    for outcome in outcomes:
        if outcome != RunOutcome.RETRYING.value:
            break
        count += 1
    return count
