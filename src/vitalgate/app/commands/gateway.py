"""`vitalgate gateway ...` commands (the edge hub)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from vitalgate.app.cli_support import console, load_settings, require_extra
from vitalgate.core.settings import MqttConfig, Settings
from vitalgate.devices.advertising import SERVICE_NAMES
from vitalgate.devices.errors_gatt import DeviceError
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.outbox import HubStore

if TYPE_CHECKING:
    from vitalgate.devices.gatt import Advertisement
    from vitalgate.gateway.pairing import Paired

app = typer.Typer(help="The edge hub: scan, pair, sync, publish.", no_args_is_help=True)

Virtual = Annotated[
    bool,
    typer.Option("--virtual", help="Use an in-process radio with demo devices (also VITALGATE_GATEWAY_RADIO=virtual)."),
]


def _config(virtual: bool) -> HubConfig:
    try:
        config = HubConfig()
    except ValueError as exc:
        console.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(2) from exc
    return config.model_copy(update={"radio": "virtual"}) if virtual else config


def _radio_config(virtual: bool) -> HubConfig:
    """The hub config for a command that opens the radio: bleak needs `[hub]`, virtual and hci bumble."""
    config = _config(virtual)
    if config.radio == "bleak":
        require_extra("hub", "bleak", "bleak_retry_connector")
    else:
        require_extra("embedded", "bumble")
    return config


@contextlib.contextmanager
def _store(settings: Settings, config: HubConfig) -> Iterator[HubStore]:
    store = HubStore(config.hub_path(settings.resolved_data_dir()), max_rows=config.outbox_max_rows)
    try:
        yield store
    finally:
        store.close()


@app.command()
def scan(
    virtual: Virtual = False,
    timeout: Annotated[float, typer.Option(min=0.2, max=60, help="Seconds to listen.")] = 5.0,
) -> None:
    """List nearby devices offering the Glucose (0x1808) or Blood Pressure (0x1810) service."""
    from vitalgate.app.radios import open_hub_radio

    load_settings()
    config = _radio_config(virtual)

    async def go() -> list[Advertisement]:
        async with open_hub_radio(config) as radio:
            return list(await radio.scan(timeout))

    try:
        found = asyncio.run(go())
    except DeviceError as exc:
        console.print(f"[red]scan failed:[/] {exc}")
        raise typer.Exit(1) from exc
    table = Table(title=f"devices seen in {timeout:g} s ({config.radio} radio)")
    for column in ("name", "address", "RSSI", "service"):
        table.add_column(column)
    for adv in found:
        services = ", ".join(SERVICE_NAMES.get(u, f"0x{u:04X}") for u in adv.service_uuids if u in SERVICE_NAMES)
        table.add_row(adv.name or "?", adv.address, str(adv.rssi) if adv.rssi is not None else "-", services)
    console.print(table)
    if not found:
        console.print(
            "no glucose meter or blood-pressure cuff is advertising: wake the device (take a reading) and retry"
        )


def stdin_is_tty() -> bool:
    """Only an interactive terminal gets a passkey prompt (services and pipes never block on one)."""
    return sys.stdin.isatty()


async def ask_passkey() -> int:
    """Prompt for the passkey the device displays; read stdin from the event loop (no thread)."""
    console.print("[bold]The device shows a 6-digit passkey: type it and press Enter:[/] ", end="")
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()
    fd = sys.stdin.fileno()

    def readable() -> None:
        if not line.done():
            line.set_result(sys.stdin.readline())

    loop.add_reader(fd, readable)
    try:
        text = (await line).strip()
    finally:
        loop.remove_reader(fd)
    # Out of range means "no valid passkey": pairing then fails with advice instead of guessing.
    return int(text) if text.isdigit() and len(text) == 6 else -1


@app.command()
def pair(
    address: Annotated[str, typer.Argument(help="Device address from `vitalgate gateway scan`.")],
    virtual: Virtual = False,
    name: Annotated[str | None, typer.Option(help="A label for this hub's list (not a patient name).")] = None,
    passkey: Annotated[
        int | None,
        typer.Option(
            min=0, max=999999, help="The 6-digit passkey the device displays (asked interactively if omitted)."
        ),
    ] = None,
) -> None:
    """Bond with a device, read Device Information and add it to this hub's registry."""
    from vitalgate.app.radios import open_hub_radio
    from vitalgate.gateway.pairing import NotSupported, pair_device, supports_passkey

    settings = load_settings()
    config = _radio_config(virtual)

    async def go() -> Paired:
        with _store(settings, config) as store:
            async with open_hub_radio(config) as radio:
                # Without --passkey, a terminal user is asked only if the device displays one.
                source = (
                    passkey
                    if passkey is not None
                    else (ask_passkey if stdin_is_tty() and supports_passkey(radio) else None)
                )
                return await pair_device(radio, store, address, name=name, passkey=source)

    try:
        paired = asyncio.run(go())
    except (DeviceError, NotSupported) as exc:
        console.print(f"[red]pairing failed:[/] {exc}")
        raise typer.Exit(1) from exc
    d = paired.device
    console.print(
        f"paired {d.kind} {d.address}: {d.manufacturer or '?'} {d.model or '?'}, serial {d.serial}, firmware {d.firmware or '?'}"
    )
    if paired.serial_from_address:
        console.print("[yellow]the device has no serial number characteristic: its address stands in for it[/]")
    console.print(
        f"claim code: [bold]{paired.claim_code}[/]  (shown once: the patient enters it to link the device; the hub registers it with the server)"
    )


