"""Reply scripts render in the reader's language with their placeholders; unfilled ones stay visible."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from vitalgate.notify.triage.scripts import placeholders, render
from vitalgate.store.triage_rows import ReplyScript

SCRIPT = ReplyScript(
    1, "edu.fruit", "education", "Fruit", "水果", "Hello {name}, from {team}. — {staff}", "{name}您好。——{team} {staff}",
    ["fruit", "水果"], True, 0, None, datetime(2026, 3, 2, tzinfo=UTC),
)  # fmt: skip


def test_render_fills_placeholders_in_the_readers_language() -> None:
    values = {"name": "王阿姨", "team": "内分泌随访组", "staff": "李护士"}
    assert render(SCRIPT, "zh-Hans", values) == "王阿姨您好。——内分泌随访组 李护士"
    assert (
        render(SCRIPT, "en", {"name": "Mr Lee", "team": "Team A", "staff": "Ann"}) == "Hello Mr Lee, from Team A. — Ann"
    )


def test_unfilled_placeholders_stay_and_stray_braces_do_not_break_a_reply() -> None:
    assert render(SCRIPT, "en", {"name": "Mr Lee", "staff": ""}) == "Hello Mr Lee, from {team}. — {staff}"
    broken = replace(SCRIPT, body_en="Hi {name")
    assert render(broken, "en", {"name": "X"}) == "Hi {name"


def test_placeholders_are_listed_and_unbalanced_braces_refused() -> None:
    assert placeholders(SCRIPT.body_en) == ["name", "team", "staff"]
    with pytest.raises(ValueError):
        placeholders("Hi {name")
