"""Demo: the touchpoints go through the real delivery ledger to local receivers the demo starts.

The demo patients get contact points (one prefers e-mail, one reads Chinese) and Demo Patient A a
daughter who shares in alerts; after the scheduler's tick `vitalgate notify run --once` does its
work against an aiosmtpd SMTP server and a signed-webhook sink (the program's SMS / voice gateway),
and the demo prints what each patient, caregiver and staff member received, with the link.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from vitalgate.app.notify_sinks import SmtpSink, WebhookSink
from vitalgate.domain import DeliveryStatus, Medium
from vitalgate.notify.config import NotifyConfig, ProgramNotify, SmtpChannel, WebhookChannel
from vitalgate.notify.worker import Worker
from vitalgate.store import caregivers, consent, deliveries, recipients
from vitalgate.store.consent import NewConsent
from vitalgate.store.db import connect
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose

# (phone, e-mail, preferred channel, language) of the three demo patients, in DEMO_PATIENTS order.
CONTACTS = (
    ("+8613800000001", "patient.a@example.org", "sms", "zh-Hans"),
    ("+8613800000002", "patient.b@example.org", "email", "en"),
    ("+8613800000003", None, "sms", "en"),
)


async def prepare_contacts(database_url: str, patient_ids: list[int]) -> None:
    """Contact points for the demo patients (others get a phone), and Demo Patient C's daughter."""
    now = datetime.now(UTC)
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            for index, patient_id in enumerate(patient_ids):
                phone, email, preferred, language = CONTACTS[index] if index < len(CONTACTS) else (
                    f"+86139{patient_id:08d}", None, "sms", "en"
                )  # fmt: skip
                await conn.execute(
                    "UPDATE patients SET phone = coalesce(phone, %s), email = coalesce(email, %s),"
                    " preferred_channel = coalesce(preferred_channel, %s), language = %s WHERE id = %s",
                    (phone, email, preferred, language, patient_id),
                )
            low = patient_ids[2]  # Demo Patient C: the 48 mg/dL reading's urgent chain reaches her daughter too
            if not await caregivers.of_patient(conn, low):
                daughter = await caregivers.add(
                    conn,
                    low,
                    {
                        "name": "Demo Daughter",
                        "relationship": "child",
                        "email": "daughter.a@example.org",
                        "language": "zh-Hans",
                        "alert_severities": ["urgent", "high"],
                        "receives_reminders": True,
                    },
                )
                await consent.record(
                    conn,
                    low,
                    NewConsent(
                        ConsentPurpose.SHARE_CAREGIVER, ConsentDecision.GIVEN, "demo-1", now, "patient", "demo",
                        caregiver_id=daughter.id,
                    ),
                )  # fmt: skip
    finally:
        await conn.close()


@dataclass
class DemoReceivers:
    webhook: WebhookSink
    smtp: SmtpSink

    def config(self, public_base_url: str) -> NotifyConfig:
        secret = SecretStr(self.webhook.secret or "")
        gateway = WebhookChannel(url=self.webhook.url, secret=secret)
        mail = SmtpChannel(host="127.0.0.1", port=self.smtp.port, starttls=False, sender="care@vitalgate.local")
        channels = {Medium.SMS: gateway, Medium.VOICE: gateway, Medium.APP: gateway, Medium.EMAIL: mail}
        return NotifyConfig(public_base_url=public_base_url, programs={"default": ProgramNotify(channels=channels)})


async def start_receivers() -> DemoReceivers:
    webhook = WebhookSink(secret=secrets.token_urlsafe(32))
    await webhook.start()
    smtp = SmtpSink()
    smtp.start()
    return DemoReceivers(webhook, smtp)


async def deliver_and_show(
    database_url: str, patient_ids: list[int], receivers: DemoReceivers, public_base_url: str, console: Console
) -> None:
    """`notify run --once` for the demo's patients, then one line per message: who, how, what, the link."""
    worker = Worker(database_url, receivers.config(public_base_url), patient_ids=patient_ids)
    try:
        stats = await worker.drain()
    finally:
        await worker.close()
    console.print(
        f"notify: {stats.sent} messages sent, {stats.held} held for quiet hours, {stats.cancelled} cancelled,"
        f" {stats.dead} dead; receivers got {len(receivers.webhook.received)} webhook requests (signatures"
        f" {'all valid' if all(r.signed for r in receivers.webhook.received) else 'NOT all valid'})"
        f" and {len(receivers.smtp.messages)} e-mails"
    )
    conn = await connect(database_url)
    try:
        rows = [r for pid in patient_ids for r in await deliveries.listed(conn, patient_id=pid)]
        names = await recipients.display_names(conn, [(r.recipient_kind, r.recipient_id) for r in rows])
    finally:
        await conn.close()
    table = Table(title="What each demo patient, caregiver and staff member received")
    for column in ("to", "how", "address", "status", "text", "link"):
        table.add_column(column, overflow="fold")
    for r in sorted(rows, key=lambda r: (r.patient_id or 0, r.recipient_kind, r.id)):
        text, address = _received(receivers, r.id)
        status = str(r.status)
        if r.status == DeliveryStatus.QUEUED and r.medium == Medium.CALL:
            status = "call task for a nurse"
        elif r.status == DeliveryStatus.QUEUED and r.status_reason:
            status = f"{r.status_reason} until {r.next_attempt_at:%H:%M} UTC"
        path = r.link_path or str(r.params.get("link") or "")
        link = public_base_url.rstrip("/") + path if path.startswith("/") else path
        who = f"{names.get((r.recipient_kind, r.recipient_id), r.recipient_id)} ({r.recipient_kind})"
        table.add_row(who, f"{r.channel} by {r.medium}",
                      address or r.address or "", status, text, link)  # fmt: skip
    console.print(table)


def _received(receivers: DemoReceivers, delivery_id: int) -> tuple[str, str]:
    """What the receiver got for one message (the webhook's JSON or the e-mail), first line only."""
    for hit in receivers.webhook.received:
        if hit.body.get("delivery_id") == delivery_id:
            return str(hit.body.get("text", "")).splitlines()[0], str(hit.body.get("to", ""))
    for mail in receivers.smtp.messages:
        if mail["X-VitalGate-Delivery"] == str(delivery_id):
            body = mail.get_payload(decode=True)
            text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
            return text.splitlines()[0], str(mail["To"])
    return "", ""
