"""The translate calls: `t(language, msgid, **params)` anywhere, `_()` in the current language, lazy constants.

Placeholders are named, `str.format` style: t(Language.ZH_HANS, "{count} readings", count=3).
A msgid with no catalog entry falls back to the English msgid (gettext's rule); the completeness
test keeps that from happening in a release.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from markupsafe import escape

from vitalgate.domain import Language
from vitalgate.i18n.catalogs import translations
from vitalgate.i18n.locales import DEFAULT_LANGUAGE, parse_language
from vitalgate.i18n.values import english

_current: ContextVar[Language] = ContextVar("vitalgate_language", default=DEFAULT_LANGUAGE)


class LazyText:
    """A msgid marked at import time and translated when shown (module-level labels, dict values).

    str() gives it in the current language (see `using`); `t(language, lazy_text)` in a given one.
    """

    __slots__ = ("msgid",)

    def __init__(self, msgid: str) -> None:
        self.msgid = msgid

    def __str__(self) -> str:
        return t(_current.get(), self.msgid)

    def __html__(self) -> str:  # Jinja escapes what __str__ gives (markupsafe's protocol)
        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"lazy({self.msgid!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LazyText) and other.msgid == self.msgid

    def __hash__(self) -> int:
        return hash(self.msgid)

    def render(self, language: Language | str, **params: Any) -> str:
        return t(language, self.msgid, **params)


def N_(msgid: str) -> str:
    """Mark a string for the catalogs and keep it as it is: an English text (e.g. an HTTP error detail)
    translated where it is shown, by `t(language, text)` / `_(text)` in a template."""
    return msgid


class Msg(str):
    """An English message with its msgid and parameters kept, for text that travels before it is shown.

    It *is* the English string (JSON error details of the API stay English and unchanged); a page
    shows it in the reader's language with `t(language, msg)` or `_(msg)`:
        raise HTTPException(409, detail=Msg("device {serial} is already paired with this patient", serial=s))
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Msg:
        self = super().__new__(cls, english(msgid, params))
        self.msgid, self.params = msgid, params
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (and copies) as the plain English text
        return (str, (str(self),))


def lazy(msgid: str) -> LazyText:
    """Mark a module-level string for translation; it is translated each time it is shown."""
    return LazyText(msgid)


def as_language(language: Language | str | None) -> Language:
    """A Language from a stored or given tag; the default for None or a language without a catalog."""
    if isinstance(language, Language):
        return language
    return parse_language(language) or DEFAULT_LANGUAGE


def _fill(text: str, language: Language, params: Mapping[str, Any]) -> str:
    if not params:
        return text
    values = {k: t(language, v.msgid) if isinstance(v, LazyText) else v for k, v in params.items()}
    return text.format_map(values)


def t(language: Language | str | None, msgid: str | LazyText, /, **params: Any) -> str:
    """The translation of msgid in language, with its named {placeholders} filled from params."""
    lang = as_language(language)
    if isinstance(msgid, Msg):
        return _fill(translations(lang).gettext(msgid.msgid), lang, {**msgid.params, **params})
    key = msgid.msgid if isinstance(msgid, LazyText) else msgid
    return _fill(translations(lang).gettext(key), lang, params)


def tn(language: Language | str | None, singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The plural form for n (CLDR rules of the language); {n} is filled too."""
    lang = as_language(language)
    return _fill(translations(lang).ngettext(singular, plural, n), lang, {"n": n, **params})


def current_language() -> Language:
    """The language of the page or message being rendered (set by `using`)."""
    return _current.get()


@contextmanager
def using(language: Language | str | None) -> Iterator[Language]:
    """Render in this language inside the block (templates' `_` and str() of lazy strings follow it)."""
    lang = as_language(language)
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


def _(msgid: str | LazyText, /, **params: Any) -> str:
    """`t` in the current language: for templates and code that runs inside `using`."""
    return t(_current.get(), msgid, **params)


def _n(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """`tn` in the current language."""
    return tn(_current.get(), singular, plural, n, **params)
