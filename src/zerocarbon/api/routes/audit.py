"""The audit trail of an organisation, and verification of the hash chain."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from zerocarbon.api.deps import Acting, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.schemas import AuditEntryOut, VerificationOut
from zerocarbon.services import audit

router = APIRouter(prefix="/orgs/{org}/audit", tags=["audit"], responses=RESPONSES)


@router.get("", response_model=list[AuditEntryOut])
def log(acting: Annotated[Acting, requires("audit.read")],
        limit: Annotated[int, Query(ge=1, le=1000, description="latest entries")] = 50) -> list[AuditEntryOut]:
    """The latest entries about this organisation, oldest first: who changed or computed what, when."""
    return [AuditEntryOut.model_validate(e) for e in audit.log(acting.sessions, acting.org, limit)]


@router.get("/verify", response_model=VerificationOut)
def verify(acting: Annotated[Acting, requires("audit.read")],
           head: Annotated[str | None, Query(max_length=100, description="SEQ:HASH recorded earlier")] = None
           ) -> VerificationOut:
    """Recompute the hash chain. It is one chain for all organisations, so a finding may concern an entry of
    another organisation; only its sequence number and the kind of break are shown."""
    v = audit.verify(acting.sessions, head)
    return VerificationOut(intact=v.intact, entries=v.entries,
                           head=f"{v.head_seq}:{v.head_hash}" if v.head_seq else None,
                           findings=[str(f) for f in v.findings])
