"""The one interface every transport implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A rendered message for one address; `idempotency_key` travels with it so a receiver can de-duplicate."""

    delivery_id: int
    idempotency_key: str
    medium: str
    to: str
    subject: str
    text: str
    locale: str
    urgent: bool
    link: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """ok: the provider took the message (provider_message_id if it gave one); else the error.

    `permanent`: retrying cannot help (the provider refused the address); the message is dead at once.
    """

    ok: bool
    provider_message_id: str | None = None
    error: str | None = None
    permanent: bool = False


class Transport(Protocol):
    name: str

    async def send(self, message: Outgoing) -> SendResult: ...

    async def close(self) -> None: ...
