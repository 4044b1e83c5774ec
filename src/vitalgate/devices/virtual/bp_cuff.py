"""Virtual Bluetooth SIG Blood Pressure cuff (BLS + DIS + CTS): dumps its memory, then hangs up."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bumble import core, hci
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, Service

from vitalgate.devices.bp import encode_bp_feature, encode_bp_measurement, encode_intermediate_cuff_pressure
from vitalgate.devices.gatt import (
    BLOOD_PRESSURE_FEATURE,
    BLOOD_PRESSURE_MEASUREMENT,
    BLOOD_PRESSURE_SERVICE,
    INTERMEDIATE_CUFF_PRESSURE,
)
from vitalgate.devices.virtual._server import (
    ConnectionTasks,
    VirtualClock,
    characteristic,
    device_information_service,
    uuid_str,
)

__all__ = ["StoredBpReading", "VirtualBpCuff"]

log = logging.getLogger(__name__)
P = Characteristic.Properties
_FEATURES = frozenset({"body movement detection", "cuff fit detection", "irregular pulse detection"})


@dataclass(frozen=True, slots=True)
class StoredBpReading:
    """One reading in cuff memory; timestamp is on the *device* clock (None = cuff has no clock)."""

    timestamp: datetime | None
    systolic_mmhg: float
    diastolic_mmhg: float
    map_mmhg: float | None = None
    pulse_bpm: float | None = None
    user_id: int | None = None
    status: frozenset[str] = field(default_factory=frozenset)


class VirtualBpCuff:
    """A BLS cuff: once 0x2A35 indications are enabled it indicates every stored reading and disconnects."""

    advertised_service_uuids: tuple[int, ...] = (BLOOD_PRESSURE_SERVICE,)

    def __init__(
        self,
        name: str = "VG Cuff",
        serial: str = "VGC-0001",
        model: str = "VC-1",
        manufacturer: str = "VitalGate Virtual",
        firmware: str = "1.0",
        readings: Iterable[StoredBpReading] = (),
        unit: str = "mmHg",
        clock_skew: timedelta = timedelta(0),
        require_bonding: bool = False,
        omit_optional: bool = False,
        intermediate_pressures: Iterable[float] = (),
        disconnect_when_done: bool = True,
    ) -> None:
        self.name = name
        self.serial, self.model, self.manufacturer, self.firmware = serial, model, manufacturer, firmware
        self.readings: list[StoredBpReading] = list(readings)
        self.unit = unit
        self.clock = VirtualClock(clock_skew)
        self.require_bonding = require_bonding
        # omit_optional: no CTS, no 0x2A36, DIS without serial/firmware; readings go out
        # without pulse / user id / status even when stored (cheap cuffs do this).
        self.omit_optional = omit_optional
        # Cuff pressures (mmHg) notified on 0x2A36 before the dump, like a live inflation.
        self.intermediate_pressures = tuple(intermediate_pressures)
        self.disconnect_when_done = disconnect_when_done
        self.malformed_indexes: set[int] = set()  # test hook: readings sent truncated
        self.reading_delay: float = 0.0  # test hook: seconds between indications
        self._tasks = ConnectionTasks()
        self._device: Device | None = None

    def add_reading(self, reading: StoredBpReading) -> None:
        """Store a new reading (oldest first)."""
        self.readings.append(reading)

    def now(self) -> datetime:
        """Device clock."""
        return self.clock.now()

    def attach(self, device: Device) -> None:
        """Install DIS, BLS (and CTS unless omit_optional) on `device`."""
        self._device = device
        secure = self.require_bonding
        self._meas = characteristic(device, BLOOD_PRESSURE_MEASUREMENT, P.INDICATE, secure=secure)
        self._icp = characteristic(device, INTERMEDIATE_CUFF_PRESSURE, P.NOTIFY, secure=secure)
        feature = characteristic(
            device, BLOOD_PRESSURE_FEATURE, P.READ, secure=secure, value=encode_bp_feature(_FEATURES)
        )
        self._meas.on(self._meas.EVENT_SUBSCRIPTION, self._on_subscription)
        chars = [self._meas] + ([] if self.omit_optional else [self._icp]) + [feature]
        optional = not self.omit_optional
        device.add_service(
            device_information_service(
                self.manufacturer, self.model, self.serial if optional else None, self.firmware if optional else None
            )
        )
        device.add_service(Service(uuid_str(BLOOD_PRESSURE_SERVICE), chars))
        if optional:
            device.add_service(self.clock.service(device, secure=secure))

    def _on_subscription(self, connection: Connection, _notify: bool, indicate: bool) -> None:
        if indicate and not self._tasks.running(connection):
            self._tasks.start(connection, lambda: self._dump(connection))

    async def _dump(self, connection: Connection) -> None:
        assert self._device is not None
        # Give the collector a moment to finish its own subscriptions, as real cuffs
        # wait for the CCCD writes to settle before streaming.
        await asyncio.sleep(0.02)
        for pressure in self.intermediate_pressures:
            await self._device.notify_subscriber(
                connection, self._icp, encode_intermediate_cuff_pressure(pressure, self.unit, self.clock.now())
            )
        for index, reading in enumerate(list(self.readings)):
            data = self._encode(reading)
            if index in self.malformed_indexes:
                data = data[:4]
            if self.reading_delay:
                await asyncio.sleep(self.reading_delay)
            await self._device.indicate_subscriber(connection, self._meas, data)
        if self.disconnect_when_done:
            try:
                await asyncio.wait_for(connection.disconnect(), 5.0)
            except (TimeoutError, core.BaseBumbleError, hci.HCI_Error) as exc:
                log.debug("cuff disconnect failed: %s", exc)

    def _encode(self, r: StoredBpReading) -> bytes:
        keep = not self.omit_optional
        return encode_bp_measurement(
            r.systolic_mmhg,
            r.diastolic_mmhg,
            math.nan if r.map_mmhg is None else r.map_mmhg,
            unit=self.unit,
            timestamp=r.timestamp,
            pulse_bpm=r.pulse_bpm if keep else None,
            user_id=r.user_id if keep else None,
            status=r.status if keep else frozenset(),
        )
