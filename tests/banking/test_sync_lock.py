"""The per-item sync lock dies with its holder: a killed sync (CLI or RQ worker) never stalls the item.

Every test runs on SQLite (a lease naming the holder's host and pid) and on PostgreSQL (a session-level
advisory lock), with real processes killed by SIGKILL and the next sync started at once.
"""
import os
import signal
import socket
import time
from datetime import datetime, timedelta, timezone

import psutil
import pytest
from sqlalchemy import func, select, text, update

from hostadmin.banking import connect, locks
from hostadmin.banking.jobs import request_sync
from hostadmin.banking.models import PlaidItem
from hostadmin.banking.sync import run_locked_sync, sync_item
from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow, ImportRun
from tests.banking.helpers import active_rows, truth
from tests.factories import make_host
from tests.support.processes import flask_env, run_flask, start_flask


@pytest.fixture(params=["sqlite", "postgres"])
def lock_app(request, databases):
    """The app on SQLite, then on PostgreSQL."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_app")
    if databases.postgres:
        pytest.skip("the default test database is PostgreSQL in this run; the postgres case covers it")
    return request.getfixturevalue("app")


@pytest.fixture
def sync_client(lock_app, plaid):
    client = plaid.plaid_client()
    lock_app.extensions["plaid"] = client
    lock_app.config.update(PLAID_HOST=plaid.url, SYNC_RETRY_BASE_SECONDS=0)
    return client


@pytest.fixture
def bank_item(lock_app, sync_client):
    host = make_host(slug="river", name="River Host")
    db.session.commit()
    return connect.sandbox_connect(host, sync_client)


def commit_and_env(app, tmp_path, **extra):
    db.session.commit()
    return flask_env(app, tmp_path, SYNC_PAGE_SIZE=40, **extra)


def wait_for_a_running_sync(process, timeout=60):
    """Block until some process has a sync run in progress (the lock is taken before the run starts)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        if db.session.scalar(select(func.count()).select_from(ImportRun).where(ImportRun.outcome == "RUNNING")):
            return
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "no sync started"
        time.sleep(0.05)


def outcomes():
    db.session.rollback()
    return db.session.scalars(select(ImportRun.outcome).order_by(ImportRun.id)).all()


def assert_in_step_with_the_bank(item, plaid, client):
    db.session.expire_all()
    assert active_rows(item) == truth(plaid, item)
    count, distinct = db.session.execute(text(
        "SELECT count(*), count(DISTINCT source_id) FROM import_rows")).one()
    assert count == distinct
    follow_up = run_locked_sync(item.id, client=client)[0]
    assert (follow_up.outcome, follow_up.added, follow_up.modified, follow_up.removed) == ("SUCCEEDED", 0, 0, 0)


def test_cli_sync_killed_mid_run_then_run_again_at_once_syncs_everything(
        lock_app, bank_item, plaid, sync_client, tmp_path):
    plaid.add_transactions(bank_item.plaid_item_id, count=400, seed=23)
    plaid.delay_next("/transactions/sync", 0.25, count=None)  # every page is slow
    env = commit_and_env(lock_app, tmp_path)

    victim = start_flask(env, "plaid", "sync", bank_item.plaid_item_id)
    wait_for_a_running_sync(victim)
    time.sleep(0.6)  # a few pages into the run
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    plaid.clear_faults()
    assert db.session.scalar(select(func.count()).select_from(ImportRow)) == 0  # nothing half-applied

    again = run_flask(env, "plaid", "sync", bank_item.plaid_item_id, timeout=60)

    assert again.returncode == 0, again.stdout + again.stderr
    assert "SUCCEEDED" in again.stdout and f"added={len(truth(plaid, bank_item))}" in again.stdout
    assert outcomes() == ["ABANDONED", "SUCCEEDED"]
    assert_in_step_with_the_bank(bank_item, plaid, sync_client)


