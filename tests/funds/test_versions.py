"""Contributions carry a version: edits change every field, and a save based on a stale version is refused."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from hostadmin.audit.models import AuditEntry
from hostadmin.extensions import db
from hostadmin.funds import service, versions
from hostadmin.funds.service import Stale
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import LedgerTransaction, Order
from tests.factories import make_collective, make_host, make_user

NOV_3 = datetime(2026, 11, 3, tzinfo=timezone.utc)


@pytest.fixture
def world(any_app):
    host = make_host(slug="river", host_fee_bps=800)
    user = make_user(host)
    rowers = make_collective(host, "River Rowers")
    db.session.commit()
    order = service.add_funds(host, user, collective=rowers, amount=10000, cleared_at=NOV_3,
                              description="Cheque", contributor_name="Ann Lee")
    return host, user, rowers, order


def test_edit_changes_contributor_host_fee_and_processor_fee_and_audits_each(world):
    host, user, rowers, order = world
    corrected = service.edit_funds(host, user, order.id, reason="Wrong source and fees", contributor_name="Bob Roe",
                                   host_fee_bps=500, processor_fee=250, expected_version=order.version)
    assert (corrected.from_account.name, corrected.host_fee_bps, corrected.data["processor_fee"]) == (
        "Bob Roe", 500, 250)
    assert ledger.balances(host, [rowers.id])[rowers.id] == 10000 - 500 - 250
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "funds.edit"))
    assert entry.before == {"contributor": "Ann Lee", "host_fee_bps": 800, "processor_fee": 0}
    assert entry.after == {"contributor": "Bob Roe", "host_fee_bps": 500, "processor_fee": 250}


def test_every_change_to_a_contribution_moves_its_version(world):
    host, user, rowers, order = world
    other = service.add_funds(host, user, collective=rowers, amount=500, cleared_at=NOV_3, description="Cash")
    seen = {order.id: order.version, other.id: other.version}
    service.edit_funds(host, user, order.id, reason="Typo", amount=9000)
    service.revert_funds(host, user, [other.id], reason="Bounced")
    db.session.expire_all()
    assert db.session.get(Order, order.id).version > seen[order.id]
    assert db.session.get(Order, other.id).version == seen[other.id] + 1


def test_an_edit_based_on_a_stale_version_is_refused_and_writes_nothing(world):
    host, user, rowers, order = world
    seen = order.version
    service.edit_funds(host, user, order.id, reason="First admin", amount=9000, expected_version=seen)
    written = db.session.scalar(select(func.count()).select_from(LedgerTransaction))

    with pytest.raises(Stale, match="changed by someone else meanwhile"):
        service.edit_funds(host, user, order.id, reason="Second admin", amount=8000, expected_version=seen)
    with pytest.raises(Stale, match="changed by someone else meanwhile"):
        service.revert_funds(host, user, [order.id], reason="Third admin", versions={order.id: seen})
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == written
    assert not db.session.scalar(select(func.count()).where(Order.amount == 8000))


# --------------------------------------------------------------------------- expenses

def test_an_expense_action_based_on_a_stale_page_is_refused_and_writes_nothing(world):
    """Al opens a pending expense to reject it; Bea approves it meanwhile: Al's reject is refused, not applied
    to an expense that is no longer what he saw."""
    from hostadmin.funds import expenses
    from hostadmin.ledger.models import Expense

    host, user, rowers, _ = world
    expense = expenses.record_expense(host, user, collective=rowers, payee_name="Boat shop", amount=2500,
                                      description="Oars")
    seen = expense.version
    expenses.approve(host, user, expense.id, seen)
    assert expense.version == seen + 1
    written = db.session.scalar(select(func.count()).select_from(LedgerTransaction))
    with pytest.raises(versions.StaleVersion, match=f"expense #{expense.id} was changed by someone else meanwhile"):
        expenses.reject(host, user, expense.id, reason="Too dear", seen_version=seen)
    with pytest.raises(versions.StaleVersion):
        expenses.mark_paid(host, user, expense.id, cleared_at=NOV_3, seen_version=seen)
    db.session.expire_all()
    current = db.session.get(Expense, expense.id)
    assert (current.status, current.reject_reason, current.paid_at) == ("APPROVED", None, None)
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == written
    expenses.mark_paid(host, user, expense.id, cleared_at=NOV_3, seen_version=current.version)
    assert db.session.get(Expense, expense.id).status == "PAID"
