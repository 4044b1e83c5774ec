"""Sign-in security: production settings, cookie flags, token expiry and revocation, web page scoping and audit."""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from tests.support.world import PASSWORD, World, api_client, seed_world, token
from vitalgate.api.app import create_app
from vitalgate.core.passwords import hash_password
from vitalgate.core.settings import Settings
from vitalgate.store import people
from vitalgate.store import users as user_store
from vitalgate.store.db import connect, make_pool

STRONG = secrets.token_urlsafe(48)


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "sec" + secrets.token_hex(3))


def _production(**extra: object) -> Settings:
    return Settings(
        environment="production",
        secret_key=SecretStr(extra.pop("secret", STRONG)),  # type: ignore[arg-type]
        database_url="postgresql://db.invalid/vg",
        mqtt_url="mqtts://ingest:Q7x-random-broker-password@broker.invalid:8883",
        **extra,
    )


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "short-but-random-Q7x",
        "dev-" + secrets.token_urlsafe(40),
        "x" * 48,
        "ab" * 24,
        "change-me-please-to-a-long-random-value!!",
        "test-secret-" + "x" * 40,
        "my-super-" + "secret-" * 5,
        "abcdef" * 6,  # six distinct characters, 36 long: accepted before entropy was measured (issue 13)
    ],
)
def test_production_refuses_weak_or_default_secrets(secret: str) -> None:
    with pytest.raises(ValidationError, match="VITALGATE_SECRET_KEY must be a random secret"):
        _production(secret=secret)


def test_production_accepts_a_random_secret_and_keeps_cookies_secure() -> None:
    assert _production().environment == "production"
    assert _production(secret=secrets.token_hex(16)).environment == "production"
    with pytest.raises(ValidationError, match="HTTPS only"):
        _production(cookie_secure=False)


@contextlib.asynccontextmanager
async def production_client(url: str) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    pool = make_pool(url, max_size=3)
    await pool.open()
    try:
        app = create_app(url, settings=_production(), pool=pool)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as client:
            yield client, app
    finally:
        await pool.close()


def _cookie_flags(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


async def test_production_cookie_is_secure_httponly_lax(database_url: str, world: World) -> None:
    async with production_client(database_url) as (client, _):
        login = await client.post("/ui/login", data={"username": world.users["coord_a"], "password": PASSWORD})
        assert login.status_code == 303
        flags = _cookie_flags(login.headers["set-cookie"])
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags
        out = await client.post("/ui/logout", data={"csrf": await _page_csrf(client)})
        assert {"secure", "httponly", "samesite=lax"} <= _cookie_flags(out.headers["set-cookie"])


async def _page_csrf(client: httpx.AsyncClient) -> str:
    """The sign-out form's CSRF token, as the browser has it."""
    page = await client.get("/ui/worklist")
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]


