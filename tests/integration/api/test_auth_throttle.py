"""Failed sign-in throttling against the real PostgreSQL: lockout, 429 + Retry-After, parity, reset, expiry."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.world import PASSWORD, settings
from vitalgate.api.app import create_app
from vitalgate.api.throttle import ThrottlePolicy
from vitalgate.core import passwords
from vitalgate.store import people
from vitalgate.store.db import connect, make_pool

WRONG = "not-the-password-1"
LIMIT = 5
LOCKOUT = timedelta(minutes=15)


@dataclass
class Clock:
    """A settable clock for the throttle: step past a 15-minute lockout without sleeping."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def users(database_url: str) -> dict[str, str]:
    """Coordinators with PASSWORD, one per test that needs an account of its own."""
    suffix = secrets.token_hex(4)

    async def seed() -> dict[str, str]:
        conn = await connect(database_url)
        try:
            password_hash = passwords.hash_password(PASSWORD)
            async with conn.transaction():
                team = await people.create_care_team(conn, f"Throttle {suffix}")
                names = {}
                for key in ("lock", "parity", "reset", "expiry", "web", "race", "source"):
                    names[key] = f"thr-{key}-{suffix}"
                    await people.create_user(
                        conn, names[key], key.title(), "coordinator", password_hash=password_hash, care_team_id=team
                    )
            return names
        finally:
            await conn.close()

    return asyncio.run(seed())


