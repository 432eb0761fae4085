"""The emission-factor library: shipped factor files, pinned factor sets, selection rules.

A *factor set* names the factor files it uses and the rules to pick from them. Shipped sets are
``data/factor_sets/<name>.yaml``; a user's own set (one factor CSV plus its rules) is validated here
and stored by ``services.factor_sets``. Its fingerprint (SHA-256 over the rules text and every byte
of its factor files) is stored with each inventory, so a new edition of a file can never silently
change a closed year.

A set is only ever named, never given as a path: names match ``[A-Za-z0-9._-]+``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

from zerocarbon.core.model import Site
from zerocarbon.errors import FactorNotFoundError, InputError, Problem, UnitError
from zerocarbon.units import parse_unit
from zerocarbon.core import safe_yaml

DATA = resources.files("zerocarbon") / "data"

COLUMNS = ("factor_id", "kind", "subject", "use", "gas", "value", "unit", "basis", "region", "year",
           "issuer", "document", "edition", "licence", "confidence", "source_key", "notes")
# A factor without these cannot answer "where did you come from?".
PROVENANCE = ("issuer", "document", "edition", "licence", "source_key")
SET_NAME = re.compile(r"[A-Za-z0-9._-]+")
FALLBACKS = ("latest_year_first", "most_specific_first")
GRID_LEVELS = ("province", "grid_region", "national")
# How a site's location becomes a region key of the factor files, for every country alike:
# "CN-天津", "CN-grid-north", "US-grid-CAMX", "GB".
REGION_KEY = {"province": "{country}-{province}", "grid_region": "{country}-grid-{grid_region}",
              "national": "{country}"}
# Grid factors are CO2 (a gas mass) or CO2e (already weighted, e.g. DESNZ totals, Ember life-cycle).
GRID_GASES = ("CO2", "CO2e")


@dataclass(frozen=True)
class Factor:
    """One published value with its provenance.

    ``unit`` is a pint unit string of ``value`` (e.g. ``kg/kWh`` with ``gas='CO2'``: kilograms of
    CO2 per kWh). ``basis`` is ``NCV`` or ``GCV`` when the value refers to heating value, else ``""``.
    """

    factor_id: str
    kind: str
    subject: str
    use: str
    gas: str
    value: float
    unit: str
    basis: str
    region: str
    year: int | None
    issuer: str
    document: str
    edition: str
    licence: str
    confidence: str
    source_key: str
    notes: str

    @property
    def issuer_prefix(self) -> str:
        return self.factor_id.split(".", 1)[0]


# -- reading and validating factor files --------------------------------------------------------
def check_set_name(name: str) -> str:
    """Return ``name`` if it can name a factor set; never a path (no slashes, no leading dot)."""
    if not isinstance(name, str) or not SET_NAME.fullmatch(name) or name.startswith("."):
        raise FactorNotFoundError(
            f"'{name}' is not a factor set name: use letters, digits, '.', '_' and '-' (no paths); "
            "see `zerocarbon factors sets`")
    return name


def _unit_problem(unit: str) -> str | None:
    if "/" not in unit:
        return f"unit '{unit}' is not a ratio (e.g. kg/kWh, g/gallon, kgCO2e/kWh)"
    try:
        parse_unit(unit.split("/", 1)[0]), parse_unit(unit.split("/", 1)[1])
    except UnitError as exc:
        return str(exc)
    return None


def parse_factor_csv(text: str, source: str, allow_zero: bool = False) -> list[Factor]:
    """Validate a whole factor CSV (the shipped schema, ``COLUMNS``) and return its factors.

    Every problem is collected (file, row, column, reason) and raised at once as :class:`InputError`:
    a missing column or provenance field, a value that is not a finite positive number, a unit pint
    does not know, a year that is not an integer, a repeated ``factor_id``. ``allow_zero`` admits
    published zeros (EPA prints 0 g CH4/gallon for jet fuel) in shipped files.
    """
    problems: list[Problem] = []
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError([Problem(source, 1, c, "column is missing; the header must be " + ",".join(COLUMNS))
                          for c in missing])
    out: list[Factor] = []
    seen: dict[str, int] = {}
    for n, r in enumerate(reader, start=2):
        bad = len(problems)
        for c in ("factor_id", "kind", "subject", "unit", *PROVENANCE):
            if not (r.get(c) or "").strip():
                problems.append(Problem(source, n, c, "is empty; every factor needs it"))
        fid = (r.get("factor_id") or "").strip()
        if fid in seen:
            problems.append(Problem(source, n, "factor_id", f"'{fid}' repeats row {seen[fid]}"))
        seen.setdefault(fid, n)
        try:
            value = float(r.get("value") or "")
        except ValueError:
            problems.append(Problem(source, n, "value", f"'{r.get('value')}' is not a number"))
            value = math.nan
        else:
            if not math.isfinite(value):
                problems.append(Problem(source, n, "value", f"'{r.get('value')}' is not a finite number"))
            elif value < 0 or (value == 0 and not allow_zero):
                problems.append(Problem(source, n, "value", f"{value:g} must be positive"))
        if (r.get("unit") or "").strip():
            why = _unit_problem(r["unit"].strip())
            if why:
                problems.append(Problem(source, n, "unit", why))
        year = (r.get("year") or "").strip()
        if year and not year.isdigit():
            problems.append(Problem(source, n, "year", f"'{year}' is not a year"))
        basis = (r.get("basis") or "").strip()
        if basis not in ("", "NCV", "GCV"):
            problems.append(Problem(source, n, "basis", f"'{basis}' must be NCV, GCV or empty"))
        if len(problems) > bad:
            continue
        out.append(Factor(
            factor_id=fid, kind=r["kind"].strip(), subject=r["subject"].strip(), use=(r["use"] or "").strip(),
            gas=(r["gas"] or "").strip(), value=value, unit=r["unit"].strip(), basis=basis,
            region=(r["region"] or "").strip(), year=int(year) if year else None, issuer=r["issuer"],
            document=r["document"], edition=r["edition"], licence=r["licence"], confidence=r["confidence"] or "",
            source_key=r["source_key"], notes=r["notes"] or ""))
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError([Problem(source, None, None, "has no factor rows")])
    return out


def shipped_factor_files() -> list[str]:
    return sorted(p.name for p in (DATA / "factors").iterdir() if p.name.endswith(".csv"))


def _shipped_file_bytes(name: str) -> bytes:
    if name not in shipped_factor_files():
        raise FactorNotFoundError(f"no shipped factor file '{name}'; shipped: {', '.join(shipped_factor_files())}")
    return (DATA / "factors" / name).read_bytes()


@lru_cache(maxsize=64)
def _read_factor_file(name: str) -> tuple[Factor, ...]:
    return tuple(parse_factor_csv(_shipped_file_bytes(name).decode("utf-8"), name, allow_zero=True))


# -- rules ------------------------------------------------------------------------------------------
def check_rules(spec: dict, source: str, shipped_files: list[str] | None = None) -> dict:
    """Validate a set's rules; raise :class:`InputError` naming each bad key. Returns the rules."""
    problems: list[Problem] = []

    def bad(key: str, reason: str) -> None:
        problems.append(Problem(source, None, key, reason))

    if not isinstance(spec, dict):
        raise InputError([Problem(source, None, None, "rules must be a YAML mapping")])
    grid = spec.get("grid")
    if not isinstance(grid, dict):
        bad("grid", "is required (location_series, residual_series, resolution, fallback)")
    else:
        for key in ("location_series", "residual_series"):
            v = grid.get(key)
            if not (isinstance(v, str) and v) and not (isinstance(v, list) and v and all(isinstance(x, str) for x in v)):
                bad(f"grid.{key}", "must name a factor subject (or a list of them, tried in order)")
        res = grid.get("resolution")
        if not isinstance(res, list) or not res or any(x not in GRID_LEVELS for x in res):
            bad("grid.resolution", f"must be a list drawn from {', '.join(GRID_LEVELS)}")
        if grid.get("fallback") not in FALLBACKS:
            bad("grid.fallback", f"'{grid.get('fallback')}' is not a known rule; use one of {', '.join(FALLBACKS)}")
        gases = grid.get("gas", list(GRID_GASES))
        if not isinstance(gases, list) or not gases or any(g not in GRID_GASES for g in gases):
            bad("grid.gas", f"must be a list drawn from {', '.join(GRID_GASES)} (preference order)")
        if not isinstance(grid.get("disclose", {}), dict):
            bad("grid.disclose", "must map a series name to the sentence disclosed with it")
    comb = spec.get("combustion")
    if not isinstance(comb, dict) or not isinstance(comb.get("priority"), list):
        bad("combustion.priority", "is required: a list of factor-id prefixes (issuers), highest first")
    elif comb.get("missing_non_co2") not in ("disclose", "error"):
        bad("combustion.missing_non_co2", "must be 'disclose' or 'error'")
    if not isinstance(spec.get("gwp_default", "AR5"), str):
        bad("gwp_default", "must be a GWP set name such as AR5")
    if shipped_files is not None:
        files = spec.get("files", [])
        if not isinstance(files, list):
            bad("files", "must be a list of shipped factor file names")
        else:
            for name in files:
                if name not in shipped_files:
                    bad("files", f"'{name}' is not a shipped factor file; shipped: {', '.join(shipped_files)}")
    if problems:
        raise InputError(problems)
    return {k: v for k, v in spec.items() if k not in ("id", "title", "files")}


