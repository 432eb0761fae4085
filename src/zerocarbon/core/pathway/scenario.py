"""A pathway scenario: the base inventory, growth, grid emission factor trajectory, prices, discount rate and the
targets by year, read from YAML with the JSON path of every bad field.

The base is Scope 1+2 sources by stream (electricity by end use, fuels by use, refrigerant leaks, optionally
Scope 3 categories) in the base year: built from a stored inventory (``base=`` of :func:`parse_scenario`, see
core.pathway.inventory) unless the file's base says ``source: scenario``, when its own values are read.
Targets may instead come from a stored target list (``targets=``: ``[{year, max_scope12_t, min_re_share}]``).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import yaml

from zerocarbon.errors import InputError, Problem
from zerocarbon.core import safe_yaml

MAX_YEARS = 60
SCENARIO, INVENTORY = "scenario", "inventory"


@dataclass(frozen=True)
class Fuel:
    fuel: str  # price key (natural_gas, diesel, gasoline)
    mwh: float  # [MWh] a year in the base year
    tco2e: float  # [tCO2e] a year in the base year


@dataclass(frozen=True)
class Base:
    year: int
    electricity_mwh: dict[str, float]  # [MWh] consumed by end use (grid + on-site generation used)
    onsite_re_mwh: float = 0.0  # [MWh] on-site renewable generation used, before any measure
    re_purchased_mwh: float = 0.0  # [MWh] green-power contracts and certificates of the base year only
    fuels: dict[str, Fuel] = field(default_factory=dict)
    refrigerant_tco2e: dict[str, float] = field(default_factory=dict)
    scope3_tco2e: dict[str, float] = field(default_factory=dict)
    assets: dict[str, float] = field(default_factory=dict)  # roof_kw ...
    note: str = ""
    # [tCO2e/MWh] of the base year implied by a stored inventory (market-based, and location-based), None when
    # the scenario's own factor applies; later years follow the scenario's trajectory as a ratio to its base year
    grid_factor: float | None = None
    grid_factor_location: float | None = None


@dataclass(frozen=True)
class Target:
    year: int
    max_scope12_t: float | None = None  # [tCO2e]
    reduction_vs_base: float | None = None  # fraction of the base year's Scope 1+2
    min_re_share: float | None = None  # fraction of electricity consumed
    base_year: int | None = None  # of reduction_vs_base when not the pathway's base year (resolved to a cap)


@dataclass(frozen=True)
class Scenario:
    name: str
    base: Base
    targets: tuple[Target, ...]
    growth: float = 0.0  # a year, of every stream
    grid_factor: dict[int, float] = field(default_factory=dict)  # [tCO2e/MWh] by year, interpolated
    electricity_price: float = 0.0  # [CNY/MWh]
    fuel_prices: dict[str, float] = field(default_factory=dict)  # [CNY/MWh]
    discount_rate: float = 0.0
    carbon_price: float = 0.0  # [CNY/tCO2e], internal, on Scope 1+2
    reinvest: bool = True
    end_year: int | None = None
    exclude: tuple[str, ...] = ()
    time_limit_s: float = 60.0
    currency: str = "CNY"
    notes: dict[str, str] = field(default_factory=dict)  # field path -> where the value comes from
    text: str = ""
    sha256: str = ""
    base_source: str = SCENARIO  # inventory | scenario

    @property
    def last_year(self) -> int:
        return self.end_year or max(t.year for t in self.targets)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.base.year + 1, self.last_year + 1))

    def grid(self, year: int) -> float:
        """Grid emission factor [tCO2e/MWh] of market-based Scope 2 in ``year``: the scenario's, or with a base
        factor implied by a stored inventory, that factor times the scenario's ``year`` / base-year ratio."""
        return self._anchored(self.base.grid_factor, year)

    def grid_location(self, year: int) -> float:
        """As :meth:`grid`, for location-based Scope 2."""
        return self._anchored(self.base.grid_factor_location, year)

    def _anchored(self, base_factor: float | None, year: int) -> float:
        own = self.scenario_grid(year)
        if base_factor is None:
            return own
        at_base = self.scenario_grid(self.base.year)
        return base_factor * own / at_base if at_base > 0 else base_factor

    def scenario_grid(self, year: int) -> float:
        """The scenario's grid emission factor [tCO2e/MWh] in ``year``: linear between the years given, flat beyond
        them."""
        points = sorted(self.grid_factor.items())
        if year <= points[0][0]:
            return points[0][1]
        for (y0, v0), (y1, v1) in zip(points, points[1:]):
            if y0 <= year <= y1:
                return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
        return points[-1][1]

    def growth_factor(self, year: int) -> float:
        return (1 + self.growth) ** (year - self.base.year)

    def discount(self, year: int) -> float:
        return 1 / (1 + self.discount_rate) ** (year - self.base.year)


