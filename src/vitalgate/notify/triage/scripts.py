"""Reply scripts in use: the suggestion for a message, and a script rendered for one patient."""

from __future__ import annotations

import string
from collections.abc import Mapping

import psycopg

from vitalgate.notify.triage.category import TriageCategory
from vitalgate.notify.triage.classifier import normalise
from vitalgate.store import reply_scripts as script_store
from vitalgate.store.triage_rows import ReplyScript

PLACEHOLDERS = ("name", "team", "staff")


class _KeepMissing(dict[str, str]):
    """Unknown or unfilled placeholders stay as written, so a coordinator sees what to fill in."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def placeholders(body: str) -> list[str]:
    """The {placeholders} a script body uses."""
    return [field for _, field, _, _ in string.Formatter().parse(body) if field]


def render(script: ReplyScript, locale: str, values: Mapping[str, str]) -> str:
    """The script's text in the reader's language with its placeholders filled."""
    body = script.body_zh if locale == "zh-Hans" else script.body_en
    try:
        return body.format_map(_KeepMissing({k: v for k, v in values.items() if v}))
    except (ValueError, IndexError):  # a stray brace in an edited script: send it as written
        return body


def _overlap(script: ReplyScript, text: str) -> int:
    return sum(1 for word in script.keywords if word and normalise(word) in text)


async def suggest(conn: psycopg.AsyncConnection, text: str, category: TriageCategory) -> ReplyScript | None:
    """The active script of the message's category (or general) sharing most keywords with it."""
    normalised = normalise(text)
    candidates = await script_store.listed(conn, category=str(category)) + await script_store.listed(
        conn, category="general"
    )
    scored = [(_overlap(s, normalised), s.usage_count, -s.id, s) for s in candidates]
    best = max(scored, default=None, key=lambda t: t[:3])
    return best[3] if best is not None and best[0] > 0 else None
