"""Run the after-commit hook (alert evaluation) beside ingest, coalescing batches while it is busy.

Alert rules look at each touched patient's recent history, so their cost grows with the number
of patients touched, not of readings. Evaluating every 1,000-reading batch separately re-reads
the same patients again and again; letting batches pile up while one evaluation runs, then
evaluating their union, keeps ingest at full speed and alerts within one evaluation of real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import structlog

from vitalgate.store.readings import StoredReading

log = structlog.get_logger(__name__)

OnCommitted = Callable[[Sequence[StoredReading], datetime], Awaitable[None]]


class AfterCommitWorker:
    """Bounded hand-off: `submit` blocks ingest only when `max_pending` readings already wait."""

    def __init__(self, hook: OnCommitted, *, max_pending: int, errors: list[str]) -> None:
        self._hook = hook
        self._max_pending = max_pending
        self._pending: list[StoredReading] = []
        self._latest: datetime | None = None
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._errors = errors
        self.evaluations = 0

    @property
    def pending(self) -> int:
        """Readings committed but not yet handed to the hook."""
        return len(self._pending)

    async def submit(self, stored: Sequence[StoredReading], now: datetime) -> None:
        """Queue committed readings; waits (back-pressure on ingest) while the backlog is full."""
        while len(self._pending) >= self._max_pending:
            self._room.clear()
            await self._room.wait()
        self._pending.extend(stored)
        self._latest = now
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled: take everything pending, evaluate it in one call."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            now = self._latest
            self._room.set()
            if not batch or now is None:
                continue
            try:
                await self._hook(batch, now)
                self.evaluations += 1
            except Exception as exc:  # isolate downstream failures: the readings are stored and acked
                log.exception("ingest.after_commit_failed", error=str(exc), readings=len(batch))
                self._errors.append(str(exc))
