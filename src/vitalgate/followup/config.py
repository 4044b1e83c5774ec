"""Declarative follow-up: escalation chains and SOP chains (pydantic models over TOML)."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vitalgate.alerts.segments import matches, validate_segment
from vitalgate.core.toml_model import parse_toml_model
from vitalgate.domain import ChannelKind, Severity


class FollowupConfigError(ValueError):
    """A follow-up file that does not validate."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Segmented(_Model):
    segment: str = "*"

    _parses = field_validator("segment")(validate_segment)


class EscalationStep(_Model):
    name: str
    channel: ChannelKind
    template: str
    after_minutes: float = Field(ge=0)  # from the previous step (the first: from task creation)


class EscalationChain(_Segmented):
    id: str
    severities: list[Severity] = list(Severity)
    steps: list[EscalationStep] = Field(min_length=1)


class SopStep(_Model):
    """When a step is due: `offset_hours` from the anchor (elapsed time), or a patient-local
    wall-clock time `at_local` on the local date `day_offset` days from the anchor's (e.g. T-1 at
    10:00), resolved per occurrence in the patient's zone (vitalgate.core.localtime: across DST)."""

    name: str
    channel: ChannelKind
    template: str
    offset_hours: float | None = None  # relative to the anchor (negative: before the visit)
    day_offset: int | None = None  # local dates from the anchor's local date
    at_local: time | None = None  # patient-local wall-clock time on that date
    cancel_on_confirm: bool = False

    @model_validator(mode="after")
    def _one_timing(self) -> SopStep:
        wall = self.day_offset is not None and self.at_local is not None
        if wall == (self.offset_hours is not None) or (self.day_offset is None) != (self.at_local is None):
            raise ValueError(f"SOP step {self.name!r}: give either offset_hours or day_offset with at_local")
        return self

    @property
    def order_key_hours(self) -> float:
        """Hours from the anchor if the anchor were at local midnight (for ordering checks only)."""
        if self.offset_hours is not None:
            return self.offset_hours
        assert self.day_offset is not None and self.at_local is not None
        return self.day_offset * 24 + self.at_local.hour + self.at_local.minute / 60


class SopChain(_Segmented):
    id: str
    purpose: str
    steps: list[SopStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> SopChain:
        # Each timing kind in order; between kinds the order depends on the visit's time of day.
        for wall in (False, True):
            keys = [s.order_key_hours for s in self.steps if (s.at_local is not None) == wall]
            if keys != sorted(keys):
                raise ValueError(f"SOP chain {self.id}: steps must be in time order")
        return self


class FollowupConfig(_Model):
    version: Literal[1] = 1
    escalation: list[EscalationChain] = []
    sop: list[SopChain] = []

    def escalation_chain(self, chain_id: str | None, severity: str, tags: list[str]) -> EscalationChain | None:
        """The named chain, else the first whose segment and severities match."""
        if chain_id is not None:
            for chain in self.escalation:
                if chain.id == chain_id:
                    return chain
        for chain in self.escalation:
            if severity in chain.severities and matches(chain.segment, tags):
                return chain
        return None

    def sop_chain(self, purpose: str, tags: list[str], chain_id: str | None = None) -> SopChain:
        """The named SOP chain, else the first for this purpose whose segment matches."""
        for chain in self.sop:
            if (chain_id is not None and chain.id == chain_id) or (
                chain_id is None and chain.purpose == purpose and matches(chain.segment, tags)
            ):
                return chain
        raise LookupError(f"no SOP chain for purpose {purpose!r} (chain {chain_id!r}) and tags {tags}")


def parse_followup(text: str, *, origin: str = "<followup>") -> FollowupConfig:
    """Parse and validate a follow-up TOML file."""
    return parse_toml_model(FollowupConfig, text, origin=origin, error=FollowupConfigError)


@lru_cache(maxsize=1)
def default_followup() -> FollowupConfig:
    """The shipped chains (followup/default_followup.toml)."""
    text = resources.files("vitalgate.followup").joinpath("default_followup.toml").read_text(encoding="utf-8")
    return parse_followup(text, origin="followup/default_followup.toml")


def load_followup(path: Path | None = None) -> FollowupConfig:
    """A follow-up file from disk, or the shipped defaults."""
    return default_followup() if path is None else parse_followup(path.read_text(encoding="utf-8"), origin=str(path))
