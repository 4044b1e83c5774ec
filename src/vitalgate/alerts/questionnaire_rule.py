"""Questionnaire rules: a score of the patient's latest completed response beyond a limit (no readings)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np
import psycopg

from vitalgate.alerts.config import QuestionnaireRule
from vitalgate.alerts.finding import Finding
from vitalgate.alerts.frame import compare
from vitalgate.store import questionnaires as q_store
from vitalgate.store.questionnaire_rows import LatestScore

# {(questionnaire, score): {patient: latest score}}
ScoreInputs = Mapping[tuple[str, str], Mapping[int, LatestScore]]


async def score_inputs(
    conn: psycopg.AsyncConnection, patient_ids: Sequence[int], rules: Sequence[QuestionnaireRule], now: datetime
) -> ScoreInputs:
    """The latest scores the questionnaire rules need (nothing is read when there are none)."""
    if not rules:
        return {}
    since = now - timedelta(days=max(r.within_days for r in rules))
    wanted = sorted({(r.questionnaire, r.score) for r in rules})
    out: dict[tuple[str, str], dict[int, LatestScore]] = {}
    for row in await q_store.latest_scores(conn, patient_ids, wanted, since):
        out.setdefault((row.questionnaire_id, row.name), {})[row.patient_id] = row
    return out


def evaluate_questionnaire(
    rule: QuestionnaireRule, scores: ScoreInputs, patients: np.ndarray, now: float, keep: np.ndarray | None = None
) -> list[Finding]:
    """Active when the latest response (completed within `within_days`) meets the condition.

    Patients without such a response are left out (unknown); `keep` is not needed: a patient
    with a response has a known state either way.
    """
    latest = scores.get((rule.questionnaire, rule.score), {})
    findings = []
    for pid in patients.tolist():
        row = latest.get(int(pid))
        if row is None:
            continue
        completed = row.completed_at.timestamp()
        if completed < now - rule.within_days * 86400:
            continue
        active = bool(compare(np.array([row.value]), rule.op, rule.value)[0])
        findings.append(
            Finding(
                int(pid),
                active,
                row.value,
                f"{rule.title}: {rule.questionnaire} {rule.score} = {row.value:g} ({rule.op} {rule.value:g})",
                {
                    "questionnaire": rule.questionnaire,
                    "score": rule.score,
                    "value": row.value,
                    "response_id": row.response_id,
                    "completed_at": row.completed_at.isoformat(),
                },
                latest_at=completed,
            )
        )
    return findings
