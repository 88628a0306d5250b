"""Two sessions acting on one contribution or expense: the second sees the first's status, never a second group."""
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, text

from hostadmin.extensions import db
from hostadmin.funds import contributions, expenses
from hostadmin.funds.records import RecordError
from hostadmin.ledger.models import Host, LedgerTransaction
from tests.factories import make_collective, make_host, make_user
from tests.funds.test_close_races import run_in_thread

NOV_3 = datetime(2026, 11, 3, tzinfo=timezone.utc)


@pytest.fixture
def river(any_app):
    host = make_host(slug="river")
    rowers = make_collective(host, "River Rowers")
    admin = make_user(host)
    db.session.commit()
    return any_app, host, rowers, admin


def act_while_another_session_commits(app, table, object_id, status, action):
    """Start `action` in a thread while another connection holds `status` uncommitted, then commit it."""
    with db.engine.connect() as other:
        other.execute(text(f"UPDATE {table} SET status = :status WHERE id = :id"), {"status": status, "id": object_id})
        thread, outcome = run_in_thread(app, action)
        time.sleep(0.5)  # let the action reach the row (it must wait for the other session either way)
        other.commit()
        thread.join(20)
    assert not thread.is_alive()
    return outcome


def test_a_contribution_received_by_another_session_meanwhile_is_not_received_twice(river):
    app, host, rowers, admin = river
    order = contributions.create_expected(host, admin, collective=rowers, amount=100)
    host_id, order_id = host.id, order.id

    outcome = act_while_another_session_commits(app, "orders", order_id, "PAID", lambda: contributions.mark_received(
        db.session.get(Host, host_id), None, order_id, cleared_at=NOV_3).id)

    assert isinstance(outcome.get("error"), RecordError), outcome
    assert "is received, not expected" in str(outcome["error"])
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == 0


def test_an_expense_rejected_by_another_session_meanwhile_is_not_paid(river):
    app, host, rowers, admin = river
    expense = expenses.record_expense(host, admin, collective=rowers, payee_name="Cafe", amount=500,
                                      description="Coffee")
    expenses.approve(host, admin, expense.id)
    host_id, expense_id = host.id, expense.id

    outcome = act_while_another_session_commits(app, "expenses", expense_id, "REJECTED", lambda: expenses.mark_paid(
        db.session.get(Host, host_id), None, expense_id, cleared_at=NOV_3).id)

    assert "is rejected" in str(outcome.get("error")), outcome
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == 0
