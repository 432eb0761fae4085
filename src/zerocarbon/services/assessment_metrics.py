"""Metric providers of the zero-carbon factory assessment: one function per computed metric key of an index
system, each reading the real stores (the stored inventory and its activity rows, the meter-data lake, the
supplier register, packaging and waste rows) for one boundary and year.

A provider takes a :class:`MetricContext` and returns a :class:`~zerocarbon.core.assessment.scoring.MetricValue`
with its lineage (row counts and totals by source, batch ids, factor ids and editions, meter ids, the formula),
or a value of None with the reason in ``note`` ("not available: ..."). Missing data is never a zero.

Metrics another service computes (targets.*, claim.*) are listed with their module in :data:`SERVICE_METRICS`;
the module's ``assessment_metrics(sessions, org, year, site)`` gives their values. :func:`register` adds or
replaces a provider at run time.

Boundary rules (docs/assessment.md): a **site** is everything the inventory counts under the site code. A
**workshop** is a set of lines of one site (their line meters, or their asset meters where a line has none)
plus the named non-line meters (utilities serving only it; ``pv`` meters count as its on-site generation),
read from the meter-data lake. Site-level quantities a workshop has no meter for are attributed pro rata to
its electricity: the site's instrument cover fraction of grid electricity, and the site's location-based
Scope 2 factor per kWh of grid electricity.
"""
from __future__ import annotations

import csv
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.assessment.scoring import MetricValue
from zerocarbon.core.energy.intervals import Meter
from zerocarbon.errors import InputError, NotFoundError, StateError, UnitError, ZerocarbonError
from zerocarbon.units import scale, scales

SITE, WORKSHOP = "site", "workshop"
FRACTION = "fraction"
# Waste treatments that return material to use (the waste rows' ``treatment`` values of the factor sets).
RECYCLING_TREATMENTS = ("recycling_closed_loop", "recycling_open_loop", "recycling", "composting",
                        "anaerobic_digestion")
# Lake readings the import pipeline filled in (gaps interpolated) were not acquired automatically.
NOT_ACQUIRED = ("filled",)
#: Modules whose import registers further providers (targets.*, claim.*), imported once when present.
# Metrics other services compute: module -> {key: (unit, title, formula, data)}. Each such module has
# ``assessment_metrics(sessions, org, year, site) -> {key: MetricValue fields}``; it is imported the first time
# the providers are asked for, so that this module does not import its callers' services at import time.
SERVICE_METRICS = {
    "zerocarbon.services.targets": {
        "targets.defined": ("bool", "a Scope 1+2 reduction target is stored",
                            "1 when a stored absolute, intensity or net-zero target covers Scope 1+2 of the "
                            "organisation or the site", "stored targets"),
        "targets.scope12_on_track": ("bool", "Scope 1+2 on track to every target",
                                     "1 when the year's Scope 1+2 is on or below every such target's linear "
                                     "trajectory", "stored targets and inventories"),
    },
    "zerocarbon.services.claims": {
        "claim.offset_coverage": ("fraction", "residual emissions covered by quality credits",
                                  "tonnes of credits passing every credit test / residual emissions of the latest "
                                  "checked claim (at most 1); counted once the claim is signed off",
                                  "carbon-credit register and claims"),
        "claim.credit_quality_share": ("fraction", "credits passing every quality test",
                                       "credit tonnes passing every credit test / all credit tonnes of the claim",
                                       "carbon-credit register and claims"),
    },
}


@dataclass(frozen=True)
class Boundary:
    """What an assessment covers: a site, or a workshop of a site (its lines and extra meters)."""

    kind: str  # site | workshop
    site: str
    workshop: str | None = None
    lines: tuple[str, ...] = ()
    meters: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == SITE:
            return f"site {self.site}"
        parts = [f"lines {', '.join(self.lines)}" if self.lines else "", f"meters {', '.join(self.meters)}"
                 if self.meters else ""]
        return f"workshop {self.workshop} of {self.site} ({'; '.join(p for p in parts if p)})"


@dataclass
class MetricContext:
    """Everything a provider reads: the database, the organisation, the year and boundary, the factor set and
    base year, and where the server has them the meter-data lake, its registry and the production counts
    (``services.energy_report.source()``: ``$ZEROCARBON_LAKE``, ``$ZEROCARBON_METERS``,
    ``$ZEROCARBON_PRODUCTION``). ``cache`` keeps reads shared by several providers within one run."""

    sessions: sessionmaker
    org: str
    year: int
    boundary: Boundary
    factor_set: str | None = None
    base_year: int | None = None
    lake: Path | None = None
    meters: dict[str, Meter] | None = None
    production: Path | None = None
    cache: dict = field(default_factory=dict)

    def memo(self, key, build: Callable[[], object]):
        if key not in self.cache:
            try:
                self.cache[key] = ("ok", build())
            except Unavailable as exc:
                self.cache[key] = ("no", exc)
        kind, value = self.cache[key]
        if kind == "no":
            raise value
        return value


class Unavailable(Exception):
    """A metric cannot be computed for the boundary and year; the message says why (shown to the user)."""


@dataclass(frozen=True)
class MetricSpec:
    """One computed metric: its key, unit, a title, the formula in words, where its data come from and the
    function computing it."""

    key: str
    unit: str
    title: str
    formula: str
    data: str
    compute: Callable[[MetricContext], MetricValue]


_REGISTRY: dict[str, MetricSpec] = {}
_LOADED: set[str] = set()


def _service_metric(module: str, key: str, unit: str) -> Callable[[MetricContext], MetricValue]:
    def compute(ctx: MetricContext) -> MetricValue:
        def build() -> dict:
            service = importlib.import_module(module)
            return service.assessment_metrics(ctx.sessions, ctx.org, ctx.year, ctx.boundary.site)

        fields = dict(ctx.memo(("service", module), build)[key])
        fields.setdefault("source", "computed")
        fields["unit"] = unit
        return MetricValue(**fields)

    return compute


