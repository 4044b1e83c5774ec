"""Claim codes as typed by a person: normalised to the form the hub prints (XXXX-XXXX-XXXX)."""

from __future__ import annotations

from vitalgate.contract.claim import claim_hash, normalise_claim_code

__all__ = ["claim_hash", "normalise_claim_code"]
