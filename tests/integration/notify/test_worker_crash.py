"""The worker SIGKILLed mid-batch and restarted (real processes): every message arrives, each
idempotency key once to the application; resends carry the same key and the same text."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from datetime import time as wall
from pathlib import Path

from tests.integration.notify.conftest import SECRET, enqueue, make_patient
from tests.support.clinic import fetch
from vitalgate.app.notify_sinks import WebhookSink
from vitalgate.store import time_zones
from vitalgate.store.db import connect

MESSAGES = 300


def _worker(url: str, config: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"VITALGATE_DATABASE_URL": url, "VITALGATE_NOTIFY_CONFIG": str(config)}
    env.pop("VITALGATE_FAKE_NOW", None)
    return subprocess.Popen(
        [sys.executable, "-m", "vitalgate", "notify", "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def _count(url: str, status: str) -> int:
    return (await fetch(url, "SELECT count(*) AS n FROM deliveries WHERE status = %s", status))[0]["n"]


async def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_sigkill_mid_batch_then_restart_delivers_every_key_once_to_the_application(ledger_db, tmp_path):
    sink = WebhookSink(secret=SECRET, delay_s=0.02)  # a slow gateway: a batch takes a while to go out
    await sink.start()
    patient = await make_patient(ledger_db)
    conn = await connect(ledger_db)
    async with conn.transaction():  # no quiet hours: the wall-clock time of the run must not matter
        await time_zones.set_quiet_hours(conn, patient.id, wall(0, 0), wall(0, 0))
    await conn.close()
    await enqueue(ledger_db, patient.id, MESSAGES, at=datetime(2026, 1, 1, tzinfo=UTC))
    config = tmp_path / "notify.toml"
    config.write_text(
        f"""[notify]
lease_s = 2.0
batch_size = 40
concurrency = 8
poll_s = 0.2
[notify.programs.default.channels.sms]
kind = "webhook"
url = "{sink.url}"
secret = "{SECRET}"
"""
    )
    first = _worker(ledger_db, config)
    try:
        await _wait(lambda: _ready(sink, 60), 60, "the first worker to send 60 messages")
        first.send_signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    in_flight = await _count(ledger_db, "sending")
    assert in_flight > 0, "the kill must land mid-batch (rows claimed, not recorded)"
    before_restart = len(sink.received)

    second = _worker(ledger_db, config)
    try:
        await _wait(lambda: _all_sent(ledger_db), 120, "every message to be sent after the restart")
        second.send_signal(signal.SIGTERM)
        assert second.wait(15) == 0, second.stderr.read().decode() if second.stderr else ""
    finally:
        if second.poll() is None:
            second.kill()
    await sink.stop()

    keys = sink.keys()
    expected = {f"m:{patient.id}:{i}" for i in range(MESSAGES)}
    assert set(keys) == expected  # the receiver saw every message
    assert all(r.signed for r in sink.received)
    duplicates = {k: n for k, n in keys.items() if n > 1}
    # What reached the receiver twice was in flight at the kill: resent with the same key and text.
    assert len(duplicates) <= in_flight and max(keys.values()) <= 2
    texts: dict[str, set[str]] = {}
    for r in sink.received:
        texts.setdefault(r.key or "", set()).add(r.body["text"])
    assert all(len(t) == 1 for t in texts.values())
    application = {r.key for r in sink.received}  # a receiver de-duplicating by key delivers each once
    assert len(application) == MESSAGES
    attempts = await fetch(
        ledger_db, "SELECT count(*) AS n, count(DISTINCT delivery_id) AS d FROM delivery_attempts WHERE status = 'sent'"
    )
    assert attempts[0]["d"] == MESSAGES
    print(
        f"\nSIGKILL after {before_restart} received with {in_flight} in flight; {len(sink.received)} requests for"
        f" {MESSAGES} keys, {len(duplicates)} keys twice (same key), {len(application)} delivered to the application"
    )


async def _ready(sink: WebhookSink, n: int) -> bool:
    return len(sink.received) >= n


async def _all_sent(url: str) -> bool:
    return await _count(url, "sent") == MESSAGES
