"""Demo: an on-call roster, four inbound messages triaged and routed, and the nurse's staff alert."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from rich.console import Console

from vitalgate.notify.triage import route_message
from vitalgate.store import oncall as oncall_store
from vitalgate.store import users as user_store
from vitalgate.store.db import connect

# (patient index, message): one per queue, in both languages, one of them urgent. Demo Patient C
# (index 2) is left to the 48 mg/dL reading, so their only task is that reading's.
MESSAGES = (
    (0, "我爸从早上开始胸口疼，还出冷汗"),
    (1, "Forgot my metformin this morning, should I take it with lunch?"),
    (0, "血糖仪一插试纸就显示E-3"),
    (1, "Can I eat watermelon with diabetes?"),
)
# The demo nurse's own alert channel (the demo's local mail receiver gets it when the ledger runs).
NURSE_ALERT_EMAIL = "demo-nurse@example.org"


async def seed_triage(database_url: str, care_team_id: int, patient_ids: list[int], console: Console) -> None:
    """Put the demo nurse on call all week (the doctor as back-up), then route the demo messages."""
    now = datetime.now(UTC)
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            nurse = await user_store.get_user_by_username(conn, "demo-nurse")
            doctor = await user_store.get_user_by_username(conn, "demo-doctor")
            assert nurse is not None and doctor is not None
            await oncall_store.set_alert_channel(conn, nurse.id, medium="email", address=NURSE_ALERT_EMAIL)
            # 00:00-00:00 is a whole day in the team's zone.
            shifts = [(user, day, time(0), time(0), rank) for user, rank in ((nurse.id, 1), (doctor.id, 2))
                      for day in range(1, 8)]  # fmt: skip
            await oncall_store.replace_shifts(conn, care_team_id, shifts)
            console.print("on-call roster: Demo Nurse all week, Demo Doctor as back-up (team zone)")
            for i, (index, text) in enumerate(MESSAGES):
                decision = await route_message(
                    conn,
                    patient_id=patient_ids[index],
                    text=text,
                    received_at=now + timedelta(seconds=i),
                    inbound_message_id=None,
                )
                script = f", suggested script #{decision.suggested_script_id}" if decision.suggested_script_id else ""
                console.print(
                    f"  [magenta]message triaged[/]  patient #{patient_ids[index]}: {decision.category}"
                    f" ({decision.confidence:.2f}) -> {decision.routed_to}, task #{decision.task_id}{script}"
                )
                for alert in await oncall_store.alerts_of(conn, decision.task_id or 0):
                    console.print(
                        f"  [red]staff alert[/]  task #{alert.task_id} -> user #{alert.user_id} ({NURSE_ALERT_EMAIL}),"
                        f" delivery #{alert.delivery_id}, acknowledge in one click: {alert.link_path}"
                    )
    finally:
        await conn.close()
