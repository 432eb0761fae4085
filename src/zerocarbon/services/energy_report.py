"""Energy report of one site and period of an imported lake: load, kWh per unit, idle running per line and
shift with its CO2, anomalies in words, charts.

Which meters: the site's revenue electricity meters give the site load (the grid supply); meters with a
``line`` in the registry give the lines: a line's own meters (no ``asset``) when it has any, else its assets'
meters, added up (the rule of :mod:`zerocarbon.core.energy.flows`, so a line meter and the asset sub-meters
below it are not counted twice). Every calendar cut is made on the site's clock (the registry's ``timezone``).

The dashboard and the API read the lake and registry the server is configured with (:func:`source`) and
call :func:`site_analysis`, the same report with the daily and interval load profiles added.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import pandas as pd

from zerocarbon.core.energy.analytics import SHIFTS, anomaly_scan, base_and_peak, energy_per_unit, idle_load, local_index
from zerocarbon.core.energy.intervals import Meter
from zerocarbon.core.model import Site
from zerocarbon.services import accounting, factor_sets
from zerocarbon.errors import InputError, NotFoundError, Problem, StateError
from zerocarbon.io.charts import idle_chart, profile_chart
from zerocarbon.store.engines import server_engine
from zerocarbon.io.energy_inputs import read_production
from zerocarbon.io.spreadsheet import write_csv
from zerocarbon.services.energy_data import Selection, interval_minutes, load_kwh, parse_day, rollup, site_of
from zerocarbon.services.meter_import import read_registry
from zerocarbon.units import scale

Progress = Callable[[str], None]


@dataclass(frozen=True)
class GridFactor:
    """The grid emission factor used for idle-load CO2 [kgCO2/kWh] and where it comes from."""

    kg_per_kwh: float
    source: str
    warning: str | None = None


def grid_factor(factor_set: str, year: int, province: str | None = None, grid_region: str | None = None,
                series: str = "location", country: str = "CN", stored_sets=None) -> GridFactor:
    """The factor set's grid factor for a site's country, province or grid region and data year (the country's
    factor if neither is given), by the set's own resolution and fallback rules."""
    where = Site("energy-report", "energy report", country=country, province=province, grid_region=grid_region)
    sel = factor_sets.resolve(stored_sets, factor_set).grid_factor(series, year, where)
    f = sel.factor
    return GridFactor(f.value * scale(f.unit, "kg/kWh"), f"{f.factor_id} ({f.issuer}, {f.edition})", sel.warning)


def parse_shifts(text: str):
    """Local shifts from ``NAME=START-END`` pairs, comma separated [h]: see
    :func:`zerocarbon.core.energy.analytics.parse_shifts`."""
    from zerocarbon.core.energy.analytics import parse_shifts as parse

    return parse(text)


def grid_site(meters: dict[str, Meter], site: str | None, org_file: str | Path, province: str | None = None,
              grid_region: str | None = None) -> tuple[str | None, str | None, str]:
    """Province, grid region and country of the registry's site as the organisation file gives them; a
    ``province`` or ``grid_region`` given explicitly wins over the file's."""
    from zerocarbon.io.org import read_organisation

    code, _ = site_of(meters, site)
    org = read_organisation(org_file)
    try:
        s = org.site(code)
    except NotFoundError:
        raise InputError([Problem(str(org_file), None, "sites", f"no site '{code}' in the organisation file")]) from None
    return province or s.province, grid_region or s.grid_region, s.country


def given_factor(kg_per_kwh: float) -> GridFactor:
    if not kg_per_kwh >= 0 or kg_per_kwh > 5:
        raise InputError([Problem("--kg-per-kwh", None, None, f"{kg_per_kwh} is not a grid factor in kgCO2/kWh "
                                                               "(expected 0 to 5)")])
    return GridFactor(float(kg_per_kwh), "given by the user (--kg-per-kwh)")


@dataclass
class LoadSummary:
    name: str
    kwh: float
    base_kw: float
    peak_kw: float
    peak_at: str | None  # local time, ISO 8601 with offset
    load_factor: float


