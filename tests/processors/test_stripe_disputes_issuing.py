"""Stripe disputes hold the disputed money until they close; Stripe Issuing card purchases are paid expenses."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow
from hostadmin.ledger.models import Expense, LedgerTransaction, Order
from hostadmin.ledger.service import processor_account_of
from hostadmin.processors.models import ProcessorPayment
from tests.processors.conftest import balance_of, events, fresh, work
from tests.processors.test_stripe_webhooks import rowers


def dispute(stripe_sender, charge="ch_d", amount=5000, status="needs_response", ref="dp_1", created=None):
    return {"id": ref, "object": "dispute", "charge": charge, "amount": amount, "currency": "usd",
            "status": status, "reason": "fraudulent",
            "created": stripe_sender.now() - 600 if created is None else created}


def paid_charge(stripe_host, stripe_sender, amount=5000):
    stripe_sender.send("charge.succeeded", stripe_sender.charge(ref="ch_d", amount=amount, fee=0))
    work()
    return balance_of(stripe_host, rowers(stripe_host))


def held(host):
    return balance_of(host, processor_account_of(fresh(host)))


def test_a_dispute_holds_the_disputed_amount_and_winning_it_releases_it(stripe_host, stripe_sender):
    assert paid_charge(stripe_host, stripe_sender) == 5000
    stripe_sender.send("charge.dispute.created", dispute(stripe_sender, amount=3000))
    work()
    assert balance_of(stripe_host, rowers(stripe_host)) == 2000 and held(stripe_host) == 3000
    assert events()[-1].error == "dispute opened: the disputed amount is held"
    hold = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.kind == "DISPUTE")).all()
    assert {row.cleared_at for row in hold} == {datetime.fromtimestamp(stripe_sender.now() - 600, timezone.utc)}

    stripe_sender.send("charge.dispute.closed", dispute(stripe_sender, amount=3000, status="won"))
    work()
    assert balance_of(stripe_host, rowers(stripe_host)) == 5000 and held(stripe_host) == 0
    assert events()[-1].error == "dispute won: the held amount is released to the collective"
    release = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.is_refund)).all()
    assert {row.cleared_at for row in release} == {datetime.fromtimestamp(stripe_sender.now(), timezone.utc)}
    assert db.session.scalar(select(Order.status)) == "PAID"


def test_a_lost_dispute_releases_the_hold_and_refunds_the_disputed_part(stripe_host, stripe_sender):
    paid_charge(stripe_host, stripe_sender)
    stripe_sender.send("charge.dispute.created", dispute(stripe_sender, amount=5000))
    stripe_sender.send("charge.dispute.closed", dispute(stripe_sender, amount=5000, status="lost"))
    work()
    assert balance_of(stripe_host, rowers(stripe_host)) == 0 and held(stripe_host) == 0
    assert events()[-1].error == "dispute lost: the disputed amount is refunded to the cardholder"
    assert db.session.scalar(select(Order.status)) == "REFUNDED"


def test_a_partly_lost_dispute_refunds_only_the_disputed_amount(stripe_host, stripe_sender):
    paid_charge(stripe_host, stripe_sender)
    stripe_sender.send("charge.dispute.created", dispute(stripe_sender, amount=1200))
    stripe_sender.send("charge.dispute.closed", dispute(stripe_sender, amount=1200, status="lost"))
    work()
    assert balance_of(stripe_host, rowers(stripe_host)) == 3800 and held(stripe_host) == 0
    assert db.session.scalar(select(Order.status)) == "PAID"


def test_a_dispute_closed_twice_acts_once(stripe_host, stripe_sender):
    paid_charge(stripe_host, stripe_sender)
    stripe_sender.send("charge.dispute.created", dispute(stripe_sender))
    stripe_sender.send("charge.dispute.closed", dispute(stripe_sender, status="lost"))
    stripe_sender.send("charge.dispute.closed", dispute(stripe_sender, status="lost"))
    stripe_sender.send("charge.dispute.created", dispute(stripe_sender))
    work()
    assert [e.error for e in events()][-2:] == ["dispute already closed", "dispute already recorded"]
    assert balance_of(stripe_host, rowers(stripe_host)) == 0 and held(stripe_host) == 0


def test_a_dispute_before_its_charge_and_a_close_before_its_dispute_wait_and_apply_in_order(
        stripe_host, stripe_sender):
    stripe_sender.send("charge.dispute.closed", dispute(stripe_sender, amount=2000, status="won"))
    stripe_sender.send("charge.dispute.created", dispute(stripe_sender, amount=2000))
    work()
    assert [e.status for e in events()] == ["WAITING", "WAITING"]
    paid_charge(stripe_host, stripe_sender)
    assert [e.status for e in events()] == ["APPLIED", "APPLIED", "APPLIED"]
    assert balance_of(stripe_host, rowers(stripe_host)) == 5000 and held(stripe_host) == 0


def test_an_inquiry_holds_nothing(stripe_host, stripe_sender):
    paid_charge(stripe_host, stripe_sender)
    stripe_sender.send("charge.dispute.created", dispute(stripe_sender, status="warning_needs_response"))
    stripe_sender.send("charge.dispute.closed", dispute(stripe_sender, status="warning_closed"))
    work()
    assert [e.status for e in events()][-2:] == ["IGNORED", "IGNORED"]
    assert balance_of(stripe_host, rowers(stripe_host)) == 5000 and held(stripe_host) == 0


def test_a_dispute_for_more_than_its_charge_is_refused(stripe_host, stripe_sender):
    paid_charge(stripe_host, stripe_sender, amount=1000)
    stripe_sender.send("charge.dispute.created", dispute(stripe_sender, amount=1001))
    work()
    assert events()[-1].status == "FAILED" and "for more than charge ch_d" in events()[-1].error
    assert held(stripe_host) == 0


def card_purchase(stripe_sender, ref="ipi_1", amount=-2599, collective="river-rowers", on_card=True, **fields):
    obj = {"id": ref, "object": "issuing.transaction", "type": "capture", "amount": amount, "currency": "usd",
           "created": stripe_sender.now() - 120, "merchant_data": {"name": "Rowing Supplies Ltd", "city": "Oslo"},
           "card": {"id": "ic_1", "object": "issuing.card", "metadata": {"collective": collective}}
           if on_card else "ic_1", "metadata": {} if on_card else {"collective": collective}}
    obj.update(fields)
    return obj


@pytest.mark.parametrize("on_card", [True, False])
def test_a_virtual_card_purchase_is_an_expense_paid_from_the_cards_collective(stripe_host, stripe_sender, on_card):
    collective = rowers(stripe_host)
    from hostadmin.funds import records
    from hostadmin.ledger import accounts, service
    donor = records.party(fresh(stripe_host), "CONTRIBUTOR", "Donor", field_name="contributor")
    order = accounts.create_order(fresh(stripe_host), contributor=donor, collective=collective, amount=10000)
    service.record_order_paid(order, cleared_at=datetime(2026, 11, 1, tzinfo=timezone.utc))
    db.session.commit()

    stripe_sender.send("issuing_transaction.created", card_purchase(stripe_sender, on_card=on_card))
    stripe_sender.send("issuing_transaction.created", card_purchase(stripe_sender, on_card=on_card),
                       event_id="evt_again_under_another_id")
    work()
    expense = db.session.scalar(select(Expense))
    assert (expense.status, expense.amount, expense.payee.name) == ("PAID", 2599, "Rowing Supplies Ltd")
    assert expense.description == "Card purchase: Rowing Supplies Ltd"
    assert balance_of(stripe_host, rowers(stripe_host)) == 10000 - 2599
    assert [e.error for e in events()] == [f"card purchase recorded as expense #{expense.id}, paid",
                                           "card purchase already recorded"]
    payment = db.session.scalar(select(ProcessorPayment).where(ProcessorPayment.ref == "ipi_1"))
    assert payment.cleared_at == datetime.fromtimestamp(stripe_sender.now() - 120, timezone.utc)
    assert payment.raw_timestamps == {"created": stripe_sender.now() - 120}


def test_a_card_purchase_for_an_unknown_collective_waits_in_triage_as_money_out(stripe_host, stripe_sender):
    stripe_sender.send("issuing_transaction.created", card_purchase(stripe_sender, collective="nobody"))
    work()
    row = db.session.scalar(select(ImportRow))
    assert row.amount == -2599 and "collective 'nobody' is unknown" in row.description
    assert db.session.scalar(select(Expense)) is None


@pytest.mark.parametrize("fields,status", [({"type": "refund", "amount": 2599}, "IGNORED"),
                                           ({"amount": 2599}, "FAILED"), ({"amount": "1"}, "FAILED"),
                                           ({"currency": "zzz"}, "FAILED")])
def test_card_refunds_are_recorded_only_and_malformed_purchases_refused(stripe_host, stripe_sender, fields, status):
    stripe_sender.send("issuing_transaction.created", card_purchase(stripe_sender, **fields))
    work()
    assert events()[-1].status == status and db.session.scalar(select(Expense)) is None
