"""One sync per item, whatever runs at once: processes and RQ workers (killed ones: test_sync_lock.py)."""
from sqlalchemy import select, text

from hostadmin.banking.jobs import job_id_for, sync_item_job
from hostadmin.banking.models import PlaidItem
from hostadmin.banking.sync import run_locked_sync
from hostadmin.extensions import db, queues
from tests.banking.helpers import active_rows, truth
from tests.support.processes import flask_env, run_flask, start_flask


def commit_and_env(app, tmp_path, **extra):
    db.session.commit()
    return flask_env(app, tmp_path, SYNC_PAGE_SIZE=40, **extra)


def assert_in_step_with_the_bank(item, plaid, plaid_client):
    db.session.expire_all()
    assert active_rows(item) == truth(plaid, item)
    count, distinct = db.session.execute(text(
        "SELECT count(*), count(DISTINCT source_id) FROM import_rows")).one()
    assert count == distinct
    # The committed cursor is the bank's head: another sync finds nothing new.
    follow_up = run_locked_sync(item.id, client=plaid_client)[0]
    assert (follow_up.added, follow_up.modified, follow_up.removed) == (0, 0, 0)


def test_two_processes_syncing_at_once_import_each_transaction_once(app, item, plaid, plaid_client, tmp_path):
    plaid.add_transactions(item.plaid_item_id, count=300, seed=21)
    env = commit_and_env(app, tmp_path)

    first, second = (start_flask(env, "plaid", "sync", item.plaid_item_id) for _ in range(2))
    outputs = [process.communicate(timeout=60)[0] for process in (first, second)]

    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert_in_step_with_the_bank(item, plaid, plaid_client)


def test_two_rq_workers_with_duplicate_jobs_import_each_transaction_once(
        app, item, plaid, plaid_client, tmp_path):
    plaid.add_transactions(item.plaid_item_id, count=300, seed=22)
    env = commit_and_env(app, tmp_path)
    queue = queues.get("sync")
    for n in range(4):  # duplicates that slipped past coalescing
        queue.enqueue(sync_item_job, item.id, "webhook", job_id=f"{job_id_for(item.id)}-dup{n}")

    workers = [start_flask(env, "worker", "--burst", "sync") for _ in range(2)]
    outputs = [worker.communicate(timeout=180)[0] for worker in workers]

    assert [w.returncode for w in workers] == [0, 0], outputs
    assert_in_step_with_the_bank(item, plaid, plaid_client)
    assert all(job.is_finished for job in (queue.fetch_job(f"{job_id_for(item.id)}-dup{n}") for n in range(4)))


def test_cli_sync_prints_counts_and_csv_export(app, item, plaid, plaid_client, tmp_path):
    plaid.add_transactions(item.plaid_item_id, specs=[
        {"amount": -12.34, "date": "2026-11-03", "name": "Grant from Acme, Inc."},
        {"amount": 5.0, "date": "2026-11-04", "name": "Bank fee", "pending": True}])
    env = commit_and_env(app, tmp_path)

    synced = run_flask(env, "plaid", "sync", item.plaid_item_id)
    assert synced.returncode == 0, synced.stderr
    assert "SUCCEEDED" in synced.stdout and f"added={len(truth(plaid, item))}" in synced.stdout

    exported = run_flask(env, "imports", "rows", item.plaid_item_id, "--format", "csv")
    lines = exported.stdout.splitlines()
    assert lines[0].startswith("source_id,account_id,date,amount,currency,description")
    assert any(',2026-11-03,12.34,USD,"Grant from Acme, Inc.",' in line and ",false,PENDING,false," in line
               for line in lines)
    assert any(",2026-11-04,-5.00,USD,Bank fee," in line and ",true,PENDING,false," in line for line in lines)
    assert len(lines) == 1 + len(truth(plaid, item))


def test_cli_sandbox_connect_prints_the_item_id_last(app, host, plaid, plaid_client, tmp_path):
    env = commit_and_env(app, tmp_path)

    result = run_flask(env, "plaid", "sandbox-connect", "--host", "river", "--institution", "ins_109509")

    assert result.returncode == 0, result.stderr
    item_id = result.stdout.strip().splitlines()[-1]
    db.session.expire_all()
    stored = db.session.scalar(select(PlaidItem).where(PlaidItem.plaid_item_id == item_id))
    assert stored.institution_name == "First Gingham Credit Union" and len(stored.accounts) == 3
    assert queues.get("sync").fetch_job(job_id_for(stored.id)) is not None  # first sync queued
    unknown = run_flask(env, "plaid", "sandbox-connect", "--host", "nowhere")
    assert unknown.returncode != 0 and "no host with slug 'nowhere'" in unknown.stderr
