"""Benchmark: ledger lists at 1,000,000 ledger rows (PostgreSQL). Prints figures, asserts nothing.

Server time through the WSGI app (routing, queries, template rendering) of the host's ledger and a
collective's: first page, a page deep in the list (keyset cursor), and the filters. Ledger rows cannot
be deleted (the trigger refuses it), so the benchmark rebuilds its own database, `hostadmin_bench_ledger`,
from the migrations on every run and drops it at the end. LEDGER_BENCH_DATABASE_URL / LEDGER_BENCH_ROWS
override the database and the row count; LEDGER_BENCH_REDIS_URL the Redis (default db 12).
"""
import os
import statistics
import time
from datetime import date

from sqlalchemy import create_engine, text

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hostadmin_bench_ledger"
SLUG = "bench-ledger"
COLLECTIVES, CONTRIBUTORS = 50, 2000
PASSWORD = "bench password"

ACCOUNTS = """
INSERT INTO accounts (host_id, kind, slug, name, currency, created_at)
SELECT :host, :kind, :prefix || n, :name || ' ' || n, 'USD', now() FROM generate_series(1, :count) AS n
"""

# `groups` two-row groups over three years, newest last like a real ledger; each group's rows share
# created_at and cleared_at (cleared up to three days before it was recorded).
GENERATE_ROWS = """
INSERT INTO ledger_transactions (host_id, group_id, kind, type, account_id, counterparty_id, amount, currency,
                                 amount_in_host_currency, host_currency, description, is_refund,
                                 created_at, cleared_at)
SELECT :host, g.group_id, g.kind, CASE WHEN s.side = 1 THEN 'CREDIT' ELSE 'DEBIT' END,
       CASE WHEN s.side = 1 THEN g.credit ELSE g.debit END, CASE WHEN s.side = 1 THEN g.debit ELSE g.credit END,
       CASE WHEN s.side = 1 THEN g.amount ELSE -g.amount END, 'USD',
       CASE WHEN s.side = 1 THEN g.amount ELSE -g.amount END, 'USD', g.description, false,
       g.created_at, date_trunc('day', g.created_at) - make_interval(days => (g.n % 4)::int)
FROM (
    SELECT n, lpad(to_hex(n), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(n), 12, '0') AS group_id,
           (ARRAY['ADDED_FUNDS', 'CONTRIBUTION', 'CONTRIBUTION', 'HOST_FEE', 'EXPENSE', 'ADDED_FUNDS',
                  'PROCESSOR_FEE', 'CONTRIBUTION'])[1 + n % 8] AS kind,
           CASE WHEN n % 8 = 4 THEN :giver0 + (n * 7) % :givers ELSE :collective0 + n % :collectives END AS credit,
           CASE WHEN n % 8 = 4 THEN :collective0 + n % :collectives ELSE :giver0 + (n * 7) % :givers END AS debit,
           100 + (n * 7919) % 250000 AS amount,
           (ARRAY['Cheque from the fair', 'Monthly donation', 'Card payment', 'Grant instalment',
                  'Printing costs', 'Bank transfer', 'Cash at the concert', 'Hosting invoice'])[1 + n % 8]
               || ' ' || md5(n::text) AS description,
           timestamptz '2023-12-01 00:00+00' + make_interval(secs => n::double precision * 94608000 / :groups)
               AS created_at
    FROM generate_series(1::bigint, :groups) AS n
) AS g CROSS JOIN (VALUES (1), (2)) AS s(side)
"""

# One group in 256 was corrected: a reversal group negating it, linked row by row.
GENERATE_REVERSALS = """
INSERT INTO ledger_transactions (host_id, group_id, kind, type, account_id, counterparty_id, amount, currency,
                                 amount_in_host_currency, host_currency, description, is_refund, refund_of_id,
                                 reason, correction, created_at, cleared_at)
SELECT host_id, 'ffffffff' || substr(group_id, 9), kind, CASE WHEN type = 'CREDIT' THEN 'DEBIT' ELSE 'CREDIT' END,
       account_id, counterparty_id, -amount, currency, -amount_in_host_currency, host_currency,
       'Reversal: ' || description, true, id, 'Bench correction', 'EDIT', created_at + interval '1 day', cleared_at
FROM ledger_transactions WHERE host_id = :host AND right(group_id, 2) = '00'
"""


