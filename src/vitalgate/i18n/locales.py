"""Which language a person reads: their own setting, then the patient's record, then Accept-Language, then the default."""

from __future__ import annotations

from vitalgate.domain import Language

# English stays the default for people with no setting and no usable Accept-Language header:
# every record made before issue 14 was written for English readers.
DEFAULT_LANGUAGE = Language.EN
# Babel (CLDR) locale of each catalog language, for dates, numbers and plural rules.
BABEL_LOCALE: dict[Language, str] = {Language.ZH_HANS: "zh_Hans_CN", Language.EN: "en"}
# Chinese tags that mean Traditional script: not served zh-Hans (RFC 4647 lookup would not match them either).
_TRADITIONAL = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")


def parse_language(tag: str | None) -> Language | None:
    """A catalog language for a BCP 47 tag ('zh-CN', 'zh_Hans', 'en-GB' ...), or None when none fits."""
    if not tag:
        return None
    norm = tag.strip().replace("_", "-").lower()
    if norm == "zh" or norm.startswith("zh-"):
        return None if norm.startswith(_TRADITIONAL) else Language.ZH_HANS
    if norm == "en" or norm.startswith("en-"):
        return Language.EN
    return None


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (q=0 dropped; ties keep their order)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _sep, rest = part.strip().partition(";")
        quality = 1.0
        for param in rest.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and quality > 0:
            ranked.append((-quality, index, tag.strip()))
    return [tag for _q, _i, tag in sorted(ranked)]


def negotiate(
    *,
    user: str | None = None,
    patient: str | None = None,
    accept_language: str | None = None,
    default: Language = DEFAULT_LANGUAGE,
) -> Language:
    """The language of a page or message: the user's own setting, the patient's record, the browser, the default."""
    for choice in (user, patient):
        language = parse_language(choice)
        if language is not None:
            return language
    for tag in parse_accept_language(accept_language):
        if tag == "*":
            break
        language = parse_language(tag)
        if language is not None:
            return language
    return default
