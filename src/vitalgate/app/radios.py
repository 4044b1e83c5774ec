"""The radio a `vitalgate gateway` command uses: a production radio, or the virtual demo fleet."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from vitalgate.gateway.config import HubConfig
from vitalgate.gateway.radio import HubRadio, open_radio


@contextlib.asynccontextmanager
async def open_hub_radio(config: HubConfig) -> AsyncIterator[HubRadio]:
    """`virtual` powers up the demo fleet in this process; `bleak` and `hci` are the production radios."""
    if config.radio == "virtual":
        from vitalgate.app.fleet import open_virtual_radio  # bumble only when the demo devices are wanted

        async with open_virtual_radio(config) as virtual:
            yield virtual
        return
    async with open_radio(config) as radio:
        yield radio
