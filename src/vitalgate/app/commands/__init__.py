"""One typer sub-app per deployable service."""
