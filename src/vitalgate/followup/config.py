"""Declarative follow-up: escalation chains and SOP chains (pydantic models over TOML)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vitalgate.alerts.segments import matches, validate_segment
from vitalgate.core.toml_model import parse_toml_model

ChannelName = Literal["message", "questionnaire", "voice", "phone", "doctor", "coordinator"]
Severity = Literal["urgent", "high", "routine"]


class FollowupConfigError(ValueError):
    """A follow-up file that does not validate."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Segmented(_Model):
    segment: str = "*"

    _parses = field_validator("segment")(validate_segment)


class EscalationStep(_Model):
    name: str
    channel: ChannelName
    template: str
    after_minutes: float = Field(ge=0)  # from the previous step (the first: from task creation)


class EscalationChain(_Segmented):
    id: str
    severities: list[Severity] = ["urgent", "high", "routine"]
    steps: list[EscalationStep] = Field(min_length=1)


class SopStep(_Model):
    name: str
    channel: ChannelName
    template: str
    offset_hours: float  # relative to the anchor (negative: before the visit)
    cancel_on_confirm: bool = False


class SopChain(_Segmented):
    id: str
    purpose: str
    steps: list[SopStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> SopChain:
        offsets = [s.offset_hours for s in self.steps]
        if offsets != sorted(offsets):
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
