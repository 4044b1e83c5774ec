"""Alert rows: open-or-update an episode by its de-duplication key, resolve, list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb


@dataclass(frozen=True, slots=True)
class AlertUpsert:
    """Result of raising a condition: the alert id and whether this opened a new episode."""

    alert_id: int
    opened: bool


async def open_or_update_alert(
    conn: psycopg.AsyncConnection,
    *,
    patient_id: int,
    rule_id: str,
    severity: str,
    dedup_key: str,
    summary: str,
    evidence: dict[str, Any],
    now: datetime,
) -> AlertUpsert:
    """Open a new alert episode, or update the evidence of the open one with the same key."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            """
            INSERT INTO alerts (patient_id, rule_id, severity, dedup_key, summary, evidence, opened_at, updated_at)
            VALUES (%(patient_id)s, %(rule_id)s, %(severity)s, %(dedup_key)s, %(summary)s, %(evidence)s, %(now)s, %(now)s)
            ON CONFLICT (dedup_key) WHERE status <> 'resolved'
            DO UPDATE SET evidence = EXCLUDED.evidence, summary = EXCLUDED.summary, updated_at = EXCLUDED.updated_at
            RETURNING id, (xmax = 0) AS opened
            """,
            {
                "patient_id": patient_id, "rule_id": rule_id, "severity": severity, "dedup_key": dedup_key,
                "summary": summary, "evidence": Jsonb(evidence), "now": now,
            },
        )
        row = await cur.fetchone()
    assert row is not None
    return AlertUpsert(alert_id=int(row["id"]), opened=bool(row["opened"]))


async def resolve_alert(conn: psycopg.AsyncConnection, dedup_key: str, now: datetime) -> int | None:
    """Resolve the open episode with this key, if any; returns its id."""
    row = await (
        await conn.execute(
            "UPDATE alerts SET status = 'resolved', resolved_at = %s, updated_at = %s"
            " WHERE dedup_key = %s AND status <> 'resolved' RETURNING id",
            (now, now, dedup_key),
        )
    ).fetchone()
    if row is None:
        return None
    return int(row["id"] if isinstance(row, dict) else row[0])


async def patient_alerts(conn: psycopg.AsyncConnection, patient_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """A patient's alerts, newest first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT id, rule_id, severity, status, summary, evidence, opened_at, updated_at, resolved_at"
            " FROM alerts WHERE patient_id = %s ORDER BY opened_at DESC LIMIT %s",
            (patient_id, limit),
        )
        return await cur.fetchall()
