"""Demo: the care team writes to Demo Patient A, who gets an inbox link; a check-in link for their open task."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from vitalgate.domain import ACTIVE_TASK_STATUSES, LinkPurpose, Severity
from vitalgate.notify.conversation import staff_message
from vitalgate.notify.links import issue_link
from vitalgate.store import tasks as task_store
from vitalgate.store import users as user_store
from vitalgate.store.db import connect

MESSAGE = "您好，明天上午请空腹测一次血糖，结果会自动传给我们。有问题可以直接在这里回复。"


async def seed_replies(database_url: str, patient_id: int, console: Console) -> None:
    """A care-team message (the SMS carries only the inbox link) and an "I'm OK" link for a non-urgent task."""
    now = datetime.now(UTC)
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            nurse = await user_store.get_user_by_username(conn, "demo-nurse")
            assert nurse is not None
            sent = await staff_message(conn, patient_id=patient_id, author_user_id=nurse.id, now=now, body=MESSAGE)
            tasks = await task_store.patient_tasks(conn, patient_id)
            routine = [t for t in tasks if t.status in ACTIVE_TASK_STATUSES and t.severity != Severity.URGENT]
            check_in = (
                await issue_link(conn, LinkPurpose.CHECK_IN, patient_id=patient_id, task_id=routine[0].id, now=now)
                if routine
                else None
            )
    finally:
        await conn.close()
    console.print(
        f"replies: Demo Nurse wrote to Demo Patient A; their inbox (reply box included): [cyan]{sent.link_path}[/]"
    )
    if check_in:
        console.print(f"replies: Demo Patient A's \"I'm OK\" link for task #{routine[0].id}: [cyan]{check_in}[/]")