class _Reader:
    def __init__(self, origin: str):
        self.origin, self.problems = origin, []

    def bad(self, path: str, reason: str) -> None:
        self.problems.append(Problem(self.origin, None, path, reason))

    def number(self, raw: dict, key: str, path: str, *, default=None, lo: float | None = 0.0,
               hi: float | None = None) -> float | None:
        value = raw.get(key, default) if isinstance(raw, dict) else default
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.bad(f"{path}{key}", f"must be a number, not {value!r}")
            return None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.bad(f"{path}{key}", f"{value:g} is outside {lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}")
            return None
        return float(value)

    def numbers(self, raw: Any, path: str) -> dict[str, float]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.bad(path, "must be a mapping of name to number")
            return {}
        out = {}
        for k, v in raw.items():
            got = self.number(raw, k, f"{path}.")
            if got is not None:
                out[str(k)] = got
        return out

    def year(self, raw: dict, key: str, path: str) -> int | None:
        value = raw.get(key) if isinstance(raw, dict) else None
        if isinstance(value, bool) or not isinstance(value, int) or not 1990 <= value <= 2100:
            self.bad(f"{path}{key}", f"must be a year 1990..2100, not {value!r}")
            return None
        return value


def _base(r: _Reader, raw: Any) -> Base | None:
    if isinstance(raw, dict) and raw.get("source") not in (None, SCENARIO, INVENTORY):
        r.bad("base.source", f"must be {SCENARIO} or {INVENTORY}")
        return None
    if not isinstance(raw, dict) or raw.get("source") != SCENARIO:
        r.bad("base.source", "the base comes from the organisation's stored inventory (give the organisation "
                             "and year); to use this file's values instead, state `source: scenario` in base")
        return None
    if not isinstance(raw, dict):
        r.bad("base", "must be a mapping (year, electricity_mwh, fuels, ...)")
        return None
    year = r.year(raw, "year", "base.")
    elec = r.numbers(raw.get("electricity_mwh"), "base.electricity_mwh")
    if not elec:
        r.bad("base.electricity_mwh", "must name at least one end use with its MWh")
    fuels = {}
    raw_fuels = raw.get("fuels") or {}
    if not isinstance(raw_fuels, dict):
        r.bad("base.fuels", "must be a mapping of {fuel, mwh, tco2e} by name")
        raw_fuels = {}
    for k, v in raw_fuels.items():
        p = f"base.fuels.{k}."
        if not isinstance(v, dict) or not isinstance(v.get("fuel"), str):
            r.bad(f"base.fuels.{k}", "must be {fuel, mwh, tco2e}")
            continue
        mwh, t = r.number(v, "mwh", p), r.number(v, "tco2e", p)
        if mwh is None or t is None:
            if "mwh" not in v or "tco2e" not in v:
                r.bad(f"base.fuels.{k}", "needs mwh and tco2e")
            continue
        fuels[str(k)] = Fuel(v["fuel"], mwh, t)
    onsite = r.number(raw, "onsite_re_mwh", "base.", default=0.0) or 0.0
    bought = r.number(raw, "re_purchased_mwh", "base.", default=0.0) or 0.0
    if elec and onsite + bought > sum(elec.values()):
        r.bad("base.onsite_re_mwh", "on-site and purchased renewable MWh exceed the electricity consumed")
    if year is None:
        return None
    return Base(year, elec, onsite, bought, fuels, r.numbers(raw.get("refrigerant_tco2e"), "base.refrigerant_tco2e"),
                r.numbers(raw.get("scope3_tco2e"), "base.scope3_tco2e"), r.numbers(raw.get("assets"), "base.assets"),
                str(raw.get("note") or ""))


def _targets(r: _Reader, raw: Any, path: str) -> tuple[Target, ...]:
    if not isinstance(raw, list) or not raw:
        r.bad(path, "must be a non-empty list of {year, max_scope12_t | reduction_vs_base, min_re_share}")
        return ()
    out = []
    for i, t in enumerate(raw):
        p = f"{path}[{i}]."
        if not isinstance(t, dict):
            r.bad(f"{path}[{i}]", "must be a mapping")
            continue
        year = r.year(t, "year", p)
        cap = r.number(t, "max_scope12_t", p)
        red = r.number(t, "reduction_vs_base", p, hi=1.0)
        share = r.number(t, "min_re_share", p, hi=1.0)
        if cap is not None and red is not None:
            r.bad(f"{p}max_scope12_t", "give max_scope12_t or reduction_vs_base, not both")
        if cap is None and red is None and share is None:
            r.bad(f"{path}[{i}]", "names no target (max_scope12_t, reduction_vs_base or min_re_share)")
        base_year = t.get("base_year")
        if base_year is not None:
            base_year = r.year(t, "base_year", p)
            if red is None:
                r.bad(f"{p}base_year", "only a reduction_vs_base target names a base year")
        unknown = set(t) - {"year", "max_scope12_t", "reduction_vs_base", "min_re_share", "base_year"}
        for k in sorted(unknown):
            r.bad(f"{p}{k}", "is not a target field")
        if year is not None:
            out.append(Target(year, cap, red, share, base_year))
    years = [t.year for t in out]
    if len(set(years)) != len(years):
        r.bad(path, "a year appears twice")
    return tuple(sorted(out, key=lambda t: t.year))


