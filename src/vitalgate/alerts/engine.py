"""Evaluate rules for a set of patients and reconcile alert episodes (open, update, auto-resolve).

Used per ingested batch (only the patients it touched, with the batch marked as new readings)
and by the scheduler for every monitored patient (time-based rules: silence, trends at day end).
Idempotent: an open episode per (patient, rule) is updated, never duplicated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import numpy as np
import psycopg

from vitalgate.alerts.config import (
    ConsecutiveRule,
    MissingDataRule,
    QuestionnaireRule,
    RuleSet,
    ThresholdRule,
    TrendRule,
    default_rules,
)
from vitalgate.alerts.episodes import decide, worsened
from vitalgate.alerts.frame import FIELDS, ReadingFrame
from vitalgate.alerts.questionnaire_rule import score_inputs
from vitalgate.alerts.rules import PatientContext, evaluate_rule
from vitalgate.alerts.selection import rule_groups
from vitalgate.core.localtime import ZoneHistory, local_date, utc_offset_s
from vitalgate.store import alert_inputs, monitoring, rule_overrides, time_zones
from vitalgate.store import alerts as alert_store
from vitalgate.store.alerts import OpenEpisode

# Patients per database round trip in a full evaluation: bounds memory (a 30-day window of
# 2,000 patients is ~200k readings) while keeping the per-query overhead small.
CHUNK_PATIENTS = 2000


# What an evaluation did to an episode.
Action = Literal["opened", "updated", "resolved", "worsened"]


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    """An alert episode touched by this evaluation."""

    alert_id: int
    patient_id: int
    rule_id: str
    severity: str
    title: str
    opened: bool  # False: an open episode got new evidence, got worse, or was resolved
    action: Action = "opened"
    escalation: str | None = None
    group_rules: tuple[str, ...] = ()  # rules sharing a task with this one (its group), itself included
    detail: dict[str, Any] | None = None  # "worsened": worst and previous worst


def lookback(ruleset: RuleSet) -> timedelta:
    """How much reading history the rules need (plus a day for day-boundary windows)."""
    days = 1.0
    for r in ruleset.rules:
        if isinstance(r, ThresholdRule):
            days = max(days, r.window_hours / 24)
        elif isinstance(r, ConsecutiveRule):
            days = max(days, r.lookback_days)
        elif isinstance(r, TrendRule):
            days = max(days, r.window_days)
        elif isinstance(r, MissingDataRule):
            # Silence counts whole local dates before today: the last reading may be a day older.
            days = max(days, r.window_days if r.mode == "coverage" else math.ceil(r.silent_days) + 1)
    return timedelta(days=days + 1)


def frame_from_columns(cols: dict[str, list[Any]]) -> ReadingFrame:
    """Columns fetched by store.alert_inputs -> a sorted ReadingFrame."""
    values = {f: np.array(cols[f], dtype=np.float64) for f in FIELDS}  # None -> nan
    return ReadingFrame.from_columns(
        cols["patient"],
        cols["t"],
        cols["kind"],
        values,
        cols["meal"],
        cols["is_new"],
        cols["ids"],
        cols.get("comparator"),
        cols.get("local_t") or None,
    )


def _start_local_day(start: float | None, zones: ZoneHistory | None) -> float:
    """Local day number (days since 1970-01-01 on the wall clock) of a monitoring start; NaN unknown."""
    if start is None:
        return float("nan")
    day = local_date(datetime.fromtimestamp(start, UTC), zones or "UTC")
    return float((day - date(1970, 1, 1)).days)


async def evaluate_patients(
    conn: psycopg.AsyncConnection,
    patient_ids: Sequence[int],
    *,
    now: datetime,
    rules: RuleSet | None = None,
    new_reading_ids: Sequence[UUID] = (),
    clear_only: frozenset[str] = frozenset(),
) -> list[RaisedAlert]:
    """Run every applicable rule for these patients at `now`; caller owns the transaction.

    Rule kinds in `clear_only` may resolve episodes but not open them.
    """
    ruleset = rules or default_rules()
    raised: list[RaisedAlert] = []
    ids = sorted(set(int(p) for p in patient_ids))
    for start in range(0, len(ids), CHUNK_PATIENTS):
        chunk = ids[start : start + CHUNK_PATIENTS]
        raised += await _evaluate_chunk(conn, chunk, now, ruleset, new_reading_ids, clear_only)
    return raised


async def _evaluate_chunk(
    conn, ids: list[int], now: datetime, ruleset: RuleSet, new_ids, clear_only: frozenset[str]
) -> list[RaisedAlert]:
    facts = await alert_inputs.patient_facts(conn, ids)
    ids = sorted(facts)
    if not ids:
        return []
    cols = await alert_inputs.reading_columns(
        conn, ids, since=now - lookback(ruleset), until=now + timedelta(hours=1), new_reading_ids=new_ids
    )
    patients = np.array(ids, dtype=np.int64)
    frame = frame_from_columns(cols).with_universe(patients)
    zones = await time_zones.zone_histories(conn, ids)
    ctx = PatientContext(
        patients,
        np.array([facts[p][1] if facts[p][1] is not None else np.nan for p in ids]),
        np.array([utc_offset_s(now, zones[p]) if p in zones else 0.0 for p in ids]),
        await score_inputs(conn, ids, [r for r in ruleset.rules if isinstance(r, QuestionnaireRule)], now),
        np.array([_start_local_day(facts[p][1], zones.get(p)) for p in ids]),
    )
    overrides = await rule_overrides.list_overrides(conn, ids)
    groups = rule_groups(ruleset, {p: facts[p][0] for p in ids}, overrides)
    # Missing-data and adherence rules judge only patients active now with a bound device; open
    # episodes of the others close with that reason (store/monitoring.py).
    judged = np.array(sorted(await monitoring.adherence_population(conn, ids, now)), dtype=np.int64)
    groups = [(r, m[np.isin(m, judged)] if r.kind == "missing_data" else m) for r, m in groups]
    groups = [(r, m) for r, m in groups if m.size]
    not_judged = [p for p in ids if p not in set(judged.tolist())]
    if not_judged:
        await monitoring.close_missing_data_episodes(conn, not_judged, now, reason="not monitored now")
    episodes = await alert_store.open_episodes(conn, ids, [r.id for r in ruleset.rules])
    # Person closures matter for as long as the readings that caused them can still be in a window.
    horizon = max(lookback(ruleset), timedelta(hours=max((r.cooldown_hours for r in ruleset.rules), default=0.0)))
    closed_by_person = await alert_store.last_person_resolutions(conn, ids, now - horizon)
    groups_of = _group_members(ruleset)
    t_now = now.timestamp()
    writes: list[alert_store.EpisodeWrite] = []
    to_resolve: list[str] = []
    worse: list[tuple[OpenEpisode, Any, Any]] = []
    meta: dict[tuple[int, str], Any] = {}
    open_by_rule: dict[str, set[int]] = {}
    for pid, rule_id in episodes:
        open_by_rule.setdefault(rule_id, set()).add(pid)
    for rule, members in groups:
        # Only patients with an open episode need a "condition cleared" finding.
        watched = open_by_rule.get(rule.id, set())
        keep = np.fromiter((int(p) in watched for p in members), dtype=bool, count=members.size)
        for finding in evaluate_rule(rule, frame, members, t_now, ctx, keep):
            key = (finding.patient_id, rule.id)
            episode = episodes.get(key)
            if finding.active and rule.kind in clear_only:
                continue
            if finding.active:
                action = decide(rule, finding, episode, closed_by_person.get(key), now)
                if action == "skip":
                    continue  # the same event a person already closed
                if action == "restart" and episode is not None:
                    to_resolve.append(episode.dedup_key)  # that event ended; this one is new
                elif worsened(rule, finding, episode) and episode is not None:
                    worse.append((episode, rule, finding))
                meta[key] = rule
                writes.append(
                    alert_store.EpisodeWrite(
                        finding.patient_id,
                        rule.id,
                        rule.severity,
                        # One open episode per patient and rule; a new one may open after it resolves.
                        f"{finding.patient_id}:{rule.id}",
                        finding.summary,
                        {**finding.evidence, "rule_kind": rule.kind, "source": rule.source},
                    )
                )
            elif episode is not None and rule.auto_resolve:
                meta[key] = rule
                to_resolve.append(episode.dedup_key)
    raised: list[RaisedAlert] = []

    def _raised(
        alert_id: int, pid: int, rule: Any, action: Action, detail: dict[str, Any] | None = None
    ) -> RaisedAlert:
        return RaisedAlert(
            alert_id,
            pid,
            rule.id,
            rule.severity,
            rule.title,
            action == "opened",
            action,
            rule.escalation,
            groups_of.get(rule.group, (rule.id,)) if rule.group else (rule.id,),
            detail,
        )

    # Resolve first: a restarted episode's key must be free before its new event opens.
    for alert_id, dedup_key in await alert_store.resolve_episodes(conn, to_resolve, now):
        patient_text, rule_id = dedup_key.split(":", 1)
        patient_id = int(patient_text)
        raised.append(_raised(alert_id, patient_id, meta[(patient_id, rule_id)], "resolved"))
    for alert_id, pid, rule_id, opened in await alert_store.upsert_episodes(conn, writes, now):
        raised.append(_raised(alert_id, pid, meta[(pid, rule_id)], "opened" if opened else "updated"))
    for episode, rule, finding in worse:
        detail = {"worst": finding.value, "previous_worst": episode.worst, "unit": finding.evidence.get("unit")}
        raised.append(_raised(episode.alert_id, finding.patient_id, rule, "worsened", detail))
    return raised


def _group_members(ruleset: RuleSet) -> dict[str, tuple[str, ...]]:
    """Rule ids per rule group (rules of a group share one task per patient)."""
    out: dict[str, list[str]] = {}
    for r in ruleset.rules:
        if r.group:
            out.setdefault(r.group, []).append(r.id)
    return {g: tuple(ids) for g, ids in out.items()}


async def evaluate_readings(
    conn: psycopg.AsyncConnection,
    reading_ids: Sequence[UUID],
    *,
    now: datetime,
    rules: RuleSet | None = None,
    patient_ids: Sequence[int | None] | None = None,
) -> list[RaisedAlert]:
    """Evaluate the patients a just-stored batch touched, with the batch marked as new readings.

    `patient_ids`: the patients of those readings when the caller knows them (the ingest merge
    returns them; None entries, unbound readings, are skipped), saving a look-up by reading id.
    New readings can end a data gap but never start one, so missing-data rules only resolve here;
    the scheduler opens them.
    """
    if not reading_ids:
        return []
    if patient_ids is None:
        patients = await alert_inputs.patients_of_readings(conn, reading_ids)
    else:
        patients = [p for p in patient_ids if p is not None]
    return await evaluate_patients(
        conn, patients, now=now, rules=rules, new_reading_ids=reading_ids, clear_only=frozenset({"missing_data"})
    )


async def evaluate_all(
    conn: psycopg.AsyncConnection, *, now: datetime, rules: RuleSet | None = None
) -> list[RaisedAlert]:
    """Scheduled evaluation of every monitored patient (time-based rules need it)."""
    return await evaluate_patients(conn, await alert_inputs.monitored_patient_ids(conn), now=now, rules=rules)
