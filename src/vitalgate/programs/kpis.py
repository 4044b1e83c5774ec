"""Program KPIs by arm, segment and team, each with its count and 95 % interval (pure; issue 17 item 6).

Definitions (programs/README.md, "KPIs"): a patient belongs to the cohort once enrolled; periods
are [from, to) in UTC, trend months are UTC months. Intervals: stats.py (Wilson for proportions,
order-statistic intervals for median/p90, Poisson for rates, Welch for arm differences).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from vitalgate.i18n import N_
from vitalgate.programs.stats import Estimate, mean_ci, poisson_rate, quantile_ci, welch_difference, wilson
from vitalgate.store.program_kpis import CohortPatient, MonthPoint, PatientTotals, RecentReadings, UrgentTask

READING_DAYS_REQUIRED = 16
PERSISTENCE_DAYS = (30, 90, 180)


@dataclass(frozen=True, slots=True)
class KpiFacts:
    start: datetime
    end: datetime
    sla_minutes: float
    cohort: list[CohortPatient]
    totals: list[PatientTotals]
    monthly: list[MonthPoint]
    urgent: list[UrgentTask]
    recent: list[RecentReadings]
    staff_per_team: dict[int, int]
    qc_scores: list[tuple[str, int, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Kpi:
    """`name` is an English msgid (translated where shown) with its {placeholders} in `params`."""

    name: str
    group: str
    estimate: Estimate
    unit: str = ""
    params: dict[str, object] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name.format(**self.params)


def step_at(p: CohortPatient, at: datetime) -> str | None:
    current = None
    for step, when in zip(p.steps, p.ats, strict=True):
        if when > at:
            break
        current = step
    return current


def active_days(p: CohortPatient, start: datetime, end: datetime) -> float:
    """Days the patient's step was `active` within [start, end)."""
    total = 0.0
    since: datetime | None = None
    for step, when in [*zip(p.steps, p.ats, strict=True), ("end", end)]:
        if since is not None:
            lo, hi = max(since, start), min(when, end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 86400
            since = None
        if step == "active" and when < end:
            since = when
    return total


@dataclass(slots=True)
class _PatientRow:
    """One patient's share of every KPI, computed once; a group's KPI is the sum over its members."""

    team: int
    sent: int = 0
    answered: int = 0
    attempted: int = 0
    reached: int = 0
    checkins: int = 0
    completed: int = 0
    alerts: int = 0
    tasks: int = 0
    waits: list[float] = field(default_factory=list)
    sla_due: int = 0
    sla_met: int = 0
    active_at_end: bool = False
    adherent: bool = False
    persistence: dict[int, bool | None] = field(default_factory=dict)  # None: not yet eligible
    exposure_days: float = 0.0


def per_patient(f: KpiFacts) -> dict[int, _PatientRow]:
    last = f.end - timedelta(microseconds=1)
    sla = timedelta(minutes=f.sla_minutes)
    rows: dict[int, _PatientRow] = {}
    for p in f.cohort:
        row = _PatientRow(p.care_team_id, active_at_end=step_at(p, last) == "active")
        for days in PERSISTENCE_DAYS:
            at = p.enrolled_at + timedelta(days=days)
            row.persistence[days] = (step_at(p, at) == "active") if at <= f.end else None
        row.exposure_days = active_days(p, f.start, f.end)
        rows[p.patient_id] = row
    for t in f.totals:
        counted = rows.get(t.patient_id)
        if counted is not None:
            counted.sent, counted.answered = t.sent, t.answered
            counted.attempted, counted.reached = t.attempted, t.reached
            counted.checkins, counted.completed = t.checkins, t.completed
            counted.alerts, counted.tasks = t.alerts, t.tasks
    for u in f.urgent:
        urgent_row = rows.get(u.patient_id)
        if urgent_row is None:
            continue
        row = urgent_row
        if u.first_contact_at is not None:
            row.waits.append((u.first_contact_at - u.created_at).total_seconds() / 60)
        if u.created_at + sla <= f.end:  # its SLA window has passed
            row.sla_due += 1
            row.sla_met += u.first_contact_at is not None and u.first_contact_at - u.created_at <= sla
    for r in f.recent:
        recent_row = rows.get(r.patient_id)
        if recent_row is not None:
            recent_row.adherent = r.reading_days >= READING_DAYS_REQUIRED
    return rows


def kpis_for(group: str, members: Sequence[_PatientRow], f: KpiFacts) -> list[Kpi]:
    out: list[Kpi] = []

    def add(name: str, e: Estimate, unit: str = "", **params: object) -> None:
        out.append(Kpi(name, group, e, unit, params))

    def total(attr: str) -> int:
        return sum(getattr(m, attr) for m in members)

    add(N_("follow-up acceptance (answered / sent)"), wilson(total("answered"), total("sent")), "%")
    add(N_("reach rate (tasks reached / contacted)"), wilson(total("reached"), total("attempted")), "%")
    waits = [w for m in members for w in m.waits]
    add(N_("urgent: time to first human contact, median"), quantile_ci(waits, 0.5), "min")
    add(N_("urgent: time to first human contact, p90"), quantile_ci(waits, 0.9), "min")
    add(
        N_("SLA compliance (urgent contact ≤ {minutes} min)"),
        wilson(total("sla_met"), total("sla_due")),
        "%",
        minutes=f"{f.sla_minutes:g}",
    )
    active = [m for m in members if m.active_at_end]
    add(
        N_("reading-day adherence (≥{days} of 30 local days)"),
        wilson(sum(m.adherent for m in active), len(active)),
        "%",
        days=READING_DAYS_REQUIRED,
    )
    for days in PERSISTENCE_DAYS:
        flags = [m.persistence[days] for m in members if m.persistence[days] is not None]
        add(N_("persistence at {days} days (still active)"), wilson(sum(map(bool, flags)), len(flags)), "%", days=days)
    add(N_("questionnaire completion (check-ins completed / sent)"), wilson(total("completed"), total("checkins")), "%")
    add(
        N_("alert burden per 1,000 patient-days"),
        poisson_rate(total("alerts"), sum(m.exposure_days for m in members), 1000),
        "",
    )
    teams = {m.team for m in members}
    staff_days = sum(f.staff_per_team.get(t, 0) for t in teams) * (f.end - f.start).total_seconds() / 86400
    add(N_("tasks per staff member per day"), poisson_rate(total("tasks"), staff_days, 1), "")
    scores = [s for _, team, s in f.qc_scores if team in teams]
    add(N_("QC score (0-100)"), mean_ci(scores), "")
    return out


def outcome_changes(f: KpiFacts, arms: Sequence[str]) -> list[Kpi]:
    """Per arm: mean change (last 30 local days − baseline) of TIR and home systolic; first arm − second arm."""
    recent = {r.patient_id: r for r in f.recent}
    out: list[Kpi] = []
    measures: list[tuple[str, str, Callable[[RecentReadings], float | None]]] = [
        ("baseline_tir_pct", "%", lambda r: 100.0 * r.glucose_in_range_n / r.glucose_n if r.glucose_n else None),
        (
            "baseline_systolic_mmhg",
            "mmHg",
            lambda r: r.systolic_sum / r.systolic_n if r.systolic_n and r.systolic_sum is not None else None,
        ),
    ]
    for key, unit, last in measures:
        tir = key == "baseline_tir_pct"
        changes: dict[str, list[float]] = defaultdict(list)
        for p in f.cohort:
            base = (p.baseline or {}).get(key)
            r = recent.get(p.patient_id)
            now = last(r) if r else None
            if p.arm is not None and isinstance(base, int | float) and now is not None:
                changes[p.arm].append(now - float(base))
        for arm in arms:
            name = (
                N_("change in time in range (last 30 days − baseline)")
                if tir
                else N_("change in mean home systolic (last 30 days − baseline)")
            )
            out.append(Kpi(name, f"arm={arm}", mean_ci(changes[arm]), unit))
        if len(arms) >= 2:
            out.append(
                Kpi(
                    N_("change in time in range: {first} − {second}")
                    if tir
                    else N_("change in mean home systolic: {first} − {second}"),
                    "arms",
                    welch_difference(changes[arms[0]], changes[arms[1]]),
                    unit,
                    {"first": arms[0], "second": arms[1]},
                )
            )
    return out


def grouped(f: KpiFacts) -> list[Kpi]:
    """Every KPI for all patients, then per arm, segment and team."""
    rows = per_patient(f)
    groups: dict[str, list[_PatientRow]] = {"all": list(rows.values())}
    for p in f.cohort:
        row = rows[p.patient_id]
        if p.arm:
            groups.setdefault(f"arm={p.arm}", []).append(row)
        groups.setdefault(f"segment={p.segment or 'unknown'}", []).append(row)
        groups.setdefault(f"team={p.care_team_id}", []).append(row)
    return [k for name, members in groups.items() for k in kpis_for(name, members, f)]


def months(start: datetime, end: datetime) -> list[date]:
    out, d = [], date(start.year, start.month, 1)
    while datetime(d.year, d.month, 1, tzinfo=start.tzinfo) < end:
        out.append(d)
        d = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return out


def trends(f: KpiFacts, arms: Sequence[str]) -> dict[str, dict[str, list[tuple[date, Estimate]]]]:
    """Monthly follow-up acceptance, reach rate and check-in completion, overall and per arm."""
    sums: dict[tuple[str, str, date], list[int]] = defaultdict(lambda: [0, 0])
    for point in f.monthly:
        for group in ("all", point.arm):
            if group is not None:
                cell = sums[(point.series, group, point.month)]
                cell[0] += point.total
                cell[1] += point.hits
    series: dict[str, dict[str, list[tuple[date, Estimate]]]] = {}
    for name, key in (
        (N_("follow-up acceptance"), "touchpoints"),
        (N_("reach rate"), "contacts"),
        (N_("questionnaire completion"), "checkins"),
    ):
        series[name] = {
            group: [
                (month, wilson(sums[(key, group, month)][1], sums[(key, group, month)][0]))
                for month in months(f.start, f.end)
            ]
            for group in ("all", *arms)
        }
    return series