FIELDS = {"name", "base", "targets", "growth", "grid_factor", "electricity_price", "fuel_prices", "discount_rate",
          "carbon_price", "reinvest", "end_year", "exclude", "time_limit_s", "currency", "notes", "end_uses",
          "fuel_streams", "refrigerant_streams", "trajectory"}
TRAJECTORIES = ("linear", "target_years_only")  # how stored targets bind between their base and target years


BASE_FIELDS = {"source", "year", "assets", "electricity_mwh", "onsite_re_mwh", "re_purchased_mwh", "fuels",
               "refrigerant_tco2e", "scope3_tco2e", "note"}
FUEL_FIELDS = {"fuel", "mwh", "tco2e"}


def _unknown_nested(r: _Reader, raw: dict) -> None:
    """Unknown keys inside ``base`` (and its fuels), named by their path like unknown top-level fields."""
    base = raw.get("base")
    if not isinstance(base, dict):
        return
    for k in sorted(set(base) - BASE_FIELDS, key=str):
        r.bad(f"base.{k}", f"is not a base field ({', '.join(sorted(BASE_FIELDS))})")
    fuels = base.get("fuels")
    for name, f in (fuels.items() if isinstance(fuels, dict) else ()):
        for k in sorted(set(f) - FUEL_FIELDS if isinstance(f, dict) else (), key=str):
            r.bad(f"base.fuels.{name}.{k}", f"is not a fuel field ({', '.join(sorted(FUEL_FIELDS))})")


def _load(text: str, origin: str) -> dict:
    try:
        raw = safe_yaml.load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: a date like 2025-13-01
        raise InputError([Problem(origin, None, None, f"not valid YAML: {exc}")]) from exc
    if not isinstance(raw, dict):
        raise InputError([Problem(origin, None, None, "a scenario is a mapping (base, targets, grid_factor, ...)")])
    return raw


@dataclass(frozen=True)
class BaseRequest:
    """Where a scenario's base comes from: its own values, or the stored inventory of ``year`` (None: the
    organisation's latest) mapped with ``mapping``, the file's ``assets`` beside it."""

    source: str
    year: int | None
    assets: dict[str, float]
    mapping: Any  # core.pathway.inventory.Mapping


def base_request(text: str, origin: str) -> BaseRequest:
    """What the scenario says about its base (``base.source``, ``base.year``, ``base.assets``) and the mapping of
    meters, fuels and gases to streams (``end_uses``, ``fuel_streams``, ``refrigerant_streams``)."""
    from zerocarbon.core.pathway.inventory import Mapping

    raw = _load(text, origin)
    r = _Reader(origin)
    base = raw.get("base") if isinstance(raw.get("base"), dict) else {}
    source = base.get("source") or INVENTORY
    year = r.year(base, "year", "base.") if "year" in base else None
    ends: dict[str, tuple[str, ...]] = {}
    for use, pats in (raw.get("end_uses") or {}).items() if isinstance(raw.get("end_uses"), dict) else ():
        if isinstance(pats, str):
            pats = [pats]
        if not isinstance(pats, list) or not pats or not all(isinstance(p, str) and p for p in pats):
            r.bad(f"end_uses.{use}", "must be a meter-name pattern or a list of them, e.g. [\"*-M-HVAC\"]")
        else:
            ends[str(use)] = tuple(pats)
    if raw.get("end_uses") is not None and not isinstance(raw.get("end_uses"), dict):
        r.bad("end_uses", "must map end uses to meter-name patterns")
    splits: dict[str, dict[str, float]] = {}
    streams = raw.get("fuel_streams") or {}
    for name, parts in (streams.items() if isinstance(streams, dict) else ()):
        got = r.numbers(parts, f"fuel_streams.{name}")
        if got and abs(sum(got.values()) - 1) > 1e-6:
            r.bad(f"fuel_streams.{name}", f"shares add up to {sum(got.values()):g}, not 1")
        if got:
            splits[str(name)] = got
    gases = raw.get("refrigerant_streams") or {}
    if not isinstance(gases, dict) or not all(isinstance(v, str) for v in gases.values()):
        r.bad("refrigerant_streams", "must map gases to stream names, e.g. {R-134a: chillers}")
        gases = {}
    if r.problems:
        raise InputError(r.problems)
    return BaseRequest(source, year, r.numbers(base.get("assets"), "base.assets"),
                       Mapping(ends, splits, {str(k): v for k, v in gases.items()}))