async def test_tokens_and_session_cookies_expire(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        signer = client._transport.app.state.vitalgate.signer  # type: ignore[attr-defined]
        # coord_b: nobody signs them out in this module (a sign-out would end older tokens anyway).
        user = await _user(database_url, world.users["coord_b"])
        old = signer.issue(user, "coordinator", "access", now=datetime.now(UTC) - timedelta(minutes=16))
        expired = await client.get("/me", headers={"Authorization": f"Bearer {old}"})
        assert expired.status_code == 401 and expired.json() == {"detail": "token expired: sign in again"}
        fresh = signer.issue(user, "coordinator", "access", now=datetime.now(UTC) - timedelta(minutes=14))
        assert (await client.get("/me", headers={"Authorization": f"Bearer {fresh}"})).status_code == 200
        # A session cookie is not a bearer token, and an 8-hour-old one is over.
        wrong_kind = await client.get(
            "/me", headers={"Authorization": f"Bearer {signer.issue(user, 'coordinator', 'session')}"}
        )
        assert wrong_kind.status_code == 401 and wrong_kind.json()["detail"] == "wrong token type"
        client.cookies.set(
            "vg_session",
            signer.issue(user, "coordinator", "session", now=datetime.now(UTC) - timedelta(hours=8, seconds=1)),
        )
        page = await client.get("/ui/worklist")
        assert page.status_code == 303 and page.headers["location"].startswith("/ui/login")
        assert (await client.get("/me")).status_code == 401


async def _user(url: str, username: str) -> int:
    conn = await connect(url)
    try:
        row = await user_store.get_user_by_username(conn, username)
        assert row is not None
        return row.id
    finally:
        await conn.close()


async def test_sign_out_and_new_password_end_earlier_sessions(database_url: str, world: World) -> None:
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            team = await people.create_care_team(conn, f"Revoke {world.suffix}")
            name = f"revoke-{world.suffix}"
            user = await people.create_user(
                conn, name, "Revoke", "nurse", password_hash=hash_password(PASSWORD), care_team_id=team
            )
    finally:
        await conn.close()
    async with api_client(database_url) as client:
        signer = client._transport.app.state.vitalgate.signer  # type: ignore[attr-defined]
        earlier = datetime.now(UTC) - timedelta(seconds=5)
        copied_cookie = signer.issue(user, "nurse", "session", now=earlier)
        bearer = {"Authorization": f"Bearer {signer.issue(user, 'nurse', 'access', now=earlier)}"}
        client.cookies.set("vg_session", copied_cookie)
        assert (await client.get("/ui/worklist")).status_code == 200
        assert (await client.post("/ui/logout", data={"csrf": await _page_csrf(client)})).status_code == 303
        # A copy of the cookie (or a token) from before the sign-out no longer works ...
        client.cookies.set("vg_session", copied_cookie)
        assert (await client.get("/ui/worklist")).headers["location"].startswith("/ui/login")
        gone = await client.get("/me", headers=bearer)
        assert gone.status_code == 401 and "signed out" in gone.json()["detail"]
        client.cookies.clear()
        # ... while signing in again right away does.
        new = await token(client, name)
        assert (await client.get("/me", headers=new)).status_code == 200
        # A new password ends the sessions issued before it.
        older = {
            "Authorization": f"Bearer {signer.issue(user, 'nurse', 'access', now=datetime.now(UTC) + timedelta(seconds=-3))}"
        }
        conn = await connect(database_url)
        try:
            await user_store.set_password(conn, user, hash_password("another-long-passphrase"))
            await conn.commit()
        finally:
            await conn.close()
        assert (await client.get("/me", headers=older)).status_code == 401
        assert (await client.post("/auth/token", data={"username": name, "password": PASSWORD})).status_code == 401


async def _audit_rows(client: httpx.AsyncClient, admin: dict[str, str], actor: str, patient_id: int) -> list[dict]:
    response = await client.get("/audit", params={"actor": actor, "patient_id": patient_id}, headers=admin)
    assert response.status_code == 200
    return response.json()


async def _web_login(client: httpx.AsyncClient, username: str) -> None:
    client.cookies.clear()
    login = await client.post("/ui/login", data={"username": username, "password": PASSWORD})
    assert login.status_code == 303, login.text


async def test_web_patient_pages_are_scoped_and_audited_once(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        admin = await token(client, world.users["admin"])
        p1, p3 = world.patients["p1"], world.patients["p3"]
        await _web_login(client, world.users["doctor_a"])
        before = await _audit_rows(client, admin, world.users["doctor_a"], p1)
        page = await client.get(f"/ui/patients/{p1}")
        assert page.status_code == 200 and "Anna Berg" in page.text
        after = await _audit_rows(client, admin, world.users["doctor_a"], p1)
        assert len(after) == len(before) + 1 and after[0]["action"] == "read:patient_page"
        assert after[0]["detail"]["path"] == f"/ui/patients/{p1}"
        # Another team's patient: 404 page, no name, no audit row of a read.
        other = await client.get(f"/ui/patients/{p3}")
        assert other.status_code == 404 and "Eva" not in other.text and "Fors" not in other.text
        assert await _audit_rows(client, admin, world.users["doctor_a"], p3) == []
        # Pairing for another team's patient through the page: 404 as well, nothing bound.
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
        pair = await client.post(
            f"/ui/patients/{p3}/devices", data={"csrf": csrf, "serial": f"X-{world.suffix}", "kind": "glucose_meter"}
        )
        assert pair.status_code == 404 and "Eva" not in pair.text

        # A patient: their own page once, another's page sends them home without reading it.
        await _web_login(client, world.users["p1"])
        before = await _audit_rows(client, admin, world.users["p1"], p1)
        assert (await client.get("/ui/me")).status_code == 200
        after = await _audit_rows(client, admin, world.users["p1"], p1)
        assert len(after) == len(before) + 1 and after[0]["action"] == "read:own_page"
        bounced = await client.get(f"/ui/patients/{world.patients['p2']}")
        assert bounced.status_code == 303 and bounced.headers["location"] == "/ui/me"
        assert await _audit_rows(client, admin, world.users["p1"], world.patients["p2"]) == []


async def test_admin_sees_no_clinical_data_even_in_a_team(database_url: str, world: World) -> None:
    """Admins administer; clinical reads need a staff account (their team membership grants nothing)."""
    async with api_client(database_url) as client:
        admin = await token(client, world.users["admin"])
        user_id = await _user(database_url, world.users["admin"])
        added = await client.post(f"/admin/teams/{world.teams['a']}/members", json={"user_id": user_id}, headers=admin)
        assert added.status_code == 204
        for path in (
            f"/patients/{world.patients['p1']}",
            f"/fhir/Patient/{world.patients['p1']}/Observation",
            f"/patients/{world.patients['p1']}/readings",
        ):
            response = await client.get(path, headers=admin)
            assert response.status_code == 404 and response.headers["content-type"].startswith("application/json"), path
        assert (await client.get("/patients", headers=admin)).json() == []
        assert (await client.get("/tasks", headers=admin)).status_code == 403


async def test_errors_are_json_with_a_message(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        staff = await token(client, world.users["coord_a"])
        cases = {
            401: await client.get("/patients"),
            403: await client.get("/audit", headers=staff),
            404: await client.get(f"/patients/{world.patients['p3']}/statistics", headers=staff),
            # A device of team B's patient cannot be taken over by team A.
            409: await client.post(
                f"/patients/{world.patients['p1']}/devices",
                headers=staff,
                json={"serial": world.serials["p3_glucose_meter"]},
            ),
            422: await client.get(f"/patients/{world.patients['p1']}/series", params={"kind": "sugar"}, headers=staff),
        }
        for status, response in cases.items():
            assert response.status_code == status, (status, response.text)
            assert response.headers["content-type"].startswith("application/json")
            detail = response.json()["detail"]
            assert detail and (isinstance(detail, str) or all("msg" in d for d in detail)), detail
        assert "someone else" in cases[409].json()["detail"] and "Fors" not in cases[409].text


async def test_pages_and_api_answers_are_not_cached_or_framed(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        staff = await token(client, world.users["doctor_a"])
        api = await client.get(f"/patients/{world.patients['p1']}/statistics", headers=staff)
        await _web_login(client, world.users["doctor_a"])
        page = await client.get(f"/ui/patients/{world.patients['p1']}")
        listing = await client.get("/patients")  # the JSON API on the cookie session
        for response in (api, page, listing):
            assert response.headers["cache-control"] == "no-store"
            assert (
                response.headers["x-frame-options"] == "DENY"
                and "frame-ancestors 'none'" in response.headers["content-security-policy"]
            )
            assert (
                response.headers["referrer-policy"] == "same-origin"
                and response.headers["x-content-type-options"] == "nosniff"
            )
        static = await client.get("/static/vendor/uPlot.min.css")
        assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
