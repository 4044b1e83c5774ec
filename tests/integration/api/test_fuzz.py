"""schemathesis against the OpenAPI schema: no input makes the API answer 500; errors are JSON."""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings

from tests.support.world import PASSWORD, World, seed_world
from vitalgate.app.embedded import free_port

schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis")

# Examples per operation: about 22 operations x 20 stays well under a minute on this machine.
EXAMPLES = 20
# Server-Sent Event streams stay open by design (tested in test_worklist_events.py); a fuzz call would wait for the end.
STREAMS = {"/worklist/events"}


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A database of its own: fuzzing edits shared data (the reply-script library, e.g.), which later tests read."""
    import os

    import psycopg

    from tests.support.backends import server_url, with_database
    from vitalgate.store.migrate import upgrade

    admin_url, _ = server_url()
    dbname = f"vg_fuzz_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    url = with_database(admin_url, dbname)
    upgrade(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "fuzz" + secrets.token_hex(3))


@pytest.fixture(scope="module")
def live_url(database_url: str) -> Iterator[str]:
    """uvicorn in its own process (tests.support.live_api), so fuzzing in this process cannot starve it."""
    port = free_port()
    root = Path(__file__).resolve().parents[3]
    server = subprocess.Popen([sys.executable, "-m", "tests.support.live_api", database_url, str(port)], cwd=root)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "uvicorn exited"
            assert time.monotonic() < deadline, "uvicorn did not start"
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _bearer(base: str, username: str) -> dict[str, str]:
    response = httpx.post(f"{base}/auth/token", data={"username": username, "password": PASSWORD}, timeout=60)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.slow  # 106 s in the whole suite on a loaded 2-core machine
def test_no_input_makes_a_500(live_url: str, world: World) -> None:
    # The first request builds the OpenAPI schema of ~150 operations: seconds on a loaded machine (CI hit
    # httpx's 5 s default here), so allow it a minute.
    spec = httpx.get(f"{live_url}/openapi.json", timeout=60).json()
    schema = schemathesis.openapi.from_dict(spec)
    staff = _bearer(live_url, world.users["coord_a"])
    admin = _bearer(live_url, world.users["admin"])
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        path = operation.path
        if path in STREAMS:
            continue
        headers = admin if path.startswith(("/admin", "/audit")) else staff

        @hsettings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @given(case=operation.as_strategy())
        def run(case) -> None:  # type: ignore[no-untyped-def]
            nonlocal calls
            # Half the cases aim at records the user may see, so the fuzzing reaches past the 404 check.
            if case.path_parameters and "patient_id" in case.path_parameters and calls % 2 == 0:
                case.path_parameters["patient_id"] = world.patients["p1"]
            if case.path_parameters and "task_id" in case.path_parameters and calls % 2 == 0:
                case.path_parameters["task_id"] = world.tasks["routine_p1"]
            calls += 1
            response = case.call(base_url=live_url, headers=headers)  # noqa: B023 - run() is called inside this iteration only
            unconfigured = response.status_code == 503 and "not configured" in response.text  # e.g. no receipt secret
            if response.status_code >= 500 and not unconfigured:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")
            elif response.status_code >= 400:
                content_type = response.headers.get("content-type", [""])[0]  # schemathesis keeps header lists
                assert "json" in content_type, (case.method, case.formatted_path, response.text[:200])
                assert "detail" in response.json()

        run()
    assert calls > 250
    assert not failures, "\n".join(failures[:20])
