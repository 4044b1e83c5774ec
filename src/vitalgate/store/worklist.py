"""The worklist at program scale: server-side filters, keyset pages, true totals, recently closed.

A page is one index range of tasks_active_order_idx (migration 0018) in (severity rank, due, id)
order; the totals are one GROUP BY over the same filter, so they count every matching task and not
the rows of one page.
"""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import class_row, tuple_row

from vitalgate.domain import Severity
from vitalgate.store.worklist_rows import SeverityTotals, WorklistCursor, WorklistFilter, WorklistRow

_COLUMNS = sql.SQL(
    """
    t.id, t.alert_id, t.patient_id, p.external_ref AS patient_ref, p.display_name AS patient_name,
    p.tags AS patient_tags, t.care_team_id, t.assignee_id, u.display_name AS assignee, t.severity,
    vg_severity_rank(t.severity) AS severity_rank, t.status, t.title, t.due_at,
    (t.closed_at IS NULL AND t.due_at < %(now)s) AS overdue, t.kind, t.escalation_chain,
    COALESCE(t.escalation_step + 1, 0) AS escalation_level,
    (SELECT tp.channel FROM touchpoints tp WHERE tp.task_id = t.id AND tp.fired_at IS NULL
       AND tp.cancelled_at IS NULL ORDER BY tp.step_index LIMIT 1) AS next_touchpoint,
    t.acknowledged_at, t.patient_responded_at, t.created_at, t.closed_at, t.outcome,
    a.rule_id, a.evidence->>'rule_kind' AS rule_kind, a.evidence, t.title_key, t.title_params
    """
)
_FROM = sql.SQL(
    """
    FROM tasks t
    JOIN patients p ON p.id = t.patient_id
    LEFT JOIN users u ON u.id = t.assignee_id
    LEFT JOIN alerts a ON a.id = t.alert_id
    """
)


def _where(f: WorklistFilter) -> sql.Composed:
    """The filter as SQL over tasks t / patients p / alerts a (parameters by name, see _params)."""
    parts = [sql.SQL("t.care_team_id = ANY(%(teams)s)"), sql.SQL("t.status = ANY(%(statuses)s)")]
    if f.severities:
        parts.append(sql.SQL("t.severity = ANY(%(severities)s)"))
    if f.unassigned:
        parts.append(sql.SQL("t.assignee_id IS NULL"))
    elif f.assignee_id is not None:
        parts.append(sql.SQL("t.assignee_id = %(assignee)s"))
    if f.rule_kind:
        parts.append(sql.SQL("(a.evidence->>'rule_kind' = %(rule_kind)s OR (a.id IS NULL AND t.kind = %(rule_kind)s))"))
    if f.overdue is not None:
        parts.append(sql.SQL("(t.due_at < %(now)s) = %(overdue)s"))
    if f.patient_responded is not None:
        parts.append(sql.SQL("(t.patient_responded_at IS NOT NULL) = %(responded)s"))
    if f.tag:
        parts.append(sql.SQL("p.tags @> ARRAY[%(tag)s]::text[]"))
    if f.search:
        parts.append(sql.SQL("(p.display_name ILIKE %(search)s OR p.external_ref ILIKE %(search)s)"))
    if f.program:
        parts.append(
            sql.SQL(
                "(SELECT e.step FROM program_enrolment_events e WHERE e.patient_id = t.patient_id"
                " AND e.program_id = %(program)s ORDER BY e.at DESC, e.id DESC LIMIT 1)"
                " IN ('enrolled', 'active', 'paused')"
            )
        )
    if f.program and f.arm:
        parts.append(
            sql.SQL(
                "EXISTS (SELECT 1 FROM program_allocations al WHERE al.patient_id = t.patient_id"
                " AND al.program_id = %(program)s AND al.arm = %(arm)s)"
            )
        )
    return sql.SQL(" AND ").join(parts)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _params(f: WorklistFilter, now: datetime) -> dict[str, object]:
    return {
        "teams": list(f.care_team_ids),
        "statuses": list(f.statuses),
        "severities": list(f.severities),
        "assignee": f.assignee_id,
        "rule_kind": f.rule_kind,
        "overdue": f.overdue,
        "responded": f.patient_responded,
        "tag": f.tag,
        "search": f"%{_escape_like(f.search.strip())}%" if f.search else None,
        "program": f.program,
        "arm": f.arm,
        "now": now,
    }


