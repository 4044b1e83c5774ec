"""The hub's MQTT session with username/password over TLS (own mosquitto with a throw-away CA)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tests.support.gateway_harness import MOSQUITTO, port_open, wait_for
from vitalgate.app.embedded import free_port
from vitalgate.core.settings import MqttConfig
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.outbox import HubStore
from vitalgate.gateway.publisher import Publisher


def _make_ca_and_server_cert(d) -> None:
    run = lambda *a: subprocess.run(a, cwd=d, check=True, capture_output=True)  # noqa: E731
    run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=vg-test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    )
    run(
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    )
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run(
        "openssl",
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    )


async def test_hub_publishes_over_tls_with_credentials_and_refuses_bad_ones(tmp_path, unique) -> None:
    # mosquitto drops root privileges before reading its files: pytest's tmp_path (0700 parents) is
    # out of its reach, so the broker's files go to a world-readable folder of their own.
    broker_dir = Path(tempfile.mkdtemp(prefix="vg-tls-"))
    broker_dir.chmod(0o755)
    try:
        await _tls_round(broker_dir, tmp_path, unique)
    finally:
        shutil.rmtree(broker_dir, ignore_errors=True)


async def _tls_round(certs: Path, tmp_path: Path, unique: str) -> None:
    _make_ca_and_server_cert(certs)
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(certs / "passwd"), "hub", "s3cret"], check=True, capture_output=True
    )
    port = free_port()
    (certs / "m.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {certs / 'passwd'}\n"
        f"cafile {certs / 'ca.crt'}\ncertfile {certs / 'server.crt'}\nkeyfile {certs / 'server.key'}\n"
    )
    for name in ("passwd", "server.key", "server.crt", "ca.crt"):
        (certs / name).chmod(0o644)
    broker = subprocess.Popen(
        [MOSQUITTO, "-c", str(certs / "m.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    store = HubStore(tmp_path / "hub.sqlite")
    store.register(
        address="AA",
        serial="S-TLS",
        kind="glucose_meter",
        name=None,
        model=None,
        manufacturer=None,
        firmware=None,
        now=datetime.now(UTC),
    )
    store.commit_sync("AA", [("id-1", '{"x":1}')], cursor_seq=1, cursor_time=None, now=datetime.now(UTC))
    config = HubConfig(reconnect_min_s=0.1, reconnect_max_s=0.2)
    try:
        await wait_for(lambda: port_open(port), 20, "TLS broker")
        good = MqttConfig.from_url(f"mqtts://hub:s3cret@127.0.0.1:{port}", tls_ca_file=certs / "ca.crt")
        bad = MqttConfig.from_url(f"mqtts://hub:wrong@127.0.0.1:{port}", tls_ca_file=certs / "ca.crt")
        assert good.tls and good.username == "hub"

        stop = asyncio.Event()
        refused = Publisher(store, bad, f"gw-bad-{unique}", config)
        task = asyncio.create_task(refused.run(stop))
        await asyncio.sleep(1.0)
        assert not refused.connected.is_set() and store.backlog() == 1  # refused, retrying, nothing lost
        stop.set()
        await task

        stop = asyncio.Event()
        accepted = Publisher(store, good, f"gw-tls-{unique}", config)
        task = asyncio.create_task(accepted.run(stop))
        # Published (PUBACK) over TLS; no ingest here, so it stays in the outbox awaiting its receipt.
        await wait_for(lambda: store.unconfirmed() == 1, 15, "outbox published over TLS")
        stop.set()
        await task
    finally:
        broker.terminate()
        broker.wait(10)
    assert store.published() == 1
