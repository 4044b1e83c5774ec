"""A GattClient that forwards every call to another one: the base of the hub's client wrappers."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from vitalgate.devices.gatt import GattClient, NotifyCallback


class GattClientProxy:
    """Forwards the GattClient protocol; subclasses override the one call they change."""

    def __init__(self, client: GattClient) -> None:
        self._client = client
        self.address = client.address

    @property
    def is_connected(self) -> bool:
        return self._client.is_connected

    async def connect(self) -> None:
        await self._client.connect()

    async def disconnect(self) -> None:
        await self._client.disconnect()

    async def pair(self) -> None:
        await self._client.pair()

    async def discover(self) -> frozenset[int]:
        return await self._client.discover()

    async def read(self, uuid: int) -> bytes:
        return await self._client.read(uuid)

    async def write(self, uuid: int, data: bytes) -> None:
        await self._client.write(uuid, data)

    async def subscribe(self, uuid: int, callback: NotifyCallback) -> None:
        await self._client.subscribe(uuid, callback)

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.disconnect()
