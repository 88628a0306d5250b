"""Minor units per currency, and turning integer minor units back into decimal text."""
from decimal import Decimal

# ISO 4217 currencies whose minor unit is not 1/100.
MINOR_UNIT_DIGITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


def minor_digits(currency):
    """How many decimal places the currency's minor unit has (2 unless ISO says otherwise)."""
    return MINOR_UNIT_DIGITS.get(currency, 2)


def major_units(amount, currency, grouping=False):
    """1234, "USD" -> "12.34"; -500 -> "-5.00" (exact, no floats); grouping adds thousands commas."""
    digits = minor_digits(currency)
    return f"{Decimal(amount).scaleb(-digits):{',' if grouping else ''}.{digits}f}"
