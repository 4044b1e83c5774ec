"""`vitalgate oncall ...` commands: staff alerts for urgent tasks (tick/run) and a team's on-call list."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from vitalgate.app.cli_support import console, database_url, load_settings

app = typer.Typer(help="On-call roster and staff alerts for urgent tasks.", no_args_is_help=True)


def _when(now: str | None) -> datetime:
    if now is None:
        from vitalgate.core.clock import clock_from_env

        return clock_from_env().now()
    parsed = datetime.fromisoformat(now)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command("tick")
def tick_cmd(now: Annotated[str | None, typer.Option(help="As of this ISO time (default: now).")] = None) -> None:
    """One pass: alert new urgent tasks' assignees, re-notify the next on-call person where due."""
    from vitalgate.notify.oncall.alerts import tick

    result = asyncio.run(tick(database_url(load_settings()), _when(now)))
    typer.echo(json.dumps({"alerted": result.alerted, "renotified": result.renotified}))


@app.command("run")
def run_cmd(interval: Annotated[float, typer.Option(min=1.0, help="Seconds between passes.")] = 15.0) -> None:
    """Long-running staff alerting (Ctrl-C or SIGTERM stops after the current pass)."""
    from vitalgate.core.clock import clock_from_env
    from vitalgate.core.shutdown import run_until_signalled
    from vitalgate.notify.oncall.alerts import run

    url = database_url(load_settings())
    run_until_signalled(lambda stop: run(url, clock_from_env(), interval_s=interval, stop=stop))


@app.command("who")
def who_cmd(
    team: Annotated[int, typer.Option(help="Care team id.")],
    now: Annotated[str | None, typer.Option(help="As of this ISO time (default: now).")] = None,
) -> None:
    """Who is on call for a team now (roster in the team's zone; on-duty members without a roster)."""
    from vitalgate.notify.oncall.roster import on_call
    from vitalgate.store.db import connect

    async def run() -> list[tuple[str, str, str]]:
        async with await connect(database_url(load_settings())) as conn:
            people = await on_call(conn, team, _when(now))
        return [(str(p.id), p.display_name, p.role) for p in people]

    table = Table(title=f"on call, team {team}")
    for column in ("user", "name", "role"):
        table.add_column(column)
    for row in asyncio.run(run()):
        table.add_row(*row)
    console.print(table)
