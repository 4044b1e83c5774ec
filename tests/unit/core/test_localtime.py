"""The patient's clock (vitalgate.core.localtime): zones, DST gaps and overlaps, moves, quiet hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from vitalgate.core.localtime import (
    UnknownZoneError,
    ZoneHistory,
    is_quiet,
    local_date,
    local_hour,
    local_time_of_day,
    next_allowed,
    start_of_local_day,
    to_instant,
    utc_offset_s,
    wall_clock_on,
    zone,
    zone_label,
)

QUIET = (time(21, 0), time(8, 0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_shanghai_0730_is_that_morning_not_the_utc_evening_before() -> None:
    at = utc(2026, 3, 1, 23, 30)  # 07:30 on 2 March in Shanghai (UTC+8, no DST)
    assert local_date(at, "Asia/Shanghai") == date(2026, 3, 2)
    assert local_hour(at, "Asia/Shanghai") == 7
    assert local_time_of_day(at, "Asia/Shanghai") == time(7, 30)
    assert to_instant(date(2026, 3, 2), time(7, 30), "Asia/Shanghai") == at
    assert utc_offset_s(at, "Asia/Shanghai") == 8 * 3600


@pytest.mark.parametrize(
    ("zone_name", "local_midnight_utc", "day"),
    [
        ("Asia/Shanghai", utc(2026, 6, 14, 16), date(2026, 6, 15)),
        ("America/New_York", utc(2026, 6, 15, 4), date(2026, 6, 15)),
        ("Europe/Berlin", utc(2026, 6, 14, 22), date(2026, 6, 15)),
    ],
)
def test_235959_and_000000_local_fall_on_consecutive_days(zone_name, local_midnight_utc, day) -> None:
    last_second = datetime.fromtimestamp(local_midnight_utc.timestamp() - 1, UTC)
    assert local_time_of_day(last_second, zone_name) == time(23, 59, 59)
    assert local_date(last_second, zone_name) == date.fromordinal(day.toordinal() - 1)
    assert local_time_of_day(local_midnight_utc, zone_name) == time(0, 0)
    assert local_date(local_midnight_utc, zone_name) == day
    assert start_of_local_day(day, zone_name) == local_midnight_utc


# New York 2026: EST -> EDT on 8 March at 02:00 (gap 02:00-03:00), EDT -> EST on 1 November at
# 02:00 (01:00-02:00 twice). Berlin 2026: 29 March 02:00 -> 03:00, 25 October 03:00 -> 02:00.
@pytest.mark.parametrize(
    ("zone_name", "day", "wall", "expected"),
    [
        # spring gap: moved forward by the gap (RFC 5545: the offset before the gap)
        ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 30)),  # = 03:30 EDT
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 30)),  # = 03:30 CEST
        # autumn overlap: the first occurrence (still daylight time)
        ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),  # 01:30 EDT
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),  # 02:30 CEST
        # the days after each change: the new offset
        ("America/New_York", date(2026, 3, 9), time(10, 0), utc(2026, 3, 9, 14)),
        ("America/New_York", date(2026, 11, 2), time(10, 0), utc(2026, 11, 2, 15)),
        ("Europe/Berlin", date(2026, 3, 30), time(10, 0), utc(2026, 3, 30, 8)),
        ("Europe/Berlin", date(2026, 10, 26), time(10, 0), utc(2026, 10, 26, 9)),
    ],
)
def test_wall_clock_resolution_across_both_dst_transitions(zone_name, day, wall, expected) -> None:
    assert to_instant(day, wall, zone_name) == expected


def test_gap_time_lands_after_the_gap_and_overlap_hours_stay_on_their_date() -> None:
    resolved = to_instant(date(2026, 3, 8), time(2, 30), "America/New_York")
    assert local_time_of_day(resolved, "America/New_York") == time(3, 30)
    # both 01:30s of New York's autumn night are on 1 November, hour 1
    first, second = utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)
    assert {local_date(t, "America/New_York") for t in (first, second)} == {date(2026, 11, 1)}
    assert {local_hour(t, "America/New_York") for t in (first, second)} == {1}


def test_local_day_has_23_and_25_hours_across_dst() -> None:
    ny = "America/New_York"
    spring = start_of_local_day(date(2026, 3, 9), ny) - start_of_local_day(date(2026, 3, 8), ny)
    autumn = start_of_local_day(date(2026, 11, 2), ny) - start_of_local_day(date(2026, 11, 1), ny)
    assert spring.total_seconds() == 23 * 3600 and autumn.total_seconds() == 25 * 3600


def test_patient_moving_from_berlin_to_shanghai_keeps_each_readings_local_time() -> None:
    moved = utc(2026, 5, 10, 12)
    history = ZoneHistory.of([("Europe/Berlin", None), ("Asia/Shanghai", moved)])
    series = [utc(2026, 5, 9, 5, 30), utc(2026, 5, 10, 11, 59, 59), utc(2026, 5, 10, 23, 30), utc(2026, 5, 11, 23, 30)]
    assert [local_time_of_day(t, history) for t in series] == [time(7, 30), time(13, 59, 59), time(7, 30), time(7, 30)]
    assert [local_date(t, history) for t in series] == [
        date(2026, 5, 9),
        date(2026, 5, 10),
        date(2026, 5, 11),
        date(2026, 5, 12),
    ]
    assert history.zone_name_at(moved) == "Asia/Shanghai" and history.current == "Asia/Shanghai"


def test_quiet_hours_wrap_midnight_and_next_allowed_is_the_local_morning() -> None:
    sh = "Asia/Shanghai"
    evening = to_instant(date(2026, 3, 2), time(22, 15), sh)
    early = to_instant(date(2026, 3, 3), time(6, 0), sh)
    day = to_instant(date(2026, 3, 3), time(12, 0), sh)
    assert is_quiet(evening, sh, *QUIET) and is_quiet(early, sh, *QUIET) and not is_quiet(day, sh, *QUIET)
    assert next_allowed(evening, sh, *QUIET) == to_instant(date(2026, 3, 3), time(8, 0), sh)
    assert next_allowed(early, sh, *QUIET) == to_instant(date(2026, 3, 3), time(8, 0), sh)
    assert next_allowed(day, sh, *QUIET) == day
    assert not is_quiet(to_instant(date(2026, 3, 3), time(21, 0), sh), sh, time(8), time(8))  # none set
    assert is_quiet(to_instant(date(2026, 3, 3), time(21, 0), sh), sh, *QUIET)  # start inclusive
    assert not is_quiet(to_instant(date(2026, 3, 3), time(8, 0), sh), sh, *QUIET)  # end exclusive


def test_next_allowed_across_the_night_of_a_dst_change() -> None:
    ny = "America/New_York"
    night = to_instant(date(2026, 3, 7), time(23, 0), ny)  # EST; morning is EDT
    assert next_allowed(night, ny, *QUIET) == utc(2026, 3, 8, 12)  # 08:00 EDT


def test_wall_clock_on_a_day_before_the_anchor_across_dst() -> None:
    visit = to_instant(date(2026, 3, 9), time(9, 0), "America/New_York")  # Monday after the change
    assert wall_clock_on(visit, -1, time(10, 0), "America/New_York") == utc(2026, 3, 8, 14)  # 10:00 EDT
    assert wall_clock_on(visit, -7, time(10, 0), "America/New_York") == utc(2026, 3, 2, 15)  # 10:00 EST
    moved = ZoneHistory.of([("Europe/Berlin", None), ("Asia/Shanghai", utc(2026, 5, 10))])
    shanghai_visit = to_instant(date(2026, 5, 12), time(9, 0), "Asia/Shanghai")
    assert wall_clock_on(shanghai_visit, -7, time(10, 0), moved) == utc(2026, 5, 5, 8)  # Berlin then


def test_unknown_or_unsafe_zone_names_are_refused() -> None:
    for name in ("Mars/Olympus", "", "../etc/passwd", "/etc/localtime", " UTC", "localtime", "Factory", "right/UTC"):
        with pytest.raises(UnknownZoneError):
            zone(name)
    with pytest.raises(ValueError):
        local_date(datetime(2026, 1, 1), "UTC")  # naive instants are refused


def test_zone_label_names_the_abbreviation_and_the_zone() -> None:
    assert zone_label(utc(2026, 7, 1), "America/New_York") == "EDT, America/New_York"
    assert zone_label(utc(2026, 7, 1), "Asia/Shanghai") == "CST, Asia/Shanghai"
    assert zone_label(utc(2026, 7, 1), "UTC") == "UTC"
