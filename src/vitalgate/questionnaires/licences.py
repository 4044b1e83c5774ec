"""The licence registry: scales that need a licence (MMAS-8, EQ-5D ...) are refused unless one is recorded."""

from __future__ import annotations

from datetime import date

import psycopg

from vitalgate.questionnaires.model import Definition
from vitalgate.store import questionnaires as q_store


class LicenceRequired(PermissionError):
    """The definition declares a licence (extension licence-required) and none valid is recorded."""


async def check_licence(conn: psycopg.AsyncConnection, definition: Definition, today: date) -> None:
    if definition.licence is None:
        return
    found = await q_store.licence(conn, definition.licence)
    if found is None:
        raise LicenceRequired(
            f"{definition.id} needs a licence ({definition.licence}); record it with POST /questionnaires/licences"
        )
    if found.valid_until is not None and found.valid_until < today:
        raise LicenceRequired(f"the {definition.licence} licence ({found.reference}) expired on {found.valid_until}")
