"""Statement amounts in every syntax banks write, against an independent Decimal oracle."""
from decimal import Decimal

import pytest
from hypothesis import example, given, settings, strategies as st

from hostadmin.money import AmountError, MAX_MINOR_UNITS
from hostadmin.statements import amounts


@pytest.mark.parametrize("text, comma, minor", [
    ("+50,00", True, 5000), ("-,01", True, -1), ("+ £1,234.56", False, 123456), ("$1,200.00", False, 120000),
    ("-€ 12,50", True, -1250), ("11'373.94", False, 1137394), ("(12.00)", False, -1200),
    ("1.234,56", True, 123456), ("1 234,56", True, 123456), ("12.50-", False, -1250), ("EUR -3", False, -300),
    ("-.5", False, -50), ("1\u00a0234,00", True, 123400), ("($ 7.00)", False, -700), ("7 EUR", False, 700),
])
def test_every_syntax_of_the_issue_reads_as_the_right_minor_units(text, comma, minor):
    assert amounts.parse(text, "EUR", comma) == minor


@pytest.mark.parametrize("text, comma", [
    ("", False), (".", False), ("--5", False), ("(-5)", False), ("+5-", False), ("1,5", False), ("1.5", True),
    ("12,34,5", False), ("１２", False), ("1٢", False), ("²", False), ("1e5", False), ("NaN", False),
    ("5 5", False), ("1,234,56", False), ("x" * 100, False),
])
def test_text_that_is_not_an_amount_is_refused(text, comma):
    with pytest.raises(AmountError):
        amounts.parse(text, "EUR", comma)


def test_bounds_are_the_apps_decimals_and_size():
    assert amounts.parse("9,999,999,999,999.99", "USD") == MAX_MINOR_UNITS
    for text, message in (("10,000,000,000,000.00", "too large"), ("1.005", "too many decimals"),
                          ("9" * 40, "too large")):
        with pytest.raises(AmountError, match=message):
            amounts.parse(text, "USD")
    assert amounts.parse("1.005", "KWD") == 1005
    with pytest.raises(AmountError, match="too many decimals"):
        amounts.parse("5.5", "JPY")


def test_the_decimal_mark_of_a_column_is_judged_on_all_its_values():
    assert amounts.detect_decimal_comma(["1.234,56", "12,00"]) is True
    assert amounts.detect_decimal_comma(["1,234.56", "3.50"]) is False
    assert amounts.detect_decimal_comma(["-,01"]) is True
    assert amounts.detect_decimal_comma(["1.234.567"]) is True
    assert amounts.detect_decimal_comma(["1,234"]) is False  # ambiguous alone: the point is the default


GROUPS = {False: [",", " ", "'", "\u00a0", ""], True: [".", " ", "'", "\u00a0", ""]}


def render(units, cents, negative, comma, group, sign_style, symbol, leading_zero):
    """The amount written the way a bank might; the oracle is the numbers it was built from."""
    digits = f"{units:,}".replace(",", "\x00") if group else str(units)
    digits = digits.replace("\x00", group)
    if units == 0 and not leading_zero:
        digits = ""
    number = f"{digits}{',' if comma else '.'}{cents:02d}"
    sign = "-" if negative else ""
    if sign_style == "parentheses" and negative:
        return f"({symbol}{number})"
    if sign_style == "trailing" and negative:
        return f"{symbol}{number}-"
    if sign_style == "spaced":
        return f"{sign or '+'} {symbol}{number}"
    if sign_style == "after_symbol":
        return f"{symbol}{sign}{number}"
    return f"{sign}{symbol}{number}"


@settings(max_examples=400, deadline=None, derandomize=True)
@given(units=st.integers(0, 10**13 - 1), cents=st.integers(0, 99), negative=st.booleans(), comma=st.booleans(),
       group_index=st.integers(0, 4), sign_style=st.sampled_from(["plain", "parentheses", "trailing", "spaced",
                                                                  "after_symbol"]),
       symbol=st.sampled_from(["", "$", "€", "£ ", "€ "]), leading_zero=st.booleans())
@example(units=0, cents=1, negative=True, comma=True, group_index=4, sign_style="plain", symbol="",
         leading_zero=False)
def test_generated_amounts_agree_with_a_decimal_oracle(units, cents, negative, comma, group_index, sign_style,
                                                       symbol, leading_zero):
    if units == 0 and cents == 0:
        cents = 1
    text = render(units, cents, negative, comma, GROUPS[comma][group_index], sign_style, symbol, leading_zero)
    oracle = (Decimal(units) + Decimal(cents) / 100) * (-1 if negative else 1)

    assert amounts.parse(text, "EUR", comma) == int(oracle * 100), text


UNICODE_DIGITS = [chr(c) for c in range(0x110000) if chr(c).isdigit() and not chr(c).isascii()]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=st.from_regex(r"\A[-+(]?[0-9]{0,4}[.,]?[0-9]{0,2}\)?\Z"), digit=st.sampled_from(UNICODE_DIGITS),
       position=st.integers(0, 10))
def test_an_amount_with_any_unicode_digit_is_never_accepted(text, digit, position):
    spoiled = text[:position] + digit + text[position:]
    for comma in (False, True):
        with pytest.raises(AmountError):
            amounts.parse(spoiled, "EUR", comma)
