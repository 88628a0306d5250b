"""Cleared-date rules, in one place: which `cleared_at` a ledger group may carry.

A group's rows all carry one cleared_at, never NULL, never inside a month the host
has closed (months in the host's time zone). Dates typed by people (forms, CLI) may be
back-dated but not in the future. A reversal carries the date of what it reverses so
the correction nets out in the same month, unless that month is closed: then it lands
on the correction's own date.
"""
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.funds.models import ClosedPeriod
from hostadmin.ledger.service import LedgerError

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class ClearedDateError(LedgerError):
    """A cleared date the rules refuse; nothing was written. The message says why."""


def zone_of(host):
    """The host's time zone."""
    return ZoneInfo(host.timezone or "UTC")


def today(host):
    """Today's date in the host's time zone."""
    return utcnow().astimezone(zone_of(host)).date()


def start_of_day(host, day):
    """00:00 of `day` in the host's time zone, as an aware UTC datetime."""
    try:
        return datetime.combine(day, time(0), tzinfo=zone_of(host)).astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01 east of UTC is before any datetime (a filter typed by anyone)
        return datetime.min.replace(tzinfo=timezone.utc)


def end_of_day(host, day):
    """The first instant after `day` in the host's time zone (an exclusive bound)."""
    if day >= date.max:  # 9999-12-31 has no next day: every moment is before its end
        return datetime.max.replace(tzinfo=timezone.utc)
    return start_of_day(host, day + timedelta(days=1))


def month_of(host, moment):
    """"YYYY-MM" of an aware datetime, in the host's time zone."""
    return moment.astimezone(zone_of(host)).strftime("%Y-%m")


def parse_month(text):
    """"2026-11" -> "2026-11"; refuses anything else."""
    if not MONTH_RE.match((text or "").strip()):
        raise ClearedDateError(f"month must look like 2026-11, not {text!r}")
    return text.strip()


def month_bounds(host, month):
    """(first instant, first instant of the next month) of "YYYY-MM" in the host's zone, as UTC."""
    year, number = (int(part) for part in parse_month(month).split("-"))
    following = date(year + number // 12, number % 12 + 1, 1)
    return start_of_day(host, date(year, number, 1)), start_of_day(host, following)


def month_name(month):
    """"2026-10" -> "October 2026"."""
    year, number = (int(part) for part in month.split("-"))
    return date(year, number, 1).strftime("%B %Y")


def closing_in_force(host, month):
    """The ClosedPeriod closing `month` for the host, or None when the month is open."""
    return db.session.scalar(select(ClosedPeriod).where(
        ClosedPeriod.host_id == host.id, ClosedPeriod.month == month, ClosedPeriod.reopened_at.is_(None)))


def closed_months(host):
    """The set of "YYYY-MM" months the host has closed (for checking many dates with one query)."""
    return set(db.session.scalars(select(ClosedPeriod.month).where(
        ClosedPeriod.host_id == host.id, ClosedPeriod.reopened_at.is_(None))))


def is_closed(host, moment):
    """True when `moment` falls in a month the host has closed."""
    return closing_in_force(host, month_of(host, moment)) is not None


def check_recordable(host, cleared_at):
    """Refuse a group's cleared_at that is missing, naive, or inside a closed month (every write path)."""
    if cleared_at is None:
        raise ClearedDateError("every ledger row needs the date the money cleared (cleared_at)")
    if not isinstance(cleared_at, datetime) or cleared_at.tzinfo is None:
        raise ClearedDateError("cleared_at must be a timezone-aware datetime")
    month = month_of(host, cleared_at)
    if closing_in_force(host, month) is not None:
        raise ClearedDateError(f"{month_name(month)} is closed: nothing can be recorded in it "
                               f"(cleared {cleared_at.astimezone(zone_of(host)).date().isoformat()})")


def cleared_at_for_day(host, day):
    """The cleared_at for a date a person typed: not in the future, not in a closed month."""
    if day > today(host):
        raise ClearedDateError(f"the date the money cleared cannot be in the future "
                               f"({day.isoformat()} is after today, {today(host).isoformat()})")
    cleared_at = start_of_day(host, day)
    check_recordable(host, cleared_at)
    return cleared_at


def reversal_cleared_at(host, originals):
    """The cleared_at of a reversal of `originals`: theirs, unless their month is closed, then today."""
    original = originals[0].cleared_at or originals[0].created_at
    if is_closed(host, original):
        return start_of_day(host, today(host))
    return original
