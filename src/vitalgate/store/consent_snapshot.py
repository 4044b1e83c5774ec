"""Consent for many patients at one instant in one query: the worker's batch asks once, not per message.

Same semantics as store.consent.decide (README "Consent"): the record with the latest
effective_at <= at (then the highest id) holds per (purpose, channel | caregiver); monitoring and
contact hold without a record, sharing with a caregiver needs an explicit "given"; contact on a
channel also needs monitoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import tuple_row

from vitalgate.store.consent import Verdict
from vitalgate.store.record_vocab import ConsentDecision, ConsentPurpose

_LATEST = """
SELECT DISTINCT ON (patient_id, purpose, channel, caregiver_id)
       patient_id, purpose, channel, caregiver_id, decision, effective_at, id
FROM consent_records
WHERE patient_id = ANY(%s) AND effective_at <= %s
ORDER BY patient_id, purpose, channel, caregiver_id, effective_at DESC, id DESC
"""

_Key = tuple[int, str, str | None, int | None]


@dataclass(frozen=True, slots=True)
class _Latest:
    decision: str
    effective_at: datetime
    id: int


class ConsentSnapshot:
    """The latest consent records of some patients at `at`; verdicts without further queries."""

    def __init__(self, at: datetime, latest: dict[_Key, _Latest]) -> None:
        self.at = at
        self._latest = latest

    def _verdict(
        self, patient_id: int, purpose: ConsentPurpose, channel: str | None, caregiver_id: int | None
    ) -> Verdict:
        label = (
            purpose.value
            + (f" by {channel}" if channel else "")
            + (f" with caregiver {caregiver_id}" if caregiver_id else "")
        )
        latest = self._latest.get((patient_id, purpose.value, channel, caregiver_id))
        if latest is None:
            if purpose in (ConsentPurpose.MONITORING, ConsentPurpose.CONTACT):
                return Verdict(True, f"{label}: no record (implied by enrolment)")
            return Verdict(False, f"no consent to {label}")
        if latest.decision == ConsentDecision.WITHDRAWN:
            return Verdict(
                False,
                f"consent to {label} withdrawn at {latest.effective_at.isoformat()} (record {latest.id})",
                latest.id,
            )
        return Verdict(True, f"{label}: given (record {latest.id})", latest.id)

    def contact(self, patient_id: int, channel: str) -> Verdict:
        monitoring = self._verdict(patient_id, ConsentPurpose.MONITORING, None, None)
        if not monitoring.allowed:
            return monitoring
        return self._verdict(patient_id, ConsentPurpose.CONTACT, channel, None)

    def share_with_caregiver(self, patient_id: int, caregiver_id: int) -> Verdict:
        monitoring = self._verdict(patient_id, ConsentPurpose.MONITORING, None, None)
        if not monitoring.allowed:
            return monitoring
        return self._verdict(patient_id, ConsentPurpose.SHARE_CAREGIVER, None, caregiver_id)


async def snapshot(conn: psycopg.AsyncConnection, patient_ids: Sequence[int], at: datetime) -> ConsentSnapshot:
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(_LATEST, (sorted(set(patient_ids)), at))
        rows = await cur.fetchall()
    return ConsentSnapshot(
        at, {(int(p), str(pu), ch, cg): _Latest(str(d), eff, int(i)) for p, pu, ch, cg, d, eff, i in rows}
    )
