"""Parse a TOML configuration file into a pydantic model, with errors that name the file."""

from __future__ import annotations

import tomllib
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def parse_toml_model(model: type[M], text: str, *, origin: str, error: type[Exception]) -> M:
    """`model` validated from TOML `text`; a bad file raises `error` naming `origin` and the problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{origin}: invalid TOML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(f"{origin}: {exc}") from exc
