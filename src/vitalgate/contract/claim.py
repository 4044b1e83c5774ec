"""Claim codes: a short code printed at pairing that a patient types to bind a device (step 6).

The code is a checksum of the serial, not a secret: it proves the person holds the device's
label or the hub's pairing output, and catches typos in a serial typed by hand.
"""

from __future__ import annotations

import hashlib

# Crockford base32: no I, L, O, U, so codes survive being read aloud and typed.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DOMAIN = b"vitalgate-claim-v1|"
_LENGTH = 8  # 40 bits: a random guess matches one serial with p = 1e-12


def normalise_serial(serial: str) -> str:
    """Serial as compared for claiming: trimmed, upper case."""
    return serial.strip().upper()


def claim_code(serial: str) -> str:
    """Deterministic XXXX-XXXX code for a device serial."""
    norm = normalise_serial(serial)
    if not norm:
        raise ValueError("a claim code needs a non-empty serial")
    number = int.from_bytes(hashlib.sha256(_DOMAIN + norm.encode()).digest()[:5], "big")
    chars = "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(_LENGTH)))
    return f"{chars[:4]}-{chars[4:]}"


def check_claim_code(serial: str, code: str) -> bool:
    """True when `code` (any case, with or without the dash, O/I/L read as 0/1/1) fits `serial`."""
    cleaned = code.strip().upper().replace("-", "").replace(" ", "").translate(str.maketrans("OIL", "011"))
    return cleaned == claim_code(serial).replace("-", "")
