"""BleakGattClient against a fake BleakClient / establish_connection / BleakScanner (no radio)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from bleak.backends.device import BLEDevice
from bleak.exc import BleakDBusError, BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak_retry_connector import BleakNotFoundError, BleakOutOfConnectionSlotsError

from vitalgate.devices import racp
from vitalgate.devices.adapters import bleak_client as mod
from vitalgate.devices.adapters.bleak_client import BleakGattClient, bleak_scan
from vitalgate.devices.errors_gatt import (
    DeviceConnectionError,
    DeviceError,
    DeviceNotFound,
    DeviceTimeout,
    PairingError,
)
from vitalgate.devices.gatt import GattClient
from vitalgate.devices.glucose import encode_glucose_measurement
from vitalgate.devices.profiles import read_device_information, sync_glucose

ADDR = "AA:BB:CC:DD:EE:01"


def full(u: int) -> str:
    return f"0000{u:04x}-0000-1000-8000-00805f9b34fb"


def char(u: int, *props: str) -> SimpleNamespace:
    return SimpleNamespace(uuid=full(u), properties=list(props), handle=u)


SERVICES = [
    SimpleNamespace(uuid=full(0x180A), characteristics=[char(0x2A29, "read"), char(0x2A24, "read")]),
    SimpleNamespace(
        uuid=full(0x1808),
        characteristics=[char(0x2A18, "notify"), char(0x2A51, "read"), char(0x2A52, "write", "indicate")],
    ),
    # A vendor service with a 128-bit UUID must be ignored, not crash the mapping.
    SimpleNamespace(uuid="8d53dc1d-1db7-4cd3-868b-8a527460aa84", characteristics=[]),
]


class FakeMeterClient:
    """Just enough of BleakClient to act like a GLS meter with three records."""

    def __init__(self, *, pair_error: BaseException | None = None, read_error: BaseException | None = None) -> None:
        self.is_connected = True
        self.services = SERVICES
        self.callbacks: dict[int, Any] = {}
        self.writes: list[tuple[int, bytes, bool]] = []
        self.pair_error, self.read_error = pair_error, read_error
        self.paired = False

    async def pair(self) -> None:
        if self.pair_error:
            raise self.pair_error
        self.paired = True

    async def disconnect(self) -> None:
        self.is_connected = False

    async def read_gatt_char(self, c: SimpleNamespace) -> bytearray:
        if self.read_error:
            raise self.read_error
        return bytearray({0x2A29: b"Roche\x00", 0x2A24: b"Guide", 0x2A51: b"\x00\x00"}[c.handle])

    async def start_notify(self, c: SimpleNamespace, callback: Any) -> None:
        self.callbacks[c.handle] = callback

    async def write_gatt_char(self, c: SimpleNamespace, data: bytes, response: bool) -> None:
        self.writes.append((c.handle, bytes(data), response))
        loop = asyncio.get_running_loop()
        request = racp.parse_racp_request(bytes(data))
        if request.opcode == racp.Opcode.REPORT_NUMBER_OF_STORED_RECORDS:
            loop.call_soon(self._send, 0x2A52, racp.encode_number_of_records(3))
            return
        first = request.operands[0] if request.operands else 1
        for seq in range(max(first, 1), 4):
            m = encode_glucose_measurement(
                sequence_number=seq,
                base_time=datetime(2026, 5, 1, 8, seq),
                mg_dl=100.0 + seq,
                sample_type="capillary plasma",
            )
            loop.call_soon(self._send, 0x2A18, m)
        code = racp.ResponseCode.SUCCESS if first <= 3 else racp.ResponseCode.NO_RECORDS_FOUND
        loop.call_soon(self._send, 0x2A52, racp.encode_response_code(request.opcode, code))

    def _send(self, handle: int, data: bytes) -> None:
        self.callbacks[handle](char(handle), bytearray(data))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    state: dict[str, Any] = {"client": FakeMeterClient(), "connect_error": None, "calls": []}

    async def fake_establish(client_class: type, device: BLEDevice, name: str, **kwargs: Any) -> FakeMeterClient:
        state["calls"].append((client_class, device.address, name, kwargs))
        if state["connect_error"] is not None:
            raise state["connect_error"]
        return state["client"]

    class FakeScanner:
        @staticmethod
        async def find_device_by_address(address: str, timeout: float = 10.0) -> BLEDevice | None:
            return BLEDevice(address, "Meter", details=None) if address == ADDR else None

        @staticmethod
        async def discover(timeout: float = 5.0, return_adv: bool = False, **kwargs: Any) -> dict[str, Any]:
            state["scan_kwargs"] = kwargs

            def adv(name: str | None, uuids: list[str], rssi: int) -> SimpleNamespace:
                return SimpleNamespace(local_name=name, service_uuids=uuids, rssi=rssi)

            return {
                ADDR: (BLEDevice(ADDR, "os-name", None), adv("Accu-Chek", [full(0x1808)], -60)),
                "AA:BB:CC:DD:EE:02": (BLEDevice("AA:BB:CC:DD:EE:02", "Cuff", None), adv(None, [full(0x1810)], -70)),
                "AA:BB:CC:DD:EE:03": (BLEDevice("AA:BB:CC:DD:EE:03", "HRM", None), adv("HRM", [full(0x180D)], -40)),
            }

    monkeypatch.setattr(mod, "establish_connection", fake_establish)
    monkeypatch.setattr(mod, "BleakScanner", FakeScanner)
    return state


async def test_glucose_sync_runs_unchanged_over_the_bleak_adapter(fake: dict[str, Any]) -> None:
    client = BleakGattClient(ADDR)
    assert isinstance(client, GattClient)
    async with client:
        await client.pair()
        info = await read_device_information(client)
        result = await sync_glucose(client, after_sequence=1)
    assert fake["client"].paired and not client.is_connected
    assert [r.measurement.sequence_number for r in result.records] == [2, 3]
    assert result.stored_count == 3 and result.device_time is None
    assert (info.manufacturer, info.model, info.serial, info.serial_from_address) == ("Roche", "Guide", ADDR, True)
    assert all(response is True for _, _, response in fake["client"].writes)
    assert fake["calls"][0][1] == ADDR


async def test_discover_maps_uuid_strings_to_16_bit(fake: dict[str, Any]) -> None:
    async with BleakGattClient(BLEDevice(ADDR, "Meter", None)) as client:
        uuids = await client.discover()
    assert uuids == {0x180A, 0x2A29, 0x2A24, 0x1808, 0x2A18, 0x2A51, 0x2A52}


async def test_unknown_address_is_device_not_found(fake: dict[str, Any]) -> None:
    with pytest.raises(DeviceNotFound) as info:
        await BleakGattClient("11:22:33:44:55:66", scan_timeout=0.1).connect()
    assert "Wake the device" in info.value.advice


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (BleakNotFoundError("gone"), DeviceNotFound),
        (BleakDeviceNotFoundError(ADDR, "gone"), DeviceNotFound),
        (BleakOutOfConnectionSlotsError("slots"), DeviceConnectionError),
        (BleakError("failed to connect"), DeviceConnectionError),
        (TimeoutError(), DeviceTimeout),
    ],
)
async def test_connect_failures_are_classified(fake: dict[str, Any], error: BaseException, expected: type) -> None:
    fake["connect_error"] = error
    with pytest.raises(expected) as info:
        await BleakGattClient(ADDR).connect()
    assert info.value.advice and info.value.address == ADDR


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (BleakGATTProtocolError(0x0F), PairingError),
        (BleakGATTProtocolError(0x05), PairingError),
        (BleakDBusError("org.bluez.Error.NotPermitted", ["Read not permitted"]), PairingError),
        (BleakGATTProtocolError(0x0E), DeviceError),
    ],
)
async def test_gatt_failures_are_classified(fake: dict[str, Any], error: BaseException, expected: type) -> None:
    fake["client"] = FakeMeterClient(read_error=error)
    async with BleakGattClient(ADDR) as client:
        with pytest.raises(expected):
            await client.read(0x2A51)


async def test_pair_failure_is_pairing_error_and_missing_char_is_device_error(fake: dict[str, Any]) -> None:
    fake["client"] = FakeMeterClient(pair_error=BleakDBusError("org.bluez.Error.AuthenticationFailed", []))
    async with BleakGattClient(ADDR) as client:
        with pytest.raises(PairingError):
            await client.pair()
        with pytest.raises(DeviceError, match="0x2A35 not present"):
            await client.read(0x2A35)


async def test_bluez_pairing_failure_names_the_agent_and_the_passkey_option(fake: dict[str, Any]) -> None:
    fake["client"] = FakeMeterClient(pair_error=BleakDBusError("org.bluez.Error.AuthenticationRejected", []))
    async with BleakGattClient(ADDR) as client:
        with pytest.raises(PairingError) as info:
            await client.pair()
    assert "pairing agent" in info.value.advice and "--passkey" in info.value.advice


async def test_bond_made_by_bluetoothctl_is_used_with_a_passkey_given(fake: dict[str, Any]) -> None:
    async with BleakGattClient(ADDR, passkey=123456) as client:
        await client.pair()  # BlueZ already has the bond: bleak's pair() returns at once
        assert fake["client"].paired
        assert len((await sync_glucose(client)).records) == 3


async def test_operations_after_disconnect_raise_connection_error(fake: dict[str, Any]) -> None:
    client = BleakGattClient(ADDR)
    await client.connect()
    fake["client"].is_connected = False  # link dropped underneath us
    with pytest.raises(DeviceConnectionError):
        await client.read(0x2A29)
    await client.disconnect()  # idempotent


async def test_bleak_scan_filters_by_service_uuid(fake: dict[str, Any]) -> None:
    found = await bleak_scan(timeout=0.1)
    assert [(a.name, a.address, a.rssi, a.service_uuids) for a in found] == [
        ("Accu-Chek", ADDR, -60, (0x1808,)),
        ("Cuff", "AA:BB:CC:DD:EE:02", -70, (0x1810,)),
    ]
    assert fake["scan_kwargs"]["service_uuids"] == [full(0x1808), full(0x1810)]
    assert len(await bleak_scan(timeout=0.1, service_uuids=())) == 3
