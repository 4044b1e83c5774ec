"""A user's own language and glucose unit (null: follow the patient record / the browser / mg/dL)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from vitalgate.api.deps import Conn, CurrentUser
from vitalgate.domain import GlucoseUnit, Language
from vitalgate.store import user_prefs

router = APIRouter(tags=["me"])


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Language | None = Field(
        default=None, description="null: the patient record's language (patients), else the browser's Accept-Language"
    )
    glucose_unit: GlucoseUnit | None = Field(
        default=None, description="null: a patient's record unit; mg/dL for staff (the stored unit)"
    )


@router.get("/me/preferences", response_model=Preferences)
async def get_preferences(conn: Conn, principal: CurrentUser) -> Preferences:
    """The signed-in user's own settings."""
    prefs = await user_prefs.viewer_prefs(conn, principal.user_id)
    return Preferences.model_validate({"language": prefs.language, "glucose_unit": prefs.glucose_unit})


@router.put("/me/preferences", response_model=Preferences)
async def set_preferences(body: Preferences, conn: Conn, principal: CurrentUser) -> Preferences:
    """Pages and messages for this user follow these settings from the next request on."""
    await user_prefs.set_viewer_prefs(conn, principal.user_id, language=body.language, glucose_unit=body.glucose_unit)
    return body
