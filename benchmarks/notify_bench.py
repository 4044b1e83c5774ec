"""Delivery ledger throughput: messages/s from the outbox to a local signed-webhook receiver.

Run: VITALGATE_DATABASE_URL=postgresql://127.0.0.1:5432/test .venv/bin/python -m benchmarks notify_bench [--messages N]
Creates a fresh database on that server (dropped at the end) with 500 patients who each have a
phone, one caregiver sharing consent and a consent history, and enqueues N messages. The receiver
(app.notify_sinks, verifying every HMAC) runs as its own process. Measured in the same run:

- ledger: `Worker.drain()` as `vitalgate notify run` does it (claim batches with FOR UPDATE SKIP
  LOCKED, consent / quiet-hours / task checks at send time, signed link issued per message, text
  rendered, concurrent signed POSTs over keep-alive, every attempt recorded);
- baseline: the same worker one message at a time (batch 1, one send in flight): what a plain
  "loop over the outbox table" does;
- ceiling: the same signed POSTs sent straight to the receiver without any database work (the
  receiver's and the HTTP client's share of the machine: the ledger cannot beat it).

Afterwards the receiver's log is checked: every key arrived once, every signature verified.
`SECTIONS` is the hook for more tables in the same report (the triage helper's accuracy table).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time as clock
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from vitalgate.app.embedded import free_port
from vitalgate.domain import Medium, RecipientKind
from vitalgate.notify.channels import Outgoing
from vitalgate.notify.channels.webhook import WebhookTransport
from vitalgate.notify.config import NotifyConfig, ProgramNotify, WebhookChannel
from vitalgate.notify.worker import Worker
from vitalgate.store import deliveries, people
from vitalgate.store.db import connect
from vitalgate.store.deliveries import DeliveryRequest
from vitalgate.store.migrate import upgrade

SECRET = secrets.token_urlsafe(32)
PATIENTS = 500


def _triage_section() -> tuple[str, str]:
    """The triage helper's per-class precision / recall table (benchmarks.triage_bench)."""
    from benchmarks.triage_bench import accuracy_table

    return "Inbound triage accuracy (benchmarks.triage_bench)", accuracy_table()


# More report sections: callables returning (title, text), printed after the throughput table.
SECTIONS: list[Callable[[], tuple[str, str]]] = [_triage_section]


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


async def seed(url: str) -> list[int]:
    conn = await connect(url)
    ids = []
    async with conn.transaction():
        team = await people.create_care_team(conn, "Bench team")
        for i in range(PATIENTS):
            pid = await people.create_patient(conn, f"Bench {i}", team, external_ref=f"nb-{i}")
            await conn.execute(
                "UPDATE patients SET phone = %s, language = %s, quiet_start = %s, quiet_end = %s WHERE id = %s",
                (f"+86138{i:08d}", ("zh-Hans", "en")[i % 2], time(0), time(0), pid),  # no quiet hours: any time of day
            )
            await conn.execute(
                "INSERT INTO consent_records (patient_id, purpose, channel, decision, text_version, effective_at,"
                " given_by, recorded_by) VALUES (%s, 'contact', 'sms', 'given', 'v1', now(), 'patient', 'bench')",
                (pid,),
            )
            ids.append(pid)
    await conn.close()
    return ids


async def enqueue(url: str, patients: list[int], n: int, prefix: str) -> None:
    conn = await connect(url)
    now = datetime.now(UTC)
    async with conn.transaction():
        for i in range(n):
            pid = patients[i % len(patients)]
            await deliveries.enqueue(
                conn,
                DeliveryRequest(
                    idempotency_key=f"{prefix}:{i}",
                    patient_id=pid,
                    recipient_kind=RecipientKind.PATIENT,
                    recipient_id=pid,
                    channel="message",
                    medium=Medium.SMS,
                    template="check-in",
                    locale=("zh-Hans", "en")[i % 2],
                    not_before=now,
                ),
                now=now,
            )
    await conn.close()


CPU_MS: dict[str, float] = {}  # the worker process's CPU per message, by path (load-independent-ish)


async def through_ledger(url: str, config: NotifyConfig, name: str = "ledger") -> tuple[float, int]:
    worker = Worker(url, config)
    start, cpu = clock.perf_counter(), clock.process_time()
    try:
        stats = await worker.drain()
    finally:
        await worker.close()
    CPU_MS[name] = 1000 * (clock.process_time() - cpu) / max(1, stats.sent)
    return clock.perf_counter() - start, stats.sent


