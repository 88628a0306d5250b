"""Benchmark: ledger exports and the monthly report on 1,000,000 ledger rows (PostgreSQL). Prints, asserts nothing.

The CSV export (COPY through psycopg) beside `psql \\copy` of the same query, the XLSX export, each with its
rows/s and the peak RSS of the process that ran it (a fresh subprocess each), and the monthly report of a month
holding 100,000 rows. Runs in its own database (dropped and created: ledger rows cannot be deleted), which
REPORTS_BENCH_DATABASE_URL overrides; REPORTS_BENCH_ROWS sets the row count (10 months of equal size).
"""
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, datetime, timezone

from sqlalchemy import create_engine, text

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hostadmin_bench_reports"
SLUG = "bench-reports"

# Balanced pairs: each group credits a collective and debits a contributor (or the reverse for an expense),
# cleared over January..October 2025, recorded a few days later.
GENERATE = """
INSERT INTO ledger_transactions (host_id, group_id, kind, type, account_id, counterparty_id, amount, currency,
    amount_in_host_currency, host_currency, description, is_refund, created_at, cleared_at)
SELECT :host, 'g-' || g, CASE WHEN g % 5 = 0 THEN 'EXPENSE' ELSE 'ADDED_FUNDS' END,
       CASE WHEN side = 0 THEN 'CREDIT' ELSE 'DEBIT' END,
       CASE WHEN side = 0 THEN c ELSE p END, CASE WHEN side = 0 THEN p ELSE c END,
       amount * CASE WHEN side = 0 THEN 1 ELSE -1 END, 'USD',
       amount * CASE WHEN side = 0 THEN 1 ELSE -1 END, 'USD',
       'Bench movement ' || g || CASE WHEN g % 100 = 0 THEN ', with "quotes" and =formula' ELSE '' END,
       false, cleared + interval '3 days', cleared
FROM (SELECT g, :first_collective + g % 10 AS c, :contributor AS p,
             (CASE WHEN g % 5 = 0 THEN -1 ELSE 1 END) * (100 + (g * 7919) % 250000) AS amount,
             TIMESTAMPTZ '2025-01-01 00:00+00' + (((g - 1) / (:groups / 10)) * interval '1 month')
               + ((g % 27) * interval '1 day') + interval '12 hours' AS cleared
      FROM generate_series(1::bigint, :groups) AS g) AS groups, (VALUES (0), (1)) AS sides(side)
"""


def main():
    """Recreate the database, seed the rows, time the exports and the report."""
    from config import normalise_database_url
    url = normalise_database_url(os.environ.get("REPORTS_BENCH_DATABASE_URL", DEFAULT_URL))
    total = int(os.environ.get("REPORTS_BENCH_ROWS", "1000000"))
    recreate(url)
    app = _app(url)
    with app.app_context():
        from flask_migrate import upgrade
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        seed(app, total)
    out = f"/tmp/{SLUG}-{os.getpid()}"
    os.makedirs(out, exist_ok=True)
    print(f"\n{'what':48} {'seconds':>8} {'rows/s':>10} {'peak RSS MB':>12}")
    csv_run = measure(url, "csv", out)
    psql_run = psql_copy(url, out)
    xlsx_run = measure(url, "xlsx", out)
    for label, run in (("CSV export (COPY via psycopg, to a file)", csv_run),
                       ("psql \\copy of the same query", psql_run), ("XLSX export (constant_memory)", xlsx_run)):
        rss = "-" if run is psql_run else f"{run['rss_mb']:.0f}"  # a forked child's peak counts its parent's pages
        print(f"{label:48} {run['seconds']:8.2f} {run['rows'] / run['seconds']:10,.0f} {rss:>12}")
    print(f"CSV export / psql \\copy: {psql_run['seconds'] / csv_run['seconds']:.2f} (target >= 0.5)")
    report = measure(url, "monthly", out)
    print(f"monthly report, {report['rows']:,} rows in the month: {report['seconds']:.2f} s (target <= 2 s), "
          f"peak RSS {report['rss_mb']:.0f} MB")
    print(f"({total:,} ledger rows; date {date.today()})")


def recreate(url):
    base, name = url.rsplit("/", 1)
    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def _app(url):
    from config import TestConfig
    from hostadmin import create_app
    return create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": "redis://127.0.0.1:6379/15",
                                   "CLOCK": lambda: datetime(2026, 11, 20, tzinfo=timezone.utc)})


def seed(app, total):
    from hostadmin.extensions import db
    from hostadmin.ledger import accounts
    from hostadmin.ledger.models import AccountKind

    host = accounts.create_host(SLUG, "Reports Benchmark", "USD", timezone="America/New_York")
    collectives = [accounts.create_account(host, AccountKind.COLLECTIVE, f"Collective {n}") for n in range(10)]
    contributor = accounts.create_account(host, AccountKind.CONTRIBUTOR, "Donor")
    db.session.commit()
    assert [c.id for c in collectives] == list(range(collectives[0].id, collectives[0].id + 10))
    start = time.perf_counter()
    db.session.execute(text(GENERATE), {"host": host.id, "first_collective": collectives[0].id,
                                        "contributor": contributor.id, "groups": total // 2})
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE ledger_transactions"))
    print(f"inserted {total:,} ledger rows in {time.perf_counter() - start:.1f} s", flush=True)


def measure(url, what, out):
    """Run one export (or the report) in a fresh process; its time, rows and peak RSS."""
    result = subprocess.run([sys.executable, "-m", "benchmarks.reports", "--one", url, what, out],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def psql_copy(url, out):
    app = _app(url)
    with app.app_context():
        from hostadmin.extensions import db
        from hostadmin.reports import exports
        host = _host()
        query = exports._copy_select(host, _range())
        sql = str(query.compile(dialect=db.session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
        rows = exports.count_rows(host, _range())
    command = "\\copy (" + " ".join(sql.split()) + f") TO '{out}/psql.csv' WITH (FORMAT csv, HEADER true)"
    start = time.perf_counter()
    process = subprocess.Popen(["psql", url.replace("postgresql+psycopg", "postgresql"), "-q", "-c", command])
    if process.wait():
        raise SystemExit(f"psql failed ({process.returncode})")
    return {"seconds": time.perf_counter() - start, "rows": rows, "rss_mb": None}


def _host():
    from sqlalchemy import select

    from hostadmin.extensions import db
    from hostadmin.ledger.models import Host
    return db.session.scalar(select(Host).where(Host.slug == SLUG))


def _range():
    from hostadmin.reports import exports
    return exports.LedgerRange(date(2024, 12, 1), date(2025, 12, 31), "effective", exports.DEFAULT_COLUMNS)


def one(url, what, out):
    """In the measuring subprocess: run one thing, print JSON."""
    app = _app(url)
    with app.app_context():
        from hostadmin.reports import exports, monthly
        host = _host()
        start = time.perf_counter()
        if what == "monthly":
            rows = monthly.build(host, "2025-06").row_count
        else:
            rows, _ = exports.write(host, _range(), what, f"{out}/export.{what}")
        seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": rows, "rss_mb": rss}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        one(*sys.argv[2:5])
    else:
        main()
