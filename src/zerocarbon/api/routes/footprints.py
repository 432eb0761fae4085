"""Product carbon footprints in PACT (Pathfinder) v2 JSON: upload suppliers' footprints, list and read them, and
export a footprint of one of our own products.

A caller without ``supply.read`` (a supplier's user, a token allowed only ``import.write``) works on its own
footprints only: an upload is stored as its own, an id another owner holds is refused without saying whose, and
reading another owner's footprint is 404 as if it did not exist."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from pydantic import BaseModel

from zerocarbon.api.deps import Acting, requires, requires_any
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.uploads import spooled
from zerocarbon.services import footprints

router = APIRouter(prefix="/orgs/{org}/footprints", tags=["footprints"], responses=RESPONSES)

Reader = Annotated[Acting, requires_any("supply.read", "supply.submit_own")]
PfId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-fA-F-]{36}$", description="footprint id")]


class FootprintOut(BaseModel):
    pf_id: str
    version: int
    spec_version: str
    status: str
    company_name: str
    product_name: str
    product_ids: list[str]
    declared_unit: str
    pcf_kg_per_unit: float
    pcf_incl_kg_per_unit: float | None
    period_start: datetime
    period_end: datetime
    primary_data_share: float | None
    dqr: float | None
    supplier_code: str | None
    current: bool
    imported_by: str
    imported_at: datetime


class ImportOut(BaseModel):
    stored: list[FootprintOut]
    superseded: list[tuple[str, int]]


def _own(acting: Acting) -> str | None:
    if "supply.read" in acting.access.actions:
        return None
    return footprints.owner_key(acting.sessions, acting.org, acting.actor)


def _out(i) -> FootprintOut:
    return FootprintOut.model_validate(i.__dict__)


@router.post("", response_model=ImportOut, status_code=201)
def upload(file: Annotated[UploadFile, File(description="PACT v2 JSON: a ProductFootprint, a list, or "
                                                         "{\"data\": [...]}")],
           acting: Annotated[Acting, requires("import.write")],
           supplier_code: Annotated[str | None, Form(max_length=64, description="supplier the footprints belong "
                                                                                 "to (ignored for a supplier's "
                                                                                 "user)")] = None) -> ImportOut:
    """Import every footprint of the file or none: each is checked against the PACT v2 schema and the
    specification's rules, and every problem is returned with the footprint and its JSON path. A stored id needs a
    higher version, which supersedes the stored one."""
    own = _own(acting)
    with spooled(file) as path:
        rep = footprints.import_file(acting.sessions, acting.org, path, actor=acting.actor,
                                     source=f"upload:{path.name}", supplier_code=supplier_code, own=own)
    return ImportOut(stored=[_out(i) for i in rep.stored], superseded=rep.superseded)


@router.get("", response_model=list[FootprintOut])
def list_footprints(acting: Reader) -> list[FootprintOut]:
    """The current version of every footprint; a caller without ``supply.read`` sees only its own."""
    return [_out(i) for i in footprints.list_footprints(acting.sessions, acting.org, own=_own(acting))]


@router.get("/export", response_model=dict)
def export(acting: Annotated[Acting, requires("inventory.read")],
           site: Annotated[str, Query(max_length=64)], year: Annotated[int, Query(ge=1990, le=2100)],
           product: Annotated[str, Query(min_length=1, max_length=256)],
           units: Annotated[float, Query(gt=0, le=1e15, description="declared units of the product made in the year")],
           cpc: Annotated[str, Query(min_length=1, max_length=16, description="UN CPC code")],
           declared_unit: Annotated[str, Query(max_length=32)] = "kilogram",
           site_units: Annotated[float | None, Query(gt=0, le=1e15)] = None,
           coverage: Annotated[float | None, Query(ge=0, le=100)] = None,
           dqr: Annotated[list[float] | None, Query(description="five DQRs (1..3): technological, temporal, "
                                                             "geographical, completeness, reliability")] = None
           ) -> dict:
    """A PACT v2.3 ProductFootprint of one of our products: the site's stored Scope 1 + Scope 2 market-based +
    Scope 3 categories 1 and 4 of the year, allocated by units produced (docs/pact.md)."""
    dqi = None
    if dqr:
        from zerocarbon.errors import InputError, Problem

        if len(dqr) != 5 or coverage is None or not all(1 <= x <= 3 for x in dqr):
            raise InputError([Problem("query", None, "dqr", "give coverage and exactly five DQRs between 1 and 3")])
        dqi = dict(zip(("technologicalDQR", "temporalDQR", "geographicalDQR", "completenessDQR", "reliabilityDQR"),
                       dqr), coveragePercent=coverage)
    return footprints.export_product(acting.sessions, acting.org, site=site, year=year, product=product,
                                     units=units, cpc=cpc, declared_unit=declared_unit, site_units=site_units,
                                     dqi=dqi)


@router.get("/{pf_id}", response_model=dict)
def show(pf_id: PfId, acting: Reader, version: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None) -> dict:
    """The footprint's PACT JSON as received (the current version, or ``version``); 404 for another owner's."""
    return footprints.show(acting.sessions, acting.org, pf_id, own=_own(acting), version=version)
