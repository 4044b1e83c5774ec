"""What every sub-command needs: validated settings and a database URL (configured or embedded)."""

from __future__ import annotations

import logging

import typer
from rich.console import Console

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


def database_url(settings: Settings) -> str:
    """The configured database, or the embedded one started on demand."""
    if settings.database_url:
        return settings.database_url
    from vitalgate.app.embedded import start_embedded_postgres

    return start_embedded_postgres(settings.resolved_data_dir())
