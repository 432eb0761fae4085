"""Energy analysis of the server's meter data, as the dashboard's energy page shows it: sites, the energy report
(base/peak load, idle energy per line and shift with CO2, kWh per unit, anomalies), the interval load profile,
roll-ups per site, area or line, and the energy flows of the Sankey.

The meter-data lake and registry are server settings (``ZEROCARBON_LAKE``, ``ZEROCARBON_METERS``, optional
``ZEROCARBON_PRODUCTION``); without them every endpoint answers 409 with a problem that says so.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from zerocarbon.api.deps import Acting, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.schemas import Out
from zerocarbon.services import energy_flows, energy_report

router = APIRouter(prefix="/orgs/{org}/energy", tags=["energy"], responses=RESPONSES)

Site = Annotated[str | None, Query(max_length=64, description="site code of the meter registry; default: its first "
                                                               "site")]
From = Annotated[date | None, Query(alias="from", description="first local date (YYYY-MM-DD), included")]
To = Annotated[date | None, Query(alias="to", description="last local date (YYYY-MM-DD), included")]
Medium = Annotated[str, Query(max_length=16, description="electricity, gas, water, air, pv")]


class SiteOut(Out):
    site: str
    timezone: str
    meters: list[str]
    revenue_meters: list[str]
    media: list[str]
    areas: list[str]
    lines: list[str]


class SitesOut(Out):
    production_configured: bool
    sites: list[SiteOut]


class LoadOut(Out):
    name: str
    kwh: float
    base_kw: float
    peak_kw: float
    peak_at: str | None
    load_factor: float


class GridFactorOut(Out):
    kg_per_kwh: float
    source: str
    warning: str | None = None


class ShiftOut(Out):
    name: str
    start_hour: int
    end_hour: int


class IdleOut(Out):
    line: str
    shift: str
    idle_kwh: float
    idle_hours: float
    co2_kg: float | None
    share_of_line_kwh: float | None = None


class KwhPerUnitOut(Out):
    line: str
    month: str
    kwh: float
    units: float
    kwh_per_unit: float


class ReportOut(Out):
    site: str
    timezone: str
    first_day: str
    last_day: str
    interval_min: int
    meters: list[str]
    site_load: LoadOut | None
    lines: list[LoadOut]
    grid_factor: GridFactorOut | None
    shifts: list[ShiftOut]
    kwh_per_unit: list[KwhPerUnitOut]
    idle: list[IdleOut]
    idle_total_kwh: float | None
    idle_total_co2_kg: float | None
    anomalies: list[str]
    notes: list[str]


class ProfileOut(Out):
    resolution: str
    interval_min: int
    timezone: str
    stamps: list[str]
    kw: list[float | None]
    base_kw: float
    peak_kw: float
    peak_at: str | None
    basis: str


class RollupRowOut(Out):
    site: str
    medium: str
    node: str
    name: str
    period: str
    unit: str
    value: float
    basis: str


class KpiRowOut(Out):
    line: str
    shift: str
    period: str = Field(description="local date of the day (or month) the shift began, YYYY-MM-DD")
    kwh: float
    intervals: int
    units: float | None = Field(description="units made; null: no production counts for it")
    kwh_per_unit: float | None = Field(description="kWh / units; null without units, or when none were made")
    product: str | None = Field(None, description="where the production counts name products: the product, with "
                                                  "the line's kWh in the shift shared among products by units")


class ProductKpiRowOut(Out):
    product: str
    period: str = Field(description="local date of the day (or month), YYYY-MM-DD")
    kwh: float = Field(description="the product's share of its lines' kWh in the shifts that made it")
    units: float
    kwh_per_unit: float | None


class FlowNodeOut(Out):
    id: str
    name: str
    level: str
    value: float
    metered: bool
    meters: list[str]


class FlowLinkOut(Out):
    source: str
    target: str
    value: float


class FlowWarningOut(Out):
    node: str
    kind: str
    message: str
    value: float | None = None
    meter: str | None = None
    share: float | None = None


class FlowsOut(Out):
    site: str
    medium: str
    unit: str
    total: float = Field(description="the site's consumption: grid import + generation - export in the electricity "
                                     "flows; the site's own meters (else the sum of its parts) otherwise")
    grid_import: float | None = Field(description="revenue meters of the medium; null: none declared")
    generation: float | None = Field(description="electricity only: pv meters without revenue; null: none")
    export: float | None = Field(description="electricity only: pv meters with revenue=true; null: none")
    self_consumption: float | None = Field(description="generation - export (all generation without an export "
                                                       "meter); null: no generation meter")
    nodes: list[FlowNodeOut]
    links: list[FlowLinkOut]
    warnings: list[FlowWarningOut]


@router.get("/sites", response_model=SitesOut)
def sites(acting: Annotated[Acting, requires("energy.read")]) -> SitesOut:
    """The sites of the server's meter registry with their meters, media, workshops (areas) and lines."""
    src = energy_report.source()
    return SitesOut(production_configured=src.production is not None,
                    sites=[SiteOut.model_validate(s) for s in energy_report.sites(energy_report.registry(src))])