def parse_scenario(text: str, origin: str, *, targets: list[dict] | None = None,
                   base: Base | None = None) -> Scenario:
    """The scenario in ``text`` (YAML) or an InputError naming ``origin`` and the path of every bad field.

    ``targets`` (``[{year, max_scope12_t, min_re_share}]``, e.g. from the organisation's stored targets) replaces
    the file's targets when given; the file may then have none. ``base`` (from a stored inventory) replaces the
    file's base; without it the file's base is used only when it says ``source: scenario``.
    """
    raw = _load(text, origin)
    r = _Reader(origin)
    for k in sorted(set(raw) - FIELDS):
        r.bad(k, f"is not a scenario field ({', '.join(sorted(FIELDS))})")
    _unknown_nested(r, raw)
    source = INVENTORY if base is not None else SCENARIO
    if base is None:
        base = _base(r, raw.get("base"))
    if targets is not None:
        tgts = _targets(r, [{k: v for k, v in t.items() if v is not None} for t in targets], "targets (stored)")
    else:
        tgts = _targets(r, raw.get("targets"), "targets")
    grid_raw = raw.get("grid_factor")
    grid: dict[int, float] = {}
    if not isinstance(grid_raw, dict) or not grid_raw:
        r.bad("grid_factor", "must map years to tCO2e/MWh, e.g. {2025: 0.5306}")
    else:
        for y, v in grid_raw.items():
            if not isinstance(y, int) or isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 3:
                r.bad(f"grid_factor.{y}", f"must be a year and a factor 0..3 tCO2e/MWh, not {v!r}")
            else:
                grid[y] = float(v)
    growth = r.number(raw, "growth", "", default=0.0, lo=-0.5, hi=0.5)
    rate = r.number(raw, "discount_rate", "", default=0.0, lo=0.0, hi=0.5)
    price = r.number(raw, "electricity_price", "")
    if price is None and "electricity_price" not in raw:
        r.bad("electricity_price", "is required [CNY/MWh]")
    fuel_prices = r.numbers(raw.get("fuel_prices"), "fuel_prices")
    if base is not None:
        for k, f in base.fuels.items():
            if f.fuel not in fuel_prices:
                r.bad(f"fuel_prices.{f.fuel}", f"is required: base.fuels.{k} burns {f.fuel}")
    end = raw.get("end_year")
    if end is not None:
        r.year(raw, "end_year", "")
    if base is not None:
        for i, t in enumerate(tgts):
            if t.year <= base.year:
                r.bad(f"targets[{i}].year", f"{t.year} is not after the base year {base.year}")
        last = end or (max(t.year for t in tgts) if tgts else base.year + 1)
        if isinstance(last, int) and not base.year < last <= base.year + MAX_YEARS:
            r.bad("end_year", f"the horizon must end 1..{MAX_YEARS} years after the base year")
        if isinstance(end, int) and tgts and max(t.year for t in tgts) > end:
            r.bad("end_year", "is before the last target year")
    exclude = raw.get("exclude") or []
    if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
        r.bad("exclude", "must be a list of measure ids")
        exclude = []
    reinvest = raw.get("reinvest", True)
    if not isinstance(reinvest, bool):
        r.bad("reinvest", "must be true or false")
    limit = r.number(raw, "time_limit_s", "", default=60.0, lo=0.1, hi=3600.0)
    if raw.get("trajectory", "linear") not in TRAJECTORIES:
        r.bad("trajectory", f"must be {' or '.join(TRAJECTORIES)}, not {raw.get('trajectory')!r}")
    notes = raw.get("notes") or {}
    if r.problems or base is None:
        raise InputError(r.problems)
    return Scenario(str(raw.get("name") or origin), base, tgts, growth or 0.0, grid, price or 0.0, fuel_prices,
                    rate or 0.0, r.number(raw, "carbon_price", "", default=0.0) or 0.0, bool(reinvest),
                    end if isinstance(end, int) else None, tuple(exclude), limit or 60.0,
                    str(raw.get("currency") or "CNY"), {str(k): str(v) for k, v in dict(notes).items()},
                    text, hashlib.sha256(text.encode()).hexdigest(), source)