@dataclass
class EnergyReport:
    site: str
    timezone: str
    first_day: str  # local dates with data
    last_day: str
    interval_min: int
    meters: list[str]
    site_load: LoadSummary | None
    lines: list[LoadSummary]
    grid_factor: GridFactor | None
    shifts: list[tuple[str, int, int]]
    kwh_per_unit: list[dict] = field(default_factory=list)  # line, month, kwh, units, kwh_per_unit
    idle: list[dict] = field(default_factory=list)  # line, shift, idle_kwh, idle_hours, co2_kg, share_of_line_kwh
    idle_total_kwh: float | None = None
    idle_total_co2_kg: float | None = None
    anomalies: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _summary(name: str, kwh: pd.Series, interval_min: int, tz: str) -> LoadSummary:
    bp = base_and_peak(kwh, interval_min)
    at = bp["peak_at"]
    local = pd.Timestamp(at).tz_localize("UTC").tz_convert(tz).isoformat() if at is not None else None
    return LoadSummary(name, bp["kwh"], bp["base_kw"], bp["peak_kw"], local, bp["load_factor"])


def _lines(meters: dict[str, Meter], site: str) -> dict[str, list[Meter]]:
    out: dict[str, list[Meter]] = {}
    for m in meters.values():
        if m.site == site and m.line and m.medium == "electricity":
            out.setdefault(m.line, []).append(m)
    # A line's own meters measure what its asset sub-meters measure again: only they count when present.
    return {line: [m for m in ms if not m.asset.strip()] or ms for line, ms in out.items()}


def report(root: Path, org: str, meters: dict[str, Meter], out: Path | None = None, site: str | None = None,
           start: date | str | None = None, end: date | str | None = None, production: Path | None = None,
           grid: GridFactor | None = None, shifts=SHIFTS, anomaly_limit: int = 20, factor_set: str | None = None,
           province: str | None = None, grid_region: str | None = None, country: str = "CN", stored_sets=None,
           progress: Progress = lambda step: None) -> EnergyReport:
    """Analyse one site of organisation ``org`` in the lake between local dates ``start`` and ``end`` (both included; open when
    None). ``production`` is a production-count CSV (see :mod:`zerocarbon.io.energy_inputs`); without it,
    kWh per unit, idle load and anomalies cannot be judged and the report says so. The grid factor is
    ``grid``, or else the ``factor_set``'s factor for ``province``/``grid_region`` and the data year of the
    report's last day. With ``out``, the report is written there as JSON, CSV and PNG charts (``files``)."""
    return _analyse(root, org, meters, out, site, start, end, production, grid, shifts, anomaly_limit, factor_set,
                    province, grid_region, country, stored_sets, progress)[0]


def _analyse(root, org, meters, out, site, start, end, production, grid, shifts, anomaly_limit, factor_set, province,
             grid_region, country, stored_sets, progress) -> tuple[EnergyReport, pd.Series]:
    """The report and the load it is about [kWh per interval]: the site's revenue meters, else its lines."""
    start, end = parse_day(start, "--from"), parse_day(end, "--to")
    site, tz = site_of(meters, site)
    lines = _lines(meters, site)
    revenue = [m for m in meters.values() if m.site == site and m.revenue and m.medium == "electricity"]
    chosen = revenue + [m for ms in lines.values() for m in ms if m not in revenue]
    if not chosen:
        raise InputError([Problem("meter registry", None, "line", f"site {site} has neither a revenue electricity "
                                                                  "meter nor line meters to analyse")])
    progress("reading the lake")
    wide = load_kwh(root, org, Selection(site, tz, tuple(chosen)), start, end)
    step = interval_minutes(wide)
    local_days = local_index(wide.index, tz)
    if grid is None and factor_set:
        grid = grid_factor(factor_set, int(local_days.max().year), province, grid_region, country=country,
                           stored_sets=stored_sets)
    rep = EnergyReport(site, tz, f"{local_days.min():%Y-%m-%d}", f"{local_days.max():%Y-%m-%d}", step,
                       [m.id for m in chosen], None, [], grid, [tuple(s) for s in shifts])
    if revenue:
        site_kwh = wide[[m.id for m in revenue]].sum(axis=1, min_count=1)
        rep.site_load = _summary(site, site_kwh, step, tz)
    else:
        site_kwh = None
        rep.notes.append(f"site {site} declares no revenue meter (revenue=true): no site load figures")
    energy = pd.DataFrame({line: wide[[m.id for m in ms]].sum(axis=1, min_count=1) for line, ms in lines.items()},
                          index=wide.index)
    rep.lines = [_summary(line, energy[line], step, tz) for line in energy.columns]
    if not lines:
        rep.notes.append("no meter has a line in the registry: no idle load or kWh per unit")
    if production is not None and lines:
        progress("production and idle load")
        units = _production(production, tz, set(lines), energy.index, step)
        _with_production(rep, energy, units, tz, step, shifts, grid, anomaly_limit)
    elif lines:
        rep.notes.append("no production counts given (--production): idle load, kWh per unit and anomalies "
                         "need them")
    if grid is None and rep.idle:
        rep.notes.append("no grid factor given (--factors or --kg-per-kwh): idle CO2 not computed")
    if grid is not None and grid.warning:
        rep.notes.append(grid.warning)
    if out is not None:
        progress("charts")
        write(rep, Path(out), energy, site_kwh)
    return rep, site_kwh if site_kwh is not None else energy.sum(axis=1, min_count=1)


