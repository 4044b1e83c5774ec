"""Words for stored values shown on pages (statuses, roles, channels, record vocabulary), translated when shown."""

from __future__ import annotations

from collections.abc import Iterable

from vitalgate.domain import ChannelKind, DeviceKind, Language, MeasurementKind, Role, Severity, TaskStatus
from vitalgate.i18n import LazyText, current_language, lazy

ROLE: dict[str, LazyText] = {
    Role.PATIENT: lazy("patient"),
    Role.COORDINATOR: lazy("coordinator"),
    Role.NURSE: lazy("nurse"),
    Role.DOCTOR: lazy("doctor"),
    Role.ADMIN: lazy("admin"),
    Role.CAREGIVER: lazy("caregiver"),
}
# A task's next step on the worklist is its channel.
CHANNEL: dict[str, LazyText] = {
    ChannelKind.MESSAGE: lazy("app message"),
    ChannelKind.QUESTIONNAIRE: lazy("questionnaire link"),
    ChannelKind.VOICE: lazy("voice message"),
    ChannelKind.PHONE: lazy("phone call"),
    ChannelKind.DOCTOR: lazy("doctor review"),
    ChannelKind.COORDINATOR: lazy("coordinator check"),
}
SEVERITY: dict[str, LazyText] = {
    Severity.URGENT: lazy("Urgent"),
    Severity.HIGH: lazy("High"),
    Severity.ROUTINE: lazy("Routine"),
}
VOCABULARY: dict[str, dict[str, LazyText]] = {
    "role": dict(ROLE),
    "severity": dict(SEVERITY),
    "channel": dict(CHANNEL),
    "task_status": {
        TaskStatus.OPEN: lazy("open"),
        TaskStatus.IN_PROGRESS: lazy("in progress"),
        TaskStatus.DONE: lazy("done"),
        TaskStatus.CANCELLED: lazy("cancelled"),
    },
    "alert_status": {"open": lazy("open"), "acknowledged": lazy("acknowledged"), "resolved": lazy("resolved")},
    "device": {DeviceKind.GLUCOSE_METER: lazy("Glucose meter"), DeviceKind.BP_CUFF: lazy("Blood-pressure cuff")},
    "measurement": {MeasurementKind.GLUCOSE: lazy("Glucose"), MeasurementKind.BLOOD_PRESSURE: lazy("Blood pressure")},
    "event": {
        "created": lazy("created"),
        "acknowledged": lazy("acknowledged"),
        "escalation_scheduled": lazy("follow-up steps planned"),
        "escalation_advanced": lazy("escalated"),
        "escalation_exhausted": lazy("no follow-up step left"),
        "outcome": lazy("outcome"),
        "closed": lazy("closed"),
        "referred_to_doctor": lazy("referred to doctor"),
        "severity_raised": lazy("severity raised"),
        "episode_added": lazy("new finding added"),
        "touchpoint_held": lazy("held for quiet hours"),
        "touchpoint_skipped": lazy("skipped (no consent)"),
        "delivery": lazy("delivered"),
        "sop_scheduled": lazy("reminders planned"),
        "sop_confirmed": lazy("visit confirmed"),
        "sop_cancelled": lazy("reminders cancelled"),
    },
    "sex": {"female": lazy("female"), "male": lazy("male"), "other": lazy("other"), "unknown": lazy("unknown")},
    "journey": {
        "newly_diagnosed": lazy("newly diagnosed"),
        "post_operative": lazy("post-operative"),
        "chemotherapy": lazy("chemotherapy"),
        "rehabilitation": lazy("rehabilitation"),
        "long_term": lazy("long-term"),
    },
    "language": {"zh-Hans": lazy("Simplified Chinese"), "en": lazy("English")},
    "contact": {"sms": lazy("SMS"), "phone": lazy("phone"), "email": lazy("e-mail"), "app": lazy("app")},
    "relationship": {
        "spouse": lazy("spouse"),
        "child": lazy("child"),
        "parent": lazy("parent"),
        "sibling": lazy("sibling"),
        "family": lazy("family"),
        "friend": lazy("friend"),
        "guardian": lazy("guardian"),
        "other": lazy("other"),
    },
    "purpose": {
        "monitoring": lazy("monitoring"),
        "contact": lazy("contact"),
        "share_caregiver": lazy("sharing with a caregiver"),
        "research": lazy("research"),
    },
    "decision": {"given": lazy("given"), "withdrawn": lazy("withdrawn")},
    "given_by": {"patient": lazy("patient"), "guardian": lazy("guardian"), "staff": lazy("staff")},
    "preset": {"standard": lazy("standard"), "older_adult": lazy("older adult"), "pregnancy": lazy("pregnancy")},
}


def label(vocabulary: str, value: object) -> str:
    """The word for a stored value in the current language; the value itself when it has none."""
    if value is None:
        return "—"
    word = VOCABULARY.get(vocabulary, {}).get(str(value))
    return str(word) if word is not None else str(value).replace("_", " ")


def labels(vocabulary: str, values: Iterable[object]) -> str:
    """Several words joined as the language lists them ('urgent, high' / '紧急、高')."""
    separator = "、" if current_language() == Language.ZH_HANS else ", "
    return separator.join(label(vocabulary, v) for v in values)
