"""Signed links: a short link in a message opens one single-purpose page, no password needed.

The token is 192 random bits (secrets.token_urlsafe(24)); only its SHA-256 is stored. A link
expires (7 days by default), may be opened any number of times (each opening is recorded and
audited) and answered once. The API rate-limits /l/... per client address and per token
(api.link_throttle). What an answer *does* (stop a chain, confirm a visit) is notify.replies'.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from vitalgate.domain import LinkAnswer, LinkPurpose, Role
from vitalgate.store import audit as audit_store
from vitalgate.store import links as link_store
from vitalgate.store.links import LinkRow, NewLink

__all__ = [
    "ANSWERS",
    "LinkAnswer",
    "LinkError",
    "LinkExpired",
    "LinkGrant",
    "LinkInvalid",
    "LinkPurpose",
    "LinkUsed",
    "answer_link",
    "issue_link",
    "link_path",
    "open_link",
]

TOKEN_BYTES = 24  # 192 bits: unguessable with room to spare over the 128-bit floor
DEFAULT_TTL = timedelta(days=7)
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")

# The answers each page offers; anything else is refused before the link is consumed.
ANSWERS: dict[LinkPurpose, frozenset[LinkAnswer]] = {
    LinkPurpose.CHECK_IN: frozenset({LinkAnswer.OK, LinkAnswer.CALL_ME}),
    LinkPurpose.VISIT: frozenset({LinkAnswer.CONFIRM, LinkAnswer.MOVE}),
    LinkPurpose.QUESTIONNAIRE: frozenset({LinkAnswer.SUBMITTED}),
    LinkPurpose.STAFF_ACK: frozenset({LinkAnswer.ACKNOWLEDGED}),
    LinkPurpose.INBOX: frozenset(),  # the inbox is read and replied to, never "answered"
}


class LinkError(Exception):
    """The link cannot be used (base of the three below); pages show one neutral message for all."""


class LinkInvalid(LinkError):
    """No such link (mistyped, truncated, guessed) or an answer its page does not offer."""


class LinkExpired(LinkError):
    """The link's time is over."""


class LinkUsed(LinkError):
    """The link was answered already (single use)."""


@dataclass(frozen=True, slots=True)
class LinkGrant:
    """What a valid link lets its holder see or do: one purpose about one patient (and task / visit)."""

    link_id: int
    purpose: LinkPurpose
    patient_id: int
    caregiver_id: int | None
    user_id: int | None
    task_id: int | None
    delivery_id: int | None
    sop_instance_id: int | None
    questionnaire: str | None
    expires_at: datetime
    answered_at: datetime | None
    answer: LinkAnswer | None

    @property
    def recipient_role(self) -> str:
        """Who holds the link, for the audit row's role."""
        if self.purpose == LinkPurpose.STAFF_ACK:
            return "staff"
        return Role.CAREGIVER if self.caregiver_id is not None else Role.PATIENT


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


def link_path(token: str) -> str:
    return f"/l/{token}"


async def issue_link(
    conn: psycopg.AsyncConnection,
    purpose: LinkPurpose,
    *,
    patient_id: int,
    caregiver_id: int | None = None,
    user_id: int | None = None,
    task_id: int | None = None,
    delivery_id: int | None = None,
    sop_instance_id: int | None = None,
    questionnaire: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime,
) -> str:
    """A new link's path "/l/{token}"; the token itself is never stored (only its hash)."""
    if ttl <= timedelta(0):
        raise ValueError("a link's ttl must be positive")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await link_store.insert(
        conn,
        NewLink(
            _hash(token),
            str(LinkPurpose(purpose)),
            patient_id,
            now,
            now + ttl,
            caregiver_id=caregiver_id,
            user_id=user_id,
            task_id=task_id,
            delivery_id=delivery_id,
            sop_instance_id=sop_instance_id,
            questionnaire=questionnaire,
        ),
    )
    return link_path(token)


def token_key(token: str) -> str:
    """A loggable, throttle-able stand-in for a token (a prefix of its hash; never the token)."""
    return _hash(token).hex()[:32]


