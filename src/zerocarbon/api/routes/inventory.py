"""Inventories: stored totals and report lines, computing them, and the ledger behind each number."""
from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pandas.io.json import ujson_dumps

from zerocarbon.api.deps import Acting, Offset, kept_read, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.schemas import ComputeIn, ComputeOut, InventoryOut, LedgerPage
from zerocarbon.core.model import Boundary
from zerocarbon.services import accounting

router = APIRouter(prefix="/orgs/{org}/inventories", tags=["inventories"], responses=RESPONSES)

Year = Annotated[int, Path(ge=1990, le=2100, description="reporting year")]
BoundaryQ = Annotated[Boundary, Query(description="consolidation approach")]


@router.get("/{year}", response_model=InventoryOut)
def inventory(request: Request, year: Year, acting: Annotated[Acting, requires("inventory.read")],
              boundary: BoundaryQ = Boundary.OPERATIONAL_CONTROL) -> Response:
    """Status, factor set, totals [tCO2e] and report lines of a stored inventory. The answer carries an
    ``ETag``: a request with ``If-None-Match`` gets 304 while the stored data are unchanged."""

    def build() -> bytes:
        meta = accounting.inventory_meta(acting.sessions, acting.org, year, boundary)
        return InventoryOut(organisation=acting.org, boundary=boundary, **meta).model_dump_json(by_alias=True).encode()

    return kept_read(request, acting.sessions, acting.org, build)


@router.post("/{year}/compute", response_model=ComputeOut)
def compute(year: Year, body: ComputeIn, acting: Annotated[Acting, requires("inventory.compute")]) -> ComputeOut:
    """Compute and store the inventory from the active batches. A closed year whose numbers would change needs
    a ``recalculation_reason`` (409 without one)."""
    result = accounting.compute(acting.sessions, acting.org, year, body.factor_set, body.gwp_set, body.boundary,
                                body.recalculation_reason, actor=acting.actor, engine=accounting.server_engine())
    return ComputeOut(organisation=acting.org, year=year, factor_set=body.factor_set, gwp_set=body.gwp_set,
                      boundary=body.boundary, totals=result.totals(), warnings=[str(w) for w in result.warnings],
                      exclusions=[str(e) for e in result.exclusions])


@router.get("/{year}/explain", response_model=LedgerPage)
def explain(request: Request, year: Year, acting: Annotated[Acting, requires("inventory.read")],
            boundary: BoundaryQ = Boundary.OPERATIONAL_CONTROL,
            site: Annotated[str | None, Query(max_length=64)] = None,
            scope: Literal["1", "2", "3"] | None = None,
            category: Annotated[str | None, Query(max_length=64)] = None,
            method: Annotated[Literal["location", "market"] | None,
                              Query(description="Scope 2 method: rows counted under it")] = None,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100,
            offset: Offset = 0) -> Response:
    """The ledger rows behind the numbers (one per activity row, gas and method), filtered, a page at a time,
    with the batch (file, SHA-256, status) each row comes from. With an ``ETag``, as the inventory."""

    def build() -> bytes:
        found = accounting.ledger_page(acting.sessions, acting.org, year, boundary, site=site, scope=scope,
                                       category=category, method=method, limit=limit, offset=offset)
        # Numbers as the ledger has always been served: JSON with 10 decimals (pandas' encoder).
        rows = json.loads(ujson_dumps(found.rows, double_precision=10, ensure_ascii=True)) if found.rows else []
        batches = {str(k): v for k, v in found.batches.items()}
        return LedgerPage(total=found.total, limit=limit, offset=offset, co2e_t=found.co2e_t, rows=rows,
                          batches=batches).model_dump_json(by_alias=True).encode()

    return kept_read(request, acting.sessions, acting.org, build)
