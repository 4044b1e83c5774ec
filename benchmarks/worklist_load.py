"""A care team at program scale for the worklist benchmark and tests: N patients, M open tasks.

Everything goes through the store's own functions (patients, alerts, tasks, closing), so the rows
look exactly like the ones the alert engine and follow-up write. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg

from vitalgate.core.passwords import hash_password
from vitalgate.domain import Severity
from vitalgate.store import alerts as alert_store
from vitalgate.store import people
from vitalgate.store import tasks as task_store

TAGS = ("type-1", "type-2", "insulin", "hypertension", "pregnancy")
# (rule id, rule kind, severity, title, evidence reading fields, unit, low value, high value)
_RULES = (
    ("glucose-very-low", "threshold", Severity.URGENT, "Glucose below 54 mg/dL", ("glucose_mg_dl",), "mg/dL", 38, 53),
    (
        "bp-crisis",
        "threshold",
        Severity.URGENT,
        "Blood pressure 180/120 or above",
        ("systolic_mmhg",),
        "mmHg",
        181,
        210,
    ),
    (
        "glucose-high-3",
        "consecutive",
        Severity.HIGH,
        "3 readings above 250 mg/dL",
        ("glucose_mg_dl",),
        "mg/dL",
        251,
        390,
    ),
    ("glucose-rising", "trend", Severity.ROUTINE, "Glucose rising over 7 days", ("glucose_mg_dl",), "mg/dL", 181, 240),
    ("no-reading-3-days", "missing_data", Severity.ROUTINE, "No reading for 3 days", (), "", 0, 0),
)


@dataclass
class LoadedTeam:
    team_id: int
    users: dict[str, str] = field(default_factory=dict)  # role key -> username
    user_ids: dict[str, int] = field(default_factory=dict)
    patient_ids: list[int] = field(default_factory=list)
    task_ids: list[int] = field(default_factory=list)


def _evidence(rule: tuple, value: float, at: datetime) -> dict[str, object]:
    _, kind, _, _, fields, unit, _, _ = rule
    if not fields:
        return {"rule_kind": kind, "source": "load", "silent_days": 3}
    reading: dict[str, object] = {"at": at.isoformat(), "unit": unit, fields[0]: value}
    if fields[0] == "systolic_mmhg":
        reading["diastolic_mmhg"] = round(value * 0.62)
    return {"rule_kind": kind, "source": "load", "worst": value, "unit": unit, "readings": [reading]}


async def load_team(
    conn: psycopg.AsyncConnection,
    suffix: str,
    *,
    patients: int,
    open_tasks: int,
    closed_tasks: int = 0,
    now: datetime,
    password: str,
    seed: int = 18,
) -> LoadedTeam:
    """Create the team, a coordinator, two nurses and a doctor, patients and tasks (committed by the caller)."""
    rng = random.Random(seed)
    team = LoadedTeam(await people.create_care_team(conn, f"Scale team {suffix}"))
    pw = hash_password(password)
    for key, role in (("coordinator", "coordinator"), ("nurse", "nurse"), ("nurse2", "nurse"), ("doctor", "doctor")):
        team.users[key] = f"{key}-{suffix}"
        team.user_ids[key] = await people.create_user(
            conn, team.users[key], f"{key.title()} {suffix}", role, password_hash=pw, care_team_id=team.team_id
        )
    for i in range(patients):
        tags = rng.sample(TAGS, rng.randint(0, 2))
        team.patient_ids.append(
            await people.create_patient(
                conn, f"Patient {i:05d} {suffix}", team.team_id, external_ref=f"EXT-{suffix}-{i:05d}", tags=tags
            )
        )
    assignees = [team.user_ids["nurse"], team.user_ids["nurse2"], None]
    for n in range(open_tasks + closed_tasks):
        rule = _RULES[n % len(_RULES)]
        patient = team.patient_ids[n % len(team.patient_ids)]
        opened = now - timedelta(minutes=rng.randint(5, 60 * 24 * 3))
        value = float(rng.randint(rule[6], rule[7])) if rule[4] else 0.0
        alert = await alert_store.open_or_update_alert(
            conn,
            patient_id=patient,
            rule_id=rule[0],
            severity=rule[2],
            dedup_key=f"load-{suffix}-{n}",
            summary=rule[3],
            evidence=_evidence(rule, value, opened - timedelta(minutes=2)),
            now=opened,
        )
        due = opened + {Severity.URGENT: timedelta(minutes=15), Severity.HIGH: timedelta(hours=4)}.get(
            rule[2], timedelta(hours=24)
        )
        task_id = await task_store.create_task_for_alert(
            conn,
            alert_id=alert.alert_id,
            patient_id=patient,
            care_team_id=team.team_id,
            assignee_id=assignees[n % 3],
            severity=rule[2],
            title=rule[3],
            due_at=due,
            now=opened,
        )
        assert task_id is not None
        if n >= open_tasks:
            await task_store.close_task(conn, task_id, outcome="reached", now=opened + timedelta(minutes=30))
        elif n % 7 == 0:
            await task_store.mark_patient_responded(conn, task_id, opened + timedelta(minutes=3))
        team.task_ids.append(task_id)
    return team
