"""Alert rows: open-or-update an episode by its de-duplication key, resolve, list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row, dict_row, tuple_row
from psycopg.types.json import Jsonb

from vitalgate.i18n.values import text_key
from vitalgate.store.db import column, scalar
from vitalgate.store.rows import ALERT_COLUMNS, Alert


@dataclass(frozen=True, slots=True)
class AlertUpsert:
    """Result of raising a condition: the alert id and whether this opened a new episode."""

    alert_id: int
    opened: bool


@dataclass(frozen=True, slots=True)
class OpenEpisode:
    """The open (or acknowledged) episode of a patient and rule, as the engine needs it."""

    alert_id: int
    dedup_key: str
    event_start: float | None  # epoch s of the event's first breaching reading (reading rules)
    worst: float | None


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
    key, params = text_key(summary)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            """
            INSERT INTO alerts (patient_id, rule_id, severity, dedup_key, summary, summary_key, summary_params,
                                evidence, opened_at, updated_at)
            VALUES (%(patient_id)s, %(rule_id)s, %(severity)s, %(dedup_key)s, %(summary)s, %(summary_key)s,
                    %(summary_params)s, %(evidence)s, %(now)s, %(now)s)
            ON CONFLICT (dedup_key) WHERE status <> 'resolved'
            DO UPDATE SET evidence = EXCLUDED.evidence, summary = EXCLUDED.summary, summary_key = EXCLUDED.summary_key,
                          summary_params = EXCLUDED.summary_params, updated_at = EXCLUDED.updated_at
            RETURNING id, (xmax = 0) AS opened
            """,
            {
                "patient_id": patient_id,
                "rule_id": rule_id,
                "severity": severity,
                "dedup_key": dedup_key,
                "summary": str(summary),
                # The summary as msgid + parameters too: pages translate it and convert its glucose values.
                "summary_key": key,
                "summary_params": Jsonb(params),
                "evidence": Jsonb(evidence),
                "now": now,
            },
        )
        row = await cur.fetchone()
    assert row is not None
    return AlertUpsert(alert_id=int(row["id"]), opened=bool(row["opened"]))


async def resolve_alert(
    conn: psycopg.AsyncConnection, dedup_key: str, now: datetime, *, by: str | None = None
) -> int | None:
    """Resolve the open episode with this key, if any (by: the person; None = condition cleared)."""
    alert_id = await scalar(
        conn,
        "UPDATE alerts SET status = 'resolved', resolved_at = %s, updated_at = %s, resolved_by = %s"
        " WHERE dedup_key = %s AND status <> 'resolved' RETURNING id",
        (now, now, by, dedup_key),
    )
    return None if alert_id is None else int(alert_id)


async def patient_alerts(conn: psycopg.AsyncConnection, patient_id: int, limit: int = 100) -> list[Alert]:
    """A patient's alerts, newest first."""
    async with conn.cursor(row_factory=class_row(Alert)) as cur:
        await cur.execute(
            f"SELECT {ALERT_COLUMNS} FROM alerts WHERE patient_id = %s ORDER BY opened_at DESC LIMIT %s",
            (patient_id, limit),
        )
        return await cur.fetchall()


async def resolve_alert_by_id(conn: psycopg.AsyncConnection, alert_id: int, now: datetime, *, by: str) -> bool:
    """A person resolves an episode; False if it was already resolved."""
    cur = await conn.execute(
        "UPDATE alerts SET status = 'resolved', resolved_at = %s, updated_at = %s, resolved_by = %s"
        " WHERE id = %s AND status <> 'resolved'",
        (now, now, by, alert_id),
    )
    return cur.rowcount == 1


async def acknowledge_alert(conn: psycopg.AsyncConnection, alert_id: int, now: datetime, *, by: str) -> bool:
    """open -> acknowledged; False if the episode is not open."""
    cur = await conn.execute(
        "UPDATE alerts SET status = 'acknowledged', acknowledged_at = %s, acknowledged_by = %s, updated_at = %s"
        " WHERE id = %s AND status = 'open'",
        (now, by, now, alert_id),
    )
    return cur.rowcount == 1


