"""PostgreSQL: a month cannot close under a ledger write in flight, nor a write slip into a closing."""
import threading
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hostadmin.extensions import db
from hostadmin.funds import periods
from hostadmin.funds.checks import ledger_problems
from hostadmin.ledger import accounts, service as ledger
from hostadmin.ledger.models import Host
from tests.factories import make_collective, make_contributor, make_host

OCT_9 = datetime(2026, 10, 9, tzinfo=timezone.utc)
INSERT_COPY = text(
    "INSERT INTO ledger_transactions (host_id, group_id, kind, type, account_id, counterparty_id, amount,"
    " currency, amount_in_host_currency, host_currency, description, is_refund, created_at, cleared_at)"
    " SELECT host_id, :group, kind, type, account_id, counterparty_id, amount, currency,"
    " amount_in_host_currency, host_currency, '', false, created_at, :cleared FROM ledger_transactions"
    " WHERE host_id = :host")


def wait_until_blocked(connection, thread, outcome):
    """Poll until `thread`'s session waits on a lock in this database (bounded, not a fixed sleep)."""
    for _ in range(1500):
        waiting = connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'")).scalar()
        connection.rollback()  # pg_stat_activity is read once per transaction: start a new one
        if waiting:
            return
        if not thread.is_alive():
            pytest.fail(f"the other session finished without waiting: {outcome}")
        time.sleep(0.02)
    pytest.fail("the other session never waited for the lock")


def run_in_thread(app, work):
    outcome = {}

    def target():
        with app.app_context():
            try:
                outcome["value"] = work()
            except Exception as error:  # handed to the test thread
                outcome["error"] = error
            finally:
                db.session.remove()
    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


@pytest.fixture
def paid_host(pg_app):
    host = make_host()
    order = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                  amount=700)
    ledger.record_order_paid(order, cleared_at=datetime(2026, 11, 2, tzinfo=timezone.utc))
    db.session.commit()
    return host


def test_closing_a_month_waits_for_a_ledger_write_in_flight(pg_app, paid_host):
    host_id = paid_host.id
    with db.engine.connect() as writer, db.engine.connect() as observer:
        writer.execute(INSERT_COPY, {"group": "in-flight", "cleared": OCT_9, "host": host_id})
        thread, outcome = run_in_thread(pg_app, lambda: periods.close_month(
            db.session.get(Host, host_id), None, "2026-10").id)
        wait_until_blocked(observer, thread, outcome)
        writer.commit()  # the October rows land before the closing, which then goes ahead
        thread.join(10)
    assert "error" not in outcome and outcome["value"]
    assert ledger_problems() == []


def test_a_ledger_write_waits_for_a_closing_in_flight_and_is_then_refused(pg_app, paid_host):
    host_id = paid_host.id
    with db.engine.connect() as closer, db.engine.connect() as observer:
        # The same statements close_month runs, held open.
        closer.execute(text("SELECT id FROM hosts WHERE id = :id FOR NO KEY UPDATE"), {"id": host_id})
        closer.execute(text("INSERT INTO closed_periods (host_id, month, closed_at) VALUES (:id, '2026-10', now())"),
                       {"id": host_id})
        thread, outcome = run_in_thread(pg_app, lambda: db.session.execute(
            INSERT_COPY, {"group": "late", "cleared": OCT_9, "host": host_id}))
        wait_until_blocked(observer, thread, outcome)
        closer.commit()
        thread.join(10)
    assert isinstance(outcome.get("error"), DBAPIError) and "closed month 2026-10" in str(outcome["error"])
    assert ledger_problems() == []
