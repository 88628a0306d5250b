"""Processor timestamps: seconds and milliseconds told apart, absurd dates refused."""
from datetime import datetime, timezone

import pytest

from hostadmin.processors.timestamps import AbsurdTimestamp, from_epoch, from_iso

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)
SECONDS = int(datetime(2026, 11, 19, 10, 0, tzinfo=timezone.utc).timestamp())


def test_seconds_and_milliseconds_give_the_same_moment():
    expected = datetime(2026, 11, 19, 10, 0, tzinfo=timezone.utc)
    assert from_epoch(SECONDS, NOW) == expected
    assert from_epoch(SECONDS * 1000, NOW) == expected
    assert from_epoch(str(SECONDS), NOW) == expected


@pytest.mark.parametrize("value", [0, 1, 946684799, -5, 946684799000])
def test_before_2000_is_refused(value):
    with pytest.raises(AbsurdTimestamp, match="before 2000"):
        from_epoch(value, NOW)


def test_the_year_2000_and_a_day_ahead_are_the_bounds():
    assert from_epoch(946684800, NOW) == datetime(2000, 1, 1, tzinfo=timezone.utc)
    ahead = int(NOW.timestamp()) + 86400
    assert from_epoch(ahead, NOW).timestamp() == ahead
    with pytest.raises(AbsurdTimestamp, match="future"):
        from_epoch(ahead + 1, NOW)


@pytest.mark.parametrize("value", [10**15, 10**30, "1e9", "１２３", "", None, 1.5, True, "9" * 21])
def test_what_is_not_a_plausible_epoch_is_refused(value):
    with pytest.raises(AbsurdTimestamp):
        from_epoch(value, NOW)


def test_iso_times_need_a_zone_and_the_same_bounds():
    assert from_iso("2026-11-19T10:00:00Z", NOW) == datetime(2026, 11, 19, 10, 0, tzinfo=timezone.utc)
    assert from_iso("2026-11-19T11:00:00+01:00", NOW) == datetime(2026, 11, 19, 10, 0, tzinfo=timezone.utc)
    for bad in ("2026-11-19T10:00:00", "1970-01-01T00:00:00Z", "2026-11-25T00:00:00Z", "yesterday", 5, "x" * 50):
        with pytest.raises(AbsurdTimestamp):
            from_iso(bad, NOW)