async def _lookup(conn: psycopg.AsyncConnection, token: str, now: datetime, *, for_update: bool) -> LinkRow:
    if not _TOKEN_SHAPE.match(token):
        raise LinkInvalid("no such link")
    row = await link_store.by_hash(conn, _hash(token), for_update=for_update)
    if row is None:
        raise LinkInvalid("no such link")
    if row.answered_at is None and row.expires_at <= now:
        raise LinkExpired("the link has expired")
    return row


def _grant(row: LinkRow, answered_at: datetime | None = None, answer: str | None = None) -> LinkGrant:
    final_answer = answer if answer is not None else row.answer
    return LinkGrant(
        row.id,
        LinkPurpose(row.purpose),
        row.patient_id,
        row.caregiver_id,
        row.user_id,
        row.task_id,
        row.delivery_id,
        row.sop_instance_id,
        row.questionnaire,
        row.expires_at,
        answered_at or row.answered_at,
        LinkAnswer(final_answer) if final_answer is not None else None,
    )


async def _audit(
    conn: psycopg.AsyncConnection, grant: LinkGrant, action: str, source: str | None, detail: dict[str, Any]
) -> None:
    await audit_store.record(
        conn,
        actor=f"link:{grant.link_id}",
        actor_id=grant.user_id,
        role=str(grant.recipient_role),
        action=action,
        patient_id=grant.patient_id,
        source=source,
        detail={"purpose": str(grant.purpose), "task_id": grant.task_id, **detail},
    )


async def open_link(
    conn: psycopg.AsyncConnection, token: str, now: datetime, *, source: str | None = None
) -> LinkGrant:
    """Record an opening (audited) and return the grant; an answered link still opens (read-only)."""
    row = await _lookup(conn, token, now, for_update=False)
    await link_store.record_open(conn, row.id, now)
    grant = _grant(row)
    await _audit(conn, grant, "read:link", source, {"answered": row.answered_at is not None})
    return grant


async def answer_link(
    conn: psycopg.AsyncConnection,
    token: str,
    answer: LinkAnswer | str,
    now: datetime,
    *,
    source: str | None = None,
    detail: dict[str, Any] | None = None,
) -> LinkGrant:
    """Consume the link with an answer its purpose offers (single use; audited); caller commits."""
    row = await _lookup(conn, token, now, for_update=True)
    if row.answered_at is not None:
        raise LinkUsed("the link was answered already")
    try:
        chosen = LinkAnswer(answer)
    except ValueError:
        raise LinkInvalid(f"unknown answer {answer!r}") from None
    if chosen not in ANSWERS[LinkPurpose(row.purpose)]:
        raise LinkInvalid(f"a {row.purpose} link does not take the answer {chosen}")
    if not await link_store.record_answer(conn, row.id, str(chosen), detail or {}, now):
        raise LinkUsed("the link was answered already")
    grant = _grant(row, now, str(chosen))
    await _audit(conn, grant, "change:link_answer", source, {"answer": str(chosen)})
    return grant


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """One link to issue with `issue_links` (the fields of `issue_link`)."""

    purpose: LinkPurpose
    patient_id: int
    caregiver_id: int | None = None
    user_id: int | None = None
    task_id: int | None = None
    delivery_id: int | None = None
    sop_instance_id: int | None = None
    questionnaire: str | None = None


async def issue_links(
    conn: psycopg.AsyncConnection, requests: Sequence[LinkRequest], *, ttl: timedelta = DEFAULT_TTL, now: datetime
) -> list[str]:
    """`issue_link` for many links in one round trip (the delivery worker's batch); paths in order."""
    if ttl <= timedelta(0):
        raise ValueError("a link's ttl must be positive")
    tokens = [secrets.token_urlsafe(TOKEN_BYTES) for _ in requests]
    await link_store.insert_many(
        conn,
        [
            NewLink(
                _hash(token), str(LinkPurpose(r.purpose)), r.patient_id, now, now + ttl, caregiver_id=r.caregiver_id,
                user_id=r.user_id, task_id=r.task_id, delivery_id=r.delivery_id, sop_instance_id=r.sop_instance_id,
                questionnaire=r.questionnaire,
            )
            for token, r in zip(tokens, requests, strict=True)
        ],
    )  # fmt: skip
    return [link_path(token) for token in tokens]
