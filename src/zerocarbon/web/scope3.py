"""The Scope 3 page: Scope 3 of a stored inventory by category, stacked by calculation method, with the data-
quality score and the method mix beside every figure, "no data" for a category without rows, Scope 1+2 beside it,
and the ledger rows behind a category with their lineage (activity row, factor ids, formula).

The figures are those of the API's ``/orgs/{org}/inventories/{year}/scope3`` endpoints: the same service calls
(``services.scope3``), under the same action (``inventory.read``).
"""
from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from zerocarbon.api.deps import MAX_OFFSET, kept_read
from zerocarbon.errors import NotFoundError
from zerocarbon.services import scope3
from zerocarbon.web import i18n
from zerocarbon.web.routes import PAGE_SIZE, PREFIX, Page, PageRoute, _activity, _default_year

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
# Suppliers listed on the page (largest first); the API and the CLI give them all.
SUPPLIERS_SHOWN = 50


def _word(t, key: str, fallback: str) -> str:
    text = t(key)
    return fallback if text == key else text


def _chart(t, rep) -> dict:
    """Bars of the evaluated categories (those without data stay empty, with their "no data" label), one series
    per calculation method, stacked."""
    shown = [c for c in rep.categories if c.status != scope3.NOT_EVALUATED_STATUS]
    methods = scope3._ordered({m for c in shown if c.figure for m in c.figure.methods})
    return {"categories": [f"{c.number} {_word(t, 'category.' + c.category, c.category)}" for c in shown],
            "keys": [c.category for c in shown],
            "nodata": [c.figure is None for c in shown],
            "nodata_label": t("scope3.no_data"),
            "series": [{"name": _word(t, "scope3.method." + m, m), "method": m,
                        "data": [round(c.figure.methods.get(m, 0.0), 6) if c.figure else None for c in shown]}
                       for m in methods],
            "unit": "tCO2e"}


def _script_json(value) -> str:
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _rows(page: Page, year: int, category: str, site: str | None, offset: int) -> dict:
    """The drill-down: one page of the ledger rows behind ``category``."""
    found = scope3.category_rows(page.sessions, page.org, year, category, site=site, limit=PAGE_SIZE, offset=offset)
    rows = []
    for r in found.rows:
        r["file"] = _activity(str(r["activity_id"]))
        r["batch"] = found.batches.get(r["batch_id"]) if r["batch_id"] is not None else None
        rows.append(r)
    return dict(category=category, rows=rows, total=found.total, co2e=found.co2e_t, offset=offset, size=PAGE_SIZE)


@router.get("/orgs/{org}/scope3")
def scope3_page(request: Request, org: str, year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
                category: Annotated[str | None, Query(max_length=64, pattern="^[a-z0-9_]*$")] = None,
                site: Annotated[str | None, Query(max_length=64)] = None,
                offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> Response:
    page = Page(request, org, "inventory.read")
    year = year or _default_year()
    category, site = category or None, site or None
    if category is not None:
        scope3.check_category(category)  # an unknown or not-evaluated category: 404 before anything is read
    fragment = request.headers.get("HX-Request") == "true" and category is not None

    def query(**kw) -> str:
        return urlencode({k: v for k, v in {"year": year, "category": category or "", "site": site or "",
                                            **kw}.items() if v not in (None, "")})

    def build() -> bytes:
        t = i18n.translator(page.lang)
        try:
            rep = scope3.report(page.sessions, org, year)
        except NotFoundError:
            return page.render("supply/scope3.html", year=year, rep=None, chart="{}", drill=None, tab="scope3",
                               query=query).body
        drill = _rows(page, year, category, site, offset) if category else None
        if fragment:
            return page.render("supply/_scope3_rows.html", year=year, drill=drill, query=query).body
        suppliers = rep.suppliers[:SUPPLIERS_SHOWN]
        return page.render("supply/scope3.html", year=year, rep=rep, chart=_script_json(_chart(t, rep)),
                           drill=drill, tab="scope3", query=query, suppliers=suppliers,
                           more_suppliers=len(rep.suppliers) - len(suppliers),
                           method_name=lambda m: _word(t, "scope3.method." + m, m),
                           category_name=lambda c: _word(t, "category." + c, c)).body

    return kept_read(request, page.sessions, org, build, "text/html; charset=utf-8",
                     vary=page.vary(year, category, site, offset, fragment))
