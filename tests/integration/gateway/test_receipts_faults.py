"""End-to-end acknowledgement under faults: hub -> private Mosquitto (shipped config) -> `vitalgate ingest run`
-> PostgreSQL, counting every reading in the database.

The hub deletes a reading only on ingest's commit receipt and re-publishes what has none after its
receipt timeout; each fault below must end with every reading stored exactly once and backlog 0:
(a) broker restart without persistence, (b) broker restart with persistence and a shared
subscription (Mosquitto 2.0 forgets it: before receipts, 0 of 100 readings were stored while the
hub reported backlog 0), (c) ingest SIGKILL, (d) PostgreSQL connections of ingest terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.support.gateway_harness import wait_for
from tests.support.ingest_process import IngestProcess
from tests.support.secure_broker import SecureBroker
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.outbox import HubStore, dumps
from vitalgate.gateway.publisher import Publisher
from vitalgate.ingest import loadgen

RECEIPT_TIMEOUT_S = 2.0


class Hub:
    """A hub without a radio: readings go straight into its outbox, its Publisher runs in this loop."""

    def __init__(self, tmp_path, broker: SecureBroker, gateway_id: str) -> None:
        self.gateway_id = gateway_id
        broker.add(gateway_id)
        self.store = HubStore(tmp_path / f"{gateway_id}.sqlite")
        config = HubConfig(receipt_timeout_s=RECEIPT_TIMEOUT_S, reconnect_min_s=0.2, reconnect_max_s=1.0, batch_size=50)
        self.publisher = Publisher(self.store, broker.config(gateway_id), gateway_id, config)
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.queued = 0
        self._rng = random.Random(7)
        self._fleet = loadgen.devices(f"SN-{gateway_id}", 4)

    def start(self) -> None:
        self.task = asyncio.create_task(self.publisher.run(self.stop))

    def add(self, count: int) -> None:
        """Queue `count` new readings (as a sync would) and wake the publisher."""
        now = datetime.now(UTC).replace(microsecond=0)
        rows = []
        for n in range(self.queued, self.queued + count):
            device = self._fleet[n % len(self._fleet)]
            measured = now - timedelta(hours=6) + timedelta(seconds=n)
            reading = loadgen.reading_json(device, n, measured, now, self._rng)
            rows.append((str(reading["id"]), dumps(reading)))
        self.store.commit_sync("-", rows, cursor_seq=None, cursor_time=None, now=now)
        self.queued += count
        self.publisher.wake.set()

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, 15)
        self.store.close()


def stored(database_url: str, gateway_id: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM readings WHERE gateway_id = %s", (gateway_id,)
        ).fetchone()


@contextlib.asynccontextmanager
async def pipeline(tmp_path, database_url: str, unique: str, *, persistence: bool):
    broker = SecureBroker(tmp_path, persistence=persistence)
    broker.add("ingest")
    hub = Hub(tmp_path, broker, f"gw-rc-{unique}")
    await broker.start()
    ingest = IngestProcess(tmp_path / "ingest.log")
    args = ("--client-id", f"ingest-{unique}", "--gateway-id", hub.gateway_id)
    await ingest.start(database_url, broker.url("ingest"), "5", *args)
    hub.start()
    try:
        yield broker, hub, ingest, args
    finally:
        await hub.close()
        await ingest.stop(signal.SIGKILL)
        await broker.stop()


async def settle(database_url: str, hub: Hub, timeout: float = 90) -> None:
    """Every queued reading stored exactly once, and the hub's outbox empty."""
    await wait_for(
        lambda: stored(database_url, hub.gateway_id)[0] >= hub.queued,
        timeout,
        f"{hub.queued} readings stored (have {stored(database_url, hub.gateway_id)})",
        step=0.25,
    )
    await wait_for(lambda: hub.store.backlog() == 0, 30, f"backlog 0 (have {hub.store.backlog()})", step=0.1)
    assert stored(database_url, hub.gateway_id) == (hub.queued, hub.queued)


@pytest.mark.parametrize("persistence", [False, True], ids=["no-persistence", "persistence-shared-sub"])
async def test_broker_restart_loses_nothing(persistence, tmp_path, database_url, unique) -> None:
    async with pipeline(tmp_path, database_url, unique, persistence=persistence) as (broker, hub, ingest, _):
        hub.add(500)
        await settle(database_url, hub)
        await broker.stop()
        hub.add(500)  # synced while the broker is down
        await broker.start()
        # The hub reconnects within 0.2-1 s, usually before ingest (backoff from 0.5 s) has
        # re-subscribed to its shared subscription, which Mosquitto 2.0 did not restore.
        await settle(database_url, hub)
        hub.add(300)
        await settle(database_url, hub)
        assert hub.store.confirmed() == hub.queued and hub.store.dropped() == 0
        assert len(ingest.events("ingest.started")) >= 2  # it re-subscribed after the restart


async def test_ingest_sigkill_mid_stream_loses_nothing(tmp_path, database_url, unique) -> None:
    async with pipeline(tmp_path, database_url, unique, persistence=True) as (broker, hub, ingest, args):
        for _ in range(10):
            hub.add(200)
            await asyncio.sleep(0.05)
        await wait_for(lambda: stored(database_url, hub.gateway_id)[0] > 0, 30, "first readings stored")
        await ingest.stop(signal.SIGKILL)
        hub.add(500)
        await asyncio.sleep(0.5)
        assert hub.store.backlog() > 0  # nothing confirms while ingest is dead
        await ingest.start(database_url, broker.url("ingest"), "5", *args)
        await settle(database_url, hub)


async def test_postgres_connections_killed_mid_stream_lose_nothing(tmp_path, database_url, unique) -> None:
    async with pipeline(tmp_path, database_url, unique, persistence=True) as (_, hub, ingest, _args):
        hub.add(300)
        await wait_for(lambda: stored(database_url, hub.gateway_id)[0] > 0, 30, "first readings stored")
        for round_ in range(3):
            hub.add(400)
            with psycopg.connect(database_url, autocommit=True) as conn:
                killed = conn.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                ).fetchone()[0]
            assert killed >= 1
            # ingest notices at its next commit, backs off, reconnects (a new "ingest.started").
            await wait_for(lambda n=round_: len(ingest.events("ingest.started")) >= n + 2, 30, "ingest reconnected")
        await settle(database_url, hub)
        assert ingest.events("ingest.retrying")  # it saw the database go and came back
