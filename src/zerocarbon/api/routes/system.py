"""The server's own startup checks (`zerocarbon doctor` as seen from the running server)."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from zerocarbon.api.deps import CurrentPrincipal, Sessions
from zerocarbon.api.problems import RESPONSES
from zerocarbon.errors import PermissionDeniedError
from zerocarbon.services import doctor

router = APIRouter(tags=["system"], responses=RESPONSES)


class CheckOut(BaseModel):
    check: str
    severity: Literal["error", "warning", "ok", "skipped"]
    title: str
    found: str
    fix: str
    title_zh: str
    found_zh: str
    fix_zh: str


class DoctorOut(BaseModel):
    ok: bool
    errors: int
    warnings: int
    checks: list[CheckOut]


@router.get("/doctor", response_model=DoctorOut)
def run_checks(principal: CurrentPrincipal, sessions: Sessions) -> DoctorOut:
    """Startup checks of this server: its database (location, migrations, clock), the lake
    ($ZEROCARBON_LAKE) and data folders, default secrets and, when $ZEROCARBON_MQTT_BROKER is set, the broker's
    anonymous access (never the active queue probe: `zerocarbon doctor --probe-queue` runs it). For a person
    with the admin role in any organisation; no answer holds a secret."""
    if not doctor.is_admin_anywhere(sessions, principal):
        raise PermissionDeniedError("the server's checks are for a person with the admin role in an organisation")
    return DoctorOut.model_validate(doctor.server_report(sessions).to_dict())
