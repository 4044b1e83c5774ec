"""Message text: a template key + params + locale -> subject and body, with the signed link.

The minimum by default: who writes (the care team), what is asked, and the link; never a value or
a diagnosis unless the patient's program enables it (`include_values`) and the producer passed
one (`params["reading"]`, already formatted with its unit). Caregivers read about "your family
member", never the patient's name. Strings are msgids of the i18n area `notify` (zh-Hans, en).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vitalgate.i18n import t
from vitalgate.notify.template_texts import CAREGIVER_TEXTS, COMMON, PATIENT_TEXTS

DEFAULT_TEMPLATE = "check-in"


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str


def render(
    template: str,
    params: dict[str, Any],
    locale: str,
    *,
    caregiver: bool = False,
    link: str | None = None,
    include_values: bool = False,
) -> Rendered:
    """The subject and text of one message in `locale` (unknown templates fall back to a plain check-in)."""
    texts = CAREGIVER_TEXTS if caregiver else PATIENT_TEXTS
    subject_id, body_id = texts.get(template) or texts[DEFAULT_TEMPLATE]
    parts = [t(locale, body_id)]
    if include_values and params.get("reading"):
        parts.append(t(locale, COMMON["reading"], reading=params["reading"]))
    if link:
        parts.append(t(locale, COMMON["link"], link=link))
    return Rendered(t(locale, subject_id), "\n".join(parts))


def known_templates() -> frozenset[str]:
    return frozenset(PATIENT_TEXTS)
