"""Integration level: real PostgreSQL, an MQTT broker, bumble GATT links and child processes.

Every test under tests/integration/ is marked `integration` here; the broker fixtures and `unique`
live here because only this level uses them (the session database is in tests/conftest.py).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import server_url
from vitalgate.core.settings import MqttConfig

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this level before `-m` selects (tryfirst: ahead of pytest's own deselection)."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def admin_database_url() -> str:
    """URL of the server's own database, for tests that create databases themselves."""
    return server_url()[0]


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    """The configured broker, or an amqtt broker in a child process."""
    url = os.environ.get("VITALGATE_MQTT_URL")
    if url:
        yield url
        return
    from vitalgate.app.embedded import free_port

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
