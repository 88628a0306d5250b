"""What a bank line may hold before it is refused, and what a run keeps of a line it could not import."""
import json

import msgspec
import pytest

from hostadmin.banking.decode import InvalidLine, invalid_entry
from tests.banking.test_decode_amounts import line_of, wire


def test_a_transaction_id_of_128_characters_is_kept_and_of_129_refused():
    assert line_of(wire(transaction_id="t" * 128)).source_id == "t" * 128
    with pytest.raises(InvalidLine, match="transaction_id .* cannot be stored"):
        line_of(wire(transaction_id="t" * 129))


def test_a_pending_transaction_id_over_128_characters_is_refused_not_cut():
    assert line_of(wire(pending_transaction_id="p" * 128)).pending_source_id == "p" * 128
    with pytest.raises(InvalidLine, match="pending_transaction_id"):
        line_of(wire(pending_transaction_id="p" * 129))


def test_a_currency_code_longer_than_its_column_is_refused_as_unstorable():
    # Ten characters fit the column (the amount rule decides about the code); eleven cannot be stored.
    try:
        line_of(wire(iso_currency_code="ABCDEFGHIJ"))
    except InvalidLine as error:
        assert "cannot be stored" not in str(error)
    with pytest.raises(InvalidLine, match="currency code 'ABCDEFGHIJK' cannot be stored"):
        line_of(wire(iso_currency_code="ABCDEFGHIJK"))


def test_a_run_keeps_the_id_reason_and_a_summary_of_a_line_it_could_not_import():
    raw = json.dumps({"transaction_id": "tx-9", "date": "2026-11-20", "amount": 12.5, "iso_currency_code": "USD",
                      "name": "Coffee\x00 shop", "merchant_name": "ignored"}).encode()
    assert invalid_entry(raw, "bad\x07 amount") == {
        "source_id": "tx-9", "reason": "bad amount", "summary": "2026-11-20 · 12.5 · USD · Coffee shop"}


def test_the_summary_skips_missing_fields_and_is_cut_to_200_characters():
    raw = json.dumps({"transaction_id": "tx-9", "amount": 3, "name": "n" * 300, "date": None}).encode()
    entry = invalid_entry(raw, "why")
    assert entry["summary"].startswith("3 · nnn") and len(entry["summary"]) == 200
    assert entry["summary"].endswith("…")


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe", json.dumps({"transaction_id": 5}).encode()])
def test_a_line_that_is_not_even_json_is_kept_with_its_reason(raw):
    entry = invalid_entry(raw, "x" * 600)
    assert entry["source_id"] is None and len(entry["reason"]) == 500
    assert entry["summary"] == ""


def test_a_source_id_in_the_summary_is_cleaned_and_bounded():
    raw = json.dumps({"transaction_id": "id\x00" + "x" * 200}).encode()
    source_id = invalid_entry(raw, "r")["source_id"]
    assert "\x00" not in source_id and len(source_id) <= 128


def test_a_raw_msgspec_value_is_accepted_like_bytes():
    raw = msgspec.Raw(json.dumps({"transaction_id": "tx-2", "amount": 1}).encode())
    assert invalid_entry(raw, "r") == {"source_id": "tx-2", "reason": "r", "summary": "1"}
