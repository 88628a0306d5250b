"""The ledger: balanced groups, cleared dates, reversals, immutability."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from hostadmin.ledger import accounts, service as ledger
from hostadmin.ledger.guards import LedgerImmutableError
from hostadmin.ledger.models import LedgerTransaction, OrderKind, OrderStatus
from hostadmin.money import MAX_MINOR_UNITS
from tests.factories import make_collective, make_contributor, make_host, make_payee


def rows_of(db, group_id):
    return db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.group_id == group_id)
                              .order_by(LedgerTransaction.id)).all()


def test_paid_contribution_credits_collective_and_debits_contributor(db, clock):
    host = make_host()
    collective, donor = make_collective(host), make_contributor(host)
    order = accounts.create_order(host, contributor=donor, collective=collective, amount=12345)
    cleared = clock.now - timedelta(days=3)

    rows = ledger.record_order_paid(order, cleared_at=cleared)

    assert [(r.type, r.account_id, r.amount) for r in rows] == [
        ("CREDIT", collective.id, 12345), ("DEBIT", donor.id, -12345)]
    assert {r.group_id for r in rows} == {rows[0].group_id}
    assert all(r.cleared_at == cleared and r.created_at == clock.now for r in rows)
    assert order.status == OrderStatus.PAID.value
    assert ledger.balances(host)[collective.id] == 12345


def test_host_fee_is_a_second_pair_in_the_same_group(db, clock):
    host = make_host(host_fee_bps=800)
    collective, donor = make_collective(host), make_contributor(host)
    order = accounts.create_order(host, contributor=donor, collective=collective, amount=10001,
                                  kind=OrderKind.ADDED_FUNDS)

    rows = ledger.record_order_paid(order, cleared_at=clock.now)

    assert len(rows) == 4 and sum(r.amount for r in rows) == 0
    fee_rows = [r for r in rows if r.kind == "HOST_FEE"]
    assert sorted(r.amount for r in fee_rows) == [-800, 800]  # 8% of 100.01, rounded half up
    balances = ledger.balances(host)
    assert balances[collective.id] == 10001 - 800
    assert balances[ledger.host_account_of(host).id] == 800


def test_expense_payment_debits_collective(db, clock):
    host = make_host()
    collective, payee = make_collective(host), make_payee(host)
    expense = accounts.create_expense(host, collective=collective, payee=payee, amount=4200)

    rows = ledger.record_expense_paid(expense, cleared_at=clock.now)

    assert ledger.balances(host)[collective.id] == -4200
    assert expense.status == "PAID" and {r.expense_id for r in rows} == {expense.id}
    with pytest.raises(ledger.LedgerError, match="not APPROVED"):
        ledger.record_expense_paid(expense, cleared_at=clock.now)


def test_order_can_be_paid_only_once(db, clock):
    host = make_host()
    order = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                  amount=100)
    ledger.record_order_paid(order, cleared_at=clock.now)
    with pytest.raises(ledger.LedgerError, match="not PENDING"):
        ledger.record_order_paid(order, cleared_at=clock.now)


def test_a_refused_payment_leaves_the_order_and_the_expense_as_they_were(db, clock):
    host = make_host()
    collective = make_collective(host)
    order = accounts.create_order(host, contributor=make_contributor(host), collective=collective, amount=100,
                                  currency="EUR")
    expense = accounts.create_expense(host, collective=collective, payee=make_payee(host), amount=100,
                                      currency="EUR")
    with pytest.raises(ledger.LedgerError, match="only USD"):
        ledger.record_order_paid(order, cleared_at=clock.now)
    with pytest.raises(ledger.LedgerError, match="only USD"):
        ledger.record_expense_paid(expense, cleared_at=clock.now)
    db.session.commit()
    db.session.expire_all()
    assert (order.status, order.paid_at, expense.status, expense.paid_at) == ("PENDING", None, "APPROVED", None)


def test_unbalanced_or_fractional_groups_are_refused(db, clock):
    host = make_host()
    collective, donor = make_collective(host), make_contributor(host)
    with pytest.raises(ledger.LedgerError, match="sum to zero"):
        ledger.record_group(host, [ledger.Entry(collective, donor, 100, ledger.LedgerKind.CONTRIBUTION),
                                   ledger.Entry(donor, collective, -99, ledger.LedgerKind.CONTRIBUTION)],
                            currency="USD", cleared_at=clock.now)
    with pytest.raises(ledger.LedgerError, match="integers"):
        ledger.record_group(host, [ledger.Entry(collective, donor, 1.5, ledger.LedgerKind.CONTRIBUTION),
                                   ledger.Entry(donor, collective, -1.5, ledger.LedgerKind.CONTRIBUTION)],
                            currency="USD", cleared_at=clock.now)
    assert db.session.scalar(select(LedgerTransaction.id)) is None


def test_amounts_beyond_the_bound_are_refused_by_the_ledger_and_by_orders(db, clock):
    host = make_host()
    collective, donor = make_collective(host), make_contributor(host)
    too_large = MAX_MINOR_UNITS + 1
    with pytest.raises(ledger.LedgerError, match="more than the largest amount the ledger records"):
        ledger.record_group(host, [ledger.Entry(collective, donor, too_large, ledger.LedgerKind.CONTRIBUTION),
                                   ledger.Entry(donor, collective, -too_large, ledger.LedgerKind.CONTRIBUTION)],
                            currency="USD", cleared_at=clock.now)
    with pytest.raises(accounts.ValidationError, match="at most"):
        accounts.create_order(host, contributor=donor, collective=collective, amount=2**63 - 1)
    with pytest.raises(accounts.ValidationError, match="at most"):
        accounts.create_expense(host, collective=collective, payee=make_payee(host), amount=too_large)
    order = accounts.create_order(host, contributor=donor, collective=collective, amount=MAX_MINOR_UNITS)
    ledger.record_order_paid(order, cleared_at=clock.now)
    assert ledger.balances(host)[collective.id] == MAX_MINOR_UNITS


def test_accounts_of_another_host_cannot_enter_a_group(db, clock):
    host, other = make_host(), make_host()
    with pytest.raises(ledger.LedgerError, match="belong to the host"):
        ledger.record_group(host, [
            ledger.Entry(make_collective(host), make_contributor(other), 100, ledger.LedgerKind.CONTRIBUTION),
            ledger.Entry(make_contributor(other), make_collective(host), -100, ledger.LedgerKind.CONTRIBUTION)],
            currency="USD", cleared_at=clock.now)


def test_reversal_links_each_refund_row_to_its_original(db, clock):
    host = make_host(host_fee_bps=500)
    collective, donor = make_collective(host), make_contributor(host)
    order = accounts.create_order(host, contributor=donor, collective=collective, amount=5000)
    originals = ledger.record_order_paid(order, cleared_at=clock.now - timedelta(days=10))

    refunds = ledger.reverse_group(host, originals[0].group_id, reason="Wrong collective",
                                   cleared_at=clock.now)

    assert {r.refund_of_id for r in refunds} == {r.id for r in originals}
    assert all(r.is_refund and r.reason == "Wrong collective" for r in refunds)
    assert refunds[0].group_id != originals[0].group_id
    assert ledger.balances(host)[collective.id] == 0
    with pytest.raises(ledger.LedgerError, match="already reversed"):
        ledger.reverse_group(host, originals[0].group_id, reason="again")
    with pytest.raises(ledger.LedgerError, match="needs a reason"):
        ledger.reverse_group(host, originals[0].group_id, reason="  ")


def test_orm_refuses_to_update_or_delete_ledger_rows(db, clock):
    host = make_host()
    order = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                  amount=700)
    row = ledger.record_order_paid(order, cleared_at=clock.now)[0]
    db.session.commit()

    row.amount = 1
    with pytest.raises(LedgerImmutableError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(LedgerTransaction, row.id))
    with pytest.raises(LedgerImmutableError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(LedgerImmutableError):
        db.session.execute(update(LedgerTransaction).values(amount=0))
    db.session.rollback()
    assert db.session.get(LedgerTransaction, row.id).amount == 700


@pytest.mark.postgres
def test_postgres_trigger_refuses_raw_update_and_delete(pg_app):
    from hostadmin.extensions import db
    host = make_host()
    order = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                  amount=900)
    ledger.record_order_paid(order, cleared_at=pg_app.clock.now)
    db.session.commit()

    for statement in ("UPDATE ledger_transactions SET amount = 0", "DELETE FROM ledger_transactions"):
        with db.engine.connect() as connection:
            with pytest.raises(DBAPIError, match="immutable"):
                connection.execute(text(statement))
    assert db.session.scalar(text("SELECT sum(abs(amount)) FROM ledger_transactions")) == 1800
