"""The pieces `benchmarks.chaos` drives (no measurement here): a private Mosquitto from the shipped config,
VitalGate server processes that can be SIGKILLed and restarted, hubs with a SQLite outbox, a scratch database.

Everything is loopback only; the shared broker on 1883 is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from vitalgate.app.broker_identity import add_identity
from vitalgate.app.embedded import free_port
from vitalgate.core.settings import MqttConfig
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.outbox import HubStore, dumps
from vitalgate.gateway.publisher import Publisher
from vitalgate.ingest import loadgen
from vitalgate.ingest.loadgen import Device

MOSQUITTO = "/usr/sbin/mosquitto"
DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto"
VITALGATE = [sys.executable, "-m", "vitalgate"]
# Replaced in the shipped config: what cannot work on a loopback test host (TLS listener, system paths).
_REPLACED = (
    "user ",
    "listener",
    "certfile",
    "keyfile",
    "cafile",
    "tls_version",
    "password_file",
    "acl_file",
    "persistence",
)
# Level 2 hypoglycaemia is glucose < 54 mg/dL (ADA Standards of Care 2024, section 6).
LEVEL2_LOW_MG_DL = 54.0


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Broker:
    """Our own Mosquitto (shipped config and ACL, persistence on) on a free loopback port."""

    kind = "broker"

    def __init__(self, workdir: Path) -> None:
        self.workdir, self.port = workdir, free_port()
        self.passwords: dict[str, str] = {}
        (workdir / "passwd").touch(mode=0o600)
        (workdir / "store").mkdir()
        kept = [
            line
            for line in (DEPLOY / "mosquitto.conf").read_text().splitlines()
            if not line.strip().startswith(_REPLACED)
        ]
        kept += [
            f"listener {self.port} 127.0.0.1",
            f"user {getpass.getuser()}",
            f"password_file {workdir / 'passwd'}",
            f"acl_file {DEPLOY / 'acl'}",
            "persistence true",
            f"persistence_location {workdir / 'store'}/",
        ]
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(kept) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def add(self, username: str) -> None:
        self.passwords[username] = add_identity(self.workdir / "passwd", username, replace=True)

    def url(self, username: str) -> str:
        return f"mqtt://{username}:{self.passwords[username]}@127.0.0.1:{self.port}"

    def config(self, username: str) -> MqttConfig:
        return MqttConfig.from_url(self.url(username), protocol="5")

    def start(self) -> None:
        with (self.workdir / "mosquitto.log").open("ab") as log:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=log)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Server:
    """One `vitalgate ...` child (ingest run, followup run, api serve) with its log in a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def kind(self) -> str:
        return self.name.split("-")[0]

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([*VITALGATE, *self.args], env=self.env, stdout=out, stderr=out)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class Hub:
    """A hub without a radio: readings go into its SQLite outbox; its Publisher keeps each row until
    ingest's commit receipt for it arrives, and re-publishes what has none after `receipt_timeout_s`."""

    def __init__(self, workdir: Path, broker: Broker, gateway_id: str, seed: int) -> None:
        self.gateway_id = gateway_id
        broker.add(gateway_id)
        self.store = HubStore(workdir / f"{gateway_id}.sqlite")
        config = HubConfig(receipt_timeout_s=3.0, reconnect_min_s=0.2, reconnect_max_s=1.0, batch_size=200)
        self.publisher = Publisher(self.store, broker.config(gateway_id), gateway_id, config)
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.published_ids: set[str] = set()
        self.urgent_ids: dict[str, int] = {}  # reading id -> patient id
        self._rng = random.Random(seed)
        self._fleet = loadgen.devices(f"SN-{gateway_id}", 8)
        self._seq = 0

    def start(self) -> None:
        self.task = asyncio.create_task(self.publisher.run(self.stop))

    def add_routine(self, count: int) -> None:
        """`count` readings of unbound devices, as one sync would queue them."""
        now = datetime.now(UTC).replace(microsecond=0)
        rows = []
        for _ in range(count):
            self._seq += 1
            device = self._fleet[self._seq % len(self._fleet)]
            measured = now - timedelta(hours=6) + timedelta(seconds=self._seq)
            rows.append(loadgen.reading_json(device, self._seq, measured, now, self._rng))
        self._queue(rows)

    def add_urgent(self, serial: str, patient_id: int) -> None:
        """One level 2 low from a meter bound to `patient_id` (its only reading, so one task per reading)."""
        now = datetime.now(UTC).replace(microsecond=0)
        reading = loadgen.reading_json(Device(serial, "glucose_meter"), 1, now - timedelta(minutes=1), now, self._rng)
        mg_dl = round(self._rng.uniform(38.0, LEVEL2_LOW_MG_DL - 1.0), 1)
        reading["values"] = {"glucose": {"value": mg_dl, "unit": "mg/dL"}}
        self.urgent_ids[str(reading["id"])] = patient_id
        self._queue([reading])

    def _queue(self, readings: list[dict[str, object]]) -> None:
        now = datetime.now(UTC)
        rows = [(str(r["id"]), dumps(r)) for r in readings]
        self.store.commit_sync("-", rows, cursor_seq=None, cursor_time=None, now=now)
        self.published_ids.update(i for i, _ in rows)
        self.publisher.wake.set()

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, 15)
        self.store.close()


def scratch_database(server_url: str) -> tuple[str, str]:
    """Create `chaos_<random>` on the server of `server_url`; returns (its URL, the admin URL)."""
    name = f"chaos_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}")), server_url


def drop_database(admin_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(database_url: str, mqtt_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "VITALGATE_DATABASE_URL": database_url,
        "VITALGATE_MQTT_URL": mqtt_url,
        "VITALGATE_MQTT_PROTOCOL": "5",
        "VITALGATE_LOG_FORMAT": "json",
    }
