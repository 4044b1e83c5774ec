"""The `vitalgate` command line (typer); each package owns its sub-commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Annotated

import typer

from vitalgate.app.cli_support import console, database_url, load_settings, needs_server, require_extra
from vitalgate.app.commands.api import admin_app
from vitalgate.app.commands.api import app as api_app
from vitalgate.app.commands.broker import register as register_broker_commands
from vitalgate.app.commands.followup import app as followup_app
from vitalgate.app.commands.gateway import app as gateway_app
from vitalgate.app.commands.ingest import app as ingest_app
from vitalgate.app.commands.notify import app as notify_app
from vitalgate.app.commands.oncall import app as oncall_app
from vitalgate.app.commands.program import app as program_app

app = typer.Typer(
    help="VitalGate: home glucose and blood-pressure monitoring for care teams.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True, callback=needs_server)
app.add_typer(db_app, name="db")
app.add_typer(gateway_app, name="gateway")
app.add_typer(ingest_app, name="ingest")
app.add_typer(followup_app, name="followup")
app.add_typer(notify_app, name="notify")
app.add_typer(api_app, name="api")
app.add_typer(admin_app, name="admin")
app.add_typer(oncall_app, name="oncall")
app.add_typer(program_app, name="program")
register_broker_commands(admin_app)


@app.command()
def demo(
    once: Annotated[bool, typer.Option("--once", help="Run the path once, print the summary and exit 0.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Folder for the embedded database and hub files.")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show every service's structured log lines too.")
    ] = False,
) -> None:
    """Virtual meters -> gateway -> MQTT -> ingest -> PostgreSQL -> alerts -> tasks, then serve the API."""
    require_extra("server", "psycopg", "fastapi", "uvicorn", "numpy")
    require_extra("embedded", "bumble")
    from vitalgate.app.demo import run_demo

    # The demo prints its own stage lines; service logs only when asked for.
    settings = load_settings(logging.INFO if verbose else logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        result = asyncio.run(run_demo(settings, once=once, data_dir=data_dir, console=console))
        if once and not result.tasks:
            console.print("[red]demo finished without an open task: the path is broken[/]")
            raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending schema migrations (idempotent, safe to run twice)."""
    from vitalgate.store.migrate import describe_timeseries, upgrade

    url = database_url(load_settings())
    applied = upgrade(url)
    if applied:
        for migration in applied:
            console.print(f"applied {migration.version:04d}_{migration.name}")
    else:
        console.print("schema is up to date")
    console.print(describe_timeseries(url))


if __name__ == "__main__":
    app()
