"""paypal.translate and paypal.money_of: PayPal's resources as domain events."""
from datetime import datetime, timezone

import pytest

from hostadmin.processors import paypal
from hostadmin.processors.events import ContributionPaid, ExpensePaid, Recorded, Refunded
from hostadmin.processors.verification import InvalidBody

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("amount,expected", [({"currency_code": "USD", "value": "10.00"}, (1000, "USD")),
                                             ({"currency_code": "JPY", "value": "500"}, (500, "JPY")),
                                             ({"currency_code": "KWD", "value": "1.234"}, (1234, "KWD"))])
def test_paypal_amounts_become_minor_units(amount, expected):
    assert paypal.money_of(amount) == expected


@pytest.mark.parametrize("amount", [None, {"currency_code": "USD", "value": "1e3"}, {"currency_code": "USD"},
                                    {"currency_code": "XXX1", "value": "1"}, {"currency_code": "USD", "value": 10},
                                    {"currency_code": "USD", "value": "-1.00"},
                                    {"currency_code": "JPY", "value": "1.5"},
                                    {"currency_code": "USD", "value": "١٠"}])
def test_what_is_not_a_paypal_amount_is_refused(amount):
    with pytest.raises(InvalidBody):
        paypal.money_of(amount)


def event(kind, resource):
    return {"id": "WH-1", "event_type": kind, "resource": resource}


def test_a_capture_names_its_collective_in_custom_id_and_keeps_its_fee():
    [paid] = paypal.translate(event("PAYMENT.CAPTURE.COMPLETED", {
        "id": "CAP", "amount": {"currency_code": "USD", "value": "5.00"}, "custom_id": "river-rowers",
        "create_time": "2026-11-19T10:00:00Z",
        "seller_receivable_breakdown": {"paypal_fee": {"currency_code": "USD", "value": "0.50"}}}), "create_time", NOW)
    assert isinstance(paid, ContributionPaid)
    assert (paid.ref, paid.collective_slug, paid.amount, paid.fee, paid.cleared_field) == (
        "CAP", "river-rowers", 500, 50, "create_time")
    assert paid.cleared_at == datetime(2026, 11, 19, 10, tzinfo=timezone.utc)


def test_a_refund_names_its_capture_through_the_up_link():
    [refund] = paypal.translate(event("PAYMENT.CAPTURE.REFUNDED", {
        "id": "R1", "amount": {"currency_code": "USD", "value": "2.00"},
        "links": [{"rel": "self", "href": "https://api.paypal.com/v2/payments/refunds/R1"},
                  {"rel": "up", "href": "https://api.paypal.com/v2/payments/captures/CAP"}]}), "create_time", NOW)
    assert isinstance(refund, Refunded) and (refund.ref, refund.amount, refund.refund_id) == ("CAP", 200, "R1")
    with pytest.raises(InvalidBody, match="names no capture"):
        paypal.translate(event("PAYMENT.CAPTURE.REFUNDED", {"id": "R1", "amount": {"currency_code": "USD",
                                                                                  "value": "2.00"}}), "x", NOW)


@pytest.mark.parametrize("sender_item_id,expense_id", [("expense-12", 12), ("12", 12), ("expense-x", None),
                                                       ("", None), ("1" * 19, None)])
def test_a_payout_names_its_expense_in_sender_item_id(sender_item_id, expense_id):
    [item] = paypal.translate(event("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", {
        "payout_item_id": "PI", "time_processed": "2026-11-19T12:00:00Z",
        "payout_item": {"sender_item_id": sender_item_id}}), "create_time", NOW)
    if expense_id is None:
        assert isinstance(item, Recorded)
    else:
        assert isinstance(item, ExpensePaid) and (item.expense_id, item.state) == (expense_id, "paid")


@pytest.mark.parametrize("kind", sorted(paypal.PAYOUT_FAILED))
def test_failed_returned_and_blocked_payouts_are_failures(kind):
    [item] = paypal.translate(event(kind, {"payout_item_id": "PI", "payout_item": {"sender_item_id": "expense-3"}}),
                              "create_time", NOW)
    assert item.state == "failed" and item.expense_id == 3


def test_other_event_types_are_recorded_only():
    [item] = paypal.translate(event("CUSTOMER.DISPUTE.CREATED", {}), "create_time", NOW)
    assert isinstance(item, Recorded)
