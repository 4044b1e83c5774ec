"""Ingest throughput against the broker's own limit and a row-by-row baseline, measured in one run.

    VITALGATE_DATABASE_URL=... VITALGATE_MQTT_URL=... .venv/bin/python -m benchmarks.ingest_bench [--readings N]

Every phase carries the same gateway batches (500 readings a message) through the configured
broker, on its own gateway topic, each database freshly migrated and seeded (1 patient per meter +
cuff pair, every tenth device unbound):
1. raw: a subscriber that only counts readings: the physical limit of broker + publisher here;
2. ingest: a real `vitalgate ingest run --no-alerts` process (the storage path: validate, COPY,
   merge, ack); the clock stops when every reading is committed; its peak RSS is read from /proc;
3. the same with alert rules evaluated in the ingest process (`--alerts`, the default of
   `ingest run`; skip with --no-with-alerts);
4. baselines on the first --baseline-readings readings: a naive consumer that validates each
   message and INSERTs reading by reading, committing each reading, and the same committing
   once per message.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.core.settings import MqttConfig, Settings
from vitalgate.ingest import loadgen
from vitalgate.store.migrate import upgrade

console = Console()
# QoS 1 publishes in flight at once: enough to keep the broker busy without PUBACK round trips
# dominating, below paho's inflight window of 100.
PUBLISH_WINDOW = 64
TARGET_RATE = 10_000
TARGET_RATIO = 10


@dataclass(slots=True)
class Phase:
    name: str
    readings: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.readings / self.seconds


def _with_db(url: str, dbname: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def _retarget(payload: bytes, old: str, new: str) -> bytes:
    """The same batch for another gateway id (same length keeps it a cheap bytes replace)."""
    return payload.replace(f'"gateway_id":"{old}"'.encode(), f'"gateway_id":"{new}"'.encode(), 1)


def create_database(admin_url: str, dbname: str, fleet: list[loadgen.Device]) -> str:
    """A fresh migrated database with a care team, patients, and 90 % of the fleet bound to them."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    url = _with_db(admin_url, dbname)
    upgrade(url)
    since = datetime.now(UTC) - timedelta(days=365)
    with psycopg.connect(url) as conn:
        team = conn.execute("INSERT INTO care_teams (name) VALUES ('bench') RETURNING id").fetchone()[0]  # type: ignore[index]
        nurse = conn.execute(
            "INSERT INTO users (username, display_name, role) VALUES ('bench-nurse', 'Nurse', 'nurse') RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
        conn.execute("INSERT INTO care_team_members VALUES (%s, %s)", (team, nurse))
        conn.execute(
            "INSERT INTO patients (display_name, care_team_id, external_ref)"
            " SELECT 'Bench ' || g, %s, 'bench-' || g FROM generate_series(0, %s) g",
            (team, len(fleet) // 2),
        )
        bound = [d for i, d in enumerate(fleet) if i % 10 != 9]  # every tenth device unbound
        conn.execute(
            "INSERT INTO devices (serial, kind) SELECT * FROM unnest(%s::text[], %s::text[])",
            ([d.serial for d in bound], [d.kind for d in bound]),
        )
        conn.execute(
            "INSERT INTO device_bindings (device_serial, patient_id, valid_from)"
            " SELECT s, (SELECT id FROM patients WHERE external_ref = 'bench-' || (i / 2)), %s"
            " FROM unnest(%s::text[], %s::int[]) AS u(s, i)",
            (since, [d.serial for d in bound], [i for i, d in enumerate(fleet) if i % 10 != 9]),
        )
    return url


async def publish_all(config: MqttConfig, gateway: str, messages: list[bytes]) -> None:
    """QoS 1 publishes with a window of PUBLISH_WINDOW awaiting PUBACK."""
    pub = AsyncMqttClient(config, f"bench-pub-{secrets.token_hex(3)}", clean_start=True)
    await pub.connect()
    topic = f"vitalgate/v1/{gateway}/readings"
    window = asyncio.Semaphore(PUBLISH_WINDOW)

    async def one(payload: bytes) -> None:
        async with window:
            await pub.publish(topic, payload, qos=1, timeout=120)

    try:
        await asyncio.gather(*(one(m) for m in messages))
    finally:
        await pub.disconnect()


_DRAINS: set[asyncio.Future[None]] = set()  # keeps the drain tasks alive until they finish


async def _spawn(args: list[str], env: dict[str, str], ready: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert proc.stdout is not None
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            raise RuntimeError(f"{args[:3]} exited before it was ready (rc={await proc.wait()})")
        if ready.encode() in line:
            break
    _DRAINS.add(task := asyncio.ensure_future(_drain(proc)))
    task.add_done_callback(_DRAINS.discard)
    return proc


async def _drain(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    while await proc.stdout.readline():
        pass


async def _count_until(url: str, expected: int, proc: asyncio.subprocess.Process, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while True:
            count = (await (await conn.execute("SELECT count(*) FROM reading_keys")).fetchone())[0]  # type: ignore[index]
            if count >= expected:
                return
            if proc.returncode is not None:
                raise RuntimeError(f"consumer exited early with {proc.returncode} at {count} readings")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} of {expected} readings stored after {timeout}s")
            await asyncio.sleep(0.05)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _forget_session(config: MqttConfig, client_id: str) -> None:
    """Drop a persistent session so the broker stops queueing for it after the run."""
    client = AsyncMqttClient(config, client_id, clean_start=True)
    await client.connect()
    await client.disconnect()


@dataclass(slots=True)
class Run:
    """What every phase shares."""

    config: MqttConfig
    admin_url: str
    run: str
    gateway: str
    fleet: list[loadgen.Device]
    messages: list[bytes]
    env: dict[str, str]
    databases: list[str]

    def retargeted(self, suffix: str, messages: list[bytes] | None = None) -> tuple[str, list[bytes]]:
        """A gateway id of its own for a phase, and the messages rewritten for it."""
        gw = f"gw-bench-{self.run[:-1]}{suffix}"
        return gw, [_retarget(m, self.gateway, gw) for m in (messages or self.messages)]

    def database(self, label: str) -> str:
        name = f"vg_bench_{self.run}_{label}"
        url = create_database(self.admin_url, name, self.fleet)
        self.databases.append(name)
        return url


async def raw_phase(r: Run, total: int) -> Phase:
    gw, messages = r.retargeted("r")
    counter = await _spawn(
        [sys.executable, "-m", "benchmarks.ingest_roles", "count", f"vitalgate/v1/{gw}/readings", str(total)],
        r.env,
        "ready",
    )
    start = time.perf_counter()
    await publish_all(r.config, gw, messages)
    await asyncio.wait_for(counter.wait(), 600)
    return Phase("raw broker (count-only subscriber)", total, time.perf_counter() - start)


async def ingest_phase(r: Run, total: int, *, alerts: bool) -> tuple[Phase, float]:
    """A real `vitalgate ingest run` process; returns the phase and its peak RSS in MB."""
    url = r.database("alerts" if alerts else "ingest")
    gw, messages = r.retargeted("a" if alerts else "i")
    client_id = f"bench-ingest-{r.run}-{int(alerts)}"
    command = [
        str(Path(sys.executable).with_name("vitalgate")),
        "ingest",
        "run",
        "--client-id",
        client_id,
        "--group",
        f"bench-{r.run}",
        "--gateway-id",
        gw,
        "--alerts" if alerts else "--no-alerts",
    ]
    ingest = await _spawn(command, {**r.env, "VITALGATE_DATABASE_URL": url}, "ingest.started")
    try:
        start = time.perf_counter()
        await publish_all(r.config, gw, messages)
        await _count_until(url, total, ingest, 900)
        elapsed = time.perf_counter() - start
        rss = _peak_rss_mb(ingest.pid)
    finally:
        await _stop(ingest)
        await _forget_session(r.config, client_id)
    name = "vitalgate ingest run" + (" (+ alert rules in-process)" if alerts else " --no-alerts")
    return Phase(name, total, elapsed), rss


async def naive_phase(r: Run, subset_n: int, per: int, *, commit_each_row: bool) -> Phase:
    url = r.database("naive_row" if commit_each_row else "naive_msg")
    gw, messages = r.retargeted("n" if commit_each_row else "m", r.messages[: -(-subset_n // per)])
    command = [
        sys.executable,
        "-m",
        "benchmarks.ingest_roles",
        "naive-row" if commit_each_row else "naive-message",
        f"vitalgate/v1/{gw}/readings",
        url,
    ]
    naive = await _spawn(command, r.env, "ready")
    try:
        start = time.perf_counter()
        await publish_all(r.config, gw, messages)
        await _count_until(url, subset_n, naive, 900)
        elapsed = time.perf_counter() - start
    finally:
        await _stop(naive)
    name = "naive row-by-row INSERT, " + ("commit per reading" if commit_each_row else "one transaction per message")
    return Phase(name, subset_n, elapsed, f"first {subset_n:,} readings")


async def run_bench(args: argparse.Namespace) -> int:
    settings = Settings()
    if not settings.database_url or not settings.mqtt_url:
        console.print(
            "[red]set VITALGATE_DATABASE_URL and VITALGATE_MQTT_URL[/] (the benchmark measures real services)"
        )
        return 2
    config = settings.mqtt_config(settings.mqtt_url)
    run = secrets.token_hex(3)
    fleet = loadgen.devices(f"BENCH{run}", args.devices)
    t0 = time.perf_counter()
    messages = loadgen.payloads(f"gw-bench-{run}", fleet, args.readings, per_message=args.per_message)
    console.print(
        f"{args.readings:,} readings in {len(messages)} messages of {args.per_message} "
        f"({sum(map(len, messages)) / len(messages) / 1024:.0f} kB each) from {len(fleet)} devices, "
        f"generated in {time.perf_counter() - t0:.1f}s; broker {config.describe()}"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "VITALGATE_LOG_FORMAT": "json"}
    r = Run(config, settings.database_url, run, f"gw-bench-{run}", fleet, messages, env, [])
    per = args.per_message
    subset_n = min(args.readings, max(per, args.baseline_readings // per * per))  # whole messages
    try:
        raw = await raw_phase(r, args.readings)
        console.print(f"  raw broker: {raw.rate:,.0f} readings/s")
        ingest, rss = await ingest_phase(r, args.readings, alerts=False)
        console.print(f"  ingest --no-alerts: {ingest.rate:,.0f} readings/s")
        with_alerts, rss_alerts = await ingest_phase(r, args.readings, alerts=True) if args.with_alerts else (None, 0.0)
        naive_row = await naive_phase(r, subset_n, args.per_message, commit_each_row=True)
        naive_msg = await naive_phase(r, subset_n, args.per_message, commit_each_row=False)
    finally:
        if not args.keep:
            with psycopg.connect(settings.database_url, autocommit=True) as conn:
                for dbname in r.databases:
                    conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    _report(raw, ingest, rss, with_alerts, rss_alerts, naive_row, naive_msg)
    return 0


def _report(
    raw: Phase,
    ingest: Phase,
    rss: float,
    with_alerts: Phase | None,
    rss_alerts: float,
    naive_row: Phase,
    naive_msg: Phase,
) -> None:
    phases = [raw, ingest] + ([with_alerts] if with_alerts else []) + [naive_row, naive_msg]
    table = Table(title="ingest benchmark (same run, same broker, same messages)")
    for column in ("path", "readings", "seconds", "readings/s"):
        table.add_column(column, justify="right" if column != "path" else "left")
    for p in phases:
        table.add_row(
            p.name + (f" ({p.note})" if p.note else ""), f"{p.readings:,}", f"{p.seconds:.2f}", f"{p.rate:,.0f}"
        )
    console.print(table)
    console.print(
        f"vitalgate ingest / row-by-row baseline (commit per reading):    [bold]{ingest.rate / naive_row.rate:.1f}x[/] (target >= {TARGET_RATIO}x)"
    )
    console.print(
        f"vitalgate ingest / row-by-row baseline (transaction per message): [bold]{ingest.rate / naive_msg.rate:.1f}x[/]"
    )
    console.print(
        f"vitalgate ingest / raw broker rate:                              [bold]{ingest.rate / raw.rate:.3f}[/]"
    )
    console.print(
        f"vitalgate ingest sustained:                                      [bold]{ingest.rate:,.0f} readings/s[/] (target >= {TARGET_RATE:,})"
    )
    console.print(f"ingest process peak RSS:                                         [bold]{rss:.0f} MB[/]")
    if with_alerts is not None:
        console.print(
            f"with alert rules in the ingest process:                          [bold]{with_alerts.rate:,.0f} readings/s[/], peak RSS {rss_alerts:.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readings", type=int, default=200_000, help="readings to publish (default 200,000)")
    parser.add_argument(
        "--baseline-readings", type=int, default=10_000, help="readings for the slow row-by-row baselines"
    )
    parser.add_argument(
        "--with-alerts",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure ingest with alert rules evaluated in-process (default on)",
    )
    parser.add_argument(
        "--per-message", type=int, default=loadgen.READINGS_PER_MESSAGE, help="readings per MQTT message"
    )
    parser.add_argument("--devices", type=int, default=2_000, help="devices in the simulated fleet")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()
    from vitalgate.core.logs import configure_logging

    configure_logging("console", level=30)  # warnings only: the table is the output
    raise SystemExit(asyncio.run(run_bench(args)))


if __name__ == "__main__":
    main()
