"""Every user-visible msgid in the code and templates has a zh-Hans and an en entry (the shipped catalogs)."""

from __future__ import annotations

from vitalgate.i18n.completeness import bad_placeholders, conflicts, missing
from vitalgate.i18n.extract import extract


def test_every_msgid_in_use_is_translated_in_every_language() -> None:
    found = extract()
    gaps = [f"{m.language}: {m.msgid!r} used at {m.where}" for m in missing(found)]
    assert not gaps, "untranslated (run `python -m vitalgate.i18n add AREA`, then translate):\n" + "\n".join(gaps)


def test_translations_keep_their_placeholders() -> None:
    bad = [f"{b.language}: {b.msgid!r} has {sorted(b.found)}, wants {sorted(b.expected)}" for b in bad_placeholders()]
    assert not bad, "\n".join(bad)


def test_areas_do_not_translate_one_msgid_differently() -> None:
    assert not conflicts(), conflicts()


def test_extraction_sees_python_and_template_strings() -> None:
    """The extractor itself works: it finds known marks in both kinds of file (so 'nothing missing' means something)."""
    found = extract()
    paths = {f.path for f in found}
    assert any(p.endswith(".py") for p in paths) and any(p.endswith(".html") for p in paths), paths
