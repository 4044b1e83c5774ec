"""Fixtures of the delivery ledger tests: a private database per test (a worker drains everything due in
its database, so tests must not share one), patients with contact points, local receivers."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from tests.support.backends import server_url, with_database
from vitalgate.app.notify_sinks import WebhookSink
from vitalgate.domain import Medium, RecipientKind
from vitalgate.store import deliveries, people
from vitalgate.store.db import connect
from vitalgate.store.deliveries import DeliveryRequest

SECRET = "whsec-" + secrets.token_urlsafe(32)


@pytest.fixture(scope="session")
def ledger_template(database_url: str) -> Iterator[str]:
    """A migrated, idle database to copy (CREATE DATABASE ... TEMPLATE is much faster than migrating)."""
    admin_url, _ = server_url()
    name = f"vg_ledger_tmpl_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    from vitalgate.store.migrate import upgrade

    upgrade(with_database(admin_url, name))
    yield name
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def ledger_db(ledger_template: str) -> Iterator[str]:
    admin_url, _ = server_url()
    name = f"vg_ledger_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{ledger_template}"')
    yield with_database(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Patient:
    id: int
    team: int


async def make_patient(
    url: str,
    *,
    phone: str | None = "+8613800138000",
    email: str | None = "patient@example.org",
    language: str = "en",
    zone: str = "UTC",
) -> Patient:
    conn = await connect(url)
    async with conn.transaction():
        team = await people.create_care_team(conn, f"team-{secrets.token_hex(3)}")
        await conn.execute("UPDATE care_teams SET time_zone = %s WHERE id = %s", (zone, team))
        patient = await people.create_patient(conn, "Ledger Patient", team, external_ref=secrets.token_hex(4))
        await conn.execute(
            "UPDATE patients SET phone = %s, email = %s, language = %s WHERE id = %s", (phone, email, language, patient)
        )
    await conn.close()
    return Patient(patient, team)


async def enqueue(
    url: str, patient: int, n: int, *, at: datetime, medium: Medium = Medium.SMS, urgent: bool = False, prefix="m"
) -> list[int]:
    conn = await connect(url)
    ids = []
    async with conn.transaction():
        for i in range(n):
            new = await deliveries.enqueue(
                conn,
                DeliveryRequest(
                    idempotency_key=f"{prefix}:{patient}:{i}",
                    patient_id=patient,
                    recipient_kind=RecipientKind.PATIENT,
                    recipient_id=patient,
                    channel="message",
                    medium=medium,
                    template="check-in",
                    locale=await _language(conn, patient),
                    urgent=urgent,
                    not_before=at,
                ),
                now=at,
            )
            assert new is not None
            ids.append(new)
    await conn.close()
    return ids


async def _language(conn, patient: int) -> str:
    cur = await conn.execute("SELECT language FROM patients WHERE id = %s", (patient,))
    return (await cur.fetchone())["language"]


@pytest.fixture
async def sink() -> AsyncIterator[WebhookSink]:
    receiver = WebhookSink(secret=SECRET)
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the SMTP server's STARTTLS; the client trusts exactly it)."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