async def worklist_page(
    conn: psycopg.AsyncConnection,
    f: WorklistFilter,
    *,
    now: datetime,
    after: WorklistCursor | None = None,
    limit: int = 50,
) -> list[WorklistRow]:
    """One page of matching tasks, urgent before high before routine, then by due time."""
    params = _params(f, now) | {"limit": limit}
    keyset = sql.SQL("")
    if after is not None:
        keyset = sql.SQL(" AND (vg_severity_rank(t.severity), t.due_at, t.id) > (%(a_rank)s, %(a_due)s, %(a_id)s)")
        params |= {"a_rank": after.rank, "a_due": after.due_at, "a_id": after.task_id}
    # Choose the page's task ids first, then read the per-row columns (the next step's subquery,
    # the alert's evidence) for those rows only, not for every matching task before the LIMIT.
    query = sql.SQL(
        "WITH page AS (SELECT t.id, vg_severity_rank(t.severity) AS rank, t.due_at {} WHERE {}{}"
        " ORDER BY vg_severity_rank(t.severity), t.due_at, t.id LIMIT %(limit)s)"
        " SELECT {} FROM page JOIN tasks t ON t.id = page.id JOIN patients p ON p.id = t.patient_id"
        " LEFT JOIN users u ON u.id = t.assignee_id LEFT JOIN alerts a ON a.id = t.alert_id"
        " ORDER BY page.rank, page.due_at, page.id"
    ).format(_FROM, _where(f), keyset, _COLUMNS)
    async with conn.cursor(row_factory=class_row(WorklistRow)) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


async def severity_totals(conn: psycopg.AsyncConnection, f: WorklistFilter, *, now: datetime) -> SeverityTotals:
    """How many tasks match the filter, by severity, and how many of them are overdue."""
    query = sql.SQL(
        "SELECT t.severity, count(*), count(*) FILTER (WHERE t.due_at < %(now)s) {} WHERE {} GROUP BY t.severity"
    ).format(_FROM, _where(f))
    by_severity = {s: 0 for s in Severity}
    overdue = 0
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(query, _params(f, now))
        rows = await cur.fetchall()
    for severity, n, late in rows:
        by_severity[Severity(severity)] = int(n)
        overdue += int(late)
    return SeverityTotals(by_severity, overdue)


async def recently_closed(
    conn: psycopg.AsyncConnection, care_team_ids: list[int], *, now: datetime, limit: int = 10
) -> list[WorklistRow]:
    """The teams' most recently closed tasks, newest first (tasks_closed_recent_idx)."""
    query = sql.SQL(
        "SELECT {} {} WHERE t.care_team_id = ANY(%(teams)s) AND t.closed_at IS NOT NULL"
        " ORDER BY t.closed_at DESC, t.id DESC LIMIT %(limit)s"
    ).format(_COLUMNS, _FROM)
    async with conn.cursor(row_factory=class_row(WorklistRow)) as cur:
        await cur.execute(query, {"teams": care_team_ids, "now": now, "limit": limit})
        return await cur.fetchall()


async def team_tags(conn: psycopg.AsyncConnection, care_team_ids: list[int]) -> list[str]:
    """Tags in use on the teams' patients (the worklist's tag filter offers these)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT DISTINCT unnest(tags) AS tag FROM patients WHERE care_team_id = ANY(%s) ORDER BY 1 LIMIT 200",
            (care_team_ids,),
        )
        return [str(r[0]) for r in await cur.fetchall()]


async def newest_task_id(conn: psycopg.AsyncConnection, care_team_ids: list[int]) -> int:
    """The highest task id of the teams (0 for none): where a live worklist starts watching."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute("SELECT COALESCE(max(id), 0) FROM tasks WHERE care_team_id = ANY(%s)", (care_team_ids,))
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def tasks_opened_after(
    conn: psycopg.AsyncConnection, care_team_ids: list[int], after_id: int, *, now: datetime, limit: int = 50
) -> list[WorklistRow]:
    """Active tasks of the teams opened after `after_id` (ids only grow), oldest first."""
    query = sql.SQL(
        "SELECT {} {} WHERE t.care_team_id = ANY(%(teams)s) AND t.id > %(after)s"
        " AND t.status IN ('open', 'in_progress') ORDER BY t.id LIMIT %(limit)s"
    ).format(_COLUMNS, _FROM)
    async with conn.cursor(row_factory=class_row(WorklistRow)) as cur:
        await cur.execute(query, {"teams": care_team_ids, "after": after_id, "now": now, "limit": limit})
        return await cur.fetchall()


async def team_programs(conn: psycopg.AsyncConnection, care_team_ids: list[int]) -> list[str]:
    """Care programs the teams' patients are enrolled in (the worklist's program filter offers these)."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            "SELECT DISTINCT e.program_id FROM program_enrolment_events e JOIN patients p ON p.id = e.patient_id"
            " WHERE p.care_team_id = ANY(%s) ORDER BY 1 LIMIT 100",
            (care_team_ids,),
        )
        return [str(r[0]) for r in await cur.fetchall()]
