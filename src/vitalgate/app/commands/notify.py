"""`vitalgate notify ...`: the delivery worker and the dead-letter list."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vitalgate.app.cli_support import console, database_url, load_settings, needs_server

app = typer.Typer(help="Outbound messages: the delivery ledger's worker.", no_args_is_help=True, callback=needs_server)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="TOML with a [notify] table; default: $VITALGATE_NOTIFY_CONFIG.")
]


def _config(path: Path | None):
    from pydantic import ValidationError

    from vitalgate.notify.config import load

    try:
        return load(path)
    except (ValidationError, OSError, ValueError) as exc:
        console.print(f"[red]notify configuration error:[/] {exc}")
        raise typer.Exit(2) from exc


@app.command("run")
def run(
    config: ConfigOpt = None,
    once: Annotated[bool, typer.Option("--once", help="Send everything due now, print a JSON summary, exit.")] = False,
) -> None:
    """Send queued messages until SIGTERM / Ctrl-C (the batch in flight finishes and is recorded first)."""
    from vitalgate.core.clock import clock_from_env
    from vitalgate.core.shutdown import run_until_signalled
    from vitalgate.notify.worker import Worker

    worker = Worker(database_url(load_settings()), _config(config), clock_from_env())
    if once:

        async def drain_once() -> None:
            try:
                stats = await worker.drain()
            finally:
                await worker.close()
            print(json.dumps(vars(stats)))

        asyncio.run(drain_once())
        return
    run_until_signalled(worker.run)


@app.command("dead")
def dead(limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50) -> None:
    """The dead-letter list: messages that failed every attempt or could not be sent as configured."""
    from vitalgate.store import deliveries
    from vitalgate.store.db import connect

    async def go():
        conn = await connect(database_url(load_settings()))
        try:
            return await deliveries.dead_letters(conn, limit=limit)
        finally:
            await conn.close()

    rows = asyncio.run(go())
    table = Table(title=f"{len(rows)} dead letters")
    for column in ("id", "recipient", "medium", "template", "attempts", "reason"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r.id), f"{r.recipient_kind} {r.recipient_id}", r.medium, r.template, str(r.attempts), r.status_reason
        )
    console.print(table)
