"""Numbers from requests (ids, counts, cursors), read in one place: ASCII digits only, bounded.

`str.isdigit()` and `int()` accept far more than a person types: `int("٣")` is 3, `"²".isdigit()` is
True but `int("²")` raises, `int("1_000")` is 1000, and a big number overflows the database column
(SQLite raises OverflowError past 64 bits, PostgreSQL "integer out of range" past 31). Everything
here answers None instead, and `<int:…>` in a route does not match (a 404).
"""
import re

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # ids are INTEGER columns: PostgreSQL refuses a larger parameter for them
MAX_INT = 2**63 - 1  # BIGINT (amounts in minor units)
_DIGITS = re.compile(r"[0-9]{1,19}")
_SIGNED = re.compile(r"-?[0-9]{1,19}")


def parse_int(text, *, minimum=0, maximum=MAX_INT):
    """`text` as an integer in [minimum, maximum] (optional minus sign, ASCII digits), or None."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        text = str(text if text is not None else "").strip()
        if not _SIGNED.fullmatch(text):
            return None
        value = int(text)
    return value if minimum <= value <= maximum else None


def parse_id(text):
    """A database id (1 .. MAX_ID) from a parameter, or None."""
    if isinstance(text, str) and not _DIGITS.fullmatch(text.strip()):
        return None
    return parse_int(text, minimum=1, maximum=MAX_ID)


def parse_ids(values):
    """The valid ids among `values` (a form's repeated field), in order."""
    return [number for number in (parse_id(value) for value in values) if number is not None]


class IdConverter(IntegerConverter):
    """`<int:…>` in routes: ASCII digits up to MAX_ID (Werkzeug's own takes any length, so a 20-digit
    path reached the database); anything else is a 404."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def install(app):
    """Make every `<int:…>` route argument bounded."""
    app.url_map.converters["int"] = IdConverter
