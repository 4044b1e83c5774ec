"""Ordered SQL migrations, applied once each and recorded in schema_migrations.

A migration is `NNNN_name.sql`. It may also have backend variants, `NNNN_name.timescaledb.sql`
and `NNNN_name.native.sql`: the base file runs first, then the variant matching the time-series
backend detected at upgrade time, in the same transaction; the variant is recorded with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Literal

import psycopg
import structlog

log = structlog.get_logger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)(?:\.(timescaledb|native))?\.sql$")
# Any constant works; it only has to be the same for every process that migrates this database.
_ADVISORY_LOCK_ID = 0x56477431

Timeseries = Literal["auto", "timescaledb", "native"]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str
    variants: dict[str, str] = field(default_factory=dict)
    # On the migrations `upgrade` returns: which variant ran; `name` then ends with it too
    # ("timeseries.native"), so `vitalgate db upgrade` prints the path it took.
    variant: str | None = None


@dataclass(frozen=True, slots=True)
class Backend:
    """The time-series path chosen for this database, and why."""

    timeseries: Literal["timescaledb", "native"]
    reason: str


def load_migrations() -> list[Migration]:
    """The packaged migrations, in version order."""
    bases: dict[int, tuple[str, str]] = {}
    variants: dict[int, dict[str, str]] = {}
    for entry in resources.files("vitalgate.store.migrations").iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        version, name, variant = int(match.group(1)), match.group(2), match.group(3)
        text = entry.read_text(encoding="utf-8")
        if variant:
            variants.setdefault(version, {})[variant] = text
        elif version in bases:
            raise RuntimeError(f"duplicate migration version {version}: {bases[version][0]} and {name}")
        else:
            bases[version] = (name, text)
    orphans = set(variants) - set(bases)
    if orphans:
        raise RuntimeError(f"variant migrations without a base file: {sorted(orphans)}")
    for version, found in variants.items():
        if set(found) != {"timescaledb", "native"}:
            raise RuntimeError(f"migration {version} needs both a .timescaledb.sql and a .native.sql variant")
    return [Migration(v, bases[v][0], bases[v][1], variants.get(v, {})) for v in sorted(bases)]


def detect_timeseries(conn: psycopg.Connection, wanted: Timeseries = "auto") -> Backend:
    """TimescaleDB if the extension can be created here, else native partitioning (in the caller's transaction)."""
    if wanted == "native":
        return Backend("native", "native PostgreSQL requested")
    row = conn.execute(
        "SELECT default_version, installed_version FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    if row is None:
        reason = "the timescaledb extension is not installed on this server"
    elif row[1] is not None:
        return Backend("timescaledb", f"timescaledb {row[1]} already enabled")
    else:
        try:
            # Available is not enough: the library must also be preloaded. Trying is the only sure test.
            with conn.transaction():
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            return Backend("timescaledb", f"timescaledb {row[0]} enabled")
        except psycopg.Error as exc:
            reason = f"timescaledb {row[0]} is available but cannot be enabled: {str(exc).strip()}"
    if wanted == "timescaledb":
        raise RuntimeError(f"TimescaleDB requested but {reason}")
    return Backend("native", reason)


def current_timeseries(conn: psycopg.Connection) -> str | None:
    """The path recorded by an earlier upgrade, if any."""
    table = conn.execute("SELECT to_regclass('store_backend')").fetchone()
    if table is None or table[0] is None:
        return None
    row = conn.execute("SELECT timeseries FROM store_backend").fetchone()
    return None if row is None else str(row[0])


def upgrade(url: str, *, timeseries: Timeseries = "auto") -> list[Migration]:
    """Apply pending migrations (each in its own transaction); safe to run twice or concurrently."""
    applied: list[Migration] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            conn.execute("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS variant text")
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for migration in load_migrations():
                if migration.version in done:
                    continue
                with conn.transaction():
                    conn.execute(migration.sql)
                    variant = None
                    if migration.variants:
                        backend = detect_timeseries(conn, timeseries)
                        variant = backend.timeseries
                        log.info("db.timeseries_path", path=variant, reason=backend.reason)
                        conn.execute(migration.variants[variant])
                    # prepare=False: an upgrade runs each statement a handful of times; a server-side
                    # prepared statement buys nothing and collides on poolers/proxies that share one
                    # session between clients (PgBouncer transaction mode, pglite-socket).
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, variant) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, variant),
                        prepare=False,
                    )
                name = f"{migration.name}.{variant}" if variant else migration.name
                applied.append(replace(migration, name=name, variant=variant))
                log.info("db.migration_applied", version=migration.version, name=name)
            path = current_timeseries(conn)
            log.info("db.schema_ready", timeseries=path, applied=[f"{m.version:04d}_{m.name}" for m in applied])
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_ID,))
    return applied


def describe_timeseries(url: str) -> str:
    """One line for operators: which time-series path this database uses."""
    with psycopg.connect(url) as conn:
        path = current_timeseries(conn)
    if path == "timescaledb":
        return (
            "time-series path: TimescaleDB (hypertable, 7-day chunks, compression after 30 days, continuous aggregate)"
        )
    if path == "native":
        return "time-series path: native PostgreSQL (monthly range partitions, BRIN, readings_daily rollup)"
    return "time-series path: not set up yet (run `vitalgate db upgrade`)"
