"""`vitalgate api ...` and `vitalgate admin ...` commands."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from vitalgate.cli_support import database_url, load_settings

app = typer.Typer(help="HTTP API and web pages.", no_args_is_help=True)
admin_app = typer.Typer(help="Administration: users and care teams.", no_args_is_help=True)


@app.command("serve")
def serve(
    host: Annotated[Optional[str], typer.Option()] = None,
    port: Annotated[Optional[int], typer.Option()] = None,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from api.app import create_app

    settings = load_settings()
    uvicorn.run(create_app(database_url(settings)), host=host or settings.api_host, port=port or settings.api_port)
