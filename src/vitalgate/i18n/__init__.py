"""Languages and catalogs: translate calls, lazy strings, locale choice, Babel formatting (see README.md)."""

from vitalgate.domain import Language
from vitalgate.i18n.formatting import format_instant, format_local, format_number, format_relative
from vitalgate.i18n.locales import DEFAULT_LANGUAGE, negotiate, parse_accept_language, parse_language
from vitalgate.i18n.translate import N_, LazyText, Msg, _, _n, as_language, current_language, lazy, t, tn, using

__all__ = [
    "DEFAULT_LANGUAGE",
    "N_",
    "Language",
    "LazyText",
    "Msg",
    "_",
    "_n",
    "as_language",
    "current_language",
    "format_instant",
    "format_local",
    "format_number",
    "format_relative",
    "lazy",
    "negotiate",
    "parse_accept_language",
    "parse_language",
    "t",
    "tn",
    "using",
]
