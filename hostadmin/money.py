"""Money in integer minor units: precision and display from CLDR (Babel), never a hand-kept table."""
import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision, list_currencies

# The largest magnitude (in minor units) the app accepts anywhere: far below 2**63 so that sums of
# many amounts stay inside a BIGINT, and far above any real transaction.
MAX_MINOR_UNITS = 10**15 - 1

_CURRENCIES = frozenset(list_currencies())

# What parse_amount reads, ASCII only ([0-9], never \d: Python's \d and Decimal() both take "１２３" and
# "²"). The integer part is plain digits or groups of three split by one kind of thousands separator.
_NUMBER = {
    False: re.compile(r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,3}(?: [0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?",
                      re.ASCII),
    True: re.compile(r"(?P<int>[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,3}(?: [0-9]{3})+|[0-9]+)(?:,(?P<frac>[0-9]+))?",
                     re.ASCII),
}
# Spaces and symbols that bank exports and people put around a number; they carry no meaning here.
_IGNORED = str.maketrans("", "", "$€£¥\u00a0\u202f")
_MAX_DIGITS = len(str(MAX_MINOR_UNITS))
# A plain non-negative decimal as a person types a percentage ("8", "8.5"): ASCII digits only, no
# exponent or underscore (Decimal() reads "８", "٥", "1e1" and "5_0" too).
PLAIN_DECIMAL = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,20})?", re.ASCII)


class AmountError(ValueError):
    """An amount that is not a valid sum of money in its currency; the message says why."""


def is_currency(code):
    """True for an ISO 4217 code that CLDR knows (e.g. "USD", "JPY"; not "US1" or "usd")."""
    return isinstance(code, str) and code in _CURRENCIES


def minor_digits(currency):
    """How many decimal places the currency's minor unit has, from CLDR (JPY 0, USD 2, KWD 3)."""
    return get_currency_precision(currency)


def major_units(amount, currency, grouping=False):
    """1234, "USD" -> "12.34"; -500 -> "-5.00" (exact, no floats); grouping adds thousands commas."""
    digits = minor_digits(currency)
    return f"{Decimal(amount).scaleb(-digits):{',' if grouping else ''}.{digits}f}"


def to_minor_units(value, currency):
    """Decimal("12.34"), "USD" -> 1234. Refuses more decimals than the currency has, and huge amounts."""
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value))
        except InvalidOperation:
            raise AmountError("is not a number") from None
    if not value.is_finite():
        raise AmountError("is not a number")
    if value.adjusted() > 20:  # far beyond MAX_MINOR_UNITS; scaling "1e999999" would overflow the context
        raise AmountError("is too large")
    digits = minor_digits(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        places = "no decimals" if digits == 0 else f"at most {digits} decimal{'s' if digits != 1 else ''}"
        raise AmountError(f"has too many decimals: {currency} amounts have {places}")
    minor = int(scaled)
    if abs(minor) > MAX_MINOR_UNITS:
        raise AmountError("is too large")
    return minor


def parse_amount(text, currency, decimal_comma=False):
    """ "1,234.56", "USD" -> 123456 minor units; "(12.00)" and "-12" are negative. Raises AmountError.

    One parser for every amount a person or a file gives (forms, query strings, CSV):
    ASCII digits only, an optional sign or parentheses for negative, thousands separators
    ("," or " "; "." or " " with `decimal_comma`), at most the currency's decimals (CLDR:
    JPY 0, USD 2, KWD 3), and at most MAX_MINOR_UNITS in magnitude.
    """
    raw = str(text if text is not None else "").strip()
    shown = raw if len(raw) <= 40 else raw[:39] + "…"
    body = raw.translate(_IGNORED).strip()
    negative = body.startswith("(") and body.endswith(")")
    if negative:
        body = body[1:-1].strip()
    if body[:1] in ("-", "+"):
        negative, body = negative or body[0] == "-", body[1:].strip()
    match = _NUMBER[bool(decimal_comma)].fullmatch(body)
    if not match:
        raise AmountError(f"“{shown}” is not an amount")
    whole, fraction = match["int"].translate(str.maketrans("", "", ",. ")), match["frac"] or ""
    if len(whole.lstrip("0")) > _MAX_DIGITS:  # refuse before Decimal does arithmetic on a huge number
        raise AmountError(f"“{shown}” is too large: {_largest(currency)}")
    try:
        minor = to_minor_units(Decimal(f"{whole}.{fraction or 0}"), currency)
    except AmountError as error:
        detail = f": {_largest(currency)}" if str(error) == "is too large" else ""
        raise AmountError(f"“{shown}” {error}{detail}") from None
    return -minor if negative else minor


def _largest(currency):
    return f"the largest amount is {major_units(MAX_MINOR_UNITS, currency, grouping=True)} {currency}"


def format_money(minor_units, currency, locale="en_US"):
    """12345, "USD" -> "$123.45"; integers in, text out, exact (Decimal, never float)."""
    if minor_units is None:
        return ""
    amount = Decimal(int(minor_units)).scaleb(-minor_digits(currency))
    return format_currency(amount, currency, locale=locale, currency_digits=True)
