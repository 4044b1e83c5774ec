"""`vitalgate db upgrade`: ordered, recorded, idempotent, and it says which time-series path ran."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from vitalgate.store.migrate import describe_timeseries, detect_timeseries, load_migrations, upgrade


@pytest.fixture
def empty_database(admin_database_url: str) -> Iterator[str]:
    name = f"vg_migrate_{secrets.token_hex(4)}"
    with psycopg.connect(admin_database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_database_url)
    yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    with psycopg.connect(admin_database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrations_are_ordered_and_0002_has_both_variants():
    migrations = load_migrations()
    versions = [m.version for m in migrations]
    assert versions == sorted(versions) and versions[:2] == [1, 2]
    assert set(migrations[1].variants) == {"timescaledb", "native"}
    assert all(not m.variants for m in migrations if m.version not in (2, 11, 28))
    for version in (11, 28):  # patient time zones; the quarter-hourly rollup
        assert set(next(m for m in migrations if m.version == version).variants) == {"timescaledb", "native"}


def test_upgrade_twice_via_the_cli_prints_the_path_and_then_nothing_to_do(empty_database: str):
    if not empty_database.startswith("postgresql://"):
        pytest.skip("the CLI run needs a URL database")
    env = {**os.environ, "VITALGATE_DATABASE_URL": empty_database}
    cli = str(Path(sys.executable).with_name("vitalgate"))
    first = subprocess.run([cli, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    second = subprocess.run([cli, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    with psycopg.connect(empty_database) as conn:
        path = conn.execute("SELECT timeseries FROM store_backend").fetchone()[0]
        recorded = conn.execute("SELECT version, name, variant FROM schema_migrations ORDER BY version").fetchall()
    assert f"applied 0002_timeseries.{path}" in first.stdout
    assert "schema is up to date" in second.stdout
    assert f"timeseries={path}" in second.stderr  # the log line names the path on every run
    assert recorded[:2] == [(1, "core", None), (2, "timeseries", path)]
    assert [v for v, _, _ in recorded] == [m.version for m in load_migrations()]


def test_native_path_prepares_monthly_partitions_ahead(empty_database: str):
    applied = upgrade(empty_database, timeseries="native")
    assert [m.name for m in applied][:2] == ["core", "timeseries.native"]
    assert upgrade(empty_database, timeseries="native") == []
    now = datetime.now(UTC)
    months = []
    year, month = now.year, now.month
    for _ in range(4):
        months.append(f"readings_{year:04d}_{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    with psycopg.connect(empty_database) as conn:
        parts = {
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'readings'::regclass"
            )
        }
        brin = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'readings' AND indexdef ILIKE '%USING brin%'"
        ).fetchone()[0]
        # Calling the partition helper again is a no-op: nothing new to create.
        again = conn.execute("SELECT readings_ensure_months(ARRAY[now()])").fetchone()[0]
    assert set(months) <= parts and len(parts) == 16  # 12 months back, this one, 3 ahead
    assert brin == 1 and again == 0
    assert "native PostgreSQL" in describe_timeseries(empty_database)


def test_detection_explains_why_timescaledb_was_not_used(empty_database: str):
    with psycopg.connect(empty_database) as conn:
        available = conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()[
            0
        ]
        if available:
            pytest.skip("this server has TimescaleDB: the Timescale path is exercised instead")
        backend = detect_timeseries(conn)
        assert backend.timeseries == "native" and "not installed" in backend.reason
        with pytest.raises(RuntimeError, match="TimescaleDB requested"):
            detect_timeseries(conn, "timescaledb")