async def open_episodes(
    conn: psycopg.AsyncConnection, patient_ids: list[int], rule_ids: list[str]
) -> dict[tuple[int, str], OpenEpisode]:
    """Open or acknowledged episodes of these patients and rules, keyed by (patient, rule)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT id, patient_id, rule_id, dedup_key, (evidence ->> 'event_start_ts')::float8 AS event_start,"
            " (evidence ->> 'worst')::float8 AS worst FROM alerts"
            " WHERE status <> 'resolved' AND patient_id = ANY(%s::bigint[]) AND rule_id = ANY(%s::text[])",
            (patient_ids, rule_ids),
        )
        return {
            (int(pid), rule): OpenEpisode(int(aid), key, start, worst)
            for aid, pid, rule, key, start, worst in await cur.fetchall()
        }


async def last_person_resolutions(
    conn: psycopg.AsyncConnection, patient_ids: list[int], since: datetime
) -> dict[tuple[int, str], datetime]:
    """Latest resolution by a person since `since`, keyed by (patient, rule): drives cooldowns."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT patient_id, rule_id, max(resolved_at) AS at FROM alerts"
            " WHERE resolved_by IS NOT NULL AND resolved_at >= %s AND patient_id = ANY(%s::bigint[])"
            " GROUP BY patient_id, rule_id",
            (since, patient_ids),
        )
        return {(int(pid), rule): at for pid, rule, at in await cur.fetchall()}


async def get_alert(conn: psycopg.AsyncConnection, alert_id: int) -> Alert | None:
    """One alert row."""
    async with conn.cursor(row_factory=class_row(Alert)) as cur:
        await cur.execute(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id = %s", (alert_id,))
        return await cur.fetchone()


@dataclass(frozen=True, slots=True)
class EpisodeWrite:
    """One active finding to record as an open episode."""

    patient_id: int
    rule_id: str
    severity: str
    dedup_key: str
    summary: str
    evidence: dict[str, Any]


# One statement for a whole evaluation: rows whose evidence did not change are not rewritten
# (and not returned), so a steady-state re-evaluation writes almost nothing. Arrays go in binary
# (%b): the text array dumper escapes every string with a regex, which dominated the profile.
_UPSERT_MANY = """
INSERT INTO alerts (patient_id, rule_id, severity, dedup_key, summary, evidence, opened_at, updated_at)
SELECT u.patient_id, u.rule_id, u.severity, u.dedup_key, u.summary, u.evidence, %(now)s, %(now)s
FROM unnest(%(patient)b::bigint[], %(rule)b::text[], %(severity)b::text[], %(key)b::text[], %(summary)b::text[],
            %(evidence)b::jsonb[]) AS u(patient_id, rule_id, severity, dedup_key, summary, evidence)
ON CONFLICT (dedup_key) WHERE status <> 'resolved'
DO UPDATE SET evidence = EXCLUDED.evidence, summary = EXCLUDED.summary, updated_at = EXCLUDED.updated_at
WHERE alerts.evidence IS DISTINCT FROM EXCLUDED.evidence
RETURNING id, patient_id, rule_id, (xmax = 0) AS opened
"""


async def upsert_episodes(
    conn: psycopg.AsyncConnection, items: list[EpisodeWrite], now: datetime
) -> list[tuple[int, int, str, bool]]:
    """Open or update many episodes at once: [(alert id, patient, rule, opened)] for rows written."""
    if not items:
        return []
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            _UPSERT_MANY,
            {
                "now": now,
                "patient": [i.patient_id for i in items],
                "rule": [i.rule_id for i in items],
                "severity": [i.severity for i in items],
                "key": [i.dedup_key for i in items],
                "summary": [i.summary for i in items],
                "evidence": [Jsonb(i.evidence) for i in items],
            },
        )
        rows = await cur.fetchall()
    return [(int(rid), int(pid), rule, bool(opened)) for rid, pid, rule, opened in rows]


async def resolve_episodes(
    conn: psycopg.AsyncConnection, dedup_keys: list[str], now: datetime
) -> list[tuple[int, str]]:
    """Auto-resolve the open episodes with these keys: [(alert id, dedup key)]."""
    if not dedup_keys:
        return []
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "UPDATE alerts SET status = 'resolved', resolved_at = %s, updated_at = %s"
            " WHERE dedup_key = ANY(%s::text[]) AND status <> 'resolved' RETURNING id, dedup_key",
            (now, now, dedup_keys),
        )
        return [(int(rid), key) for rid, key in await cur.fetchall()]


async def attach_to_task(conn: psycopg.AsyncConnection, alert_id: int, task_id: int) -> None:
    """Record that an episode is handled in an existing task (a repeat, or part of a worse event)."""
    await conn.execute("UPDATE alerts SET task_id = %s WHERE id = %s", (task_id, alert_id))


async def resolve_task_episodes(
    conn: psycopg.AsyncConnection, task_id: int, alert_id: int | None, now: datetime, *, by: str
) -> list[int]:
    """A person closed a task: its episode and the episodes added to it are handled (resolved by them)."""
    resolved = await column(
        conn,
        "UPDATE alerts SET status = 'resolved', resolved_at = %s, updated_at = %s, resolved_by = %s"
        " WHERE (id = %s OR task_id = %s) AND status <> 'resolved' RETURNING id",
        (now, now, by, alert_id, task_id),
    )
    return [int(i) for i in resolved]
