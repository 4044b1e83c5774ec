"""A user's language and glucose unit (migration 0012): the API, the order of choice, error pages in Chinese."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.support.world import PASSWORD, World, api_client, seed_world, token

EN = {"Accept-Language": "en-US,en;q=0.9"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    return seed_world(database_url, "pref" + secrets.token_hex(3))


async def test_preferences_api_and_the_order_of_choice(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        auth = await token(client, world.users["coord_a"])
        assert (await client.get("/me/preferences", headers=auth)).json() == {"language": None, "glucose_unit": None}
        bad = await client.put("/me/preferences", headers=auth, json={"language": "fr", "glucose_unit": None})
        assert bad.status_code == 422
        await client.post("/ui/login", data={"username": world.users["coord_a"], "password": PASSWORD})
        # No setting: the browser decides.
        assert "<h1>Worklist</h1>" in (await client.get("/ui/worklist", headers=EN)).text
        assert "<h1>工作列表</h1>" in (await client.get("/ui/worklist", headers=ZH)).text
        # The user's own setting wins over the browser; the unit setting converts the task titles' glucose.
        put = await client.put("/me/preferences", headers=auth, json={"language": "zh-Hans", "glucose_unit": "mmol/L"})
        assert put.status_code == 200 and put.json() == {"language": "zh-Hans", "glucose_unit": "mmol/L"}
        page = (await client.get(f"/ui/patients/{world.patients['p1']}", headers=EN)).text
        assert '<html lang="zh-Hans">' in page and "mmol/L" in page and "3.9–10.0" in page
        # Error pages speak the reader's language too (HTTP details kept as msgid + parameters).
        missing = await client.get("/ui/patients/999999999", headers=EN)
        assert missing.status_code == 404 and "未找到患者 999999999" in missing.text and "未找到" in missing.text
        # ... while the JSON API keeps its English detail.
        api = await client.get("/patients/999999999", headers=auth)
        assert api.status_code == 404 and api.json()["detail"] == "patient 999999999 not found"
        await client.put("/me/preferences", headers=auth, json={"language": None, "glucose_unit": None})
        assert "<h1>Worklist</h1>" in (await client.get("/ui/worklist", headers=EN)).text


async def test_patient_reads_their_record_language_and_unit_unless_they_choose(database_url: str, world: World) -> None:
    async with api_client(database_url) as client:
        staff = await token(client, world.users["coord_a"])
        record = await client.patch(
            f"/patients/{world.patients['p1']}/record",
            headers=staff,
            json={"language": "zh-Hans", "glucose_unit": "mmol/L"},
        )
        assert record.status_code == 200, record.text
        await client.post("/ui/login", data={"username": world.users["p1"], "password": PASSWORD})
        page = (await client.get("/ui/me", headers=EN)).text
        assert '<html lang="zh-Hans">' in page and "我的读数" in page and "mmol/L" in page
        assert not re.search(r"\d mg/dL", page)
        own = await token(client, world.users["p1"])
        await client.put("/me/preferences", headers=own, json={"language": "en", "glucose_unit": "mg/dL"})
        page = (await client.get("/ui/me", headers=ZH)).text
        assert '<html lang="en">' in page and "My readings" in page and re.search(r"\d mg/dL", page)