def _production(path: Path, tz: str, lines: set[str], index: pd.DatetimeIndex, step: int) -> pd.DataFrame:
    p = read_production(path, tz, lines)
    p["ts"] = p["ts"].dt.floor(f"{step}min")
    wide = p.pivot_table(index="ts", columns="line", values="units", aggfunc="sum")
    inside = wide.index[(wide.index >= index.min()) & (wide.index <= index.max())]
    if len(inside) == 0:
        raise NotFoundError(f"{Path(path).name} has no counts between {index.min()} and {index.max()} UTC, the "
                            "period of the meter data")
    return wide.reindex(index=index, columns=sorted(lines)).fillna(0.0)


def _with_production(rep: EnergyReport, energy: pd.DataFrame, units: pd.DataFrame, tz: str, step: int, shifts,
                     grid: GridFactor | None, anomaly_limit: int) -> None:
    e = energy.fillna(0.0)
    epu = energy_per_unit(e, units, "MS", tz)
    rep.kwh_per_unit = [{"line": r.line, "month": f"{r.period:%Y-%m}", "kwh": r.kwh, "units": r.units,
                         "kwh_per_unit": r.kwh_per_unit} for r in epu.itertuples()]
    factor = grid.kg_per_kwh if grid is not None else float("nan")
    findings = idle_load(e, units, factor, tz=tz, interval_min=step, shifts=shifts)
    rep.idle = [{**f.__dict__, "co2_kg": f.co2_kg if grid is not None else None} for f in findings]
    rep.idle_total_kwh = float(sum(f.idle_kwh for f in findings))
    rep.idle_total_co2_kg = rep.idle_total_kwh * grid.kg_per_kwh if grid is not None else None
    found, notes = anomaly_scan(e, units, tz=tz)
    rep.notes += notes
    rep.anomalies = found[:anomaly_limit]
    if len(found) > anomaly_limit:
        rep.notes.append(f"{len(found) - anomaly_limit} more anomalies not listed")