async def direct(receiver: str, n: int, concurrency: int) -> float:
    transport = WebhookTransport(WebhookChannel(url=receiver, secret=SecretStr(SECRET)))
    limit = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with limit:
            text = "Your care team would like to know how you are. Please tap the link to answer."
            message = Outgoing(i, f"direct:{i}", "sms", "+8613800000000", "", text, "en", False, None)
            assert (await transport.send(message)).ok

    start = clock.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = clock.perf_counter() - start
    await transport.close()
    return elapsed


async def main(messages: int, baseline_messages: int) -> int:
    admin = os.environ.get("VITALGATE_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
    dbname = f"vg_notify_bench_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{dbname}"')
    url = _with_database(admin, dbname)
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="notify_bench_", suffix=".jsonl")[1])
    receiver = subprocess.Popen(
        [sys.executable, "-m", "vitalgate.app.notify_sinks", "webhook", "--port", str(port), "--secret", SECRET,
         "--out", str(log)],
    )  # fmt: skip
    sink_url = f"http://127.0.0.1:{port}/send"
    console = Console()
    try:
        upgrade(url)
        patients = await seed(url)
        await _wait_for(port)
        channel = WebhookChannel(url=sink_url, secret=SecretStr(SECRET))
        config = NotifyConfig(programs={"default": ProgramNotify(channels={Medium.SMS: channel})})
        naive = config.model_copy(update={"batch_size": 1, "concurrency": 1})

        await enqueue(url, patients, baseline_messages, "base")
        base_s, base_sent = await through_ledger(url, naive, "baseline")
        await enqueue(url, patients, messages, "ledger")
        ledger_s, ledger_sent = await through_ledger(url, config)
        direct_s = await direct(sink_url, messages, config.concurrency)

        received = [json.loads(line) for line in log.read_text().splitlines()]
        keys = Counter(r["key"] for r in received if r["key"] and not r["key"].startswith("direct:"))
        signed = all(r["signed"] for r in received)
        rate, base_rate = ledger_sent / ledger_s, base_sent / base_s
        table = Table(title=f"Delivery ledger -> local signed webhook ({os.cpu_count()} CPUs)")
        for column in ("path", "messages", "seconds", "messages/s"):
            table.add_column(column, justify="right" if column != "path" else "left")
        table.add_row(
            f"ledger (notify run: batch {config.batch_size}, {config.concurrency} in flight)",
            str(ledger_sent),
            f"{ledger_s:.2f}",
            f"{rate:,.0f}",
        )
        table.add_row("baseline: one message at a time", str(base_sent), f"{base_s:.2f}", f"{base_rate:,.0f}")
        table.add_row("ceiling: direct signed POSTs, no database", str(messages), f"{direct_s:.2f}",
                      f"{messages / direct_s:,.0f}")  # fmt: skip
        console.print(table)
        # The machine is shared: the load average says how much of its 2 cores this run had.
        console.print("load average during the run (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
        console.print(
            f"worker CPU per message: ledger {CPU_MS['ledger']:.2f} ms, baseline {CPU_MS['baseline']:.2f} ms"
            " (this process only; PostgreSQL and the receiver run in their own)"
        )
        console.print(f"ratio ledger / baseline: {rate / base_rate:.1f}x; target >= 500 messages/s: "
                      f"{'met' if rate >= 500 else 'NOT met'}")  # fmt: skip
        console.print(
            f"receiver: {sum(keys.values())} ledger requests, {len(keys)} distinct keys of "
            f"{messages + baseline_messages}, each once: {all(n == 1 for n in keys.values())}, all signatures valid: {signed}"
        )
        for section in SECTIONS:
            try:
                title, text = section()
            except ImportError as exc:  # a section whose helper has not landed yet
                console.print(f"[yellow]{section.__name__} skipped: {exc}[/]")
                continue
            console.print(f"\n[bold]{title}[/]\n{text}")
        return 0 if rate >= 500 and len(keys) == messages + baseline_messages and signed else 1
    finally:
        receiver.terminate()
        receiver.wait(10)
        log.unlink(missing_ok=True)
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


async def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("the receiver did not start")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--baseline-messages", type=int, default=500)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.messages, args.baseline_messages)))
