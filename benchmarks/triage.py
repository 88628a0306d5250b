"""Benchmark: triage pages on one import of 1,000,000 rows (PostgreSQL). Prints figures, asserts nothing.

Server time through the WSGI app (routing, queries, template rendering) of: the first page,
a page deep in the list (keyset cursor), a text search, the status counts, and a bulk
ignore of 10,000 rows ("all rows matching this filter"). Creates its own host and rows,
and deletes them afterwards. It runs in its own database on the local server (created if
missing): the test suite rebuilds the `test` database's schema whenever it starts, which
would pull a million rows from under a running benchmark. TRIAGE_BENCH_DATABASE_URL /
TRIAGE_BENCH_ROWS override the database and the row count.
"""
import os
import statistics
import time
from datetime import date

from sqlalchemy import text

from benchmarks._support import ensure_database

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hostadmin_bench_triage"
SLUG = f"bench-triage-{os.getpid()}"

GENERATE_ROWS = """
INSERT INTO import_rows (import_id, host_id, bank_account_id, source_id, date, amount, currency, description,
                         merchant_name, pending, status, needs_review, removed_at, created_at, updated_at)
SELECT :import_id, :host_id, :account_id, 'bench-' || n,
       DATE '2023-12-01' + ((n * 1095) / :total)::int,  -- three years, in arrival order like a real feed
       CASE WHEN n % 3 = 0 THEN -1 ELSE 1 END * (100 + (n * 7919) % 250000),
       'USD',
       (ARRAY['CARD PURCHASE', 'ACH DEPOSIT', 'WIRE TRANSFER', 'MONTHLY SERVICE FEE', 'ZELLE FROM',
              'CHECK DEPOSIT', 'ONLINE TRANSFER', 'POS DEBIT'])[1 + n % 8] || ' ' || md5(n::text),
       (ARRAY['Coffee Co', 'City Print Shop', 'Hardware Depot', NULL, 'Cloud Hosting Ltd', NULL])[1 + n % 6],
       n % 97 = 0,
       CASE WHEN n % 10 < 6 THEN 'LINKED' WHEN n % 10 < 8 THEN 'IGNORED' WHEN n % 10 < 9 THEN 'PENDING'
            ELSE 'ON_HOLD' END,
       n % 1000 = 0,
       CASE WHEN n % 2000 = 1 THEN now() END,
       now(), now()
FROM generate_series(1::bigint, :total) AS n
"""


