"""The time rule: from a device's own clock to UTC.

- `device_time` is what the device reported: base time plus its time-offset field, naive, in the
  device's clock (home devices keep local wall time).
- At each sync the hub reads the device clock (Current Time, 0x2A2B) and the host clock together;
  `clock_offset = device_now - host_local_now`. A meter set an hour fast, or to the wrong year,
  yields a matching offset that is subtracted from every record of that sync.
- `measured_at = (device_time - clock_offset)` read as the hub's local time, converted to UTC.
  When the device exposes no clock the offset is taken as zero (documented limitation).
- `received_at` is when the hub received the record (UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo


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
