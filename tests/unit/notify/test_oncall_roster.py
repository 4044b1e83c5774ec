"""Who is on call: weekly shifts in the team's zone, overnight shifts, ranks, daylight-saving days."""

from __future__ import annotations

from datetime import UTC, datetime, time

from vitalgate.notify.oncall.roster import on_call_user_ids
from vitalgate.store.triage_rows import OnCallShift


def shift(i: int, user: int, weekday: int, start: str, end: str, rank: int = 1) -> OnCallShift:
    return OnCallShift(i, 1, user, weekday, time.fromisoformat(start), time.fromisoformat(end), rank)


ROSTER = [
    shift(1, 10, 1, "08:00", "20:00"),  # Monday day: nurse 10
    shift(2, 11, 1, "20:00", "08:00"),  # Monday night into Tuesday: nurse 11
    shift(3, 12, 1, "08:00", "20:00", rank=2),  # Monday day back-up: nurse 12
    shift(4, 13, 7, "22:00", "06:00"),  # Sunday night into Monday
]


def test_day_shift_in_the_teams_zone_with_ranks() -> None:
    # Monday 2026-03-02 09:30 in Shanghai is 01:30 UTC.
    at = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
    assert on_call_user_ids(ROSTER, at, "Asia/Shanghai") == [10, 12]
    # The same instant in UTC is Monday 01:30: Sunday's night shift (22:00-06:00) still runs.
    assert on_call_user_ids(ROSTER, at, "UTC") == [13]


def test_overnight_shift_spills_into_the_next_day() -> None:
    # Tuesday 2026-03-03 07:59 Shanghai (Monday night shift ends 08:00 Tuesday).
    assert on_call_user_ids(ROSTER, datetime(2026, 3, 2, 23, 59, tzinfo=UTC), "Asia/Shanghai") == [11]
    # Tuesday 08:00 Shanghai: nobody (no Tuesday day shift).
    assert on_call_user_ids(ROSTER, datetime(2026, 3, 3, 0, 0, tzinfo=UTC), "Asia/Shanghai") == []


def test_wall_clock_shifts_survive_daylight_saving() -> None:
    # New York: Monday 09:00 local is 14:00 UTC before the March change and 13:00 UTC after it.
    assert on_call_user_ids(ROSTER, datetime(2026, 3, 2, 14, 0, tzinfo=UTC), "America/New_York") == [10, 12]
    assert on_call_user_ids(ROSTER, datetime(2026, 3, 9, 13, 0, tzinfo=UTC), "America/New_York") == [10, 12]