def test_cli_sync_waits_for_a_running_sync_then_syncs_and_no_wait_exits_3(
        lock_app, bank_item, plaid, sync_client, tmp_path):
    plaid.add_transactions(bank_item.plaid_item_id, count=50, seed=24)
    env = commit_and_env(lock_app, tmp_path)
    held = locks.acquire(bank_item.id)  # this test process is the sync that is running

    impatient = run_flask(env, "plaid", "sync", "--no-wait", bank_item.plaid_item_id)
    assert impatient.returncode == 3, impatient.stdout + impatient.stderr
    assert f"A sync of this item is running (pid {os.getpid()} on host" in impatient.stderr
    patient = start_flask(env, "plaid", "sync", bank_item.plaid_item_id)
    said = patient.stdout.readline()
    assert "waiting for it to finish" in said and f"pid {os.getpid()}" in said
    assert patient.poll() is None

    first = sync_item(db.session.get(PlaidItem, bank_item.id), sync_client, lock=held)
    assert held.release_unless_requested()
    output = said + patient.communicate(timeout=60)[0]

    assert patient.returncode == 0, output
    second = db.session.scalars(select(ImportRun).where(ImportRun.id > first.id)).one()
    assert f"run {second.id}: SUCCEEDED" in output
    assert (first.added, second.added) == (len(truth(plaid, bank_item)), 0)  # it ran after, not beside


def test_rq_worker_killed_mid_sync_then_the_next_request_syncs_at_once(
        lock_app, bank_item, plaid, sync_client, tmp_path):
    plaid.add_transactions(bank_item.plaid_item_id, count=400, seed=25)
    plaid.delay_next("/transactions/sync", 0.25, count=None)
    env = commit_and_env(lock_app, tmp_path)
    assert request_sync(bank_item, "webhook") == "enqueued"

    worker = start_flask(env, "worker", "sync")
    wait_for_a_running_sync(worker)
    time.sleep(0.6)
    # The worker and the work horse it forked for the job (in a process group of its own) die together,
    # as when their machine is lost.
    doomed = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
    for process in doomed:
        process.send_signal(signal.SIGKILL)
    worker.wait(10)
    assert not psutil.wait_procs(doomed, timeout=10)[1]
    plaid.clear_faults()

    item = db.session.get(PlaidItem, bank_item.id)
    assert request_sync(item, "webhook") == "enqueued"  # the next webhook (or "Sync now")
    burst = run_flask(env, "worker", "--burst", "sync", timeout=120)

    assert burst.returncode == 0, burst.stdout + burst.stderr
    assert outcomes() == ["ABANDONED", "SUCCEEDED"]
    assert_in_step_with_the_bank(bank_item, plaid, sync_client)


def test_a_live_holder_is_asked_to_run_again_and_then_runs_exactly_once_more(
        lock_app, bank_item, plaid, sync_client):
    holder = locks.acquire(bank_item.id)  # as if another worker were mid-sync
    assert holder is not None

    assert run_locked_sync(bank_item.id, "webhook", client=sync_client) == []  # coalesced: asks for one more
    assert locks.acquire(bank_item.id) is None
    db.session.refresh(bank_item)
    assert bank_item.sync_requested

    assert holder.release_unless_requested() is False  # the holder must run again
    assert holder.release_unless_requested() is True
    db.session.refresh(bank_item)
    assert bank_item.sync_lock_token is None and not bank_item.sync_requested
    assert [run.outcome for run in run_locked_sync(bank_item.id, client=sync_client)] == ["SUCCEEDED"]


def test_sqlite_lease_of_another_host_is_taken_over_only_once_it_expired(lock_app, bank_item):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the lease is SQLite's lock")
    now = datetime.now(timezone.utc)

    def lease_held_elsewhere(expires_at):
        db.session.execute(update(PlaidItem).where(PlaidItem.id == bank_item.id).values(
            sync_lock_token="elsewhere", sync_lock_host=f"not-{socket.gethostname()}", sync_lock_pid=os.getpid(),
            sync_lock_expires_at=expires_at))
        db.session.commit()

    lease_held_elsewhere(now + timedelta(minutes=5))
    assert locks.acquire(bank_item.id) is None
    assert "pid" in locks.holder(bank_item.id)
    lease_held_elsewhere(now - timedelta(seconds=1))  # its holder stopped renewing it
    taken = locks.acquire(bank_item.id)
    assert taken is not None
    taken.release()


def test_sqlite_lease_is_kept_fresh_while_its_holder_lives(lock_app, bank_item):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the lease is SQLite's lock")
    lock_app.config["SYNC_LOCK_TTL_SECONDS"] = 1  # a heartbeat every 0.25 s
    lock = locks.acquire(bank_item.id)
    first_expiry = db.session.get(PlaidItem, bank_item.id).sync_lock_expires_at

    time.sleep(1.5)  # longer than the lease: only the heartbeat keeps it

    db.session.expire_all()
    assert db.session.get(PlaidItem, bank_item.id).sync_lock_expires_at > first_expiry
    assert locks.acquire(bank_item.id) is None and locks.request_run_again(bank_item.id)
    lock.release()
