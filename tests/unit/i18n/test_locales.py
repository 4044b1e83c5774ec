"""Locale choice: the user's setting, then the patient's record, then Accept-Language, then English."""

from __future__ import annotations

from vitalgate.domain import Language
from vitalgate.i18n import negotiate, parse_accept_language, parse_language


def test_accept_language_orders_by_quality_and_drops_q0() -> None:
    assert parse_accept_language("en;q=0.5, zh-CN, de;q=0, fr;q=0.8") == ["zh-CN", "fr", "en"]
    assert parse_accept_language("") == []
    assert parse_accept_language("en;q=oops, zh") == ["zh"]


def test_tags_map_to_catalog_languages() -> None:
    assert parse_language("zh-Hans") == Language.ZH_HANS
    assert parse_language("zh_Hans_CN") == Language.ZH_HANS
    assert parse_language("zh-CN") == Language.ZH_HANS
    assert parse_language("zh") == Language.ZH_HANS
    assert parse_language("zh-TW") is None  # Traditional script: not served Simplified
    assert parse_language("zh-Hant-HK") is None
    assert parse_language("en-GB") == Language.EN
    assert parse_language("de") is None
    assert parse_language(None) is None


def test_negotiation_order() -> None:
    browser = "zh-CN,zh;q=0.9,en;q=0.8"
    assert negotiate(user="en", patient="zh-Hans", accept_language=browser) == Language.EN
    assert negotiate(user=None, patient="zh-Hans", accept_language="en") == Language.ZH_HANS
    assert negotiate(accept_language=browser) == Language.ZH_HANS
    assert negotiate(accept_language="de, zh-TW;q=0.9, en;q=0.5") == Language.EN
    assert negotiate(accept_language="de") == Language.EN
    assert negotiate(accept_language="de", default=Language.ZH_HANS) == Language.ZH_HANS
    assert negotiate(user="fr", accept_language="zh") == Language.ZH_HANS  # an unknown setting is skipped
