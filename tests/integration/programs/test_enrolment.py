"""The program funnel on the real PostgreSQL: consent gates, allocation once and never editable, modules in local time."""

from __future__ import annotations

from datetime import time, timedelta

import psycopg
import pytest

from tests.support.clinic import add_patient, bp, seed_team, sim_start, write
from vitalgate.core.localtime import local_datetime
from vitalgate.programs.definitions import shipped_programs
from vitalgate.programs.enrolment import ConsentMissing, transition
from vitalgate.programs.funnel import FunnelError, by, channel_of
from vitalgate.store import consent, monitoring, program_allocations, program_enrolment, program_modules, time_zones
from vitalgate.store.consent import NewConsent
from vitalgate.store.db import connect
from vitalgate.store.program_rows import FunnelStep as S
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose

SH = "Asia/Shanghai"


async def _patient(conn: psycopg.AsyncConnection, unique: str, start, *, research: bool = True) -> int:
    team = await seed_team(conn, unique, doctor=False)
    patient, _ = await add_patient(
        conn, team["team"], f"pg-{unique}", device="bp_cuff", start=start, tags=["hypertension"]
    )
    await conn.execute("UPDATE patients SET birth_year = 1958, sex = 'female' WHERE id = %s", (patient,))
    await conn.execute("INSERT INTO patient_conditions (patient_id, code, stage) VALUES (%s, 'I10', '2')", (patient,))
    await time_zones.set_patient_time_zone(conn, patient, SH, valid_from=start, now=start, actor="test")
    if research:
        await consent.record(
            conn,
            patient,
            NewConsent(ConsentPurpose.RESEARCH, ConsentDecision.GIVEN, "trial-v1", start, "patient", "test"),
        )
    return patient


async def test_a_patient_walks_the_funnel_and_monitoring_follows(database_url: str, unique: str) -> None:
    program = shipped_programs()["hypertension-12w"]
    start = sim_start(40)
    conn = await connect(database_url, autocommit=True)
    try:
        patient = await _patient(conn, unique, start)
        await write(
            database_url,
            f"SER-pg-{unique}",
            [bp(start + timedelta(days=d, hours=1), 150 + d % 3, 90) for d in range(10)],
        )
        enrol_at = start + timedelta(days=10, hours=2)
        with pytest.raises(FunnelError, match="not invited"):
            await transition(conn, program, patient, S.ENROLLED, at=enrol_at, actor="nurse")
        await transition(conn, program, patient, S.INVITED, at=enrol_at, actor="nurse", channel="sms", segment="htn")
        with pytest.raises(FunnelError):
            await transition(conn, program, patient, S.ENROLLED, at=enrol_at, actor="nurse")
        await transition(conn, program, patient, S.CONSENTED, at=enrol_at, actor="nurse")
        result = await transition(conn, program, patient, S.ENROLLED, at=enrol_at, actor="nurse")
        alloc = result.allocation
        assert alloc is not None and alloc.arm in ("experiment", "control")
        # Baseline: 10 readings of 150-152 mmHg in the 30 days before enrolment; stage 2; born 1958.
        assert alloc.covariates["baseline_systolic_mmhg"] == pytest.approx(150.9, abs=0.05)
        assert alloc.covariates["condition_stage"] == "2" and alloc.covariates["sex"] == "female"
        assert alloc.stratum.endswith("baseline_systolic_mmhg=>=150")
        recorded = await program_allocations.randomisation(conn, program.id)
        assert recorded is not None and recorded.seed == program.randomisation.seed

        items = await program_modules.items_of(conn, program.id, patient)
        if alloc.arm == "control":
            assert items == []  # usual care: no modules
        else:
            week2 = [i for i in items if i.week == 2]
            assert week2 and all(local_datetime(i.due_at, SH).time() == time(9, 0) for i in week2)
            days = (local_datetime(week2[0].due_at, SH).date() - local_datetime(enrol_at, SH).date()).days
            assert days == 7
            assert {i.item_kind for i in items} == {"education", "checkin"}

        await transition(conn, program, patient, S.ACTIVE, at=enrol_at + timedelta(minutes=5), actor="nurse")
        paused_at = enrol_at + timedelta(days=3)
        with pytest.raises(FunnelError, match="reason"):
            await transition(conn, program, patient, S.PAUSED, at=paused_at, actor="nurse")
        await transition(conn, program, patient, S.PAUSED, at=paused_at, actor="nurse", reason="in hospital")
        assert (await monitoring.status_at(conn, [patient], paused_at))[patient] == "paused"
        await transition(conn, program, patient, S.ACTIVE, at=paused_at + timedelta(days=2), actor="nurse")
        left = paused_at + timedelta(days=4)
        await transition(conn, program, patient, S.WITHDRAWN, at=left, actor="patient", reason="moved away")
        assert (await monitoring.status_at(conn, [patient], left))[patient] == "discharged"
        assert all(i.sent_at is not None for i in await program_modules.items_of(conn, program.id, patient))
        with pytest.raises(FunnelError):
            await transition(conn, program, patient, S.ACTIVE, at=left + timedelta(days=1), actor="nurse")

        steps = [e.step for e in await program_enrolment.history(conn, program.id, patient)]
        assert steps == ["invited", "consented", "enrolled", "active", "paused", "active", "withdrawn"]
        paths = await program_enrolment.paths(conn, program.id, invited_from=start, invited_to=left)
        mine = [p for p in paths if p.patient_id == patient]
        assert mine[0].channel == "sms" and mine[0].last_step == "withdrawn" and mine[0].last_reason == "moved away"
        sms = next(f for f in by(mine, channel_of) if f.group == "sms")
        assert sms.invited == 1 and sms.enrolment_rate.value == 1.0 and sms.withdrawn == 1
    finally:
        await conn.close()


