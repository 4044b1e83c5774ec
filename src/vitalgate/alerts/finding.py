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
    # Reading rules: when the current event began (first breaching reading after the last one that
    # was not), the newest breaching reading, and whether a breaching reading is in the new batch.
    event_start: float | None = None
    latest_at: float | None = None
    has_new: bool = False
