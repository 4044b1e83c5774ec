"""Ask a meter for its newest record (RACP "report last") and share one subscription per characteristic.

The probe tells the sync whether the cursor record is still the newest (nothing to download) and,
after a download, whether the last record received is really the newest in memory: the only way
to notice a sequence restart when the old cursor record is still stored.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from vitalgate.devices import racp
from vitalgate.devices.errors import DecodeError
from vitalgate.devices.errors_gatt import DeviceTimeout, ProcedureError
from vitalgate.devices.gatt import GLUCOSE_MEASUREMENT, RACP, GattClient, NotifyCallback
from vitalgate.devices.glucose import GlucoseMeasurement, decode_glucose_measurement
from vitalgate.gateway.client_proxy import GattClientProxy


class SharedSubscriptions(GattClientProxy):
    """A GattClient wrapper: the first subscribe per characteristic goes to the device, later ones
    only replace the callback, so a probe and repeated driver runs can share one connection (bleak
    refuses a second start_notify on the same characteristic)."""

    def __init__(self, client: GattClient) -> None:
        super().__init__(client)
        self._callbacks: dict[int, NotifyCallback] = {}

    def release(self) -> None:
        """Point every subscription at a no-op: adapters may keep callbacks (and the records a
        driver collected through them) alive until the next connect."""
        for uuid in self._callbacks:
            self._callbacks[uuid] = _ignore

    async def disconnect(self) -> None:
        self._callbacks.clear()
        await self._client.disconnect()

    async def subscribe(self, uuid: int, callback: NotifyCallback) -> None:
        first = uuid not in self._callbacks
        self._callbacks[uuid] = callback
        if first:

            def forward(data: bytes) -> None:  # the latest callback for this uuid, swapped by _ignore on close
                self._callbacks[uuid](data)

            await self._client.subscribe(uuid, forward)


@dataclass(frozen=True, slots=True)
class Newest:
    """Answer to "report last record": empty memory, or the newest record (None if it did not decode)."""

    empty: bool
    measurement: GlucoseMeasurement | None = None


def _ignore(_data: bytes) -> None:
    """Notifications after a sync are not for anyone."""


async def newest_record(client: SharedSubscriptions, *, timeout: float = 10.0) -> Newest:
    """The newest record in meter memory; raises DeviceTimeout / ProcedureError."""
    got: list[GlucoseMeasurement] = []
    responses: asyncio.Queue[bytes] = asyncio.Queue(maxsize=16)

    def on_measurement(data: bytes) -> None:
        try:
            got.append(decode_glucose_measurement(bytes(data)))
        except DecodeError:
            pass  # a garbled record: the sync itself will report and keep it

    def on_racp(data: bytes) -> None:
        if not responses.full():
            responses.put_nowait(bytes(data))

    await client.subscribe(GLUCOSE_MEASUREMENT, on_measurement)
    await client.subscribe(RACP, on_racp)
    await client.write(RACP, racp.report_last())
    try:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    response = racp.parse_racp_response(await responses.get())
                except DecodeError:
                    continue
                if isinstance(response, racp.ResponseCodeResponse):
                    break
    except TimeoutError:
        raise DeviceTimeout(
            f"{client.address}: no answer to RACP 'report last record'", address=client.address
        ) from None
    if response.code == racp.ResponseCode.NO_RECORDS_FOUND:
        return Newest(empty=True)
    if response.code != racp.ResponseCode.SUCCESS:
        raise ProcedureError(f"{client.address}: 'report last record' failed: {response.name}", address=client.address)
    return Newest(empty=False, measurement=got[-1] if got else None)
