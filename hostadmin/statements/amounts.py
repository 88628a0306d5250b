"""Amounts as bank statements write them: signs, symbols, grouping and decimal marks of any country.

Accepted, around ASCII digits only: a sign before or after (``+50,00``, ``- 5``, ``12.50-``), the sign
apart from the number by a space or a currency symbol or code (``+ £1,234.56``, ``-€ 12,50``,
``EUR -3``), parentheses for negative (``(12.00)``), no leading zero (``-,01``), thousands grouped
by ``,`` ``.`` space, no-break space or apostrophe (``11'373.94``), a decimal point or comma.
Bounds are the app's (money.to_minor_units): at most the currency's decimals, at most MAX_MINOR_UNITS.
"""
import re
from decimal import Decimal

from hostadmin.money import AmountError, MAX_MINOR_UNITS, major_units, to_minor_units

_SPACES = " \t\u00a0\u202f\u2009"
_SYMBOL = r"(?:[$€£¥₣₹₽₺₩₪₫₴₦₱฿]|[A-Z]{3}|[A-Z]{1,2}\$|kr|Kč|zł|Fr\.?|CHF)"
_SIGN = r"[+\-\u2212]"
_S = f"[{_SPACES}]*"
_AFFIX = re.compile(
    rf"^(?P<pre>(?:{_SYMBOL}|{_SIGN})(?:{_S}(?:{_SYMBOL}|{_SIGN}))?)?{_S}(?P<body>[0-9.,'’{_SPACES}]+?)"
    rf"{_S}(?P<post>(?:{_SYMBOL}|{_SIGN})(?:{_S}(?:{_SYMBOL}|{_SIGN}))?)?$", re.ASCII)
_GROUPS = {False: "[,'’ \u00a0\u202f\u2009]", True: "[.'’ \u00a0\u202f\u2009]"}
_NUMBER = {
    comma: re.compile(rf"(?P<int>[0-9]{{1,3}}(?P<sep>{_GROUPS[comma]})[0-9]{{3}}(?:(?P=sep)[0-9]{{3}})*|[0-9]*)"
                      rf"(?:{',' if comma else '[.]'}(?P<frac>[0-9]+))?", re.ASCII)
    for comma in (False, True)
}
_MAX_DIGITS = len(str(MAX_MINOR_UNITS))


def parse(text, currency, decimal_comma=False):
    """The amount of a statement cell in minor units ("-€ 12,50", "EUR", True -> -1250); AmountError if not one."""
    raw = str(text if text is not None else "").strip(_SPACES)
    shown = raw if len(raw) <= 40 else raw[:39] + "…"
    body = raw
    negative = body.startswith("(") and body.endswith(")")
    if negative:
        body = body[1:-1].strip(_SPACES)
    match = _AFFIX.match(body) if len(body) <= 80 else None
    if not match:
        raise AmountError(f"“{shown}” is not an amount")
    signs = [c for c in (match["pre"] or "") + (match["post"] or "") if c in "+-\u2212"]
    if len(signs) > 1 or (negative and signs):
        raise AmountError(f"“{shown}” is not an amount")
    negative = negative or signs[:1] in (["-"], ["\u2212"])
    number = _NUMBER[bool(decimal_comma)].fullmatch(match["body"].strip(_SPACES))
    if not number or not (number["int"] or number["frac"]):
        raise AmountError(f"“{shown}” is not an amount")
    whole = re.sub(r"[^0-9]", "", number["int"]) or "0"
    if len(whole.lstrip("0")) > _MAX_DIGITS:
        raise AmountError(f"“{shown}” is too large: {_largest(currency)}")
    try:
        minor = to_minor_units(Decimal(f"{whole}.{number['frac'] or 0}"), currency)
    except AmountError as error:
        detail = f": {_largest(currency)}" if str(error) == "is too large" else ""
        raise AmountError(f"“{shown}” {error}{detail}") from None
    return -minor if negative else minor


def _largest(currency):
    return f"the largest amount is {major_units(MAX_MINOR_UNITS, currency, grouping=True)} {currency}"


def detect_decimal_comma(values):
    """True when a column's amounts use a decimal comma ("1.234,56", "-,01", "12,5"), judged on all of them."""
    votes = {",": 0, ".": 0}
    for value in values:
        marks = [c for c in value if c in ",."]
        if not marks:
            continue
        last = marks[-1]
        tail = value[value.rfind(last) + 1:].rstrip(_SPACES + ")-+€£$")
        if len(set(marks)) == 2:
            votes[last] += 1          # "1.234,56": the last mark is the decimal one
        elif len(marks) > 1:
            votes["," if last == "." else "."] += 1  # "1.234.567": the repeated mark groups thousands
        elif tail.isdigit() and len(tail) != 3:
            votes[last] += 1          # "12,5", "-,01": one mark, not three digits after it
    return votes[","] > votes["."]
