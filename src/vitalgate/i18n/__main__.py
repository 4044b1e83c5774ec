"""`python -m vitalgate.i18n check` lists what is missing; `... add AREA` adds the missing msgids to AREA's files.

`add` writes English entries (msgstr = msgid, plural forms from the msgid) and empty Chinese ones
to translate: the completeness test fails until every zh-Hans entry has its translation.
"""

from __future__ import annotations

import argparse
import sys

from babel.messages.pofile import write_po

from vitalgate.domain import Language
from vitalgate.i18n.catalogs import po_path, read_area
from vitalgate.i18n.completeness import bad_placeholders, conflicts, missing
from vitalgate.i18n.extract import Found, extract


def _check() -> int:
    found = extract()
    problems = [f"missing {m.language}: {m.msgid!r} ({m.where})" for m in missing(found)]
    problems += [
        f"placeholders {b.language}: {b.msgid!r} {sorted(b.found)} != {sorted(b.expected)}" for b in bad_placeholders()
    ]
    problems += [f"conflict {c.language}: {c.msgid!r} in {c.areas}" for c in conflicts()]
    print("\n".join(problems) or f"complete: {len({f.msgid for f in found})} msgids in {len(Language)} languages")
    return 1 if problems else 0


def _add(area: str) -> int:
    found = extract()
    wanted: dict[str, Found] = {}
    for m in missing(found):
        wanted.setdefault(m.msgid, next(f for f in found if f.msgid == m.msgid))
    for lang in Language:
        catalog = read_area(area, lang)
        for item in wanted.values():
            if catalog.get(item.msgid) is not None:
                continue
            msgid = (item.msgid, item.plural) if item.plural else item.msgid
            english = (item.msgid, item.plural) if item.plural else item.msgid
            blank = ("",) * catalog.num_plurals if item.plural else ""
            catalog.add(msgid, english if lang == Language.EN else blank, locations=[(item.path, item.line)])
        path = po_path(area, lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=0, omit_header=False, sort_output=False, include_lineno=False)
        print(f"{path}: {len(catalog)} entries")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vitalgate.i18n", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="list missing translations, placeholder mismatches and conflicts")
    add = sub.add_parser("add", help="add every missing msgid to an area's catalogs")
    add.add_argument("area", help="catalog area (folder under vitalgate/i18n/catalogs), e.g. web, notify")
    args = parser.parse_args(argv)
    return _check() if args.command == "check" else _add(args.area)


if __name__ == "__main__":
    sys.exit(main())