def register(spec: MetricSpec) -> None:
    """Add (or replace) the provider of ``spec.key``."""
    _REGISTRY[spec.key] = spec


def providers() -> dict[str, MetricSpec]:
    """Every registered provider, the extension modules' included."""
    for module, metrics in SERVICE_METRICS.items():
        if module not in _LOADED:
            _LOADED.add(module)
            for key, (unit, title, formula, data) in metrics.items():
                _REGISTRY.setdefault(key, MetricSpec(key, unit, title, formula, data,
                                                     _service_metric(module, key, unit)))
    return dict(_REGISTRY)


def unavailable(unit: str, reason: str, **lineage) -> MetricValue:
    return MetricValue(None, unit, "computed", lineage=lineage, note=f"not available: {reason}")


def compute(ctx: MetricContext, keys, progress: Callable[[str, int, int], None] = lambda key, i, n: None
            ) -> dict[str, MetricValue]:
    """The value of each metric in ``keys`` that has a provider (others are left out: manual or unknown)."""
    known = providers()
    wanted = [k for k in keys if k in known]
    out: dict[str, MetricValue] = {}
    for i, key in enumerate(wanted):
        progress(key, i, len(wanted))
        spec = known[key]
        try:
            out[key] = spec.compute(ctx)
        except Unavailable as exc:
            out[key] = unavailable(spec.unit, str(exc))
        except ZerocarbonError as exc:
            # Stored data one metric cannot use (rows a report refuses, a factor the set lacks) leave that metric
            # without a value and say why; the other metrics are still computed.
            out[key] = unavailable(spec.unit, str(exc).splitlines()[0])
    progress("", len(wanted), len(wanted))
    return out


def _value(v: float, unit: str, note: str = "", **lineage) -> MetricValue:
    return MetricValue(float(v), unit, "computed", lineage=_plain(lineage), note=note)


def _plain(x):
    """Lineage as JSON values (numpy numbers and tuples turned plain)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set)):
        return [_plain(v) for v in x]
    if hasattr(x, "item"):
        return x.item()
    return x


# --- GB/T 2589 constants ---------------------------------------------------------------------------------------

@cache
def gbt2589() -> dict[str, dict]:
    """The rows of ``data/reference/energy/gbt2589_kgce.csv`` by key (value, unit, status, source)."""
    text = (resources.files("zerocarbon.data") / "reference" / "energy" / "gbt2589_kgce.csv").read_text("utf-8")
    return {r["key"]: {**r, "value": float(r["value"])} for r in csv.DictReader(text.splitlines())}


def kgce_per_mj() -> float:
    return 1000.0 / gbt2589()["kgce_heat"]["value"]


def electricity_kgce_per_kwh() -> float:
    return gbt2589()["electricity_equivalent"]["value"]


def _gbt_lineage() -> dict:
    g = gbt2589()
    return {k: {"value": g[k]["value"], "unit": g[k]["unit"], "status": g[k]["status"]}
            for k in ("kgce_heat", "electricity_equivalent")}


# --- the stores, read once per run -------------------------------------------------------------------------------

def _organisation(ctx: MetricContext):
    from zerocarbon.services import accounting

    org = ctx.memo("org", lambda: accounting.organisation(ctx.sessions, ctx.org))
    if ctx.boundary.site not in {s.code for s in org.sites}:
        raise NotFoundError(f"{ctx.org} has no site '{ctx.boundary.site}'")
    return org


def _activities(ctx: MetricContext, year: int) -> dict[str, pd.DataFrame]:
    """The active activity rows of the organisation and ``year`` by kind, only those of the boundary's site."""
    from zerocarbon.store import repos

    def load():
        with ctx.sessions.begin() as s:
            org_id, _ = repos.load_organisation(s, ctx.org)
            stored = repos.load_activities(s, org_id, year)
        out = {}
        for kind, f in stored.data.frames.items():
            site_col = "retired_for_site" if kind == "instrument" else "site"
            if site_col in f:
                out[kind] = f[f[site_col].astype(str) == ctx.boundary.site].reset_index(drop=True)
        return out

    return ctx.memo(("activities", year), load)


def _batches(frame: pd.DataFrame) -> list[int]:
    return sorted({int(b) for b in frame["batch_id"].dropna()}) if "batch_id" in frame else []


def _site_totals(ctx: MetricContext, year: int):
    from zerocarbon.services import accounting

    def load():
        try:
            meta, totals = accounting.inventory_summary(ctx.sessions, ctx.org, year)
        except NotFoundError:
            raise Unavailable(f"no stored inventory of {ctx.org} for {year} (`zerocarbon inventory compute`)") \
                from None
        row = next((t for t in totals if t.site == ctx.boundary.site), None)
        if row is None:
            raise Unavailable(f"the {year} inventory has no Scope 1 or 2 rows for site {ctx.boundary.site}")
        return meta, row

    return ctx.memo(("totals", year), load)


@dataclass(frozen=True)
class SiteElectricity:
    """Electricity of a site and year [kWh]: from the grid, self-consumed PV, and the grid part covered by
    renewable instruments retired for the site-year (the inventory's allocation rule)."""

    grid_kwh: float
    pv_self_kwh: float
    renewable_covered_kwh: float
    instrument_ids: tuple[str, ...]
    rows: dict
    batches: list[int]

    @property
    def consumed_kwh(self) -> float:
        return self.grid_kwh + self.pv_self_kwh


