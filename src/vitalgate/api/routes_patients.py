"""Patient data: list, record, readings, chart series, statistics, daily profile, alerts, tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Path, Query, Request

from vitalgate.api import glucose_stats, stats
from vitalgate.api.deps import Conn, CurrentUser, audit, audit_list, visible_patient
from vitalgate.api.patient_targets import targets_of
from vitalgate.api.schemas import (
    UNITS,
    AlertOut,
    DailyProfileOut,
    ErrorOut,
    GlucoseTargetsOut,
    LatestReadingOut,
    MealSlot,
    PatientOut,
    ProfileHour,
    ReadingOut,
    ReadingsPage,
    SeriesOut,
    SeriesPoint,
    StatisticsOut,
    TaskEventOut,
)
from vitalgate.domain import MeasurementKind, Role
from vitalgate.store import adherence, patient_stats, people, time_zones, timeseries
from vitalgate.store import alerts as alert_store
from vitalgate.store import readings as reading_store
from vitalgate.store import tasks as task_store

router = APIRouter(tags=["patients"], responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}})

MAX_ID = 2**63 - 1
PatientId = Annotated[int, Path(ge=1, le=MAX_ID, description="patient id")]
# Dates far outside any monitoring period are refused early instead of overflowing interval maths.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# Percentile bands through an hour need readings in it: below this in any local hour, the profile
# shows meal-slot summaries instead of bands drawn through a handful of points.
PROFILE_MIN_PER_HOUR = 5


def utc(value: datetime | None) -> datetime | None:
    """Aware UTC; a naive time is taken as UTC."""
    if value is None:
        return None
    try:
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise HTTPException(status_code=422, detail="date out of range") from exc
    if not _EARLIEST <= aware <= _LATEST:
        raise HTTPException(status_code=422, detail="dates must lie between 1970 and 2200")
    return aware


def window(since: datetime | None, until: datetime | None, default: timedelta) -> tuple[datetime, datetime]:
    """A checked [since, until) window; defaults to the last `default` up to now."""
    end = utc(until) or datetime.now(UTC)
    start = utc(since) or max(end - default, _EARLIEST)
    if start >= end:
        raise HTTPException(status_code=422, detail="since must be before until")
    return start, end


def timezone_name(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HTTPException(
            status_code=422, detail=f"unknown time zone {tz!r} (use an IANA name, e.g. Europe/Berlin)"
        ) from exc
    return tz


@router.get("/patients", response_model=list[PatientOut])
async def list_patients(request: Request, conn: Conn, principal: CurrentUser) -> list[PatientOut]:
    """The patients this user may see: their care teams' patients, themselves, or (caregivers) those sharing with them."""
    if principal.role == "patient":
        rows = await people.list_patients(conn, patient_id=principal.patient_id or -1)
    elif principal.role == Role.CAREGIVER:
        rows = [r for pid in principal.caregiver_of for r in await people.list_patients(conn, patient_id=pid)]
    elif principal.is_staff:
        rows = await people.list_patients(conn, care_team_ids=list(principal.team_ids))
    else:
        rows = []
    await audit_list(conn, principal, request, "read:patient_list", [r.id for r in rows])
    return [PatientOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/patients/{patient_id}", response_model=PatientOut)
async def get_patient(patient_id: PatientId, request: Request, conn: Conn, principal: CurrentUser) -> PatientOut:
    """One patient's record."""
    patient = await visible_patient(conn, principal, patient_id)
    await audit(conn, principal, request, "read:patient", patient_id)
    return PatientOut.model_validate(patient, from_attributes=True)


@router.get("/patients/{patient_id}/readings", response_model=ReadingsPage)
async def get_patient_readings(
    patient_id: PatientId,
    request: Request,
    conn: Conn,
    principal: CurrentUser,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: MeasurementKind | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> ReadingsPage:
    """A patient's readings, newest first, values in the stored units listed in `units`."""
    await visible_patient(conn, principal, patient_id)
    start, end = window(since, until, timedelta(days=365 * 100)) if (since or until) else (None, None)
    rows = await reading_store.patient_readings(conn, patient_id, since=start, until=end, kind=kind, limit=limit)
    await audit(conn, principal, request, "read:readings", patient_id, {"count": len(rows)})
    return ReadingsPage(
        patient_id=patient_id, units=UNITS, readings=[ReadingOut.model_validate(r, from_attributes=True) for r in rows]
    )


@router.get("/patients/{patient_id}/series", response_model=SeriesOut)
async def get_series(
    patient_id: PatientId,
    request: Request,
    conn: Conn,
    principal: CurrentUser,
    kind: MeasurementKind,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket: Literal["auto", "raw", "15m", "1h", "6h", "1d", "7d"] = "auto",
) -> SeriesOut:
    """Readings of one kind over any window (default last 30 days), averaged per bucket (mean/min/max)."""
    await visible_patient(conn, principal, patient_id)
    start, end = window(since, until, timedelta(days=30))
    name, width = stats.pick_bucket(bucket, end - start)
    rows = await series_rows(conn, patient_id, kind, start, end, width)
    await audit(conn, principal, request, "read:series", patient_id, {"kind": kind, "points": len(rows)})
    return SeriesOut(
        patient_id=patient_id,
        kind=kind,
        since=start,
        until=end,
        bucket=name,
        units=UNITS,
        points=[
            SeriesPoint(t=r["bucket"], **{k: r[k] for k in SeriesPoint.model_fields if k in r and k != "t"})
            for r in rows
        ],
    )


async def series_rows(
    conn: Conn, patient_id: int, kind: str, start: datetime, end: datetime, width: timedelta | None
) -> list[dict]:
    """Bucketed rows from store.timeseries (TimescaleDB or native), or single readings when width is None."""
    if width is None:
        return await patient_stats.raw_series(conn, patient_id, kind, start, end)
    return await timeseries.patient_series(conn, patient_id, start, end, width, kind=kind)


@router.get("/patients/{patient_id}/statistics", response_model=StatisticsOut)
async def get_statistics(
    patient_id: PatientId,
    request: Request,
    conn: Conn,
    principal: CurrentUser,
    days: Annotated[int, Query(ge=1, le=365, description="glucose window, days (AGP: 14)")] = 14,
) -> StatisticsOut:
    """Glucose mean, GMI, CV, time in ranges; 7-day home BP means; reading days in the last 30; latest readings."""
    await visible_patient(conn, principal, patient_id)
    body = await statistics_for(conn, patient_id, days)
    await audit(conn, principal, request, "read:statistics", patient_id)
    return body


async def statistics_for(conn: Conn, patient_id: int, days: int, *, now: datetime | None = None) -> StatisticsOut:
    """The statistics block (shared by the API and the patient page), ranges by the patient's targets."""
    now = now or datetime.now(UTC)
    clock = await time_zones.patient_clock(conn, patient_id)
    zone = clock.zone_name if clock else "UTC"
    targets = await targets_of(conn, patient_id)
    glucose = await patient_stats.glucose_stats(conn, patient_id, now - timedelta(days=days), now, zone, targets)
    bp = await patient_stats.bp_stats(conn, patient_id, now - timedelta(days=7), now)
    adherence_row = (await adherence.reading_days(conn, [patient_id], now=now))[patient_id]
    latest = await timeseries.latest_readings(conn, [patient_id])
    return StatisticsOut(
        patient_id=patient_id,
        glucose_window_days=days,
        glucose=glucose_stats.glucose_summary(glucose, days),
        glucose_targets=GlucoseTargetsOut(
            preset=str(targets.preset),
            very_low_mg_dl=targets.very_low_mg_dl,
            range_low_mg_dl=targets.range_low_mg_dl,
            range_high_mg_dl=targets.range_high_mg_dl,
            very_high_mg_dl=targets.very_high_mg_dl,
            in_range_goal_pct=targets.in_range_goal_pct,
        ),
        bp_home_7d=stats.bp_summary(bp),
        reading_days_last_30=adherence_row["reading_days"],
        meets_16_of_30_days=adherence_row["meets_requirement"],
        latest=[LatestReadingOut(**r) for r in latest],
    )


@router.get("/patients/{patient_id}/daily-profile", response_model=DailyProfileOut)
async def get_daily_profile(
    patient_id: PatientId,
    request: Request,
    conn: Conn,
    principal: CurrentUser,
    days: Annotated[int, Query(ge=1, le=90)] = 14,
    tz: Annotated[str | None, Query(max_length=64, description="default: the patient's zone (history)")] = None,
) -> DailyProfileOut:
    """AGP-style glucose profile: 5/25/50/75/95th percentiles by hour of day over the last `days` days.

    Hours are the patient's local hours, each reading in the zone valid when it was measured,
    unless `tz` asks for one zone.
    """
    await visible_patient(conn, principal, patient_id)
    body = await profile_for(conn, patient_id, days, timezone_name(tz) if tz is not None else None)
    await audit(conn, principal, request, "read:daily_profile", patient_id)
    return body


async def profile_for(
    conn: Conn, patient_id: int, days: int, tz: str | None, *, now: datetime | None = None
) -> DailyProfileOut:
    """Percentile bands only when every local hour holds enough readings; else meal-slot summaries."""
    now = now or datetime.now(UTC)
    rows = await patient_stats.daily_profile(conn, patient_id, now - timedelta(days=days), now, tz)
    if tz is None:
        clock = await time_zones.patient_clock(conn, patient_id)
        tz = clock.zone_name if clock else "UTC"
    hours = [
        ProfileHour(hour=r["hour"], n=r["n"], **dict(zip(("p05", "p25", "p50", "p75", "p95"), r["p"], strict=True)))
        for r in rows
    ]
    thin = 24 - sum(1 for h in hours if h.n >= PROFILE_MIN_PER_HOUR)
    if not thin:
        return DailyProfileOut(
            patient_id=patient_id, days=days, timezone=tz, hours=hours, min_readings_per_hour=PROFILE_MIN_PER_HOUR
        )
    slots = await patient_stats.meal_slots(conn, patient_id, now - timedelta(days=days), now)
    return DailyProfileOut(
        patient_id=patient_id,
        days=days,
        timezone=tz,
        hours=[h.model_copy(update={"p05": None, "p25": None, "p75": None, "p95": None}) for h in hours],
        bands_withheld=f"{thin} of 24 hours have fewer than {PROFILE_MIN_PER_HOUR} readings",
        min_readings_per_hour=PROFILE_MIN_PER_HOUR,
        meal_slots=[
            MealSlot(
                slot=r["slot"],
                n=r["n"],
                median_mg_dl=round(r["median"], 1),
                lowest_mg_dl=r["lowest"],
                highest_mg_dl=r["highest"],
            )
            for r in slots
        ],
    )


@router.get("/patients/{patient_id}/alerts", response_model=list[AlertOut])
async def get_alerts(patient_id: PatientId, request: Request, conn: Conn, principal: CurrentUser) -> list[AlertOut]:
    """A patient's alerts, newest first."""
    await visible_patient(conn, principal, patient_id)
    rows = await alert_store.patient_alerts(conn, patient_id)
    await audit(conn, principal, request, "read:alerts", patient_id)
    return [AlertOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/patients/{patient_id}/task-history", response_model=list[TaskEventOut])
async def get_task_history(
    patient_id: PatientId, request: Request, conn: Conn, principal: CurrentUser
) -> list[TaskEventOut]:
    """Every event of the patient's follow-up tasks, oldest first."""
    await visible_patient(conn, principal, patient_id)
    tasks = await task_store.patient_tasks(conn, patient_id)
    events = await task_store.task_events(conn, [t.id for t in tasks])
    await audit(conn, principal, request, "read:task_history", patient_id)
    return [TaskEventOut.model_validate(e, from_attributes=True) for e in events]
