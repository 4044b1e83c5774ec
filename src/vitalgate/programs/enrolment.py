"""Moving a patient through a program's funnel, consistent with monitoring status and consent.

- consented: monitoring consent must hold; a randomised program also needs research consent
  given (opt-in: being randomised is research);
- enrolled: the arm is drawn (once; the database refuses any change) and the program is applied:
  its weekly module items are scheduled at the module's local time in the patient's zone;
- active / paused / discharged / withdrawn set the monitoring status (store.monitoring) to
  active / paused / discharged / discharged, so alert rules stop judging a patient who left.
Each transition runs in its own transaction under a per-(program, patient) lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from vitalgate.core.localtime import ZoneHistory, local_date, wall_clock_on
from vitalgate.programs import funnel
from vitalgate.programs.baseline import covariates as covariates_of
from vitalgate.programs.definitions import Program
from vitalgate.programs.randomise import draw, stratum_of
from vitalgate.store import consent, monitoring, program_allocations, program_enrolment, program_modules
from vitalgate.store.program_baseline import baseline_facts
from vitalgate.store.program_enrolment import NewTransition
from vitalgate.store.program_modules import NewModuleItem
from vitalgate.store.program_rows import Allocation, EnrolmentEvent, FunnelStep, ModuleItemKind
from vitalgate.store.record_vocab import ConsentPurpose
from vitalgate.store.time_zones import patient_clock

_MONITORING: dict[FunnelStep, monitoring.MonitoringStatus] = {
    FunnelStep.ACTIVE: "active",
    FunnelStep.PAUSED: "paused",
    FunnelStep.DISCHARGED: "discharged",
    FunnelStep.WITHDRAWN: "discharged",
}


class ConsentMissing(funnel.FunnelError):
    """The consent a step needs does not hold at that time."""


@dataclass(frozen=True, slots=True)
class TransitionResult:
    event: EnrolmentEvent
    allocation: Allocation | None = None
    items_scheduled: int = 0


async def transition(
    conn: psycopg.AsyncConnection,
    program: Program,
    patient_id: int,
    step: FunnelStep,
    *,
    at: datetime,
    actor: str,
    channel: str | None = None,
    segment: str | None = None,
    reason: str | None = None,
) -> TransitionResult:
    """Record one funnel step; raises FunnelError (or ConsentMissing) and records nothing when not allowed."""
    async with conn.transaction():
        await program_enrolment.lock_patient(conn, program.id, patient_id)
        latest = await program_enrolment.current(conn, program.id, patient_id)
        current = FunnelStep(latest.step) if latest else None
        funnel.check_transition(current, step, reason)
        if latest is not None and at < latest.at:
            raise funnel.FunnelError(f"{step} at {at.isoformat()} is before the last step ({latest.at.isoformat()})")
        if step in (FunnelStep.CONSENTED, FunnelStep.ACTIVE):
            await _require_consent(conn, program, patient_id, at)
        event = await program_enrolment.append(
            conn,
            NewTransition(
                program.id,
                patient_id,
                step,
                at,
                actor,
                channel,
                segment if segment is not None else (latest.segment if latest else None),
                reason,
            ),
        )
        allocation, scheduled = None, 0
        if step is FunnelStep.ENROLLED:
            allocation = await allocate(conn, program, patient_id, at=at, by=actor)
            arm = allocation.arm if allocation else program.arm_names[0]
            scheduled = await _apply_program(conn, program, patient_id, arm, enrolled_at=at)
        if step in _MONITORING:
            await monitoring.set_status(
                conn,
                patient_id,
                _MONITORING[step],
                valid_from=at,
                reason=f"program {program.id}: {step}" + (f" ({reason})" if reason else ""),
                set_by=actor,
            )
        if step in (FunnelStep.DISCHARGED, FunnelStep.WITHDRAWN):
            await program_modules.cancel_unsent(conn, program.id, patient_id)
        return TransitionResult(event, allocation, scheduled)


async def _require_consent(conn: psycopg.AsyncConnection, program: Program, patient_id: int, at: datetime) -> None:
    verdict = await consent.decide(conn, patient_id, ConsentPurpose.MONITORING, None, at)
    if not verdict.allowed:
        raise ConsentMissing(verdict.reason)
    if program.randomisation is not None:
        research = await consent.decide(conn, patient_id, ConsentPurpose.RESEARCH, None, at)
        if not research.allowed:
            raise ConsentMissing(f"randomised program {program.id}: {research.reason}")


async def allocate(
    conn: psycopg.AsyncConnection, program: Program, patient_id: int, *, at: datetime, by: str
) -> Allocation | None:
    """The patient's arm: drawn once from the recorded seed and the stratum's next block position."""
    spec = program.randomisation
    if spec is None:
        return None
    existing = await program_allocations.allocation(conn, program.id, patient_id)
    if existing is not None:
        return existing
    await program_allocations.lock_program(conn, program.id)
    recorded = await program_allocations.ensure_randomisation(
        conn,
        program.id,
        seed=spec.seed,
        block_size=spec.block_size,
        arms=spec.arms,
        covariates=[c.name for c in spec.covariates],
        at=at,
        by=by,
    )
    facts = (await baseline_facts(conn, [patient_id], condition=program.condition, until=at))[patient_id]
    clock = await patient_clock(conn, patient_id)
    day = local_date(at, clock.history) if clock else at.date()
    values = covariates_of(facts, day)
    declared = {str(c.name): values[c.name] for c in spec.covariates}
    stratum = stratum_of(declared, spec.covariates)
    sequence = await program_allocations.stratum_count(conn, program.id, stratum)
    # The recorded seed, arms and block size rule (a later edit of the TOML cannot re-deal the blocks).
    d = draw(recorded.seed, stratum, sequence, recorded.arms, recorded.block_size)
    return await program_allocations.insert(
        conn,
        program_id=program.id,
        patient_id=patient_id,
        arm=d.arm,
        stratum=stratum,
        block_index=d.block_index,
        position=d.position,
        covariates=declared,
        at=at,
        by=by,
    )


async def _apply_program(
    conn: psycopg.AsyncConnection, program: Program, patient_id: int, arm: str, *, enrolled_at: datetime
) -> int:
    """Schedule every module item of the patient's arm: week w at send_at_local on local day 7(w-1)."""
    clock = await patient_clock(conn, patient_id)
    where = clock.history if clock else "UTC"
    spec = program.arms[arm]
    items: list[NewModuleItem] = []
    for week in range(1, program.duration_weeks + 1):
        for module in program.modules_for(arm, week):
            due = wall_clock_on(enrolled_at, 7 * (week - 1), module.send_at_local, where)
            if due < enrolled_at:  # enrolled after this morning's slot: the first module goes out now
                due = enrolled_at
            items += [NewModuleItem(week, ModuleItemKind.EDUCATION, key, due) for key in module.education]
            if module.checkin and spec.checkins:
                items.append(NewModuleItem(week, ModuleItemKind.CHECKIN, module.checkin, due))
    return await program_modules.schedule(conn, program.id, patient_id, items)


def program_week(enrolled_at: datetime, now: datetime, where: ZoneHistory | str, duration_weeks: int) -> int | None:
    """The week of the program `now` falls in (1-based) by the patient's local dates; None before or after."""
    days = (local_date(now, where) - local_date(enrolled_at, where)).days
    week = days // 7 + 1
    return week if 1 <= week <= duration_weeks and days >= 0 else None
