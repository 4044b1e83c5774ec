"""Helpers for the gateway fault tests (no tests here): a broker child process, a cuttable TCP path, a counting subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from vitalgate.app.embedded import free_port
from vitalgate.contract import CommitReceipt, readings_topic, receipts_topic
from vitalgate.core.mqtt import AsyncMqttClient, MqttError
from vitalgate.core.settings import MqttConfig

MOSQUITTO = "/usr/sbin/mosquitto"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def wait_for(predicate, timeout: float, what: str, step: float = 0.05) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(step)


class BrokerProcess:
    """Our own broker on a free port (never the shared system Mosquitto): mosquitto or amqtt."""

    def __init__(self, kind: str, workdir: Path, port: int | None = None) -> None:
        self.kind, self.workdir, self.port = kind, workdir, port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def protocol(self) -> str:
        return "5" if self.kind == "mosquitto" else "3.1.1"

    def config(self, port: int | None = None) -> MqttConfig:
        return MqttConfig(host="127.0.0.1", port=port or self.port, protocol=self.protocol)  # type: ignore[arg-type]

    async def start(self) -> None:
        if self.kind == "mosquitto":
            conf = self.workdir / "mosquitto.conf"
            conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
            cmd = [MOSQUITTO, "-c", str(conf)]
        else:
            cmd = [sys.executable, "-m", "vitalgate.app.embedded", "broker", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await wait_for(lambda: port_open(self.port), 20, f"{self.kind} on port {self.port}")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            await asyncio.to_thread(self.proc.wait, 10)
        self.proc = None
        await wait_for(lambda: not port_open(self.port), 10, "broker port to close")


class CuttablePath:
    """A TCP relay in front of the broker for the hub: closed, it refuses the hub while the test
    re-subscribes its counter after a broker restart (amqtt keeps no sessions across restarts)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.open = True
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()

    def cut(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


class Counter:
    """Subscribes to a gateway's readings and counts reading ids (and raw deliveries).

    It stands in for ingest, so by default it also sends the commit receipts that let the hub
    delete what it published (receipts=False: a subscriber that never confirms anything).
    """

    def __init__(self, config: MqttConfig, gateway_id: str, client_id: str, *, receipts: bool = True) -> None:
        self.config, self.topic, self.client_id = config, readings_topic(gateway_id), client_id
        self.gateway_id, self.receipts = gateway_id, receipts
        self.ids: set[str] = set()
        self.deliveries = 0
        self.batch_sizes: list[int] = []
        self.first_seen: list[tuple[str, int | None]] = []  # (serial, sequence number) in arrival order
        self._client: AsyncMqttClient | None = None
        self._task: asyncio.Task[None] | None = None

    async def connect(self, timeout: float = 20.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            client = AsyncMqttClient(self.config, self.client_id, clean_start=True)
            try:
                await client.connect(timeout=3)
                await client.subscribe(self.topic, qos=1)
                break
            except MqttError:
                await client.disconnect()
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)
        self._client = client
        self._task = asyncio.create_task(self._pump(client))

    async def _pump(self, client: AsyncMqttClient) -> None:
        while True:
            message = await client.messages.get()
            readings = json.loads(message.payload)["readings"]
            self.batch_sizes.append(len(readings))
            for reading in readings:
                if reading["id"] not in self.ids:
                    self.first_seen.append((reading["device"]["serial"], reading["sequence_number"]))
                self.ids.add(reading["id"])
                self.deliveries += 1
            if self.receipts and readings:
                receipt = CommitReceipt(
                    gateway_id=self.gateway_id, reading_ids=[r["id"] for r in readings], committed_at=datetime.now(UTC)
                )
                with contextlib.suppress(MqttError):
                    await client.publish(receipts_topic(self.gateway_id), receipt.model_dump_json().encode(), qos=1)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.disconnect()
