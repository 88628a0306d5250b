"""Bank dates as statements write them, and the format of a date column judged on the whole column.

Handled: ISO and compact dates, day-first and month-first with `.` `/` `-` or space, two-digit years
(`22.02.18`: Python's rule, 69–99 are 19xx), month names (`28-Mar-2020`, `03 Jan 20`, and from CLDR the
names European banks write: `28-Mär-2020`, `3 janv. 2020`, `15. März 2020`, `3 października 2020`),
timestamps with or without a zone (`2019-04-19 10:31:14 +0000`: the bank's own calendar day is kept,
never shifted to another zone) and trailing dots (`2019.04.19.`). An ambiguous column (every first
field at most 12) is read day-first, as most of the world writes dates; a 13+ in a first field decides.
"""
import re
from datetime import datetime
from functools import lru_cache

from babel.dates import get_month_names

_DAY_FIRST = ["%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%d %m %Y", "%d.%m.%y", "%d/%m/%y", "%d-%m-%y"]
_MONTH_FIRST = ["%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y", "%m/%d/%y", "%m-%d-%y"]
_NAMED = ["%d-%b-%Y", "%d %b %Y", "%d. %b %Y", "%d-%b-%y", "%d %b %y", "%d.%b.%Y", "%d/%b/%Y", "%d %B %Y", "%b %d %Y",
          "%b %d, %Y", "%B %d, %Y", "%B %d %Y", "%d-%B-%Y", "%d/%b/%y"]
FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", *_DAY_FIRST, *_MONTH_FIRST, *_NAMED]
_TIME = re.compile(r"[ T]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?"
                   r"(?:\s*(?:[AaPp][Mm]))?(?:\s*(?:Z|UTC|GMT|[+-][0-9]{2}:?[0-9]{2}))?$", re.ASCII)
_EXAMPLE = datetime(2026, 11, 20)
# Languages whose month names a bank export may hold; CLDR (Babel) has every form, wide and abbreviated, in
# running text and standing alone (Polish and Czech write "3 października"). None of them names two months
# alike (checked by a test), so one table turns any of them into strptime's English abbreviation.
_MONTH_LANGUAGES = ("en", "de", "fr", "nl", "es", "it", "pt", "sv", "da", "nb", "fi", "pl", "cs", "hu", "ro", "tr")
_WORD = re.compile(r"[^\W\d_]+\.?")


def month_names(languages=_MONTH_LANGUAGES):
    """{lower-case month name or abbreviation, no dot: month number} from CLDR for `languages`."""
    names = {}
    for language in languages:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, language).items():
                    names.setdefault(name.lower().rstrip("."), number)
    return names


_MONTHS = month_names()
_ENGLISH = get_month_names("abbreviated", "format", "en")


def _english_month(match):
    number = _MONTHS.get(match.group().lower().rstrip("."))
    return _ENGLISH[number] if number else match.group()


def normalise(value):
    """The date part of a cell: no time of day or zone, no trailing dot, single spaces."""
    text = " ".join(str(value).split())
    text = _TIME.sub("", text)
    if not text.isdigit():
        text = _WORD.sub(_english_month, text)
    return text[:-1] if text.endswith(".") and not text.endswith("..") else text


def parse(value, date_format):
    """The date of a cell in the given strptime format; ValueError if it is not one (ASCII digits only)."""
    day = _parse(value, date_format)
    if day is None:
        raise ValueError(value)
    return day


@lru_cache(maxsize=8192)  # a statement repeats a few hundred days over thousands of lines; strptime is slow
def _parse(value, date_format):
    text = normalise(value)
    # strptime reads any Unicode digit ("２０２６"): only ASCII dates are dates here.
    if not text.isascii() or len(text) > 40:
        return None
    try:
        return datetime.strptime(text, date_format).date()
    except ValueError:
        return None


def example(date_format):
    """How the format writes 20 November 2026 (shown next to a date that does not fit)."""
    return _EXAMPLE.strftime(date_format)


def fits(values, date_format):
    """How many of the values parse in the format."""
    count = 0
    for value in values:
        try:
            parse(value, date_format)
        except ValueError:
            continue
        count += 1
    return count


def detect(values, limit=20_000, month_first=False):
    """The format that reads the most of a column's non-empty values (day-first on a tie unless
    `month_first`, as in QIF, a US format), or None.

    Formats are first tried on the first 50 values; the few that fit are then judged on the whole column
    (up to `limit` values), so one "13/01/19" late in the file still makes it day-first.
    """
    values = [value for value in values if value and value.strip()][:limit]
    if not values:
        return None
    head = values[:50]
    order = [*_MONTH_FIRST, *FORMATS] if month_first else FORMATS  # a tie goes to the first in the order
    candidates = list(dict.fromkeys(f for f in order if fits(head, f) * 2 > len(head)))
    best, best_count = None, 0
    for date_format in candidates:
        count = fits(values, date_format) if len(values) > len(head) else fits(head, date_format)
        if count > best_count:
            best, best_count = date_format, count
    return best if best_count * 2 > len(values) else None
