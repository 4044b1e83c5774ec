"""The patient page's explanation of the latest readings, and whether the care team was told."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import psycopg

from vitalgate.api.reading_explain import Explanation, explain_bp, explain_glucose
from vitalgate.api.schemas import LatestReadingOut
from vitalgate.domain import ACTIVE_TASK_STATUSES
from vitalgate.store import tasks as task_store

# A task opened from this reading comes a little after it; a reading synced late may follow a task
# opened on an earlier reading of the same episode.
_TOLD_WINDOW = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Explained:
    reading: LatestReadingOut
    explanation: Explanation
    team_told: bool  # an open task of the care team covers this reading's time


async def explain_latest(
    conn: psycopg.AsyncConnection, patient_id: int, latest: Sequence[LatestReadingOut]
) -> list[Explained]:
    """Each latest reading (glucose, blood pressure) explained, serious ones first."""
    tasks = await task_store.patient_tasks(conn, patient_id, limit=20)
    out = []
    for r in latest:
        if r.glucose_mg_dl is not None:
            explanation = explain_glucose(r.glucose_mg_dl)
        elif r.systolic_mmhg is not None and r.diastolic_mmhg is not None:
            explanation = explain_bp(r.systolic_mmhg, r.diastolic_mmhg)
        else:
            continue
        told = any(
            t.status in ACTIVE_TASK_STATUSES and abs(t.created_at - r.measured_at) <= _TOLD_WINDOW for t in tasks
        )
        out.append(Explained(r, explanation, told))
    return sorted(out, key=lambda e: not e.explanation.serious)
