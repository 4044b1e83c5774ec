"""SMS reply keywords in English and Chinese: confirm, decline, opt out, opt in (anything else is free text).

Only a whole message that *is* a keyword counts ("YES", "是的。", " stop "); "yes but my sugar is
low" is free text for triage. Opt-out words follow the carriers' list (STOP, STOPALL, UNSUBSCRIBE,
CANCEL, END, QUIT) and their usual Chinese counterparts (退订, TD, 取消, 取消订阅): a patient who
writes 取消 is not texted again until START / 订阅 — erring towards silence, as the carriers' rules do.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Keyword(StrEnum):
    CONFIRM = "confirm"
    DECLINE = "decline"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


_WORDS: dict[Keyword, frozenset[str]] = {
    Keyword.CONFIRM: frozenset(
        {"YES", "Y", "CONFIRM", "CONFIRMED", "OK", "是", "是的", "确认", "确定", "好", "好的", "对"}
    ),
    Keyword.DECLINE: frozenset({"NO", "N", "否", "不", "不是", "不行", "不能", "改期"}),
    Keyword.OPT_OUT: frozenset(
        {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "TD", "取消", "取消订阅", "停止"}
    ),
    Keyword.OPT_IN: frozenset({"START", "UNSTOP", "SUBSCRIBE", "订阅", "开始", "恢复"}),
}
_LOOKUP = {word: kw for kw, words in _WORDS.items() for word in words}
_TRIM = " \t\r\n.,!?;:'\"。，！？；：、…~～"


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), upper case, surrounding spaces and punctuation removed."""
    return unicodedata.normalize("NFKC", text).strip(_TRIM).upper()


def keyword_of(text: str) -> Keyword | None:
    """The keyword a whole message is, or None (free text)."""
    return _LOOKUP.get(normalise(text))
