"""Quiet hours: a non-urgent touchpoint that would reach the patient at night waits for their morning.

Urgent tasks are never held (a level-2 low at 23:00 is a call at 23:00). Staff-facing steps
(coordinator, doctor) are not contact with the patient and are never held either. Times are the
patient's local wall clock (vitalgate.core.localtime), default 21:00-08:00 (issue 14).
"""

from __future__ import annotations

from datetime import datetime

from vitalgate.core.localtime import next_allowed
from vitalgate.store.time_zones import PatientClock

# Steps that contact the patient or family (followup.channels); the rest go to staff.
PATIENT_CHANNELS = frozenset({"message", "questionnaire", "voice", "phone"})


def held_until(channel: str, severity: str, now: datetime, clock: PatientClock) -> datetime | None:
    """When the step may go out instead of now, or None when it may go now."""
    if severity == "urgent" or channel not in PATIENT_CHANNELS:
        return None
    allowed = next_allowed(now, clock.history.zone_name_at(now), clock.quiet_start, clock.quiet_end)
    return None if allowed <= now else allowed
