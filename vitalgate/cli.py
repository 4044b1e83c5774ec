"""The `vitalgate` command line (typer)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from vitalgate.logs import configure_logging
from vitalgate.settings import Settings

app = typer.Typer(
    help="VitalGate: home glucose and blood-pressure monitoring for care teams.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
ingest_app = typer.Typer(help="MQTT -> PostgreSQL ingest.", no_args_is_help=True)
api_app = typer.Typer(help="HTTP API and web pages.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ingest_app, name="ingest")
app.add_typer(api_app, name="api")

console = Console()


def _settings() -> Settings:
    try:
        settings = Settings()
    except ValueError as exc:
        console.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(2) from exc
    configure_logging(settings.log_format)
    return settings


def _require_database(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    from vitalgate.embedded import start_embedded_postgres

    return start_embedded_postgres(settings.resolved_data_dir())


@app.command()
def demo(
    once: Annotated[bool, typer.Option("--once", help="Run the path once, print the summary and exit 0.")] = False,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Folder for the embedded database and hub files.")] = None,
) -> None:
    """Virtual meters -> gateway -> MQTT -> ingest -> PostgreSQL -> alerts -> tasks, then serve the API."""
    from vitalgate.demo import run_demo

    settings = _settings()
    with contextlib.suppress(KeyboardInterrupt):
        result = asyncio.run(run_demo(settings, once=once, data_dir=data_dir, console=console))
        if once and not result.tasks:
            console.print("[red]demo finished without an open task: the path is broken[/]")
            raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending schema migrations (idempotent, safe to run twice)."""
    from store.migrate import upgrade

    settings = _settings()
    applied = upgrade(_require_database(settings))
    if applied:
        for migration in applied:
            console.print(f"applied {migration.version:04d}_{migration.name}")
    else:
        console.print("schema is up to date")


@ingest_app.command("run")
def ingest_run(
    client_id: Annotated[str, typer.Option(help="MQTT client id; keep it stable so a restart resumes its session.")] = "vitalgate-ingest-1",
) -> None:
    """Consume reading batches from MQTT and store them (Ctrl-C or SIGTERM stops)."""
    from ingest.service import run_ingest_service

    settings = _settings()
    if not settings.mqtt_url:
        console.print("[red]VITALGATE_MQTT_URL is not set[/]: `ingest run` needs a broker (the demo embeds one).")
        raise typer.Exit(2)
    database_url = _require_database(settings)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_ingest_service(settings, database_url, client_id=client_id))


@ingest_app.command("dead-letters")
def ingest_dead_letters(limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50) -> None:
    """List rejected input kept for inspection, newest first."""
    from store.db import connect
    from store.readings import list_dead_letters

    settings = _settings()
    url = _require_database(settings)

    async def fetch() -> list[dict[str, object]]:
        conn = await connect(url)
        try:
            return await list_dead_letters(conn, limit)
        finally:
            await conn.close()

    rows = asyncio.run(fetch())
    table = Table(title=f"dead letters ({len(rows)})")
    for column in ("id", "received", "topic", "reason", "payload (start)"):
        table.add_column(column, overflow="fold")
    for row in rows:
        payload = bytes(row["payload"])[:60].decode("utf-8", errors="replace")  # type: ignore[arg-type]
        table.add_row(str(row["id"]), str(row["received_at"])[:19], str(row["topic"]), str(row["reason"]), payload)
    console.print(table)


@api_app.command("serve")
def api_serve(
    host: Annotated[Optional[str], typer.Option()] = None,
    port: Annotated[Optional[int], typer.Option()] = None,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from api.app import create_app

    settings = _settings()
    uvicorn.run(create_app(_require_database(settings)), host=host or settings.api_host, port=port or settings.api_port)


if __name__ == "__main__":
    app()
