"""Scenario harness: patients' readings over simulated days, published as the wire contract over
MQTT to a real `vitalgate ingest run` process whose clock the test moves (VITALGATE_FAKE_NOW=@file).

The ingest process runs the composition root's after-commit hook (rules -> episodes -> tasks), so
a scenario sees what a care team would see. The harness waits for the process's
`alerts.evaluated` log line carrying each batch's simulated time: after it, the tasks are final.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from tests.support.clinic import add_patient, fetch, seed_team
from vitalgate.contract import DeviceRef, Quantity, Reading, reading_id
from vitalgate.contract.readings import ReadingBatch, readings_topic
from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.core.settings import MqttConfig
from vitalgate.followup.actions import record_outcome
from vitalgate.followup.scheduler import tick
from vitalgate.store.db import connect

READY_TIMEOUT_S = 30.0
EVALUATED_TIMEOUT_S = 30.0


@dataclass
class Patient:
    id: int
    serial: str
    seq: int = 0


@dataclass
class ScenarioRun:
    """One ingest process, one gateway, one care team; patients are added per scenario."""

    database_url: str
    mqtt_url: str
    mqtt_protocol: str
    unique: str
    tmp: Path
    gateway: str = ""
    team: dict[str, int] = field(default_factory=dict)
    _proc: subprocess.Popen | None = None
    _lines: queue.Queue = field(default_factory=queue.Queue)
    _log: list[str] = field(default_factory=list)

    @property
    def clock_file(self) -> Path:
        return self.tmp / "now.txt"

    async def __aenter__(self) -> ScenarioRun:
        self.gateway = f"gw-scn-{self.unique}"
        conn = await connect(self.database_url)
        async with conn.transaction():
            self.team = await seed_team(conn, f"scn{self.unique}")
        await conn.close()
        self.set_now(datetime.now().astimezone())
        env = {
            **os.environ,
            "VITALGATE_DATABASE_URL": self.database_url,
            "VITALGATE_MQTT_URL": self.mqtt_url,
            "VITALGATE_MQTT_PROTOCOL": self.mqtt_protocol,
            "VITALGATE_FAKE_NOW": f"@{self.clock_file}",  # test-only clock injection (core/clock.py)
        }
        cmd = [sys.executable, "-m", "vitalgate", "ingest", "run", "--client-id", f"scn-{self.unique}"]
        cmd += ["--group", f"scn-{self.unique}", "--gateway-id", self.gateway, "--writers", "1"]
        self._proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        self._wait_for("ingest.started", READY_TIMEOUT_S)
        self._mqtt = AsyncMqttClient(MqttConfig.from_url(self.mqtt_url), f"scn-pub-{self.unique}", clean_start=True)
        await self._mqtt.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._mqtt.disconnect()
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            self._lines.put(line)

    def _wait_for(self, needle: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.1)
            except queue.Empty:
                assert self._proc is not None and self._proc.poll() is None, "ingest run exited:\n" + "".join(self._log)
                continue
            self._log.append(line)
            if needle in line:
                return line
        raise AssertionError(f"no {needle!r} from ingest run within {timeout_s} s; log:\n" + "".join(self._log[-30:]))

    def set_now(self, now: datetime) -> None:
        """Move the ingest process's clock (it reads the file on every batch)."""
        self.clock_file.write_text(now.isoformat())

    async def add_patient(self, ref: str, start: datetime) -> Patient:
        conn = await connect(self.database_url)
        async with conn.transaction():
            pid, serial = await add_patient(
                conn, self.team["team"], f"{ref}-{self.unique}", device="glucose_meter", start=start
            )
        await conn.close()
        return Patient(pid, serial)

    def glucose(
        self,
        patient: Patient,
        at: datetime,
        mg_dl: float,
        *,
        comparator: str | None = None,
        status: Sequence[str] = (),
        device_time: datetime | None = None,
    ) -> Reading:
        """A glucose reading as a hub publishes it (contract v1)."""
        patient.seq += 1
        dt = (device_time or at).replace(tzinfo=None)
        context: dict[str, Any] = {"glucose_comparator": comparator} if comparator else {}
        return Reading(
            id=reading_id(patient.serial, patient.seq, dt),
            device=DeviceRef(serial=patient.serial, kind="glucose_meter"),
            kind="glucose",
            sequence_number=patient.seq,
            values={"glucose": Quantity(value=mg_dl, unit="mg/dL", comparator=comparator)},  # type: ignore[arg-type]
            measured_at=at,
            device_time=dt,
            received_at=at,
            status=list(status),
            context=context,
        )

    async def publish(self, readings: Sequence[Reading], now: datetime) -> None:
        """Publish one batch at simulated `now`; returns once ingest evaluated its rules for it."""
        self.set_now(now)
        batch = ReadingBatch(gateway_id=self.gateway, sent_at=now, readings=list(readings))
        await self._mqtt.publish(readings_topic(self.gateway), batch.model_dump_json().encode())
        # The ingest clock is `now` (read from the file) and the pipeline logs it with each evaluation.
        self._wait_for(f"at={now.isoformat()}", EVALUATED_TIMEOUT_S)

    async def reading(self, patient: Patient, at: datetime, mg_dl: float, **kw: Any) -> UUID:
        """One reading, published a minute after it was measured."""
        r = self.glucose(patient, at, mg_dl, **kw)
        await self.publish([r], at + timedelta(minutes=1))
        return r.id

    async def tick(self, now: datetime, patient: Patient) -> None:
        await tick(self.database_url, now, patient_ids=[patient.id])

    async def close_task(self, task_id: int, outcome: str, now: datetime) -> None:
        conn = await connect(self.database_url)
        async with conn.transaction():
            await record_outcome(conn, task_id, outcome, actor="nurse:scenario", now=now)  # type: ignore[arg-type]
        await conn.close()

    async def tasks(self, patient: Patient) -> list[dict[str, Any]]:
        """The patient's tasks with their own episode's rule, oldest first."""
        return await fetch(
            self.database_url,
            "SELECT t.id, t.severity, t.status, t.created_at, t.due_at, a.rule_id, a.status AS alert_status"
            " FROM tasks t JOIN alerts a ON a.id = t.alert_id WHERE t.patient_id = %s ORDER BY t.id",
            patient.id,
        )

    async def urgent(self, patient: Patient) -> list[dict[str, Any]]:
        return [t for t in await self.tasks(patient) if t["severity"] == "urgent"]
