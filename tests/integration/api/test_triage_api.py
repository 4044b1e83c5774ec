"""Triage, reply scripts and the on-call roster over the API: scoping, re-route feedback and its
export, coordinator-only edits, one-click script use counted, roster in the team's zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.support.world import PASSWORD, api_client, token
from vitalgate.core.passwords import hash_password
from vitalgate.notify.triage import route_message
from vitalgate.store import people, time_zones
from vitalgate.store.db import connect

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


async def _seed(url: str, unique: str) -> dict[str, int]:
    conn = await connect(url)
    pw = hash_password(PASSWORD)
    ids: dict[str, int] = {}
    for team_name in ("a", "b"):
        team = await people.create_care_team(conn, f"api-triage-{team_name}-{unique}")
        await time_zones.set_team_time_zone(conn, team, "Asia/Shanghai")
        ids[f"team_{team_name}"] = team
        for role in ("coordinator", "nurse", "doctor"):
            ids[f"{role}_{team_name}"] = await people.create_user(
                conn, f"{role}-{team_name}-{unique}", f"{role.title()} {team_name.upper()}", role,
                password_hash=pw, care_team_id=team,
            )  # fmt: skip
    ids["patient"] = await people.create_patient(conn, "王阿姨", ids["team_a"], external_ref=f"api-tri-{unique}")
    await conn.execute("UPDATE patients SET language = 'zh-Hans' WHERE id = %s", (ids["patient"],))
    decision = await route_message(
        conn, patient_id=ids["patient"], text="糖尿病能吃西瓜吗", received_at=NOW, inbound_message_id=None
    )
    ids["triage"] = decision.triage_id
    await conn.commit()
    await conn.close()
    return ids


async def test_triage_list_reroute_feedback_export_and_scoping(database_url, unique):
    ids = await _seed(database_url, unique)
    async with api_client(database_url) as client:
        coord = await token(client, f"coordinator-a-{unique}")
        other = await token(client, f"coordinator-b-{unique}")
        listed = (await client.get("/triage", headers=coord, params={"patient_id": ids["patient"]})).json()
        assert [(r["id"], r["category"], r["routed_to"]) for r in listed] == [
            (ids["triage"], "education", "coordinator")
        ]
        assert (await client.get("/triage", headers=other, params={"patient_id": ids["patient"]})).json() == []
        refused = await client.post(f"/triage/{ids['triage']}/reroute", headers=other, json={"category": "medication"})
        assert refused.status_code == 404
        moved = await client.post(
            f"/triage/{ids['triage']}/reroute",
            headers=coord,
            json={"category": "medication", "note": "asks about her pills"},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["route_category"] == "medication" and moved.json()["routed_to"] == "doctor"
        export = await client.get("/triage/feedback.jsonl", headers=coord)
        lines = [json.loads(line) for line in export.text.splitlines()]
        assert export.headers["content-type"].startswith("application/x-ndjson")
        assert [(e["text"], e["label"], e["was"], e["language"]) for e in lines] == [
            ("糖尿病能吃西瓜吗", "medication", "education", "zh-Hans")
        ]
        assert (await client.get("/triage/feedback.jsonl", headers=other)).text == ""
        tried = await client.post("/triage/classify", headers=coord, json={"text": "no chest pain, meter shows E-3"})
        assert tried.json()["category"] == "device"


async def test_script_library_edit_use_and_count(database_url, unique):
    ids = await _seed(database_url, unique)
    async with api_client(database_url) as client:
        coord = await token(client, f"coordinator-a-{unique}")
        nurse = await token(client, f"nurse-a-{unique}")
        education = (await client.get("/scripts", headers=nurse, params={"category": "education"})).json()
        fruit = next(s for s in education if s["key"] == "edu.fruit")
        assert fruit["placeholders"] == ["name", "staff", "team"] and fruit["title_zh"] == "糖尿病与水果"
        script = {
            "key": f"log.parking-{unique}", "category": "logistics", "title_en": "Parking", "title_zh": "停车",
            "body_en": "Hello {name}, park at gate 3.", "body_zh": "{name}您好，请在3号门停车。", "keywords": ["parking", "停车"],
        }  # fmt: skip
        assert (await client.post("/scripts", headers=nurse, json=script)).status_code == 403
        created = await client.post("/scripts", headers=coord, json=script)
        assert created.status_code == 201, created.text
        assert (await client.post("/scripts", headers=coord, json=script)).status_code == 409
        bad = await client.post("/scripts", headers=coord, json={**script, "key": f"x-{unique}", "body_en": "Hi {name"})
        assert bad.status_code == 422
        script_id = created.json()["id"]
        edited = await client.put(
            f"/scripts/{script_id}", headers=coord, json={**script, "body_en": "Hi {name}, gate 4."}
        )
        assert edited.json()["body_en"] == "Hi {name}, gate 4."
        used = await client.post(f"/scripts/{script_id}/use", headers=nurse, json={"patient_id": ids["patient"]})
        assert used.json() == {
            "script_id": script_id,
            "locale": "zh-Hans",
            "text": "王阿姨您好，请在3号门停车。",
            "usage_count": 1,
        }
        again = await client.post(f"/scripts/{script_id}/use", headers=nurse, json={"locale": "en"})
        assert again.json()["text"] == "Hi {name}, gate 4." and again.json()["usage_count"] == 2
        other_nurse = await token(client, f"nurse-b-{unique}")
        hidden = await client.post(
            f"/scripts/{script_id}/use", headers=other_nurse, json={"patient_id": ids["patient"]}
        )
        assert hidden.status_code == 404


async def test_roster_in_the_teams_zone_and_alert_channel(database_url, unique):
    ids = await _seed(database_url, unique)
    async with api_client(database_url) as client:
        coord = await token(client, f"coordinator-a-{unique}")
        nurse = await token(client, f"nurse-a-{unique}")
        roster = [
            {"user_id": ids["nurse_a"], "weekday": 1, "starts_at": "08:00", "ends_at": "20:00", "rank": 1},
            {"user_id": ids["doctor_a"], "weekday": 1, "starts_at": "20:00", "ends_at": "08:00", "rank": 1},
        ]
        assert (await client.put(f"/care-teams/{ids['team_a']}/roster", headers=nurse, json=roster)).status_code == 403
        stranger = [{**roster[0], "user_id": ids["nurse_b"]}]
        assert (
            await client.put(f"/care-teams/{ids['team_a']}/roster", headers=coord, json=stranger)
        ).status_code == 422
        saved = await client.put(f"/care-teams/{ids['team_a']}/roster", headers=coord, json=roster)
        assert saved.status_code == 200 and saved.json()["time_zone"] == "Asia/Shanghai"
        assert (await client.get(f"/care-teams/{ids['team_b']}/roster", headers=coord)).status_code == 404
        day = await client.get(f"/care-teams/{ids['team_a']}/on-call", headers=coord, params={"at": NOW.isoformat()})
        night = await client.get(
            f"/care-teams/{ids['team_a']}/on-call", headers=coord, params={"at": "2026-03-02T15:00:00+00:00"}
        )
        assert [p["user_id"] for p in day.json()] == [ids["nurse_a"]] and day.json()[0]["reachable"] is False
        assert [p["user_id"] for p in night.json()] == [ids["doctor_a"]]  # 23:00 Monday in Shanghai
        channel = await client.put(
            "/users/me/alert-channel", headers=nurse, json={"medium": "sms", "address": "+86 138"}
        )
        assert channel.status_code == 200
        assert (await client.put("/users/me/alert-channel", headers=nurse, json={"medium": "sms"})).status_code == 422
        day = await client.get(f"/care-teams/{ids['team_a']}/on-call", headers=coord, params={"at": NOW.isoformat()})
        assert day.json()[0]["reachable"] is True


async def test_pages_reroute_insert_a_suggestion_and_edit_a_script(database_url, unique):
    import re

    ids = await _seed(database_url, unique)
    async with api_client(database_url) as client:
        await client.post("/ui/login", data={"username": f"coordinator-a-{unique}", "password": PASSWORD})
        page = await client.get("/ui/triage")
        assert page.status_code == 200 and "糖尿病能吃西瓜吗" in page.text and "糖尿病与水果" in page.text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
        fruit = re.search(r"insert=(\d+)&amp;for_triage=(\d+)", page.text)
        assert fruit is not None and int(fruit.group(2)) == ids["triage"]
        inserted = await client.get(f"/ui/triage?insert={fruit.group(1)}&for_triage={ids['triage']}")
        assert "王阿姨您好，水果可以适量吃" in inserted.text and "Coordinator A" in inserted.text
        # One click sends the suggested reply (through the conversation: rendered for her, use counted).
        send = re.search(r'action="/ui/patients/(\d+)/messages">.*?name="script_id" value="(\d+)">'
                         r'.*?name="task_id" value="(\d+)"', page.text, re.S)  # fmt: skip
        assert send is not None and int(send.group(1)) == ids["patient"]
        sent = await client.post(
            f"/ui/patients/{ids['patient']}/messages",
            data={"csrf": csrf, "script_id": send.group(2), "task_id": send.group(3)},
        )
        assert sent.status_code == 303
        conn = await connect(database_url)
        body = await conn.execute(
            "SELECT body FROM messages WHERE patient_id = %s AND direction = 'outbound'", (ids["patient"],)
        )
        assert (await body.fetchone())["body"].startswith("王阿姨您好，水果可以适量吃")
        await conn.close()
        forged = await client.post(f"/ui/triage/{ids['triage']}/reroute", data={"csrf": "0" * 32, "category": "device"})
        assert forged.status_code == 403
        moved = await client.post(f"/ui/triage/{ids['triage']}/reroute", data={"csrf": csrf, "category": "device"})
        assert moved.status_code == 303
        assert "was Education / general" in (await client.get("/ui/triage")).text
        scripts = await client.get("/ui/scripts")
        assert "Fruit and diabetes" in scripts.text and 'id="edit"' in scripts.text
        saved = await client.post(
            "/ui/scripts",
            data={"csrf": csrf, "key": f"gen.hello-{unique}", "category": "general", "title_en": "Hello",
                  "title_zh": "你好", "body_en": "Hello {name}", "body_zh": "{name}您好", "keywords": "hi，你好",
                  "active": "1"},
        )  # fmt: skip
        assert saved.status_code == 303
        listed = (
            await client.get(
                "/scripts", params={"category": "general"}, headers=await token(client, f"coordinator-a-{unique}")
            )
        ).json()
        assert {"hi", "你好"} <= set(next(s for s in listed if s["key"] == f"gen.hello-{unique}")["keywords"])
