"""The day rollup is used only where it is exact: periods from midnight to midnight UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from vitalgate.store.program_days import whole_utc_days

MIDNIGHT = datetime(2026, 3, 1, tzinfo=UTC)


def test_whole_utc_days_only_from_midnight_to_midnight_utc() -> None:
    assert whole_utc_days(MIDNIGHT, MIDNIGHT + timedelta(days=30))
    assert not whole_utc_days(MIDNIGHT + timedelta(hours=9), MIDNIGHT + timedelta(days=30))
    assert not whole_utc_days(MIDNIGHT, MIDNIGHT + timedelta(days=30, minutes=1))
    shanghai = timezone(timedelta(hours=8))
    assert not whole_utc_days(datetime(2026, 3, 1, tzinfo=shanghai), MIDNIGHT + timedelta(days=1))  # 16:00 UTC
    assert whole_utc_days(datetime(2026, 3, 1, 8, tzinfo=shanghai), MIDNIGHT + timedelta(days=1))
