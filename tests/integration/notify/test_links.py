"""Signed links against PostgreSQL: unguessable, stored hashed, expiring, single-use, opening audited."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.clinic import seed_team
from vitalgate.notify import links
from vitalgate.notify.links import LinkAnswer, LinkExpired, LinkInvalid, LinkPurpose, LinkUsed
from vitalgate.store import people
from vitalgate.store.db import connect, scalar

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def _patient(conn, unique: str) -> int:
    team = await seed_team(conn, unique, doctor=False)
    return await people.create_patient(conn, "Link Patient", team["team"], external_ref=f"link-{unique}")


def test_token_is_long_random_and_stored_only_hashed(database_url: str, unique: str) -> None:
    async def run() -> None:
        conn = await connect(database_url)
        patient = await _patient(conn, unique)
        paths = [await links.issue_link(conn, LinkPurpose.CHECK_IN, patient_id=patient, now=NOW) for _ in range(50)]
        await conn.commit()
        tokens = [p.removeprefix("/l/") for p in paths]
        assert all(p.startswith("/l/") for p in paths) and len(set(tokens)) == 50
        # 24 random bytes -> 32 url-safe characters (192 bits >= 128)
        assert all(len(t) == 32 for t in tokens)
        stored = await scalar(
            conn, "SELECT count(*) FROM links WHERE patient_id = %s AND token_sha256 = %s", (patient, b"x")
        )
        assert stored == 0
        for t in tokens[:3]:
            digest = hashlib.sha256(t.encode()).digest()
            assert await scalar(conn, "SELECT count(*) FROM links WHERE token_sha256 = %s", (digest,)) == 1
            # the token itself appears in no column of the row
            assert await scalar(conn, "SELECT count(*) FROM links l WHERE l::text LIKE %s", (f"%{t}%",)) == 0
        await conn.close()

    asyncio.run(run())


def test_open_answer_once_expire_and_audit(database_url: str, unique: str) -> None:
    async def run() -> None:
        conn = await connect(database_url)
        patient = await _patient(conn, unique)
        path = await links.issue_link(conn, LinkPurpose.VISIT, patient_id=patient, ttl=timedelta(hours=2), now=NOW)
        token = path.removeprefix("/l/")
        g1 = await links.open_link(conn, token, NOW + timedelta(minutes=1), source="203.0.113.9")
        g2 = await links.open_link(conn, token, NOW + timedelta(minutes=2))
        assert g1.link_id == g2.link_id and g1.purpose == LinkPurpose.VISIT and g1.patient_id == patient
        with pytest.raises(LinkInvalid):  # the visit page offers confirm / move, not "I'm OK"
            await links.answer_link(conn, token, LinkAnswer.OK, NOW + timedelta(minutes=3))
        answered = await links.answer_link(conn, token, "confirm", NOW + timedelta(minutes=3), source="203.0.113.9")
        assert answered.answer == LinkAnswer.CONFIRM and answered.answered_at == NOW + timedelta(minutes=3)
        with pytest.raises(LinkUsed):
            await links.answer_link(conn, token, "move", NOW + timedelta(minutes=4))
        # An answered link still opens (the page shows what was answered), even after expiry.
        later = await links.open_link(conn, token, NOW + timedelta(hours=5))
        assert later.answer == LinkAnswer.CONFIRM
        row = await (
            await conn.execute("SELECT open_count, first_opened_at FROM links WHERE id = %s", (g1.link_id,))
        ).fetchone()
        assert row["open_count"] == 3 and row["first_opened_at"] == NOW + timedelta(minutes=1)
        audit = await (
            await conn.execute(
                "SELECT action, role, source, detail FROM audit_log WHERE actor = %s ORDER BY id",
                (f"link:{g1.link_id}",),
            )
        ).fetchall()
        assert [a["action"] for a in audit] == ["read:link", "read:link", "change:link_answer", "read:link"]
        assert audit[0]["role"] == "patient" and audit[0]["source"] == "203.0.113.9"
        assert audit[2]["detail"]["answer"] == "confirm"

        expiring = (
            await links.issue_link(conn, LinkPurpose.CHECK_IN, patient_id=patient, ttl=timedelta(hours=1), now=NOW)
        ).removeprefix("/l/")
        with pytest.raises(LinkExpired):
            await links.open_link(conn, expiring, NOW + timedelta(hours=1))
        with pytest.raises(LinkExpired):
            await links.answer_link(conn, expiring, "ok", NOW + timedelta(hours=2))
        for bad in ("", "short", token[:-1] + ("A" if token[-1] != "A" else "B"), "../../etc/passwd"):
            with pytest.raises(LinkInvalid):
                await links.open_link(conn, bad, NOW)
        await conn.rollback()
        await conn.close()

    asyncio.run(run())


def test_concurrent_answers_consume_once(database_url: str, unique: str) -> None:
    async def run() -> None:
        conn = await connect(database_url)
        patient = await _patient(conn, unique)
        token = (await links.issue_link(conn, LinkPurpose.CHECK_IN, patient_id=patient, now=NOW)).removeprefix("/l/")
        await conn.commit()
        await conn.close()

        async def answer(choice: str) -> str:
            c = await connect(database_url)
            try:
                async with c.transaction():
                    await links.answer_link(c, token, choice, NOW + timedelta(minutes=1))
                return "answered"
            except LinkUsed:
                return "used"
            finally:
                await c.close()

        results = await asyncio.gather(*(answer("ok" if i % 2 else "call_me") for i in range(8)))
        assert sorted(results) == ["answered"] + ["used"] * 7

    asyncio.run(run())
