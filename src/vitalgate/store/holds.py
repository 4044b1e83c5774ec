"""Which staged readings are held for review, and why: one statement between the staging COPY and the merge.

Held rows leave the staging table before partitions are created and before the merge, so a
reading outside the time window never creates a partition (issue 13: one message with 1,000
distinct old months created 1,000 partitions) and is never filed to a patient nor evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

# Device clocks drift and time zones confuse; more than a day ahead of the server is not a real time.
MAX_FUTURE = timedelta(days=1)
# Settings.ingest_horizon_days default: a meter keeps ~1 year of records (e.g. 500-1,000 results),
# so a first sync of a year-old meter still files; anything older is for a person to look at.
DEFAULT_HORIZON_DAYS = 400


class ReviewReason(StrEnum):
    """Why a well-formed reading was not filed (the CHECK constraint of review_queue.reason)."""

    # measured before now minus the retention horizon (Settings.ingest_horizon_days)
    OLDER_THAN_HORIZON = "older_than_horizon"
    # the device is bound now, but no binding covers measured_at (a clock far off, or old memory)
    BEFORE_BINDING = "before_binding"
    # published by a hub that does not own the device (device -> hub ownership, issue 13 item 2)
    FOREIGN_HUB = "foreign_hub"
    # measured further in the future than clocks plausibly drift (MAX_FUTURE)
    FUTURE_TIME = "future_time"


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """measured_at must lie in [oldest, latest] to be filed."""

    oldest: datetime
    latest: datetime

    @classmethod
    def around(cls, now: datetime, horizon_days: int = DEFAULT_HORIZON_DAYS) -> TimeWindow:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return cls(now - timedelta(days=horizon_days), now + MAX_FUTURE)

    def max_new_partitions(self) -> int:
        """UTC months the window touches: the most monthly partitions one batch can create."""
        first, last = self.oldest.astimezone(UTC), self.latest.astimezone(UTC)
        return (last.year - first.year) * 12 + last.month - first.month + 1


@dataclass(frozen=True, slots=True)
class HeldReading:
    """A staged reading moved to the review queue (also when it was already queued by an earlier delivery)."""

    id: UUID
    reason: ReviewReason


def _ts(value: datetime) -> str:
    # isoformat of an aware datetime is digits, '-', ':', '.', '+' and 'T' only: safe as a literal.
    if value.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware")
    return f"'{value.isoformat()}'::timestamptz"


_COVERING = (
    "SELECT {col} FROM device_bindings b WHERE b.device_serial = {t}.device_serial"
    " AND {t}.measured_at >= b.valid_from AND (b.valid_to IS NULL OR {t}.measured_at < b.valid_to)"
)
_OWNER = "SELECT {col} FROM devices w WHERE w.serial = {t}.device_serial AND w.hub_id IS NOT NULL"
_OPEN = "SELECT {col} FROM device_bindings o WHERE o.device_serial = {t}.device_serial AND o.valid_to IS NULL"

_QUEUE_COLUMNS = (
    "reading_id, device_serial, device_kind, device_model, device_manufacturer, gateway_id, kind, measured_at,"
    " device_time, received_at, sequence_number, glucose_mg_dl, systolic_mmhg, diastolic_mmhg, map_mmhg,"
    " pulse_bpm, status, context"
)
_HELD_COLUMNS = ", ".join("h.id" if c == "reading_id" else f"h.{c}" for c in _QUEUE_COLUMNS.split(", "))


def hold_staged_sql(window: TimeWindow) -> str:
    """The statement that moves out-of-window and before-binding rows from readings_staging to review_queue.

    Returns (id, reason) of every held row. The rules, first match wins: from a hub other than the
    device's owner (devices.hub_id, store.hub_ownership), future, older than the horizon, before the
    device's binding (bound now, no binding at measured_at). Unbound devices
    inside the window are not held: they are stored unassigned, as before, for pairing to file.
    """
    oldest, latest = _ts(window.oldest), _ts(window.latest)
    foreign_hub = f"EXISTS ({_OWNER.format(col=1, t='s')} AND w.hub_id <> s.gateway_id)"
    before_binding = (
        f"EXISTS ({_OPEN.format(col=1, t='s')} AND o.valid_from > s.measured_at)"
        f" AND NOT EXISTS ({_COVERING.format(col=1, t='s')})"
    )
    return f"""
WITH c AS MATERIALIZED (
    SELECT s.ctid AS row_ctid, CASE
        WHEN {foreign_hub} THEN '{ReviewReason.FOREIGN_HUB}'
        WHEN s.measured_at > {latest} THEN '{ReviewReason.FUTURE_TIME}'
        WHEN s.measured_at < {oldest} THEN '{ReviewReason.OLDER_THAN_HORIZON}'
        WHEN {before_binding} THEN '{ReviewReason.BEFORE_BINDING}'
    END AS reason
    FROM readings_staging s
), held AS (
    DELETE FROM readings_staging s USING c WHERE s.ctid = c.row_ctid AND c.reason IS NOT NULL
    RETURNING c.reason, s.*
), queued AS (
    INSERT INTO review_queue (reason, detail, patient_id, {_QUEUE_COLUMNS})
    SELECT h.reason,
           CASE h.reason
               WHEN '{ReviewReason.FUTURE_TIME}' THEN 'measured_at is after ' || {latest}
               WHEN '{ReviewReason.OLDER_THAN_HORIZON}' THEN 'measured_at is before the horizon ' || {oldest}
               WHEN '{ReviewReason.FOREIGN_HUB}' THEN 'published by hub ' || h.gateway_id
                   || '; the device belongs to hub ' || ({_OWNER.format(col="w.hub_id", t="h")})
               ELSE 'the device is bound only since ' || ({_OPEN.format(col="o.valid_from", t="h")})
           END,
           coalesce(({_COVERING.format(col="b.patient_id", t="h")} ORDER BY b.valid_from DESC LIMIT 1),
                    ({_OPEN.format(col="o.patient_id", t="h")})),
           {_HELD_COLUMNS}
    FROM (SELECT DISTINCT ON (id) * FROM held ORDER BY id) h
    ON CONFLICT (reading_id) DO NOTHING
)
SELECT id, reason FROM held
"""
