"""The hub's BlueZ pairing agent: its answers to BlueZ's Agent1 calls and the advice a failed pairing gets.

No D-Bus here: BlueZ's calls are built as the dbus_fast messages bluetoothd sends (org.bluez.Agent1,
BlueZ doc/agent-api.txt); registration itself is proven against a real bluetoothd by tests/realstack.
"""

from __future__ import annotations

import asyncio

import pytest
from dbus_fast import Message, MessageType

from vitalgate.devices.errors_gatt import PairingError
from vitalgate.gateway.radio.bleak_radio import _AgentPairing, pairing_advice
from vitalgate.gateway.radio.bluez_agent import AGENT_PATH, REJECTED, Asked, BluezAgent, address_of, open_bluez_agent

ADDR = "C0:DE:00:00:00:01"
DEVICE = "/org/bluez/hci0/dev_C0_DE_00_00_00_01"


def call(member: str, signature: str = "o", body: list[object] | None = None, path: str = AGENT_PATH) -> Message:
    return Message(
        path=path, interface="org.bluez.Agent1", member=member, signature=signature,
        body=[DEVICE] if body is None else body, serial=7, sender=":1.2",
    )  # fmt: skip


def test_address_from_bluez_device_path() -> None:
    assert address_of(DEVICE) == ADDR


def test_just_works_is_confirmed_only_for_a_device_the_hub_pairs() -> None:
    agent = BluezAgent()
    refused = agent.handle(call("RequestAuthorization"))
    assert isinstance(refused, Message) and refused.message_type == MessageType.ERROR
    assert refused.error_name == REJECTED and agent.asked(ADDR) is Asked.REJECTED_UNKNOWN
    agent.expect(ADDR)
    for member, signature, body in (
        ("RequestAuthorization", "o", [DEVICE]),
        ("RequestConfirmation", "ou", [DEVICE, 123456]),
    ):
        reply = agent.handle(call(member, signature, body))
        assert isinstance(reply, Message) and reply.message_type == MessageType.METHOD_RETURN
        assert reply.reply_serial == 7 and agent.asked(ADDR) is Asked.CONFIRMED


def test_passkey_given_is_typed_and_a_missing_one_is_refused() -> None:
    agent = BluezAgent()
    agent.expect(ADDR)
    missing = agent.handle(call("RequestPasskey"))
    assert isinstance(missing, Message) and missing.error_name == REJECTED
    assert agent.asked(ADDR) is Asked.PASSKEY_MISSING
    agent.expect(ADDR, 654321)
    typed = agent.handle(call("RequestPasskey"))
    assert isinstance(typed, Message) and typed.signature == "u" and typed.body == [654321]
    assert agent.asked(ADDR) is Asked.PASSKEY_ENTERED


async def test_prompted_passkey_is_answered_later_and_garbage_is_refused() -> None:
    agent = BluezAgent()
    sent: list[Message] = []

    class Bus:
        async def send(self, msg: Message) -> None:
            sent.append(msg)

    agent._bus = Bus()  # type: ignore[assignment]

    async def prompt() -> int:
        return -1  # what ask_passkey returns for anything but 6 digits

    agent.expect(ADDR, prompt)
    assert agent.handle(call("RequestPasskey")) is True  # handled; the reply follows the prompt
    for _ in range(10):
        await asyncio.sleep(0)
    assert len(sent) == 1 and sent[0].error_name == REJECTED


def test_other_messages_and_paths_are_not_the_agents() -> None:
    agent = BluezAgent()
    assert agent.handle(call("RequestPasskey", path="/elsewhere")) is None
    signal = Message.new_signal(AGENT_PATH, "org.bluez.Agent1", "Whatever")
    assert agent.handle(signal) is None
    pin = agent.handle(call("RequestPinCode"))
    assert isinstance(pin, Message) and pin.error_name == REJECTED


def test_advice_tells_the_four_failures_apart() -> None:
    missing_agent = BluezAgent()
    missing_agent.unavailable = "BlueZ refused the agent: AccessDenied"
    assert "no BlueZ pairing agent (BlueZ refused the agent: AccessDenied)" in pairing_advice(
        missing_agent, ADDR, passkey_given=False
    )
    agent = BluezAgent()
    agent.registered = True
    agent.expect(ADDR)
    assert "Just Works pairing failed" in pairing_advice(agent, ADDR, passkey_given=False)
    agent.handle(call("RequestPasskey"))
    assert f"gateway pair {ADDR} --passkey" in pairing_advice(agent, ADDR, passkey_given=False)
    agent.expect(ADDR, 111111)
    agent.handle(call("RequestPasskey"))
    assert "rejected the passkey" in pairing_advice(agent, ADDR, passkey_given=True)


class _FailingPair:
    """A device client whose pairing fails after BlueZ asked the agent `member`."""

    address = ADDR

    def __init__(self, agent: BluezAgent, member: str | None) -> None:
        self.agent, self.member = agent, member

    async def pair(self) -> None:
        if self.member:
            self.agent.handle(call(self.member))
        raise PairingError(f"{ADDR}: pairing failed: org.bluez.Error.AuthenticationFailed", address=ADDR)


@pytest.mark.parametrize(
    ("member", "passkey", "expected"),
    [
        (None, None, "Just Works"),
        ("RequestPasskey", None, "--passkey NNNNNN"),
        ("RequestPasskey", 123, "rejected the passkey"),
    ],
)
async def test_bleak_radio_client_replaces_the_advice(member: str | None, passkey: int | None, expected: str) -> None:
    agent = BluezAgent()
    agent.registered = True
    client = _AgentPairing(_FailingPair(agent, member), agent, passkey)  # type: ignore[arg-type]
    with pytest.raises(PairingError) as info:
        await client.pair()
    assert expected in info.value.advice and "AuthenticationFailed" in str(info.value)


async def test_disabled_or_busless_agent_says_why() -> None:
    async with open_bluez_agent(enabled=False) as agent:
        assert not agent.registered and "VITALGATE_GATEWAY_BLUEZ_AGENT" in (agent.unavailable or "")
    assert "VITALGATE_GATEWAY_BLUEZ_AGENT=false" in pairing_advice(agent, ADDR, passkey_given=False)
