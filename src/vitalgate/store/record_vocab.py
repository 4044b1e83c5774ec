"""The patient record's vocabulary (stored values): sex, journey stage, language, units, channels, consent."""

from __future__ import annotations

from enum import StrEnum

# Language and GlucoseUnit moved to the shared vocabulary (i18n uses them); re-exported for callers.
from vitalgate.domain import GlucoseUnit as GlucoseUnit
from vitalgate.domain import Language as Language


class Sex(StrEnum):
    # FHIR administrative-gender codes, so the export needs no mapping.
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class JourneyStage(StrEnum):
    """Where the patient is in their care pathway (cohorts select on it later)."""

    NEWLY_DIAGNOSED = "newly_diagnosed"
    POST_OPERATIVE = "post_operative"
    CHEMOTHERAPY = "chemotherapy"
    REHABILITATION = "rehabilitation"
    LONG_TERM = "long_term"


class ContactChannel(StrEnum):
    """How a person is reached; sms and phone (calls) both use the phone number."""

    SMS = "sms"
    PHONE = "phone"
    EMAIL = "email"
    APP = "app"


class Relationship(StrEnum):
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    FAMILY = "family"
    FRIEND = "friend"
    GUARDIAN = "guardian"
    OTHER = "other"


class ConsentPurpose(StrEnum):
    MONITORING = "monitoring"
    CONTACT = "contact"  # with a channel
    SHARE_CAREGIVER = "share_caregiver"  # with a caregiver id
    RESEARCH = "research"


class ConsentDecision(StrEnum):
    GIVEN = "given"
    WITHDRAWN = "withdrawn"


class GivenBy(StrEnum):
    PATIENT = "patient"
    GUARDIAN = "guardian"
    STAFF = "staff"  # on the patient's behalf (e.g. a verbal consent by phone)


class TargetPreset(StrEnum):
    STANDARD = "standard"
    OLDER_ADULT = "older_adult"
    PREGNANCY = "pregnancy"
