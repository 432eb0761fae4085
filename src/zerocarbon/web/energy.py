"""The energy page: daily load profile, base and peak load, idle energy per line and shift, anomalies, from
the server's meter-data lake.

The lake and the meter registry are a server setting, not an upload: ``$ZEROCARBON_LAKE`` (the Parquet lake
folder of ``zerocarbon meters import``) and ``$ZEROCARBON_METERS`` (the meter registry CSV); production counts
come from ``$ZEROCARBON_PRODUCTION`` when set. They are read on every request so a changed setting needs no
restart; without them the page says that energy data is not configured.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from zerocarbon.errors import InputError, NotFoundError
from zerocarbon.services import accounting, energy_data, energy_report, factor_sets, meter_import
from zerocarbon.units import scale
from zerocarbon.web.routes import PREFIX, Page, PageRoute

LAKE_ENV, METERS_ENV, PRODUCTION_ENV = "ZEROCARBON_LAKE", "ZEROCARBON_METERS", "ZEROCARBON_PRODUCTION"
# Idle CO2 uses this shipped set's grid factor for the site's province or grid region as the organisation declares
# them (national when the site is not in the organisation), for the report's data year; the set's own fallback
# rules and warnings apply and the page names the factor and its source.
FACTOR_SET = "CN-2025.1"

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)


def settings() -> dict[str, Path | None]:
    def path(name: str) -> Path | None:
        value = os.environ.get(name, "").strip()
        return Path(value) if value else None

    return {"lake": path(LAKE_ENV), "meters": path(METERS_ENV), "production": path(PRODUCTION_ENV)}


def _script_json(value) -> str:
    # Registry names reach the page inside <script>: "<" escaped so no name can close the element.
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _daily(lake: Path, org: str, meters, site: str, start, end) -> tuple[list[str], list[float], str]:
    """Site electricity [kWh] per local day, as ``energy_data.rollup`` adds it up (revenue meters if any)."""
    df = energy_data.rollup(lake, org, meters, by="site", freq="day", site=site, start=start, end=end)
    df = df[df["medium"] == "electricity"]
    kwh = [float(v) * scale(u, "kWh") for v, u in zip(df["value"], df["unit"])]
    days: dict[str, float] = {}
    for day, value in zip(df["period"], kwh):
        days[day] = days.get(day, 0.0) + value
    basis = str(df["basis"].iloc[0]) if len(df) else ""
    return list(days), [round(v, 3) for v in days.values()], basis


@router.get("/orgs/{org}/energy")
def energy(request: Request, org: str, site: Annotated[str | None, Query(max_length=64)] = None,
           start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
           end: Annotated[str | None, Query(alias="to", max_length=10)] = None) -> Response:
    page = Page(request, org, "energy.read")
    conf = settings()
    form = {"site": site or "", "from": start or "", "to": end or ""}
    if conf["lake"] is None or conf["meters"] is None:
        return page.render("energy.html", configured=False, form=form, sites=[], rep=None, error=None,
                           chart="{}", lake_env=LAKE_ENV, meters_env=METERS_ENV)
    meters = meter_import.read_registry(conf["meters"])
    sites = sorted({m.site for m in meters.values()})
    site = site or (sites[0] if sites else None)
    form["site"] = site or ""
    context = dict(configured=True, form=form, sites=sites, production=conf["production"] is not None,
                   lake_env=LAKE_ENV, meters_env=METERS_ENV)
    try:
        first, last = energy_data.parse_day(start or None, "from"), energy_data.parse_day(end or None, "to")
        where = next((x for x in accounting.organisation(page.sessions, org).sites if x.code == site), None)
        rep = energy_report.report(conf["lake"], org, meters, site=site, start=first, end=last,
                                   production=conf["production"],
                                   factor_set=FACTOR_SET if conf["production"] is not None else None,
                                   province=where.province if where else None,
                                   grid_region=where.grid_region if where else None,
                                   country=where.country if where else "CN",
                                   stored_sets=factor_sets.for_organisation(page.sessions, org))
        days, kwh, basis = _daily(conf["lake"], org, meters, rep.site, first, last)
    except (InputError, NotFoundError) as exc:
        # The form stays on the page so another site or period can be chosen.
        problems = [f"{p.column + ': ' if p.column else ''}{p.reason}" for p in getattr(exc, "problems", [])]
        status = 404 if isinstance(exc, NotFoundError) else 400
        return page.render("energy.html", status, rep=None, error=problems or [str(exc)], chart="{}", **context)
    idle = [dict(r, co2_t=None if r.get("co2_kg") is None else r["co2_kg"] / 1000) for r in rep.idle]
    lines = sorted({r["line"] for r in idle})
    shifts = [s[0] for s in rep.shifts]
    by = {(r["line"], r["shift"]): r["idle_kwh"] for r in idle}
    chart = {"days": days, "kwh": kwh, "unit": "kWh", "basis": basis, "lines": lines,
             "idle": [{"name": s, "data": [round(by.get((line, s), 0.0), 3) for line in lines]} for s in shifts]}
    return page.render("energy.html", rep=rep, idle=idle, error=None, chart=_script_json(chart),
                       basis=basis, factor_set=FACTOR_SET, **context)
