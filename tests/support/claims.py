"""What a device's hub does at pairing, done directly: a random claim code, its hash registered (helpers)."""

from __future__ import annotations

from vitalgate.contract.claim import claim_hash, new_claim_code
from vitalgate.store import claims as claim_store
from vitalgate.store.db import connect


async def register_claim(database_url: str, serial: str) -> str:
    """Register a fresh code for a device the server knows, as its owning hub; returns the code."""
    code = new_claim_code()
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            row = await (await conn.execute("SELECT hub_id, kind FROM devices WHERE serial = %s", (serial,))).fetchone()
            assert row is not None, serial
            hub = row["hub_id"] or "gw-test-hub"
            assert await claim_store.register(
                conn, hub_id=hub, serial=serial, kind=row["kind"], code_hash=bytes.fromhex(claim_hash(code))
            )
    finally:
        await conn.close()
    return code
