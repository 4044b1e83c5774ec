"""The result of one rule for one patient."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Finding:
    """The state of one rule for one patient at evaluation time (active: open or update an episode)."""

    patient_id: int
    active: bool
    value: float | None = None
    summary: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
