"""Virtual Bluetooth SIG Glucose meter (GLS + RACP + DIS + CTS) for the in-process radio."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bumble import att
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service

from vitalgate.devices import racp
from vitalgate.devices.errors import DecodeError
from vitalgate.devices.gatt import (
    GLUCOSE_FEATURE,
    GLUCOSE_MEASUREMENT,
    GLUCOSE_MEASUREMENT_CONTEXT,
    GLUCOSE_SERVICE,
    RACP,
)
from vitalgate.devices.glucose import encode_glucose_context, encode_glucose_measurement
from vitalgate.devices.virtual._pairing import install_passkey_display
from vitalgate.devices.virtual._server import (
    ConnectionTasks,
    VirtualClock,
    characteristic,
    device_information_service,
    uuid_str,
)

__all__ = ["StoredGlucoseRecord", "VirtualGlucoseMeter"]

log = logging.getLogger(__name__)
P = Characteristic.Properties
Op, Oper, Code = racp.Opcode, racp.Operator, racp.ResponseCode

# Glucose Feature: low battery detection, sensor malfunction, sample size,
# strip insertion error, strip type error, result high-low, temp high-low (bits 0..6).
_FEATURES = 0x007F


@dataclass(frozen=True, slots=True)
class StoredGlucoseRecord:
    """One reading in the meter's memory; base_time is on the *device* clock."""

    sequence_number: int
    base_time: datetime
    mg_dl: float
    time_offset_minutes: int | None = 0
    sample_type: str | None = "capillary whole blood"
    sample_location: str | None = "finger"
    sensor_status: frozenset[str] = field(default_factory=frozenset)
    meal: str | None = None


def _ordinal(value: int | datetime) -> float:
    """An RACP operand as a number: sequence numbers as they are, times as seconds since year 1 (same order)."""
    return (value - datetime.min).total_seconds() if isinstance(value, datetime) else float(value)


