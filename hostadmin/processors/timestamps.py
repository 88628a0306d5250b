"""Processor timestamps made into aware UTC datetimes, refusing the absurd ones.

Stripe sends epoch seconds, some exports and SDKs milliseconds; one slip gave 1970 dates in
another project's ledger. A number above 10**11 (year 5138 in seconds, 1973 in milliseconds) is
milliseconds. Anything before 2000 or more than a day ahead of now is refused, never stored.
"""
from datetime import datetime, timedelta, timezone

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
AHEAD = timedelta(days=1)
MILLISECONDS_ABOVE = 10**11


class AbsurdTimestamp(ValueError):
    """A timestamp that cannot be when money moved; the message names the field and value."""


def from_epoch(value, now, name="timestamp"):
    """Epoch seconds or milliseconds (int, or digits) -> aware UTC datetime within [2000, now + 1 day]."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise AbsurdTimestamp(f"{name} must be a whole number of seconds, not {type(value).__name__}")
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > 20:
            raise AbsurdTimestamp(f"{name} must be a whole number of seconds, not {value[:30]!r}")
        value = int(value)
    seconds = value / 1000 if value > MILLISECONDS_ABOVE else value
    if value > MILLISECONDS_ABOVE * 1000:
        raise AbsurdTimestamp(f"{name} {value} is too far in the future")
    moment = datetime.fromtimestamp(int(seconds), timezone.utc) if seconds >= 0 else None
    return check(moment, now, name, value)


def from_iso(text, now, name="timestamp"):
    """An ISO 8601 time with a zone ("2026-11-10T12:00:00Z") -> aware UTC datetime within the bounds."""
    if not isinstance(text, str) or len(text) > 40:
        raise AbsurdTimestamp(f"{name} must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AbsurdTimestamp(f"{name} {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise AbsurdTimestamp(f"{name} {text!r} has no time zone")
    return check(moment.astimezone(timezone.utc), now, name, text)


def check(moment, now, name, raw):
    """`moment` itself, unless it is before 2000 or more than a day after `now`."""
    if moment is None or moment < EARLIEST:
        raise AbsurdTimestamp(f"{name} {raw} is before 2000: refused as absurd")
    if moment > now + AHEAD:
        raise AbsurdTimestamp(f"{name} {raw} is more than a day in the future: refused as absurd")
    return moment
