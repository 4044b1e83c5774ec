"""`gateway run`: one asyncio process (TaskGroup) syncing registered devices and publishing the outbox.

Shutdown (`stop`, which `vitalgate gateway run` sets on SIGTERM/SIGINT via core.shutdown): syncs in flight are cancelled while they wait on the radio
(an outbox write is one synchronous SQLite transaction, so it is never cut in half), the
publisher finishes the batch it is waiting a PUBACK for, says "offline" and disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import structlog

from vitalgate.core.shutdown import sleep_until_stopped
from vitalgate.devices.errors_gatt import DeviceError
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.outbox import HubStore, RegisteredDevice
from vitalgate.gateway.publisher import Publisher
from vitalgate.gateway.radio import HubRadio, radio_unavailable
from vitalgate.gateway.retry import device_backoff_s
from vitalgate.gateway.sync import SyncOutcome, sync_device

log = structlog.get_logger(__name__)
# Longest pause between attempts at one device: an absent meter is retried at least this often.
MAX_DEVICE_BACKOFF_S = 300.0


@dataclass(slots=True)
class HubRun:
    """What one `run_hub` did (for --once, tests and benchmarks)."""

    outcomes: list[SyncOutcome] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


async def sync_with_retries(radio: HubRadio, store: HubStore, address: str, config: HubConfig) -> SyncOutcome | None:
    """Connect (bounded attempts, backoff by error) and sync one device; None if it was forgotten."""
    for attempt in range(1, config.connect_attempts + 1):
        device = store.device(address)  # re-read: a partial sync may have moved the cursor
        if device is None:
            return None
        client = radio.client(address)
        try:
            async with client:
                await client.pair()
                return await sync_device(
                    client,
                    store,
                    device,
                    timeout=config.sync_timeout_s,
                    max_clock_skew_hours=config.max_clock_skew_hours,
                )
        except (DeviceError, OSError) as exc:
            error = exc if isinstance(exc, DeviceError) else radio_unavailable(address, exc)
            store.record_error(address, f"{type(error).__name__}: {error}")
            log.warning(
                "gateway.sync_failed", device=address, attempt=attempt, error=type(error).__name__, advice=error.advice
            )
            if attempt == config.connect_attempts:
                raise error from exc
            await asyncio.sleep(device_backoff_s(attempt, error, cap_s=MAX_DEVICE_BACKOFF_S, jitter=0.2))
    return None


class Scheduler:
    """Syncs every registered device each interval, a bounded number at once; failing devices back off."""

    def __init__(
        self, radio: HubRadio, store: HubStore, config: HubConfig, publisher: Publisher | None, run: HubRun
    ) -> None:
        self._radio, self._store, self._config, self._publisher, self._run = radio, store, config, publisher, run
        self._limit = asyncio.Semaphore(config.max_concurrent_syncs)
        self._failures: dict[str, int] = {}
        self._due: dict[str, float] = {}

    async def cycle(self) -> None:
        """One pass over the devices that are due."""
        now = asyncio.get_running_loop().time()
        due = [d for d in self._store.devices() if self._due.get(d.address, 0.0) <= now]
        async with asyncio.TaskGroup() as group:
            for device in due:
                group.create_task(self._one(device), name=f"sync-{device.address}")

    async def _one(self, device: RegisteredDevice) -> None:
        loop = asyncio.get_running_loop()
        async with self._limit:
            try:
                outcome = await sync_with_retries(self._radio, self._store, device.address, self._config)
            except DeviceError as exc:
                self._failed(device.address, exc)
                return
            except Exception as exc:
                log.error("gateway.sync_crashed", device=device.address, error=repr(exc)[:300])
                self._store.record_error(device.address, f"internal error: {exc!r}")
                self._failed(device.address, exc)
                return
        self._failures.pop(device.address, None)
        self._run.failures.pop(device.address, None)
        self._due[device.address] = loop.time() + self._config.sync_interval_s
        if outcome is not None:
            self._run.outcomes.append(outcome)
            if outcome.queued and self._publisher is not None:
                self._publisher.wake.set()

    def _failed(self, address: str, exc: BaseException) -> None:
        failures = self._failures[address] = self._failures.get(address, 0) + 1
        self._run.failures[address] = str(exc)
        self._due[address] = asyncio.get_running_loop().time() + device_backoff_s(
            failures, exc, cap_s=MAX_DEVICE_BACKOFF_S
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Cycle until stopped; a stop cancels syncs waiting on the radio."""
        while not stop.is_set():
            task = asyncio.create_task(self.cycle())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            nxt = min(self._due.values(), default=asyncio.get_running_loop().time() + self._config.sync_interval_s)
            await sleep_until_stopped(stop, max(0.05, nxt - asyncio.get_running_loop().time()))


async def run_hub(
    store: HubStore,
    radio: HubRadio,
    config: HubConfig,
    *,
    publisher: Publisher | None,
    stop: asyncio.Event | None = None,
    once: bool = False,
    drain_timeout_s: float = 60.0,
) -> HubRun:
    """Run the sync loop and the publisher until `stop` (or, with `once`, one sync pass and a drained outbox)."""
    stop = stop or asyncio.Event()
    run = HubRun()
    scheduler = Scheduler(radio, store, config, publisher, run)
    async with asyncio.TaskGroup() as group:
        if publisher is not None:
            group.create_task(publisher.run(stop), name="publisher")
        if once:
            await scheduler.cycle()
            if publisher is not None:
                await _until_drained(store, stop, drain_timeout_s)
            stop.set()
        else:
            group.create_task(scheduler.run(stop), name="scheduler")
    log.info("gateway.stopped", backlog=store.backlog(), dropped=store.dropped())
    return run


async def _until_drained(store: HubStore, stop: asyncio.Event, timeout_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    # Polls: the outbox is SQLite, shared with the publisher task, and has no change notification.
    while store.backlog() and not stop.is_set() and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