# -- the set ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridSelection:
    factor: Factor
    warning: str | None = None


@dataclass
class FactorSet:
    """A pinned selection of factor files plus the rules to choose among them."""

    id: str
    title: str
    files: list[str]
    rules: dict
    factors: list[Factor]
    fingerprint: str
    origin: str = "shipped"  # shipped | stored
    by_id: dict[str, Factor] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id = {f.factor_id: f for f in self.factors}

    def get(self, factor_id: str) -> Factor:
        try:
            return self.by_id[factor_id]
        except KeyError:
            raise FactorNotFoundError(f"factor '{factor_id}' is not in factor set {self.id}") from None

    # -- GWP -----------------------------------------------------------------------------------
    def gwp_sets(self) -> list[str]:
        return sorted({f.edition for f in self.factors if f.kind == "gwp"})

    def gwp(self, gas: str, gwp_set: str) -> Factor:
        fid = f"GWP100.{gwp_set}.{gas}"
        if fid in self.by_id:
            return self.by_id[fid]
        computed = f"{fid}.computed"
        if computed in self.by_id:
            return self.by_id[computed]
        known = self.gwp_sets()
        if gwp_set not in known:
            raise FactorNotFoundError(f"GWP set '{gwp_set}' is unknown; choose one of {', '.join(known)}")
        if gas == "CO2e":
            # A CO2e mass (DESNZ totals, Ember life-cycle intensity) is weighted already: factor 1 by
            # definition, like the CO2 reference gas; no published number is involved.
            return Factor(f"GWP100.{gwp_set}.CO2e.definition", "gwp", "CO2e", "", "CO2e", 1.0, "kgCO2e/kgCO2e",
                          "", "", None, "definition", "a CO2e mass is already CO2-equivalent", gwp_set,
                          "definition", "definition", "definition:CO2e", "not a published value")
        raise FactorNotFoundError(
            f"no {gwp_set} GWP for '{gas}' in factor set {self.id}; add a sourced value to gwp.csv")

    # -- grid electricity -----------------------------------------------------------------------
    def region_keys(self, site: Site) -> list[tuple[str, str]]:
        """(level, region key) candidates for ``site`` in the set's resolution order."""
        country = (site.country or "").strip()
        if not country:
            raise FactorNotFoundError(f"site {site.code} has no country; a grid factor is chosen by country "
                                      "(ISO 3166-1 alpha-2, e.g. CN, US, GB, DE)")
        values = {"country": country, "province": site.province, "grid_region": site.grid_region}
        return [(lvl, REGION_KEY[lvl].format(**values)) for lvl in self.rules["grid"]["resolution"]
                if lvl == "national" or values[lvl]]

    def _check_region_codes(self, site: Site, keys: list[tuple[str, str]]) -> None:
        """A province or grid region the set knows at that level for the site's country, but not this code, is a
        typo (e.g. 'Tianjin' for '天津', 'CAMXX'): refused rather than falling back to the national factor."""
        country = site.country.strip()
        for lvl, key in keys:
            if lvl == "national":
                continue
            prefix = f"{country}-grid-" if lvl == "grid_region" else f"{country}-"
            known = {f.region for f in self.factors if f.kind == "grid_electricity" and f.region.startswith(prefix)
                     and (lvl == "grid_region" or "-grid-" not in f.region)}
            if known and key not in known:
                codes = sorted(k[len(prefix):] for k in known)
                raise FactorNotFoundError(
                    f"site {site.code}: {lvl.replace('_', ' ')} '{key[len(prefix):]}' is not one of the "
                    f"{len(codes)} {lvl.replace('_', ' ')}s of {country} in factor set {self.id} "
                    f"({', '.join(codes[:40])}{' ...' if len(codes) > 40 else ''}); check the organisation file")

    def _series(self, series: str) -> list[str]:
        names = self.rules["grid"][f"{series}_series"]
        return [names] if isinstance(names, str) else list(names)

    def _pick(self, series_name: str, year: int, keys: list[tuple[str, str]]) -> tuple[Factor, str, int] | None:
        rules = self.rules["grid"]
        gases = rules.get("gas", list(GRID_GASES))
        wanted = {k for _, k in keys}
        by_key: dict[tuple[str, int], Factor] = {}
        for f in self.factors:
            if (f.kind == "grid_electricity" and f.subject == series_name and f.region in wanted
                    and f.gas in gases and f.year is not None and f.year <= year):
                old = by_key.get((f.region, f.year))
                if old is None or gases.index(f.gas) < gases.index(old.gas):
                    by_key[(f.region, f.year)] = f
        years = sorted({y for _, y in by_key}, reverse=True)
        if rules["fallback"] == "latest_year_first":
            # A newer factor of a wider area beats an older one of the site's own province.
            order = [(lvl, key, y) for y in years for lvl, key in keys]
        else:  # most_specific_first: the site's own area in any earlier year beats a wider area
            order = [(lvl, key, y) for lvl, key in keys for y in years]
        for lvl, key, y in order:
            f = by_key.get((key, y))
            if f is not None:
                return f, lvl, y
        return None

    def use_phase_grid_factor(self, year: int, country: str) -> GridSelection:
        """Grid factor of a market ``country`` for the use phase of sold products (Scope 3 category 11): the
        set's ``grid.use_phase_series`` in order (e.g. its own national series, then a life-cycle series that
        covers every country), else its location series."""
        series = "use_phase" if "use_phase_series" in self.rules["grid"] else "location"
        return self.grid_factor(series, year, Site(code=f"market {country}", name=country, country=country))

    def grid_factor(self, series: str, year: int, site: Site) -> GridSelection:
        """Pick the grid factor for ``site`` and data ``year`` by the set's resolution and fallback rules.

        ``series`` is ``location`` or ``residual``. The site's country, province and grid region
        become region keys (``REGION_KEY``); a site whose keys have no factor in the set is an error,
        never another country's factor.
        """
        keys = self.region_keys(site)
        names = self._series(series)
        self._check_region_codes(site, keys)
        notes: list[str] = []
        for i, name in enumerate(names):
            found = self._pick(name, year, keys)
            if found is None:
                continue
            f, lvl, y = found
            if y != year:
                notes.append(f"grid factor for data year {year} not published in set {self.id}; "
                             f"used {f.factor_id} (latest earlier year, {lvl} level)")
            elif lvl != keys[0][0]:
                notes.append(f"no {keys[0][0]} factor for {year}; used {lvl} level {f.factor_id}")
            if i > 0:
                notes.append(f"no '{names[0]}' factor for this site in set {self.id}; used '{name}' instead")
            if series == "residual" and name in self._series("location"):
                notes.append(f"set {self.id} has no residual mix here: the grid average {f.factor_id} is the "
                             "market-based proxy (GHG Protocol Scope 2 Guidance, Table 6.3, last level)")
            disclose = self.rules["grid"].get("disclose", {}).get(name)
            if disclose:
                notes.append(disclose)
            return GridSelection(f, "; ".join(notes) or None)
        where = ", ".join(k for _, k in keys)
        hint = " (the ISO 3166-1 code of the United Kingdom is GB)" if site.country == "UK" else ""
        regions = sorted({f.region for f in self.factors if f.kind == "grid_electricity" and f.subject in names})
        shown = ", ".join(regions[:12]) + (f" and {len(regions) - 12} more" if len(regions) > 12 else "")
        raise FactorNotFoundError(
            f"site {site.code}: no {series} grid factor ({', '.join(names)}) for {year} or earlier under "
            f"region keys {where}{hint} in factor set {self.id}; the set covers {shown or 'no region'}. "
            "Choose a factor set for the site's country (`zerocarbon factors sets`) or import your own "
            "(`zerocarbon factors import`)")

    # -- fuels -------------------------------------------------------------------------------------
    def _prioritised(self, kind: str, fuel: str) -> list[Factor]:
        prio = self.rules["combustion"]["priority"]
        rank = {p: i for i, p in enumerate(prio)}
        found = [f for f in self.factors if f.kind == kind and f.subject == fuel and f.issuer_prefix in rank]
        return sorted(found, key=lambda f: rank[f.issuer_prefix])

    def combustion_factors(self, fuel: str, gas: str, use: str) -> list[Factor]:
        """Per-energy then per-physical-unit factors for a fuel and gas, in priority order."""
        out = []
        for kind in ("combustion", "combustion_physical"):
            out += [f for f in self._prioritised(kind, fuel) if f.gas == gas and f.use in (use, "any")]
        return out

    def nonroad_uses(self, fuel: str) -> list[str]:
        """Non-road equipment categories (``nonroad.<category>``) with factors for ``fuel`` in this set."""
        return sorted({f.use for f in self.factors if f.subject == fuel and f.use.startswith("nonroad.")
                       and f.kind in ("combustion", "combustion_physical")})

    def heating_values(self, fuel: str) -> list[Factor]:
        return self._prioritised("heating_value", fuel)

    # -- Scope 3 ------------------------------------------------------------------------------------
    def _of_kind(self, kind: str) -> list[Factor]:
        index = self.__dict__.get("_kind_index")
        if index is None:
            index = {}
            for f in self.factors:
                index.setdefault(f.kind, []).append(f)
            self.__dict__["_kind_index"] = index
        return index.get(kind, [])

    def has_kind(self, kind: str) -> bool:
        return bool(self._of_kind(kind))

    def scope3_factor(self, kind: str, subject: str, use: str | None = None, region: str | None = None,
                      year: int | None = None, what: str = "") -> Factor:
        """The factor of ``kind`` for ``subject`` (and ``use``, ``region`` when given): of the candidates, the latest
        year not after ``year``, else the earliest after it. Raises FactorNotFoundError naming what the set has."""
        found = [f for f in self._of_kind(kind) if f.subject == subject and (use is None or f.use == use)
                 and (region is None or f.region == region)]
        if not found:
            same_use = [f for f in self._of_kind(kind) if use is None or f.use == use]
            have = sorted({f.subject + (f" ({f.region})" if region is not None and f.region else "") for f in same_use})
            uses = sorted({f.use for f in self._of_kind(kind) if f.subject == subject})
            if uses and use is not None:
                have = [f"{subject} has only use {', '.join(uses)}; subjects with use {use}: "] + have
            shown = ", ".join(have[:60]) + (f" and {len(have) - 60} more" if len(have) > 60 else "")
            asked = subject + (f" use {use}" if use else "") + (f" region {region}" if region else "")
            raise FactorNotFoundError(
                f"no {kind} factor{' (' + what + ')' if what else ''} for {asked} in factor set {self.id}; "
                + (f"the set has {kind} factors for: {shown}" if have else f"the set has no {kind} factors")
                + " (`zerocarbon factors list`)")
        if year is None:
            return max(found, key=lambda f: f.year or 0)
        before = [f for f in found if f.year is None or f.year <= year]
        if before:
            return max(before, key=lambda f: f.year or 0)
        return min(found, key=lambda f: f.year)

    def eeio(self, naics: str, use: str = "with_margins") -> Factor:
        """Spend-based factor of a NAICS-6 code [kg CO2e per USD of the factor's price year (``year``)]."""
        return self.scope3_factor("eeio", naics, use, what="spend-based, per USD")

    def freight(self, subject: str, use: str, year: int | None = None) -> Factor:
        """Freight factor of ``<mode>.<vehicle>``, ``use`` ``ttw`` or ``wtt`` [kg CO2e per t.km]."""
        return self.scope3_factor("freight", subject, use, year=year, what=f"freight {use.upper()}, per t.km")

    def material(self, material: str, use: str = "primary", year: int | None = None) -> Factor:
        """Material-use (cradle-to-gate) factor [kg CO2e per t]."""
        return self.scope3_factor("material", material, use, year=year, what="material use, per tonne")

    def waste(self, material: str, treatment: str, year: int | None = None) -> Factor:
        """Waste treatment factor of a material [kg CO2e per t]."""
        return self.scope3_factor("waste", material, treatment, year=year, what="waste treatment, per tonne")

    def travel(self, subject: str, use: str = "ttw", year: int | None = None) -> Factor:
        """Business travel factor [kg CO2e per passenger km, per vehicle km or per room night]."""
        return self.scope3_factor("travel", subject, use, year=year, what=f"travel {use.upper()}")

    def fuel_wtt(self, fuel: str) -> list[Factor]:
        """Well-to-tank factors of a fuel, one per unit (and heating-value basis); [] if the set has none."""
        return [f for f in self._of_kind("fuel_wtt") if f.subject == fuel]

    def electricity_upstream(self, kind: str, region: str, year: int, series: str = "location") -> Factor:
        """``electricity_wtt``, ``electricity_td`` or ``electricity_td_wtt`` of a region [kg CO2e per kWh]."""
        return self.scope3_factor(kind, series, region=region, year=year)

    def grid_loss_rate(self, region: str, year: int) -> Factor:
        """Transmission and distribution loss rate of a grid (a fraction), from an official statistic."""
        found = [f for f in self._of_kind("grid_loss_rate") if f.region == region]
        if not found:
            raise FactorNotFoundError(f"no grid_loss_rate for {region} in factor set {self.id}")
        before = [f for f in found if f.year is None or f.year <= year]
        return max(before, key=lambda f: f.year or 0) if before else min(found, key=lambda f: f.year)

    def fuels(self) -> list[str]:
        return sorted({f.subject for f in self.factors if f.kind in ("combustion", "combustion_physical")
                       and f.issuer_prefix in self.rules["combustion"]["priority"]})


