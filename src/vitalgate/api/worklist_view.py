"""What a worklist row shows, from its store row: the triggering value with unit and the patient's
local time ("48 mg/dL · 07:31"), the newest reading as text, and the keyset cursor of a page."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vitalgate.api.glucose_display import format_glucose
from vitalgate.api.web_locale import PageLocale
from vitalgate.core.localtime import ZoneHistory, local_datetime
from vitalgate.store.worklist_rows import LatestReading, WorklistCursor, WorklistRow

_VALUE_FIELDS = ("glucose_mg_dl", "systolic_mmhg", "diastolic_mmhg", "pulse_bpm")


@dataclass(frozen=True, slots=True)
class Trigger:
    """The reading that opened (or worsened) the task's alert."""

    text: str  # "48 mg/dL" or "182/101 mmHg" (stored units)
    at: datetime | None
    local_time: str | None  # "07:31" in the patient's zone
    glucose_mg_dl: float | None = None  # set for a glucose trigger: pages show it in the viewer's unit


def _parse_at(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _reading_text(reading: dict[str, Any], unit: str) -> str | None:
    if reading.get("systolic_mmhg") is not None and reading.get("diastolic_mmhg") is not None:
        return f"{reading['systolic_mmhg']:g}/{reading['diastolic_mmhg']:g} {unit or 'mmHg'}"
    for name in _VALUE_FIELDS:
        if isinstance(reading.get(name), int | float):
            return f"{reading[name]:g} {unit}".strip()
    return None


def trigger_of(evidence: dict[str, Any] | None, zone: ZoneHistory | str | None) -> Trigger | None:
    """The worst evidence reading (the one whose value is the episode's worst; else the newest)."""
    if not evidence:
        return None
    readings = [r for r in evidence.get("readings") or [] if isinstance(r, dict)]
    worst, unit = evidence.get("worst"), str(evidence.get("unit") or "")
    picked = next(
        (r for r in reversed(readings) if worst is not None and worst in (r.get(f) for f in _VALUE_FIELDS)), None
    )
    picked = picked or (readings[-1] if readings else None)
    if picked is None:
        if isinstance(worst, int | float):
            return Trigger(f"{worst:g} {unit}".strip(), None, None)
        return None
    text = _reading_text(picked, str(picked.get("unit") or unit))
    if text is None:
        return None
    at = _parse_at(picked.get("at"))
    local = local_datetime(at, zone).strftime("%H:%M") if at is not None and zone is not None else None
    value = picked.get("glucose_mg_dl")
    return Trigger(text, at, local, float(value) if isinstance(value, int | float) else None)


def trigger_display(trigger: Trigger, locale: PageLocale) -> str:
    """The trigger in the viewer's glucose unit and number format ('2.7 mmol/L')."""
    if trigger.glucose_mg_dl is None:
        return trigger.text
    return f"{format_glucose(trigger.glucose_mg_dl, locale.glucose_unit, locale.language)} {locale.glucose_unit}"


def latest_display(reading: LatestReading, locale: PageLocale) -> str:
    if reading.glucose_mg_dl is not None:
        return f"{format_glucose(reading.glucose_mg_dl, locale.glucose_unit, locale.language)} {locale.glucose_unit}"
    return latest_text(reading) or "—"


def latest_text(reading: LatestReading | None) -> str | None:
    if reading is None:
        return None
    if reading.glucose_mg_dl is not None:
        return f"{reading.glucose_mg_dl:g} mg/dL"
    if reading.systolic_mmhg is not None and reading.diastolic_mmhg is not None:
        return f"{reading.systolic_mmhg:g}/{reading.diastolic_mmhg:g} mmHg"
    return None


def encode_cursor(row: WorklistRow) -> str:
    raw = f"{row.severity_rank}|{row.due_at.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> WorklistCursor:
    """Raises ValueError for anything that is not a cursor this module wrote."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        rank, due, task_id = raw.split("|")
        cursor = WorklistCursor(int(rank), datetime.fromisoformat(due), int(task_id))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("not a worklist cursor") from exc
    if cursor.due_at.tzinfo is None or not 0 <= cursor.rank <= 2:
        raise ValueError("not a worklist cursor")
    return cursor
