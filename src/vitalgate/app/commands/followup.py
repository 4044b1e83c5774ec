"""`vitalgate followup ...` commands: scheduler tick/run, rules, worklist actions, SOP visits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from vitalgate.app.cli_support import console, database_url, load_settings, needs_server
from vitalgate.domain import ACTIVE_TASK_STATUSES, Outcome

app = typer.Typer(help="Alerts, follow-up tasks and SOP chains.", no_args_is_help=True, callback=needs_server)

RulesOpt = Annotated[Path | None, typer.Option("--rules", help="Rule file (TOML); default: the shipped rules.")]


def _when(value: str | None) -> datetime:
    """ISO time (UTC if no offset) or now (a test clock when VITALGATE_FAKE_NOW is set)."""
    if value is None:
        from vitalgate.core.clock import clock_from_env

        return clock_from_env().now()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date/time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _with_conn(fn: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run fn(conn) in one transaction against the configured database."""
    from vitalgate.store.db import connect

    url = database_url(load_settings())

    async def go() -> Any:
        conn = await connect(url)
        try:
            async with conn.transaction():
                return await fn(conn)
        finally:
            await conn.close()

    return asyncio.run(go())


def _rules(path: Path | None):
    from vitalgate.alerts.config import RuleError, load_rules

    try:
        return load_rules(path)
    except (RuleError, OSError) as exc:
        console.print(f"[red]rule file error:[/] {exc}")
        raise typer.Exit(2) from exc


@app.command("tick")
def tick_cmd(
    now: Annotated[str | None, typer.Option(help="Evaluate as of this ISO time (default: now).")] = None,
    patient: Annotated[list[int] | None, typer.Option(help="Only these patients (repeatable).")] = None,
    rules: RulesOpt = None,
) -> None:
    """One scheduler pass: time-based rules for every monitored patient, then due touchpoints."""
    from vitalgate.followup.scheduler import tick

    result = asyncio.run(tick(database_url(load_settings()), _when(now), rules=_rules(rules), patient_ids=patient))
    typer.echo(json.dumps({"now": result.now.isoformat(), **result.counts()}))  # one machine-readable line


@app.command("run")
def run_cmd(
    interval: Annotated[float, typer.Option(min=1.0, help="Seconds between ticks.")] = 60.0,
    evaluate_every: Annotated[
        int, typer.Option(min=1, help="Evaluate rules every N ticks (touchpoints fire every tick).")
    ] = 15,
    rules: RulesOpt = None,
) -> None:
    """The long-running scheduler (Ctrl-C or SIGTERM stops after the current tick)."""
    from vitalgate.core.clock import clock_from_env
    from vitalgate.core.shutdown import run_until_signalled
    from vitalgate.followup.scheduler import run_scheduler

    url = database_url(load_settings())
    ruleset = _rules(rules)
    run_until_signalled(
        lambda stop: run_scheduler(
            url, clock_from_env(), interval_s=interval, evaluate_every=evaluate_every, stop=stop, rules=ruleset
        )
    )


@app.command("rules")
def rules_cmd(rules: RulesOpt = None) -> None:
    """Validate a rule file and list its rules (exit 2 with the reason when invalid)."""
    ruleset = _rules(rules)
    table = Table(title=f"{len(ruleset.rules)} rules")
    for column in ("id", "kind", "severity", "segment", "title", "source"):
        table.add_column(column, overflow="fold")
    for r in ruleset.rules:
        table.add_row(r.id, r.kind, r.severity, r.segment, r.title, r.source)
    console.print(table)


@app.command("tasks")
def tasks_cmd(
    status: Annotated[list[str] | None, typer.Option(help="open / in_progress / done / cancelled")] = None,
    team: Annotated[list[int] | None, typer.Option(help="Care team id (repeatable).")] = None,
) -> None:
    """The worklist: urgent first, then by due time."""
    from vitalgate.store import tasks as task_store

    rows = _with_conn(
        lambda c: task_store.list_tasks(c, care_team_ids=team, status=status or list(ACTIVE_TASK_STATUSES))
    )
    table = Table(title=f"worklist ({len(rows)})")
    for column in ("task", "patient", "severity", "status", "title", "due (UTC)", "assignee", "step"):
        table.add_column(column, overflow="fold")
    for t in rows:
        table.add_row(
            str(t.id),
            str(t.patient_ref),
            t.severity,
            t.status,
            t.title,
            t.due_at.strftime("%Y-%m-%d %H:%M"),
            str(t.assignee),
            str(t.escalation_step),
        )
    console.print(table)