def timed(call, repeat=5):
    """(first, median of the rest) in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times[0], statistics.median(times[1:] or times)


def main():
    """Seed a million rows, time the pages and a bulk ignore, clean up."""
    from flask_migrate import upgrade

    from config import TestConfig, normalise_database_url
    from hostadmin import create_app
    from hostadmin.extensions import db

    url = normalise_database_url(os.environ.get("TRIAGE_BENCH_DATABASE_URL", DEFAULT_URL))
    ensure_database(url)
    total = int(os.environ.get("TRIAGE_BENCH_ROWS", "1000000"))
    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": "redis://127.0.0.1:6379/15",
                                  "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        for leftover in db.session.execute(text(  # from a run that was interrupted
                "SELECT h.id AS host, m.user_id AS user FROM hosts h JOIN host_members m ON m.host_id = h.id "
                "WHERE h.slug LIKE 'bench-triage-%'")).mappings().all():
            cleanup(db, dict(leftover))
        ids = {}
        try:
            seed(db, total, ids)
            report(app, db, ids, total)
        finally:
            if ids:
                cleanup(db, ids)


def seed(db, total, ids):
    """Create the benchmark host, user, bank account and import, then its rows (ids into `ids`)."""
    from hostadmin.auth.models import Role
    from hostadmin.auth.service import create_user
    from hostadmin.banking.models import BankAccount, PlaidItem
    from hostadmin.imports.models import TransactionsImport
    from hostadmin.ledger import accounts

    host = accounts.create_host(SLUG, "Triage Benchmark", "USD")
    user = create_user(f"{SLUG}@example.org", "bench password", SLUG, Role.ADMIN)
    item = PlaidItem(host_id=host.id, plaid_item_id=SLUG, access_token_encrypted=b"-")
    db.session.add(item)
    db.session.flush()
    account = BankAccount(host_id=host.id, item_id=item.id, plaid_account_id=SLUG, name="Checking",
                          mask="0001", type="depository", currency="USD")
    imp = TransactionsImport(host_id=host.id, source="PLAID", name="Busy checking", plaid_item_id=item.id)
    db.session.add_all([account, imp])
    db.session.flush()
    ids.update({"host": host.id, "user": user.id, "item": item.id, "account": account.id, "import": imp.id,
                "email": user.email})
    db.session.commit()
    start = time.perf_counter()
    db.session.execute(text(GENERATE_ROWS), {"import_id": imp.id, "host_id": host.id, "account_id": account.id,
                                             "total": total})
    db.session.commit()
    print(f"inserted {total:,} rows in {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE import_rows"))
    print(f"VACUUM ANALYZE in {time.perf_counter() - start:.1f} s", flush=True)


def report(app, db, ids, total):
    """Time each page through the test client and print the figures."""
    from hostadmin.imports import bulk

    client = app.test_client()
    response = client.post("/login", data={"email": ids["email"], "password": "bench password"})
    assert response.status_code == 302, "benchmark user could not sign in"
    base = f"/h/{SLUG}/imports/{ids['import']}"
    hx = {"HX-Request": "true"}

    def get(path, headers=None):
        response = client.get(path, headers=headers or {})
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
        return response

    deep = db.session.execute(text(
        "SELECT date, id FROM import_rows WHERE import_id = :i AND status = 'LINKED' "
        "ORDER BY date DESC, id DESC OFFSET :n LIMIT 1"), {"i": ids["import"], "n": int(total * 0.6 * 0.9)}).one()
    cursor = f"{deep.date.isoformat()}~{deep.id}"
    newest = db.session.scalar(text("SELECT max(id) FROM import_rows WHERE import_id = :i"), {"i": ids["import"]})
    figures = [
        ("first page, to do (full page: counts + 50 rows)", lambda: get(f"{base}/rows")),
        ("first page, linked, newest first (htmx results)", lambda: get(f"{base}/rows?status=LINKED", hx)),
        ("first page, all rows by amount (htmx results)", lambda: get(f"{base}/rows?status=ALL&sort=amount_desc", hx)),
        ("deep page, 90% into the linked rows (keyset)", lambda: get(f"{base}/rows?status=LINKED&after={cursor}", hx)),
        ("text search, common word 'coffee' (all rows)", lambda: get(f"{base}/rows?status=ALL&q=coffee", hx)),
        ("text search, rare 'b6d767d2' (all rows)", lambda: get(f"{base}/rows?status=ALL&q=b6d767d2", hx)),
        ("status counts (all tabs)", lambda: get(f"{base}/counts")),
        ("new-rows poll (100 rows arrived since the page was drawn)", lambda: get(f"{base}/new?since={newest - 100}", hx)),
    ]
    print(f"\n{'what':58} {'first ms':>9} {'median ms':>10}")
    for label, call in figures:
        first, median = timed(call)
        print(f"{label:58} {first:9.1f} {median:10.1f}", flush=True)

    # Bulk ignore of exactly 10,000 to-do rows: "all rows matching" a date range that holds them.
    low, high = db.session.execute(text(
        "SELECT min(date), max(date) FROM (SELECT date FROM import_rows WHERE import_id = :i "
        "AND status = 'PENDING' ORDER BY date LIMIT 10000) AS first_rows"), {"i": ids["import"]}).one()
    matching = db.session.scalar(text(
        "SELECT count(*) FROM import_rows WHERE import_id = :i AND status = 'PENDING' AND date BETWEEN :a AND :b"),
        {"i": ids["import"], "a": low, "b": high})
    start = time.perf_counter()
    response = client.post(f"{base}/bulk", data={"action": "ignore", "all_matching": "1", "status": "PENDING",
                                                 "from": low.isoformat(), "to": high.isoformat()}, headers=hx)
    elapsed = (time.perf_counter() - start) * 1000
    message = response.get_data(as_text=True).split('id="bulk-message">')[1].split("<")[0]
    print(f"{'bulk ignore, all matching a filter (HTTP, incl. re-render)':58} {elapsed:9.1f}   {message}")
    # The other path: a selection of 10,000 row ids (checkboxes / shift-click ranges), service only.
    selection = db.session.scalars(text(
        "SELECT id FROM import_rows WHERE import_id = :i AND status = 'PENDING' ORDER BY date DESC, id DESC "
        "LIMIT 10000"), {"i": ids["import"]}).all()
    user, host = _user(db, ids), _host(db, ids)
    start = time.perf_counter()
    result = bulk.bulk_apply(host, user, "ignore", row_ids=selection, import_id=ids["import"])
    elapsed = (time.perf_counter() - start) * 1000
    print(f"{'bulk ignore of 10,000 selected ids (service, one transaction)':58} {elapsed:9.1f}   {result.message}")
    print(f"(rows matching the bulk filter: {matching:,}; import size {total:,}; date {date.today()})")


def _user(db, ids):
    from hostadmin.auth.models import User
    return db.session.get(User, ids["user"])


def _host(db, ids):
    from hostadmin.ledger.models import Host
    return db.session.get(Host, ids["host"])


def cleanup(db, ids):
    """Remove everything the benchmark created (its rows, import, bank account, user and host)."""
    db.session.rollback()
    start = time.perf_counter()
    for statement in (
        "DELETE FROM import_rows WHERE host_id = :host",
        "DELETE FROM import_runs WHERE host_id = :host",
        "DELETE FROM audit_log WHERE host_id = :host",
        "DELETE FROM transactions_imports WHERE host_id = :host",
        "DELETE FROM bank_accounts WHERE host_id = :host",
        "DELETE FROM plaid_items WHERE host_id = :host",
        "DELETE FROM host_members WHERE host_id = :host",
        "DELETE FROM users WHERE id = :user",
        "DELETE FROM accounts WHERE host_id = :host",
        "DELETE FROM hosts WHERE id = :host",
    ):
        db.session.execute(text(statement), ids)
    db.session.commit()
    print(f"cleaned up in {time.perf_counter() - start:.1f} s")