class VirtualGlucoseMeter:
    """A GLS meter: stored records served over RACP, notifications per record, bonding required."""

    advertised_service_uuids: tuple[int, ...] = (GLUCOSE_SERVICE,)

    def __init__(
        self,
        name: str = "VG Meter",
        serial: str = "VGM-0001",
        model: str = "VG-1",
        manufacturer: str = "VitalGate Virtual",
        firmware: str = "1.0",
        records: Iterable[StoredGlucoseRecord] = (),
        unit: str = "kg/L",
        clock_skew: timedelta = timedelta(0),
        require_bonding: bool = True,
        omit_optional: bool = False,
        passkey: int | None = None,
    ) -> None:
        self.name = name
        self.serial, self.model, self.manufacturer, self.firmware = serial, model, manufacturer, firmware
        self.unit = unit
        self.clock = VirtualClock(clock_skew)
        # passkey: the meter "displays" it and accepts only authenticated (MITM) passkey pairing,
        # like an Accu-Chek Guide; it implies bonding.
        if passkey is not None and not 0 <= passkey <= 999_999:
            raise ValueError(f"a passkey has 6 decimal digits (0..999999), got {passkey}")
        self.passkey = passkey
        self.require_bonding = require_bonding or passkey is not None
        # omit_optional: no context characteristic, no CTS, no serial/firmware in DIS,
        # measurements without time offset / type-location (cheap meters do this).
        self.omit_optional = omit_optional
        self._records: list[StoredGlucoseRecord] = list(records)
        self._next_seq = max((r.sequence_number for r in self._records), default=0) + 1
        self._tasks = ConnectionTasks()
        # connection handle -> True once the running procedure sent its final RACP indication
        self._responding: dict[int, bool] = {}
        self._device: Device | None = None
        # Test hooks: raw RACP writes seen, sequence numbers sent as garbage, per-record delay.
        self.requests: list[bytes] = []
        self.malformed_sequences: set[int] = set()
        self.record_delay: float = 0.0

    # -- memory ----------------------------------------------------------------
    @property
    def records(self) -> tuple[StoredGlucoseRecord, ...]:
        """Records currently in memory, oldest first."""
        return tuple(self._records)

    def add_record(
        self,
        mg_dl: float,
        *,
        base_time: datetime | None = None,
        meal: str | None = None,
        **kwargs: Any,  # further StoredGlucoseRecord fields (context, status, ...)
    ) -> StoredGlucoseRecord:
        """Take a new reading now (device clock) with the next sequence number."""
        record = StoredGlucoseRecord(
            sequence_number=self._next_seq,
            base_time=(base_time or self.clock.now()).replace(microsecond=0),
            mg_dl=mg_dl,
            meal=meal,
            **kwargs,
        )
        self._next_seq = (self._next_seq + 1) & 0xFFFF
        self._records.append(record)
        return record

    def restart_sequence(self) -> None:
        """Battery-change quirk: the counter restarts at 1 while old records stay in memory."""
        self._next_seq = 1

    def now(self) -> datetime:
        """Device clock."""
        return self.clock.now()

    # -- GATT ------------------------------------------------------------------
    def attach(self, device: Device) -> None:
        """Install DIS, GLS (and CTS unless omit_optional) on `device`."""
        self._device = device
        if self.passkey is not None:
            install_passkey_display(device, self.passkey)
        secure = self.require_bonding
        self._meas = characteristic(device, GLUCOSE_MEASUREMENT, P.NOTIFY, secure=secure)
        self._ctx = characteristic(device, GLUCOSE_MEASUREMENT_CONTEXT, P.NOTIFY, secure=secure)
        feature = characteristic(device, GLUCOSE_FEATURE, P.READ, secure=secure, value=_FEATURES.to_bytes(2, "little"))
        self._racp = characteristic(
            device, RACP, P.WRITE | P.INDICATE, secure=secure, value=CharacteristicValue(write=self._on_racp_write)
        )
        gls = [self._meas] + ([] if self.omit_optional else [self._ctx]) + [feature, self._racp]
        optional = None if self.omit_optional else self.serial
        device.add_service(
            device_information_service(
                self.manufacturer, self.model, optional, None if self.omit_optional else self.firmware
            )
        )
        device.add_service(Service(uuid_str(GLUCOSE_SERVICE), gls))
        if not self.omit_optional:
            device.add_service(self.clock.service(device, secure=secure))

    def _racp_subscribed(self, connection: Connection) -> bool:
        assert self._device is not None
        cccd = self._device.gatt_server.subscribers.get(connection, {}).get(self._racp.handle)
        return cccd is not None and len(cccd) > 0 and bool(cccd[0] & 0x02)

    def _on_racp_write(self, connection: Connection, value: bytes) -> None:
        self.requests.append(bytes(value))
        # GLS 3.3.3: RACP writes without indications enabled / while busy are ATT errors.
        if not self._racp_subscribed(connection):
            raise att.ATT_Error(att.ErrorCode.CCCD_IMPROPERLY_CONFIGURED)
        if value[:1] == bytes([Op.ABORT_OPERATION]):
            self._tasks.cancel(connection)
            self._start(connection, lambda: self._respond(connection, Op.ABORT_OPERATION, Code.SUCCESS))
            return
        if self._procedure_running(connection):
            raise att.ATT_Error(att.ErrorCode.PROCEDURE_ALREADY_IN_PROGRESS)
        self._start(connection, lambda: self._handle(connection, bytes(value)))

    def _start(self, connection: Connection, coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._responding[connection.handle] = False
        self._tasks.start(connection, coro_fn)

    def _procedure_running(self, connection: Connection) -> bool:
        """GLS: one RACP procedure at a time; it ends when its response indication is confirmed."""
        if not self._tasks.running(connection):
            return False
        if not self._responding.get(connection.handle):
            return True
        # The client may confirm the final indication and write the next request in one
        # radio event (one UART/TCP read): the confirmation has resolved bumble's pending
        # future, but our task has not resumed yet. The ATT transaction, and with it the
        # procedure, is over at the confirmation (Core Vol 3 Part F 3.4.7.2-3), so accept.
        assert self._device is not None
        pending = self._device.gatt_server.pending_confirmations.get(connection)
        return pending is None or not pending.done()

    async def _indicate_final(self, connection: Connection, value: bytes) -> None:
        """Send the procedure's last RACP indication (response code / number of records)."""
        assert self._device is not None
        self._responding[connection.handle] = True
        await self._device.indicate_subscriber(connection, self._racp, value)

    async def _respond(self, connection: Connection, opcode: int, code: racp.ResponseCode) -> None:
        await self._indicate_final(connection, racp.encode_response_code(opcode, code))

    async def _handle(self, connection: Connection, value: bytes) -> None:
        try:
            request = racp.parse_racp_request(value)
        except racp.RacpRequestError as exc:
            log.debug("bad RACP request %s: %s", value.hex(), exc)
            await self._respond(connection, exc.opcode or 0, exc.response_code)
            return
        except DecodeError as exc:  # e.g. empty write
            log.debug("bad RACP request %s: %s", value.hex(), exc)
            await self._respond(connection, 0, Code.OP_CODE_NOT_SUPPORTED)
            return
        assert self._device is not None
        selected = self._select(request)
        if request.opcode == Op.REPORT_NUMBER_OF_STORED_RECORDS:
            await self._indicate_final(connection, racp.encode_number_of_records(len(selected)))
            return
        if not selected:
            await self._respond(connection, request.opcode, Code.NO_RECORDS_FOUND)
            return
        if request.opcode == Op.DELETE_STORED_RECORDS:
            doomed = {id(r) for r in selected}
            self._records = [r for r in self._records if id(r) not in doomed]
        else:
            for record in selected:
                await self._send_record(connection, record)
        await self._respond(connection, request.opcode, Code.SUCCESS)

    def _select(self, request: racp.RacpRequest) -> list[StoredGlucoseRecord]:
        """Records matching an already-validated request, in memory order."""
        records = self._records
        operator = request.operator
        if operator == Oper.ALL:
            return list(records)
        if operator in (Oper.FIRST, Oper.LAST):
            # "First/last" mean oldest/newest in memory, not min/max sequence number:
            # after a sequence restart the newest record has the *smallest* number.
            if not records:
                return []
            return [records[0] if operator == Oper.FIRST else records[-1]]

        def key(r: StoredGlucoseRecord) -> float:
            if request.filter_type == racp.FilterType.SEQUENCE_NUMBER:
                return _ordinal(r.sequence_number)
            return _ordinal(r.base_time + timedelta(minutes=r.time_offset_minutes or 0))  # user facing time

        ops = [_ordinal(o) for o in request.operands]
        if operator == Oper.LESS_OR_EQUAL:
            return [r for r in records if key(r) <= ops[0]]
        if operator == Oper.GREATER_OR_EQUAL:
            return [r for r in records if key(r) >= ops[0]]
        return [r for r in records if ops[0] <= key(r) <= ops[1]]

    async def _send_record(self, connection: Connection, record: StoredGlucoseRecord) -> None:
        assert self._device is not None
        with_context = record.meal is not None and not self.omit_optional
        measurement = encode_glucose_measurement(
            sequence_number=record.sequence_number,
            base_time=record.base_time,
            time_offset_minutes=None if self.omit_optional else record.time_offset_minutes,
            mg_dl=record.mg_dl,
            unit=self.unit,
            sample_type=record.sample_type,  # mandatory with a concentration
            sample_location=None if self.omit_optional else record.sample_location,
            sensor_status=record.sensor_status,
            context_follows=with_context,
        )
        if record.sequence_number in self.malformed_sequences:
            measurement = measurement[:5]  # truncated PDU, as flaky firmware sends
        if self.record_delay:
            await asyncio.sleep(self.record_delay)
        await self._device.notify_subscriber(connection, self._meas, measurement)
        if with_context:
            context = encode_glucose_context(sequence_number=record.sequence_number, meal=record.meal)
            await self._device.notify_subscriber(connection, self._ctx, context)