def _site_electricity(ctx: MetricContext, year: int | None = None) -> SiteElectricity:
    from zerocarbon.core.ghg.electricity import allocate_instruments

    year = ctx.year if year is None else year

    def load():
        org = _organisation(ctx)
        acts = _activities(ctx, year)
        elec = acts.get("electricity")
        if elec is None or elec.empty:
            raise Unavailable(f"no electricity rows of site {ctx.boundary.site} for {year}")
        grid = float((elec["quantity"].to_numpy(dtype=float) * scales(elec["unit"], "kWh")).sum())
        gen = acts.get("generation")
        pv_self = 0.0
        if gen is not None and not gen.empty:
            net = gen["generated"].to_numpy(dtype=float) - gen["exported"].fillna(0.0).to_numpy(dtype=float)
            pv_self = float((net * scales(gen["unit"], "kWh")).sum())
        inst = acts.get("instrument")
        covered, ids = 0.0, ()
        if inst is not None and not inst.empty:
            claims, _ = allocate_instruments({ctx.boundary.site: grid}, inst, year,
                                             {ctx.boundary.site: org.site(ctx.boundary.site).country})
            claim = claims[ctx.boundary.site]
            covered, ids = claim.renewable_kwh, claim.instrument_ids
        rows = {"electricity": len(elec), "generation": 0 if gen is None else len(gen),
                "instrument": 0 if inst is None else len(inst)}
        batches = sorted({b for f in (elec, gen, inst) if f is not None for b in _batches(f)})
        return SiteElectricity(grid, pv_self, covered, tuple(ids), rows, batches)

    return ctx.memo(("electricity", year), load)


def _factor_set(ctx: MetricContext, year: int):
    from zerocarbon.services import accounting, factor_sets

    name = ctx.factor_set
    if not name:
        meta, _ = _site_totals(ctx, year)
        name = meta["factor_set"]
    return ctx.memo(("fs", name), lambda: factor_sets.resolve(ctx.sessions, name or accounting.DEFAULT_FACTOR_SET,
                                                              ctx.org))


def _fuel_mj(fs, fuel: str, qty: float, unit: str) -> tuple[float, str]:
    """Energy [MJ, NCV] of a fuel quantity, and the heating value's factor id (``""`` for energy units)."""
    try:
        return qty * scale(unit, "MJ"), ""
    except UnitError:
        pass
    for hv in fs.heating_values(fuel):
        if hv.basis not in ("NCV", ""):
            continue
        energy, per = hv.unit.split("/", 1)
        try:
            return qty * scale(unit, per) * hv.value * scale(energy, "MJ"), f"{hv.factor_id}@{hv.edition}"
        except UnitError:
            continue
    raise Unavailable(f"factor set {fs.id} has no net calorific value of {fuel} per {unit}")


@dataclass(frozen=True)
class SiteEnergy:
    """Comprehensive energy of a site and year [kgce] (GB/T 2589), electricity at its equivalent value."""

    fuel_kgce: float
    electricity_kgce: float
    non_fossil_kgce: float
    by_fuel: dict
    heating_values: list[str]

    @property
    def total_kgce(self) -> float:
        return self.fuel_kgce + self.electricity_kgce


def _site_energy(ctx: MetricContext) -> SiteEnergy:
    def load():
        e = _site_electricity(ctx)
        fs = _factor_set(ctx, ctx.year)
        fuel = _activities(ctx, ctx.year).get("fuel")
        by_fuel: dict[str, float] = {}
        hvs: set[str] = set()
        non_fossil = 0.0
        for r in ([] if fuel is None else fuel.itertuples()):
            mj, hv = _fuel_mj(fs, r.fuel, float(r.quantity), r.unit)
            kgce = mj * kgce_per_mj()
            by_fuel[r.fuel] = by_fuel.get(r.fuel, 0.0) + kgce
            if str(r.biogenic).lower() == "true":
                non_fossil += kgce
            if hv:
                hvs.add(hv)
        k = electricity_kgce_per_kwh()
        return SiteEnergy(sum(by_fuel.values()), e.consumed_kwh * k,
                          non_fossil + (e.pv_self_kwh + e.renewable_covered_kwh) * k,
                          {f: round(v, 3) for f, v in by_fuel.items()}, sorted(hvs))

    return ctx.memo("energy", load)


def _site_units(ctx: MetricContext) -> tuple[float, dict]:
    """Units produced at the site in the year: the ``units`` of its packaging rows (HKEX KPI A2.5 rows state
    the units produced per product and period; components of one product and period state them once)."""
    pack = _activities(ctx, ctx.year).get("packaging")
    if pack is None or pack.empty:
        raise Unavailable(f"no packaging rows of site {ctx.boundary.site} for {ctx.year}: they carry the units "
                          "produced (import them with `zerocarbon inventory import packaging`)")
    once = pack.drop_duplicates(["product", "period_start", "period_end"])
    units = float(once["units"].astype(float).sum())
    if not units > 0:
        raise Unavailable("the packaging rows state no units produced")
    return units, {"units_source": "packaging rows (units produced per product and period)",
                   "packaging_rows": len(pack), "products": sorted(set(once["product"].astype(str))),
                   "packaging_batches": _batches(pack)}


# --- the meter-data lake -----------------------------------------------------------------------------------------

def _registry(ctx: MetricContext) -> dict[str, Meter]:
    if ctx.lake is None or ctx.meters is None:
        raise Unavailable("no meter data configured (the meter data: ZEROCARBON_LAKE and ZEROCARBON_METERS, "
                          "or --lake/--meters on the command line)")
    return ctx.meters


def _line_meters(meters: dict[str, Meter], site: str) -> dict[str, list[Meter]]:
    """A line's own electricity meters, or its assets' where it has none (energy_report's rule: a line meter and
    its asset sub-meters are not counted twice)."""
    out: dict[str, list[Meter]] = {}
    for m in meters.values():
        if m.site == site and m.line and m.medium == "electricity":
            out.setdefault(m.line, []).append(m)
    return {line: [m for m in ms if not m.asset.strip()] or ms for line, ms in out.items()}


