"""The kernel's shared helpers: stop on a signal, stop-aware sleep, backoff; BLE advertising parsing."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from vitalgate.core.backoff import backoff_s
from vitalgate.core.shutdown import run_until_signalled, sleep_until_stopped, stop_on_signals
from vitalgate.devices.advertising import (
    SUPPORTED_SERVICES,
    build_advertising_data,
    device_kind,
    parse_advertising_data,
)
from vitalgate.devices.gatt import BLOOD_PRESSURE_SERVICE, GLUCOSE_SERVICE


async def test_sigterm_sets_stop_and_ends_a_sleep_at_once() -> None:
    with stop_on_signals() as stop:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
        started = time.monotonic()
        assert await sleep_until_stopped(stop, 30.0) is True
        assert time.monotonic() - started < 5
    # The handlers are gone afterwards: the default SIGTERM disposition is back.
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)


async def test_sleep_until_stopped_times_out_without_a_stop() -> None:
    stop = asyncio.Event()
    assert await sleep_until_stopped(stop, 0.01) is False
    assert await sleep_until_stopped(stop, -1.0) is False  # a deadline in the past does not raise


def test_run_until_signalled_returns_the_service_result_after_sigint() -> None:
    async def service(stop: asyncio.Event) -> str:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGINT)
        await stop.wait()
        return "drained"

    assert run_until_signalled(service) == "drained"


def test_backoff_doubles_from_the_base_to_the_cap() -> None:
    assert [backoff_s(n, base_s=0.5, cap_s=3.0) for n in (1, 2, 3, 4, 99)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert all(0.9 <= backoff_s(1, base_s=1.0, cap_s=9.0, jitter=0.1) <= 1.1 for _ in range(50))
    with pytest.raises(ValueError):
        backoff_s(0, base_s=1.0, cap_s=2.0)


def test_advertising_round_trip_and_kind() -> None:
    data = build_advertising_data("VG Meter 1", (GLUCOSE_SERVICE,))
    assert len(data) <= 31
    assert parse_advertising_data(data) == ("VG Meter 1", (GLUCOSE_SERVICE,))
    assert device_kind((BLOOD_PRESSURE_SERVICE, GLUCOSE_SERVICE)) == "glucose_meter"
    assert device_kind((BLOOD_PRESSURE_SERVICE,)) == "bp_cuff" and device_kind((0x180F,)) is None
    assert set(SUPPORTED_SERVICES) == {GLUCOSE_SERVICE, BLOOD_PRESSURE_SERVICE}
    # A long name is shortened to fit; a truncated structure stops the parse instead of misreading.
    name, uuids = parse_advertising_data(build_advertising_data("X" * 40, SUPPORTED_SERVICES))
    assert uuids == SUPPORTED_SERVICES and name is not None and len(name) < 40
    assert parse_advertising_data(bytes([5, 0x09, 0x41])) == (None, ())
