"""Dates, times, numbers and durations formatted by language (Babel/CLDR), times in the patient's zone.

Named formats, not strftime strings, so each language gets its own order and words:
    datetime  en "05 Oct 2026 07:30"   zh-Hans "2026年10月5日 07:30"
    short     en "05 Oct 07:30"        zh-Hans "10月5日 07:30"
    date      en "05 Oct 2026"         zh-Hans "2026年10月5日"
    time      "07:30" (24-hour clock in both)
English keeps the day-month-year house style of the pages (unambiguous across countries); other
languages take CLDR's skeletons, so a new catalog language needs no pattern here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from babel import Locale
from babel.dates import format_datetime as babel_datetime
from babel.dates import format_skeleton, format_timedelta
from babel.numbers import format_decimal

from vitalgate.core.localtime import ZoneHistory, local_datetime
from vitalgate.domain import Language
from vitalgate.i18n.locales import BABEL_LOCALE
from vitalgate.i18n.translate import as_language

# CLDR skeletons of the date part of each format (None: no date); the time part is always "Hm".
SKELETONS: dict[str, str | None] = {"datetime": "yMMMd", "short": "MMMd", "date": "yMMMd", "time": None}
_WITH_TIME = frozenset({"datetime", "short", "time"})
_EN_PATTERNS = {"datetime": "dd MMM y HH:mm", "short": "dd MMM HH:mm", "date": "dd MMM y", "time": "HH:mm"}


@lru_cache(maxsize=16)
def babel_locale(language: Language) -> Locale:
    return Locale.parse(BABEL_LOCALE[language])


def format_local(value: datetime, language: Language | str | None, fmt: str = "datetime") -> str:
    """An aware local datetime (already in the zone to show) in a named format."""
    lang = as_language(language)
    if fmt not in SKELETONS:
        raise ValueError(f"unknown date format {fmt!r}: one of {sorted(SKELETONS)}")
    if lang == Language.EN:
        return babel_datetime(value, _EN_PATTERNS[fmt], tzinfo=value.tzinfo, locale=babel_locale(lang))
    locale = babel_locale(lang)
    skeleton = SKELETONS[fmt]
    parts = [format_skeleton(skeleton, value, tzinfo=value.tzinfo, locale=locale)] if skeleton else []
    if fmt in _WITH_TIME:
        parts.append(format_skeleton("Hm", value, tzinfo=value.tzinfo, locale=locale))
    return " ".join(parts)


def format_instant(
    instant: datetime, where: ZoneHistory | str, language: Language | str | None, fmt: str = "datetime"
) -> str:
    """An instant as local time in a zone (or a patient's zone history), in the language's format."""
    return format_local(local_datetime(instant, where), language, fmt)


def format_number(value: float, language: Language | str | None, decimals: int = 0) -> str:
    """A number with exactly `decimals` decimals and the language's separators ('1,234.5')."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, pattern, locale=babel_locale(as_language(language)))


def format_relative(delta: timedelta, language: Language | str | None) -> str:
    """'in 12 minutes' / '3 hours ago' ('12分钟后' / '3小时前'): how a coordinator reads due times."""
    return format_timedelta(
        delta,
        granularity="minute",
        threshold=2,
        add_direction=True,
        format="short",
        locale=babel_locale(as_language(language)),
    )
