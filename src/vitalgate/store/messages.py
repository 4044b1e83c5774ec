"""Two-way messages (table messages, 0022): the conversation, held inbound SMS, reply targets by phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row, tuple_row

from vitalgate.store.db import scalar
from vitalgate.store.delivery_rows import DELIVERY_COLUMNS, DeliveryRow


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    patient_id: int | None
    caregiver_id: int | None
    direction: str
    medium: str
    body: str
    author_user_id: int | None
    author: str | None
    task_id: int | None
    keyword: str | None
    effect: str | None
    review_state: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewMessage:
    direction: str
    medium: str
    body: str
    created_at: datetime
    patient_id: int | None = None
    caregiver_id: int | None = None
    author_user_id: int | None = None
    task_id: int | None = None
    keyword: str | None = None
    from_address: str | None = None
    provider: str | None = None
    provider_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class PhoneMatch:
    patient_id: int
    caregiver_id: int | None


_COLUMNS = (
    "m.id, m.patient_id, m.caregiver_id, m.direction, m.medium, m.body, m.author_user_id,"
    " u.display_name AS author, m.task_id, m.keyword, m.effect, m.review_state, m.created_at"
)


async def insert(conn: psycopg.AsyncConnection, m: NewMessage) -> int | None:
    """Store a message; None when the provider already delivered this provider message id (a retry)."""
    held = "held" if m.patient_id is None else None
    value = await scalar(
        conn,
        "INSERT INTO messages (patient_id, caregiver_id, direction, medium, body, author_user_id, task_id, keyword,"
        " from_address, provider, provider_message_id, review_state, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (provider, provider_message_id) DO NOTHING RETURNING id",
        (
            m.patient_id,
            m.caregiver_id,
            m.direction,
            m.medium,
            m.body,
            m.author_user_id,
            m.task_id,
            m.keyword,
            m.from_address,
            m.provider,
            m.provider_message_id,
            held,
            m.created_at,
        ),
    )
    return None if value is None else int(value)


async def set_effect(conn: psycopg.AsyncConnection, message_id: int, effect: str, task_id: int | None) -> None:
    await conn.execute(
        "UPDATE messages SET effect = %s, task_id = COALESCE(%s, task_id) WHERE id = %s", (effect, task_id, message_id)
    )


async def set_keyword(conn: psycopg.AsyncConnection, message_id: int, keyword: str) -> None:
    await conn.execute("UPDATE messages SET keyword = %s WHERE id = %s", (keyword, message_id))


async def conversation(
    conn: psycopg.AsyncConnection,
    *,
    patient_id: int,
    task_id: int | None = None,
    caregiver_id: int | None = None,
    everyone: bool = False,
    limit: int = 200,
) -> list[Message]:
    """Messages of one patient, oldest first: the patient's own (or one caregiver's), or `everyone`'s (staff)."""
    async with conn.cursor(row_factory=class_row(Message)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM messages m LEFT JOIN users u ON u.id = m.author_user_id"
            " WHERE m.patient_id = %(p)s AND (%(t)s::bigint IS NULL OR m.task_id = %(t)s)"
            " AND (%(all)s OR m.caregiver_id IS NOT DISTINCT FROM %(c)s)"
            " ORDER BY m.created_at DESC, m.id DESC LIMIT %(limit)s",
            {"p": patient_id, "t": task_id, "c": caregiver_id, "all": everyone, "limit": limit},
        )
        rows = await cur.fetchall()
    return rows[::-1]


async def held(conn: psycopg.AsyncConnection, limit: int = 200) -> list[Message]:
    """Inbound messages that matched nobody, newest first (the review queue's messages)."""
    async with conn.cursor(row_factory=class_row(Message)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM messages m LEFT JOIN users u ON u.id = m.author_user_id"
            " WHERE m.review_state = 'held' ORDER BY m.created_at DESC LIMIT %s",
            (limit,),
        )
        return await cur.fetchall()


# Numbers are compared by their digits (an international "00" prefix read as "+"): "+86 138-0013-8000"
# and "008613800138000" are one number. Store numbers in E.164 to avoid national-format misses.
_DIGITS = "regexp_replace(regexp_replace({col}, '\\D', '', 'g'), '^00', '')"


def phone_digits(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[2:] if digits.startswith("00") else digits


async def match_phone(conn: psycopg.AsyncConnection, phone: str) -> list[PhoneMatch]:
    """Every active patient and caregiver whose number is this one (the caller accepts exactly one)."""
    digits = phone_digits(phone)
    if len(digits) < 6:
        return []
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(
            f"SELECT id, NULL::bigint FROM patients WHERE phone IS NOT NULL AND {_DIGITS.format(col='phone')} = %(d)s"
            f" UNION ALL SELECT patient_id, id FROM caregivers WHERE active AND phone IS NOT NULL"
            f" AND {_DIGITS.format(col='phone')} = %(d)s",
            {"d": digits},
        )
        return [PhoneMatch(int(p), None if c is None else int(c)) for p, c in await cur.fetchall()]


async def set_caregiver_sms_opt_out(
    conn: psycopg.AsyncConnection, caregiver_id: int, opted_out_at: datetime | None
) -> None:
    """A caregiver's STOP (a time) or START (None)."""
    await conn.execute("UPDATE caregivers SET sms_opted_out_at = %s WHERE id = %s", (opted_out_at, caregiver_id))


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """What a keyword or free-text reply most likely answers."""

    task_id: int
    severity: str
    sop_instance_id: int | None
    sop_status: str | None


async def reply_target(conn: psycopg.AsyncConnection, patient_id: int) -> ReplyTarget | None:
    """The patient's active task contacted most recently (a fired touchpoint), else their newest active task."""
    async with conn.cursor(row_factory=class_row(ReplyTarget)) as cur:
        await cur.execute(
            """
            SELECT t.id AS task_id, t.severity, s.id AS sop_instance_id, s.status AS sop_status
            FROM tasks t LEFT JOIN sop_instances s ON s.task_id = t.id
            WHERE t.patient_id = %s AND t.status IN ('open', 'in_progress')
            ORDER BY (SELECT max(tp.fired_at) FROM touchpoints tp WHERE tp.task_id = t.id) DESC NULLS LAST,
                     t.created_at DESC
            LIMIT 1
            """,
            (patient_id,),
        )
        return await cur.fetchone()


async def patient_deliveries(conn: psycopg.AsyncConnection, patient_id: int) -> list[DeliveryRow]:
    """Every outbox message about a patient (to them, their caregivers or staff), oldest first."""
    async with conn.cursor(row_factory=class_row(DeliveryRow)) as cur:
        await cur.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE patient_id = %s ORDER BY created_at, id", (patient_id,)
        )
        return await cur.fetchall()