@app.command("ack")
def ack_cmd(task_id: int, actor: Annotated[str, typer.Option(help="Who acknowledges.")] = "cli") -> None:
    """Acknowledge a task (open -> in_progress; its alert -> acknowledged)."""
    from vitalgate.followup.actions import TaskNotOpen, acknowledge_task

    try:
        _with_conn(lambda c: acknowledge_task(c, task_id, actor=actor, now=_when(None)))
    except TaskNotOpen:
        console.print("already in progress")
        return
    console.print("acknowledged")


@app.command("outcome")
def outcome_cmd(
    task_id: int,
    outcome: Annotated[str, typer.Argument(help="reached | not_reached | resolved | referred_to_doctor | emergency")],
    actor: Annotated[str, typer.Option()] = "cli",
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Record a contact outcome: closes the task or advances its escalation."""
    from vitalgate.followup.actions import OUTCOMES, TaskStateError, record_outcome

    if outcome not in OUTCOMES:
        console.print(f"[red]unknown outcome {outcome!r}; expected one of {OUTCOMES}[/]")
        raise typer.Exit(2)
    try:
        change = _with_conn(
            lambda c: record_outcome(c, task_id, Outcome(outcome), actor=actor, now=_when(None), note=note)
        )
    except TaskStateError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(f"task {task_id}: {change.status}")


def _iso(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date/time: {value!r}") from exc


@app.command("schedule-visit")
def schedule_visit_cmd(
    patient_id: int,
    at: Annotated[
        str,
        typer.Option(
            help="Visit time, ISO. Without an offset it is the PATIENT's local wall-clock time, in the"
            " patient's current time zone (their record, else their care team's); a time skipped by a"
            " DST change moves forward, a repeated one is its first occurrence. An offset or Z is kept."
        ),
    ],
    chain: Annotated[str | None, typer.Option(help="SOP chain id (default: chosen by the patient's segment).")] = None,
) -> None:
    """Schedule the visit reminder chain for a patient."""
    from vitalgate.core.localtime import wall_clock_or_instant
    from vitalgate.followup.sop import schedule_sop
    from vitalgate.store.time_zones import zone_histories

    typed = _iso(at)

    async def schedule(c: Any) -> Any:
        zones = await zone_histories(c, [patient_id])
        if patient_id not in zones:
            raise typer.BadParameter(f"no patient {patient_id}")
        anchor = wall_clock_or_instant(typed, zones[patient_id].current)
        return await schedule_sop(c, patient_id=patient_id, anchor_at=anchor, now=_when(None), chain_id=chain)

    s = _with_conn(schedule)
    console.print(
        f"SOP instance {s.instance_id} ({s.chain_id}), task {s.task_id}{'' if s.created else ' (already scheduled)'}"
    )


@app.command("confirm-visit")
def confirm_visit_cmd(instance_id: int) -> None:
    """Record the patient's confirmation: remaining reminders are cancelled."""
    from vitalgate.followup.sop import confirm_sop

    cancelled = _with_conn(lambda c: confirm_sop(c, instance_id, now=_when(None)))
    console.print(f"confirmed; {cancelled} reminder(s) cancelled")


@app.command("coverage")
def coverage_cmd(patient: Annotated[list[int], typer.Option(help="Patient id (repeatable).")]) -> None:
    """Reading days in the last 30 per patient (remote-monitoring billing needs 16)."""
    from vitalgate.store.adherence import reading_days

    rows = _with_conn(lambda c: reading_days(c, patient, now=_when(None)))
    for pid, r in rows.items():
        console.print(
            f"patient {pid}: {r['reading_days']}/30 reading days ({'meets' if r['meets_requirement'] else 'below'} 16)"
        )
