"""A real `vitalgate ingest run` child process with its JSON log in a file (helpers, no tests)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

VITALGATE = str(Path(sys.executable).with_name("vitalgate"))


class IngestProcess:
    """One `vitalgate ingest run` child with its JSON log in a file."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, database_url: str, mqtt_url: str, protocol: str, *args: str) -> None:
        env = {
            **os.environ,
            "VITALGATE_DATABASE_URL": database_url,
            "VITALGATE_MQTT_URL": mqtt_url,
            "VITALGATE_MQTT_PROTOCOL": protocol,
            "VITALGATE_LOG_FORMAT": "json",
            "VITALGATE_INGEST_BATCH_SIZE": "1000",
        }
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                VITALGATE, "ingest", "run", "--no-alerts", *args, env=env, stdout=out, stderr=out
            )
        await self.wait_for_event("ingest.started", timeout=30)

    def events(self, name: str) -> list[dict]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{") and f'"{name}"' in line:
                found.append(json.loads(line))
        return found

    async def wait_for_event(self, name: str, timeout: float) -> dict:
        for _ in range(int(timeout / 0.05)):
            if found := self.events(name):
                return found[-1]
            if self.proc is not None and self.proc.returncode is not None:
                raise AssertionError(f"ingest exited ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {name} within {timeout}s: {self.log.read_text()[-2000:]}")

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)
            await asyncio.wait_for(self.proc.wait(), 30)