def boundary_meters(meters: dict[str, Meter], b: Boundary) -> list[Meter]:
    """The meters of a workshop boundary (its lines' meters and the extra meters named), or every meter of a
    site; unknown lines or meters are refused with the known ones listed."""
    site_meters = {k: m for k, m in meters.items() if m.site == b.site}
    if b.kind == SITE:
        return sorted(site_meters.values(), key=lambda m: m.id)
    lines = _line_meters(meters, b.site)
    bad = [x for x in b.lines if x not in lines]
    bad_m = [x for x in b.meters if x not in site_meters]
    if bad or bad_m:
        from zerocarbon.errors import Problem

        problems = [Problem("workshop", None, "lines", f"site {b.site} has no metered line '{x}'; its lines: "
                                                       f"{', '.join(sorted(lines))}") for x in bad]
        problems += [Problem("workshop", None, "meters", f"site {b.site} has no meter '{x}'; its meters: "
                                                         f"{', '.join(sorted(site_meters))}") for x in bad_m]
        raise InputError(problems)
    chosen = {m.id: m for x in b.lines for m in lines[x]}
    chosen.update({x: site_meters[x] for x in b.meters})
    return sorted(chosen.values(), key=lambda m: m.id)


def _report(ctx: MetricContext):
    """The energy report of the boundary's site and year (lines, idle running, kWh per unit)."""
    from zerocarbon.services import energy_report

    def load():
        meters = _registry(ctx)
        try:
            return energy_report.report(ctx.lake, ctx.org, meters, site=ctx.boundary.site,
                                        start=date(ctx.year, 1, 1), end=date(ctx.year, 12, 31),
                                        production=ctx.production)
        except (NotFoundError, StateError) as exc:
            raise Unavailable(f"meter data of site {ctx.boundary.site} in {ctx.year}: {exc}") from None

    return ctx.memo("report", load)


def _lake_kwh(ctx: MetricContext, chosen: list[Meter], year: int) -> pd.Series:
    """kWh of each of the ``chosen`` meters in the local calendar ``year`` [kWh]."""
    from zerocarbon.services.energy_data import Selection, load_kwh

    if not chosen:
        return pd.Series(dtype=float)
    tz = chosen[0].timezone
    try:
        wide = load_kwh(ctx.lake, ctx.org, Selection(ctx.boundary.site, tz, tuple(chosen)), date(year, 1, 1),
                        date(year, 12, 31))
    except NotFoundError as exc:
        raise Unavailable(str(exc)) from None
    return wide.sum(min_count=1).fillna(0.0)


@dataclass(frozen=True)
class WorkshopEnergy:
    """Electricity of a workshop in the year [kWh] from its meters: consumed, and its own PV generation."""

    consumed_kwh: float
    pv_kwh: float
    by_meter: dict
    meters: list[str]

    @property
    def grid_kwh(self) -> float:
        return max(self.consumed_kwh - self.pv_kwh, 0.0)


def _workshop_energy(ctx: MetricContext) -> WorkshopEnergy:
    def load():
        chosen = boundary_meters(_registry(ctx), ctx.boundary)
        use = [m for m in chosen if m.medium == "electricity"]
        pv = [m for m in chosen if m.medium == "pv"]
        kwh = _lake_kwh(ctx, use + pv, ctx.year)
        consumed = float(sum(kwh.get(m.id, 0.0) for m in use))
        if not consumed > 0:
            raise Unavailable(f"the lake holds no electricity of {ctx.boundary.describe()} in {ctx.year}")
        return WorkshopEnergy(consumed, float(sum(kwh.get(m.id, 0.0) for m in pv)),
                              {k: round(float(v), 3) for k, v in kwh.items()}, [m.id for m in chosen])

    return ctx.memo("workshop_energy", load)


def _workshop_units(ctx: MetricContext) -> tuple[float, dict]:
    rep = _report(ctx)
    if not rep.kwh_per_unit:
        raise Unavailable("no production counts for the lines (the meter data: ZEROCARBON_PRODUCTION, or "
                          "--production on the command line)")
    rows = [r for r in rep.kwh_per_unit if r["line"] in ctx.boundary.lines]
    units = float(sum(r["units"] for r in rows))
    if not units > 0:
        raise Unavailable(f"the production counts hold no units of lines {', '.join(ctx.boundary.lines)}")
    return units, {"units_source": f"production counts {Path(ctx.production).name} of lines "
                                   f"{', '.join(ctx.boundary.lines)}", "months": len({r['month'] for r in rows})}


def _workshop(ctx: MetricContext) -> bool:
    return ctx.boundary.kind == WORKSHOP


# --- providers ---------------------------------------------------------------------------------------------------

def _units(ctx: MetricContext) -> tuple[float, dict]:
    return _workshop_units(ctx) if _workshop(ctx) else _site_units(ctx)


def kwh_per_unit(ctx: MetricContext) -> MetricValue:
    units, ul = _units(ctx)
    if _workshop(ctx):
        w = _workshop_energy(ctx)
        return _value(w.consumed_kwh / units, "kWh/unit", kwh=w.consumed_kwh, units=units, meters=w.meters, **ul,
                      formula="electricity of the workshop's meters [kWh] / units produced by its lines")
    e = _site_electricity(ctx)
    return _value(e.consumed_kwh / units, "kWh/unit", grid_kwh=e.grid_kwh, pv_self_kwh=e.pv_self_kwh, units=units,
                  rows=e.rows, batches=e.batches, **ul,
                  formula="(grid electricity + self-consumed PV) [kWh] / units produced")


def kgce_per_unit(ctx: MetricContext) -> MetricValue:
    units, ul = _units(ctx)
    k = electricity_kgce_per_kwh()
    if _workshop(ctx):
        w = _workshop_energy(ctx)
        return _value(w.consumed_kwh * k / units, "kgce/unit", kwh=w.consumed_kwh, units=units, gbt2589=_gbt_lineage(),
                      **ul, formula="workshop electricity [kWh] x 0.1229 kgce/kWh / units",
                      note="the workshop's metered energy is electricity only; GB/T 2589 constants proposed")
    en = _site_energy(ctx)
    return _value(en.total_kgce / units, "kgce/unit", fuel_kgce=en.fuel_kgce, electricity_kgce=en.electricity_kgce,
                  by_fuel=en.by_fuel, heating_values=en.heating_values, units=units, gbt2589=_gbt_lineage(), **ul,
                  formula="(sum fuel x NCV / 29307.6 kJ/kgce + electricity kWh x 0.1229 kgce/kWh) / units",
                  note="GB/T 2589 constants marked proposed (data/reference/energy)")


