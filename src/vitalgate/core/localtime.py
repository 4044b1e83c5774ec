"""The patient's clock: instants (UTC) to local dates and times of day, and local wall-clock times back.

One helper for every "day" and "hour" in VitalGate (pure; IANA rules through zoneinfo):
- a patient's zone has a history (`ZoneHistory`), so a reading keeps the local time it had when
  it was measured after the patient moves or travels;
- a local wall-clock time is resolved to an instant as RFC 5545 §3.3.5 resolves DATE-TIME with a
  TZID (and Python's `fold=0` does): a time in the spring-forward gap is read with the offset
  before the gap, i.e. moved forward by the gap's length (02:30 → 03:30 in New York); a time
  that occurs twice in the autumn overlap is its first occurrence (the daylight one);
- quiet hours are local wall-clock times (default 21:00–08:00): non-urgent touchpoints wait
  until they end.
SQL aggregates over many readings (the daily rollup, reading days) use PostgreSQL's
`AT TIME ZONE` with the same IANA zone names and the same history (store/README.md).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Column defaults of migration 0011: existing teams stay on UTC (their stored readings were
# labelled in UTC until now); new teams and the demo set their zone explicitly.
DEFAULT_ZONE = "UTC"
# Issue 14: quiet hours default to 21:00–08:00 patient-local.
DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(8, 0)
_DAY = timedelta(days=1)


# Files in the tz directory that are not places: the host's own zone, tzcode's template, and
# "Factory" (an unset clock); right/* zones count leap seconds, which UTC instants here do not.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


class UnknownZoneError(ValueError):
    """Not an IANA time zone name known to this system's tz database."""


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; raises UnknownZoneError (a ValueError) when unknown."""
    if not name or name != name.strip() or name.startswith(("/", ".", "right/")) or ".." in name or name in _NOT_ZONES:
        raise UnknownZoneError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownZoneError(f"unknown time zone {name!r}") from exc


def check_zone(name: str) -> str:
    """The name itself when it is a valid IANA zone (for validators)."""
    zone(name)
    return name


@dataclass(frozen=True, slots=True)
class ZoneSpan:
    """From `valid_from` (aware; None = since always) the patient lived in `zone_name`."""

    zone_name: str
    valid_from: datetime | None = None


@dataclass(frozen=True, slots=True)
class ZoneHistory:
    """A patient's zones over time, oldest first; the first span also covers everything before it."""

    spans: tuple[ZoneSpan, ...]

    def __post_init__(self) -> None:
        if not self.spans:
            raise ValueError("a zone history needs at least one zone")
        starts = [s.valid_from for s in self.spans[1:] if s.valid_from is not None]
        if len(starts) != len(self.spans) - 1:
            raise ValueError("only the first span may start at 'since always'")
        for span in self.spans:
            zone(span.zone_name)
        if starts != sorted(starts):
            raise ValueError("zone spans must be in valid_from order")

    @classmethod
    def fixed(cls, zone_name: str) -> ZoneHistory:
        return cls((ZoneSpan(zone_name),))

    @classmethod
    def of(cls, spans: Sequence[tuple[str, datetime | None]]) -> ZoneHistory:
        return cls(tuple(ZoneSpan(z, f) for z, f in sorted(spans, key=lambda s: _sort_key(s[1]))))

    def zone_name_at(self, instant: datetime) -> str:
        """The zone in force at an instant."""
        keys = [_sort_key(s.valid_from) for s in self.spans]
        i = bisect.bisect_right(keys, _sort_key(_aware(instant))) - 1
        return self.spans[max(i, 0)].zone_name

    @property
    def current(self) -> str:
        return self.spans[-1].zone_name


def _sort_key(value: datetime | None) -> float:
    return float("-inf") if value is None else _aware(value).timestamp()


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant


def _history(where: ZoneHistory | str) -> ZoneHistory:
    return ZoneHistory.fixed(where) if isinstance(where, str) else where


