"""Weekly QC sampling and reviews, and education scheduled without repeats, on the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.clinic import seed_team
from vitalgate.domain import Outcome
from vitalgate.followup import actions
from vitalgate.programs import content, qc
from vitalgate.store import content_sends, people, tasks
from vitalgate.store import qc as qc_store
from vitalgate.store.db import connect

MONDAY = date(2026, 3, 2)
AT = datetime(2026, 3, 3, 9, tzinfo=UTC)


async def test_qc_draws_a_reproducible_share_and_reviews_reach_the_staff_member(database_url: str, unique: str) -> None:
    conn = await connect(database_url, autocommit=True)
    try:
        team = (await seed_team(conn, unique))["team"]
        patient = await people.create_patient(conn, "QC Patient", team, external_ref=f"qc-{unique}")
        staff = f"nurse-qc-{unique}"
        for k in range(20):
            task = await tasks.create_task(
                conn,
                patient_id=patient,
                care_team_id=team,
                assignee_id=None,
                severity="high",
                title="t",
                due_at=AT + timedelta(hours=1),
                now=AT + timedelta(minutes=k),
                kind="alert",
            )
            outcome = Outcome.REACHED if k % 2 else Outcome.NOT_REACHED
            await actions.record_outcome(conn, task, outcome, actor=staff, now=AT + timedelta(minutes=k + 5))
        # 20 calls (outcome events) + 10 closed tasks by this nurse in the week.
        found = await qc_store.candidates(conn, AT - timedelta(days=1), AT + timedelta(days=6))
        mine = [c for c in found if c.staff == staff]
        assert len(mine) == 30 and sum(c.task_event_id is None for c in mine) == 10
        picked = qc.draw(len(found), 0.3, qc.week_seed(MONDAY, 5))
        assert picked == qc.draw(len(found), 0.3, qc.week_seed(MONDAY, 5))  # same seed, same sample
        assert 0 < len(picked) < len(found)
        result = await qc.sample_week(conn, MONDAY, share=0.3, base_seed=5, now=AT + timedelta(days=7))
        assert result.sampled == len(picked)
        again = await qc.sample_week(conn, MONDAY, share=0.3, base_seed=5, now=AT + timedelta(days=7))
        assert again.sampled == 0  # idempotent for the week
        queue = await qc_store.queue(conn, [team], pending_only=True)
        assert len(queue) == len(picked)
        item = queue[0]
        with pytest.raises(PermissionError):
            await qc.review(
                conn, item.sample_id, reviewer=staff, checklist=dict.fromkeys(qc.CHECKLIST, True), feedback="", now=AT
            )
        checklist = {"script_used": True, "outcome_documented": True, "sla_met": False, "patient_reached": True}
        score = await qc.review(
            conn,
            item.sample_id,
            reviewer="lead",
            checklist=checklist,
            feedback="Call back within the SLA next time.",
            now=AT + timedelta(days=8),
        )
        assert score == 75.0
        with pytest.raises(ValueError, match="reviewed already"):
            await qc.review(conn, item.sample_id, reviewer="lead", checklist=checklist, feedback="", now=AT)
        seen = await qc_store.of_staff(conn, staff)
        assert [(s.score, s.feedback, s.sla_met) for s in seen] == [
            (75.0, "Call back within the SLA next time.", False)
        ]
        assert len(await qc_store.queue(conn, [team], pending_only=True)) == len(picked) - 1
    finally:
        await conn.close()


async def test_education_is_matched_by_tags_and_stage_and_never_repeated(database_url: str, unique: str) -> None:
    conn = await connect(database_url, autocommit=True)
    try:
        team = (await seed_team(conn, unique, doctor=False))["team"]
        patient = await people.create_patient(
            conn, "Content Patient", team, external_ref=f"ct-{unique}", tags=["diabetes:t2", "risk:high"]
        )
        await conn.execute(
            "UPDATE patients SET journey_stage = 'newly_diagnosed', language = 'zh-Hans' WHERE id = %s", (patient,)
        )
        await conn.execute("INSERT INTO patient_conditions (patient_id, code) VALUES (%s, 'E11.9')", (patient,))
        chosen = []
        while (picked := await content.schedule_next(conn, patient, at=AT)) is not None:
            chosen.append(picked[1].item.key)
        assert chosen[0] == "diabetes-foot-care" and len(chosen) == len(set(chosen))
        assert "newly-diagnosed-welcome" in chosen and not any(k.startswith("bp-") for k in chosen)
        sends = await content_sends.of_patient(conn, patient)
        assert {s.language for s in sends} == {"zh-Hans"} and len(sends) == len(chosen)
        await content_sends.mark_sent(conn, sends[0].id, AT, None)
        assert await content_sends.mark_opened(conn, sends[0].id, AT + timedelta(hours=1))
        assert not await content_sends.mark_opened(conn, sends[0].id, AT + timedelta(hours=2))  # first opening kept
        assert (await content_sends.get(conn, sends[0].id)).opened_at == AT + timedelta(hours=1)
    finally:
        await conn.close()
