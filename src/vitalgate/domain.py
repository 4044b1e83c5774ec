"""The shared vocabulary of VitalGate: one home for the words every package uses.

Each is a StrEnum, so a member *is* its string: the values stored in PostgreSQL, sent over MQTT
and HTTP and written in TOML files stay exactly these strings, and `Severity.URGENT == "urgent"`.
This module imports nothing of the project.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How fast a finding needs a person (alerts, tasks, escalation chains)."""

    URGENT = "urgent"
    HIGH = "high"
    ROUTINE = "routine"


class TaskStatus(StrEnum):
    """Where a follow-up task is: open -> in_progress -> done (or cancelled)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


ACTIVE_TASK_STATUSES: tuple[TaskStatus, ...] = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)
CLOSED_TASK_STATUSES: tuple[TaskStatus, ...] = (TaskStatus.DONE, TaskStatus.CANCELLED)


class Outcome(StrEnum):
    """What a coordinator records for a task: reached / resolved / emergency close it."""

    REACHED = "reached"
    NOT_REACHED = "not_reached"
    RESOLVED = "resolved"
    REFERRED_TO_DOCTOR = "referred_to_doctor"
    EMERGENCY = "emergency"


CLOSING_OUTCOMES: tuple[Outcome, ...] = (Outcome.REACHED, Outcome.RESOLVED, Outcome.EMERGENCY)


class Role(StrEnum):
    """A user's role: patients see their own record, staff work the worklist, admins manage users,
    caregivers read the records patients share with them."""

    PATIENT = "patient"
    COORDINATOR = "coordinator"
    NURSE = "nurse"
    DOCTOR = "doctor"
    ADMIN = "admin"
    CAREGIVER = "caregiver"


STAFF_ROLES: frozenset[Role] = frozenset({Role.COORDINATOR, Role.NURSE, Role.DOCTOR})


class DeviceKind(StrEnum):
    """A supported device: a Glucose Service meter (0x1808) or a Blood Pressure Service cuff (0x1810)."""

    GLUCOSE_METER = "glucose_meter"
    BP_CUFF = "bp_cuff"


class MeasurementKind(StrEnum):
    """What a reading measures."""

    GLUCOSE = "glucose"
    BLOOD_PRESSURE = "blood_pressure"


MEASUREMENT_OF_DEVICE: dict[DeviceKind, MeasurementKind] = {
    DeviceKind.GLUCOSE_METER: MeasurementKind.GLUCOSE,
    DeviceKind.BP_CUFF: MeasurementKind.BLOOD_PRESSURE,
}


class ChannelKind(StrEnum):
    """A step of an escalation chain: who or what reaches out to the patient (or takes over)."""

    MESSAGE = "message"
    QUESTIONNAIRE = "questionnaire"
    VOICE = "voice"
    PHONE = "phone"
    DOCTOR = "doctor"
    COORDINATOR = "coordinator"


class LinkPurpose(StrEnum):
    """What a signed link in a message opens (vitalgate.notify.links): one page, one question."""

    CHECK_IN = "check_in"  # "I'm OK" / "Please call me"
    VISIT = "visit"  # confirm the visit / ask to move it
    QUESTIONNAIRE = "questionnaire"  # served by vitalgate.questionnaires
    STAFF_ACK = "staff_ack"  # a staff member acknowledges a task from a notification
    INBOX = "inbox"  # the patient's (or caregiver's) conversation with the care team


class LinkAnswer(StrEnum):
    """The answer recorded on a link (each purpose accepts its own subset, notify.links.ANSWERS)."""

    OK = "ok"
    CALL_ME = "call_me"
    CONFIRM = "confirm"
    MOVE = "move"
    ACKNOWLEDGED = "acknowledged"
    SUBMITTED = "submitted"


class DeliveryStatus(StrEnum):
    """Where one outbound message is in the delivery ledger (store.deliveries, vitalgate.notify).

    queued -> sending -> sent -> delivered | failed | undelivered; a send that keeps failing ends
    dead after the bounded retries (the staff-visible dead-letter list); cancelled when an
    acknowledgement or confirmation made it unnecessary before it left.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    DEAD = "dead"
    CANCELLED = "cancelled"


PENDING_DELIVERY_STATUSES: tuple[DeliveryStatus, ...] = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


class RecipientKind(StrEnum):
    """Who a delivery is for: the patient, one of their caregivers, or a staff member."""

    PATIENT = "patient"
    CAREGIVER = "caregiver"
    STAFF = "staff"


class Medium(StrEnum):
    """How a delivery reaches its recipient. `call` is a call a person makes (a call task), not a message."""

    SMS = "sms"
    EMAIL = "email"
    APP = "app"
    VOICE = "voice"
    CALL = "call"


class CallOutcome(StrEnum):
    """What the person who made a call task's call records."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    VOICEMAIL = "voicemail"


class Language(StrEnum):
    """BCP 47 tags of the shipped message catalogs (vitalgate.i18n); more by adding a catalog."""

    ZH_HANS = "zh-Hans"
    EN = "en"


class GlucoseUnit(StrEnum):
    """How glucose is shown to a person; it is always stored in mg/dL."""

    MG_DL = "mg/dL"
    MMOL_L = "mmol/L"
