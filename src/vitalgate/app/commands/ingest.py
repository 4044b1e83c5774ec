"""`vitalgate ingest ...` commands."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich.table import Table

from vitalgate.app.cli_support import console, database_url, load_settings, needs_server
from vitalgate.core.shutdown import run_until_signalled

app = typer.Typer(help="MQTT -> PostgreSQL ingest.", no_args_is_help=True, callback=needs_server)


@app.command("run")
def run(
    client_id: Annotated[
        str, typer.Option(help="MQTT client id; keep it stable so a restart resumes its session.")
    ] = "vitalgate-ingest-1",
    group: Annotated[
        str, typer.Option(help="Shared-subscription group: processes in one group split the stream (MQTT 5).")
    ] = "ingest",
    gateway_id: Annotated[str, typer.Option(help="Only this gateway's topic ('+' = all gateways).")] = "+",
    alerts: Annotated[bool, typer.Option(help="Evaluate alert rules for each committed batch in this process.")] = True,
    writers: Annotated[int, typer.Option(min=1, max=16, help="Database connections writing batches concurrently.")] = 2,
) -> None:
    """Consume reading batches from MQTT and store them (Ctrl-C or SIGTERM stops)."""
    from vitalgate.app.pipeline import AlertPipeline
    from vitalgate.core.clock import SystemClock, clock_from_env
    from vitalgate.ingest.service import run_ingest_service

    settings = load_settings()
    if not settings.mqtt_url:
        console.print("[red]VITALGATE_MQTT_URL is not set[/]: `ingest run` needs a broker (the demo embeds one).")
        raise typer.Exit(2)
    url = database_url(settings)
    # The composition root hands ingest its after-commit hook: stored readings -> alert rules -> tasks.
    pipeline = AlertPipeline(url) if alerts else None
    clock = clock_from_env()  # SystemClock unless a test sets VITALGATE_FAKE_NOW
    if not isinstance(clock, SystemClock):
        console.print("[yellow]VITALGATE_FAKE_NOW is set: ingest runs on a test clock[/]", highlight=False)
    run_until_signalled(
        lambda stop: run_ingest_service(
            settings,
            url,
            stop,
            client_id=client_id,
            group=group,
            gateway_id=gateway_id,
            on_committed=pipeline,
            writers=writers,
            clock=clock.now,
        )
    )


@app.command("dead-letters")
def dead_letters(limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50) -> None:
    """List rejected input kept for inspection, newest first."""
    from vitalgate.store.db import connect
    from vitalgate.store.readings import list_dead_letters

    url = database_url(load_settings())

    async def fetch() -> list[dict[str, Any]]:
        conn = await connect(url)
        try:
            return await list_dead_letters(conn, limit)
        finally:
            await conn.close()

    rows = asyncio.run(fetch())
    table = Table(title=f"dead letters ({len(rows)})")
    for column in ("id", "received", "topic", "reason", "bytes", "sha256", "payload (start)"):
        table.add_column(column, overflow="fold")
    for row in rows:
        payload = bytes(row["payload"])[:60].decode("utf-8", errors="replace")
        size = "?" if row["payload_bytes"] is None else str(row["payload_bytes"])
        digest = "?" if row["payload_sha256"] is None else bytes(row["payload_sha256"]).hex()[:16]
        table.add_row(
            str(row["id"]), str(row["received_at"])[:19], str(row["topic"]), str(row["reason"]), size, digest, payload
        )
    console.print(table)


@app.command("review")
def review(
    state: Annotated[str, typer.Option(help="held, released or discarded")] = "held",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """List readings held back for staff review (not filed, not evaluated), newest first."""
    from vitalgate.store.db import connect
    from vitalgate.store.review_queue import ReviewState, held_count, list_items

    try:
        wanted = ReviewState(state)
    except ValueError:
        console.print(f"[red]unknown state {state!r}[/]: use held, released or discarded")
        raise typer.Exit(2) from None
    url = database_url(load_settings())

    async def fetch() -> tuple[list[dict[str, object]], dict[str, int]]:
        conn = await connect(url)
        try:
            return await list_items(conn, state=wanted, limit=limit), await held_count(conn)
        finally:
            await conn.close()

    rows, counts = asyncio.run(fetch())
    summary = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items())) or "none"
    table = Table(title=f"review queue: {wanted.value} ({len(rows)} shown; held by reason: {summary})")
    for column in ("id", "reason", "patient", "device", "gateway", "measured at", "value", "held at", "detail"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["reason"]),
            "-" if row["patient_id"] is None else str(row["patient_id"]),
            str(row["device_serial"]),
            str(row["gateway_id"]),
            str(row["measured_at"])[:19],
            _value_text(row),
            str(row["held_at"])[:19],
            str(row["detail"]),
        )
    console.print(table)


def _value_text(row: dict[str, object]) -> str:
    if row["glucose_mg_dl"] is not None:
        return f"{row['glucose_mg_dl']:g} mg/dL"
    return f"{row['systolic_mmhg']:g}/{row['diastolic_mmhg']:g} mm[Hg]"
