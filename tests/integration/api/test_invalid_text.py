"""Text that is not valid Unicode (a lone surrogate, legal in JSON escapes) is a 422, never a 500."""

from __future__ import annotations

import secrets

import pytest

from tests.support.world import World, api_client, seed_world, token


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "utf" + secrets.token_hex(3))


async def test_a_lone_surrogate_in_a_message_is_refused_with_a_reason(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        staff = await token(client, world.users["coord_a"])
        path = f"/patients/{world.patients['p1']}/messages"
        # before: psycopg could not encode the text and the API answered 500 (found by schemathesis)
        raw = b'{"body": "please call \\ud800 me"}'  # the JSON escape itself, as a client may send it
        refused = await client.post(path, headers={**staff, "content-type": "application/json"}, content=raw)
        assert refused.status_code == 422, refused.text
        assert "not valid Unicode" in refused.json()["detail"]
        blank = await client.post(path, headers=staff, json={"body": "   "})  # before: 500 (ValueError)
        assert blank.status_code == 422 and "blank" in blank.json()["detail"], blank.text
        sent = await client.post(path, headers=staff, json={"body": "please call me 请回电"})
        assert sent.status_code == 201, sent.text