def timed(call, repeat=5):
    """(first, median of the rest) in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times[0], statistics.median(times[1:] or times)


def recreate_database(url):
    """Drop and create the benchmark's own database (its ledger rows cannot be deleted)."""
    base, name = url.rsplit("/", 1)
    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def drop_database(url):
    base, name = url.rsplit("/", 1)
    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def main():
    """Seed a million ledger rows, time the pages, drop the database."""
    from flask_migrate import upgrade

    from config import TestConfig, normalise_database_url
    from hostadmin import create_app
    from hostadmin.extensions import db

    url = normalise_database_url(os.environ.get("LEDGER_BENCH_DATABASE_URL", DEFAULT_URL))
    total = int(os.environ.get("LEDGER_BENCH_ROWS", "1000000"))
    keep = os.environ.get("LEDGER_BENCH_KEEP") == "1"  # keep the seeded database for the next run (EXPLAIN)
    reuse = keep and seeded(url)
    if not reuse:
        recreate_database(url)
    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                                  "REDIS_URL": os.environ.get("LEDGER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")})
    try:
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
            ids = existing(db) if reuse else seed(db, total)
            report(app, db, ids)
            db.session.remove()
            db.engine.dispose()
    finally:
        if not keep:
            drop_database(url)


def seeded(url):
    """True when `url` holds a finished run's data (LEDGER_BENCH_KEEP=1)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return bool(connection.execute(text("SELECT 1 FROM hosts WHERE slug = :s"), {"s": SLUG}).first())
    except Exception:
        return False
    finally:
        engine.dispose()


def existing(db):
    host = db.session.execute(text("SELECT id FROM hosts WHERE slug = :s"), {"s": SLUG}).scalar()
    return {"host": host, "email": f"{SLUG}@example.org",
            "collective": db.session.scalar(text("SELECT min(id) FROM accounts WHERE host_id = :h AND kind = "
                                                 "'COLLECTIVE'"), {"h": host}),
            "rows": db.session.scalar(text("SELECT count(*) FROM ledger_transactions"))}


def seed(db, total):
    """The benchmark host, its admin, collectives and contributors, then `total` ledger rows."""
    from hostadmin.auth.models import Role
    from hostadmin.auth.service import create_user
    from hostadmin.ledger import accounts

    host = accounts.create_host(SLUG, "Ledger Benchmark", "USD")
    user = create_user(f"{SLUG}@example.org", PASSWORD, SLUG, Role.ADMIN)
    db.session.commit()
    first = {}
    for kind, prefix, name, count in (("COLLECTIVE", "collective-", "Collective", COLLECTIVES),
                                      ("CONTRIBUTOR", "giver-", "Giver", CONTRIBUTORS)):
        db.session.execute(text(ACCOUNTS), {"host": host.id, "kind": kind, "prefix": prefix, "name": name,
                                            "count": count})
        first[kind] = db.session.scalar(text("SELECT min(id) FROM accounts WHERE host_id = :h AND kind = :k"),
                                        {"h": host.id, "k": kind})
    groups = int(total / (2 * (1 + 1 / 256)))
    start = time.perf_counter()
    # Seeding only: the insert trigger's closed-month check per row would triple the load time.
    db.session.execute(text("ALTER TABLE ledger_transactions DISABLE TRIGGER ledger_transactions_cleared"))
    db.session.execute(text(GENERATE_ROWS), {
        "host": host.id, "groups": groups, "collective0": first["COLLECTIVE"], "collectives": COLLECTIVES,
        "giver0": first["CONTRIBUTOR"], "givers": CONTRIBUTORS})
    db.session.execute(text(GENERATE_REVERSALS), {"host": host.id})
    db.session.execute(text("ALTER TABLE ledger_transactions ENABLE TRIGGER ledger_transactions_cleared"))
    db.session.commit()
    rows = db.session.scalar(text("SELECT count(*) FROM ledger_transactions"))
    print(f"inserted {rows:,} ledger rows in {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE ledger_transactions"))
    print(f"VACUUM ANALYZE in {time.perf_counter() - start:.1f} s", flush=True)
    return {"host": host.id, "email": user.email, "collective": first["COLLECTIVE"], "rows": rows}


def report(app, db, ids):
    """Time each page through the test client and print the figures."""
    client = app.test_client()
    response = client.post("/login", data={"email": ids["email"], "password": PASSWORD})
    assert response.status_code == 302, "benchmark user could not sign in"
    base = f"/h/{SLUG}/ledger/"
    collective = f"/h/{SLUG}/collectives/collective-1"
    hx = {"HX-Request": "true"}

    def get(path, headers=None):
        response = client.get(path, headers=headers or {})
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
        return response

    def cursor_at(where, depth):
        row = db.session.execute(text(
            f"SELECT coalesce(cleared_at, created_at) AS effective, id FROM ledger_transactions WHERE {where} "
            "ORDER BY coalesce(cleared_at, created_at) DESC, id DESC OFFSET :n LIMIT 1"),
            {"h": ids["host"], "a": ids["collective"], "n": depth}).one()
        return f"{row.effective.isoformat()}~{row.id}".replace("+", "%2B")

    own_rows = db.session.scalar(text("SELECT count(*) FROM ledger_transactions WHERE account_id = :a"),
                                 {"a": ids["collective"]})
    deep = cursor_at("host_id = :h", int(ids["rows"] * 0.9))
    deep_own = cursor_at("account_id = :a", int(own_rows * 0.9))
    rare = db.session.scalar(text("SELECT md5('123457')"))[:10]
    group = db.session.scalar(text("SELECT group_id FROM ledger_transactions WHERE is_refund LIMIT 1"))
    figures = [
        ("host ledger, first page (full page)", lambda: get(base)),
        ("host ledger, first page (htmx results)", lambda: get(base, hx)),
        ("host ledger, deep page (90% in, keyset, Show more)", lambda: get(f"{base}?after={deep}", hx)),
        ("collective page, full (balances + first page)", lambda: get(collective)),
        ("collective ledger, first page (htmx results)",
         lambda: get(collective, {**hx, "HX-Target": "ledger-results"})),
        ("collective ledger, deep page (90% in, keyset)",
         lambda: get(f"{collective}?after={deep_own}", {**hx, "HX-Target": "ledger-more"})),
        ("filter: kind expense", lambda: get(f"{base}?kind=EXPENSE", hx)),
        ("filter: collective", lambda: get(f"{base}?collective={ids['collective']}", hx)),
        ("filter: effective dates, one month a year ago", lambda: get(f"{base}?from=2025-10-01&to=2025-10-31", hx)),
        ("filter: recorded dates, one month two years ago",
         lambda: get(f"{base}?recorded_from=2024-10-01&recorded_to=2024-10-31", hx)),
        ("filter: amount 1,000.00 to 1,010.00", lambda: get(f"{base}?min=1000&max=1010", hx)),
        ("filter: text, common word 'donation'", lambda: get(f"{base}?q=donation", hx)),
        ("filter: text, rare word (1 group)", lambda: get(f"{base}?q={rare}", hx)),
        ("filter: hide corrections", lambda: get(f"{base}?hide_corrections=1", hx)),
        ("group expanded (htmx fragment)", lambda: get(f"/h/{SLUG}/ledger/groups/{group}", hx)),
    ]
    print(f"\n{'what':52} {'first ms':>9} {'median ms':>10}")
    for label, call in figures:
        first, median = timed(call)
        print(f"{label:52} {first:9.1f} {median:10.1f}", flush=True)
    # The database's share: the page's queries alone (keyset page, reversal links, names, group sizes).
    from hostadmin.ledger import queries
    from hostadmin.ledger.filters import LedgerFilters
    from hostadmin.ledger.models import Account, Host
    host, account = db.session.get(Host, ids["host"]), db.session.get(Account, ids["collective"])
    plain = LedgerFilters(currency="USD")
    for label, call in [
        ("queries only: host ledger, first page", lambda: queries.page_of_rows(host, plain)),
        ("queries only: host ledger, deep page",
         lambda: queries.page_of_rows(host, plain, after=deep.replace("%2B", "+"))),
        ("queries only: collective, first page", lambda: queries.page_of_rows(host, plain, account=account)),
        ("queries only: collective, deep page",
         lambda: queries.page_of_rows(host, plain, account=account, after=deep_own.replace("%2B", "+"))),
    ]:
        first, median = timed(call)
        print(f"{label:52} {first:9.1f} {median:10.1f}", flush=True)
    print(f"(ledger rows {ids['rows']:,}; collective-1 has {own_rows:,}; date {date.today()}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
