"""Claim codes: proof that whoever pairs a device on the server holds the hub that paired it.

At pairing the hub draws a random code (`new_claim_code`, 60 bits, XXXX-XXXX-XXXX in Crockford
base32 so it survives being read aloud) and prints it once. It registers only the code's hash
with the server, over its own authenticated MQTT identity (`DeviceClaim` on
vitalgate/v1/{gateway_id}/claims); the server keeps the hash and which hub sent it. A patient can
pair a device only by typing a code the server knows; a serial alone is not enough (issue 13:
the old code was computable from the serial, so anyone could pair anyone's meter).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from vitalgate.contract.readings import SCHEMA_VERSION, TOPIC_PREFIX

# Crockford base32: no I, L, O, U, so codes survive being read aloud and typed.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DOMAIN = b"vitalgate-claim-v2|"
# 12 characters = 60 bits: a million registered codes still collide with p ~ 4e-7, and a guess
# matches some registered code with p ~ 1e-12 (attempts are throttled and audited on top).
CLAIM_CODE_LENGTH = 12
_GROUPS = 4


def normalise_serial(serial: str) -> str:
    """Serial as compared for claiming: trimmed, upper case."""
    return serial.strip().upper()


def new_claim_code() -> str:
    """A fresh random XXXX-XXXX-XXXX code (the hub prints it once and keeps only its hash)."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(CLAIM_CODE_LENGTH))
    return "-".join(chars[i : i + _GROUPS] for i in range(0, CLAIM_CODE_LENGTH, _GROUPS))


def normalise_claim_code(text: str) -> str | None:
    """'abcd-efgh-1234', with or without dashes or spaces, O/I/L read as 0/1/1; None if it cannot be a code."""
    compact = text.strip().upper().replace("-", "").replace(" ", "").translate(str.maketrans("OIL", "011"))
    if len(compact) != CLAIM_CODE_LENGTH or any(c not in _ALPHABET for c in compact):
        return None
    return "-".join(compact[i : i + _GROUPS] for i in range(0, CLAIM_CODE_LENGTH, _GROUPS))


def claim_hash(code: str) -> str:
    """What the hub registers and the server stores: SHA-256 (hex) of the normalised code."""
    normal = normalise_claim_code(code)
    if normal is None:
        raise ValueError("not a claim code")
    return hashlib.sha256(_DOMAIN + normal.encode()).hexdigest()


def claims_topic(gateway_id: str) -> str:
    """Topic a hub registers its devices' claim hashes on (the broker ACL: its own only)."""
    return f"{TOPIC_PREFIX}/{gateway_id}/claims"


class DeviceClaim(BaseModel):
    """A hub registers: I paired this device; whoever types the code whose hash this is may claim it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    gateway_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    device_serial: str = Field(min_length=1, max_length=64)
    device_kind: Literal["glucose_meter", "bp_cuff"]
    code_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    paired_at: AwareDatetime
