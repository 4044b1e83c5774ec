"""Demo: a patient whose enrolment questionnaire set their tags, two PHQ-9s over time, and a link to answer one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console

from vitalgate.domain import LinkPurpose
from vitalgate.notify.links import issue_link
from vitalgate.questionnaires import service
from vitalgate.store.db import connect

# Demo Patient A's answers (type 2 diabetes on tablets, no insulin, home meter, former smoker).
INTAKE = {
    "birth-year": "1961", "sex": "female", "language": "zh-Hans", "diabetes-type": "t2", "insulin": "false",
    "hypertension": "false", "smoking": "former", "exercise": "some", "diet": "high-sugar", "alcohol": "none",
    "family-diabetes": "true", "has-glucose-meter": "true", "has-bp-cuff": "true", "testing-frequency": "daily",
    "last-hba1c": "7.4",
}  # fmt: skip
# Two PHQ-9s two weeks apart: mild (7), then minimal (3); item 9 is 0 both times.
PHQ9 = (
    {f"phq9-{n}": code for n, code in enumerate(["LA6569-3"] * 7 + ["LA6568-5"] * 2, 1)},
    {f"phq9-{n}": code for n, code in enumerate(["LA6569-3"] * 3 + ["LA6568-5"] * 6, 1)},
)


async def seed_questionnaires(database_url: str, patient_a: int, patient_c: int, console: Console) -> str:
    """Answer the intake and two PHQ-9s for Demo Patient A; return a questionnaire link path for Demo Patient C."""
    now = datetime.now(UTC)
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            for qid, answers, at in (
                ("enrolment-intake", INTAKE, now - timedelta(days=15)),
                ("phq-9", PHQ9[0], now - timedelta(days=14)),
                ("phq-9", PHQ9[1], now - timedelta(hours=1)),
            ):
                response, _ = await service.start_or_resume(
                    conn, patient_id=patient_a, questionnaire_id=qid, entered_by="patient", user_id=None,
                    language="zh-Hans", now=at,
                )  # fmt: skip
                await service.save(conn, response.id, answers, now=at, complete=True)
            path = await issue_link(
                conn, LinkPurpose.QUESTIONNAIRE, patient_id=patient_c, questionnaire="enrolment-intake", now=now
            )
    finally:
        await conn.close()
    link = "/q/" + path.rsplit("/", 1)[-1]
    console.print(
        f"questionnaires: Demo Patient A answered the enrolment questionnaire (tags set from the answers) and two"
        f" PHQ-9s; Demo Patient C's enrolment questionnaire link: [cyan]{link}[/]"
    )
    return link
