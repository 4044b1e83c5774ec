"""Weekly quality control of follow-up work: a random share of closed tasks and calls to a reviewer's queue.

The draw is reproducible: candidates of the week in a fixed order, a Bernoulli draw per candidate
from random.Random(seed of the week), so the same week, share and seed give the same sample. The
score is the share of checklist items met (0-100); feedback is shown to the reviewed staff member.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg

from vitalgate.store import qc as qc_store

CHECKLIST = ("script_used", "outcome_documented", "sla_met", "patient_reached")
DEFAULT_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class SampleResult:
    week_start: date
    candidates: int
    sampled: int


def week_seed(week_start: date, base_seed: int) -> int:
    return base_seed * 1_000_003 + week_start.toordinal()


def draw(n: int, share: float, seed: int) -> list[int]:
    """Indexes of the sampled candidates (at least one when there are any and share > 0)."""
    if not 0 < share <= 1:
        raise ValueError("the QC share is in (0, 1]")
    rng = random.Random(seed)
    picked = [i for i in range(n) if rng.random() < share]
    if n and not picked:
        picked = [rng.randrange(n)]
    return picked


async def sample_week(
    conn: psycopg.AsyncConnection, week_start: date, *, share: float = DEFAULT_SHARE, base_seed: int = 17, now: datetime
) -> SampleResult:
    """Draw the week's sample (Monday 00:00 UTC to the next Monday); idempotent for the same week."""
    start = datetime.combine(week_start, datetime.min.time(), tzinfo=UTC)
    found = await qc_store.candidates(conn, start, start + timedelta(days=7))
    seed = week_seed(week_start, base_seed)
    chosen = [found[i] for i in draw(len(found), share, seed)]
    inserted = await qc_store.insert_samples(conn, week_start, chosen, share=share, seed=seed, at=now)
    return SampleResult(week_start, len(found), inserted)


def score(checklist: dict[str, bool]) -> float:
    if set(checklist) != set(CHECKLIST):
        raise ValueError(f"the checklist is {CHECKLIST}")
    return 100.0 * sum(checklist.values()) / len(CHECKLIST)


async def review(
    conn: psycopg.AsyncConnection,
    sample_id: int,
    *,
    reviewer: str,
    checklist: dict[str, bool],
    feedback: str,
    now: datetime,
) -> float:
    """Record the review; raises LookupError (no sample), PermissionError (own work), ValueError (reviewed)."""
    item = await qc_store.get(conn, sample_id)
    if item is None:
        raise LookupError(f"no QC sample {sample_id}")
    if item.staff == reviewer:
        raise PermissionError("staff do not review their own work")
    value = score(checklist)
    if not await qc_store.insert_review(
        conn, sample_id, reviewer=reviewer, at=now, checklist=checklist, score=value, feedback=feedback.strip()
    ):
        raise ValueError(f"QC sample {sample_id} was reviewed already")
    return value