@app.command()
def devices() -> None:
    """List the devices paired with this hub, with their sync cursors."""
    settings = load_settings()
    with _store(settings, _config(False)) as store:
        rows = store.devices()
    table = Table(title="paired devices")
    for column in ("address", "kind", "serial", "model", "cursor", "last sync (UTC)", "last error"):
        table.add_column(column)
    for d in rows:
        cursor = (
            f"seq {d.cursor_seq}" if d.cursor_seq is not None else (d.cursor_time.isoformat() if d.cursor_time else "-")
        )
        table.add_row(
            d.address, d.kind, d.serial, d.model or "-", cursor, (d.last_sync_at or "-")[:19], (d.last_error or "")[:60]
        )
    console.print(table)
    if not rows:
        console.print("no devices paired yet: `vitalgate gateway scan`, then `vitalgate gateway pair ADDRESS`")


@app.command()
def forget(address: Annotated[str, typer.Argument(help="Address of a paired device.")]) -> None:
    """Remove a device from this hub (readings already queued are still published)."""
    settings = load_settings()
    with _store(settings, _config(False)) as store:
        if not store.forget(address):
            console.print(f"[red]{address} is not paired with this hub[/]")
            raise typer.Exit(1)
    console.print(f"forgot {address}")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Print the status document as JSON.")] = False) -> None:
    """Backlog, readings dropped, last successful publish, devices and cursors (from the hub's SQLite)."""
    from vitalgate.gateway.status import build_status, seems_online

    settings = load_settings()
    config = _config(False)
    with _store(settings, config) as store:
        doc = build_status(store, settings.gateway_id, online=seems_online(store))
        cursors = {d.address: d for d in store.devices()}
    if as_json:
        typer.echo(doc.model_dump_json(indent=2))
        return
    state = (
        "[green]online[/] (published to the broker recently)"
        if doc.online
        else "[yellow]not publishing[/] (hub stopped or broker unreachable)"
    )
    console.print(
        f"gateway [bold]{doc.gateway_id}[/]  {state}  hub file {config.hub_path(settings.resolved_data_dir())}"
    )
    console.print(
        f"backlog: {doc.backlog} readings ({doc.unconfirmed} published, awaiting commit receipt)"
        f"   last publish: {doc.last_publish_at or 'never'}"
    )
    if doc.dropped:
        console.print(f"[bold red]DATA LOSS: {doc.dropped} readings were dropped because the outbox was full[/]")
    else:
        console.print("dropped: 0")
    for d in doc.devices:
        c = cursors[d.address]
        cursor = (
            f"seq {c.cursor_seq}" if c.cursor_seq is not None else (c.cursor_time.isoformat() if c.cursor_time else "-")
        )
        state = f"[red]{d.last_error}[/]" if d.last_error else "ok"
        console.print(f"  {d.address}  {d.kind:13} cursor {cursor:22} last sync {d.last_sync_at or 'never'}  {state}")


@app.command()
def schema(
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if contract/schema/ is out of date.")] = False,
) -> None:
    """Write (or check) the wire contract's JSON Schema files in contract/schema/."""
    from vitalgate.contract.schema_export import SCHEMA_DIR, stale_schemas, write_schemas

    if check:
        stale = stale_schemas()
        if stale:
            console.print(f"[red]out of date:[/] {', '.join(stale)} (run `vitalgate gateway schema`)")
            raise typer.Exit(1)
        console.print(f"schemas in {SCHEMA_DIR} are current")
        return
    for path in write_schemas():
        console.print(f"wrote {path}")


@contextlib.asynccontextmanager
async def _broker(settings: Settings) -> AsyncIterator[MqttConfig]:
    """The configured broker, or (development only) an embedded amqtt broker in this process."""
    if settings.mqtt_url:
        yield settings.mqtt_config(settings.mqtt_url)
        return
    from vitalgate.app.embedded import embedded_broker

    async with embedded_broker() as url:
        console.print(f"no VITALGATE_MQTT_URL: embedded amqtt broker at {url} (MQTT 3.1.1)")
        yield MqttConfig.from_url(url, protocol="3.1.1")


@app.command()
def run(
    virtual: Virtual = False,
    once: Annotated[bool, typer.Option("--once", help="Sync every device once, publish the outbox, exit.")] = False,
    interval: Annotated[float | None, typer.Option(min=0.1, help="Seconds between syncs of a device.")] = None,
) -> None:
    """Run the hub: sync paired devices, queue readings durably, publish them (SIGTERM stops cleanly)."""
    from vitalgate.app.radios import open_hub_radio
    from vitalgate.core.shutdown import stop_on_signals
    from vitalgate.gateway.hub import run_hub
    from vitalgate.gateway.publisher import Publisher

    settings = load_settings()
    config = _radio_config(virtual)
    if not settings.mqtt_url:
        require_extra("embedded", "amqtt")
    if interval is not None:
        config = config.model_copy(update={"sync_interval_s": interval})

    async def go() -> int:
        async with _broker(settings) as mqtt_config:
            with _store(settings, config) as store:
                async with open_hub_radio(config) as radio:
                    publisher = Publisher(store, mqtt_config, settings.gateway_id, config)
                    with stop_on_signals() as stop:
                        result = await run_hub(store, radio, config, publisher=publisher, stop=stop, once=once)
                    if once:
                        summary = {
                            "synced": len(result.outcomes),
                            "queued": sum(o.queued for o in result.outcomes),
                            "failed": sorted(result.failures),
                            "backlog": store.backlog(),
                            "dropped": store.dropped(),
                        }
                        typer.echo(json.dumps(summary))
                        return 1 if result.failures or store.backlog() else 0
        return 0

    code = asyncio.run(go())
    raise typer.Exit(code)
