"""Times on pages: in the patient's zone (as it was at each instant), labelled, plus the viewer's when it differs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import psycopg
from fastapi import Request

from vitalgate.api.auth import Principal
from vitalgate.api.deps import state
from vitalgate.core.localtime import ZoneHistory, local_datetime, zone_label
from vitalgate.domain import Language
from vitalgate.i18n import DEFAULT_LANGUAGE, format_local, t
from vitalgate.store import time_zones

# Named formats of vitalgate.i18n.formatting: "datetime", "short" (no year), "date", "time".
DEFAULT_FMT = "datetime"


def _abbr(local: datetime) -> str:
    name = local.tzname() or ""
    return name if name.isalpha() else f"UTC{name}" if name else ""


def show(
    value: datetime | None,
    where: ZoneHistory | str,
    viewer: str | None = None,
    fmt: str = DEFAULT_FMT,
    language: Language = DEFAULT_LANGUAGE,
) -> str:
    """'05 Oct 2026 07:30 CST' and, when the viewer's clock differs, ' · 04 Oct 19:30 EDT (yours)'."""
    if value is None:
        return "—"
    local = local_datetime(value, where)
    text = f"{format_local(local, language, fmt)} {_abbr(local)}".rstrip()
    if viewer is None:
        return text
    theirs = local_datetime(value, viewer)
    if theirs.utcoffset() == local.utcoffset():
        return text
    short = "time" if theirs.date() == local.date() else "short"
    clock = f"{format_local(theirs, language, short)} {_abbr(theirs)}".rstrip()
    yours = t(language, "{time} (yours)", time=clock)
    return f"{text} · {yours}"


@dataclass(frozen=True, slots=True)
class PageZones:
    """Which zones a page shows times in: the viewer's, and the patients' on it."""

    viewer: str
    patients: dict[int, ZoneHistory] = field(default_factory=dict)
    patient_id: int | None = None  # the page is about this patient: its times are in their zone
    language: Language = DEFAULT_LANGUAGE

    def speaking(self, language: Language) -> PageZones:
        """The same zones, formatting dates in a language."""
        return replace(self, language=language)

    def t(self, value: datetime | None, fmt: str = DEFAULT_FMT) -> str:
        if self.patient_id is not None and self.patient_id in self.patients:
            return show(value, self.patients[self.patient_id], self.viewer, fmt, self.language)
        return show(value, self.viewer, None, fmt, self.language)

    def tp(self, value: datetime | None, patient_id: int, fmt: str = DEFAULT_FMT) -> str:
        history = self.patients.get(patient_id)
        return show(value, history, self.viewer, fmt, self.language) if history else self.t(value, fmt)

    def note(self) -> str:
        now, lang = datetime.now(UTC), self.language
        yours = zone_label(now, self.viewer)
        if self.patient_id is not None and self.patient_id in self.patients:
            theirs = zone_label(now, self.patients[self.patient_id].zone_name_at(now))
            if theirs == yours:
                return t(lang, "Times shown in the patient's local time ({zone}).", zone=theirs)
            return t(
                lang,
                "Times shown in the patient's local time ({zone}); yours ({yours}) after the dot.",
                zone=theirs,
                yours=yours,
            )
        if self.patients:
            return t(
                lang,
                "Times shown in each patient's local time; yours ({yours}) after the dot where it differs.",
                yours=yours,
            )
        return t(lang, "Times shown in {zone}.", zone=yours)


async def viewer_zone(conn: psycopg.AsyncConnection, request: Request, principal: Principal | None) -> str:
    """The user's own zone setting, else their (first) team's, else the patient's own, else the server's."""
    if principal is not None:
        own = await time_zones.user_time_zone(conn, principal.user_id)
        if own:
            return own
        if principal.patient_id is not None:
            clock = await time_zones.patient_clock(conn, principal.patient_id)
            if clock is not None:
                return clock.zone_name
        if principal.team_ids:
            team = await time_zones.team_time_zone(conn, principal.team_ids[0])
            if team:
                return team
    return state(request).display_timezone


async def page_zones(
    conn: psycopg.AsyncConnection,
    request: Request,
    principal: Principal | None,
    patient_ids: Sequence[int] = (),
    *,
    patient_id: int | None = None,
) -> PageZones:
    ids = sorted(set(patient_ids) | ({patient_id} if patient_id is not None else set()))
    histories = await time_zones.zone_histories(conn, ids) if ids else {}
    return PageZones(await viewer_zone(conn, request, principal), histories, patient_id)
