"""The visit report's content: an AGP-style glucose summary for a 14/30/90-day window and the home-BP
protocol report, gathered once and drawn as a page (templates/report.html) or a PDF (api.report_pdf)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg

from vitalgate.api.glucose_stats import glucose_summary
from vitalgate.api.home_bp import BpMean, HomeBpReport, home_bp_report, time_of_day_means
from vitalgate.api.routes_patients import profile_for
from vitalgate.api.schemas import DailyProfileOut, GlucoseStats
from vitalgate.core.localtime import local_date
from vitalgate.store import patient_stats, report_data, time_zones
from vitalgate.store.report_data import DayPoint

WINDOWS_DAYS = (14, 30, 90)
MINI_CHART_DAYS = 14  # the daily mini-charts show the window's last two weeks (the AGP convention)
# Consensus goals for time in ranges (Battelino et al., Diabetes Care 2019), % of readings/time.
GOALS = {
    "very_low_pct": ("<", 1.0),
    "low_pct": ("<", 4.0),  # below 70 in all (very low + low)
    "in_range_pct": (">", 70.0),
    "high_pct": ("<", 25.0),  # above 180 in all (high + very high)
    "very_high_pct": ("<", 5.0),
}


@dataclass(frozen=True, slots=True)
class VisitReport:
    patient_id: int
    patient_name: str
    zone: str
    days: int
    since: datetime
    until: datetime
    generated_at: datetime
    glucose: GlucoseStats
    profile: DailyProfileOut
    mini_days: list[tuple[date, list[DayPoint]]]
    bp: HomeBpReport


async def build_report(
    conn: psycopg.AsyncConnection, patient_id: int, patient_name: str, days: int, *, now: datetime | None = None
) -> VisitReport:
    """Everything the report shows, in the patient's zone; aggregates in SQL (a year of CGM stays fast)."""
    until = now or datetime.now(UTC)
    since = until - timedelta(days=days)
    clock = await time_zones.patient_clock(conn, patient_id)
    zone = clock.zone_name if clock else "UTC"
    agg = await patient_stats.glucose_stats(conn, patient_id, since, until, zone)
    profile = await profile_for(conn, patient_id, days, None, now=until)
    mini_since = max(since, until - timedelta(days=MINI_CHART_DAYS))
    points = await report_data.day_points(conn, patient_id, mini_since, until, zone)
    by_day: dict[date, list[DayPoint]] = {}
    for p in points:
        by_day.setdefault(p.day, []).append(p)
    last = local_date(until, zone)
    mini = [(d, by_day.get(d, [])) for d in (last - timedelta(days=i) for i in range(MINI_CHART_DAYS - 1, -1, -1))]
    bp_rows = await report_data.home_bp(conn, patient_id, until - timedelta(days=8), until, zone)
    return VisitReport(
        patient_id=patient_id,
        patient_name=patient_name,
        zone=zone,
        days=days,
        since=since,
        until=until,
        generated_at=until,
        glucose=glucose_summary(agg, days),
        profile=profile,
        mini_days=mini,
        bp=home_bp_report(bp_rows, last),
    )


async def bp_time_of_day(conn: psycopg.AsyncConnection, patient_id: int, days: int) -> tuple[BpMean, BpMean]:
    """Morning and evening home-BP means over the last `days`, in the patient's local hours."""
    until = datetime.now(UTC)
    clock = await time_zones.patient_clock(conn, patient_id)
    rows = await report_data.home_bp(
        conn, patient_id, until - timedelta(days=days), until, clock.zone_name if clock else "UTC"
    )
    return time_of_day_means(rows)
