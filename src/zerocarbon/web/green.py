"""The green supply chain pages: the hub (five dimensions and Scope 3 with charts), logistics with its
modal-shift form, packaging (HKEX KPI A2.5) and recycling. They check ``supply.read``, as the API endpoints
(``api/routes/green.py``) that serve the same numbers from the same service calls."""
from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from zerocarbon.errors import FactorNotFoundError, InputError
from zerocarbon.services import green_supply
from zerocarbon.web import i18n
from zerocarbon.web.routes import PREFIX, Page, PageRoute

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
YearQ = Annotated[int | None, Query(ge=1990, le=2100)]
MODES = ("road", "rail", "sea", "inland_waterway", "air")


def _year(year: int | None) -> int:
    return year or date.today().year - 1


def _script_json(value) -> str:
    # Product and material names reach the page inside <script>: "<" escaped so no name can close the element.
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _word(t, key: str, fallback: str) -> str:
    text = t(key)
    return fallback if text == key else text


def _material(t, key: str) -> str:
    """A material key's name in the page's language (DESNZ's name in English); an unknown key as it is."""
    return _word(t, f"green.material.{key}", key)


def _no_factor(t, material: str, lacking) -> str:
    """Why a recycling line has no avoided figure, in the page's language."""
    uses = t("green.recycling.and").join(_word(t, f"green.recycling.use.{u}", u) for u in lacking)
    return t("green.recycling.no_material_factor", what=uses, material=_material(t, material))


def _hub_chart(t, o: dict) -> dict:
    """What the hub's charts draw: only the dimensions that have figures."""
    chart: dict = {}
    s3 = o["scope3"]
    if s3["status"] == "ok":
        cats = [c for c in s3["categories"] if c["status"] == "reported"]
        methods = sorted({m for c in cats for m in c["methods"]})
        chart["scope3"] = {"categories": [f"C{c['number']}" for c in cats],
                           "series": [{"name": _word(t, f"scope3.method.{m}", m),
                                       "data": [round(c["methods"].get(m, 0.0), 3) for c in cats]} for m in methods]}
    sup = o["suppliers"]
    if sup["status"] == "ok":
        chart["suppliers"] = {"labels": [t("green.suppliers.by_count"), t("green.suppliers.by_spend")],
                              "values": [_pct(sup.get("share_by_count")), _pct(sup.get("share_by_spend"))]}
    lg = o["logistics"]
    if lg["status"] == "ok":
        chart["logistics"] = {"modes": [_word(t, f"green.mode.{m['mode']}", m["mode"]) for m in lg["by_mode"]],
                              "ttw": [_round(m["ttw_g_per_tkm"]) for m in lg["by_mode"]],
                              "wtt": [_round(None if m["g_per_tkm"] is None else m["g_per_tkm"] - m["ttw_g_per_tkm"])
                                      for m in lg["by_mode"]],
                              "words": {"ttw": t("green.ttw"), "wtt": t("green.wtt"), "unit": "gCO2e/t·km"}}
    pk = o["packaging"]
    if pk["status"] == "ok":
        base = {p["product"]: p["kg_per_unit"]["base"] for p in (pk["base"] or {}).get("by_product", [])}
        chart["packaging"] = {"products": [p["product"] for p in pk["by_product"]],
                              "current": [round(p["kg_per_unit"], 4) for p in pk["by_product"]],
                              "base": [_round(base.get(p["product"]), 4) for p in pk["by_product"]] if pk["base"] else None,
                              "words": {"current": str(o["year"]), "base": str(o.get("base_year") or ""),
                                        "unit": "kg/" + t("green.unit")}}
    rc = o["recycling"]
    if rc["status"] == "ok":
        chart["recycling"] = {"materials": [_material(t, m["name"]) for m in rc["by_material"]],
                              "recycling": [_pct(m["recycling_rate"]) for m in rc["by_material"]],
                              "takeback": [_pct(m["takeback_rate"]) for m in rc["by_material"]],
                              "words": {"recycling": t("green.recycling_rate"), "takeback": t("green.takeback_rate")}}
    return chart


def _round(x, places: int = 2):
    return None if x is None else round(x, places)


def _pct(x):
    return None if x is None else round(100 * x, 2)


@router.get("/orgs/{org}/supply")
def hub(request: Request, org: str, year: YearQ = None, base_year: YearQ = None) -> Response:
    page = Page(request, org, "supply.read")
    t = i18n.translator(page.lang)
    year = _year(year)
    o = green_supply.overview(page.sessions, org, year, base_year=base_year)
    return page.render("green/hub.html", year=year, base_year=base_year, o=o, tab="overview",
                       chart=_script_json(_hub_chart(t, o)))


@router.get("/orgs/{org}/supply/logistics")
def logistics(request: Request, org: str, year: YearQ = None,
              from_mode: Annotated[Literal[MODES] | None, Query(alias="from")] = None,
              to_mode: Annotated[Literal[MODES], Query(alias="to")] = "rail",
              min_km: Annotated[float, Query(ge=0, le=100000)] = 500.0,
              vehicle: Annotated[str, Query(max_length=128)] = "",
              ratio: Annotated[float, Query(gt=0, le=5)] = 1.0) -> Response:
    page = Page(request, org, "supply.read")
    year = _year(year)
    rep = green_supply.logistics(page.sessions, org, year)
    form = {"from": from_mode or "road", "to": to_mode, "min_km": min_km, "vehicle": vehicle, "ratio": ratio}
    result, problems = None, []
    if from_mode is not None and rep["status"] == "ok":
        try:
            result = green_supply.modal_shift(page.sessions, org, year, from_mode=from_mode, min_distance_km=min_km,
                                              to_mode=to_mode, to_vehicle=vehicle, distance_ratio=ratio)
        except InputError as exc:
            problems = [str(p) for p in exc.problems]
        except FactorNotFoundError as exc:
            problems = [str(exc)]
    return page.render("green/logistics.html", 400 if problems else 200, year=year, rep=rep, form=form, modes=MODES,
                       result=result, problems=problems, tab="logistics")


@router.get("/orgs/{org}/supply/packaging")
def packaging(request: Request, org: str, year: YearQ = None, base_year: YearQ = None) -> Response:
    page = Page(request, org, "supply.read")
    year = _year(year)
    rep, change = green_supply.packaging(page.sessions, org, year, base_year)
    base = {p.product: p for p in change.by_product} if change else {}
    t = i18n.translator(page.lang)
    return page.render("green/packaging.html", year=year, base_year=base_year, rep=rep, change=change, base=base,
                       tab="packaging", material=lambda k: _material(t, k))


@router.get("/orgs/{org}/supply/recycling")
def recycling(request: Request, org: str, year: YearQ = None) -> Response:
    page = Page(request, org, "supply.read")
    year = _year(year)
    rep = green_supply.recycling(page.sessions, org, year)
    t = i18n.translator(page.lang)
    return page.render("green/recycling.html", year=year, rep=rep, tab="recycling", material=lambda k: _material(t, k),
                       materials=lambda keys: ", ".join(_material(t, k) for k in keys),
                       no_factor=lambda x: _no_factor(t, x.material, x.lacking))
