"""A simulated care program on the real store (tests only): patients enrolled through the funnel, readings,
weekly touchpoints answered with a stated probability, urgent tasks contacted by staff after a random wait.

Everything is written through the store and follow-up actions at simulated instants (no wall clock
involved but the anchor `start`); `SimLog` keeps what happened, so tests compute the KPIs by hand
from it and compare with what vitalgate.programs reports from the database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import NAMESPACE_URL, uuid5

import psycopg

from vitalgate.core.localtime import local_date, to_instant
from vitalgate.domain import Outcome
from vitalgate.followup import actions
from vitalgate.programs.definitions import Program
from vitalgate.programs.enrolment import transition
from vitalgate.store import alerts as alert_store
from vitalgate.store import consent, people, program_modules, tasks, time_zones
from vitalgate.store import touchpoints as tp_store
from vitalgate.store.consent import NewConsent
from vitalgate.store.program_rows import FunnelStep as S
from vitalgate.store.readings import STAGING_COLUMNS, write_readings
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose
from vitalgate.store.touchpoints import PlannedTouchpoint

ZONES = ("Asia/Shanghai", "Europe/Berlin")
P_CONSENT, P_ENROL, P_WITHDRAW, P_URGENT_WEEK, P_NO_CONTACT = 0.9, 0.95, 0.08, 0.06, 0.1


@dataclass
class SimLog:
    start: datetime  # first invitation day (00:00 UTC)
    end: datetime
    zone: dict[int, str] = field(default_factory=dict)
    team: dict[int, int] = field(default_factory=dict)
    invited: dict[int, tuple[datetime, str, str]] = field(default_factory=dict)
    steps: dict[int, list[tuple[str, datetime]]] = field(default_factory=dict)
    arm: dict[int, str] = field(default_factory=dict)
    touch: list[tuple[int, datetime, bool]] = field(default_factory=list)  # (patient, fired_at, answered)
    urgent: list[tuple[int, datetime, datetime | None]] = field(default_factory=list)
    contacts: list[tuple[int, datetime, bool]] = field(default_factory=list)  # (patient, first outcome, reached)
    alerts: list[tuple[int, datetime]] = field(default_factory=list)
    readings: dict[int, list[tuple[datetime, float]]] = field(default_factory=dict)
    checkins: list[tuple[int, datetime, bool]] = field(default_factory=list)
    staff: dict[int, list[str]] = field(default_factory=dict)


def _reading_row(serial: str, at: datetime, systolic: float) -> tuple[object, ...]:
    values = {
        "id": uuid5(NAMESPACE_URL, f"{serial}/{at.isoformat()}"),
        "device_serial": serial,
        "device_kind": "bp_cuff",
        "gateway_id": "gw-program-sim",
        "kind": "blood_pressure",
        "measured_at": at,
        "device_time": at.replace(tzinfo=None),
        "received_at": at,
        "sequence_number": None,
        "status": [],
        "systolic_mmhg": systolic,
        "diastolic_mmhg": 85.0,
        "map_mmhg": round(85 + (systolic - 85) / 3, 1),
        "pulse_bpm": 70.0,
        "context": {},
    }
    return tuple(values.get(c) for c in STAGING_COLUMNS)


async def simulate(
    conn: psycopg.AsyncConnection,
    program: Program,
    *,
    patients: int,
    start: datetime,
    unique: str,
    p_answer: float,
    seed: int = 2026,
) -> SimLog:
    """Baseline month from `start`, invitations on the day after it, then the program's weeks."""
    rng = random.Random(seed)
    invite_day = start + timedelta(days=30)
    weeks = program.duration_weeks
    log = SimLog(invite_day, invite_day + timedelta(days=7 * weeks + 2))
    teams = []
    for i, zone_name in enumerate(ZONES):
        team = await people.create_care_team(conn, f"prog-{unique}-{i}")
        await time_zones.set_team_time_zone(conn, team, zone_name)
        log.staff[team] = [f"nurse-{unique}-{i}-{k}" for k in range(3)]
        for name in log.staff[team]:
            await people.create_user(conn, name, "Nurse", "nurse", care_team_id=team)
        teams.append((team, zone_name))
    await conn.commit()
    for n in range(patients):
        async with conn.transaction():
            await _one_patient(conn, program, n, rng, teams, log, start, unique, p_answer)
    return log