async def test_an_arm_cannot_be_changed_or_removed_and_the_funnel_is_append_only(
    database_url: str, unique: str
) -> None:
    program = shipped_programs()["hypertension-12w"]
    start = sim_start(20)
    conn = await connect(database_url, autocommit=True)
    try:
        patient = await _patient(conn, unique, start)
        for step in (S.INVITED, S.CONSENTED, S.ENROLLED):
            await transition(conn, program, patient, step, at=start + timedelta(hours=1), actor="nurse")
        alloc = await program_allocations.allocation(conn, program.id, patient)
        assert alloc is not None
        other = "control" if alloc.arm == "experiment" else "experiment"
        for statement, params in [
            ("UPDATE program_allocations SET arm = %s WHERE patient_id = %s", (other, patient)),
            ("DELETE FROM program_allocations WHERE patient_id = %s", (patient,)),
            ("UPDATE program_randomisations SET seed = seed + 1 WHERE program_id = %s", (program.id,)),
            ("UPDATE program_enrolment_events SET step = 'active' WHERE patient_id = %s", (patient,)),
            ("DELETE FROM program_enrolment_events WHERE patient_id = %s", (patient,)),
            ("TRUNCATE program_allocations CASCADE", None),
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                await conn.execute(statement, params)
        # Allocating again returns the recorded arm, never a new draw.
        from vitalgate.programs.enrolment import allocate

        async with conn.transaction():
            again = await allocate(conn, program, patient, at=start + timedelta(days=1), by="nurse")
        assert again == alloc
        assert (await program_allocations.allocation(conn, program.id, patient)) == alloc
    finally:
        await conn.close()


async def test_a_randomised_program_needs_research_consent_and_monitoring_consent(
    database_url: str, unique: str
) -> None:
    program = shipped_programs()["hypertension-12w"]
    start = sim_start(20)
    conn = await connect(database_url, autocommit=True)
    try:
        patient = await _patient(conn, unique, start, research=False)
        at = start + timedelta(hours=3)
        await transition(conn, program, patient, S.INVITED, at=at, actor="nurse", channel="phone")
        with pytest.raises(ConsentMissing, match="research"):
            await transition(conn, program, patient, S.CONSENTED, at=at, actor="nurse")
        await consent.record(
            conn, patient, NewConsent(ConsentPurpose.RESEARCH, ConsentDecision.GIVEN, "trial-v1", at, "patient", "t")
        )
        await consent.record(
            conn, patient, NewConsent(ConsentPurpose.MONITORING, ConsentDecision.WITHDRAWN, "v1", at, "patient", "t")
        )
        with pytest.raises(ConsentMissing, match="withdrawn"):
            await transition(conn, program, patient, S.CONSENTED, at=at, actor="nurse")
        assert [e.step for e in await program_enrolment.history(conn, program.id, patient)] == ["invited"]
    finally:
        await conn.close()
