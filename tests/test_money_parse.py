"""parse_amount: the one reader of amounts people and files give (ASCII digits, bounded, CLDR decimals)."""
import pytest

from hostadmin.money import MAX_MINOR_UNITS, AmountError, parse_amount


@pytest.mark.parametrize("text,currency,comma,minor", [
    ("125.00", "USD", False, 12500), ("1,234.56", "USD", False, 123456), ("1 234.56", "USD", False, 123456),
    ("-3.5", "USD", False, -350), ("+3.50", "USD", False, 350), ("(12.00)", "USD", False, -1200),
    ("$ 7", "USD", False, 700), ("1.234,56", "EUR", True, 123456), ("1 234,5", "EUR", True, 123450),
    ("1000", "JPY", False, 1000), ("1,000", "JPY", False, 1000), ("1.234", "KWD", False, 1234),
    ("9,999,999,999,999.99", "USD", False, MAX_MINOR_UNITS), ("-999999999999999", "JPY", False, -MAX_MINOR_UNITS),
])
def test_amounts_are_read_in_the_currencys_minor_units(text, currency, comma, minor):
    assert parse_amount(text, currency, decimal_comma=comma) == minor


@pytest.mark.parametrize("text,currency,message", [
    ("１２３", "USD", "“１２３” is not an amount"),        # fullwidth digits: Decimal() takes them
    ("²", "USD", "“²” is not an amount"),                 # superscript two: str.isdigit() takes it
    ("١٢٣", "USD", "“١٢٣” is not an amount"),             # Arabic-Indic digits
    ("12abc", "USD", "“12abc” is not an amount"), ("", "USD", "“” is not an amount"),
    ("1,23,456", "USD", "“1,23,456” is not an amount"), ("NaN", "USD", "“NaN” is not an amount"),
    ("1e5", "USD", "“1e5” is not an amount"), ("12.", "USD", "“12.” is not an amount"),
    ("1000.5", "JPY", "“1000.5” has too many decimals: JPY amounts have no decimals"),
    ("1.001", "USD", "“1.001” has too many decimals: USD amounts have at most 2 decimals"),
    ("1.2345", "KWD", "“1.2345” has too many decimals: KWD amounts have at most 3 decimals"),
    ("92233720368547758.07", "USD",
     "“92233720368547758.07” is too large: the largest amount is 9,999,999,999,999.99 USD"),
    ("10000000000000", "USD", "“10000000000000” is too large: the largest amount is 9,999,999,999,999.99 USD"),
    ("1" * 5000, "USD", "“" + "1" * 39 + "…” is too large: the largest amount is 9,999,999,999,999.99 USD"),
])
def test_anything_else_is_refused_with_a_message(text, currency, message):
    with pytest.raises(AmountError) as refused:
        parse_amount(text, currency)
    assert str(refused.value) == message
