"""Evaluate rules for the readings an ingest batch stored; open or update alert episodes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import numpy as np
import psycopg

from alerts.rules import DEFAULT_RULES, ThresholdRule, find_breaches
from store import alerts as alert_store


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    """An alert episode touched by this evaluation."""

    alert_id: int
    patient_id: int
    rule_id: str
    severity: str
    title: str
    opened: bool  # False: an open episode got new evidence


async def evaluate_readings(
    conn: psycopg.AsyncConnection,
    reading_ids: Sequence[UUID],
    *,
    now: datetime,
    rules: Sequence[ThresholdRule] = DEFAULT_RULES,
) -> list[RaisedAlert]:
    """Run threshold rules over just-stored readings; idempotent through episode de-duplication."""
    if not reading_ids:
        return []
    cur = await conn.execute(
        "SELECT id, patient_id, kind, glucose_mg_dl, systolic_mmhg, diastolic_mmhg, pulse_bpm"
        " FROM readings WHERE id = ANY(%s) AND patient_id IS NOT NULL",
        (list(reading_ids),),
    )
    rows = await cur.fetchall()
    if not rows:
        return []
    raised: list[RaisedAlert] = []
    for rule in rules:
        subset = [r for r in rows if r["kind"] == rule.kind and r[rule.field] is not None]
        if not subset:
            continue
        patient_ids = np.fromiter((r["patient_id"] for r in subset), dtype=np.int64, count=len(subset))
        ids = np.array([str(r["id"]) for r in subset], dtype=object)
        values = np.fromiter((r[rule.field] for r in subset), dtype=np.float64, count=len(subset))
        for breach in find_breaches(rule, patient_ids, ids, values):
            upsert = await alert_store.open_or_update_alert(
                conn,
                patient_id=breach.patient_id,
                rule_id=rule.id,
                severity=rule.severity,
                # One episode per patient and rule while it is open.
                dedup_key=f"{breach.patient_id}:{rule.id}",
                summary=f"{rule.title}: lowest {breach.worst_value:g} {rule.unit}" if rule.op == "<"
                else f"{rule.title}: highest {breach.worst_value:g} {rule.unit}",
                evidence={"reading_ids": list(breach.reading_ids), "worst": breach.worst_value, "unit": rule.unit},
                now=now,
            )
            raised.append(
                RaisedAlert(upsert.alert_id, breach.patient_id, rule.id, rule.severity, rule.title, upsert.opened)
            )
    return raised
