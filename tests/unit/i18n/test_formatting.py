"""Babel formatting by language, times in the patient's zone (Asia/Shanghai, a zone history)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vitalgate.core.localtime import ZoneHistory, ZoneSpan
from vitalgate.i18n import format_instant, format_number, format_relative

# 23:30 UTC on 4 Oct is 07:30 on 5 Oct in Shanghai (UTC+8).
INSTANT = datetime(2026, 10, 4, 23, 30, tzinfo=UTC)


def test_dates_in_the_patients_zone_by_language() -> None:
    assert format_instant(INSTANT, "Asia/Shanghai", "zh-Hans") == "2026年10月5日 07:30"
    assert format_instant(INSTANT, "Asia/Shanghai", "en") == "05 Oct 2026 07:30"
    assert format_instant(INSTANT, "Asia/Shanghai", "zh-Hans", "short") == "10月5日 07:30"
    assert format_instant(INSTANT, "Asia/Shanghai", "en", "short") == "05 Oct 07:30"
    assert format_instant(INSTANT, "Asia/Shanghai", "zh-Hans", "date") == "2026年10月5日"
    assert format_instant(INSTANT, "UTC", "en", "time") == "23:30"


def test_zone_history_keeps_the_local_time_of_then() -> None:
    moved = datetime(2026, 10, 10, tzinfo=UTC)
    history = ZoneHistory((ZoneSpan("Europe/Berlin"), ZoneSpan("Asia/Shanghai", moved)))
    assert format_instant(INSTANT, history, "en", "time") == "01:30"  # Berlin, CEST, before the move
    assert format_instant(moved + timedelta(hours=1), history, "en", "time") == "09:00"


def test_numbers_and_durations() -> None:
    assert format_number(3.04, "zh-Hans", 1) == "3.0"
    assert format_number(12345.6, "en", 1) == "12,345.6"
    assert format_number(99.6, "en") == "100"
    assert format_relative(timedelta(minutes=12), "zh-Hans") == "12分钟后"
    assert format_relative(timedelta(hours=-3), "zh-Hans") == "3小时前"
    assert format_relative(timedelta(minutes=12), "en") == "in 12 min."
