"""Added funds in the ledger: one group with the funds, host-fee and processor-fee pairs, on the host's accounts."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from hostadmin.extensions import db as database
from hostadmin.ledger import accounts, service as ledger
from hostadmin.ledger.models import Account, OrderKind
from tests.factories import make_collective, make_contributor, make_host

WHEN = datetime(2026, 11, 3, tzinfo=timezone.utc)


def added_funds(host, amount=10000, processor_fee=0, kind=OrderKind.ADDED_FUNDS):
    order = accounts.create_order(host, contributor=make_contributor(host), collective=make_collective(host),
                                  amount=amount, kind=kind, description="Cheque")
    order.data = {"processor_fee": processor_fee} if processor_fee else {}
    return order


def test_added_funds_pay_the_collective_and_take_both_fees_in_one_group(db):
    host = make_host(host_fee_bps=500)
    order = added_funds(host, processor_fee=120)
    rows = ledger.record_added_funds_paid(order, cleared_at=WHEN)
    collective, source = order.to_account, order.from_account
    assert sorted((r.account_id, r.kind, r.amount) for r in rows) == sorted([
        (collective.id, "ADDED_FUNDS", 10000), (source.id, "ADDED_FUNDS", -10000),
        (ledger.host_account_of(host).id, "HOST_FEE", 500), (collective.id, "HOST_FEE", -500),
        (ledger.processor_account_of(host).id, "PROCESSOR_FEE", 120), (collective.id, "PROCESSOR_FEE", -120)])
    assert {r.group_id for r in rows} == {rows[0].group_id} and order.status == "PAID" and order.paid_at == WHEN
    assert ledger.balances(host)[collective.id] == 10000 - 500 - 120


def test_without_fees_only_the_funds_pair_is_written(db):
    host = make_host(host_fee_bps=0)
    rows = ledger.record_added_funds_paid(added_funds(host), cleared_at=WHEN)
    assert sorted(r.amount for r in rows) == [-10000, 10000]


def test_a_contribution_is_not_paid_as_added_funds(db):
    host = make_host()
    order = added_funds(host, kind=OrderKind.CONTRIBUTION)
    with pytest.raises(ledger.LedgerError, match=f"order {order.id} is not added funds"):
        ledger.record_added_funds_paid(order, cleared_at=WHEN)


def test_fees_larger_than_the_amount_are_refused(db):
    host = make_host(host_fee_bps=5000)
    with pytest.raises(ledger.LedgerError, match="fees are larger than the amount"):
        ledger.record_added_funds_paid(added_funds(host, amount=1000, processor_fee=501), cleared_at=WHEN)
    ledger.record_added_funds_paid(added_funds(host, amount=1000, processor_fee=500), cleared_at=WHEN)


def test_each_host_has_one_payment_processor_account_made_on_first_use(db):
    river, lake = make_host(), make_host()
    for host in (river, river, lake):
        ledger.record_added_funds_paid(added_funds(host, processor_fee=100), cleared_at=WHEN)
    database.session.flush()
    processors = database.session.scalars(select(Account).where(Account.kind == "PROCESSOR")
                                          .order_by(Account.id)).all()
    assert [(a.host_id, a.name, a.slug) for a in processors] == [
        (river.id, "Payment processor", "payment-processor"), (lake.id, "Payment processor", "payment-processor")]
    assert ledger.processor_account_of(river).id == processors[0].id
    assert ledger.balances(river)[processors[0].id] == 200 and ledger.balances(lake)[processors[1].id] == 100


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reversing_many_groups_needs_a_reason(db, reason):
    host = make_host()
    rows = ledger.record_added_funds_paid(added_funds(host), cleared_at=WHEN)
    with pytest.raises(ledger.LedgerError, match="a reversal needs a reason"):
        ledger.reverse_groups(host, [rows[0].group_id], reason=reason)


def test_reversing_many_groups_with_a_reason_reverses_each_once(db):
    host = make_host()
    groups = [ledger.record_added_funds_paid(added_funds(host), cleared_at=WHEN)[0].group_id for _ in range(3)]
    done = ledger.reverse_groups(host, groups, reason="Cheques bounced")
    assert set(done) == set(groups)
    assert all(balance == 0 for balance in ledger.balances(host).values())
