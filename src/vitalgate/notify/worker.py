"""`vitalgate notify run`: claim due messages, check them at send time, render, send, record every attempt.

One batch: claim (a short transaction that also decides holds, cancellations and links), send
concurrently outside any transaction, record the results (a second short transaction). Failures
retry with the configured backoff up to `max_attempts`, then the message is dead (the staff list).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
import structlog

from vitalgate.core.clock import Clock, SystemClock
from vitalgate.core.shutdown import sleep_until_stopped
from vitalgate.domain import DeliveryStatus, LinkPurpose, Medium, RecipientKind
from vitalgate.notify.channels import Outgoing, SendResult, Transport, build_transport
from vitalgate.notify.config import NotifyConfig
from vitalgate.notify.links import LinkRequest, issue_links
from vitalgate.notify.send_gate import Action, SendGate
from vitalgate.notify.templates import render
from vitalgate.store import consent_snapshot, recipients, time_zones
from vitalgate.store import delivery_queue as queue
from vitalgate.store.db import connect
from vitalgate.store.delivery_queue import Claimed
from vitalgate.store.delivery_rows import AttemptResult

log = structlog.get_logger(__name__)

_WRITTEN = (Medium.SMS, Medium.EMAIL, Medium.APP)


@dataclass
class BatchStats:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    held: int = 0
    cancelled: int = 0
    dead: int = 0

    def add(self, other: BatchStats) -> None:
        for name in ("claimed", "sent", "failed", "held", "cancelled", "dead"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class _Job:
    claimed: Claimed
    transport: Transport
    message: Outgoing


def link_purpose(template: str, recipient: RecipientKind) -> LinkPurpose | None:
    """Which page a message's link opens (None: no link; staff links come from their producer)."""
    if recipient == RecipientKind.CAREGIVER:
        return LinkPurpose.INBOX
    if recipient != RecipientKind.PATIENT:
        return None
    if template.startswith("visit-"):
        return LinkPurpose.VISIT
    if template == "symptom-questionnaire":
        return LinkPurpose.QUESTIONNAIRE
    return LinkPurpose.CHECK_IN


