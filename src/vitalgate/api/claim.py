"""Claim codes as typed by a person: normalised to the form contract.claim prints (XXXX-XXXX)."""

from __future__ import annotations

import re

# Crockford base32 without I, L, O, U (contract.claim._ALPHABET).
_CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{8}$")


def normalise_claim_code(text: str) -> str | None:
    """'abcd-1234', 'ABCD 1234', O/I/L read as 0/1/1 → 'ABCD-1234'; None if it cannot be a claim code."""
    compact = text.strip().upper().replace("-", "").replace(" ", "").translate(str.maketrans("OIL", "011"))
    if not _CODE.match(compact):
        return None
    return f"{compact[:4]}-{compact[4:]}"