@contextlib.asynccontextmanager
async def client_for(
    url: str,
    clock: Clock,
    *,
    source: str | None = None,
    policy: ThrottlePolicy | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh app (its own pool, like another API process) seen from one client address."""
    pool = make_pool(url, max_size=4)
    await pool.open()
    try:
        app = create_app(url, settings=settings(), pool=pool, throttle=policy, clock=clock)
        # A unique source address per test: the per-address counter of one test never touches another's.
        address = source or f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await pool.close()


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password})


async def _audit_actions(url: str, actor: str) -> list[str]:
    conn = await connect(url)
    try:
        cur = await conn.execute("SELECT action FROM audit_log WHERE actor = %s ORDER BY id", (actor,))
        return [r["action"] if isinstance(r, dict) else r[0] for r in await cur.fetchall()]
    finally:
        await conn.close()


async def test_lockout_after_five_failures_answers_429_with_retry_after(
    database_url: str, users: dict[str, str]
) -> None:
    clock, name = Clock(), users["lock"]
    async with client_for(database_url, clock) as client:
        for _ in range(LIMIT):
            bad = await _login(client, name, WRONG)
            assert bad.status_code == 401 and bad.json() == {"detail": "wrong username or password"}
        # Even the right password is refused now: otherwise guessing would simply go on.
        locked = await _login(client, name, PASSWORD)
        assert locked.status_code == 429, locked.text
        assert locked.headers["content-type"].startswith("application/json")
        assert locked.json() == {"detail": "too many failed sign-ins for this username: try again in 15 minutes"}
        assert locked.headers["retry-after"] == str(int(LOCKOUT.total_seconds()))
        clock.now += timedelta(minutes=10)
        assert (await _login(client, name, PASSWORD)).headers["retry-after"] == "300"
    # Durable: another API process (new app, new pool, another address) sees the same lock.
    async with client_for(database_url, clock) as other:
        again = await _login(other, name, PASSWORD)
        assert again.status_code == 429 and again.headers["retry-after"] == "300"
    actions = await _audit_actions(database_url, name)
    assert actions == ["auth:failed"] * LIMIT + ["auth:throttled"] * 3


async def test_unknown_username_gets_the_same_answers(
    database_url: str, users: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No way to tell a known name from an unknown one: same bodies, same headers, same argon2 work."""
    verified: list[str] = []
    real = passwords._HASHER

    class SpyHasher:
        """Records which hash each check used, then runs the real argon2 verification."""

        def verify(self, hash_: str, password: str) -> bool:
            verified.append(hash_)
            return real.verify(hash_, password)

    monkeypatch.setattr(passwords, "_HASHER", SpyHasher())
    clock = Clock()
    unknown = f"nobody-{secrets.token_hex(4)}"
    async with client_for(database_url, clock) as client:
        real_answers, ghost_answers = [], []
        for name, answers in ((users["parity"], real_answers), (unknown, ghost_answers)):
            for _ in range(LIMIT + 1):
                response = await _login(client, name, WRONG)
                answers.append(
                    (
                        response.status_code,
                        response.json(),
                        response.headers.get("retry-after"),
                        response.headers.get("www-authenticate"),
                    )
                )
        assert real_answers == ghost_answers
        assert [a[0] for a in real_answers] == [401] * LIMIT + [429]
    # The unknown name was checked against the dummy argon2 hash each time, like a real hash.
    assert len(verified) == 2 * LIMIT and verified.count(passwords._DUMMY_HASH) == LIMIT


async def test_success_resets_the_counter(database_url: str, users: dict[str, str]) -> None:
    clock, name = Clock(), users["reset"]
    async with client_for(database_url, clock) as client:
        for _ in range(LIMIT - 1):
            assert (await _login(client, name, WRONG)).status_code == 401
        assert (await _login(client, name, PASSWORD)).status_code == 200
        # A fresh allowance of five: four more failures and the fifth still answer 401, then 429.
        for _ in range(LIMIT):
            assert (await _login(client, name, WRONG)).status_code == 401
        assert (await _login(client, name, PASSWORD)).status_code == 429


async def test_lockout_expires_and_old_failures_leave_the_window(database_url: str, users: dict[str, str]) -> None:
    clock, name = Clock(), users["expiry"]
    async with client_for(database_url, clock) as client:
        for _ in range(LIMIT):
            await _login(client, name, WRONG)
        assert (await _login(client, name, PASSWORD)).status_code == 429
        clock.now += LOCKOUT - timedelta(seconds=1)
        still = await _login(client, name, PASSWORD)
        assert still.status_code == 429 and still.headers["retry-after"] == "1"
        clock.now += timedelta(seconds=1)
        assert (await _login(client, name, PASSWORD)).status_code == 200
        # Failures spread out over more than the 15-minute window never lock.
        for _ in range(LIMIT + 2):
            assert (await _login(client, name, WRONG)).status_code == 401
            clock.now += timedelta(minutes=4)


async def test_a_shorter_settable_window(database_url: str, users: dict[str, str]) -> None:
    policy = ThrottlePolicy(max_failures=2, window=timedelta(seconds=30), lockout=timedelta(seconds=45))
    clock, name = Clock(), f"ghost-{secrets.token_hex(3)}"
    async with client_for(database_url, clock, policy=policy) as client:
        assert [(await _login(client, name, WRONG)).status_code for _ in range(3)] == [401, 401, 429]
        third = await _login(client, name, WRONG)
        assert third.headers["retry-after"] == "45" and third.json()["detail"].endswith("1 minute")
        clock.now += timedelta(seconds=46)
        assert (await _login(client, name, WRONG)).status_code == 401


async def test_parallel_guesses_cannot_pass_the_limit(database_url: str, users: dict[str, str]) -> None:
    """Attempts are counted before argon2 runs, so a burst gets at most five password checks."""
    clock, name = Clock(), users["race"]
    async with client_for(database_url, clock) as client:
        answers = await asyncio.gather(*(_login(client, name, WRONG) for _ in range(12)))
        codes = sorted(r.status_code for r in answers)
        assert codes == [401] * LIMIT + [429] * (12 - LIMIT), codes


async def test_one_address_spraying_many_names_is_throttled(database_url: str, users: dict[str, str]) -> None:
    policy = ThrottlePolicy(max_source_failures=4)
    clock, address = Clock(), "192.0.2.77"
    async with client_for(database_url, clock, source=address, policy=policy) as client:
        codes = [(await _login(client, f"spray-{i}-{secrets.token_hex(2)}", WRONG)).status_code for i in range(5)]
        assert codes == [401] * 4 + [429]
        refused = await _login(client, users["source"], PASSWORD)
        assert refused.status_code == 429 and "from your network address" in refused.json()["detail"]
    # Another address signs in to the same account as usual.
    async with client_for(database_url, clock, policy=policy) as other:
        assert (await _login(other, users["source"], PASSWORD)).status_code == 200


async def test_web_login_page_shows_the_lockout(database_url: str, users: dict[str, str]) -> None:
    clock, name = Clock(), users["web"]
    async with client_for(database_url, clock) as client:
        for _ in range(LIMIT):
            page = await client.post("/ui/login", data={"username": name, "password": WRONG})
            assert page.status_code == 401 and "Wrong username or password" in page.text
        page = await client.post("/ui/login", data={"username": name, "password": PASSWORD})
        assert page.status_code == 429 and "text/html" in page.headers["content-type"]
        assert "Too many failed sign-ins for this username: try again in 15 minutes." in page.text
        assert page.headers["retry-after"] == "900" and "set-cookie" not in page.headers
        # The bearer flow shares the counter with the web form.
        assert (await _login(client, name, PASSWORD)).status_code == 429
