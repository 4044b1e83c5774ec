"""`vitalgate admin add-hub` / `add-ingest` / `move-device`: broker identities and device -> hub ownership."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vitalgate.app.cli_support import console

# Where deploy/mosquitto/mosquitto.conf expects the password file.
DEFAULT_PASSWORD_FILE = Path("/etc/mosquitto/vitalgate/passwd")

PasswordFile = Annotated[
    Path,
    typer.Option(
        "--password-file", envvar="VITALGATE_MQTT_PASSWORD_FILE", help="Mosquitto password file (created if missing)."
    ),
]
Rotate = Annotated[bool, typer.Option("--rotate", help="Replace an existing credential (the old one stops working).")]
Dynsec = Annotated[
    str | None,
    typer.Option(
        "--dynsec",
        envvar="VITALGATE_MQTT_DYNSEC_URL",
        help="Create the identity in Mosquitto's dynamic-security plugin instead of the password file: "
        "the plugin admin's URL, e.g. mqtt://admin:PASSWORD@127.0.0.1:1883 (deploy/mosquitto/dynsec).",
    ),
]


def add_hub(
    gateway_id: Annotated[str, typer.Argument(help="the hub's gateway id; also its MQTT username")],
    password_file: PasswordFile = DEFAULT_PASSWORD_FILE,
    rotate: Rotate = False,
    broker: Annotated[str, typer.Option(help="host:port the hub reaches the broker at (for the printed URL)")] = (
        "broker.example.org:8883"
    ),
    dynsec: Dynsec = None,
) -> None:
    """Create a hub's broker credential; the password is printed once and stored only as a hash."""
    from vitalgate.app.broker_dynsec import DynsecError, add_dynsec_hub
    from vitalgate.app.broker_identity import IdentityError, add_identity, check_hub_id, new_password

    try:
        check_hub_id(gateway_id)
        if dynsec:
            password = new_password()
            add_dynsec_hub(dynsec, gateway_id, password, replace=rotate)
        else:
            password = add_identity(password_file, gateway_id, replace=rotate)
    except (IdentityError, DynsecError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    store = "dynamic security" if dynsec else str(password_file)
    _print_credential(gateway_id, password, store, f"mqtts://{gateway_id}:{password}@{broker}", reload=not dynsec)
    console.print(f"on the hub:  VITALGATE_GATEWAY_ID={gateway_id}")


def add_ingest(
    username: Annotated[str, typer.Argument(help="ingest's MQTT username (the shipped ACL names 'ingest')")] = "ingest",
    password_file: PasswordFile = DEFAULT_PASSWORD_FILE,
    rotate: Rotate = False,
    dynsec: Dynsec = None,
) -> None:
    """Create ingest's broker credential (reads every hub's readings, writes commit receipts)."""
    from vitalgate.app.broker_dynsec import DynsecError, add_dynsec_ingest
    from vitalgate.app.broker_identity import IdentityError, add_identity, new_password

    try:
        if dynsec:
            password = new_password()
            add_dynsec_ingest(dynsec, username, password, replace=rotate)
        else:
            password = add_identity(password_file, username, replace=rotate)
    except (IdentityError, DynsecError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    store = "dynamic security" if dynsec else str(password_file)
    _print_credential(username, password, store, f"mqtt://{username}:{password}@127.0.0.1:1883", reload=not dynsec)


def _print_credential(username: str, password: str, store: str, url: str, *, reload: bool = True) -> None:
    # stdout carries only the secret lines, so a script can capture them; the rest is advice.
    console.print(f"added [cyan]{username}[/] to {store}; the password is shown only now:")
    print(f"password: {password}")
    print(f"VITALGATE_MQTT_URL={url}")
    if reload:  # dynamic security applies at once; a password file needs a reload
        console.print("reload the broker to apply it: kill -HUP <mosquitto pid> (or systemctl reload mosquitto)")


def move_device(
    serial: Annotated[str, typer.Argument(help="the device's serial")],
    hub_id: Annotated[str, typer.Argument(help="the gateway id that owns the device from now on")],
    reason: Annotated[str, typer.Option("--reason", help="why (kept in the audit log)")],
) -> None:
    """Give a device to another hub; readings from any other hub are then held for review (audited)."""
    import asyncio
    import getpass

    from vitalgate.app.broker_identity import IdentityError, check_hub_id
    from vitalgate.app.cli_support import database_url, load_settings
    from vitalgate.store.db import connect
    from vitalgate.store.hub_ownership import HubMove
    from vitalgate.store.hub_ownership import move_device as move

    try:
        check_hub_id(hub_id)
    except IdentityError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    if len(reason.strip()) < 3:
        console.print("[red]give a --reason[/] (it is kept in the audit log)")
        raise typer.Exit(2)
    url = database_url(load_settings())

    async def run() -> HubMove:
        conn = await connect(url)
        try:
            async with conn.transaction():
                return await move(
                    conn,
                    serial,
                    hub_id,
                    reason=reason,
                    actor=f"cli:{getpass.getuser()}",
                    actor_id=None,
                    role="admin",
                    source="cli",
                )
        finally:
            await conn.close()

    try:
        done = asyncio.run(run())
    except LookupError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"device {done.serial}: hub {done.from_hub or '(none)'} -> {done.to_hub} (audited)")


def register(admin_app: typer.Typer) -> None:
    """Attach the broker identity and hub ownership commands to `vitalgate admin`."""
    admin_app.command("add-hub")(add_hub)
    admin_app.command("add-ingest")(add_ingest)
    admin_app.command("move-device")(move_device)
