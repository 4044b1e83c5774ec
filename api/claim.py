"""Claim codes: a short, digits-only code a hub prints for a device, derived from its serial."""

from __future__ import annotations

import hashlib
import re

# A fixed prefix so the code is not simply a hash of the serial someone else may compute for
# another purpose. Must match vg_claim_code() in store/migrations/0004_api_auth.sql.
_PREFIX = "vitalgate-claim:"
# 8 digits: typeable on a phone keypad, 1e8 codes, so a collision among even 10,000 devices is
# unlikely (birthday bound ~0.05 %); a collision is detected and refused at pairing time.
_DIGITS = 8
_CLAIM = re.compile(r"^\d{4}-?\d{4}$")


def claim_code(serial: str) -> str:
    """The 8-digit claim code of a device serial (as printed: without separator)."""
    digest = hashlib.sha256((_PREFIX + serial).encode("utf-8")).hexdigest()
    return str(int(digest[:15], 16) % 10**_DIGITS).zfill(_DIGITS)


def format_claim_code(code: str) -> str:
    """Printed form with a separator for readability: 1234-5678."""
    return f"{code[:4]}-{code[4:]}"


def normalise_claim_code(text: str) -> str | None:
    """Accept '1234-5678', '1234 5678' or '12345678'; None if it is not a claim code."""
    compact = text.strip().replace(" ", "")
    if not _CLAIM.match(compact):
        return None
    return compact.replace("-", "")
