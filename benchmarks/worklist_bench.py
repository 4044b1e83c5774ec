"""Worklist at program scale and concurrent staff sessions (part of `python -m benchmarks api`).

`measure_worklist` times filtered worklist pages of a team with 10,000 patients and 5,000 open tasks
(median and p95 of repeated requests, page sizes); `concurrent_sessions` runs the app in its own
process (`vitalgate api serve`, loopback) and lets 20 signed-in staff sessions page through the
worklist for 60 s, counting errors and the latency distribution.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from benchmarks.worklist_load import LoadedTeam, load_team
from vitalgate.app.embedded import free_port
from vitalgate.store.db import connect

PATIENTS = 10_000
OPEN_TASKS = 5_000
SESSIONS = 20
SESSION_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Timing:
    median_ms: float
    p95_ms: float
    size_bytes: int


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def seed_scale(url: str, password: str) -> LoadedTeam:
    conn = await connect(url)
    try:
        async with conn.transaction():
            team = await load_team(
                conn, "scale", patients=PATIENTS, open_tasks=OPEN_TASKS, now=datetime.now(UTC), password=password
            )
        await conn.execute("ANALYZE")
        await conn.commit()
        return team
    finally:
        await conn.close()


async def timed(client: httpx.AsyncClient, path: str, repeat: int, **kwargs: object) -> Timing:
    samples, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = await client.get(path, **kwargs)  # type: ignore[arg-type]
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
        size = len(response.content)
    return Timing(statistics.median(samples), p95(samples), size)


WORKLIST_REQUESTS = (  # label, params (coordinator's view of the 5,000 open tasks)
    ("worklist, first page, all", {}),
    ("worklist, urgent only", {"severity": "urgent"}),
    ("worklist, overdue + tag", {"overdue": "true", "tag": "insulin"}),
    ("worklist, search external id", {"q": "EXT-scale-0420"}),
    ("worklist, routine, page 3 (keyset)", None),
)


async def measure_worklist(client: httpx.AsyncClient, bearer: dict[str, str], repeat: int) -> list[tuple[str, Timing]]:
    out = []
    for label, params in WORKLIST_REQUESTS:
        if params is None:  # follow two cursors into the routine tasks
            cursor = None
            for _ in range(2):
                page = await client.get(
                    "/worklist",
                    headers=bearer,
                    params={"severity": "routine", **({"cursor": cursor} if cursor else {})},
                )
                cursor = page.json()["next_cursor"]
            params = {"severity": "routine", "cursor": cursor}
        out.append((label, await timed(client, "/worklist", repeat, headers=bearer, params=params)))
    out.append(("worklist web page (HTML)", await timed(client, "/ui/worklist", repeat)))
    return out


@dataclass(frozen=True, slots=True)
class Credentials:
    cookies: dict[str, str]
    bearer: dict[str, str]


async def sign_in_all(base: str, usernames: list[str], password: str) -> list[Credentials]:
    """One web session and one bearer token per user, signed in one after another (argon2 hashing is
    deliberately slow: it is not the traffic being measured)."""
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for username in usernames:
            client.cookies.clear()
            login = await client.post("/ui/login", data={"username": username, "password": password})
            token = await client.post("/auth/token", data={"username": username, "password": password})
            assert login.status_code == 303 and token.status_code == 200, (login.status_code, token.text[:200])
            out.append(Credentials(dict(client.cookies), {"Authorization": f"Bearer {token.json()['access_token']}"}))
    return out


async def _session(base: str, who: Credentials, until: float, samples: list[float], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60, cookies=who.cookies) as client:
        cursor: str | None = None
        n = 0
        while time.monotonic() < until:
            n += 1
            started = time.perf_counter()
            try:
                if n % 4 == 0:
                    response = await client.get("/ui/worklist", params={"severity": "urgent"})
                else:
                    params = {"assignee": "all", **({"cursor": cursor} if cursor else {})}
                    response = await client.get("/worklist", headers=who.bearer, params=params)
                    if response.status_code == 200:
                        cursor = response.json()["next_cursor"] if n % 10 else None
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                continue
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                errors.append(str(response.status_code))


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "VITALGATE_DATABASE_URL": url,
        "VITALGATE_SECRET_KEY": "bench-" + "y" * 40,
        "VITALGATE_ENVIRONMENT": "development",
        "VITALGATE_LOG_FORMAT": "json",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "vitalgate", "api", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def concurrent_sessions(
    url: str, usernames: list[str], password: str, seconds: float = SESSION_SECONDS
) -> dict[str, float]:
    """SESSIONS staff sessions (cycling over `usernames`) against a served app for `seconds`."""
    port = free_port()
    server = _serve(url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as probe:
            for _ in range(200):
                try:
                    if (await probe.get("/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        credentials = await sign_in_all(base, usernames, password)
        samples: list[float] = []
        errors: list[str] = []
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(_session(base, credentials[i % len(credentials)], until, samples, errors) for i in range(SESSIONS))
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    return {
        "requests": len(samples),
        "errors": len(errors),
        "median_ms": statistics.median(samples) if samples else float("nan"),
        "p95_ms": p95(samples) if samples else float("nan"),
        "rps": len(samples) / seconds,
    }