def _workshop_location_t(ctx: MetricContext, year: int) -> tuple[float, dict]:
    """Location-based tCO2e of the workshop: its grid kWh x the site's Scope 2 location-based t per grid kWh."""
    _, t = _site_totals(ctx, year)
    e = _site_electricity(ctx, year)
    if not e.grid_kwh > 0:
        raise Unavailable(f"site {ctx.boundary.site} bought no grid electricity in {year}")
    w = _workshop_energy(ctx)
    factor = t.scope2_location / e.grid_kwh
    return w.grid_kwh * factor, {"workshop_grid_kwh": w.grid_kwh, "site_scope2_location_t": t.scope2_location,
                                 "site_grid_kwh": e.grid_kwh, "site_t_per_kwh": factor}


def scope12_kg_per_unit(ctx: MetricContext) -> MetricValue:
    units, ul = _units(ctx)
    if _workshop(ctx):
        t, lin = _workshop_location_t(ctx, ctx.year)
        return _value(t * 1000 / units, "kgCO2e/unit", **lin, units=units, **ul,
                      formula="workshop grid kWh x site Scope 2 location-based tCO2e per grid kWh x 1000 / units",
                      note="no Scope 1 is attributed to the workshop (fuels are burnt by site equipment)")
    meta, t = _site_totals(ctx, ctx.year)
    return _value((t.scope1 + t.scope2_location) * 1000 / units, "kgCO2e/unit", scope1_t=t.scope1,
                  scope2_location_t=t.scope2_location, factor_set=meta["factor_set"],
                  fingerprint=meta["fingerprint"], units=units, **ul,
                  formula="(Scope 1 + Scope 2 location-based) [tCO2e] x 1000 / units")


def scope12_change_vs_base(ctx: MetricContext) -> MetricValue:
    if ctx.base_year is None:
        raise Unavailable("no base year given")
    if _workshop(ctx):
        raise Unavailable("a workshop's emissions of the base year need its meter data of that year; the change is "
                          "assessed for the site")
    meta, now = _site_totals(ctx, ctx.year)
    base_meta, base = _site_totals(ctx, ctx.base_year)
    b = base.scope1 + base.scope2_location
    if not b > 0:
        raise Unavailable(f"the {ctx.base_year} inventory has no Scope 1+2 emissions for site {ctx.boundary.site}")
    n = now.scope1 + now.scope2_location
    return _value((n - b) / b, FRACTION, year_t=n, base_year_t=b, base_year=ctx.base_year,
                  factor_sets=[meta["factor_set"], base_meta["factor_set"]],
                  formula="(Scope 1+2 location-based of the year - of the base year) / of the base year")


def tco2_per_tce(ctx: MetricContext) -> MetricValue:
    if _workshop(ctx):
        t, lin = _workshop_location_t(ctx, ctx.year)
        tce = _workshop_energy(ctx).consumed_kwh * electricity_kgce_per_kwh() / 1000
        return _value(t / tce, "tCO2/tce", **lin, tce=tce, gbt2589=_gbt_lineage(),
                      formula="workshop location-based tCO2e / workshop electricity in tce")
    _, totals = _site_totals(ctx, ctx.year)
    en = _site_energy(ctx)
    t = totals.scope1 + totals.scope2_location
    return _value(t / (en.total_kgce / 1000), "tCO2/tce", scope12_location_t=t, tce=en.total_kgce / 1000,
                  gbt2589=_gbt_lineage(), formula="(Scope 1 + Scope 2 location-based) tCO2e / comprehensive energy tce")


def _renewable(ctx: MetricContext) -> tuple[float, float, dict]:
    """(renewable kWh, consumed kWh, lineage) of the boundary."""
    e = _site_electricity(ctx)
    lin = {"site_grid_kwh": e.grid_kwh, "site_pv_self_kwh": e.pv_self_kwh,
           "site_renewable_instrument_kwh": e.renewable_covered_kwh, "instruments": list(e.instrument_ids),
           "rows": e.rows, "batches": e.batches}
    if not _workshop(ctx):
        return e.pv_self_kwh + e.renewable_covered_kwh, e.consumed_kwh, lin
    w = _workshop_energy(ctx)
    cover = e.renewable_covered_kwh / e.grid_kwh if e.grid_kwh > 0 else 0.0
    pv = min(w.pv_kwh, w.consumed_kwh)
    lin.update(workshop_kwh=w.consumed_kwh, workshop_pv_kwh=pv, site_cover_fraction=cover, meters=w.meters)
    return pv + cover * w.grid_kwh, w.consumed_kwh, lin


def renewable_electricity_share(ctx: MetricContext) -> MetricValue:
    renewable, consumed, lin = _renewable(ctx)
    if not consumed > 0:
        raise Unavailable("no electricity consumed")
    formula = ("(workshop PV + site instrument cover fraction x workshop grid kWh) / workshop kWh" if _workshop(ctx)
               else "(self-consumed PV + grid kWh covered by renewable certificates and green-power contracts) / "
                    "(grid kWh + self-consumed PV)")
    return _value(renewable / consumed, FRACTION, **lin, formula=formula)


def non_fossil_share(ctx: MetricContext) -> MetricValue:
    if _workshop(ctx):
        renewable, consumed, lin = _renewable(ctx)
        return _value(renewable / consumed, FRACTION, **lin, formula="renewable kWh / kWh (electricity only)",
                      note="the workshop's metered energy is electricity only")
    en = _site_energy(ctx)
    if not en.total_kgce > 0:
        raise Unavailable("no energy consumed")
    return _value(en.non_fossil_kgce / en.total_kgce, FRACTION, non_fossil_kgce=en.non_fossil_kgce,
                  total_kgce=en.total_kgce, by_fuel=en.by_fuel, gbt2589=_gbt_lineage(),
                  formula="(renewable electricity + biogenic fuels) kgce / comprehensive energy kgce",
                  note="the non-fossil part of the grid mix itself is not counted; GB/T 2589 constants proposed")


