"""Unit level: pure tests, no PostgreSQL, MQTT broker, radio link, browser or child process; they run in seconds.

`pytest tests/unit` or `pytest -m "not integration and not browser and not realstack"` runs them. A unit test that asks for a
backend fixture is a collection error here: it belongs under tests/integration/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
BACKEND_FIXTURES = frozenset({"database_url", "admin_database_url", "mqtt_url", "mqtt_config", "mqtt_protocol"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = BACKEND_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if used and HERE in item.path.resolve().parents:
            raise pytest.UsageError(
                f"{item.nodeid} is a unit test but uses {sorted(used)}: move it to tests/integration/"
            )
