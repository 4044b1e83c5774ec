"""Web session security without a browser: cookie flags, CSRF on forms and cookie-authenticated API calls, redirects."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.support.world import PASSWORD, World, api_client, seed_world


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "sess" + secrets.token_hex(3))


async def test_session_cookie_and_csrf(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        login = await client.post(
            "/ui/login", data={"username": world.users["coord_a"], "password": PASSWORD, "next": "//evil.example/x"}
        )
        assert login.status_code == 303 and login.headers["location"] == "/ui/worklist"  # no open redirect
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=28800" in cookie
        page = await client.get("/ui/worklist")
        assert page.status_code == 200 and "Anna Berg" in page.text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
        task = world.tasks["routine_p1"]
        forged = await client.post(f"/ui/tasks/{task}/acknowledge", data={"csrf": "0" * 32})
        assert forged.status_code == 403 and "text/html" in forged.headers["content-type"]
        ok = await client.post(f"/ui/tasks/{task}/acknowledge", data={"csrf": csrf})
        assert ok.status_code == 303 and ok.headers["location"].startswith("/ui/worklist?done=ack")
        # Each button has its own route; a taken task answers 409 as a page, an unknown button 404.
        taken = await client.post(f"/ui/tasks/{task}/acknowledge", data={"csrf": csrf})
        assert taken.status_code == 409 and "text/html" in taken.headers["content-type"] and "is not open" in taken.text
        unknown = await client.post(f"/ui/tasks/{task}/archive", data={"csrf": csrf})
        assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
        no_outcome = await client.post(f"/ui/tasks/{task}/outcome", data={"csrf": csrf, "outcome": "made-up"})
        assert no_outcome.status_code == 422 and "choose an outcome" in no_outcome.text
        # The JSON API accepts the session cookie, but changes need the CSRF header too.
        assert (await client.get("/tasks")).status_code == 200
        assert (await client.post(f"/tasks/{world.tasks['urgent_p1']}/acknowledge")).status_code == 403
        header = await client.post(f"/tasks/{world.tasks['urgent_p1']}/acknowledge", headers={"X-CSRF-Token": csrf})
        assert header.status_code == 200
        forged_out = await client.post("/ui/logout")  # another site's form cannot sign the user out
        assert forged_out.status_code == 403 and (await client.get("/ui/worklist")).status_code == 200
        out = await client.post("/ui/logout", data={"csrf": csrf})
        assert out.status_code == 303
        client.cookies.clear()
        again = await client.get("/ui/worklist")
        assert again.status_code == 303 and again.headers["location"].startswith("/ui/login")


async def test_wrong_password_page_and_html_errors(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        bad = await client.post("/ui/login", data={"username": world.users["p1"], "password": "not-the-password"})
        assert bad.status_code == 401 and "Wrong username or password" in bad.text
        await client.post("/ui/login", data={"username": world.users["coord_b"], "password": PASSWORD})
        other = await client.get(f"/ui/patients/{world.patients['p1']}")
        assert other.status_code == 404 and "text/html" in other.headers["content-type"] and "Anna" not in other.text
