"""The emission-factor library: shipped factor files, pinned factor sets, selection rules.

A *factor set* (``data/factor_sets/<id>.yaml``) names the factor files it uses and the rules to pick
from them. Its fingerprint (SHA-256 over the YAML and every row of those files) is stored with each
inventory, so a new edition of a file can never silently change a closed year.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

from zerocarbon.errors import FactorNotFoundError

DATA = resources.files("zerocarbon") / "data"


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


def _read_factor_file(name: str) -> list[Factor]:
    path = DATA / "factors" / name
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        out.append(Factor(
            factor_id=r["factor_id"], kind=r["kind"], subject=r["subject"], use=r["use"], gas=r["gas"],
            value=float(r["value"]), unit=r["unit"], basis=r["basis"], region=r["region"],
            year=int(r["year"]) if r["year"] else None, issuer=r["issuer"], document=r["document"],
            edition=r["edition"], licence=r["licence"], confidence=r["confidence"],
            source_key=r["source_key"], notes=r["notes"],
        ))
    return out


def available_factor_sets() -> list[str]:
    return sorted(p.name[:-5] for p in (DATA / "factor_sets").iterdir() if p.name.endswith(".yaml"))


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
        raise FactorNotFoundError(
            f"no {gwp_set} GWP for '{gas}' in factor set {self.id}; add a sourced value to gwp.csv")

    # -- grid electricity -----------------------------------------------------------------------
    def grid_factor(self, series: str, year: int, province: str | None, grid_region: str | None) -> GridSelection:
        """Pick the grid factor for a site and data year by the set's resolution and fallback rules."""
        rules = self.rules["grid"]
        series_name = rules[f"{series}_series"]
        candidates = {"province": f"CN-{province}" if province else None,
                      "grid_region": f"CN-grid-{grid_region}" if grid_region else None,
                      "national": "CN"}
        # The residual (market-based) series is national only.
        order = [lvl for lvl in rules["resolution"] if candidates.get(lvl)]
        pool = [f for f in self.factors if f.kind == "grid_electricity" and f.subject == series_name]
        by_key = {(f.region, f.year): f for f in pool}
        years = sorted({f.year for f in pool if f.year is not None and f.year <= year}, reverse=True)
        if not years:
            raise FactorNotFoundError(
                f"no '{series_name}' grid factor for {year} or earlier in factor set {self.id}")
        for y in years:
            for lvl in order:
                f = by_key.get((candidates[lvl], y))
                if f is not None:
                    warning = None
                    if y != year:
                        warning = (f"grid factor for data year {year} not published in set {self.id}; "
                                   f"used {f.factor_id} (latest earlier year, {lvl} level)")
                    elif lvl != order[0]:
                        warning = f"no {order[0]} factor for {year}; used {lvl} level {f.factor_id}"
                    return GridSelection(f, warning)
        raise FactorNotFoundError(f"no grid factor for {province or grid_region} in {self.id}")

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

    def heating_values(self, fuel: str) -> list[Factor]:
        return self._prioritised("heating_value", fuel)

    def fuels(self) -> list[str]:
        return sorted({f.subject for f in self.factors if f.kind in ("combustion", "combustion_physical")
                       and f.issuer_prefix in self.rules["combustion"]["priority"]})


@lru_cache(maxsize=16)
def load_factor_set(set_id: str) -> FactorSet:
    path = DATA / "factor_sets" / f"{set_id}.yaml"
    if not path.is_file():
        raise FactorNotFoundError(
            f"factor set '{set_id}' not found; available: {', '.join(available_factor_sets())}")
    text = path.read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    digest = hashlib.sha256(text.encode())
    factors: list[Factor] = []
    for name in spec["files"]:
        digest.update((DATA / "factors" / name).read_bytes())
        factors += _read_factor_file(name)
    rules = {k: v for k, v in spec.items() if k not in ("id", "title", "files")}
    return FactorSet(spec["id"], spec["title"], spec["files"], rules, factors, digest.hexdigest())


def all_factors() -> list[Factor]:
    out: list[Factor] = []
    for p in sorted((DATA / "factors").iterdir(), key=lambda p: p.name):
        if p.name.endswith(".csv"):
            out += _read_factor_file(p.name)
    return out
