"""`vitalgate api ...` and `vitalgate admin ...` commands."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from vitalgate.app.cli_support import console, database_url, load_settings, needs_server, require_extra

app = typer.Typer(help="HTTP API and web pages.", no_args_is_help=True, callback=needs_server)
admin_app = typer.Typer(help="Administration: users and care teams.", no_args_is_help=True, callback=needs_server)

ROLE_HELP = "patient, coordinator, nurse, doctor, admin or caregiver"


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Serve the HTTP API and the web pages."""
    require_extra("server", "fastapi", "uvicorn", "psycopg")
    import uvicorn

    from vitalgate.api.app import create_app, uvicorn_config

    settings = load_settings()
    app = create_app(database_url(settings), settings=settings)
    uvicorn.Server(uvicorn_config(app, host or settings.api_host, port or settings.api_port)).run()


@admin_app.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)] = "admin",
    display_name: Annotated[str | None, typer.Option("--display-name", help="name shown in the pages")] = None,
    care_team: Annotated[
        str | None, typer.Option("--care-team", help="staff: care team name (created if missing)")
    ] = None,
    patient_id: Annotated[
        int | None, typer.Option("--patient-id", help="patient users: the patient record to sign in as")
    ] = None,
    caregiver_id: Annotated[
        int | None, typer.Option("--caregiver-id", help="caregiver users: the caregiver entry this login stands for")
    ] = None,
    password: Annotated[
        str | None, typer.Option("--password", envvar="VITALGATE_NEW_USER_PASSWORD", help="prompted when omitted")
    ] = None,
) -> None:
    """Create a user (bootstrap the first admin with: vitalgate admin create-user admin)."""
    from vitalgate.api.auth import ROLES
    from vitalgate.core.passwords import hash_password

    if role not in ROLES:
        console.print(f"[red]unknown role {role!r}[/]: use {ROLE_HELP}")
        raise typer.Exit(2)
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        console.print("[red]password too short[/]: use at least 12 characters")
        raise typer.Exit(2)
    url = database_url(load_settings())
    try:
        user_id = asyncio.run(
            _create_user(
                url,
                username,
                display_name or username,
                role,
                hash_password(password),
                care_team,
                patient_id,
                caregiver_id,
            )
        )
    except LookupError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"created {role} [cyan]{username}[/] (user id {user_id})")


async def _create_user(
    url: str,
    username: str,
    display_name: str,
    role: str,
    password_hash: str,
    care_team: str | None,
    patient_id: int | None,
    caregiver_id: int | None = None,
) -> int:
    import psycopg

    from vitalgate.api.routes_admin import create_user_record
    from vitalgate.store import people
    from vitalgate.store.db import connect

    conn = await connect(url)
    try:
        async with conn.transaction():
            team_id = await people.create_care_team(conn, care_team) if care_team else None
            try:
                return await create_user_record(
                    conn,
                    username,
                    display_name,
                    role,
                    password_hash,
                    care_team_id=team_id,
                    patient_id=patient_id,
                    caregiver_id=caregiver_id,
                )
            except psycopg.errors.UniqueViolation as exc:
                raise LookupError(f"user {username!r} already exists") from exc
    finally:
        await conn.close()


@admin_app.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument(help="login name")],
    password: Annotated[str | None, typer.Option("--password", envvar="VITALGATE_NEW_USER_PASSWORD")] = None,
) -> None:
    """Replace a user's password."""
    from vitalgate.core.passwords import hash_password

    if password is None:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        console.print("[red]password too short[/]: use at least 12 characters")
        raise typer.Exit(2)
    if not asyncio.run(_set_password(database_url(load_settings()), username, hash_password(password))):
        console.print(f"[red]no user {username!r}[/]")
        raise typer.Exit(1)
    console.print(f"password of [cyan]{username}[/] replaced")


async def _set_password(url: str, username: str, password_hash: str) -> bool:
    from vitalgate.store import users
    from vitalgate.store.db import connect

    conn = await connect(url)
    try:
        user = await users.get_user_by_username(conn, username)
        if user is None:
            return False
        await users.set_password(conn, int(user.id), password_hash)
        await conn.commit()
        return True
    finally:
        await conn.close()


def _register_import() -> None:
    from vitalgate.app.commands.enrol import import_patients

    admin_app.command("import-patients")(import_patients)


_register_import()