def write(rep: EnergyReport, out: Path, energy: pd.DataFrame, site_kwh: pd.Series | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    files = {"report": out / "energy_report.json"}
    if rep.idle:
        files["idle_csv"] = out / "idle_by_line_shift.csv"
        write_csv(pd.DataFrame(rep.idle), files["idle_csv"])
        files["idle_chart"] = idle_chart(rep.idle, out / "idle_by_line.png", f"{rep.first_day} to {rep.last_day}")
    if rep.kwh_per_unit:
        files["kwh_per_unit_csv"] = out / "kwh_per_unit.csv"
        write_csv(pd.DataFrame(rep.kwh_per_unit), files["kwh_per_unit_csv"])
    if site_kwh is not None:
        files["profile_chart"] = profile_chart(site_kwh, out / "site_load_profile.png", rep.timezone,
                                               rep.interval_min, f"Site {rep.site}")
    elif len(energy.columns):
        files["profile_chart"] = profile_chart(energy.sum(axis=1, min_count=1), out / "lines_load_profile.png",
                                               rep.timezone, rep.interval_min, f"Lines of {rep.site}")
    rep.files = {k: str(v) for k, v in files.items()}
    files["report"].write_text(json.dumps(rep.to_dict(), indent=2, ensure_ascii=False, default=str),
                               encoding="utf-8")


# -- the server's meter data, as the dashboard and the API read it ------------------------------------------
LAKE_ENV, METERS_ENV, PRODUCTION_ENV = "ZEROCARBON_LAKE", "ZEROCARBON_METERS", "ZEROCARBON_PRODUCTION"
# Idle CO2 uses this shipped set's grid factor for the site's province or grid region as the organisation declares
# them (national when the site is not in the organisation), for the report's data year; the set's own fallback
# rules and warnings apply and the report names the factor and its source.
FACTOR_SET = "CN-2025.1"
# Interval points up to this many local days; hourly up to PROFILE_HOURLY_DAYS; daily beyond.
PROFILE_INTERVAL_DAYS, PROFILE_HOURLY_DAYS = 31, 400


class EnergyNotConfigured(StateError):
    """The server has no meter data: the lake or the registry setting is missing."""


@dataclass(frozen=True)
class EnergySource:
    """Where the server's meter data is: a server setting (environment), read on every request so a changed
    setting needs no restart."""

    lake: Path | None
    meters: Path | None
    production: Path | None
    engine: str = "duckdb"

    @property
    def configured(self) -> bool:
        return self.lake is not None and self.meters is not None


def source() -> EnergySource:
    """``$ZEROCARBON_LAKE`` (the lake of ``zerocarbon meters import``), ``$ZEROCARBON_METERS`` (its registry
    CSV) and, optional, ``$ZEROCARBON_PRODUCTION`` (production counts)."""
    def path(name: str) -> Path | None:
        value = os.environ.get(name, "").strip()
        return Path(value) if value else None

    return EnergySource(path(LAKE_ENV), path(METERS_ENV), path(PRODUCTION_ENV),
                        server_engine() or "duckdb")


def registry(src: EnergySource) -> dict[str, Meter]:
    """The configured meter registry; :class:`EnergyNotConfigured` when the server has no meter data."""
    if not src.configured:
        raise EnergyNotConfigured(f"energy data is not configured on this server: set {LAKE_ENV} (the meter-data "
                                  f"lake folder) and {METERS_ENV} (the meter registry CSV)")
    return read_registry(src.meters)


@dataclass(frozen=True)
class SiteInfo:
    site: str
    timezone: str
    meters: list[str]
    revenue_meters: list[str]
    media: list[str]
    areas: list[str]
    lines: list[str]


def sites(meters: dict[str, Meter]) -> list[SiteInfo]:
    """The registry's sites with their meters, media, workshops (areas) and lines."""
    out = []
    for code in sorted({m.site for m in meters.values()}):
        ms = sorted((m for m in meters.values() if m.site == code), key=lambda m: m.id)
        out.append(SiteInfo(code, ", ".join(sorted({m.timezone for m in ms})), [m.id for m in ms],
                            [m.id for m in ms if m.revenue], sorted({m.medium for m in ms}),
                            sorted({m.area for m in ms if m.area}), sorted({m.line for m in ms if m.line})))
    return out


@dataclass
class Daily:
    """Site electricity [kWh] per local day as ``meters rollup --by site`` adds it up; ``basis`` names the
    meters (revenue meters, else all meters)."""

    days: list[str]
    kwh: list[float]
    basis: str


@dataclass
class Profile:
    """Average demand [kW] per point of the load analysed (the site's revenue meters, else its lines), on
    the site's clock, with the report's base and peak load of the same intervals."""

    resolution: str  # interval | hour | day
    interval_min: int
    timezone: str
    stamps: list[str]  # local start of each point, ISO 8601 with offset
    kw: list[float | None]  # None: no reading in the point
    base_kw: float
    peak_kw: float
    peak_at: str | None
    basis: str


@dataclass
class SiteAnalysis:
    report: EnergyReport
    daily: Daily
    profile: Profile
    production: bool  # production counts are configured


def period(start: date | str | None, end: date | str | None) -> tuple[date | None, date | None]:
    """Local dates from the request's ``from``/``to`` (each named in the error when it is not a date)."""
    return parse_day(start or None, "from"), parse_day(end or None, "to")


def _site_report(sessions, org: str, src: EnergySource, site: str | None, start: date | str | None,
                 end: date | str | None) -> tuple[EnergyReport, pd.Series, dict[str, Meter], date | None, date | None]:
    meters = registry(src)
    first, last = period(start, end)
    code = site or (sites(meters)[0].site if meters else None)
    where = next((x for x in accounting.organisation(sessions, org).sites if x.code == code), None)
    with_counts = src.production is not None
    rep, load = _analyse(src.lake, org, meters, None, code, first, last, src.production, None, SHIFTS, 20,
                         FACTOR_SET if with_counts else None, where.province if where else None,
                         where.grid_region if where else None, where.country if where else "CN",
                         factor_sets.for_organisation(sessions, org), lambda step: None)
    return rep, load, meters, first, last


def site_report(sessions, org: str, src: EnergySource, site: str | None, start: date | str | None = None,
                end: date | str | None = None) -> EnergyReport:
    """The energy report of one site and period of the configured lake, as ``zerocarbon energy report`` gives
    it with the configured production counts (``--production``), the factor set :data:`FACTOR_SET`
    (``--factors``) and the organisation's province and grid region of the site (``--org-file``). ``site``
    None: the registry's first site."""
    return _site_report(sessions, org, src, site, start, end)[0]


def site_profile(sessions, org: str, src: EnergySource, site: str | None, start: date | str | None = None,
                 end: date | str | None = None, resolution: str | None = None) -> Profile:
    """The interval load profile of :func:`site_report`'s load, with its base and peak load."""
    _check_resolution(resolution)
    rep, load, *_ = _site_report(sessions, org, src, site, start, end)
    return profile(rep, load, resolution)


def site_analysis(sessions, org: str, src: EnergySource, site: str | None, start: date | str | None = None,
                  end: date | str | None = None, resolution: str | None = None) -> SiteAnalysis:
    """:func:`site_report` with the daily and the interval load profile: what the energy page shows."""
    _check_resolution(resolution)
    rep, load, meters, first, last = _site_report(sessions, org, src, site, start, end)
    return SiteAnalysis(rep, daily(src, org, meters, rep.site, first, last), profile(rep, load, resolution),
                        src.production is not None)


def _check_resolution(resolution: str | None) -> None:
    if resolution is not None and resolution not in ("interval", "hour", "day"):
        raise InputError([Problem("resolution", None, None, f"'{resolution}' is not interval, hour or day")])


def daily(src: EnergySource, org: str, meters: dict[str, Meter], site: str, start: date | None,
          end: date | None) -> Daily:
    df = rollup(src.lake, org, meters, by="site", freq="day", site=site, start=start, end=end)
    df = df[df["medium"] == "electricity"]
    days: dict[str, float] = {}
    for day, value, unit in zip(df["period"], df["value"], df["unit"]):
        days[day] = days.get(day, 0.0) + float(value) * scale(unit, "kWh")
    basis = str(df["basis"].iloc[0]) if len(df) else ""
    return Daily(list(days), [round(v, 3) for v in days.values()], basis)


def profile(rep: EnergyReport, load: pd.Series, resolution: str | None = None) -> Profile:
    """``load`` [kWh per interval, naive UTC index] as average kW per interval, local hour or local day;
    ``resolution`` None picks by the period's length (a year of 15-minute points is too many for a page)."""
    step = rep.interval_min
    n_days = (date.fromisoformat(rep.last_day) - date.fromisoformat(rep.first_day)).days + 1
    if resolution is None:
        resolution = ("interval" if n_days <= PROFILE_INTERVAL_DAYS or step >= 60 else
                      "hour" if n_days <= PROFILE_HOURLY_DAYS else "day")
    _check_resolution(resolution)
    if step >= 1440 and resolution != "day":
        resolution = "day"
    kw = load * 60.0 / step
    kw.index = load.index.tz_localize("UTC").tz_convert(rep.timezone)
    if resolution != "interval" and step < 1440:
        # the mean of the measured intervals: a missing interval does not pull a bucket's demand down
        kw = kw.resample("h" if resolution == "hour" else "D").mean()
    summary = _summary(rep.site, load, step, rep.timezone)
    basis = "revenue meters" if rep.site_load is not None else "sum of the lines"
    return Profile(resolution, step, rep.timezone, [t.isoformat() for t in kw.index],
                   [None if pd.isna(v) else round(float(v), 3) for v in kw], summary.base_kw, summary.peak_kw,
                   summary.peak_at, basis)


__all__ = ["EnergyReport", "LoadSummary", "GridFactor", "grid_factor", "given_factor", "report", "EnergySource",
           "EnergyNotConfigured", "SiteInfo", "SiteAnalysis", "Daily", "Profile", "source", "registry", "sites",
           "site_report", "site_profile", "site_analysis", "period"]
