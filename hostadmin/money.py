"""Money in integer minor units: precision and display from CLDR (Babel), never a hand-kept table."""
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision, list_currencies

# The largest magnitude (in minor units) the app accepts anywhere: far below 2**63 so that sums of
# many amounts stay inside a BIGINT, and far above any real transaction.
MAX_MINOR_UNITS = 10**15 - 1

_CURRENCIES = frozenset(list_currencies())


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


def format_money(minor_units, currency, locale="en_US"):
    """12345, "USD" -> "$123.45"; integers in, text out, exact (Decimal, never float)."""
    if minor_units is None:
        return ""
    amount = Decimal(int(minor_units)).scaleb(-minor_digits(currency))
    return format_currency(amount, currency, locale=locale, currency_digits=True)
