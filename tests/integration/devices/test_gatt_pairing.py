"""RACP back-to-back requests in one radio event, and passkey pairing, over real bumble GATT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from bumble.controller import Controller

from vitalgate.devices import racp
from vitalgate.devices.errors_gatt import DeviceError, PairingError
from vitalgate.devices.gatt import RACP
from vitalgate.devices.profiles import sync_glucose
from vitalgate.devices.virtual import StoredGlucoseRecord, VirtualGlucoseMeter, VirtualRadio

T0 = datetime(2026, 1, 1, 7, 0, 0)
PASSKEY = 123456
_H4_ACL, _ATT_CID, _ATT_HANDLE_VALUE_CONFIRMATION = 0x02, 0x0004, 0x1E


def records(n: int) -> list[StoredGlucoseRecord]:
    return [
        StoredGlucoseRecord(sequence_number=i + 1, base_time=T0 + timedelta(hours=i), mg_dl=100.0 + i) for i in range(n)
    ]


@pytest.fixture
async def radio() -> AsyncIterator[VirtualRadio]:
    async with VirtualRadio() as r:
        yield r


class OneReadPipe:
    """Host->controller path that holds each ATT confirmation until the host's next packet,
    then hands both to the controller at once: what one UART or TCP read does."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.held: list[bytes] = []
        self.coalesced = 0  # confirmations delivered together with a following packet
        self._flush_timer: asyncio.TimerHandle | None = None

    @staticmethod
    def _is_confirmation(packet: bytes) -> bool:
        # H4 type, handle(2), length(2), L2CAP length(2), CID(2), ATT opcode
        return (
            len(packet) >= 10
            and packet[0] == _H4_ACL
            and int.from_bytes(packet[7:9], "little") == _ATT_CID
            and packet[9] == _ATT_HANDLE_VALUE_CONFIRMATION
        )

    def on_packet(self, packet: bytes) -> None:
        loop = asyncio.get_running_loop()
        if self._is_confirmation(packet):
            self.held.append(bytes(packet))
            if self._flush_timer is None:  # nothing followed (end of the session): send it alone
                self._flush_timer = loop.call_later(0.05, self._flush, [])
            return
        if self.held:
            self.coalesced += len(self.held)
        loop.call_soon(self._flush, [bytes(packet)])

    def _flush(self, extra: list[bytes]) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        batch, self.held = self.held + extra, []
        for packet in batch:  # one loop callback, no turn for the peripheral in between
            self.controller.on_packet(packet)


async def test_next_racp_write_in_the_same_read_as_the_confirmation(radio: VirtualRadio) -> None:
    meter = VirtualGlucoseMeter(records=records(30))
    address = await radio.add(meter)
    pipes: list[OneReadPipe] = []

    def pipe(controller: Controller) -> OneReadPipe:
        pipes.append(OneReadPipe(controller))
        return pipes[-1]

    async with radio.client(address, timeout=5.0, pipe=pipe) as client:
        await client.pair()
        first = await sync_glucose(client, timeout=10.0)
        # number-of-records, report-all, then report-greater-or-equal, each written
        # right behind the confirmation of the previous response.
        meter.add_record(150.0)
        second = await sync_glucose(client, after_sequence=30, timeout=10.0)
    assert [r.measurement.sequence_number for r in first.records] == list(range(1, 31))
    assert [r.measurement.sequence_number for r in second.records] == [31]
    assert pipes[0].coalesced >= 3  # the race really was exercised, not dodged by timing
    assert meter.requests[:2] == [racp.report_number_all(), racp.report_all()]


async def test_write_while_a_procedure_streams_is_still_refused(radio: VirtualRadio) -> None:
    meter = VirtualGlucoseMeter(records=records(5))
    meter.record_delay = 0.05  # keep the first procedure busy
    address = await radio.add(meter)
    async with radio.client(address, timeout=5.0) as client:
        await client.pair()
        responses: asyncio.Queue[bytes] = asyncio.Queue()
        await client.subscribe(RACP, responses.put_nowait)
        await client.write(RACP, racp.report_all())
        with pytest.raises(DeviceError) as info:
            await client.write(RACP, racp.report_number_all())
        assert "PROCEDURE_ALREADY_IN_PROGRESS" in str(info.value)
        done = racp.parse_racp_response(await asyncio.wait_for(responses.get(), 5))
        assert isinstance(done, racp.ResponseCodeResponse) and done.code == racp.ResponseCode.SUCCESS


async def test_passkey_pairing_then_sync(radio: VirtualRadio) -> None:
    address = await radio.add(VirtualGlucoseMeter(records=records(12), passkey=PASSKEY))
    asked: list[int] = []

    async def typed() -> int:  # what a person reads off the meter's display
        asked.append(1)
        return PASSKEY

    client = radio.client(address, timeout=5.0, passkey=typed)
    async with client:
        await client.pair()
        result = await sync_glucose(client)
    assert len(asked) == 1
    assert [r.measurement.sequence_number for r in result.records] == list(range(1, 13))
    async with client:  # the bond is kept: re-encryption, nobody is asked again
        await client.pair()
        assert len((await sync_glucose(client)).records) == 12
    assert len(asked) == 1


async def test_passkey_as_int_and_just_works_meter_ignores_it(radio: VirtualRadio) -> None:
    plain = await radio.add(VirtualGlucoseMeter(records=records(3)))
    async with radio.client(plain, timeout=5.0, passkey=999999) as client:
        await client.pair()  # no display on this meter: Just Works, the passkey is never used
        assert len((await sync_glucose(client)).records) == 3


async def test_wrong_passkey_fails_with_advice(radio: VirtualRadio) -> None:
    address = await radio.add(VirtualGlucoseMeter(records=records(3), passkey=PASSKEY))
    async with radio.client(address, timeout=5.0, passkey=654321) as client:
        with pytest.raises(PairingError) as info:
            await client.pair()
    assert "did not match" in info.value.advice
    assert "CONFIRM_VALUE_FAILED" in str(info.value)


async def test_just_works_against_a_passkey_meter_fails_with_advice(radio: VirtualRadio) -> None:
    address = await radio.add(VirtualGlucoseMeter(records=records(3), passkey=PASSKEY))
    async with radio.client(address, timeout=5.0) as client:
        with pytest.raises(PairingError) as info:
            await client.pair()
        assert "--passkey" in info.value.advice
        with pytest.raises(PairingError):  # and nothing is readable on the unpaired link
            await sync_glucose(client)


def test_meter_rejects_a_passkey_with_more_than_six_digits() -> None:
    with pytest.raises(ValueError, match="6 decimal digits"):
        VirtualGlucoseMeter(passkey=1_000_000)
