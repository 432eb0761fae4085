"""Scope 3 of a stored inventory: by category with tCO2e, data quality and method mix beside Scope 1+2, and the
ledger rows behind each category (GHG Protocol Scope 3 Standard; services.scope3)."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Literal, get_type_hints

from fastapi import APIRouter, Path, Query, Request, Response
from pandas.io.json import ujson_dumps
from pydantic import Field, create_model

from zerocarbon.api.deps import Acting, Offset, kept_read, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.schemas import LedgerPage, Out
from zerocarbon.core.model import Boundary
from zerocarbon.services import scope3

router = APIRouter(prefix="/orgs/{org}/inventories", tags=["scope 3"], responses=RESPONSES)

Year = Annotated[int, Path(ge=1990, le=2100, description="reporting year")]
BoundaryQ = Annotated[Boundary, Query(description="consolidation approach")]
Category = Annotated[str, Path(max_length=64, description="Scope 3 ledger category, e.g. c1_purchased_goods")]

# The answer has exactly the fields of the service's report, so the two cannot drift.
Scope3Out = create_model("Scope3Out", __base__=Out,
                         __doc__="Scope 3 by category (status 'reported', 'no data' or 'not evaluated'), with "
                                 "tCO2e, emission-weighted data-quality score and tCO2e per method beside every "
                                 "figure; Scope 1+2 totals beside it, never inside it.",
                         **{f: (kind, ...) for f, kind in get_type_hints(scope3.Scope3Report).items()})
Scope3Out.__module__ = __name__


class Scope3RowsPage(LedgerPage):
    category: str = Field(description="the Scope 3 category of the rows")


@router.get("/{year}/scope3", response_model=Scope3Out)
def scope3_report(request: Request, year: Year, acting: Annotated[Acting, requires("inventory.read")],
                  boundary: BoundaryQ = Boundary.OPERATIONAL_CONTROL,
                  method: Annotated[Literal["location", "market"],
                                    Query(description="Scope 2 method under which Scope 3 rows depending on it "
                                                      "(category 3, upstream of electricity) are counted")
                                    ] = "location") -> Response:
    """Scope 3 of a stored inventory: every category of the Standard's 15 with its status, tCO2e, share, data-
    quality score (1 very good .. 5 very poor, weighted by emissions) and tCO2e per calculation method; the
    share from supplier data; by site and by supplier; memo items (avoided emissions) apart. With an ``ETag``."""

    def build() -> bytes:
        rep = scope3.report(acting.sessions, acting.org, year, boundary, scope2_method=method)
        return Scope3Out(**asdict(rep)).model_dump_json(by_alias=True).encode()

    return kept_read(request, acting.sessions, acting.org, build)


@router.get("/{year}/scope3/{category}/rows", response_model=Scope3RowsPage)
def scope3_rows(request: Request, year: Year, category: Category,
                acting: Annotated[Acting, requires("inventory.read")],
                boundary: BoundaryQ = Boundary.OPERATIONAL_CONTROL,
                site: Annotated[str | None, Query(max_length=64)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Offset = 0) -> Response:
    """The ledger rows behind one Scope 3 category, a page at a time, each with its lineage: activity id and batch
    (file, SHA-256), factor ids, formula, calculation method and data-quality score. With an ``ETag``."""

    def build() -> bytes:
        found = scope3.category_rows(acting.sessions, acting.org, year, category, boundary, site=site, limit=limit,
                                     offset=offset)
        rows = json.loads(ujson_dumps(found.rows, double_precision=10, ensure_ascii=True)) if found.rows else []
        return Scope3RowsPage(category=category, total=found.total, limit=limit, offset=offset, co2e_t=found.co2e_t,
                              rows=rows, batches={str(k): v for k, v in found.batches.items()}
                              ).model_dump_json(by_alias=True).encode()

    return kept_read(request, acting.sessions, acting.org, build)
