"""core.clock.clock_from_env: the test-only clock injection of `ingest run` and `followup run/tick`."""

from __future__ import annotations

from datetime import UTC, datetime

from vitalgate.core.clock import FileClock, SimulatedClock, SystemClock, clock_from_env


def test_unset_is_the_system_clock_fixed_time_and_file_clock(tmp_path) -> None:
    assert isinstance(clock_from_env({}), SystemClock)
    fixed = clock_from_env({"VITALGATE_FAKE_NOW": "2026-01-02T03:04:05"})
    assert isinstance(fixed, SimulatedClock) and fixed.now() == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    path = tmp_path / "now.txt"
    path.write_text("2026-01-02T03:04:05+00:00")
    clock = clock_from_env({"VITALGATE_FAKE_NOW": f"@{path}"})
    assert isinstance(clock, FileClock) and clock.now() == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    path.write_text("2026-01-09T00:00:00+00:00")  # another process moves it
    assert clock.now() == datetime(2026, 1, 9, tzinfo=UTC)
