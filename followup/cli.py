"""`vitalgate followup ...` commands (alerts, tasks, escalation scheduler)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Alerts, follow-up tasks and SOP chains.", no_args_is_help=True)