async def _one_patient(conn, program, n, rng, teams, log, start, unique, p_answer) -> None:
    team, zone_name = teams[n % len(teams)]
    pid = await people.create_patient(conn, "Sim Patient", team, external_ref=f"ps-{unique}-{n}", tags=["hypertension"])
    log.zone[pid], log.team[pid] = zone_name, team
    serial = f"PS-{unique}-{n}"
    await people.bind_device(conn, serial, "bp_cuff", pid, valid_from=start - timedelta(days=1))
    await conn.execute(
        "UPDATE patients SET birth_year = %s, sex = %s WHERE id = %s",
        (rng.randint(1940, 1990), rng.choice(["female", "male"]), pid),
    )
    await conn.execute(
        "INSERT INTO patient_conditions (patient_id, code, stage) VALUES (%s, 'I10', %s)",
        (pid, rng.choice(["1", "1", "2", "3"])),
    )
    await consent.record(
        conn, pid, NewConsent(ConsentPurpose.RESEARCH, ConsentDecision.GIVEN, "trial-v1", start, "patient", "sim")
    )
    mu = rng.gauss(145, 12)
    first_day = local_date(start, zone_name)
    rows, series = [], []
    for d in range(30):  # baseline: one morning reading a day
        at = to_instant(first_day + timedelta(days=d), time(7, 30), zone_name)
        value = round(mu + rng.gauss(0, 6), 1)
        rows.append(_reading_row(serial, at, value))
        series.append((at, value))

    invited_at = log.start + timedelta(hours=rng.randint(1, 20), minutes=rng.randint(0, 59))
    channel, segment = rng.choice(["sms", "phone", "app"]), rng.choice(["htn-new", "htn-known"])
    log.invited[pid] = (invited_at, channel, segment)
    steps = log.steps.setdefault(pid, [])

    async def step(s: S, at: datetime, reason: str | None = None) -> None:
        result = await transition(
            conn, program, pid, s, at=at, actor="sim", channel=channel, segment=segment, reason=reason
        )
        steps.append((str(s), at))
        if result.allocation:
            log.arm[pid] = result.allocation.arm

    await step(S.INVITED, invited_at)
    if rng.random() >= P_CONSENT:
        await step(S.WITHDRAWN, invited_at + timedelta(hours=5), "declined")
        await write_readings(conn, rows)
        log.readings[pid] = series
        return
    await step(S.CONSENTED, invited_at + timedelta(hours=1))
    if rng.random() >= P_ENROL:
        await write_readings(conn, rows)
        log.readings[pid] = series
        return
    # Baseline readings must be stored before the enrolment that reads them.
    await write_readings(conn, rows)
    rows = []
    enrolled_at = invited_at + timedelta(hours=2)
    await step(S.ENROLLED, enrolled_at)
    active_at = enrolled_at + timedelta(minutes=30)
    await step(S.ACTIVE, active_at)
    arm = log.arm[pid]
    days = 7 * program.duration_weeks
    withdraw_day = rng.randint(5, days - 1) if rng.random() < P_WITHDRAW else None
    adherence = rng.uniform(0.3, 1.0)
    drop = 8.0 if arm == "experiment" else 2.0
    enrol_day = local_date(enrolled_at, zone_name)
    for d in range(1, days + 1):
        if withdraw_day is not None and d >= withdraw_day:
            break
        if rng.random() < adherence:
            at = to_instant(enrol_day + timedelta(days=d), time(7, 45), zone_name)
            value = round(mu - drop * d / days + rng.gauss(0, 6), 1)
            rows.append(_reading_row(serial, at, value))
            series.append((at, value))
    log.readings[pid] = series
    await write_readings(conn, rows)

    last_day = withdraw_day if withdraw_day is not None else days + 1
    for week in range(1, program.duration_weeks + 1):
        week_day = 7 * (week - 1) + 1
        if week_day >= last_day:
            break
        fired = to_instant(enrol_day + timedelta(days=week_day), time(10, 0), zone_name)
        task = await tasks.create_task(
            conn,
            patient_id=pid,
            care_team_id=team,
            assignee_id=None,
            severity="routine",
            title="Weekly program check",
            due_at=fired + timedelta(days=1),
            now=fired,
            kind="program",
        )
        await tp_store.schedule(
            conn, task, [PlannedTouchpoint(0, "weekly", "message", "program-weekly", fired)], now=fired
        )
        await tp_store.mark_fired(conn, (await tp_store.list_touchpoints(conn, task_id=task))[0].id, fired)
        answered = rng.random() < p_answer
        if answered:
            await actions.record_patient_response(conn, task, channel="sms", now=fired + timedelta(hours=2))
        log.touch.append((pid, fired, answered))
        if rng.random() < P_URGENT_WEEK:
            await _urgent(conn, rng, pid, team, fired + timedelta(days=2, hours=3), log)
    # Check-in questionnaires: the ledger (not landed) would send them; here they go out when due.
    for item in await program_modules.items_of(conn, program.id, pid):
        if item.item_kind == "checkin" and item.due_at < log.start + timedelta(days=last_day):
            await program_modules.mark_sent(conn, item.id, item.due_at, None)
            done = rng.random() < p_answer
            if done:
                await program_modules.mark_completed(conn, item.id, item.due_at + timedelta(hours=5))
            log.checkins.append((pid, item.due_at, done))
    if withdraw_day is not None:
        await step(S.WITHDRAWN, to_instant(enrol_day + timedelta(days=withdraw_day), time(12, 0), zone_name), "moved")


async def _urgent(conn, rng, pid, team, at, log) -> None:
    upsert = await alert_store.open_or_update_alert(
        conn,
        patient_id=pid,
        rule_id="bp-crisis",
        severity="urgent",
        dedup_key=f"sim:{pid}:{at.isoformat()}",
        summary="simulated",
        evidence={},
        now=at,
    )
    log.alerts.append((pid, at))
    task = await tasks.create_task(
        conn,
        patient_id=pid,
        care_team_id=team,
        assignee_id=None,
        severity="urgent",
        title="Urgent",
        due_at=at + timedelta(minutes=30),
        now=at,
        kind="alert",
    )
    del upsert
    if rng.random() < P_NO_CONTACT:
        log.urgent.append((pid, at, None))
        return
    contact = at + timedelta(minutes=rng.expovariate(1 / 20))
    reached = rng.random() < 0.8
    staff = rng.choice(log.staff[team])
    await actions.record_outcome(
        conn, task, Outcome.REACHED if reached else Outcome.NOT_REACHED, actor=staff, now=contact
    )
    log.urgent.append((pid, at, contact))
    log.contacts.append((pid, contact, reached))


def local_days(log: SimLog, pid: int) -> set[date]:
    return {local_date(at, log.zone[pid]) for at, _ in log.readings.get(pid, [])}
