"""The gateway's BlueZ pairing agent (org.bluez.Agent1), registered over D-Bus by the bleak radio.

Without a registered agent bluetoothd refuses every pairing that needs user space: LE Secure
Connections Just Works (the kernel asks to confirm) as well as passkey entry. bleak registers none,
so a headless hub could not bond a Just Works meter. This agent says yes only for devices the hub
itself is pairing or syncing (an agent that confirms anything would let any nearby device bond),
types the passkey given to `vitalgate gateway pair --passkey` (or asked at the terminal), and keeps
a per-device record of what BlueZ asked so a failed pairing gets the advice that fits.

The decision logic (`handle`) is plain: it maps one D-Bus method call to its reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import TYPE_CHECKING

import structlog

from vitalgate.gateway.radio.port import Passkey

if TYPE_CHECKING:
    from dbus_fast import Message
    from dbus_fast.aio import MessageBus

log = structlog.get_logger(__name__)

AGENT_PATH = "/org/vitalgate/pairing_agent"
AGENT_INTERFACE = "org.bluez.Agent1"
REJECTED = "org.bluez.Error.Rejected"
CANCELED = "org.bluez.Error.Canceled"


class Capability(StrEnum):
    """The IO capability the agent declares (decides the pairing method with the device's)."""

    NO_INPUT_NO_OUTPUT = "NoInputNoOutput"  # headless: Just Works
    KEYBOARD_DISPLAY = "KeyboardDisplay"  # an operator types the passkey the device displays


class Asked(StrEnum):
    """What BlueZ last asked the agent about a device, and what the agent answered."""

    CONFIRMED = "confirmed"  # Just Works / numeric comparison: accepted
    PASSKEY_ENTERED = "passkey entered"
    PASSKEY_MISSING = "passkey requested, none given"
    REJECTED_UNKNOWN = "rejected: not a device the hub is pairing"
    CANCELED = "canceled by BlueZ"


def address_of(device_path: str) -> str:
    """`/org/bluez/hci0/dev_C0_DE_00_00_00_01` -> `C0:DE:00:00:00:01`."""
    return device_path.rsplit("/", 1)[-1].removeprefix("dev_").replace("_", ":").upper()


class BluezAgent:
    """Agent state: the devices the hub expects to pair, their passkeys, and what BlueZ asked."""

    def __init__(self) -> None:
        self.capability = Capability.NO_INPUT_NO_OUTPUT
        self.registered = False
        self.unavailable: str | None = None  # why the agent is not registered (advice names it)
        self._passkeys: dict[str, Passkey | None] = {}
        self._asked: dict[str, Asked] = {}
        self._bus: MessageBus | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what the radio tells the agent ------------------------------------------------------
    def expect(self, address: str, passkey: Passkey | None = None) -> None:
        """`address` is being paired/synced by the hub: answer BlueZ's questions about it."""
        self._passkeys[address.upper()] = passkey
        self._asked.pop(address.upper(), None)

    def asked(self, address: str) -> Asked | None:
        """What BlueZ last asked about `address` (None: nothing, e.g. a bond was reused or pairing failed early)."""
        return self._asked.get(address.upper())

    # -- D-Bus method calls --------------------------------------------------------------------
    def handle(self, msg: Message) -> Message | bool | None:
        """Answer one Agent1 method call (the bus's message handler); None for other messages."""
        from dbus_fast import Message, MessageType

        if msg.message_type != MessageType.METHOD_CALL or msg.path != AGENT_PATH:
            return None
        if msg.interface not in (AGENT_INTERFACE, None):
            return None
        member, body = msg.member, list(msg.body)
        if member in ("Release", "DisplayPasskey", "DisplayPinCode"):
            return Message.new_method_return(msg)
        if member == "Cancel":
            for address, asked in self._asked.items():
                if asked is not Asked.CONFIRMED:
                    self._asked[address] = Asked.CANCELED
            return Message.new_method_return(msg)
        if member == "AuthorizeService":
            known = address_of(body[0]) in self._passkeys
            return Message.new_method_return(msg) if known else Message.new_error(msg, REJECTED, "unknown device")
        address = address_of(body[0]) if body else ""
        if address not in self._passkeys:
            self._asked[address] = Asked.REJECTED_UNKNOWN
            log.warning("gateway.agent_rejected", device=address, request=member)
            return Message.new_error(msg, REJECTED, "not a device this hub is pairing")
        if member in ("RequestConfirmation", "RequestAuthorization"):
            self._asked[address] = Asked.CONFIRMED
            return Message.new_method_return(msg)
        if member == "RequestPasskey":
            return self._passkey_reply(msg, address)
        return Message.new_error(msg, REJECTED, f"{member} is not supported by this hub")  # legacy PIN codes

    def _passkey_reply(self, msg: Message, address: str) -> Message | bool:
        from dbus_fast import Message

        source = self._passkeys[address]
        if source is None:
            self._asked[address] = Asked.PASSKEY_MISSING
            return Message.new_error(msg, REJECTED, "no passkey given for this device")
        self._asked[address] = Asked.PASSKEY_ENTERED
        if isinstance(source, int):
            return _passkey_message(msg, source)
        # An interactive prompt: answer when the operator has typed (the bus is not blocked meanwhile).
        task = asyncio.get_running_loop().create_task(self._prompt_and_reply(msg, source))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _prompt_and_reply(self, msg: Message, source: Passkey) -> None:
        assert not isinstance(source, int)
        reply = _passkey_message(msg, await source())
        if self._bus is not None:
            await self._bus.send(reply)

    # -- registration ----------------------------------------------------------------------
    async def use(self, capability: Capability) -> None:
        """Re-register with another IO capability (passkey entry for `pair --passkey`)."""
        if self._bus is None or capability == self.capability:
            self.capability = capability
            return
        await self._call("UnregisterAgent", "o", [AGENT_PATH])
        self.capability = capability
        await self._register()

    async def _register(self) -> None:
        # Default agent: bleak calls Device1.Pair on a bus connection of its own, and BlueZ asks the
        # caller's agent or, failing that, the default one.
        await self._call("RegisterAgent", "os", [AGENT_PATH, str(self.capability)])
        await self._call("RequestDefaultAgent", "o", [AGENT_PATH])
        self.registered = True
        log.info("gateway.agent_registered", capability=str(self.capability))

    async def _call(self, member: str, signature: str, body: list[object]) -> None:
        from dbus_fast import Message, MessageType

        assert self._bus is not None
        reply = await self._bus.call(
            Message(
                destination="org.bluez",
                path="/org/bluez",
                interface="org.bluez.AgentManager1",
                member=member,
                signature=signature,
                body=body,
            )
        )
        if reply is None or reply.message_type == MessageType.ERROR:
            detail = (reply.body[0] if reply is not None and reply.body else "") or ""
            raise RuntimeError(f"{member}: {reply.error_name if reply else 'no reply'} {detail}".strip())


def _passkey_message(msg: Message, passkey: int) -> Message:
    from dbus_fast import Message

    if not 0 <= passkey <= 999_999:  # the prompt's "no valid passkey": refuse rather than guess
        return Message.new_error(msg, REJECTED, "no valid passkey entered")
    return Message.new_method_return(msg, "u", [passkey])


@contextlib.asynccontextmanager
async def open_bluez_agent(*, enabled: bool = True) -> AsyncIterator[BluezAgent]:
    """Register the agent for the life of the context; an agent that cannot register says why."""
    agent = BluezAgent()
    if not enabled:
        agent.unavailable = "disabled by VITALGATE_GATEWAY_BLUEZ_AGENT=false"
        yield agent
        return
    if sys.platform != "linux":  # CoreBluetooth and WinRT pair through the OS's own dialogs
        agent.unavailable = f"no BlueZ on {sys.platform}"
        yield agent
        return
    from dbus_fast import BusType
    from dbus_fast.aio import MessageBus

    try:
        bus = await asyncio.wait_for(MessageBus(bus_type=BusType.SYSTEM).connect(), 10)
    except (OSError, TimeoutError, ValueError) as exc:
        agent.unavailable = f"no D-Bus system bus: {exc}"
        log.warning("gateway.agent_unavailable", reason=agent.unavailable)
        yield agent
        return
    agent._bus = bus
    bus.add_message_handler(agent.handle)
    try:
        try:
            await asyncio.wait_for(agent._register(), 10)
        except (RuntimeError, TimeoutError) as exc:  # e.g. bluetoothd not running, or D-Bus policy denies
            agent.unavailable = f"BlueZ refused the agent: {exc}"
            log.warning("gateway.agent_unavailable", reason=agent.unavailable)
        yield agent
    finally:
        if agent.registered:
            with contextlib.suppress(RuntimeError, TimeoutError, OSError):
                await asyncio.wait_for(agent._call("UnregisterAgent", "o", [AGENT_PATH]), 5)
        bus.disconnect()
