"""The energy page: daily and interval load profiles with base and peak load, idle energy per line and shift,
anomalies, and the energy-flow Sankey from site to workshop to line, from the server's meter-data lake.

The lake and the meter registry are a server setting, not an upload (``services.energy_report.source``:
``$ZEROCARBON_LAKE``, ``$ZEROCARBON_METERS``, optional ``$ZEROCARBON_PRODUCTION``), read on every request so a
changed setting needs no restart; without them the page says that energy data is not configured. The
numbers are those of the API's ``/orgs/{org}/energy/...`` endpoints: the same service calls.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from zerocarbon.errors import InputError, NotFoundError
from zerocarbon.services import energy_flows, energy_report
from zerocarbon.web import i18n
from zerocarbon.web.formatting import qty
from zerocarbon.web.routes import PREFIX, Page, PageRoute

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
# Node levels of the Sankey shown by a word of the page's language rather than the node's name.
NAMED_LEVELS = ("unmetered", "import", "generation", "export")

def _script_json(value) -> str:
    # Registry names reach the page inside <script>: "<" escaped so no name can close the element.
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _word(t, prefix: str, value: str) -> str:
    """The catalogue's word for a value the services name in English (a basis, shift or medium); a value the
    catalogue does not know (a shift named in the production settings) is shown as it is."""
    key = f"{prefix}.{value}"
    text = t(key)
    return value if text == key else text


def _warning(t, flows, w) -> str:
    """A data warning of the flows in the page's language (the API gives the English ``message``)."""
    nodes = {n.id: n for n in flows.nodes}
    unit = flows.unit
    if w.kind == "children_exceed_meter" and w.node in nodes and w.value is not None:
        n = nodes[w.node]
        key = "energy.warn.children_exceed_site" if n.level == "site" and flows.generation is not None \
            else "energy.warn.children_exceed"
        return t(key, node=w.node, below=qty(n.value - w.value), excess=qty(-w.value), own=qty(n.value),
                 meters=", ".join(n.meters), unit=unit)
    if w.kind == "export_exceeds_generation":
        return t("energy.warn.export_exceeds_generation", node=w.node, export=qty(flows.export),
                 generation=qty(flows.generation or 0.0), unit=unit)
    if w.kind == "partial_coverage" and w.share is not None:
        return t("energy.warn.partial_coverage", meter=w.meter, node=w.node, share=f"{w.share:.1%}")
    if w.kind == "no_readings":
        return t("energy.warn.no_readings", meter=w.meter, node=w.node)
    return w.message


def _problems(exc: Exception) -> list[str]:
    return [f"{p.column or p.source}: {p.reason}" for p in getattr(exc, "problems", [])] or [str(exc)]


@router.get("/orgs/{org}/energy")
def energy(request: Request, org: str, site: Annotated[str | None, Query(max_length=64)] = None,
           start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
           end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
           medium: Annotated[str, Query(max_length=16)] = "electricity",
           level: Annotated[str, Query(max_length=8)] = "line",
           resolution: Annotated[str | None, Query(max_length=8)] = None) -> Response:
    page = Page(request, org, "energy.read")
    t = i18n.translator(page.lang)
    src = energy_report.source()
    form = {"site": site or "", "from": start or "", "to": end or "", "medium": medium, "level": level,
            "resolution": resolution or ""}
    env = dict(lake_env=energy_report.LAKE_ENV, meters_env=energy_report.METERS_ENV,
               medium_name=lambda m: _word(t, "energy.medium_name", m))
    if not src.configured:
        return page.render("energy.html", configured=False, form=form, sites=[], rep=None, error=None,
                           chart="{}", **env)
    listed = energy_report.sites(energy_report.registry(src))
    site = site or (listed[0].site if listed else None)
    form["site"] = site or ""
    here = next((s for s in listed if s.site == site), None)
    context = dict(configured=True, form=form, sites=[s.site for s in listed], production=src.production is not None,
                   revenue_meters=here.revenue_meters if here else [],
                   media=here.media if here else [], **env)
    try:
        got = energy_report.site_analysis(page.sessions, org, src, site, start, end, resolution or None)
    except (InputError, NotFoundError) as exc:
        # The form stays on the page so another site or period can be chosen.
        status = 404 if isinstance(exc, NotFoundError) else 400
        return page.render("energy.html", status, rep=None, error=_problems(exc), chart="{}", **context)
    try:
        flows, flows_error = energy_flows.site_flows(src, org, got.report.site, start, end, medium, level), None
    except (InputError, NotFoundError) as exc:
        # Another medium or level can be chosen while the load figures stay.
        flows, flows_error = None, _problems(exc)
    rep = got.report
    # Per day over a month or less, else per month: a table a person reads, not a log.
    kpi_freq = "day" if len(got.daily.days) <= 31 else "month"
    try:
        # Counts that name products: each product's kWh and units over its lines and shifts, beside the lines.
        lines, made = energy_flows.site_kpis_and_products(src, org, rep.site, start, end, kpi_freq, rep.shifts)
        kpis = [dict(asdict(r), shift_name=_word(t, "energy.shift", r.shift)) for r in lines]
        products = [asdict(r) for r in made]
        kpi_error = None
    except (InputError, NotFoundError) as exc:
        kpis, kpi_error, products = [], _problems(exc), []
    idle = [dict(r, co2_t=None if r.get("co2_kg") is None else r["co2_kg"] / 1000,
                 shift_name=_word(t, "energy.shift", r["shift"])) for r in rep.idle]
    lines = sorted({r["line"] for r in idle})
    shifts = [s[0] for s in rep.shifts]
    by = {(r["line"], r["shift"]): r["idle_kwh"] for r in idle}
    chart = {"days": got.daily.days, "kwh": got.daily.kwh, "unit": "kWh", "basis": got.daily.basis, "lines": lines,
             "idle": [{"name": _word(t, "energy.shift", s), "data": [round(by.get((line, s), 0.0), 3) for line in lines]} for s in shifts],
             "profile": asdict(got.profile),
             "words": {"base": t("energy.base"), "peak": t("energy.peak"),
                       **{lv: t(f"energy.node.{lv}") for lv in NAMED_LEVELS}},
             "flows": None if flows is None else {
                 "site": flows.site, "medium": flows.medium, "unit": flows.unit, "total": flows.total,
                 "grid_import": flows.grid_import, "generation": flows.generation, "export": flows.export,
                 "self_consumption": flows.self_consumption,
                 "nodes": [asdict(n) for n in flows.nodes], "links": [asdict(lk) for lk in flows.links]}}
    warnings = [] if flows is None else [(w.kind, _warning(t, flows, w)) for w in flows.warnings]
    return page.render("energy.html", rep=rep, idle=idle, error=None, chart=_script_json(chart),
                       import_meters=[m for m in rep.meters if m in context["revenue_meters"]],
                       basis=_word(t, "energy.basis_name", got.daily.basis),
                       profile_basis=_word(t, "energy.basis_name", got.profile.basis), profile=got.profile,
                       flows=flows, flows_error=flows_error, warnings=warnings, kpis=kpis, kpi_error=kpi_error, product_kpis=products,
                       kpi_freq=kpi_freq, **context)
