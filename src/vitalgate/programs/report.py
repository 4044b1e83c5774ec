"""One program's report for a period: funnel, balance table, KPIs by group, outcome changes, monthly trends.

The same object feeds the dashboard page, its CSV export and `vitalgate program report`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from vitalgate.programs import funnel
from vitalgate.programs import kpis as kpi_calc
from vitalgate.programs.balance import BalanceRow, balance_table
from vitalgate.programs.definitions import Program
from vitalgate.programs.stats import Estimate
from vitalgate.store import program_days, program_enrolment, program_kpis, qc


@dataclass(frozen=True, slots=True)
class ProgramReport:
    program: Program
    start: datetime
    end: datetime
    readings_as_of: datetime | None
    funnel_by_channel: list[funnel.FunnelFigures]
    funnel_by_segment: list[funnel.FunnelFigures]
    funnel_by_month: list[funnel.FunnelFigures]
    balance: list[BalanceRow]
    kpis: list[kpi_calc.Kpi]
    outcomes: list[kpi_calc.Kpi]
    trends: dict[str, dict[str, list[tuple[date, Estimate]]]]
    cohort_size: int


async def build(conn: psycopg.AsyncConnection, program: Program, start: datetime, end: datetime) -> ProgramReport:
    paths = await program_enrolment.paths(conn, program.id, invited_from=start, invited_to=end)
    cohort = await program_kpis.cohort(conn, program.id, end)
    ids = [p.patient_id for p in cohort]
    facts = kpi_calc.KpiFacts(
        start=start,
        end=end,
        sla_minutes=program.urgent_contact_sla_minutes,
        cohort=cohort,
        totals=await totals_of(conn, program.id, ids, start, end),
        monthly=await monthly_of(conn, program.id, ids, start, end),
        urgent=await program_kpis.urgent_tasks(conn, ids, start, end),
        recent=await program_kpis.recent_readings(conn, ids, end),
        staff_per_team=await program_kpis.staff_per_team(conn, sorted({p.care_team_id for p in cohort})),
        qc_scores=await qc.scores(conn, start, end),
    )
    arms = program.arm_names
    specs = program.randomisation.covariates if program.randomisation else []
    balance = balance_table([(p.arm, p.baseline or {}) for p in cohort if p.arm], specs, arms) if specs else []
    return ProgramReport(
        program=program,
        start=start,
        end=end,
        readings_as_of=await program_kpis.last_refresh(conn),
        funnel_by_channel=funnel.by(paths, funnel.channel_of),
        funnel_by_segment=funnel.by(paths, funnel.segment_of),
        funnel_by_month=funnel.by(paths, funnel.month_of),
        balance=balance,
        kpis=kpi_calc.grouped(facts),
        outcomes=kpi_calc.outcome_changes(facts, arms) if program.randomisation else [],
        trends=kpi_calc.trends(facts, arms),
        cohort_size=len(cohort),
    )


async def totals_of(
    conn: psycopg.AsyncConnection, program_id: str, ids: list[int], start: datetime, end: datetime
) -> list[program_kpis.PatientTotals]:
    """From the UTC-day rollup when the period is whole UTC days (the dashboard's), else counted live."""
    if program_days.whole_utc_days(start, end):
        return await program_days.patient_totals(conn, program_id, ids, start, end)
    return await program_kpis.patient_totals(conn, program_id, ids, start, end)


async def monthly_of(
    conn: psycopg.AsyncConnection, program_id: str, ids: list[int], start: datetime, end: datetime
) -> list[program_kpis.MonthPoint]:
    if program_days.whole_utc_days(start, end):
        rest = await program_kpis.monthly(conn, program_id, ids, start, end, touchpoints=False)
        return await program_days.monthly_touchpoints(conn, program_id, ids, start, end) + rest
    return await program_kpis.monthly(conn, program_id, ids, start, end)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def to_csv(report: ProgramReport) -> str:
    """One row per figure: section, name, group, value, low, high, n, method, unit."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "name", "group", "value", "ci_low", "ci_high", "n", "method", "unit"])
    for figures in report.funnel_by_channel + report.funnel_by_segment + report.funnel_by_month:
        for stage in figures.stages:
            e = stage.share_of_invited
            w.writerow(
                [
                    "funnel",
                    f"reached {stage.step}",
                    figures.group,
                    _num(e.value),
                    _num(e.low),
                    _num(e.high),
                    stage.reached,
                    e.method,
                    "share of invited",
                ]
            )
        e = figures.enrolment_rate
        w.writerow(
            [
                "funnel",
                "enrolment rate",
                figures.group,
                _num(e.value),
                _num(e.low),
                _num(e.high),
                e.n,
                e.method,
                "share",
            ]
        )
    for row in report.balance:
        for arm, value in row.by_arm.items():
            w.writerow(
                [
                    "balance",
                    row.covariate + (f"={row.level}" if row.level else ""),
                    f"arm={arm}",
                    _num(value),
                    "",
                    "",
                    row.n_by_arm[arm],
                    "mean" if row.level is None else "proportion",
                    row.unit or "",
                ]
            )
        w.writerow(
            [
                "balance",
                row.covariate + (f"={row.level}" if row.level else ""),
                "smd",
                _num(row.smd),
                "",
                "",
                sum(row.n_by_arm.values()),
                "standardized mean difference",
                "",
            ]
        )
    for k in report.kpis + report.outcomes:
        e = k.estimate
        w.writerow(["kpi", k.label, k.group, _num(e.value), _num(e.low), _num(e.high), e.n, e.method, k.unit])
    for name, groups in report.trends.items():
        for group, points in groups.items():
            for month, e in points:
                w.writerow(
                    [
                        "trend",
                        name,
                        f"{group} {month:%Y-%m}",
                        _num(e.value),
                        _num(e.low),
                        _num(e.high),
                        e.n,
                        e.method,
                        "%",
                    ]
                )
    return out.getvalue()
