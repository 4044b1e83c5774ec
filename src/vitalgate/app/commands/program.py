"""`vitalgate program ...`: the program report (rich tables or CSV), the KPI rollup refresh and the weekly QC draw."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from vitalgate.app.cli_support import console, database_url, load_settings

if TYPE_CHECKING:
    from vitalgate.programs.report import ProgramReport

app = typer.Typer(help="Care programs: report, KPI refresh, quality-control sampling.", no_args_is_help=True)


def _day(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def _now() -> datetime:
    from vitalgate.core.clock import clock_from_env

    return clock_from_env().now()


@app.command("report")
def report_command(
    program: Annotated[str, typer.Option("--program", help="program id (shipped) or a program TOML file")],
    start: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD (UTC)")],
    end: Annotated[str, typer.Option("--to", help="day after the last, YYYY-MM-DD (UTC)")],
    csv: Annotated[bool, typer.Option("--csv", help="print the CSV export instead of tables")] = False,
    refresh: Annotated[bool, typer.Option("--refresh/--no-refresh", help="refresh the readings rollup first")] = True,
) -> None:
    """Funnel, balance table, KPIs with 95 % intervals and outcome change per arm, as on the dashboard."""
    from vitalgate.programs.definitions import ProgramConfigError, load_program
    from vitalgate.programs.report import to_csv

    try:
        spec = load_program(program)
    except ProgramConfigError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    rep = asyncio.run(_build(database_url(load_settings()), spec, _day(start), _day(end), refresh))
    if csv:
        typer.echo(to_csv(rep), nl=False)
        return
    _print(rep)


async def _build(url: str, spec: object, start: datetime, end: datetime, refresh: bool) -> ProgramReport:
    from vitalgate.programs.definitions import Program
    from vitalgate.programs.report import build
    from vitalgate.store import program_kpis
    from vitalgate.store.db import connect

    assert isinstance(spec, Program)
    conn = await connect(url, autocommit=True)
    try:
        if refresh:
            await program_kpis.refresh_reading_days(conn, _now())
        return await build(conn, spec, start, end)
    finally:
        await conn.close()


def _print(rep: ProgramReport) -> None:
    console.print(
        f"[bold]{rep.program.name}[/] ({rep.program.id}) {rep.start:%Y-%m-%d} – {rep.end:%Y-%m-%d}: "
        f"{rep.cohort_size} enrolled; readings as of {rep.readings_as_of or 'never refreshed'}"
    )
    table = Table(
        "group",
        "invited",
        "consented",
        "enrolled",
        "active",
        "enrolment rate [95 % CI]",
        "withdrawn",
        title="Enrolment funnel by channel",
    )
    for f in rep.funnel_by_channel:
        table.add_row(
            f.group, *(str(s.reached) for s in f.stages), f.enrolment_rate.fmt(1, 100, " %"), str(f.withdrawn)
        )
    console.print(table)
    if rep.balance:
        arms = rep.program.arm_names
        table = Table("covariate", *arms, "SMD", title="Baseline balance (target |SMD| < 0.1)")
        for row in rep.balance:
            values = [
                "—"
                if row.by_arm[a] is None
                else (f"{row.by_arm[a]:.1f}" if row.level is None else f"{row.by_arm[a]:.1%}")
                for a in arms
            ]
            smd = "—" if row.smd is None else f"{row.smd:+.3f}" + ("" if row.balanced else " ⚠")
            table.add_row(row.covariate + (f" = {row.level}" if row.level else f" ({row.unit})"), *values, smd)
        console.print(table)
    table = Table("KPI", "group", "value [95 % CI] (n)", "interval", title="KPIs")
    for k in rep.kpis + rep.outcomes:
        pct = k.unit == "%" and not k.name.startswith("change")
        table.add_row(
            k.label, k.group, k.estimate.fmt(1, 100 if pct else 1, " " + k.unit if k.unit else ""), k.estimate.method
        )
    console.print(table)


@app.command("refresh")
def refresh_command() -> None:
    """Refresh the per-patient local-day readings rollup the KPIs read (run hourly from a timer)."""
    from vitalgate.store import program_kpis
    from vitalgate.store.db import connect

    async def run() -> float:
        conn = await connect(database_url(load_settings()), autocommit=True)
        try:
            return await program_kpis.refresh_reading_days(conn, _now())
        finally:
            await conn.close()

    console.print(f"program_reading_days refreshed in {asyncio.run(run()):.0f} ms")


@app.command("qc-sample")
def qc_sample_command(
    week: Annotated[
        str | None, typer.Option("--week", help="Monday of the week, YYYY-MM-DD (default: last week)")
    ] = None,
    share: Annotated[float, typer.Option("--share", help="share of closed tasks and calls drawn")] = 0.05,
    seed: Annotated[int, typer.Option("--seed", help="base seed (recorded with the sample)")] = 17,
) -> None:
    """Draw the week's quality-control sample into the reviewers' queue (idempotent per week)."""
    from vitalgate.programs.qc import sample_week
    from vitalgate.store.db import connect

    now = _now()
    monday = date.fromisoformat(week) if week else (now.date() - timedelta(days=now.weekday() + 7))

    async def run() -> tuple[int, int]:
        conn = await connect(database_url(load_settings()), autocommit=True)
        try:
            r = await sample_week(conn, monday, share=share, base_seed=seed, now=now)
            return r.candidates, r.sampled
        finally:
            await conn.close()

    found, sampled = asyncio.run(run())
    console.print(f"week of {monday}: {sampled} of {found} closed tasks and calls sampled for review")


@app.command("send")
def send_command() -> None:
    """Enqueue the weekly module items that are due in the delivery ledger (run every few minutes; idempotent)."""
    from vitalgate.programs.delivery import send_due
    from vitalgate.store.db import connect

    async def run() -> tuple[int, int, int]:
        conn = await connect(database_url(load_settings()))
        try:
            r = await send_due(conn, _now())
            return r.enqueued, r.waiting, r.refused
        finally:
            await conn.close()

    enqueued, waiting, refused = asyncio.run(run())
    console.print(f"{enqueued} module items enqueued, {waiting} waiting (patient paused), {refused} without consent")