def electrification_share(ctx: MetricContext) -> MetricValue:
    if _workshop(ctx):
        raise Unavailable("a workshop's meters measure its electricity only; its fuel use is not metered, so the "
                          "share of electricity in its final energy cannot be told (assessed for the site)")
    en = _site_energy(ctx)
    return _value(en.electricity_kgce / en.total_kgce, FRACTION, electricity_kgce=en.electricity_kgce,
                  fuel_kgce=en.fuel_kgce, by_fuel=en.by_fuel, gbt2589=_gbt_lineage(),
                  formula="electricity kgce (equivalent value) / final energy kgce")


def idle_share(ctx: MetricContext) -> MetricValue:
    rep = _report(ctx)
    if not rep.idle:
        raise Unavailable("idle running needs production counts of the lines (ZEROCARBON_PRODUCTION or "
                          "--production)")
    lines = set(ctx.boundary.lines) if _workshop(ctx) else {x.name for x in rep.lines}
    idle = sum(r["idle_kwh"] for r in rep.idle if r["line"] in lines)
    total = sum(x.kwh for x in rep.lines if x.name in lines)
    if not total > 0:
        raise Unavailable("the lines used no electricity")
    return _value(idle / total, FRACTION, idle_kwh=idle, line_kwh=total, lines=sorted(lines),
                  shifts=[s[0] for s in rep.shifts], period=[rep.first_day, rep.last_day],
                  formula="electricity of lines running without producing [kWh] / electricity of the lines [kWh]")


def metered_share(ctx: MetricContext) -> MetricValue:
    if _workshop(ctx):
        w = _workshop_energy(ctx)
        return _value(1.0, FRACTION, meters=w.meters, kwh=w.consumed_kwh,
                      formula="a workshop is defined by its meters: all of its electricity is sub-metered",
                      note="1 by construction of the boundary")
    meters = _registry(ctx)
    lines = _line_meters(meters, ctx.boundary.site)
    subs = [m for ms in lines.values() for m in ms]
    subs += [m for m in meters.values() if m.site == ctx.boundary.site and m.medium == "electricity"
             and not m.line and not m.revenue]
    if not subs:
        raise Unavailable(f"site {ctx.boundary.site} has no electricity sub-meter in the registry")
    kwh = _lake_kwh(ctx, subs, ctx.year)
    e = _site_electricity(ctx)
    measured = float(kwh.sum())
    return _value(min(measured / e.consumed_kwh, 1.0), FRACTION, sub_metered_kwh=measured,
                  site_consumed_kwh=e.consumed_kwh, meters=sorted(m.id for m in subs), batches=e.batches,
                  formula="electricity measured by sub-meters (lines, utilities) / site electricity "
                          "(grid + self-consumed PV, inventory rows)")


