"""Per-patient and per-segment overrides of alert rule parameters."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from vitalgate.store.db import scalar


async def list_overrides(conn: psycopg.AsyncConnection, patient_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """All segment overrides plus the patient overrides of these patients (all if None)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT id, rule_id, patient_id, segment, priority, enabled, params FROM alert_rule_overrides"
            " WHERE segment IS NOT NULL OR %(p)s::bigint[] IS NULL OR patient_id = ANY(%(p)s::bigint[])"
            " ORDER BY priority, id",
            {"p": patient_ids},
        )
        return await cur.fetchall()


async def set_patient_override(
    conn: psycopg.AsyncConnection, rule_id: str, patient_id: int, params: dict[str, Any], *, enabled: bool = True
) -> int:
    """Create or replace one patient's override of a rule."""
    override_id = await scalar(
        conn,
        "INSERT INTO alert_rule_overrides (rule_id, patient_id, params, enabled) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (rule_id, patient_id) WHERE patient_id IS NOT NULL"
        " DO UPDATE SET params = EXCLUDED.params, enabled = EXCLUDED.enabled RETURNING id",
        (rule_id, patient_id, Jsonb(params), enabled),
    )
    return int(override_id)


async def set_segment_override(
    conn: psycopg.AsyncConnection,
    rule_id: str,
    segment: str,
    params: dict[str, Any],
    *,
    enabled: bool = True,
    priority: int = 0,
) -> int:
    """Create or replace a segment's (tag expression's) override of a rule."""
    override_id = await scalar(
        conn,
        "INSERT INTO alert_rule_overrides (rule_id, segment, params, enabled, priority) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (rule_id, segment) WHERE segment IS NOT NULL"
        " DO UPDATE SET params = EXCLUDED.params, enabled = EXCLUDED.enabled, priority = EXCLUDED.priority"
        " RETURNING id",
        (rule_id, segment, Jsonb(params), enabled, priority),
    )
    return int(override_id)


async def delete_override(conn: psycopg.AsyncConnection, override_id: int) -> bool:
    """Remove an override; False if it did not exist."""
    cur = await conn.execute("DELETE FROM alert_rule_overrides WHERE id = %s", (override_id,))
    return cur.rowcount == 1
