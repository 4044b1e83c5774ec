"""Enrolment at scale: CSV (or FHIR Bundle) rows validated one by one, then written in COPY batches.

A rejected row changes nothing; all accepted rows commit in one transaction (nothing half-imported);
a patient whose external id the program already has is reported as unchanged (a re-run is a no-op).
The CSV columns are listed in README.md ("Enrolling patients") and in COLUMNS below.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from vitalgate.api.record_models import CaregiverIn, ExternalId, RecordFields, check_record
from vitalgate.store import enrolment
from vitalgate.store.enrolment import EnrolCaregiver, EnrolConsent, EnrolPatient
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose, ContactChannel, GivenBy

BATCH_ROWS = 2_000
# Multi-valued cells are separated by ';'; a condition is CODE[:type[:stage[:subtype]]].
COLUMNS = (
    "external_id", "display_name", "care_team", "birth_date", "birth_year", "sex", "journey_stage", "language",
    "glucose_unit", "time_zone", "phone", "email", "app_id", "preferred_channel", "target_preset", "conditions",
    "tags", "caregiver_name", "caregiver_relationship", "caregiver_phone", "caregiver_email", "caregiver_language",
    "caregiver_alerts", "caregiver_reminders", "consent_version", "consent_date", "consent_given_by",
    "consent_given_by_name", "consent_channels", "consent_share_caregiver", "consent_research",
)  # fmt: skip
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}


class ConsentAtEnrolment(BaseModel):
    """Consents collected on the enrolment form (all given): monitoring, the listed channels, optional extras."""

    model_config = ConfigDict(extra="forbid")

    text_version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    effective_at: datetime | None = None
    given_by: GivenBy = GivenBy.PATIENT
    given_by_name: str | None = None
    channels: list[ContactChannel] = Field(default_factory=list)
    share_caregiver: bool = False
    research: bool = False

    @model_validator(mode="after")
    def _guardian(self) -> ConsentAtEnrolment:
        if self.given_by is GivenBy.GUARDIAN and not self.given_by_name:
            raise ValueError("a guardian's consent names the guardian (consent_given_by_name)")
        if self.effective_at is not None and self.effective_at.tzinfo is None:
            self.effective_at = self.effective_at.replace(tzinfo=UTC)
        return self


class ImportConsent(BaseModel):
    """One explicit decision (FHIR Consent): share_caregiver names the caregiver of the same row."""

    model_config = ConfigDict(extra="forbid")

    purpose: ConsentPurpose
    decision: ConsentDecision
    text_version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    effective_at: datetime
    channel: ContactChannel | None = None
    caregiver_name: str | None = None
    given_by: GivenBy = GivenBy.PATIENT
    given_by_name: str | None = None

    @model_validator(mode="after")
    def _scope(self) -> ImportConsent:
        if (self.purpose is ConsentPurpose.CONTACT) != (self.channel is not None):
            raise ValueError("a contact consent has a channel, and only it")
        if (self.purpose is ConsentPurpose.SHARE_CAREGIVER) != (self.caregiver_name is not None):
            raise ValueError("a share_caregiver consent names its caregiver, and only it")
        if self.effective_at.tzinfo is None:
            self.effective_at = self.effective_at.replace(tzinfo=UTC)
        return self


class ImportRow(RecordFields):
    external_id: ExternalId
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    care_team: str | None = None
    time_zone: str | None = None
    tags: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$")]] = Field(default_factory=list)
    caregivers: list[CaregiverIn] = Field(default_factory=list, max_length=10)
    consent: ConsentAtEnrolment | None = None  # the CSV's summary columns
    consent_records: list[ImportConsent] = Field(default_factory=list, max_length=100)  # FHIR Consents

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r} (use an IANA name, e.g. Asia/Shanghai)") from exc
        return value

    @model_validator(mode="after")
    def _whole(self) -> ImportRow:
        check_record(self.model_dump(mode="json"))
        names = [c.name for c in self.caregivers]
        if len(set(names)) != len(names):
            raise ValueError("caregivers: two with the same name")
        if self.consent and self.consent.share_caregiver and not self.caregivers:
            raise ValueError("consent_share_caregiver needs a caregiver on the row")
        unknown = {k.caregiver_name for k in self.consent_records if k.caregiver_name} - set(names)
        if unknown:
            raise ValueError(f"consent names caregivers not on the row: {sorted(unknown)}")
        return self


@dataclass(frozen=True, slots=True)
class Rejection:
    row: int  # 1-based data row (CSV: the header is row 0) or Bundle entry index
    external_id: str | None
    reasons: tuple[str, ...]


@dataclass
class ImportReport:
    accepted: list[str] = field(default_factory=list)  # external ids enrolled now
    unchanged: list[str] = field(default_factory=list)  # already enrolled in the program
    rejected: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0


def _cell(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(";") if v.strip()]


def _flag(value: str | None, column: str) -> bool:
    text = (value or "").strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"{column}: expected yes or no, got {value!r}")


def _condition(text: str) -> dict[str, Any]:
    parts = [p.strip() or None for p in text.split(":")]
    if len(parts) > 4:
        raise ValueError(f"conditions: {text!r} has more than CODE:type:stage:subtype")
    return dict(zip(("code", "type", "stage", "subtype"), parts, strict=False))


def csv_to_raw(cells: dict[str, str | None]) -> dict[str, Any]:
    """One CSV row as the nested shape ImportRow validates (ValueError for cells that cannot be read)."""
    unknown = sorted(k for k in cells if k not in COLUMNS and k is not None)
    if unknown:
        raise ValueError(f"unknown columns {unknown}")
    c = {k: _cell(v) for k, v in cells.items() if k is not None}
    raw: dict[str, Any] = {k: c.get(k) for k in COLUMNS[:15] if c.get(k) is not None}
    raw["conditions"] = [_condition(t) for t in _split(c.get("conditions"))]
    raw["tags"] = _split(c.get("tags"))
    if c.get("caregiver_name"):
        raw["caregivers"] = [
            {
                "name": c["caregiver_name"],
                "relationship": c.get("caregiver_relationship") or "family",
                "phone": c.get("caregiver_phone"),
                "email": c.get("caregiver_email"),
                "language": c.get("caregiver_language") or c.get("language") or "en",
                "alert_severities": _split(c.get("caregiver_alerts")) or ["urgent"],
                "receives_reminders": _flag(c.get("caregiver_reminders"), "caregiver_reminders"),
            }
        ]
    consent_cells = [k for k in COLUMNS if k.startswith("consent_") and c.get(k)]
    if consent_cells:
        raw["consent"] = {
            "text_version": c.get("consent_version"),
            "effective_at": c.get("consent_date"),
            "given_by": c.get("consent_given_by") or "patient",
            "given_by_name": c.get("consent_given_by_name"),
            "channels": _split(c.get("consent_channels")),
            "share_caregiver": _flag(c.get("consent_share_caregiver"), "consent_share_caregiver"),
            "research": _flag(c.get("consent_research"), "consent_research"),
        }
    return raw


def read_csv(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(row number, raw dict) per data row, or (row number, reason) when the row cannot even be read."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"external_id", "display_name"} - set(reader.fieldnames or [])
    if missing:
        raise ValueError(f"the CSV header lacks {sorted(missing)} (columns: {', '.join(COLUMNS)})")
    for number, cells in enumerate(reader, start=1):
        try:
            yield number, csv_to_raw(cells)
        except ValueError as exc:
            yield number, str(exc)


def _reasons(exc: ValidationError) -> tuple[str, ...]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        out.append(f"{where}: {message}" if where else message)
    return tuple(out)


def to_enrol(row: ImportRow, care_team_id: int, program: str, now: datetime) -> EnrolPatient:
    """A validated row as the store's bulk-insert shape (consents expanded to one record per purpose)."""
    consents: list[EnrolConsent] = []
    if row.consent is not None:
        k = row.consent
        base: dict[str, Any] = {"decision": "given", "text_version": k.text_version, "effective_at": k.effective_at or now,
                "given_by": k.given_by.value, "given_by_name": k.given_by_name}  # fmt: skip
        consents.append(EnrolConsent("monitoring", **base))
        consents += [EnrolConsent("contact", channel=ch.value, **base) for ch in k.channels]
        if k.share_caregiver:
            consents += [EnrolConsent("share_caregiver", caregiver_name=g.name, **base) for g in row.caregivers]
        if k.research:
            consents.append(EnrolConsent("research", **base))
    for r in sorted(row.consent_records, key=lambda r: r.effective_at):
        consents.append(
            EnrolConsent(r.purpose.value, r.decision.value, r.text_version, r.effective_at, r.given_by.value,
                         r.given_by_name, r.channel.value if r.channel else None, r.caregiver_name)
        )  # fmt: skip
    caregivers = tuple(
        EnrolCaregiver(**{**g, "alert_severities": tuple(g["alert_severities"])})
        for g in (c.model_dump(mode="json") for c in row.caregivers)
    )
    values = row.model_dump(
        mode="json", exclude={"care_team", "caregivers", "consent", "consent_records", "conditions", "targets", "tags"}
    )
    values["birth_date"] = row.birth_date
    return EnrolPatient(
        **{k: v for k, v in values.items() if v is not None},
        care_team_id=care_team_id,
        program=program,
        tags=tuple(row.tags),
        targets=row.targets.model_dump(exclude_none=True) if row.targets else {},
        conditions=tuple(c.to_row() for c in row.conditions or []),
        caregivers=caregivers,
        consents=tuple(consents),
    )


