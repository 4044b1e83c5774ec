"""One way for every long-running service to stop: SIGTERM/SIGINT set an asyncio.Event, loops sleep on it.

A service takes `stop: asyncio.Event`, checks it between units of work and waits with
`sleep_until_stopped` instead of `asyncio.sleep`, so a signal ends the current wait at once and the
service drains and returns normally (exit status 0, broker sessions closed, will suppressed).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event | None = None) -> Iterator[asyncio.Event]:
    """An Event that SIGTERM or SIGINT sets while the block runs (on the running loop; handlers removed after)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def sleep_until_stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds`, or less if `stop` is set meanwhile; True when stopped."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(0.0, seconds))
    return stop.is_set()


def run_until_signalled(service: Callable[[asyncio.Event], Coroutine[Any, Any, T]]) -> T | None:
    """`asyncio.run(service(stop))` where SIGTERM/SIGINT set `stop`; None if interrupted before the handlers were up."""

    async def main() -> T:
        with stop_on_signals() as stop:
            return await service(stop)

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(main())
    return None
