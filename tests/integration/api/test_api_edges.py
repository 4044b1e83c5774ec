"""API edges of issue 13 items 7 and 8; each assertion marked 'before:' failed before its fix."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from tests.support.world import PASSWORD, World, api_client, seed_world, served_app, token
from vitalgate.api.app import create_app
from vitalgate.core.settings import Settings
from vitalgate.store.db import make_pool


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "edge" + secrets.token_hex(3))


def _settings(**extra: object) -> Settings:
    return Settings(environment="development", secret_key=SecretStr("test-secret-" + "x" * 40), **extra)


@contextlib.asynccontextmanager
async def _client(url: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    pool = make_pool(url, max_size=2)
    await pool.open()
    try:
        app = create_app(url, settings=settings, pool=pool)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            yield client
    finally:
        await pool.close()


async def test_admins_cannot_make_patient_logins_and_relinking_is_explicit(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        admin = await token(client, world.users["admin"])
        # before: 201, and the admin could sign in as p1 and read p1's record (p1's own login got 404)
        taken = await client.post(
            "/admin/users",
            headers=admin,
            json={"username": f"mallory-{world.suffix}", "display_name": "M", "role": "patient",
                  "password": PASSWORD, "patient_id": world.patients["p1"]},
        )  # fmt: skip
        assert taken.status_code == 403, taken.text
        old = await token(client, world.users["p1"])
        assert (await client.get(f"/patients/{world.patients['p1']}", headers=old)).status_code == 200

        coord = await token(client, world.users["coord_a"])
        body = {"username": f"p1-new-{world.suffix}", "display_name": "Anna B", "password": PASSWORD}
        path = f"/patients/{world.patients['p1']}/login"
        refused = await client.post(path, headers=coord, json=body)
        assert refused.status_code == 409 and "already has a login" in refused.json()["detail"]
        assert (await client.post(path, headers=coord, json={**body, "relink": True})).status_code == 422
        other_team = await token(client, world.users["coord_b"])
        assert (
            await client.post(path, headers=other_team, json={**body, "relink": True, "reason": "x" * 5})
        ).status_code == 404
        relinked = await client.post(
            path, headers=coord, json={**body, "relink": True, "reason": "lost phone, new account"}
        )
        assert relinked.status_code == 201, relinked.text
        assert (await client.get(f"/patients/{world.patients['p1']}", headers=old)).status_code == 401  # sessions ended
        new = await token(client, body["username"])
        assert (await client.get(f"/patients/{world.patients['p1']}", headers=new)).status_code == 200
        assert (await client.get(f"/patients/{world.patients['p1']}", headers=admin)).status_code == 404
        trail = (await client.get("/audit", params={"action": "change:relink_patient_login"}, headers=admin)).json()
        assert any(
            r["patient_id"] == world.patients["p1"] and r["detail"]["reason"] == "lost phone, new account"
            for r in trail
        )


async def _failed_login_source(base: str, database_url: str, forwarded: str) -> str:
    name = f"nobody-{secrets.token_hex(4)}"
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.post(
            "/auth/token",
            data={"username": name, "password": "wrong-password-1"},
            headers={"X-Forwarded-For": forwarded},
        )
        assert response.status_code == 401
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT source FROM audit_log WHERE actor = %s", (name,)).fetchone()[0]


async def test_x_forwarded_for_counts_only_from_trusted_proxies(database_url: str, world: World) -> None:
    # before: uvicorn believed X-Forwarded-For from any loopback peer (throttle bypass, forged audit source)
    async with served_app(database_url) as base:
        assert await _failed_login_source(base, database_url, "203.0.113.9") == "127.0.0.1"
    async with served_app(database_url, _settings(trusted_proxies=["127.0.0.1/32"])) as base:
        assert await _failed_login_source(base, database_url, "203.0.113.9") == "203.0.113.9"
        # Only the hop the trusted proxy wrote counts: an address the client put first is ignored.
        assert await _failed_login_source(base, database_url, "198.51.100.7, 203.0.113.9") == "203.0.113.9"


async def test_request_bodies_over_the_limit_are_refused_before_auth(database_url: str, world: World) -> None:
    async with _client(database_url, _settings(api_max_body_bytes=64 * 1024)) as client:
        big = b"username=x&password=" + b"y" * (200 * 1024)
        declared = await client.post(
            "/auth/token", content=big, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert declared.status_code == 413  # before: read and parsed whole (a 300 MB POST took the API to 738 MB)

        async def chunks():  # no Content-Length: counted as it streams in
            for _ in range(20):
                yield b"z" * 16 * 1024

        streamed = await client.post(
            f"/patients/{world.patients['p1']}/devices", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413, streamed.text
        small = await client.post("/auth/token", data={"username": world.users["p1"], "password": PASSWORD})
        assert small.status_code == 200


async def test_csp_allows_only_own_scripts(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        csp = (await client.get("/ui/login")).headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        # /docs too: Swagger UI is vendored under /static and started by a static file (works offline).
        docs = await client.get("/docs")
        assert docs.headers["content-security-policy"] == csp
        assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text and "https://" not in docs.text
        bundle = await client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text


async def test_fhir_links_come_from_settings_not_the_host_header(database_url: str, world: World) -> None:
    public = "https://vitalgate.example.org"
    async with _client(database_url, _settings(public_base_url=public)) as client:
        headers = {**(await token(client, world.users["doctor_a"])), "Host": "evil.example"}
        bundle = (
            await client.get(f"/fhir/Patient/{world.patients['p1']}/Observation", params={"_count": 3}, headers=headers)
        ).json()
        assert bundle["entry"] and all(e["fullUrl"].startswith(f"{public}/fhir/Observation/") for e in bundle["entry"])
        assert all(link["url"].startswith(public) for link in bundle["link"])  # before: http://evil.example/...
