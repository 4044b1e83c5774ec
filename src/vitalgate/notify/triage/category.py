"""The triage vocabulary: what a message is about and how sure the classifier is."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TriageCategory(StrEnum):
    """What an inbound free-text message needs, in order of who must see it first."""

    URGENT_CLINICAL = "urgent_clinical"
    MEDICATION = "medication"
    DEVICE = "device"
    LOGISTICS = "logistics"
    EDUCATION = "education"


# Mixed messages go to the first of these that scored (a medication question beats a device one).
PRECEDENCE: tuple[TriageCategory, ...] = tuple(TriageCategory)


@dataclass(frozen=True, slots=True)
class TriageResult:
    """A classification: its category, a confidence in [0, 1] and whether a person must look first."""

    category: TriageCategory
    confidence: float
    needs_person: bool
    # The phrases that decided it, shown to staff next to the message ("chest pain", "血糖 2.6").
    evidence: tuple[str, ...] = ()
