"""Care programs declared in TOML (the PlanDefinition idea): segment, weeks, weekly modules, arms.

A program file (programs/definitions/*.toml) names who it is for (a segment over tags), how long
it runs, how patients are randomised (covariates, block size, seed), what each arm gets (the
control arm usual care, the experiment arm the extras) and, week by week, the education items and
the check-in questionnaire sent in the patient's local morning. See programs/README.md.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vitalgate.alerts.segments import validate_segment
from vitalgate.core.toml_model import parse_toml_model
from vitalgate.followup.config import FollowupConfig


class ProgramConfigError(ValueError):
    """A program file that does not validate."""


class Covariate(StrEnum):
    """Baseline covariates a program may randomise on (computed by programs.baseline at enrolment)."""

    AGE_BAND = "age_band"
    SEX = "sex"
    CONDITION_SUBTYPE = "condition_subtype"
    CONDITION_STAGE = "condition_stage"
    BASELINE_TIR_PCT = "baseline_tir_pct"
    BASELINE_SYSTOLIC_MMHG = "baseline_systolic_mmhg"


CONTINUOUS = frozenset({Covariate.BASELINE_TIR_PCT, Covariate.BASELINE_SYSTOLIC_MMHG})
UNITS = {Covariate.BASELINE_TIR_PCT: "%", Covariate.BASELINE_SYSTOLIC_MMHG: "mmHg"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CovariateSpec(_Model):
    name: Covariate
    # Continuous covariates are stratified by these cut points (bands); their balance uses the values.
    cutpoints: list[float] = []
    stratify: bool = True

    @property
    def kind(self) -> Literal["categorical", "continuous"]:
        return "continuous" if self.name in CONTINUOUS else "categorical"

    @property
    def unit(self) -> str | None:
        return UNITS.get(self.name)

    @model_validator(mode="after")
    def _cuts(self) -> CovariateSpec:
        if self.cutpoints and self.kind == "categorical":
            raise ValueError(f"{self.name}: cut points are for continuous covariates")
        if self.cutpoints != sorted(set(self.cutpoints)):
            raise ValueError(f"{self.name}: cut points must be increasing")
        return self


class RandomisationSpec(_Model):
    seed: int
    block_size: int = Field(default=4, ge=2)
    arms: list[str] = Field(default=["experiment", "control"], min_length=2)
    covariates: list[CovariateSpec] = []

    @model_validator(mode="after")
    def _blocks(self) -> RandomisationSpec:
        if self.block_size % len(self.arms):
            raise ValueError(f"block size {self.block_size} is not a multiple of {len(self.arms)} arms")
        if len(set(self.arms)) != len(self.arms):
            raise ValueError("arm names must differ")
        return self


class ArmSpec(_Model):
    """What one arm gets on top of usual care (the control arm: nothing extra)."""

    description: str = ""
    escalation_chain: str | None = None  # follow-up escalation chain for this arm's alert tasks
    sop_chains: list[str] = []
    modules: bool = True  # receives the weekly modules (education is for every arm unless false)
    checkins: bool = True  # receives the weekly check-in questionnaire


class Module(_Model):
    week: int = Field(ge=1)
    education: list[str] = []
    checkin: str | None = None  # questionnaire id (vitalgate.questionnaires definitions)
    arms: list[str] | None = None  # None: every arm that receives modules
    send_at_local: time = time(9, 0)


class Program(_Model):
    version: Literal[1] = 1
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str
    segment: str = "*"
    condition: str | None = None  # ICD-10 code whose subtype/stage the covariates read, e.g. "I10"
    duration_weeks: int = Field(ge=1, le=104)
    urgent_contact_sla_minutes: float = Field(default=30, gt=0)
    randomisation: RandomisationSpec | None = None
    arms: dict[str, ArmSpec] = {"usual": ArmSpec()}
    modules: list[Module] = []

    _parses = field_validator("segment")(validate_segment)

    @model_validator(mode="after")
    def _consistent(self) -> Program:
        declared = set(self.arms)
        if self.randomisation is not None and set(self.randomisation.arms) != declared:
            raise ValueError(
                f"randomisation arms {self.randomisation.arms} must be the declared arms {sorted(declared)}"
            )
        for module in self.modules:
            if module.week > self.duration_weeks:
                raise ValueError(f"module of week {module.week} is after the program's {self.duration_weeks} weeks")
            unknown = set(module.arms or ()) - declared
            if unknown:
                raise ValueError(f"module of week {module.week} names unknown arms {sorted(unknown)}")
        return self

    @property
    def arm_names(self) -> list[str]:
        return list(self.randomisation.arms) if self.randomisation else list(self.arms)

    def modules_for(self, arm: str, week: int) -> list[Module]:
        spec = self.arms[arm]
        if not spec.modules:
            return []
        return [m for m in self.modules if m.week == week and (m.arms is None or arm in m.arms)]

    def check_chains(self, followup: FollowupConfig) -> None:
        """Every chain an arm names exists in the follow-up configuration."""
        escalation = {c.id for c in followup.escalation}
        sop = {c.id for c in followup.sop}
        for name, arm in self.arms.items():
            if arm.escalation_chain and arm.escalation_chain not in escalation:
                raise ProgramConfigError(f"{self.id}: arm {name} names unknown escalation chain {arm.escalation_chain}")
            missing = set(arm.sop_chains) - sop
            if missing:
                raise ProgramConfigError(f"{self.id}: arm {name} names unknown SOP chains {sorted(missing)}")


def parse_program(text: str, *, origin: str = "<program>") -> Program:
    return parse_toml_model(Program, text, origin=origin, error=ProgramConfigError)


@lru_cache(maxsize=1)
def shipped_programs() -> dict[str, Program]:
    """The programs shipped in vitalgate/programs/definitions/, by id."""
    found: dict[str, Program] = {}
    for entry in resources.files("vitalgate.programs").joinpath("definitions").iterdir():
        if entry.name.endswith(".toml"):
            program = parse_program(entry.read_text(encoding="utf-8"), origin=f"programs/definitions/{entry.name}")
            if program.id in found:
                raise ProgramConfigError(f"two shipped programs have the id {program.id}")
            found[program.id] = program
    return found


def load_program(ref: str | Path) -> Program:
    """A shipped program by id, or a program file by path."""
    if isinstance(ref, str) and ref in shipped_programs():
        return shipped_programs()[ref]
    path = Path(ref)
    if not path.is_file():
        raise ProgramConfigError(f"no shipped program {ref!s} and no such file")
    return parse_program(path.read_text(encoding="utf-8"), origin=str(path))
