"""gateway.timing.place_records: when a device clock is usable, and where readings go when it is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vitalgate.gateway.timing import place_records

RECEIVED = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HUB_LOCAL = datetime(2026, 11, 29, 12, 0)  # the hub's local wall time (UTC here)


def test_usable_cts_clock_is_not_flagged() -> None:
    p = place_records([HUB_LOCAL - timedelta(hours=1)], timedelta(hours=3), RECEIVED, UTC)
    assert (p.uncertain, p.measured_at) == (False, None)


def test_cts_clock_beyond_the_limit_is_flagged_and_corrected_by_its_offset() -> None:
    p = place_records([HUB_LOCAL], timedelta(days=-365), RECEIVED, UTC, max_skew_hours=24)
    assert (p.uncertain, p.measured_at) == (True, None)


def test_no_cts_plausible_newest_keeps_device_times_flagged() -> None:
    p = place_records([HUB_LOCAL - timedelta(hours=20)], None, RECEIVED, UTC, max_skew_hours=24)
    assert (p.uncertain, p.measured_at) == (True, None)


def test_no_cts_implausible_newest_is_placed_at_reception_keeping_spacing() -> None:
    year_ago = HUB_LOCAL - timedelta(days=365)
    times = [year_ago - timedelta(hours=5), year_ago, year_ago - timedelta(minutes=30)]
    p = place_records(times, None, RECEIVED, UTC, max_skew_hours=24)
    assert p.uncertain
    assert p.measured_at == [RECEIVED - timedelta(hours=5), RECEIVED, RECEIVED - timedelta(minutes=30)]
    future = place_records([HUB_LOCAL + timedelta(days=2)], None, RECEIVED, UTC, max_skew_hours=24)
    assert future.measured_at == [RECEIVED]
