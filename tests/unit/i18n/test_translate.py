"""Translate calls against catalogs written by the test (tmp catalog dir) and the shipped ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from vitalgate.domain import Language
from vitalgate.i18n import catalogs, lazy, t, tn, using
from vitalgate.i18n.completeness import bad_placeholders, conflicts, missing, placeholders
from vitalgate.i18n.extract import Found
from vitalgate.i18n.jinja import install

ZH_PO = """
msgid ""
msgstr ""
"Plural-Forms: nplurals=1; plural=0;\\n"

msgid "Low glucose: {value} {unit}"
msgstr "低血糖：{value} {unit}"

msgid "{n} reading"
msgid_plural "{n} readings"
msgstr[0] "{n} 次读数"

msgid "Urgent"
msgstr "紧急"

msgid "Fuzzy one"
msgstr "模糊"
"""
ZH_PO_FUZZY = ZH_PO.replace('msgid "Fuzzy one"', '#, fuzzy\nmsgid "Fuzzy one"')
EN_PO = """
msgid ""
msgstr ""
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "Low glucose: {value} {unit}"
msgstr "Low glucose: {value} {unit}"

msgid "{n} reading"
msgid_plural "{n} readings"
msgstr[0] "{n} reading"
msgstr[1] "{n} readings"

msgid "Urgent"
msgstr "Urgent"
"""


@pytest.fixture
def catalog_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    area = tmp_path / "tasks"
    area.mkdir()
    (area / "zh_Hans.po").write_text(ZH_PO_FUZZY, encoding="utf-8")
    (area / "en.po").write_text(EN_PO, encoding="utf-8")
    monkeypatch.setattr(catalogs, "CATALOG_DIR", tmp_path)
    catalogs.reload()
    yield tmp_path
    catalogs.reload()


def test_named_placeholders_and_plurals(catalog_dir: Path) -> None:
    assert t(Language.ZH_HANS, "Low glucose: {value} {unit}", value="3.0", unit="mmol/L") == "低血糖：3.0 mmol/L"
    assert t("en", "Low glucose: {value} {unit}", value=54, unit="mg/dL") == "Low glucose: 54 mg/dL"
    assert tn("zh-Hans", "{n} reading", "{n} readings", 3) == "3 次读数"
    assert tn("en", "{n} reading", "{n} readings", 1) == "1 reading"
    assert tn("en", "{n} reading", "{n} readings", 2) == "2 readings"
    # No entry: gettext's fallback to the English msgid; a fuzzy entry does not count.
    assert t("zh-Hans", "Not in any catalog") == "Not in any catalog"
    assert t("zh-Hans", "Fuzzy one") == "Fuzzy one"


def test_lazy_strings_follow_the_language_they_are_shown_in(catalog_dir: Path) -> None:
    urgent = lazy("Urgent")
    with using("zh-Hans"):
        assert str(urgent) == "紧急"
        assert t("en", urgent) == "Urgent"
    assert str(urgent) == "Urgent"
    assert urgent.render(Language.ZH_HANS) == "紧急"


def test_templates_translate_in_the_language_of_the_rendering(catalog_dir: Path) -> None:
    from jinja2 import DictLoader, Environment

    env = Environment(
        loader=DictLoader({"m.html": '{% macro v(x) %}{{ _("Urgent") }}:{{ x }}{% endmacro %}'}), autoescape=True
    )
    install(env)
    page = env.from_string(
        '{% from "m.html" import v %}{{ _("Low glucose: {value} {unit}", value=v2, unit="<b>") }} {{ v(1) }} '
        '{{ _n("{n} reading", "{n} readings", 3) }} {{ label }}'
    )
    with using(Language.ZH_HANS):
        html = page.render(v2="3.0", label=lazy("Urgent"))
    assert html == "低血糖：3.0 &lt;b&gt; 紧急:1 3 次读数 紧急"


def test_completeness_finds_missing_and_bad_placeholders(catalog_dir: Path) -> None:
    used = [
        Found("Urgent", None, "x.py", 1),
        Found("Only used here", None, "y.html", 2),
        Found("Fuzzy one", None, "z", 3),
    ]
    gaps = {(m.language, m.msgid) for m in missing(used, catalog_dir)}
    assert gaps == {
        (Language.ZH_HANS, "Only used here"),
        (Language.EN, "Only used here"),
        (Language.ZH_HANS, "Fuzzy one"),
        (Language.EN, "Fuzzy one"),
    }
    assert bad_placeholders(catalog_dir) == []
    (catalog_dir / "tasks" / "zh_Hans.po").write_text(
        ZH_PO.replace("低血糖：{value} {unit}", "低血糖"), encoding="utf-8"
    )
    bad = bad_placeholders(catalog_dir)
    assert [(b.language, b.msgid, sorted(b.found)) for b in bad] == [
        (Language.ZH_HANS, "Low glucose: {value} {unit}", [])
    ]


def test_conflicting_areas_are_reported(catalog_dir: Path) -> None:
    other = catalog_dir / "web"
    other.mkdir()
    (other / "zh_Hans.po").write_text('msgid "Urgent"\nmsgstr "急"\n', encoding="utf-8")
    found = conflicts(catalog_dir)
    assert [(c.language, c.msgid, c.areas) for c in found] == [(Language.ZH_HANS, "Urgent", ("tasks", "web"))]


def test_placeholders_parser() -> None:
    assert placeholders("{a} and {b:.1f} {{literal}}") == {"a", "b"}


def test_python_extraction_tells_a_call_of_t_from_an_attribute(tmp_path: Path) -> None:
    """`sub.t[...]` and `zones.t(x, "short")` are not messages, and do not hide the real calls after them."""
    from vitalgate.i18n.extract import extract

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "m.py").write_text(
        "x = sub.t[np.maximum(a, 0)]\n"
        "y = zones.t(value, 'short')\n"
        "z = Msg('{title}: {a} -> {b}', title=rule.title, a=glucose(float(p[j])), b=MG_DL)\n"
        "w = t(language, 'Hello {name}', name=n)\n"
        "v = tn(language, '{n} day', '{n} days', k)\n",
        encoding="utf-8",
    )
    found = {(f.msgid, f.plural) for f in extract(pkg)}
    assert found == {("{title}: {a} -> {b}", None), ("Hello {name}", None), ("{n} day", "{n} days")}
