"""Helpers shared by the virtual peripherals: secured characteristics and clocks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from bumble.att import Attribute
from bumble.device import Device
from bumble.gatt import (
    GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR,
    Characteristic,
    CharacteristicValue,
    Descriptor,
    Service,
)

from vitalgate.devices.gatt import (
    CURRENT_TIME,
    CURRENT_TIME_SERVICE,
    DEVICE_INFORMATION,
    FIRMWARE_REVISION,
    MANUFACTURER_NAME,
    MODEL_NUMBER,
    SERIAL_NUMBER,
)
from vitalgate.devices.profiles.cts import decode_current_time, encode_current_time

log = logging.getLogger(__name__)

P = Characteristic.Properties
_OPEN_R = Attribute.READABLE
_OPEN_W = Attribute.WRITEABLE
_ENC_R = Attribute.READABLE | Attribute.READ_REQUIRES_ENCRYPTION
_ENC_W = Attribute.WRITEABLE | Attribute.WRITE_REQUIRES_ENCRYPTION


def uuid_str(uuid: int) -> str:
    """bumble wants 16-bit UUIDs as 4-hex-digit strings."""
    return f"{uuid:04X}"


def characteristic(
    device: Device,
    uuid: int,
    properties: Characteristic.Properties,
    *,
    secure: bool,
    value: Any = b"",
) -> Characteristic[Any]:
    """Characteristic whose value (and CCCD, when subscribable) needs encryption if `secure`."""
    perms = Attribute.Permissions(0)
    if properties & P.READ:
        perms |= _ENC_R if secure else _OPEN_R
    if properties & (P.WRITE | P.WRITE_WITHOUT_RESPONSE):
        perms |= _ENC_W if secure else _OPEN_W
    char: Characteristic[Any] = Characteristic(uuid_str(uuid), properties, perms, value)
    if secure and properties & (P.NOTIFY | P.INDICATE):
        # bumble's auto-added CCCD is always open; GLS requires subscriptions on a
        # bonded link, so supply our own encrypted CCCD backed by the server's store.
        char.descriptors = [
            Descriptor(
                GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR,
                _ENC_R | _ENC_W,
                device.gatt_server.make_descriptor_value(char),
            )
        ]
    return char


def device_information_service(
    manufacturer: str | None, model: str | None, serial: str | None, firmware: str | None
) -> Service:
    """DIS with only the strings that are not None (omit_optional quirk)."""
    chars = [
        Characteristic(uuid_str(uuid), P.READ, _OPEN_R, text.encode())
        for uuid, text in (
            (MANUFACTURER_NAME, manufacturer),
            (MODEL_NUMBER, model),
            (SERIAL_NUMBER, serial),
            (FIRMWARE_REVISION, firmware),
        )
        if text is not None
    ]
    return Service(uuid_str(DEVICE_INFORMATION), chars)


class VirtualClock:
    """Device clock = host local naive time + skew; writing 0x2A2B changes the skew."""

    def __init__(self, skew: timedelta = timedelta(0)) -> None:
        self.skew = skew

    def now(self) -> datetime:
        """Current device time (naive, like a meter's display)."""
        return datetime.now() + self.skew

    def set(self, device_now: datetime) -> None:
        """What a gateway Current Time write does."""
        self.skew = device_now.replace(tzinfo=None) - datetime.now()

    def service(self, device: Device, *, secure: bool) -> Service:
        """Current Time Service exposing this clock (read/write)."""
        value = CharacteristicValue(
            read=lambda _conn: encode_current_time(self.now()),
            write=lambda _conn, data: self.set(decode_current_time(data)),
        )
        char = characteristic(device, CURRENT_TIME, P.READ | P.WRITE, secure=secure, value=value)
        return Service(uuid_str(CURRENT_TIME_SERVICE), [char])


class ConnectionTasks:
    """Per-connection background tasks, cancelled when the link drops (no orphans)."""

    def __init__(self) -> None:
        # Keyed by the connection object, not its handle: a controller reuses a handle for the next
        # link, and a task left waiting on a dropped link must not make the new one look busy.
        self._tasks: dict[Any, asyncio.Task[None]] = {}

    def running(self, connection: Any) -> bool:
        """True while a procedure task runs for this connection."""
        task = self._tasks.get(connection)
        return task is not None and not task.done()

    def start(self, connection: Any, coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `coro_fn()` for `connection`, cancelling it on disconnection."""
        task = asyncio.get_running_loop().create_task(coro_fn())
        self._tasks[connection] = task
        connection.once(connection.EVENT_DISCONNECTION, lambda *_: task.cancel())
        task.add_done_callback(self._log_failure)

    def cancel(self, connection: Any) -> bool:
        """Cancel the running task; True if there was one."""
        task = self._tasks.pop(connection, None)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    @staticmethod
    def _log_failure(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.warning("virtual peripheral task failed: %r", task.exception())
