"""`python -m vitalgate` is the `vitalgate` command."""

from vitalgate.app.cli import app

app()
