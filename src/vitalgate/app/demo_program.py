"""Demo step: the demo patients join the randomised glucose program, and the dashboard has something to show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console

from vitalgate.programs import enrolment
from vitalgate.programs.definitions import shipped_programs
from vitalgate.store import consent, program_kpis
from vitalgate.store.consent import NewConsent
from vitalgate.store.db import connect
from vitalgate.store.program_rows import FunnelStep
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose

DEMO_PROGRAM = "glucose-22w"
# The path a real enrolment takes: invitation, consent (monitoring + research, as randomisation needs), enrolment
# (the arm is drawn then, once), first reading period.
STEPS = (FunnelStep.INVITED, FunnelStep.CONSENTED, FunnelStep.ENROLLED, FunnelStep.ACTIVE)


async def enrol_demo_patients(database_url: str, patient_ids: list[int], console: Console) -> dict[int, str]:
    """Enrol every demo patient in the demo program; returns each patient's arm."""
    program = shipped_programs()[DEMO_PROGRAM]
    now = datetime.now(UTC)
    arms: dict[int, str] = {}
    conn = await connect(database_url)
    try:
        for patient_id in patient_ids:
            async with conn.transaction():
                for purpose in (ConsentPurpose.MONITORING, ConsentPurpose.RESEARCH):
                    given = NewConsent(
                        purpose, ConsentDecision.GIVEN, "demo-1", now - timedelta(minutes=1), "patient", "demo"
                    )
                    await consent.record(conn, patient_id, given)
            for step in STEPS:
                result = await enrolment.transition(
                    conn, program, patient_id, step, at=now, actor="demo", channel="app"
                )
                if result.allocation is not None:
                    arms[patient_id] = result.allocation.arm
        await program_kpis.refresh_reading_days(conn, now)
    finally:
        await conn.close()
    drawn = ", ".join(f"patient {pid}: {arm}" for pid, arm in arms.items())
    console.print(
        f"[bold]program[/] {program.name}: {len(patient_ids)} enrolled, arms drawn from the recorded seed ({drawn});"
        f" dashboard at /ui/programs/{program.id}"
    )
    return arms