def validate_rows(
    rows: Iterable[tuple[int, dict[str, Any] | str]],
    teams: dict[str, int],
    *,
    program: str,
    default_team: str | None,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[EnrolPatient], list[Rejection]]:
    """Every row on its own: accepted rows ready to write, rejected rows with their reasons."""
    accepted: list[EnrolPatient] = []
    rejected: list[Rejection] = []
    seen: dict[str, int] = {}
    for number, raw in rows:
        if progress:
            progress(1)
        if isinstance(raw, str):
            rejected.append(Rejection(number, None, (raw,)))
            continue
        try:
            row = ImportRow.model_validate(raw)
        except ValidationError as exc:
            rejected.append(Rejection(number, raw.get("external_id"), _reasons(exc)))
            continue
        team = row.care_team or default_team
        if team is None or team not in teams:
            reason = f"care_team: unknown care team {team!r}" if team else "care_team: missing (or pass a default team)"
            rejected.append(Rejection(number, row.external_id, (reason,)))
            continue
        if row.external_id in seen:
            reason = f"external_id: {row.external_id} repeats row {seen[row.external_id]}"
            rejected.append(Rejection(number, row.external_id, (reason,)))
            continue
        seen[row.external_id] = number
        accepted.append(to_enrol(row, teams[team], program, now))
    return accepted, rejected


async def run_import(
    conn: psycopg.AsyncConnection,
    rows: Iterable[tuple[int, dict[str, Any] | str]],
    *,
    program: str = "default",
    default_team: str | None = None,
    recorded_by: str,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate, then write the accepted rows in COPY batches inside one transaction."""
    started = datetime.now(UTC)
    teams = await enrolment.care_teams_by_name(conn)
    accepted, rejected = validate_rows(
        rows, teams, program=program, default_team=default_team, now=started, progress=progress
    )
    report = ImportReport(rejected=rejected)
    async with conn.transaction():
        for i in range(0, len(accepted), BATCH_ROWS):
            batch = accepted[i : i + BATCH_ROWS]
            created = await enrolment.enrol_batch(conn, batch, recorded_by=recorded_by)
            for p in batch:
                (report.accepted if p.external_id in created else report.unchanged).append(p.external_id)
            if progress:
                progress(len(batch))
    await conn.commit()  # the block above may be a savepoint inside the caller's transaction: make it durable
    report.seconds = (datetime.now(UTC) - started).total_seconds()
    return report
