"""Factor sets (shipped and stored) and their factors, with provenance."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from zerocarbon.api.deps import Acting, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.schemas import FactorOut, FactorPage, FactorSetOut
from zerocarbon.services import factor_sets

router = APIRouter(prefix="/orgs/{org}/factor-sets", tags=["factors"], responses=RESPONSES)


@router.get("", response_model=list[FactorSetOut])
def sets(acting: Annotated[Acting, requires("factors.read")]) -> list[FactorSetOut]:
    """Shipped sets, then stored ones, with their fingerprints. Stored sets are shared by all organisations."""
    return [FactorSetOut(name=s.name, title=s.title, origin=s.origin, fingerprint=s.fingerprint, factors=s.factors,
                         files=list(s.files), created_at=s.created_at) for s in factor_sets.list_sets(acting.sessions)]


@router.get("/{name}/factors", response_model=FactorPage)
def factors(name: Annotated[str, Path(max_length=128)], acting: Annotated[Acting, requires("factors.read")],
            kind: Annotated[str | None, Query(max_length=64, description="grid_electricity, combustion, gwp, ...")] = None,
            search: Annotated[str | None, Query(max_length=128, description="part of the factor id")] = None,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100,
            offset: Annotated[int, Query(ge=0)] = 0) -> FactorPage:
    """The factors of one set, filtered by kind and factor id, a page at a time."""
    rows = [f for f in factor_sets.resolve(acting.sessions, name).factors
            if not (kind and f.kind != kind) and not (search and search not in f.factor_id)]
    return FactorPage(total=len(rows), limit=limit, offset=offset,
                      factors=[FactorOut.model_validate(f) for f in rows[offset:offset + limit]])
