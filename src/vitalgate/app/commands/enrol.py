"""`vitalgate admin import-patients FILE`: enrolment at scale with a progress bar and a row report."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vitalgate.app.cli_support import console, database_url, load_settings

if TYPE_CHECKING:
    from vitalgate.api.enrol_import import ImportReport


def import_patients(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV (see README) or FHIR R4 Bundle JSON")],
    program: Annotated[str, typer.Option("--program", help="external ids are unique per program")] = "default",
    team: Annotated[str | None, typer.Option("--team", help="care team for rows without a care_team")] = None,
    show: Annotated[int, typer.Option("--show", help="rejected rows listed in full")] = 50,
) -> None:
    """Enrol patients from a CSV or a FHIR Bundle; rejected rows change nothing, a re-run changes nothing."""
    from vitalgate.api.enrol_source import read_source

    url = database_url(load_settings())
    try:
        rows = list(read_source(file.read_bytes(), file.name))
    except ValueError as exc:
        console.print(f"[red]cannot read {file}:[/] {exc}")
        raise typer.Exit(2) from exc
    report = asyncio.run(_run(url, rows, program, team))
    rate = (len(report.accepted) + len(report.unchanged)) / report.seconds if report.seconds else 0.0
    console.print(
        f"[green]{len(report.accepted)} enrolled[/], {len(report.unchanged)} already enrolled (unchanged), "
        f"[red]{len(report.rejected)} rejected[/] in {report.seconds:.1f} s ({rate:,.0f} rows/s)"
    )
    if report.rejected:
        table = Table("row", "external_id", "reasons", title="Rejected rows (nothing of them was written)")
        for r in report.rejected[:show]:
            table.add_row(str(r.row), r.external_id or "—", "; ".join(r.reasons))
        console.print(table)
        raise typer.Exit(1)


async def _run(url: str, rows: list[tuple[int, dict[str, Any] | str]], program: str, team: str | None) -> ImportReport:
    from vitalgate.api.enrol_import import run_import
    from vitalgate.store.db import connect

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("validate + write", total=2 * len(rows))
        conn = await connect(url)
        try:
            return await run_import(
                conn,
                rows,
                program=program,
                default_team=team,
                recorded_by="cli:import-patients",
                progress=lambda n: progress.advance(task, n),
            )
        finally:
            await conn.close()
            progress.update(task, completed=2 * len(rows))
