"""Choosing and scheduling education for a patient: module items by key, the rest matched by tags and stage."""

from __future__ import annotations

from datetime import datetime

import psycopg

from vitalgate.programs.content_library import Library, Match, PatientProfile, matches, shipped_library
from vitalgate.store import content_sends


async def profile(conn: psycopg.AsyncConnection, patient_id: int) -> PatientProfile:
    facts = await content_sends.patient_profile_facts(conn, patient_id)
    if facts is None:
        raise LookupError(f"patient {patient_id} does not exist")
    tags, conditions, stage, language = facts
    return PatientProfile(frozenset(tags), frozenset(conditions), stage, language)


async def next_items(
    conn: psycopg.AsyncConnection, patient_id: int, *, limit: int = 1, library: Library | None = None
) -> list[Match]:
    """The best items not yet sent to this patient."""
    library = library or shipped_library()
    sent = await content_sends.sent_keys(conn, patient_id)
    return matches(library, await profile(conn, patient_id), sent)[:limit]


async def schedule_next(
    conn: psycopg.AsyncConnection,
    patient_id: int,
    *,
    at: datetime,
    program_id: str | None = None,
    library: Library | None = None,
) -> tuple[int, Match] | None:
    """Schedule the best unsent item for `at`; None when the library has nothing new for this patient."""
    for match in await next_items(conn, patient_id, limit=3, library=library):
        send_id = await content_sends.schedule(
            conn,
            patient_id=patient_id,
            item_key=match.item.key,
            language=match.language,
            chosen_by="match:" + ",".join(match.matched_tags or ("condition/stage",)),
            scheduled_for=at,
            program_id=program_id,
        )
        if send_id is not None:  # a concurrent scheduler may have taken this one: try the next
            return send_id, match
    return None
