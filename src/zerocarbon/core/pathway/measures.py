"""The abatement catalogue: measures as data (``data/measures/catalogue.yaml``) and their loader.

Every number of a measure is a :class:`Figure`: value in the field's canonical unit, the unit it was given in,
``status`` (``sourced`` with a source key, or ``illustrative`` with the reason none was found). A loader error
names the file and the JSON path of every bad field (``measures[3].capex.unit``), all at once.

Kinds of measure (``kind``):

- ``saving``: saves ``fraction`` of each stream it acts on (an end use of site electricity, a fuel use, the
  refrigerant leaks, a Scope 3 category);
- ``fuel_switch``: replaces ``fraction`` of a fuel use by electricity, ``electricity_per_fuel`` MWh of electricity
  per MWh of fuel, added to the end use ``acts_on.electricity_end_use``;
- ``onsite_re``: on-site generation sized in kW (``yield`` MWh per kW a year), displacing grid electricity;
- ``re_purchase``: renewable electricity bought (MWh a year: green-power contracts, certificates).

Measures acting on the same stream act on what remains after the others: their savings multiply,
``remaining = base x prod(1 - fraction_i)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import yaml

from zerocarbon.errors import InputError, Problem, UnitError
from zerocarbon.units import scale
from zerocarbon.core import safe_yaml

SHIPPED = "data/measures/catalogue.yaml"
KINDS = ("saving", "fuel_switch", "onsite_re", "re_purchase")
STREAM_KINDS = ("end_use", "fuel", "refrigerant", "scope3", "electricity")
STATUSES = ("sourced", "illustrative")
BINARY_KINDS = ("saving", "fuel_switch")


@dataclass(frozen=True)
class Figure:
    """A number with its provenance. ``value`` is in the canonical unit of its field."""

    value: float
    unit: str  # as given in the catalogue
    status: str  # sourced | illustrative
    source: str | None = None
    reason: str = ""
    note: str = ""

    @property
    def illustrative(self) -> bool:
        return self.status != "sourced"

    def as_dict(self) -> dict:
        return {"value": self.value, "unit": self.unit, "status": self.status, "source": self.source,
                "reason": self.reason, "note": self.note}


@dataclass(frozen=True)
class Text:
    en: str
    zh: str


@dataclass(frozen=True)
class Measure:
    """One abatement option. Stream keys are ``<kind>:<target>`` (``end_use:AIR``, ``fuel:diesel_mobile``)."""

    id: str
    name: Text
    scope: int  # the scope it abates: 1, 2 or 3
    kind: str
    acts_on: str  # stream kind
    targets: tuple[str, ...]
    lifetime: Figure  # [year]
    capex: Figure | None = None  # [CNY per size unit]: CNY/MWh, CNY/tCO2e (whole) or CNY/kW (on-site RE)
    fixed_opex: Figure | None = None  # [CNY per size unit a year]
    variable_opex: Figure | None = None  # [CNY/MWh] of renewable electricity bought
    fraction: Figure | None = None  # [fraction] saved or switched
    electricity_per_fuel: Figure | None = None  # [MWh/MWh]
    electricity_end_use: str | None = None
    yield_: Figure | None = None  # [MWh/kW a year]
    ramp: Figure | None = None  # [kW] added at most a year
    max_driver: str | None = None  # scenario asset bounding the size (roof_kw)
    exclusive: str | None = None
    note: str = ""
    lineage: dict = field(default_factory=dict)  # where an overridden figure came from (a schedule run)

    @property
    def binary(self) -> bool:
        return self.kind in BINARY_KINDS

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(f"{self.acts_on}:{t}" for t in self.targets)

    def figures(self) -> dict[str, Figure]:
        named = {"capex": self.capex, "fixed_opex": self.fixed_opex, "variable_opex": self.variable_opex,
                 "fraction": self.fraction, "electricity_per_fuel": self.electricity_per_fuel,
                 "yield": self.yield_, "lifetime": self.lifetime, "ramp": self.ramp}
        return {k: v for k, v in named.items() if v is not None}

    @property
    def illustrative(self) -> tuple[str, ...]:
        """The fields whose figure is illustrative (shown as such in every output)."""
        return tuple(k for k, f in self.figures().items() if f.illustrative)


@dataclass(frozen=True)
class Catalogue:
    version: str
    currency: str
    price_year: int
    sources: dict[str, dict]
    measures: tuple[Measure, ...]
    reference_prices: dict[str, Figure]
    origin: str
    sha256: str

    def get(self, measure_id: str) -> Measure:
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise KeyError(measure_id)

    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.measures)


# --- loading --------------------------------------------------------------------------------------------------

# canonical unit of each field, by (kind, stream kind); "fraction" and "year" are checked by name
_SIZE_UNIT = {"end_use": "MWh", "fuel": "MWh", "refrigerant": "tCO2e", "scope3": "tCO2e"}


def _canonical(kind: str, acts_on: str) -> dict[str, str]:
    if kind == "onsite_re":
        return {"capex": "CNY/kW", "fixed_opex": "CNY/kW", "yield": "MWh/kW", "ramp": "kW", "lifetime": "year"}
    if kind == "re_purchase":
        return {"variable_opex": "CNY/MWh", "lifetime": "year"}
    size = _SIZE_UNIT.get(acts_on, "MWh")
    out = {"capex": f"CNY/{size}", "fixed_opex": f"CNY/{size}", "fraction": "fraction", "lifetime": "year"}
    if kind == "fuel_switch":
        out["electricity_per_fuel"] = "MWh/MWh"
    return out


_REQUIRED = {"saving": ("capex", "fraction", "lifetime"), "fuel_switch": ("capex", "fraction", "electricity_per_fuel",
                                                                          "lifetime"),
             "onsite_re": ("capex", "yield", "lifetime"), "re_purchase": ("variable_opex", "lifetime")}


class _Checker:
    def __init__(self, origin: str, sources: dict):
        self.origin, self.sources, self.problems = origin, sources, []

    def bad(self, path: str, reason: str) -> None:
        self.problems.append(Problem(self.origin, None, path, reason))

    def figure(self, raw: Any, path: str, unit: str) -> Figure | None:
        if not isinstance(raw, dict):
            self.bad(path, "must be a mapping {value, unit, status, source | reason}")
            return None
        value = raw.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.bad(f"{path}.value", f"must be a number, not {value!r}")
            return None
        given = str(raw.get("unit", "")).strip()
        factor = self._unit(given, unit, f"{path}.unit")
        if factor is None:
            return None
        value = float(value) * factor
        if value < 0:
            self.bad(f"{path}.value", "must not be negative")
        if unit == "fraction" and value > 1:
            self.bad(f"{path}.value", f"{value:g} is more than 1 (a fraction)")
        status = raw.get("status")
        source, reason = raw.get("source"), str(raw.get("reason") or "")
        if status not in STATUSES:
            self.bad(f"{path}.status", f"must be one of {', '.join(STATUSES)}, not {status!r}")
        elif status == "sourced" and source not in self.sources:
            self.bad(f"{path}.source", f"'{source}' is not a key of sources")
        elif status == "illustrative" and not reason.strip():
            self.bad(f"{path}.reason", "an illustrative figure must say why no source was found")
        return Figure(value, given, str(status), source if status == "sourced" else None, reason,
                      str(raw.get("note") or ""))

    def _unit(self, given: str, unit: str, path: str) -> float | None:
        if unit in ("fraction", "year"):
            ok = {"fraction": {"fraction": 1.0, "%": 0.01}, "year": {"year": 1.0, "yr": 1.0, "a": 1.0}}[unit]
            if given not in ok:
                self.bad(path, f"'{given}' must be one of {', '.join(ok)}")
                return None
            return ok[given]
        try:
            return scale(given, unit)
        except UnitError as exc:
            self.bad(path, f"{exc} (expected a unit convertible to {unit})")
            return None


def _measure(c: _Checker, raw: Any, path: str) -> Measure | None:
    if not isinstance(raw, dict):
        c.bad(path, "must be a mapping")
        return None
    before = len(c.problems)
    mid = raw.get("id")
    if not isinstance(mid, str) or not mid.replace("_", "").isalnum() or not mid.islower():
        c.bad(f"{path}.id", f"must be a lower-case identifier, not {mid!r}")
    name = raw.get("name") or {}
    if not isinstance(name, dict) or not name.get("en") or not name.get("zh"):
        c.bad(f"{path}.name", "needs both en and zh")
        name = {}
    kind = raw.get("kind")
    if kind not in KINDS:
        c.bad(f"{path}.kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
        return None
    scope = raw.get("scope")
    if scope not in (1, 2, 3):
        c.bad(f"{path}.scope", f"must be 1, 2 or 3, not {scope!r}")
    acts = raw.get("acts_on") or {}
    acts_kind = acts.get("kind") if isinstance(acts, dict) else None
    targets = acts.get("targets") if isinstance(acts, dict) else None
    if acts_kind not in STREAM_KINDS:
        c.bad(f"{path}.acts_on.kind", f"must be one of {', '.join(STREAM_KINDS)}, not {acts_kind!r}")
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) and t for t in targets):
        c.bad(f"{path}.acts_on.targets", "must be a non-empty list of names")
        targets = []
    if kind in BINARY_KINDS and acts_kind == "electricity":
        c.bad(f"{path}.acts_on.kind", f"a {kind} measure acts on named streams, not on all electricity")
    if kind == "fuel_switch" and (acts_kind != "fuel" or not acts.get("electricity_end_use")):
        c.bad(f"{path}.acts_on", "a fuel switch acts on fuels and names electricity_end_use")
    figures = {}
    for key, unit in _canonical(kind, acts_kind or "end_use").items():
        if key in raw:
            figures[key] = c.figure(raw[key], f"{path}.{key}", unit)
        elif key in _REQUIRED[kind]:
            c.bad(f"{path}.{key}", f"is required for a {kind} measure")
    for key in raw:
        if key not in {"id", "name", "scope", "kind", "acts_on", "size", "exclusive", "note"} | set(
                _canonical(kind, acts_kind or "end_use")):
            c.bad(f"{path}.{key}", f"is not a field of a {kind} measure")
    life = figures.get("lifetime")
    if life is not None and (life.value < 1 or life.value != int(life.value)):
        c.bad(f"{path}.lifetime.value", "must be a whole number of years, at least 1")
    size = raw.get("size") or {}
    if kind == "onsite_re" and not (isinstance(size, dict) and size.get("max_driver")):
        c.bad(f"{path}.size.max_driver", "on-site generation names the scenario asset that bounds it (roof_kw)")
    if len(c.problems) > before:
        return None
    return Measure(mid, Text(str(name["en"]), str(name["zh"])), int(scope), kind, acts_kind, tuple(targets),
                   lifetime=figures["lifetime"], capex=figures.get("capex"), fixed_opex=figures.get("fixed_opex"),
                   variable_opex=figures.get("variable_opex"), fraction=figures.get("fraction"),
                   electricity_per_fuel=figures.get("electricity_per_fuel"),
                   electricity_end_use=acts.get("electricity_end_use"), yield_=figures.get("yield"),
                   ramp=figures.get("ramp"), max_driver=size.get("max_driver") if isinstance(size, dict) else None,
                   exclusive=raw.get("exclusive"), note=str(raw.get("note") or ""))


def parse_catalogue(text: str, origin: str) -> Catalogue:
    """The catalogue in ``text`` (YAML), or an InputError naming ``origin`` and the JSON path of every bad field."""
    import hashlib

    try:
        data = safe_yaml.load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: a date like 2025-13-01
        raise InputError([Problem(origin, None, None, f"not valid YAML: {exc}")]) from exc
    if not isinstance(data, dict):
        raise InputError([Problem(origin, None, None, "a catalogue is a mapping with sources and measures")])
    sources = data.get("sources") or {}
    c = _Checker(origin, sources if isinstance(sources, dict) else {})
    if not isinstance(sources, dict):
        c.bad("sources", "must be a mapping of source key to {title, url, licence}")
    for key, src in (sources.items() if isinstance(sources, dict) else ()):
        if not isinstance(src, dict) or not src.get("title") or not src.get("licence"):
            c.bad(f"sources.{key}", "needs a title and a licence")
    raw_measures = data.get("measures")
    if not isinstance(raw_measures, list) or not raw_measures:
        c.bad("measures", "must be a non-empty list")
        raw_measures = []
    measures, seen = [], set()
    for i, raw in enumerate(raw_measures):
        m = _measure(c, raw, f"measures[{i}]")
        if m is None:
            continue
        if m.id in seen:
            c.bad(f"measures[{i}].id", f"'{m.id}' appears twice")
        seen.add(m.id)
        measures.append(m)
    groups: dict[str, list[Measure]] = {}
    for i, m in enumerate(measures):
        if m.exclusive:
            groups.setdefault(m.exclusive, []).append(m)
            if not m.binary:
                c.bad(f"measures[{i}].exclusive", "only whole (saving, fuel_switch) measures can be exclusive")
    for g, ms in groups.items():
        if len(ms) < 2:
            c.bad("measures", f"exclusive group '{g}' has a single measure ({ms[0].id})")
    prices = {}
    for key, raw in (data.get("reference_prices") or {}).items():
        f = c.figure(raw, f"reference_prices.{key}", "CNY/tCO2e")
        if f is not None:
            prices[key] = f
    if c.problems:
        raise InputError(c.problems)
    return Catalogue(str(data.get("version", "")), str(data.get("currency", "CNY")), int(data.get("price_year", 0)),
                     dict(sources), tuple(measures), prices, origin, hashlib.sha256(text.encode()).hexdigest())


def shipped_catalogue() -> Catalogue:
    """The catalogue shipped with zerocarbon (``data/measures/catalogue.yaml``)."""
    text = files("zerocarbon").joinpath(SHIPPED).read_text(encoding="utf-8")
    return parse_catalogue(text, SHIPPED)