# -- building and loading sets ------------------------------------------------------------------
def build_factor_set(set_id: str, spec_text: str, extra_files: list[tuple[str, str]] = (),
                     origin: str = "shipped") -> FactorSet:
    """A set from its rules text (YAML), the shipped files it names and any files of its own.

    The fingerprint is SHA-256 over the rules text, then every shipped file named, then every own
    file, byte for byte: one changed byte anywhere gives another fingerprint.
    """
    source = f"{set_id}.yaml"
    try:
        spec = safe_yaml.load(spec_text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: a date like 2025-13-01
        raise InputError([Problem(source, None, None, f"is not valid YAML: {exc}")]) from None
    rules = check_rules(spec, source, shipped_factor_files())
    digest = hashlib.sha256(spec_text.encode("utf-8"))
    factors: list[Factor] = []
    files = list(spec.get("files", []))
    for name in files:
        digest.update(_shipped_file_bytes(name))
        factors += _read_factor_file(name)
    for name, text in extra_files:
        digest.update(text.encode("utf-8"))
        own = parse_factor_csv(text, name)
        shipped_ids = {f.factor_id for f in factors}
        clash = [Problem(name, None, "factor_id", f"'{f.factor_id}' is also in a shipped file of this set; "
                                                  "give your factor its own id") for f in own if f.factor_id in shipped_ids]
        if clash:
            raise InputError(clash)
        factors += own
        files.append(name)
    title = str(spec.get("title") or set_id)
    return FactorSet(set_id, title, files, rules, factors, digest.hexdigest(), origin)


def available_factor_sets() -> list[str]:
    return sorted(p.name[:-5] for p in (DATA / "factor_sets").iterdir() if p.name.endswith(".yaml"))


@lru_cache(maxsize=16)
def load_factor_set(set_id: str) -> FactorSet:
    """A shipped set by name. Raises FactorNotFoundError for an unknown or malformed name."""
    check_set_name(set_id)
    if set_id not in available_factor_sets():
        raise FactorNotFoundError(
            f"factor set '{set_id}' not found; available: {', '.join(available_factor_sets())}")
    text = (DATA / "factor_sets" / f"{set_id}.yaml").read_text(encoding="utf-8")
    fs = build_factor_set(set_id, text)
    declared = yaml.safe_load(text).get("id")
    if declared != set_id:
        raise FactorNotFoundError(f"factor set file {set_id}.yaml declares id '{declared}'")
    return fs


# -- economics reference (exchange rates, price indices) ---------------------------------------------
@dataclass(frozen=True)
class Reference:
    """One reference number (an exchange rate, a price index value) with where it comes from."""

    value: float
    source: str


@dataclass
class Economics:
    """Annual average exchange rates (units of a currency per USD) and price indices, by year.

    Read from ``data/reference/economics/fx_annual.csv`` (``currency, year, units_per_usd`` + source columns) and
    ``price_index.csv`` (``index, year, value`` + source columns); tests may build their own.
    """

    fx: dict[tuple[str, int], Reference]
    index: dict[tuple[str, int], Reference]
    fingerprint: str = ""

    def units_per_usd(self, currency: str, year: int) -> Reference:
        if currency == "USD":
            return Reference(1.0, "definition: 1 USD = 1 USD")
        try:
            return self.fx[(currency, year)]
        except KeyError:
            years = sorted(y for c, y in self.fx if c == currency)
            raise FactorNotFoundError(
                f"no {year} annual average exchange rate for {currency} in the economics reference"
                + (f" (it has {currency} for {', '.join(map(str, years))})" if years else
                   f" (currencies: {', '.join(sorted({c for c, _ in self.fx})) or 'none'})")
                + "; give the rate the spend was booked at in the exchange_rate column") from None

    def index_names(self) -> list[str]:
        return sorted({n for n, _ in self.index})

    def price_index(self, name: str, year: int) -> Reference:
        try:
            return self.index[(name, year)]
        except KeyError:
            years = sorted(y for n, y in self.index if n == name)
            raise FactorNotFoundError(
                f"no {year} value of price index '{name}' in the economics reference"
                + (f" (it has {', '.join(map(str, years))})" if years else
                   f" (indices: {', '.join(self.index_names()) or 'none'})")) from None


def _source_text(row: dict) -> str:
    parts = [row.get(k, "").strip() for k in ("issuer", "document", "source", "series", "edition", "url")]
    return "; ".join(p for p in parts if p) or "unstated source"


def parse_economics(fx_text: str, index_text: str, fx_source: str = "fx_annual.csv",
                    index_source: str = "price_index.csv") -> Economics:
    """Exchange rates and price indices from their CSV texts; every problem at once (file, row, column)."""
    problems: list[Problem] = []
    fx: dict[tuple[str, int], Reference] = {}
    index: dict[tuple[str, int], Reference] = {}
    for text, source, key, value_cols, out in (
            (fx_text, fx_source, ("currency",), ("units_per_usd", "rate", "value"), fx),
            (index_text, index_source, ("index", "index_name", "name"), ("value", "index_value"), index)):
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        key_col = next((c for c in key if c in header), None)
        value_col = next((c for c in value_cols if c in header), None)
        for need, col in ((key[0], key_col), ("year", "year" if "year" in header else None),
                          (value_cols[0], value_col)):
            if col is None:
                problems.append(Problem(source, 1, need, "column is missing"))
        if problems:
            continue
        for n, r in enumerate(reader, start=2):
            try:
                year = int(str(r["year"]).strip())
                value = float(r[value_col])
            except (TypeError, ValueError):
                problems.append(Problem(source, n, value_col, f"year '{r.get('year')}' or value '{r.get(value_col)}' "
                                                              "is not a number"))
                continue
            if not math.isfinite(value) or value <= 0:
                problems.append(Problem(source, n, value_col, f"{value:g} must be a positive number"))
                continue
            name = r[key_col].strip()
            unit = (r.get("unit") or "").strip().replace(" ", "")
            if out is fx and unit:
                # G.5A states most currencies per USD, some (EUR, GBP, AUD, NZD) in USD per unit of the currency.
                if unit == f"USD/{name}":
                    value = 1.0 / value
                elif unit != f"{name}/USD":
                    problems.append(Problem(source, n, "unit", f"'{unit}' is neither {name}/USD nor USD/{name}"))
                    continue
            out[(name, year)] = Reference(value, _source_text(r))
    if problems:
        raise InputError(problems)
    digest = hashlib.sha256(fx_text.encode("utf-8") + b"\0" + index_text.encode("utf-8")).hexdigest()
    return Economics(fx, index, digest)


@lru_cache(maxsize=1)
def load_economics() -> Economics | None:
    """The shipped economics reference, or None while it is not shipped."""
    folder = DATA / "reference" / "economics"
    fx, idx = folder / "fx_annual.csv", folder / "price_index.csv"
    if not (fx.is_file() and idx.is_file()):
        return None
    return parse_economics(fx.read_text(encoding="utf-8"), idx.read_text(encoding="utf-8"))


def all_factors() -> list[Factor]:
    out: list[Factor] = []
    for name in shipped_factor_files():
        out += _read_factor_file(name)
    return out


__all__ = ["COLUMNS", "FALLBACKS", "Economics", "Factor", "FactorSet", "GridSelection", "Reference", "load_economics",
           "parse_economics", "REGION_KEY", "all_factors",
           "available_factor_sets", "build_factor_set", "check_rules", "check_set_name", "load_factor_set",
           "parse_factor_csv", "shipped_factor_files"]
