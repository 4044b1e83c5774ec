"""The enrolment funnel's rules and figures (pure): which step may follow which; rate and drop-off per group.

invited → consented → enrolled → active ⇄ paused; active or paused → discharged; any step before
discharge → withdrawn (the patient's own decision, with a reason). Discharged and withdrawn end it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from vitalgate.programs.stats import Estimate, wilson
from vitalgate.store.program_enrolment import FunnelPath
from vitalgate.store.program_rows import FunnelStep

S = FunnelStep
ALLOWED: dict[FunnelStep | None, frozenset[FunnelStep]] = {
    None: frozenset({S.INVITED}),
    S.INVITED: frozenset({S.CONSENTED, S.WITHDRAWN}),
    S.CONSENTED: frozenset({S.ENROLLED, S.WITHDRAWN}),
    S.ENROLLED: frozenset({S.ACTIVE, S.WITHDRAWN, S.DISCHARGED}),
    S.ACTIVE: frozenset({S.PAUSED, S.DISCHARGED, S.WITHDRAWN}),
    S.PAUSED: frozenset({S.ACTIVE, S.DISCHARGED, S.WITHDRAWN}),
    S.DISCHARGED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
NEEDS_REASON = frozenset({S.PAUSED, S.DISCHARGED, S.WITHDRAWN})
# The forward steps a funnel chart shows, in order.
FORWARD = (S.INVITED, S.CONSENTED, S.ENROLLED, S.ACTIVE)


class FunnelError(ValueError):
    """A transition the funnel does not allow (e.g. enrolled before consented, anything after withdrawn)."""


def check_transition(current: FunnelStep | None, step: FunnelStep, reason: str | None) -> None:
    if step not in ALLOWED[current]:
        raise FunnelError(f"cannot go from {current or 'not invited'} to {step}")
    if step in NEEDS_REASON and not (reason and reason.strip()):
        raise FunnelError(f"{step} needs a reason")


@dataclass(frozen=True, slots=True)
class FunnelStage:
    step: FunnelStep
    reached: int
    share_of_invited: Estimate  # reached / invited (Wilson)
    drop_off: Estimate | None  # 1 - reached(next) / reached(this), None for the last step


@dataclass(frozen=True, slots=True)
class FunnelFigures:
    group: str
    invited: int
    stages: list[FunnelStage]
    enrolment_rate: Estimate  # enrolled / invited
    withdrawn: int


def figures(group: str, paths: Sequence[FunnelPath]) -> FunnelFigures:
    reached = [sum(1 for p in paths if step in p.first_at) for step in FORWARD]
    invited = reached[0]
    stages = []
    for i, step in enumerate(FORWARD):
        drop = None if i + 1 == len(FORWARD) else wilson(reached[i] - reached[i + 1], reached[i])
        stages.append(FunnelStage(step, reached[i], wilson(reached[i], invited), drop))
    return FunnelFigures(
        group,
        invited,
        stages,
        wilson(reached[2], invited),
        sum(1 for p in paths if p.last_step == S.WITHDRAWN),
    )


def by(paths: Sequence[FunnelPath], key: Callable[[FunnelPath], str]) -> list[FunnelFigures]:
    """Figures per group (channel, segment, period...), groups in name order, then the total."""
    groups: dict[str, list[FunnelPath]] = {}
    for p in paths:
        groups.setdefault(key(p), []).append(p)
    return [figures(name, groups[name]) for name in sorted(groups)] + [figures("all", paths)]


def month_of(p: FunnelPath) -> str:
    return f"{p.invited_at:%Y-%m}"


def channel_of(p: FunnelPath) -> str:
    return p.channel or "unknown"


def segment_of(p: FunnelPath) -> str:
    return p.segment or "unknown"


def within(at: datetime, start: datetime, end: datetime) -> bool:
    return start <= at < end