@dataclass
class Worker:
    database_url: str
    config: NotifyConfig
    clock: Clock = field(default_factory=SystemClock)
    patient_ids: list[int] | None = None  # only these patients' messages (the demo); None: all
    _transports: dict[tuple[str, Medium], Transport] = field(default_factory=dict)

    def transport(self, program: str, medium: Medium) -> Transport | None:
        key = (program, medium)
        if key not in self._transports:
            channel = self.config.program(program).channels.get(medium)
            if channel is None:
                return None
            self._transports[key] = build_transport(channel)
        return self._transports[key]

    async def close(self) -> None:
        for transport in self._transports.values():
            await transport.close()
        self._transports.clear()

    async def _prepare(self, conn: psycopg.AsyncConnection, now: datetime, stats: BatchStats) -> list[_Job]:
        """Claim a batch and decide each message; returns what to send now (the caller commits)."""
        claimed = await queue.claim(
            conn,
            now,
            limit=self.config.batch_size,
            lease=timedelta(seconds=self.config.lease_s),
            patient_ids=self.patient_ids,
        )
        stats.claimed = len(claimed)
        if not claimed:
            return []
        reach = await recipients.reach_of(conn, [(c.row.recipient_kind, c.row.recipient_id) for c in claimed])
        clocks = await time_zones.patient_clocks(conn, sorted({c.row.patient_id for c in claimed if c.row.patient_id}))
        patient_ids = [c.row.patient_id for c in claimed if c.row.patient_id is not None]
        gate = SendGate(await consent_snapshot.snapshot(conn, patient_ids, now), now)
        ready: list[tuple[Claimed, Transport, str]] = []
        for c in claimed:
            row = c.row
            decision = gate.decide(
                c, reach.get((row.recipient_kind, row.recipient_id)), clocks.get(row.patient_id or -1)
            )
            if decision.action == Action.HOLD:
                assert decision.until is not None
                await queue.hold(conn, row.id, decision.until, decision.reason, now)
                stats.held += 1
                continue
            if decision.action != Action.SEND:
                status = DeliveryStatus.CANCELLED if decision.action == Action.CANCEL else DeliveryStatus.DEAD
                await queue.finish_unsent(conn, row.id, status, decision.reason, now)
                stats.cancelled += status == DeliveryStatus.CANCELLED
                stats.dead += status == DeliveryStatus.DEAD
                continue
            transport = self.transport(c.program, row.medium)
            if transport is None:
                await queue.finish_unsent(
                    conn, row.id, DeliveryStatus.DEAD, f"program {c.program} has no {row.medium} channel", now
                )
                stats.dead += 1
                continue
            assert decision.address is not None
            ready.append((c, transport, decision.address))
        paths = await self._links(conn, [c for c, _, _ in ready], now)
        jobs = [self._job(c, transport, address, paths.get(c.row.id)) for c, transport, address in ready]
        return jobs

    def _job(self, c: Claimed, transport: Transport, address: str, path: str | None) -> _Job:
        """Render one message (the link as a full URL) for its transport."""
        row = c.row
        link = None if path is None else path if "://" in path else self.config.public_base_url.rstrip("/") + path
        text = render(
            row.template,
            row.params,
            row.locale,
            caregiver=row.recipient_kind == RecipientKind.CAREGIVER,
            link=link,
            include_values=self.config.program(c.program).include_values,
        )
        message = Outgoing(
            row.id, row.idempotency_key, row.medium, address, text.subject, text.text, row.locale, row.urgent, link
        )
        return _Job(c, transport, message)

    async def _links(self, conn: psycopg.AsyncConnection, claimed: list[Claimed], now: datetime) -> dict[int, str]:
        """Each message's link path, issued once per message in one round trip (a resend keeps its link)."""
        paths: dict[int, str] = {}
        wanted: list[tuple[int, LinkRequest]] = []
        for c in claimed:
            row = c.row
            existing = row.link_path or row.params.get("link")
            purpose = link_purpose(row.template, row.recipient_kind)
            if existing:
                paths[row.id] = str(existing)
            elif purpose is not None and row.patient_id is not None and row.medium in _WRITTEN:
                request = LinkRequest(
                    purpose,
                    row.patient_id,
                    caregiver_id=row.recipient_id if row.recipient_kind == RecipientKind.CAREGIVER else None,
                    task_id=row.task_id,
                    delivery_id=row.id,
                    sop_instance_id=row.sop_instance_id,
                    questionnaire="symptom-check" if purpose == LinkPurpose.QUESTIONNAIRE else None,
                )
                wanted.append((row.id, request))
        issued = await issue_links(conn, [r for _, r in wanted], now=now)
        new = [(delivery_id, path) for (delivery_id, _), path in zip(wanted, issued, strict=True)]
        await queue.set_links(conn, new)
        return paths | dict(new)

    async def _send(self, jobs: list[_Job]) -> list[AttemptResult]:
        limit = asyncio.Semaphore(self.config.concurrency)

        async def one(job: _Job) -> AttemptResult:
            async with limit:
                started = self.clock.now()
                try:
                    result = await job.transport.send(job.message)
                except Exception as exc:  # a transport bug must not lose the batch's other results
                    result = SendResult(False, error=f"{type(exc).__name__}: {exc}"[:500])
                if result.ok:
                    status = DeliveryStatus.SENT
                else:
                    status = DeliveryStatus.UNDELIVERED if result.permanent else DeliveryStatus.FAILED
                return AttemptResult(
                    job.message.delivery_id,
                    job.transport.name,
                    started,
                    self.clock.now(),
                    status,
                    result.provider_message_id,
                    result.error,
                )

        return list(await asyncio.gather(*(one(j) for j in jobs)))

    async def drain_batch(self, conn: psycopg.AsyncConnection) -> BatchStats:
        """One claim / send / record cycle."""
        stats = BatchStats()
        now = self.clock.now()
        async with conn.transaction():
            jobs = await self._prepare(conn, now, stats)
        results = await self._send(jobs)
        retry_at = {
            r.delivery_id: r.finished_at + timedelta(seconds=self.config.backoff(j.claimed.row.attempts + 1))
            for r, j in zip(results, jobs, strict=True)
            if r.status == DeliveryStatus.FAILED
        }
        async with conn.transaction():
            await queue.record_results(conn, results, max_attempts=self.config.max_attempts, retry_at=retry_at)
        stats.sent = sum(r.status == DeliveryStatus.SENT for r in results)
        stats.failed = len(results) - stats.sent
        return stats

    async def drain(self, *, stop: asyncio.Event | None = None) -> BatchStats:
        """Send everything due now (`notify run --once`): batches until one claims nothing."""
        total = BatchStats()
        conn = await connect(self.database_url)
        try:
            while stop is None or not stop.is_set():
                stats = await self.drain_batch(conn)
                total.add(stats)
                if stats.claimed == 0:
                    break
        finally:
            await conn.close()
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: drain, then wait poll_s. A database outage is logged once and retried."""
        failing = False
        try:
            while not stop.is_set():
                try:
                    stats = await self.drain(stop=stop)
                    if stats.claimed:
                        log.info("notify.drained", **vars(stats))
                    if failing:
                        log.info("notify.worker_recovered")
                        failing = False
                except (OSError, psycopg.Error) as exc:
                    if not failing:
                        log.error("notify.worker_failed", error=str(exc))
                    failing = True
                await sleep_until_stopped(stop, self.config.poll_s)
        finally:
            await self.close()