def auto_acquisition_share(ctx: MetricContext) -> MetricValue:
    from zerocarbon.services.energy_data import local_bounds
    from zerocarbon.store import lake

    meters = _registry(ctx)
    chosen = boundary_meters(meters, ctx.boundary)
    # A site's meters are also those its inventory's electricity rows name (monthly bills or manual readings):
    # one that delivers no interval data to the lake is a meter whose data are not acquired automatically.
    manual: list[str] = []
    if not _workshop(ctx):
        elec = _activities(ctx, ctx.year).get("electricity")
        if elec is not None and "meter" in elec:
            manual = sorted({str(x) for x in elec["meter"].dropna()} - {m.id for m in chosen})
    if not chosen:
        raise Unavailable(f"{ctx.boundary.describe()} has no meter in the registry")
    lo, hi = local_bounds(chosen[0].timezone, date(ctx.year, 1, 1), date(ctx.year, 12, 31))
    try:
        raw = lake.intervals(lake.require(ctx.lake, ctx.org), ctx.org, [m.id for m in chosen], lo, hi)
    except NotFoundError as exc:
        raise Unavailable(str(exc)) from None
    minutes = (hi - lo).total_seconds() / 60
    acquired = raw[~raw["quality"].fillna("").isin(NOT_ACQUIRED)].groupby("meter").size()
    completeness = {m.id: min(float(acquired.get(m.id, 0)) / (minutes // m.interval_min), 1.0) for m in chosen}
    return _value(sum(completeness.values()) / (len(chosen) + len(manual)), FRACTION,
                  completeness={k: round(v, 6) for k, v in completeness.items()}, meters_without_interval_data=manual,
                  filled_readings=int(len(raw) - int(acquired.sum())),
                  formula="mean over the boundary's meters of (interval readings acquired, not gap-filled / intervals "
                          "of the year); a meter of the inventory rows without interval data counts 0")


def verified_savings_share(ctx: MetricContext) -> MetricValue:
    from zerocarbon.services import energy_baseline

    if ctx.base_year is None:
        raise Unavailable("no base year given: savings are verified against a baseline fitted on the base year")
    meters = _registry(ctx)
    ids = ([m.id for m in boundary_meters(meters, ctx.boundary) if m.medium == "electricity"]
           if _workshop(ctx) else None)
    try:
        res = energy_baseline.baseline(ctx.lake, ctx.org, meters, date(ctx.base_year, 1, 1),
                                       date(ctx.base_year, 12, 31), date(ctx.year, 1, 1), date(ctx.year, 12, 31),
                                       meter_ids=ids, site=ctx.boundary.site, production=ctx.production)
    except (NotFoundError, InputError) as exc:
        raise Unavailable(f"baseline of {ctx.base_year}: {str(exc).splitlines()[0]}") from None
    if not res.passes or res.savings is None:
        raise Unavailable("the baseline model does not meet the fit criteria: " + "; ".join(res.reasons))
    s = res.savings
    return _value(s.fraction, FRACTION, avoided_kwh=s.avoided_kwh, baseline_kwh=s.baseline_kwh,
                  uncertainty_kwh=s.uncertainty_kwh, confidence=s.confidence, significant=s.significant,
                  meters=res.meters, model=res.model, cv_rmse=res.fit.cv_rmse, nmbe=res.fit.nmbe,
                  formula="avoided energy / adjusted baseline energy of the reporting year (IPMVP option C / B)",
                  note="" if s.significant else "savings not distinguishable from zero at the stated confidence")


def refrigerant_leak_rate(ctx: MetricContext) -> MetricValue:
    rows = _activities(ctx, ctx.year).get("refrigerant")
    if rows is None or rows.empty:
        raise Unavailable(f"no refrigerant rows of site {ctx.boundary.site} for {ctx.year}")
    charged = rows[rows["charge"].notna() & (rows["charge"].astype(float) > 0)]
    if charged.empty:
        raise Unavailable("no refrigerant row states an installed charge (mass-balance rows carry none)")
    to_kg = scales(charged["unit"], "kg")
    charge = charged["charge"].to_numpy(dtype=float) * to_kg
    days = ((charged["period_end"] - charged["period_start"]).dt.days + 1).to_numpy(dtype=float)
    leak = charge * charged["annual_leak_rate"].fillna(0.0).to_numpy(dtype=float) * days / 365
    return _value(float(leak.sum() / charge.sum()), FRACTION, leak_kg=float(leak.sum()), charge_kg=float(charge.sum()),
                  rows=len(charged), rows_without_charge=len(rows) - len(charged), batches=_batches(rows),
                  gases=sorted(set(charged["gas"].astype(str))),
                  formula="sum(charge x annual leak rate x days/365) / sum(installed charge) of rows with a charge")


def traceability_share(ctx: MetricContext) -> MetricValue:
    from zerocarbon.services import accounting

    try:
        meta, led = accounting.stored_ledger(ctx.sessions, ctx.org, ctx.year, site=ctx.boundary.site)
    except NotFoundError as exc:
        raise Unavailable(str(exc)) from None
    led = led[led["scope"].astype(str).isin(["1", "2"])]
    if led.empty:
        raise Unavailable(f"the {ctx.year} ledger has no Scope 1 or 2 rows for {ctx.boundary.site}")
    traced = led["batch_id"].notna().to_numpy() & (led["factor_ids"].astype(str).str.len() > 0).to_numpy()
    return _value(float(traced.mean()), FRACTION, ledger_rows=len(led), traced_rows=int(traced.sum()),
                  batches=sorted(meta["batches"]), factor_set=meta["factor_set"],
                  formula="Scope 1+2 ledger rows with their import batch (file, SHA-256) and factor ids / all rows")


#: What :func:`inventory_completeness` counts, in the order of the checklist of the shipped index system.
COMPLETENESS_ITEMS = (
    "Scope 1 complete: combustion and fugitive refrigerant rows in the inventory",
    "Scope 2 complete: location-based and market-based totals of the site",
    "every Scope 1+2 ledger row names its emission factors",
    "a base year is set and its inventory is stored",
    "Scope 3 quantified in at least one category",
    "inventory verified by an independent third party (not recorded in zerocarbon: never met here)",
)


def inventory_completeness(ctx: MetricContext) -> MetricValue:
    from zerocarbon.services import accounting

    meta, t = _site_totals(ctx, ctx.year)
    acts = _activities(ctx, ctx.year)
    fuel, refr = acts.get("fuel"), acts.get("refrigerant")
    _, led = accounting.stored_ledger(ctx.sessions, ctx.org, ctx.year, site=ctx.boundary.site)
    led = led[led["scope"].astype(str).isin(["1", "2"])]
    base_ok = False
    if ctx.base_year is not None and ctx.base_year != ctx.year:
        try:
            _site_totals(ctx, ctx.base_year)
            base_ok = True
        except Unavailable:
            pass
    met = [fuel is not None and not fuel.empty and refr is not None and not refr.empty and t.scope1 > 0,
           "electricity" in acts and t.scope2_location > 0 and t.scope2_market >= 0,
           bool(len(led)) and bool((led["factor_ids"].astype(str).str.len() > 0).all()),
           base_ok,
           float(meta["totals"].get("scope3_t") or 0) > 0,
           False]
    return _value(float(sum(met)), "count", items={k: bool(v) for k, v in zip(COMPLETENESS_ITEMS, met)},
                  status=meta["status"], ledger_rows=len(led), base_year=ctx.base_year,
                  formula=f"count of the {len(COMPLETENESS_ITEMS)} checklist items met",
                  note="third-party verification is not recorded in zerocarbon; Scope 3 is organisation-wide")


def compliance_share(ctx: MetricContext) -> MetricValue:
    from zerocarbon.services import green_supply

    # The supplier dimension of the five-dimension overview: the same judgement (as of the year's end, "no data"
    # before any accepted answer), not a second copy of it.
    got = green_supply._suppliers(ctx.sessions, ctx.org, ctx.year)
    if got["status"] != "ok":
        raise Unavailable(got["reason"])
    return _value(got["share_by_count"], FRACTION, suppliers=got["suppliers"], passing=got["passing"],
                  share_by_spend=got["share_by_spend"], as_of=got["as_of"], spec=got["spec"],
                  formula="suppliers passing the green specification / suppliers in the register (organisation)",
                  note="organisation-level: the supplier register serves every site")


def pcf_share(ctx: MetricContext) -> MetricValue:
    rows = _activities(ctx, ctx.year).get("purchase")
    if rows is None or rows.empty:
        raise Unavailable(f"no purchase rows of site {ctx.boundary.site} for {ctx.year}")
    with_pcf = rows["pcf_id"].fillna("").astype(str).str.strip().str.len() > 0
    return _value(float(with_pcf.mean()), FRACTION, purchase_rows=len(rows), rows_with_pcf=int(with_pcf.sum()),
                  batches=_batches(rows),
                  formula="purchase rows carrying a supplier product footprint (pcf_id) / purchase rows")


def waste_recycling_rate(ctx: MetricContext) -> MetricValue:
    rows = _activities(ctx, ctx.year).get("waste")
    if rows is None or rows.empty:
        raise Unavailable(f"no waste rows of site {ctx.boundary.site} for {ctx.year}")
    t = rows["quantity"].to_numpy(dtype=float) * scales(rows["unit"], "t")
    recycled = rows["treatment"].astype(str).isin(RECYCLING_TREATMENTS).to_numpy()
    if not t.sum() > 0:
        raise Unavailable("the waste rows hold no mass")
    return _value(float(t[recycled].sum() / t.sum()), FRACTION, recycled_t=float(t[recycled].sum()),
                  waste_t=float(t.sum()), rows=len(rows), batches=_batches(rows),
                  treatments=sorted(set(rows["treatment"].astype(str))),
                  formula=f"waste mass treated by {', '.join(RECYCLING_TREATMENTS)} / waste mass")


def packaging_recycled_share(ctx: MetricContext) -> MetricValue:
    from zerocarbon.core.supply.packaging import packaging_report

    rows = _activities(ctx, ctx.year).get("packaging")
    if rows is None or rows.empty:
        raise Unavailable(f"no packaging rows of site {ctx.boundary.site} for {ctx.year}")
    rep = packaging_report(rows, ctx.year, source=f"packaging rows of {ctx.org} {ctx.year} {ctx.boundary.site}")
    recycled = sum(m.recycled_t for m in rep.by_material)
    if not rep.total_t > 0:
        raise Unavailable("the packaging rows hold no mass")
    return _value(recycled / rep.total_t, FRACTION, recycled_t=recycled, packaging_t=rep.total_t, rows=len(rows),
                  batches=_batches(rows), formula="recycled content [t] / packaging material [t] (HKEX KPI A2.5 rows)")


def _attributed(fn: Callable[[MetricContext], MetricValue]) -> Callable[[MetricContext], MetricValue]:
    """A site quantity shown for a workshop as its site's value, said so in the lineage."""
    def run(ctx: MetricContext) -> MetricValue:
        v = fn(ctx)
        if _workshop(ctx) and v.value is not None:
            return MetricValue(v.value, v.unit, v.source, v.reviewed, {**v.lineage, "attributed_from": "site"},
                               (v.note + "; " if v.note else "") + f"the value of site {ctx.boundary.site}")
        return v

    return run


for _spec in (
    MetricSpec("energy.kwh_per_unit", "kWh/unit", "Electricity per unit produced", "kWh / units",
               "inventory electricity + generation rows, packaging units; workshop: lake + production counts",
               kwh_per_unit),
    MetricSpec("energy.kgce_per_unit", "kgce/unit", "Comprehensive energy per unit (GB/T 2589)", "kgce / units",
               "fuel and electricity rows, factor-set NCV, GB/T 2589 constants", kgce_per_unit),
    MetricSpec("ghg.scope12_kg_per_unit", "kgCO2e/unit", "Scope 1+2 (location-based) per unit",
               "(S1 + S2 location) / units", "stored ledger", scope12_kg_per_unit),
    MetricSpec("ghg.scope12_change_vs_base", FRACTION, "Scope 1+2 change against the base year",
               "(now - base) / base", "stored ledgers of both years", scope12_change_vs_base),
    MetricSpec("ghg.tco2_per_tce", "tCO2/tce", "Carbon intensity of energy", "tCO2e / tce",
               "stored ledger, fuel and electricity rows", tco2_per_tce),
    MetricSpec("energy.renewable_electricity_share", FRACTION, "Renewable electricity share",
               "(PV + renewable instruments) / electricity", "electricity, generation and instrument rows",
               renewable_electricity_share),
    MetricSpec("energy.non_fossil_share", FRACTION, "Non-fossil energy share", "non-fossil kgce / kgce",
               "fuel, electricity, generation and instrument rows", non_fossil_share),
    MetricSpec("energy.electrification_share", FRACTION, "Electrification", "electricity kgce / kgce",
               "fuel and electricity rows", electrification_share),
    MetricSpec("energy.idle_share", FRACTION, "Idle running share", "idle kWh / line kWh",
               "meter-data lake and production counts (energy report)", idle_share),
    MetricSpec("energy.metered_share", FRACTION, "Sub-metered share", "sub-metered kWh / kWh",
               "meter-data lake and inventory electricity rows", metered_share),
    MetricSpec("energy.auto_acquisition_share", FRACTION, "Automatic data acquisition", "readings / intervals",
               "meter-data lake", auto_acquisition_share),
    MetricSpec("mv.verified_savings_share", FRACTION, "Verified energy savings", "avoided kWh / baseline kWh",
               "meter-data lake, production counts (energy baseline)", verified_savings_share),
    MetricSpec("ghg.refrigerant_leak_rate", FRACTION, "Refrigerant leak rate", "leak kg / charge kg",
               "refrigerant rows", _attributed(refrigerant_leak_rate)),
    MetricSpec("ghg.traceability_share", FRACTION, "Traceable ledger rows", "traced rows / rows",
               "stored ledger", _attributed(traceability_share)),
    MetricSpec("ghg.inventory_completeness", "count", "Inventory completeness", "checklist items met",
               "stored inventory", _attributed(inventory_completeness)),
    MetricSpec("supply.compliance_share", FRACTION, "Supplier compliance", "passing / suppliers",
               "supplier register and accepted answers", _attributed(compliance_share)),
    MetricSpec("supply.pcf_share", FRACTION, "Purchases with a product footprint", "rows with pcf / rows",
               "purchase rows", _attributed(pcf_share)),
    MetricSpec("recycling.waste_recycling_rate", FRACTION, "Waste recycling rate", "recycled t / waste t",
               "waste rows", _attributed(waste_recycling_rate)),
    MetricSpec("packaging.recycled_share", FRACTION, "Recycled packaging content", "recycled t / packaging t",
               "packaging rows", _attributed(packaging_recycled_share)),
):
    register(_spec)

COMPUTED_KEYS = tuple(_REGISTRY)


__all__ = ["Boundary", "MetricContext", "MetricSpec", "Unavailable", "register", "providers", "compute",
           "boundary_meters", "COMPLETENESS_ITEMS", "COMPUTED_KEYS", "SITE", "WORKSHOP", "gbt2589"]
