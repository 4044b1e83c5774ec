"""Clock injection: everything time-based takes a Clock (tests run months in seconds)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimulatedClock needs an aware datetime (UTC)")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class FileClock:
    """Test-only: the time written (ISO 8601) in a file, re-read on every call.

    Lets a test move the clock of a *separate process* (`vitalgate ingest run`, `followup run`):
    the scenario harness writes the simulated time before each batch, so a week replays in seconds.
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    def now(self) -> datetime:
        return _aware(self._path.read_text(encoding="utf-8").strip())


# Test-only clock injection for the long-running processes (`ingest run`, `followup run`; `followup
# tick` also honours it when --now is not given): VITALGATE_FAKE_NOW=<ISO time> freezes the clock,
# VITALGATE_FAKE_NOW=@<file> reads the time from that file on every call. Never set in production.
FAKE_NOW_ENV = "VITALGATE_FAKE_NOW"


def clock_from_env(environ: dict[str, str] | None = None) -> Clock:
    """SystemClock, unless VITALGATE_FAKE_NOW injects a test clock (see FAKE_NOW_ENV)."""
    value = (environ if environ is not None else os.environ).get(FAKE_NOW_ENV, "").strip()
    if not value:
        return SystemClock()
    if value.startswith("@"):
        return FileClock(Path(value[1:]))
    return SimulatedClock(_aware(value))


def _aware(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