@router.get("/report", response_model=ReportOut)
def report(acting: Annotated[Acting, requires("energy.read")], site: Site = None, start: From = None,
           end: To = None) -> ReportOut:
    """What ``zerocarbon energy report --json`` gives for the site and period: base and peak load, load factor,
    per line; with production counts configured, kWh per unit, idle energy per line and shift with its CO2 and
    the grid factor used (CN-2025.1 for the site's province or grid region), and anomalies in words."""
    rep = energy_report.site_report(acting.sessions, acting.org, energy_report.source(), site, start, end)
    data = rep.to_dict()
    data["shifts"] = [{"name": n, "start_hour": a, "end_hour": b} for n, a, b in rep.shifts]
    return ReportOut.model_validate(data)


@router.get("/profile", response_model=ProfileOut)
def profile(acting: Annotated[Acting, requires("energy.read")], site: Site = None, start: From = None,
            end: To = None,
            resolution: Annotated[Literal["interval", "hour", "day"] | None,
                                  Query(description="default: interval up to 31 days, hourly up to 400")] = None
            ) -> ProfileOut:
    """Average demand [kW] per interval, local hour or local day of the site's revenue meters (else its lines),
    with the base and peak load of the intervals."""
    return ProfileOut.model_validate(energy_report.site_profile(acting.sessions, acting.org, energy_report.source(),
                                                                site, start, end, resolution))


@router.get("/rollup", response_model=list[RollupRowOut])
def rollup(acting: Annotated[Acting, requires("energy.read")], site: Site = None,
           by: Annotated[Literal["site", "area", "line"], Query()] = "site",
           freq: Annotated[Literal["hour", "day", "month"], Query()] = "day", start: From = None, end: To = None,
           medium: Medium = "electricity") -> list[RollupRowOut]:
    """Energy per site, area (workshop) or line and local hour, day or month. By site: the revenue meters, else
    all meters of the medium (``basis``); by area or line: the node's own meters, else the sum of its parts."""
    rows = energy_flows.energy_rollup(energy_report.source(), acting.org, site, by, freq, start, end, medium)
    return [RollupRowOut.model_validate(r) for r in rows]


@router.get("/kpis", response_model=list[KpiRowOut])
def kpis(acting: Annotated[Acting, requires("energy.read")], site: Site = None, start: From = None, end: To = None,
         freq: Annotated[Literal["day", "month"], Query()] = "day",
         shifts: Annotated[str, Query(max_length=200, description="local shifts NAME=START-END, comma separated")]
         = "day=8-20,night=20-8") -> list[KpiRowOut]:
    """What ``zerocarbon meters kpis --json`` gives for one site: kWh per line and shift of each local day or
    month, with units made and kWh per unit when the server has production counts. Runs on the server's engine
    (``$ZEROCARBON_ENGINE``: duckdb or spark)."""
    rows = energy_flows.site_kpis(energy_report.source(), acting.org, site, start, end, freq,
                                  energy_report.parse_shifts(shifts))
    return [KpiRowOut.model_validate(r) for r in rows]


@router.get("/product-kpis", response_model=list[ProductKpiRowOut])
def product_kpis(acting: Annotated[Acting, requires("energy.read")], site: Site = None, start: From = None,
                 end: To = None, freq: Annotated[Literal["day", "month"], Query()] = "day",
                 shifts: Annotated[str, Query(max_length=200, description="local shifts NAME=START-END, comma "
                                                                          "separated")] = "day=8-20,night=20-8"
                 ) -> list[ProductKpiRowOut]:
    """What ``zerocarbon meters kpis --per product --json`` gives for one site: each product's kWh (its lines'
    energy in a shift shared among the products made by units), units and kWh per unit per local day or month.
    Needs production counts that name products (400 otherwise)."""
    rows = energy_flows.site_product_kpis(energy_report.source(), acting.org, site, start, end, freq,
                                          energy_report.parse_shifts(shifts))
    return [ProductKpiRowOut.model_validate(r) for r in rows]


@router.get("/flows", response_model=FlowsOut)
def flows(acting: Annotated[Acting, requires("energy.read")], site: Site = None, start: From = None, end: To = None,
          medium: Medium = "electricity",
          level: Annotated[Literal["area", "line", "asset"], Query(description="lowest level drawn")] = "line"
          ) -> FlowsOut:
    """The energy-flow Sankey: supplies (grid import, on-site PV generation, export) -> site -> area -> line
    (-> asset) nodes and links; a meter's reading beyond the meters below it is an ``unmetered`` node, sub-meters
    above their meter are a warning. The site consumes grid import + generation - export."""
    return FlowsOut.model_validate(energy_flows.site_flows(energy_report.source(), acting.org, site, start, end, medium, level))
