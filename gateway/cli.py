"""`vitalgate gateway ...` commands (the edge hub)."""

from __future__ import annotations

import typer

app = typer.Typer(help="The edge hub: scan, pair, sync, publish.", no_args_is_help=True)
