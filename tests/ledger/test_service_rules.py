"""The ledger's rules, each stated at its edge: zero and one cent, fee rounding at a half, reversals."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from hostadmin.ledger import accounts, service as ledger
from hostadmin.ledger.models import Account, LedgerKind, LedgerTransaction, OrderKind
from tests.factories import make_collective, make_contributor, make_host, make_payee, make_user


def pair(host, amount, kind=LedgerKind.CONTRIBUTION):
    collective, donor = make_collective(host), make_contributor(host)
    return [ledger.Entry(collective, donor, amount, kind), ledger.Entry(donor, collective, -amount, kind)]


def ledger_rows(db):
    return db.session.scalars(select(LedgerTransaction).order_by(LedgerTransaction.id)).all()


def paid_order(host, amount=5000, clock=None, **kwargs):
    order = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                  amount=amount, **kwargs)
    rows = ledger.record_order_paid(order, cleared_at=clock.now - timedelta(days=2) if clock else None)
    return order, rows


@pytest.mark.parametrize("amount, fee_bps, fee", [
    (1010, 500, 51),        # 5 % of 10.10 = 50.5 cents: half rounds up (not to even: 50)
    (1030, 500, 52),        # 51.5 -> 52
    (1009, 500, 50),        # 50.45 -> 50
    (5000, 1, 1),           # exactly half a cent -> 1
    (4999, 1, 0),           # just under half -> 0
    (10001, 800, 800),
    (99_999_999, 800, 8_000_000),
    (100, 0, 0),
])
def test_host_fee_rounds_half_up_to_a_whole_minor_unit(amount, fee_bps, fee):
    assert ledger.host_fee_of(amount, fee_bps) == fee


def test_a_fee_that_falls_on_half_a_cent_is_charged_rounded_up_in_the_ledger(db, clock):
    host = make_host(host_fee_bps=500)
    order, rows = paid_order(host, amount=1010, clock=clock, kind=OrderKind.ADDED_FUNDS)

    fees = sorted((r.account_id, r.amount) for r in rows if r.kind == "HOST_FEE")
    host_account = ledger.host_account_of(host)
    assert fees == sorted([(host_account.id, 51), (order.to_account_id, -51)])
    assert ledger.balances(host)[order.to_account_id] == 1010 - 51


def test_a_one_cent_movement_is_recorded_and_a_zero_row_is_refused(db, clock):
    host = make_host()
    rows = ledger.record_group(host, pair(host, 1), currency="USD", cleared_at=clock.now)
    assert [(r.type, r.amount) for r in rows] == [("CREDIT", 1), ("DEBIT", -1)]
    assert {(r.description, r.created_by_id, r.order_id, r.expense_id, r.is_refund, r.reason) for r in rows} == \
        {("", None, None, None, False, None)}

    with pytest.raises(ledger.LedgerError, match="cannot be zero"):
        ledger.record_group(host, pair(host, 100) + pair(host, 0), currency="USD", cleared_at=clock.now)
    assert len(ledger_rows(db)) == 2


def test_an_empty_group_and_booleans_as_amounts_are_refused(db, clock):
    host = make_host()
    collective, donor = make_collective(host), make_contributor(host)
    with pytest.raises(ledger.LedgerError, match="at least two rows"):
        ledger.record_group(host, [], currency="USD", cleared_at=clock.now)
    with pytest.raises(ledger.LedgerError, match="integers"):
        ledger.record_group(host, [ledger.Entry(collective, donor, True, LedgerKind.CONTRIBUTION),
                                   ledger.Entry(donor, collective, -1, LedgerKind.CONTRIBUTION)],
                            currency="USD", cleared_at=clock.now)
    assert ledger_rows(db) == []


def test_only_the_host_currency_can_be_recorded(db, clock):
    host = make_host(currency="EUR")
    with pytest.raises(ledger.LedgerError, match="only EUR"):
        ledger.record_group(host, pair(host, 100), currency="USD", cleared_at=clock.now)
    rows = ledger.record_group(host, pair(host, 100), currency="EUR", cleared_at=clock.now)
    assert {(r.currency, r.host_currency, r.amount_in_host_currency) for r in rows} == \
        {("EUR", "EUR", 100), ("EUR", "EUR", -100)}


def test_a_group_where_one_side_is_another_hosts_account_is_refused(db, clock):
    host, other = make_host(), make_host()
    own, foreign = make_collective(host), make_contributor(other)
    for account, counterparty in ((own, foreign), (foreign, own)):
        with pytest.raises(ledger.LedgerError, match="belong to the host"):
            ledger.record_group(host, [ledger.Entry(account, counterparty, 100, LedgerKind.CONTRIBUTION),
                                       ledger.Entry(own, own, -100, LedgerKind.CONTRIBUTION)],
                                currency="USD", cleared_at=clock.now)
    assert ledger_rows(db) == []


def test_every_row_of_a_group_carries_the_events_details(db, clock):
    host = make_host(host_fee_bps=1000)
    user = make_user(host)
    order = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                  amount=2000, description="Gala tickets")
    cleared = clock.now - timedelta(days=4)

    rows = ledger.record_order_paid(order, cleared_at=cleared, created_by=user)

    assert len(rows) == 4 and len({r.group_id for r in rows}) == 1
    assert {(r.order_id, r.expense_id, r.created_by_id, r.description, r.cleared_at, r.created_at,
             r.is_refund, r.refund_of_id, r.reason, r.host_id) for r in rows} == \
        {(order.id, None, user.id, "Gala tickets", cleared, clock.now, False, None, None, host.id)}
    assert [(r.kind, r.type, r.amount) for r in rows] == [
        ("CONTRIBUTION", "CREDIT", 2000), ("CONTRIBUTION", "DEBIT", -2000),
        ("HOST_FEE", "CREDIT", 200), ("HOST_FEE", "DEBIT", -200)]
    assert [(r.account_id, r.counterparty_id) for r in rows] == [
        (order.to_account_id, order.from_account_id), (order.from_account_id, order.to_account_id),
        (ledger.host_account_of(host).id, order.to_account_id),
        (order.to_account_id, ledger.host_account_of(host).id)]


def test_paid_at_is_the_cleared_date_and_a_payment_without_one_is_refused(db, clock):
    host = make_host()
    dated, _ = paid_order(host, clock=clock)
    assert dated.paid_at == clock.now - timedelta(days=2)
    undated = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                    amount=5000)
    with pytest.raises(ledger.LedgerError):
        ledger.record_order_paid(undated, cleared_at=None)
    assert (undated.status, undated.paid_at) == ("PENDING", None)

    collective, payee = make_collective(host), make_payee(host)
    expense = accounts.create_expense(host, collective=collective, payee=payee, amount=300)
    other = accounts.create_expense(host, collective=collective, payee=payee, amount=200)
    ledger.record_expense_paid(expense, cleared_at=clock.now - timedelta(days=1))
    with pytest.raises(ledger.LedgerError):
        ledger.record_expense_paid(other, cleared_at=None)
    assert (expense.paid_at, other.status, other.paid_at) == (clock.now - timedelta(days=1), "APPROVED", None)


def test_an_expense_payment_records_who_paid_and_what(db, clock):
    host = make_host()
    user = make_user(host)
    collective, payee = make_collective(host), make_payee(host)
    expense = accounts.create_expense(host, collective=collective, payee=payee, amount=4200,
                                      description="Printer ink")

    rows = ledger.record_expense_paid(expense, cleared_at=clock.now, created_by=user)

    assert [(r.account_id, r.counterparty_id, r.amount, r.kind) for r in rows] == [
        (collective.id, payee.id, -4200, "EXPENSE"), (payee.id, collective.id, 4200, "EXPENSE")]
    assert {(r.expense_id, r.order_id, r.created_by_id, r.description) for r in rows} == \
        {(expense.id, None, user.id, "Printer ink")}


def test_a_reversal_negates_each_row_on_the_same_accounts(db, clock):
    host = make_host(host_fee_bps=800)
    user = make_user(host)
    order, originals = paid_order(host, amount=5000, clock=clock, description="Gift")

    refunds = ledger.reverse_group(host, originals[0].group_id, reason="  Wrong collective ", created_by=user)

    assert [(r.account_id, r.counterparty_id, r.kind, r.amount) for r in refunds] == \
        [(o.account_id, o.counterparty_id, o.kind, -o.amount) for o in originals]
    assert [r.refund_of_id for r in refunds] == [o.id for o in originals]
    assert [r.type for r in refunds] == ["DEBIT", "CREDIT", "DEBIT", "CREDIT"]
    assert {(r.reason, r.description, r.order_id, r.created_by_id, r.cleared_at, r.is_refund)
            for r in refunds} == {("Wrong collective", "Reversal: Gift", order.id, user.id,
                                   clock.now - timedelta(days=2), True)}  # dated like what it reverses
    assert all(balance == 0 for balance in ledger.balances(host).values())


def test_a_group_that_is_not_made_of_pairs_is_reversed_row_by_row(db, clock):
    host = make_host()
    collective, ada, grace = make_collective(host), make_contributor(host), make_contributor(host)
    kind = LedgerKind.CONTRIBUTION
    originals = ledger.record_group(host, [ledger.Entry(collective, ada, 100, kind),
                                           ledger.Entry(ada, collective, -60, kind),
                                           ledger.Entry(grace, collective, -40, kind)],
                                    currency="USD", cleared_at=clock.now)

    refunds = ledger.reverse_group(host, originals[0].group_id, reason="Split wrongly")

    assert [(r.account_id, r.counterparty_id, r.amount) for r in refunds] == [
        (collective.id, ada.id, -100), (ada.id, collective.id, 60), (grace.id, collective.id, 40)]


def test_a_reversal_of_an_expense_keeps_the_expense_and_its_cleared_date(db, clock):
    host = make_host()
    collective, payee = make_collective(host), make_payee(host)
    expense = accounts.create_expense(host, collective=collective, payee=payee, amount=900)
    originals = ledger.record_expense_paid(expense, cleared_at=clock.now - timedelta(days=5))
    cleared = clock.now - timedelta(days=1)

    refunds = ledger.reverse_group(host, originals[0].group_id, reason="Paid twice", cleared_at=cleared)

    assert {(r.expense_id, r.order_id, r.cleared_at, r.description) for r in refunds} == \
        {(expense.id, None, cleared, "Reversal:")}
    assert ledger.balances(host)[collective.id] == 0


def test_a_reversal_cannot_be_reversed(db, clock):
    host = make_host()
    _, originals = paid_order(host, clock=clock)
    refunds = ledger.reverse_group(host, originals[0].group_id, reason="Mistake")

    with pytest.raises(ledger.LedgerError, match="cannot itself be reversed"):
        ledger.reverse_group(host, refunds[0].group_id, reason="Undo the undo")
    assert len(ledger_rows(db)) == 4


def test_a_host_cannot_reverse_another_hosts_group(db, clock):
    host, other = make_host(), make_host()
    _, originals = paid_order(other, clock=clock)

    with pytest.raises(ledger.LedgerError, match="no ledger group"):
        ledger.reverse_group(host, originals[0].group_id, reason="Not mine")
    assert len(ledger_rows(db)) == 2


@pytest.mark.parametrize("reason", [None, "", " \t"])
def test_a_reversal_without_a_reason_is_refused(db, clock, reason):
    host = make_host()
    _, originals = paid_order(host, clock=clock)
    with pytest.raises(ledger.LedgerError, match="needs a reason"):
        ledger.reverse_group(host, originals[0].group_id, reason=reason)


def test_a_second_reversal_of_a_group_is_refused_even_of_one_row(db, clock):
    host = make_host(host_fee_bps=500)
    _, originals = paid_order(host, clock=clock)
    ledger.reverse_group(host, originals[0].group_id, reason="Mistake")

    with pytest.raises(ledger.LedgerError, match="already reversed"):
        ledger.reverse_group(host, originals[0].group_id, reason="Again")
    assert len(ledger_rows(db)) == 8


def test_balances_are_per_host_and_can_be_limited_to_some_accounts(db, clock):
    host, other = make_host(), make_host()
    order, _ = paid_order(host, amount=700, clock=clock)
    foreign, _ = paid_order(other, amount=900, clock=clock)

    everything = ledger.balances(host)
    assert everything == {order.to_account_id: 700, order.from_account_id: -700}
    assert ledger.balances(host, [order.to_account_id]) == {order.to_account_id: 700}
    assert ledger.balances(host, [foreign.to_account_id]) == {}
    assert isinstance(everything[order.to_account_id], int)


def test_a_fee_needs_the_hosts_own_account(db, clock):
    host = make_host(host_fee_bps=500)
    db.session.delete(db.session.scalar(select(Account).where(Account.host_id == host.id,
                                                              Account.kind == "HOST")))
    db.session.flush()
    order = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                  amount=1000)

    with pytest.raises(ledger.LedgerError, match="has no host account"):
        ledger.record_order_paid(order, cleared_at=clock.now)
    assert ledger_rows(db) == [] and order.status == "PENDING"


def test_nothing_is_unbalanced_after_contributions_fees_expenses_and_reversals(db, clock):
    host = make_host(host_fee_bps=750)
    _, rows = paid_order(host, amount=1333, clock=clock)
    ledger.reverse_group(host, rows[0].group_id, reason="Typo")
    collective, payee = make_collective(host), make_payee(host)
    ledger.record_expense_paid(accounts.create_expense(host, collective=collective, payee=payee, amount=5),
                               cleared_at=clock.now)

    assert ledger.unbalanced_groups() == []
