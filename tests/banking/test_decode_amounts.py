"""Plaid transactions become bank lines: amounts in their currency's own minor units, in its own currency."""
import json
from datetime import date

import msgspec
import pytest

from hostadmin.banking.decode import (
    InvalidLine,
    InvalidAmount, MalformedResponse, bank_line, currency_of, decode_page, decode_transaction,
    minor_units_into_account,
)


def wire(**fields):
    """A Plaid Transaction with only the keys Plaid must send, plus `fields`."""
    body = {"transaction_id": "tx-1", "account_id": "acc-1", "amount": 12.34, "iso_currency_code": "USD",
            "unofficial_currency_code": None, "date": "2026-11-20", "pending": False}
    body.update(fields)
    return msgspec.Raw(json.dumps(body).encode())


def line_of(raw, account_currency="USD"):
    transaction = decode_transaction(raw)
    return bank_line(transaction, raw, currency_of(transaction, account_currency))


@pytest.mark.parametrize("plaid_amount, currency, minor_units", [
    (12.34, "USD", -1234),
    (-50.0, "USD", 5000),
    (0.01, "USD", -1),
    (1234.0, "JPY", -1234),     # no minor unit: yen are whole
    (-500.0, "JPY", 500),
    (1.234, "KWD", -1234),      # three decimals: fils
    (-0.005, "KWD", 5),
])
def test_amounts_are_scaled_by_the_currency_precision_and_signed_for_money_in(plaid_amount, currency,
                                                                               minor_units):
    assert minor_units_into_account(plaid_amount, currency) == minor_units


@pytest.mark.parametrize("plaid_amount, currency", [
    (12.345, "USD"), (0.001, "USD"), (12.5, "JPY"), (1.2345, "KWD")])
def test_amounts_with_more_decimals_than_the_currency_has_are_refused(plaid_amount, currency):
    with pytest.raises(InvalidAmount, match=currency):
        minor_units_into_account(plaid_amount, currency)


def test_the_transactions_own_currency_wins_over_the_unofficial_code_and_the_account():
    both = decode_transaction(wire(iso_currency_code="EUR", unofficial_currency_code="BTC"))
    unofficial = decode_transaction(wire(iso_currency_code=None, unofficial_currency_code="BTC"))
    neither = decode_transaction(wire(iso_currency_code=None))

    assert currency_of(both, "USD") == "EUR"
    assert currency_of(unofficial, "USD") == "BTC"
    assert currency_of(neither, "USD") == "USD"
    assert currency_of(neither, None) is None


def test_a_line_in_another_currency_than_its_account_keeps_its_own_currency_and_precision():
    line = line_of(wire(amount=-1234, iso_currency_code="JPY"), account_currency="USD")

    assert (line.amount, line.currency) == (1234, "JPY")


def test_the_bank_date_is_the_posted_date_not_the_authorised_one():
    line = line_of(wire(date="2026-11-20", authorized_date="2026-11-18"))

    assert (line.date, line.authorized_date) == (date(2026, 11, 20), date(2026, 11, 18))


def test_optional_fields_plaid_leaves_out_are_empty_not_invented():
    line = line_of(wire(name="Hardware store"))

    assert line.authorized_date is None and line.pending_source_id is None and line.merchant_name is None
    assert line.description == "Hardware store" and line.pending is False
    assert (line.source_id, line.plaid_account_id) == ("tx-1", "acc-1")


def test_the_description_falls_back_to_the_merchant_then_to_nothing():
    assert line_of(wire(merchant_name="ACME")).description == "ACME"
    assert line_of(wire(name="Card 1234", merchant_name="ACME")).description == "Card 1234"
    assert line_of(wire()).description == ""
    assert line_of(wire(name="", merchant_name="")).merchant_name is None


def test_long_texts_are_cut_to_the_columns_size():
    line = line_of(wire(name="n" * 600, merchant_name="m" * 300))

    assert len(line.description) == 500 and line.description.startswith("n" * 400)
    assert len(line.merchant_name) == 200 and line.merchant_name.startswith("m" * 150)


def test_a_pending_transactions_link_and_the_raw_payload_are_kept():
    raw = wire(pending=True, pending_transaction_id="tx-0")
    line = line_of(raw)

    assert line.pending is True and line.pending_source_id == "tx-0"
    assert json.loads(line.raw) == json.loads(bytes(raw))


def test_a_spooled_line_reads_back_equal():
    line = line_of(wire(name="Gift", authorized_date="2026-11-19", pending_transaction_id="tx-0"))

    assert msgspec.msgpack.decode(msgspec.msgpack.encode(line), type=type(line)) == line


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"added": 1}'])
def test_a_page_that_is_not_plaids_shape_is_malformed(body):
    with pytest.raises(MalformedResponse):
        decode_page(body)


def test_a_transaction_without_a_required_field_is_an_invalid_line():
    with pytest.raises(InvalidLine):  # recorded invalid on the run; the rest of the page is imported
        decode_transaction(msgspec.Raw(b'{"transaction_id": "tx-1"}'))