def local_datetime(instant: datetime, where: ZoneHistory | str) -> datetime:
    """The instant as an aware local datetime in the zone in force then."""
    return _aware(instant).astimezone(zone(_history(where).zone_name_at(instant)))


def local_date(instant: datetime, where: ZoneHistory | str) -> date:
    """The patient's calendar date at the instant (a reading day)."""
    return local_datetime(instant, where).date()


def local_time_of_day(instant: datetime, where: ZoneHistory | str) -> time:
    """The patient's wall-clock time at the instant (naive)."""
    return local_datetime(instant, where).time().replace(tzinfo=None)


def local_hour(instant: datetime, where: ZoneHistory | str) -> int:
    """Hour of the patient's day, 0–23 (the daily profile's x axis)."""
    return local_datetime(instant, where).hour


def utc_offset_s(instant: datetime, where: ZoneHistory | str) -> float:
    """Local minus UTC in seconds at the instant (e.g. +28800 in Shanghai)."""
    offset = local_datetime(instant, where).utcoffset()
    assert offset is not None
    return offset.total_seconds()


def to_instant(day: date, wall: time, zone_name: str) -> datetime:
    """The UTC instant of a local date and wall-clock time (RFC 5545 §3.3.5 for gaps and overlaps)."""
    tz = zone(zone_name)
    # fold=0: a gap time is read with the offset before the gap (so it lands after the gap),
    # an overlap time is its first occurrence.
    return datetime.combine(day, wall.replace(tzinfo=None), tzinfo=tz).replace(fold=0).astimezone(UTC)


def wall_clock_or_instant(value: datetime, zone_name: str) -> datetime:
    """An aware datetime as given; a naive one as a wall-clock time in `zone_name` (to_instant's rule).

    For times people type (a visit at "2026-11-02T10:00" is 10:00 where the patient lives).
    """
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    return to_instant(value.date(), value.time(), zone_name)


def start_of_local_day(day: date, zone_name: str) -> datetime:
    """The first instant of a local date (00:00, or the end of a gap at midnight)."""
    return to_instant(day, time(0, 0), zone_name)


def is_quiet(instant: datetime, zone_name: str, quiet_start: time, quiet_end: time) -> bool:
    """Whether the patient's local time is within [quiet_start, quiet_end) (may wrap midnight)."""
    if quiet_start == quiet_end:
        return False
    now = local_time_of_day(instant, zone_name)
    if quiet_start < quiet_end:
        return quiet_start <= now < quiet_end
    return now >= quiet_start or now < quiet_end


def next_allowed(instant: datetime, zone_name: str, quiet_start: time, quiet_end: time) -> datetime:
    """The instant itself outside quiet hours, else the next local `quiet_end` (the patient's morning)."""
    if not is_quiet(instant, zone_name, quiet_start, quiet_end):
        return instant
    local = local_datetime(instant, zone_name)
    day = local.date() if local.time().replace(tzinfo=None) < quiet_end else local.date() + _DAY
    return to_instant(day, quiet_end, zone_name)


def wall_clock_on(anchor: datetime, day_offset: int, wall: time, where: ZoneHistory | str) -> datetime:
    """`wall` local time on the local date `day_offset` days from the anchor's local date (e.g. T-1 at 10:00)."""
    history = _history(where)
    day = local_date(anchor, history) + timedelta(days=day_offset)
    zone_then = history.zone_name_at(start_of_local_day(day, history.zone_name_at(anchor)))
    return to_instant(day, wall, zone_then)


def zone_label(instant: datetime, zone_name: str) -> str:
    """Short label for a time shown in a zone: its abbreviation when it has letters, with the IANA name."""
    abbr = local_datetime(instant, zone_name).tzname() or ""
    return zone_name if abbr in ("", zone_name) or not abbr.isalpha() else f"{abbr}, {zone_name}"
