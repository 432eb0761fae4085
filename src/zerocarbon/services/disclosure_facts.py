"""The facts of disclosure (``core.disclosure.keys.FACTS``) computed from what the platform stores for an
organisation and year, each with its lineage, and each number computed again from that lineage.

Sources (docs/disclosure-facts.md lists every fact with its formula):

- **ledger**: the stored inventory of the year and boundary (``zerocarbon inventory compute``). A ledger fact is
  the sum of the stored emission rows its ``filter`` names (scope, Scope 2 method, sites, categories, gases, memo);
  memo items (biogenic CO2, non-Kyoto gases) are never inside a scope total. Scope 2 location-based sums the rows
  of method ``location`` or ``both``, market-based ``market`` or ``both``: what ``zerocarbon inventory show``
  reports.
- **activities**: the active batches' rows of the year (energy, waste, packaging), each site weighted by its
  inclusion in the boundary (1 or 0 under a control approach, the equity share under the equity-share approach).
- **outputs**, **targets**, **claims**: the stored output figures, targets and carbon-credit register.
- **inputs**: what a person entered for the year (``zerocarbon disclose inputs import FILE``).
- **derived**: arithmetic on other facts, named in ``derived_from`` with the ``formula``.

Consolidated accounting group vs other investees: a site under the organisation's financial control belongs to the
consolidated group; every other site the boundary includes is an investee (HKEX Part D / ISSB S2 29(a)(iv)).

Nothing stored means a missing fact with the reason and the command that supplies it, never a zero. A zero is
given only where the stored rows prove it (a gas without rows inside a reported Scope 1; no instrument retired for
the electricity the inventory covers).
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.disclosure import keys as K
from zerocarbon.core.disclosure.model import REPORTED, TEXT, DisclosureInput, Fact, Part, missing
from zerocarbon.core.model import Boundary, Organisation
from zerocarbon.errors import UnitError, ZerocarbonError
from zerocarbon.units import dimension_of, scale, scales

# --- constants -------------------------------------------------------------------------------------------------

SCOPE1_SOURCES = {"stationary_combustion": ("stationary", "固定燃烧"), "mobile_combustion": ("mobile", "移动燃烧"),
                  "fugitive_refrigerants": ("fugitive", "逸散(制冷剂)"), "process_fgases": ("process", "过程(含氟气体)")}
# Kyoto gas groups of GHG Protocol / ISSB S2 reporting. Refrigerant blends R-4xx/R-5xx are HFC mixtures.
GAS_GROUPS = ("CO2", "CH4", "N2O", "HFCs", "PFCs", "SF6", "NF3")
PFCS = {"CF4", "C2F6", "C3F8", "c-C4F8", "C4F10", "C5F12", "C6F14", "C10F18"}
LOCATION_METHODS = ["location", "both"]
MARKET_METHODS = ["market", "both"]
ENERGY_KINDS = ("fuel", "electricity", "heat", "generation", "instrument")
ACTIVITY_KINDS = ENERGY_KINDS + ("waste", "packaging")
MJ_PER_MWH = 3600.0

INPUTS_FILE = "zerocarbon disclose inputs import FILE"


def _cmd_import(kind: str, org: str, year: int) -> str:
    return f"`zerocarbon import {kind} FILE --org {org} --year {year}`"


def _compute_cmd(org: str, year: int) -> str:
    return f"`zerocarbon inventory compute --org {org} --year {year}`"


def gas_group(gas: str) -> str:
    """The reporting group of a ledger gas: CO2, CH4, N2O, HFCs, PFCs, SF6, NF3, or the gas itself."""
    g = str(gas)
    if g in ("CO2", "CH4", "N2O", "SF6", "NF3"):
        return g
    if g in PFCS:
        return "PFCs"
    if g.startswith("HFC") or g == "CHF3" or (g.startswith("R-") and g[2:3] in ("4", "5")):
        return "HFCs"
    return g


# --- what one build reads ------------------------------------------------------------------------------------------

@dataclass
class _Stored:
    org_code: str
    year: int
    boundary: Boundary
    org_id: int
    org: Organisation
    inventory: object | None           # repos.StoredInventory
    ledger: pd.DataFrame               # site, scope, category, method, gas, memo, batch_id, co2e_t, gas_kg, rows
    factor_ids: list[str]
    frames: dict[str, pd.DataFrame]
    batches: dict[int, dict]
    outputs: list[dict]
    credits: list[dict]
    fs: object | None = None
    fs_problem: str = ""
    cache: dict = field(default_factory=dict)

    @property
    def included(self) -> dict[str, float]:
        """Site code -> share of it the boundary includes (only sites with a share)."""
        return {s.code: s.inclusion(self.boundary) for s in self.org.sites if s.inclusion(self.boundary) > 0}

    def inventory_lineage(self) -> dict:
        inv = self.inventory
        return {"year": self.year, "boundary": self.boundary.value, "factor_set": inv.factor_set,
                "fingerprint": inv.factor_set_fingerprint, "gwp_set": inv.gwp_set, "status": inv.status,
                "computed_at": inv.computed_at.isoformat() if inv.computed_at else None}

    def batch_lineage(self, ids: Iterable[int], rows: dict[int, int] | None = None) -> dict:
        out = {}
        for b in sorted({int(i) for i in ids if i is not None and int(i) >= 0}):
            meta = self.batches.get(b, {})
            out[str(b)] = {"source": meta.get("source", ""), "path": meta.get("path", ""),
                           "sha256": meta.get("sha256", ""), "kind": meta.get("kind", ""),
                           "rows": (rows or {}).get(b, meta.get("rows"))}
        return out


def _ledger_frame(s, inventory_id: int) -> tuple[pd.DataFrame, list[str]]:
    """The stored ledger summed by line columns and batch (one aggregate query), and its distinct factor ids."""
    from zerocarbon.store.tables import EmissionLineRow as L
    from zerocarbon.store.tables import EmissionRow as E

    q = (select(L.site, L.scope, L.category, L.method, L.gas, L.memo, E.batch_id, func.sum(E.co2e_t),
                func.sum(E.gas_kg), func.count())
         .join(E, E.line_id == L.id)
         .where(L.inventory_id == inventory_id, E.inventory_id == inventory_id)
         .group_by(L.site, L.scope, L.category, L.method, L.gas, L.memo, E.batch_id))
    cols = ["site", "scope", "category", "method", "gas", "memo", "batch_id", "co2e_t", "gas_kg", "rows"]
    frame = pd.DataFrame(s.execute(q).all(), columns=cols)
    frame["batch_id"] = frame["batch_id"].fillna(-1).astype(np.int64)
    for c in ("co2e_t", "gas_kg"):
        frame[c] = frame[c].astype(float)
    ids = [r for (r,) in s.execute(select(L.factor_ids).where(L.inventory_id == inventory_id).distinct())]
    return frame, ids


def _load(sessions: sessionmaker, org_code: str, year: int, boundary: Boundary, kinds: tuple[str, ...]) -> _Stored:
    from zerocarbon.services import factor_sets
    from zerocarbon.store import credits as credit_store
    from zerocarbon.store import repos
    from zerocarbon.store import targets as target_store
    from zerocarbon.store.tables import ImportBatchRow

    with sessions.begin() as s:
        org_id, org, inv = repos.organisation_and_inventory(s, org_code, year, boundary.value)
        ledger, fids = (_ledger_frame(s, inv.id) if inv is not None
                        else (pd.DataFrame(columns=["site", "scope", "category", "method", "gas", "memo", "batch_id",
                                                    "co2e_t", "gas_kg", "rows"]), []))
        frames = repos.load_activities(s, org_id, year, list(kinds)).data.frames if kinds else {}
        batches = {r.id: {"source": r.source, "path": r.path, "sha256": r.sha256, "kind": r.kind, "rows": r.rows,
                          "status": r.status}
                   for r in s.scalars(select(ImportBatchRow).where(ImportBatchRow.organisation_id == org_id,
                                                                   ImportBatchRow.year == year))}
        outputs = [{"site": o.site, "year": o.year, "metric": o.metric, "value": o.value, "unit": o.unit,
                    "source": o.source, "recorded_by": o.recorded_by}
                   for o in target_store.outputs(s, org_id) if o.year == year]
        credits = [{"credit_id": c.credit_id, "programme": c.programme, "project_id": c.project_id,
                    "project_type": c.project_type, "vintage": c.vintage, "quantity_t": c.quantity_t,
                    "retirement_date": c.retirement_date, "retired_for_period": c.retired_for_period,
                    "retired_for_subject": c.retired_for_subject, "source": c.source, "sha256": c.sha256}
                   for c in credit_store.credits(s, org_id)]
    st = _Stored(org_code, year, boundary, org_id, org, inv, ledger, fids, frames, batches, outputs, credits)
    if inv is not None:
        try:
            st.fs = factor_sets.resolve(sessions, inv.factor_set, org_code)
        except ZerocarbonError as exc:
            st.fs_problem = str(exc).splitlines()[0]
    return st


# --- ledger sums ---------------------------------------------------------------------------------------------------

def _select(ledger: pd.DataFrame, flt: Mapping) -> pd.DataFrame:
    keep = np.ones(len(ledger), dtype=bool)
    for col in ("scope", "method", "site", "category", "gas"):
        want = flt.get(col)
        if want is None:
            continue
        want = [want] if isinstance(want, str) else list(want)
        keep &= ledger[col].astype(str).isin(want).to_numpy()
    keep &= (ledger["memo"].astype(str) == flt.get("memo", "")).to_numpy()
    return ledger[keep]


def _measure(part: pd.DataFrame, flt: Mapping) -> float:
    if flt.get("measure") == "gas_t":
        return float(part["gas_kg"].sum()) / 1000.0
    return float(part["co2e_t"].sum())


def _ledger_fact(st: _Stored, key: str, flt: dict, *, by: str | None = None, labels: Iterable[str] = (),
                 label_zh: Mapping[str, str] | None = None, groups: Mapping[str, str] | None = None,
                 when_empty: tuple[str, str] | None = None, note: str = "") -> Fact:
    """The sum of the ledger rows of ``flt``, with a breakdown ``by`` a column (every label of ``labels`` shown,
    0 where no row has it, within the reported total)."""
    unit = K.FACTS[key].unit
    part = _select(st.ledger, flt)
    if part.empty and when_empty is not None:
        return missing(key, unit, *when_empty, source="ledger", filter=flt, inventory=st.inventory_lineage())
    value = _measure(part, flt)
    breakdown: tuple[Part, ...] = ()
    parts_filter = {}
    if by is not None:
        sums: dict[str, float] = {str(x): 0.0 for x in labels}
        members: dict[str, list[str]] = {str(x): [] for x in labels}
        for lab, g in part.groupby(part[by].astype(str), sort=True):
            name = (groups or {}).get(lab, gas_group(lab) if by == "gas" else lab)
            sums[name] = sums.get(name, 0.0) + _measure(g, flt)
            members.setdefault(name, []).append(lab)
        breakdown = tuple(Part(k, v, (label_zh or {}).get(k, "")) for k, v in sums.items())
        parts_filter = {k: {**flt, by: sorted(v)} for k, v in members.items() if v}
    lineage = {"source": "ledger", "filter": flt, "inventory": st.inventory_lineage(),
               "batches": st.batch_lineage(part["batch_id"].unique()), "rows": int(part["rows"].sum())}
    if parts_filter:
        lineage["parts"] = parts_filter
    if note:
        lineage["note"] = note
    return Fact(key, value, unit, REPORTED, breakdown=breakdown, lineage=lineage)


def _no_inventory(st: _Stored, key: str) -> Fact:
    return missing(key, K.FACTS[key].unit,
                   f"no stored {st.boundary.value.replace('_', ' ')} inventory of {st.org_code} for {st.year}; "
                   f"compute it: {_compute_cmd(st.org_code, st.year)}",
                   f"{st.year}年尚无已保存的温室气体清单;请先计算:{_compute_cmd(st.org_code, st.year)}",
                   source="ledger")


def _ghg_facts(st: _Stored) -> dict[str, Fact]:
    out: dict[str, Fact] = {}
    included = st.included
    sites = sorted(included)
    consolidated = sorted(s.code for s in st.org.sites if s.code in included and s.financial_control)
    investees = sorted(s.code for s in st.org.sites if s.code in included and not s.financial_control)
    group_note = ("consolidated accounting group: the boundary's sites under the organisation's financial control "
                  f"({', '.join(consolidated) or 'none'}); other investees: the rest of the boundary's sites "
                  f"({', '.join(investees) or 'none'})")
    s1 = {"scope": "1"}
    no_s1 = (f"the {st.year} inventory has no Scope 1 rows: no fuel, refrigerant or process-gas data stored; import "
             f"them ({_cmd_import('fuel', st.org_code, st.year)}) and compute again",
             f"{st.year}年清单没有范围一数据(燃料、制冷剂、过程气体);请导入后重新计算")
    out["ghg.scope1"] = _ledger_fact(st, "ghg.scope1", s1, when_empty=no_s1)
    reported_s1 = out["ghg.scope1"].reported
    if reported_s1:
        out["ghg.scope1.by_gas"] = _ledger_fact(st, "ghg.scope1.by_gas", s1, by="gas", labels=GAS_GROUPS)
        out["ghg.scope1.by_site"] = _ledger_fact(st, "ghg.scope1.by_site", s1, by="site", labels=sites)
        out["ghg.scope1.by_source"] = _ledger_fact(
            st, "ghg.scope1.by_source", s1, by="category", labels=[v[0] for v in SCOPE1_SOURCES.values()],
            groups={k: v[0] for k, v in SCOPE1_SOURCES.items()}, label_zh=dict(SCOPE1_SOURCES.values()))
        out["ghg.scope1.consolidated"] = _ledger_fact(st, "ghg.scope1.consolidated", {**s1, "site": consolidated},
                                                      note=group_note)
        out["ghg.scope1.investees"] = _ledger_fact(st, "ghg.scope1.investees", {**s1, "site": investees},
                                                   note=group_note)
    else:
        for k in ("by_gas", "by_site", "by_source", "consolidated", "investees"):
            out[f"ghg.scope1.{k}"] = missing(f"ghg.scope1.{k}", "tCO2e", *no_s1, source="ledger",
                                             inventory=st.inventory_lineage())
    no_s2 = (f"the {st.year} inventory has no Scope 2 rows: no electricity or heat data stored; import them "
             f"({_cmd_import('electricity', st.org_code, st.year)}) and compute again",
             f"{st.year}年清单没有范围二数据(电力、热力);请导入后重新计算")
    for name, methods in (("scope2_location", LOCATION_METHODS), ("scope2_market", MARKET_METHODS)):
        flt = {"scope": "2", "method": methods}
        out[f"ghg.{name}"] = _ledger_fact(st, f"ghg.{name}", flt, when_empty=no_s2)
        if out[f"ghg.{name}"].reported:
            out[f"ghg.{name}.by_site"] = _ledger_fact(st, f"ghg.{name}.by_site", flt, by="site", labels=sites)
            out[f"ghg.{name}.consolidated"] = _ledger_fact(st, f"ghg.{name}.consolidated",
                                                          {**flt, "site": consolidated}, note=group_note)
            out[f"ghg.{name}.investees"] = _ledger_fact(st, f"ghg.{name}.investees", {**flt, "site": investees},
                                                       note=group_note)
        else:
            for k in ("by_site", "consolidated", "investees"):
                out[f"ghg.{name}.{k}"] = missing(f"ghg.{name}.{k}", "tCO2e", *no_s2, source="ledger",
                                                 inventory=st.inventory_lineage())
    out["ghg.biogenic_co2"] = _ledger_fact(st, "ghg.biogenic_co2", {"memo": "biogenic_co2", "measure": "gas_t"},
                                           note="memo item outside the scopes: tonnes of CO2 (not CO2e) from "
                                                "biogenic fuels")
    if not out["ghg.biogenic_co2"].lineage.get("rows") and not _has_fuel_rows(st):
        out["ghg.biogenic_co2"] = missing("ghg.biogenic_co2", "t", "no fuel rows stored for the year: biogenic CO2 "
                                          f"comes from fuels ({_cmd_import('fuel', st.org_code, st.year)})",
                                          "本年度没有燃料数据,无法得出生物质CO2", source="ledger")
    # Scope 3
    from zerocarbon.services.scope3 import CATEGORIES, NOT_EVALUATED, number

    s3 = {"scope": "3"}
    s3rows = _select(st.ledger, s3)
    present = set(s3rows["category"].astype(str))
    for cat in CATEGORIES:
        n = number(cat)
        key = f"ghg.scope3.cat{n}"
        if cat in present:
            out[key] = _ledger_fact(st, key, {**s3, "category": [cat]})
        else:
            out[key] = missing(key, "tCO2e", f"no data: the {st.year} inventory has no rows of Scope 3 category {n} "
                                             f"({cat}); import its activity data and compute again",
                               f"{st.year}年清单没有范围三类别{n}的数据", source="ledger", category=cat)
    for cat, why in NOT_EVALUATED.items():
        key = f"ghg.scope3.cat{number(cat)}"
        out[key] = missing(key, "tCO2e", f"not evaluated: {why}", f"未评估:平台不计算范围三类别{number(cat)}",
                           source="ledger", category=cat)
    if present:
        cat_numbers = {c: str(number(c)) for c in present}
        out["ghg.scope3"] = _ledger_fact(st, "ghg.scope3", s3, note="categories evaluated: "
                                         + ", ".join(sorted(present, key=number)))
        out["ghg.scope3.by_category"] = _ledger_fact(st, "ghg.scope3.by_category", s3, by="category",
                                                     groups=cat_numbers)
    else:
        for key in ("ghg.scope3", "ghg.scope3.by_category"):
            out[key] = missing(key, "tCO2e", f"the {st.year} inventory has no Scope 3 rows: import purchases, "
                                             "shipments, waste, travel or commuting data and compute again",
                               f"{st.year}年清单没有范围三数据", source="ledger")
    # Sums of scopes
    for name, s2 in (("location", "ghg.scope2_location"), ("market", "ghg.scope2_market")):
        out[f"ghg.scope12_{name}"] = _derived(f"ghg.scope12_{name}", out, ["ghg.scope1", s2], "sum")
        out[f"ghg.total_{name}"] = _derived(f"ghg.total_{name}", out, ["ghg.scope1", s2, "ghg.scope3"], "sum")
    return out


def _has_fuel_rows(st: _Stored) -> bool:
    f = st.frames.get("fuel")
    return f is not None and len(f) > 0


# --- derived facts -----------------------------------------------------------------------------------------------

_FORMULA = {"sum": " + ", "div": " / "}


def _derived(key: str, facts: Mapping[str, Fact], args: list[str], op: str, *, scale_by: float = 1.0,
             unit: str | None = None, note: str = "") -> Fact:
    """``op`` ("sum" or "div") of the facts ``args``; missing (with the first reason) when any is missing.
    The operands' lineage is kept in ``operands`` so that :func:`recompute` can compute each again."""
    unit = unit or K.FACTS[key].unit
    formula = _FORMULA[op].join(args) + (f" x {scale_by:g}" if scale_by != 1.0 else "")
    gone = [a for a in args if a not in facts or not facts[a].reported]
    if gone:
        first = facts.get(gone[0])
        why = first.reason if first is not None else f"{gone[0]} is not computed"
        why_zh = first.reason_zh if first is not None else why
        return missing(key, unit, f"needs {gone[0]}: {why}", f"需要{gone[0]}:{why_zh}", source="derived",
                       derived_from=args, formula=formula)
    values = [float(facts[a].value) for a in args]
    if op == "sum":
        value = sum(values)
    else:
        if not values[1] > 0:
            return missing(key, unit, f"{args[1]} is not positive ({values[1]:g})", f"{args[1]}不为正数",
                           source="derived", derived_from=args, formula=formula)
        value = values[0] / values[1]
    lineage = {"source": "derived", "derived_from": args, "formula": formula, "op": op, "scale": scale_by,
               "operands": {a: {"value": facts[a].value, "unit": facts[a].unit, "lineage": facts[a].lineage}
                            for a in args}}
    if note:
        lineage["note"] = note
    return Fact(key, value * scale_by, unit, REPORTED, lineage=lineage)


# --- energy ------------------------------------------------------------------------------------------------------

@dataclass
class _Energy:
    """Energy quantities of the boundary [MWh], each with the batches and rows behind it, or the reason it is not
    known."""

    values: dict[str, float] = field(default_factory=dict)
    parts: dict[str, dict[str, float]] = field(default_factory=dict)
    batches: dict[str, set] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    extra: dict[str, dict] = field(default_factory=dict)


def _weights(frame: pd.DataFrame, included: Mapping[str, float], column: str = "site") -> np.ndarray:
    return frame[column].astype(str).map(lambda x: included.get(x, 0.0)).to_numpy(dtype=float)


def _batch_ids(frame: pd.DataFrame, keep=None) -> set:
    if frame is None or "batch_id" not in frame or not len(frame):
        return set()
    b = frame["batch_id"] if keep is None else frame.loc[keep, "batch_id"]
    return {int(x) for x in b.dropna()}


def energy_quantities(frames: Mapping[str, pd.DataFrame], org: Organisation, year: int, boundary: Boundary,
                      fs) -> _Energy:
    """Every energy quantity of the facts from the activity rows [MWh] (``recompute`` runs it again on rows it
    reads itself)."""
    from zerocarbon.core.ghg.electricity import allocate_instruments
    from zerocarbon.services.assessment_metrics import Unavailable, _fuel_mj

    e = _Energy()
    included = {s.code: s.inclusion(boundary) for s in org.sites if s.inclusion(boundary) > 0}
    # fuels at NCV
    fuel = frames.get("fuel")
    if fuel is not None and len(fuel):
        w = _weights(fuel, included)
        if fs is None:
            e.missing["fuel"] = "the inventory's factor set cannot be read, so fuels have no heating value"
        else:
            by_fuel: dict[str, float] = {}
            fossil = renewable = 0.0
            hvs: set[str] = set()
            try:
                for r, wt in zip(fuel.itertuples(), w):
                    if wt == 0:
                        continue
                    mj, hv = _fuel_mj(fs, str(r.fuel), float(r.quantity), str(r.unit))
                    mwh = float(mj) / MJ_PER_MWH * float(wt)
                    by_fuel[str(r.fuel)] = by_fuel.get(str(r.fuel), 0.0) + mwh
                    if str(r.biogenic).strip().lower() in ("true", "1", "yes"):
                        renewable += mwh
                    else:
                        fossil += mwh
                    if hv:
                        hvs.add(hv)
            except Unavailable as exc:
                e.missing["fuel"] = f"{exc}; add the heating value to the factor set or state the fuel in an energy unit"
            else:
                e.values.update({"fuel": sum(by_fuel.values()), "fuel.fossil": fossil, "fuel.renewable": renewable})
                e.parts["fuel"] = dict(sorted(by_fuel.items()))
                e.extra["fuel"] = {"heating_values": sorted(hvs)}
                e.batches["fuel"] = _batch_ids(fuel, w > 0)
                e.rows["fuel"] = int((w > 0).sum())
    else:
        e.missing["fuel"] = "no fuel rows stored for the year"
    # grid electricity and instrument cover (the inventory's allocation)
    elec = frames.get("electricity")
    grid_by_site: dict[str, float] = {}
    if elec is not None and len(elec):
        kwh = elec["quantity"].to_numpy(dtype=float) * scales(elec["unit"], "kWh")
        sites = elec["site"].astype(str).to_numpy()
        for site in included:
            grid_by_site[site] = float(kwh[sites == site].sum())
        w = _weights(elec, included)
        e.values["grid"] = float((kwh * w).sum()) / 1000.0
        e.parts["grid"] = {s: v * included[s] / 1000.0 for s, v in sorted(grid_by_site.items()) if v}
        e.batches["grid"] = _batch_ids(elec, w > 0)
        e.rows["grid"] = int((w > 0).sum())
        inst = frames.get("instrument")
        covered = renewable = 0.0
        by_type: dict[str, float] = {}
        ids: list[str] = []
        if inst is not None and len(inst):
            claims, _ = allocate_instruments(grid_by_site, inst, year, {s.code: s.country for s in org.sites
                                                                        if s.code in grid_by_site})
            for site, c in claims.items():
                wt = included[site]
                covered += c.covered_kwh * wt
                renewable += c.renewable_kwh * wt
                ids += list(c.instrument_ids)
                if c.instrument_kwh > 0:
                    mine = inst[inst["instrument_id"].astype(str).isin(c.instrument_ids)
                                & (inst["retired_for_site"].astype(str) == site)]
                    for t, v in zip(mine["type"].astype(str), mine["volume_kwh"].astype(float)):
                        # cover is pro rata to the eligible volume (core.ghg.electricity.allocate_instruments)
                        by_type[t] = by_type.get(t, 0.0) + c.covered_kwh * v / c.instrument_kwh * wt
            used = inst["instrument_id"].astype(str).isin(ids)
            e.batches["instrument"] = _batch_ids(inst, used.to_numpy())
            e.rows["instrument"] = int(used.sum())
        e.values["contractual"] = covered / 1000.0
        e.values["renewable_purchased"] = renewable / 1000.0
        e.parts["contractual"] = {t: v / 1000.0 for t, v in sorted(by_type.items())}
        e.extra["instruments"] = {"instrument_ids": sorted(set(ids))}
    else:
        e.missing["grid"] = "no electricity rows stored for the year"
    gen = frames.get("generation")
    if gen is not None and len(gen):
        to_kwh = scales(gen["unit"], "kWh")
        w = _weights(gen, included)
        generated = gen["generated"].to_numpy(dtype=float) * to_kwh * w
        exported = gen["exported"].fillna(0.0).to_numpy(dtype=float) * to_kwh * w
        e.values.update({"generated": float(generated.sum()) / 1000.0, "exported": float(exported.sum()) / 1000.0,
                         "self": float((generated - exported).sum()) / 1000.0})
        e.batches["generation"] = _batch_ids(gen, w > 0)
        e.rows["generation"] = int((w > 0).sum())
    else:
        e.missing["generation"] = "no generation rows stored for the year"
    heat = frames.get("heat")
    if heat is not None and len(heat):
        w = _weights(heat, included)
        try:
            mwh = heat["quantity"].to_numpy(dtype=float) * scales(heat["unit"], "MWh") * w
        except UnitError as exc:
            e.missing["heat"] = f"heat rows are not in an energy unit ({exc})"
        else:
            e.values["heat"] = float(mwh.sum())
            e.batches["heat"] = _batch_ids(heat, w > 0)
            e.rows["heat"] = int((w > 0).sum())
    else:
        e.missing["heat"] = "no purchased heat or steam rows stored for the year"
    return e


_CARRIERS = {"fuel": ("fuels", "燃料"), "grid": ("grid electricity", "外购电力"),
             "self": ("self-generated electricity", "自发电力"), "heat": ("heat and steam", "热力与蒸汽")}


def _energy_facts(st: _Stored, inputs: Mapping[str, DisclosureInput]) -> dict[str, Fact]:
    from zerocarbon.services.assessment_metrics import electricity_kgce_per_kwh, gbt2589, kgce_per_mj

    org, year = st.org_code, st.year
    e = st.cache.get("energy")
    if e is None:
        e = st.cache["energy"] = energy_quantities(st.frames, st.org, year, st.boundary, st.fs)
    out: dict[str, Fact] = {}
    hints = {"fuel": ("fuel", _cmd_import("fuel", org, year)), "grid": ("electricity", _cmd_import("electricity", org, year)),
             "generation": ("generation", _cmd_import("generation", org, year)),
             "self": ("generation", _cmd_import("generation", org, year)),
             "heat": ("heat", _cmd_import("heat", org, year))}
    kinds_of = {"fuel": ("fuel",), "grid": ("electricity",), "self": ("generation",), "heat": ("heat",),
                "generated": ("generation",), "exported": ("generation",), "contractual": ("electricity", "instrument"),
                "renewable_purchased": ("electricity", "instrument"), "fuel.fossil": ("fuel",),
                "fuel.renewable": ("fuel",)}

    def source_of(q: str) -> str:
        return {"self": "generation", "generated": "generation", "exported": "generation",
                "fuel.fossil": "fuel", "fuel.renewable": "fuel", "contractual": "grid",
                "renewable_purchased": "grid"}.get(q, q)

    def batches_of(qs) -> dict:
        ids: set = set()
        for q in qs:
            ids |= e.batches.get(source_of(q), set())
            if q in ("contractual", "renewable_purchased"):
                ids |= e.batches.get("instrument", set())
        return st.batch_lineage(ids)

    def fact(key: str, q: str, parts: dict | None = None, zh: Mapping[str, str] | None = None) -> Fact:
        unit = K.FACTS[key].unit
        src = source_of(q)
        if src in e.missing or q not in e.values:
            kind, cmd = hints.get(src, (src, ""))
            why = e.missing.get(src, f"{q} not known")
            if cmd and why.startswith("no "):
                why = f"{why}; import the {kind} rows ({cmd})"
            return missing(key, unit, why, f"缺少{kind}活动数据:{why}", source="activities",
                           kinds=list(kinds_of.get(q, (kind,))))
        lineage = {"source": "activities", "quantity": q, "kinds": list(kinds_of.get(q, ())),
                   "batches": batches_of([q]), "rows": sum(e.rows.get(k, 0) for k in {source_of(q)}),
                   "boundary": st.boundary.value, **e.extra.get(src, {})}
        if q in ("contractual", "renewable_purchased"):
            lineage.update(e.extra.get("instruments", {}))
        breakdown = tuple(Part(k, v, (zh or {}).get(k, "")) for k, v in (parts or {}).items())
        return Fact(key, e.values[q], unit, REPORTED, breakdown=breakdown, lineage=lineage)

    out["energy.fuels"] = fact("energy.fuels", "fuel", e.parts.get("fuel"))
    out["energy.fuels.fossil"] = fact("energy.fuels.fossil", "fuel.fossil")
    out["energy.fuels.renewable"] = fact("energy.fuels.renewable", "fuel.renewable")
    out["energy.electricity.grid"] = fact("energy.electricity.grid", "grid", e.parts.get("grid"))
    out["energy.electricity.self_generated"] = fact("energy.electricity.self_generated", "self")
    out["energy.produced.renewable"] = fact("energy.produced.renewable", "generated")
    out["energy.sold"] = fact("energy.sold", "exported")
    out["energy.heat"] = fact("energy.heat", "heat")
    out["energy.renewable.purchased"] = fact("energy.renewable.purchased", "renewable_purchased")
    out["ghg.scope2.contractual_mwh"] = fact("ghg.scope2.contractual_mwh", "contractual", e.parts.get("contractual"))
    # Sums over the carriers that have rows; a carrier without rows is named in the lineage, not counted as zero.
    carriers = [c for c in _CARRIERS if c in e.values]
    absent = {c: e.missing.get(source_of(c), "") for c in _CARRIERS if c not in e.values}
    note = ("carriers without stored rows (not counted): " + "; ".join(f"{_CARRIERS[c][0]}: {why}"
                                                                     for c, why in absent.items())) if absent else ""
    if "fuel" in e.missing and not e.missing["fuel"].startswith("no fuel rows"):
        out["energy.total"] = missing("energy.total", "MWh", e.missing["fuel"], "燃料热值缺失,无法计算能源总量",
                                      source="activities")
    elif not carriers:
        out["energy.total"] = missing("energy.total", "MWh", "no fuel, electricity, generation or heat rows stored "
                                      f"for {year}; import them ({_cmd_import('electricity', org, year)})",
                                      f"{year}年没有能源活动数据", source="activities")
    else:
        out["energy.total"] = Fact("energy.total", sum(e.values[c] for c in carriers), "MWh", REPORTED,
                                   breakdown=tuple(Part(_CARRIERS[c][0], e.values[c], _CARRIERS[c][1])
                                                   for c in carriers),
                                   lineage={"source": "activities", "quantity": "total", "carriers": carriers,
                                            "batches": batches_of(carriers),
                                            "rows": sum(e.rows.get(source_of(c), 0) for c in carriers),
                                            "boundary": st.boundary.value, "note": note,
                                            **e.extra.get("fuel", {})})
    if out["energy.total"].reported:
        out["energy.by_carrier"] = Fact("energy.by_carrier", out["energy.total"].value, "MWh", REPORTED,
                                        breakdown=out["energy.total"].breakdown,
                                        lineage={**out["energy.total"].lineage})
    else:
        out["energy.by_carrier"] = missing("energy.by_carrier", "MWh", out["energy.total"].reason,
                                           out["energy.total"].reason_zh, source="activities")
    elec_parts = [c for c in ("grid", "self") if c in e.values]
    if "grid" in e.values:
        out["energy.electricity"] = Fact(
            "energy.electricity", sum(e.values[c] for c in elec_parts), "MWh", REPORTED,
            breakdown=tuple(Part(_CARRIERS[c][0], e.values[c], _CARRIERS[c][1]) for c in elec_parts),
            lineage={"source": "activities", "quantity": "electricity", "carriers": elec_parts,
                     "batches": batches_of(elec_parts), "rows": sum(e.rows.get(source_of(c), 0) for c in elec_parts),
                     "boundary": st.boundary.value,
                     "note": "" if "self" in e.values else "no generation rows: grid electricity only"})
    else:
        out["energy.electricity"] = missing("energy.electricity", "MWh", e.missing["grid"] + "; import them ("
                                            + _cmd_import("electricity", org, year) + ")", "缺少电力活动数据",
                                            source="activities")
    ren_parts = [c for c in ("self", "renewable_purchased", "fuel.renewable") if c in e.values]
    if out["energy.total"].reported:
        names = {"self": ("self-generated renewable electricity", "自发可再生电力"),
                 "renewable_purchased": ("renewable electricity of retired instruments", "合同工具可再生电力"),
                 "fuel.renewable": ("biogenic fuels", "生物质燃料")}
        out["energy.renewable"] = Fact(
            "energy.renewable", sum(e.values[c] for c in ren_parts), "MWh", REPORTED,
            breakdown=tuple(Part(names[c][0], e.values[c], names[c][1]) for c in ren_parts),
            lineage={"source": "activities", "quantity": "renewable", "carriers": ren_parts,
                     "batches": batches_of(ren_parts),
                     "rows": sum(e.rows.get(source_of(c), 0) for c in set(map(source_of, ren_parts))),
                     "boundary": st.boundary.value,
                     "note": "self-consumed PV + grid electricity covered by renewable instruments retired for the "
                             "site-year (the inventory's allocation) + biogenic fuels; the renewable part of the "
                             "grid mix itself is not counted"})
    else:
        out["energy.renewable"] = missing("energy.renewable", "MWh", out["energy.total"].reason,
                                          out["energy.total"].reason_zh, source="activities")
    out["energy.renewable_share"] = _derived("energy.renewable_share", out, ["energy.renewable", "energy.total"], "div")
    ren_elec = [c for c in ("self", "renewable_purchased") if c in e.values]
    if out["energy.electricity"].reported:
        out["_renewable_electricity"] = Fact("_renewable_electricity", sum(e.values[c] for c in ren_elec), "MWh",
                                             lineage={"source": "activities", "quantity": "renewable_electricity",
                                                      "carriers": ren_elec, "batches": batches_of(ren_elec)})
    out["energy.electricity.renewable_share"] = _derived("energy.electricity.renewable_share", out,
                                                         ["_renewable_electricity", "energy.electricity"], "div")
    out.pop("_renewable_electricity", None)
    out["ghg.scope2.contractual_share"] = _derived("ghg.scope2.contractual_share", out,
                                                   ["ghg.scope2.contractual_mwh", "energy.electricity.grid"], "div")
    # fossil and nuclear need the grid's mix, which no store holds
    for key, share_key, what in (("energy.fossil", "input.grid.fossil_share", "fossil"),
                                 ("energy.nuclear", "input.grid.nuclear_share", "nuclear")):
        share = inputs.get(share_key)
        if share is None:
            out[key] = missing(key, "MWh", f"needs the {what} share of the grid mix (a fraction, with its source): "
                                           f"add `{share_key}` to the disclosure inputs ({INPUTS_FILE})",
                               f"需要电网的{what}电源占比:请在披露输入文件中添加 {share_key}({INPUTS_FILE})",
                               source="derived", needs=[share_key])
            continue
        if not out["energy.total"].reported or "grid" not in e.values:
            out[key] = missing(key, "MWh", out["energy.total"].reason or e.missing.get("grid", ""),
                               out["energy.total"].reason_zh or "缺少电力活动数据", source="derived")
            continue
        try:
            frac = float(share.value) * (scale(share.unit, "dimensionless") if share.unit not in ("fraction", "")
                                         else 1.0)
        except (TypeError, ValueError, UnitError):
            out[key] = missing(key, "MWh", f"{share_key} is not a fraction ({share.value!r} {share.unit})",
                               f"{share_key} 不是比例", source="derived")
            continue
        uncovered = e.values["grid"] - e.values.get("renewable_purchased", 0.0)
        value = uncovered * frac
        formula = f"(grid - renewable instruments) x {share_key}"
        if what == "fossil":
            value += e.values.get("fuel.fossil", 0.0) + e.values.get("heat", 0.0)
            formula = "fossil fuels + purchased heat + " + formula
        out[key] = Fact(key, value, "MWh", REPORTED, lineage={
            "source": "derived", "quantity": what, "formula": formula, "share": frac,
            "input": {"key": share_key, "source": share.source, "entered_by": share.entered_by},
            "batches": batches_of(["grid", "fuel", "heat", "renewable_purchased"]), "boundary": st.boundary.value,
            "note": "purchased heat is counted as fossil: the heat rows state no source mix" if what == "fossil"
            else ""})
    # comprehensive energy (GB/T 2589): fuels and heat by energy content, electricity at its equivalent value
    if out["energy.total"].reported:
        g = gbt2589()
        k_mj = kgce_per_mj()
        k_el = electricity_kgce_per_kwh()
        # only the carriers with stored rows: an absent one is named in energy.total's lineage, never a zero part
        parts = {"electricity": (e.values.get("grid", 0.0) + e.values.get("self", 0.0)) * 1000.0 * k_el / 1000.0}
        if "fuel" in e.values:
            parts = {"fuels": e.values["fuel"] * MJ_PER_MWH * k_mj / 1000.0, **parts}
        if "heat" in e.values:
            parts["heat"] = e.values["heat"] * MJ_PER_MWH * k_mj / 1000.0
        out["energy.total_tce"] = Fact("energy.total_tce", sum(parts.values()), "tce", REPORTED,
                                       breakdown=tuple(Part(k, v) for k, v in parts.items()),
                                       lineage={**out["energy.total"].lineage, "quantity": "total_tce",
                                                "gbt2589": {k: {"value": g[k]["value"], "unit": g[k]["unit"],
                                                                "status": g[k]["status"]}
                                                            for k in ("kgce_heat", "electricity_equivalent")},
                                                "formula": "fuel MJ (NCV) / 29.3076 MJ/kgce + electricity kWh x "
                                                           f"{k_el} kgce/kWh + heat MJ / 29.3076 MJ/kgce; / 1000"})
    else:
        out["energy.total_tce"] = missing("energy.total_tce", "tce", out["energy.total"].reason,
                                          out["energy.total"].reason_zh, source="activities")
    return out


# --- denominators --------------------------------------------------------------------------------------------------

def _output_rows(st: _Stored, metric: str) -> list[dict]:
    rows = [o for o in st.outputs if o["metric"] == metric]
    org_rows = [o for o in rows if o["site"] == ""]
    return org_rows or [o for o in rows if o["site"] in st.included]


def _units_fact(st: _Stored) -> Fact:
    rows = _output_rows(st, "units")
    if rows:
        return Fact("production.units", float(sum(o["value"] for o in rows)), "unit", REPORTED,
                    lineage={"source": "outputs", "metric": "units", "outputs": rows,
                             "note": "stored output figures (`zerocarbon targets output`), preferred to the "
                                     "packaging rows"})
    pack = st.frames.get("packaging")
    if pack is None or not len(pack):
        return missing("production.units", "unit",
                       f"no units produced stored for {st.year}: store them (`zerocarbon targets output set --org "
                       f"{st.org_code} --year {st.year} --metric units --value N --unit unit`) or import packaging "
                       f"rows ({_cmd_import('packaging', st.org_code, st.year)})",
                       f"{st.year}年没有产量数据:请保存产量(targets output)或导入包装数据", source="outputs")
    units, n, ids = packaging_units(pack, st.included)
    return Fact("production.units", units, "unit", REPORTED,
                lineage={"source": "activities", "quantity": "units", "kinds": ["packaging"],
                         "batches": st.batch_lineage(ids), "rows": n,
                         "note": "units produced stated by the packaging rows (once per product, site and period)"})


def packaging_units(pack: pd.DataFrame, included: Mapping[str, float]) -> tuple[float, int, set]:
    """Units produced stated by packaging rows of the included sites (components of one product, site and period
    state them once), the rows used and their batches."""
    mine = pack[pack["site"].astype(str).isin(list(included))]
    once = mine.drop_duplicates(["site", "product", "period_start", "period_end"])
    w = _weights(once, included)
    return float((once["units"].astype(float).to_numpy() * w).sum()), len(mine), _batch_ids(mine)


def _currency(unit: str) -> tuple[str, float] | None:
    """(currency code, factor to it) of a revenue unit: CNY (元, 万元) or another currency of the registry."""
    try:
        dim = dimension_of(unit)
    except (UnitError, ValueError):
        return None
    code = {"[currency_cny]": "CNY", "[currency_usd]": "USD", "[currency_hkd]": "HKD", "[currency_eur]": "EUR",
            "[currency_gbp]": "GBP"}.get(str(dim))
    return (code, scale(unit, code)) if code else None


def _revenue_fact(st: _Stored, inputs: Mapping[str, DisclosureInput]) -> Fact:
    rows = _output_rows(st, "revenue")
    why_unit = ("revenue is stored in '{unit}', which is not a currency of the unit registry (CNY, 万元, HKD, USD, "
                "EUR, GBP); store it in one")
    if rows:
        units = {o["unit"] for o in rows}
        cur = [_currency(u) for u in units]
        if any(c is None for c in cur) or len({c[0] for c in cur}) > 1:
            return missing("finance.revenue", "CNY", why_unit.format(unit=", ".join(sorted(units))),
                           "营业收入的单位不是可识别的货币", source="outputs", outputs=rows)
        code = cur[0][0]
        value = sum(o["value"] * _currency(o["unit"])[1] for o in rows)
        return Fact("finance.revenue", float(value), code, REPORTED,
                    lineage={"source": "outputs", "metric": "revenue", "outputs": rows, "currency": code,
                             "note": "" if code == "CNY" else f"revenue in {code}: intensities are per {code}"})
    inp = inputs.get("input.finance.revenue")
    if inp is not None:
        cur = _currency(inp.unit)
        if cur is None:
            return missing("finance.revenue", "CNY", why_unit.format(unit=inp.unit), "营业收入的单位不是可识别的货币",
                           source="inputs")
        return Fact("finance.revenue", float(inp.value) * cur[1], cur[0], REPORTED,
                    lineage={"source": "inputs", "input": {"key": inp.key, "value": inp.value, "unit": inp.unit,
                                                           "source": inp.source, "entered_by": inp.entered_by},
                             "currency": cur[0],
                             "note": "" if cur[0] == "CNY" else f"revenue in {cur[0]}: intensities are per {cur[0]}"})
    return missing("finance.revenue", "CNY",
                   f"no revenue stored for {st.year}: store it (`zerocarbon targets output set --org {st.org_code} "
                   f"--year {st.year} --metric revenue --value N --unit CNY`) or add `input.finance.revenue` to the "
                   f"disclosure inputs ({INPUTS_FILE})",
                   f"{st.year}年没有营业收入:请保存(targets output)或在披露输入中添加 input.finance.revenue",
                   source="outputs")


def _intensity_facts(out: dict[str, Fact]) -> dict[str, Fact]:
    res: dict[str, Fact] = {}
    rev = out["finance.revenue"]
    currency = rev.unit if rev.reported else "CNY"
    for name in ("location", "market"):
        res[f"ghg.intensity.scope12_{name}_per_unit"] = _derived(
            f"ghg.intensity.scope12_{name}_per_unit", out, [f"ghg.scope12_{name}", "production.units"], "div")
        for what in ("scope12", "total"):
            key = f"ghg.intensity.{what}_{name}_per_revenue"
            res[key] = _derived(key, out, [f"ghg.{what}_{name}", "finance.revenue"], "div", unit=f"tCO2e/{currency}")
    res["energy.intensity.per_unit"] = _derived("energy.intensity.per_unit", out, ["energy.total", "production.units"],
                                                "div")
    res["energy.intensity.per_revenue"] = _derived("energy.intensity.per_revenue", out,
                                                   ["energy.total", "finance.revenue"], "div", unit=f"MWh/{currency}")
    return res


# --- waste and packaging -------------------------------------------------------------------------------------------

def waste_quantities(waste: pd.DataFrame, included: Mapping[str, float]) -> dict:
    """Waste of the included sites [t]: total, recycled or composted, and hazardous / non-hazardous when every row
    says which (None otherwise)."""
    from zerocarbon.services.assessment_metrics import RECYCLING_TREATMENTS

    w = _weights(waste, included)
    t = waste["quantity"].to_numpy(dtype=float) * scales(waste["unit"], "t") * w
    recycled = waste["treatment"].astype(str).isin(RECYCLING_TREATMENTS).to_numpy()
    out = {"total": float(t.sum()), "recycled": float(t[recycled].sum()), "hazardous": None, "non_hazardous": None,
           "rows": int((w > 0).sum()), "batches": _batch_ids(waste, w > 0), "without_flag": set()}
    flag = waste["hazardous"] if "hazardous" in waste else pd.Series([None] * len(waste), index=waste.index)
    unknown = flag.isna().to_numpy() & (w > 0)
    if unknown.any():
        out["without_flag"] = _batch_ids(waste, unknown)
    else:
        haz = flag.map(lambda v: str(v).strip().lower() in ("true", "1", "yes")).to_numpy(dtype=bool)
        out["hazardous"] = float(t[haz].sum())
        out["non_hazardous"] = float(t[~haz].sum())
    return out


def _waste_facts(st: _Stored) -> dict[str, Fact]:
    out: dict[str, Fact] = {}
    waste = st.frames.get("waste")
    cmd = _cmd_import("waste", st.org_code, st.year)
    if waste is None or not len(waste):
        for key in ("waste.total", "waste.hazardous", "waste.non_hazardous", "waste.recycled_share"):
            out[key] = missing(key, K.FACTS[key].unit, f"no waste rows stored for {st.year}; import them ({cmd})",
                               f"{st.year}年没有废弃物数据;请导入", source="activities", kinds=["waste"])
        return out
    q = waste_quantities(waste, st.included)
    base = {"source": "activities", "kinds": ["waste"], "batches": st.batch_lineage(q["batches"]), "rows": q["rows"],
            "boundary": st.boundary.value}
    out["waste.total"] = Fact("waste.total", q["total"], "t", REPORTED, lineage={**base, "quantity": "waste.total"})
    for key, name in (("waste.hazardous", "hazardous"), ("waste.non_hazardous", "non_hazardous")):
        if q[name] is None:
            files = ", ".join(st.batches.get(b, {}).get("source", str(b)) for b in sorted(q["without_flag"]))
            out[key] = missing(key, "t", f"waste rows without the `hazardous` column (batches: {files}): add the "
                                         f"column (true/false) to the waste file and replace the batch "
                                         f"(`zerocarbon import replace BATCH FILE`)",
                               "废弃物数据缺少 hazardous(是否危废)列:请在文件中添加该列并替换批次",
                               source="activities", kinds=["waste"])
        else:
            out[key] = Fact(key, q[name], "t", REPORTED, lineage={**base, "quantity": key})
    if q["total"] > 0:
        out["waste.recycled_share"] = Fact("waste.recycled_share", q["recycled"] / q["total"], "fraction", REPORTED,
                                           lineage={**base, "quantity": "waste.recycled_share",
                                                    "formula": "waste treated by recycling or composting [t] / "
                                                               "waste [t]"})
    else:
        out["waste.recycled_share"] = missing("waste.recycled_share", "fraction", "the waste rows hold no mass",
                                              "废弃物数据的质量为零", source="activities")
    return out


def packaging_tonnes(pack: pd.DataFrame, included: Mapping[str, float], year: int) -> float:
    from zerocarbon.core.supply.packaging import packaging_report

    mine = pack[pack["site"].astype(str).isin(list(included))]
    total = 0.0
    for site, rows in mine.groupby(mine["site"].astype(str)):
        total += packaging_report(rows, year, source=f"packaging rows {site}").total_t * included[site]
    return total


def _packaging_facts(st: _Stored) -> dict[str, Fact]:
    pack = st.frames.get("packaging")
    if pack is None or not len(pack):
        return {"packaging.total": missing("packaging.total", "t", f"no packaging rows stored for {st.year}; import "
                                           f"them ({_cmd_import('packaging', st.org_code, st.year)})",
                                           f"{st.year}年没有包装材料数据;请导入", source="activities",
                                           kinds=["packaging"])}
    try:
        t = packaging_tonnes(pack, st.included, st.year)
    except ZerocarbonError as exc:
        return {"packaging.total": missing("packaging.total", "t", str(exc).splitlines()[0], "包装数据无法使用",
                                           source="activities")}
    mine = pack[pack["site"].astype(str).isin(list(st.included))]
    return {"packaging.total": Fact("packaging.total", t, "t", REPORTED, lineage={
        "source": "activities", "quantity": "packaging.total", "kinds": ["packaging"],
        "batches": st.batch_lineage(_batch_ids(mine)), "rows": len(mine), "boundary": st.boundary.value,
        "formula": "sum(units produced x mass per unit) (HKEX KPI A2.5)"})}


# --- meta texts ----------------------------------------------------------------------------------------------------

def _text(key: str, en: str, zh: str, **lineage) -> Fact:
    return Fact(key, en, TEXT, REPORTED, lineage={**lineage, "value_zh": zh})


def _meta_facts(st: _Stored) -> dict[str, Fact]:
    out: dict[str, Fact] = {}
    inv = st.inventory
    included = st.included
    out["meta.period"] = _text("meta.period", f"{st.year}-01-01 to {st.year}-12-31 (calendar year)",
                               f"{st.year}年1月1日至{st.year}年12月31日(日历年)", source="inventory")
    ent_en, ent_zh = [], []
    for s in st.org.sites:
        inc = s.inclusion(st.boundary)
        yn = lambda b: "yes" if b else "no"  # noqa: E731
        shown = "included" if inc == 1 else (f"{inc:.0%} included" if inc > 0 else "outside the boundary")
        group = "consolidated group" if s.financial_control else "other investee"
        ent_en.append(f"{s.code} {s.name}: equity {s.equity_share:.0%}, operational control "
                      f"{yn(s.operational_control)}, financial control {yn(s.financial_control)}; {shown}"
                      + (f" ({group})" if inc > 0 else ""))
        ent_zh.append(f"{s.code} {s.name}:股权{s.equity_share:.0%},运营控制{'是' if s.operational_control else '否'},"
                      f"财务控制{'是' if s.financial_control else '否'};"
                      + ("纳入边界" if inc > 0 else "不在边界内"))
    out["meta.entities"] = _text("meta.entities", "; ".join(ent_en), ";".join(ent_zh), source="organisation",
                                 sites=sorted(included))
    approach = {"operational_control": ("operational control", "运营控制法"),
                "financial_control": ("financial control", "财务控制法"),
                "equity_share": ("equity share", "股权比例法")}[st.boundary.value]
    out["meta.consolidation_approach"] = _text(
        "meta.consolidation_approach",
        f"{approach[0]} approach (GHG Protocol Corporate Standard ch. 3); the consolidated accounting group is the "
        "sites under the organisation's financial control, other investees are the other sites of the boundary",
        f"{approach[1]}(温室气体核算体系企业标准第3章);合并报表范围为财务控制下的厂区,其他被投资方为边界内的其他厂区",
        source="organisation", boundary=st.boundary.value)
    methods = sorted({s.methodology.value for s in st.org.sites if s.code in included})
    std_en = ("GHG Protocol Corporate Accounting and Reporting Standard (revised 2004), Scope 2 Guidance (2015), "
              "Corporate Value Chain (Scope 3) Standard (2011)")
    std_zh = "温室气体核算体系企业核算与报告标准(2004修订版)、范围二指南(2015)、企业价值链(范围三)标准(2011)"
    if "gbt32150" in methods:
        std_en += "; GB/T 32150-2015 for the sites reporting under it"
        std_zh += ";部分厂区采用GB/T 32150-2015"
    std_en += "; energy: fuels at net calorific value, GB/T 2589-2020 for coal equivalents"
    std_zh += ";能源:燃料按低位发热量,标准煤按GB/T 2589-2020"
    out["meta.standard"] = _text("meta.standard", std_en, std_zh, source="catalogue", methodologies=methods)
    if inv is None:
        for key in ("meta.gwp_set", "meta.factor_sources", "meta.gases", "meta.exclusions", "meta.scope3_categories"):
            out[key] = _no_inventory(st, key)
        return out
    gwp = {"AR4": "IPCC Fourth Assessment Report (AR4), 100-year", "AR5": "IPCC Fifth Assessment Report (AR5), 100-year",
           "AR6": "IPCC Sixth Assessment Report (AR6), 100-year"}.get(inv.gwp_set, f"{inv.gwp_set}, 100-year")
    out["meta.gwp_set"] = _text("meta.gwp_set", gwp, f"IPCC {inv.gwp_set} 100年全球变暖潜势", source="inventory",
                                inventory=st.inventory_lineage())
    out["meta.factor_sources"] = _factor_sources(st)
    gases = sorted({str(g) for g in _select(st.ledger, {"scope": ["1", "2"]})["gas"]})
    groups = sorted({gas_group(g) for g in gases if g != "CO2e"}, key=lambda g: (GAS_GROUPS + (g,)).index(g))
    extra = " (grid factors given as CO2e)" if "CO2e" in gases else ""
    out["meta.gases"] = _text("meta.gases", f"CO2, CH4, N2O, HFCs, PFCs, SF6 and NF3 are accounted for; present in "
                                            f"the {st.year} Scope 1 and 2 ledger: {', '.join(groups) or 'none'}{extra}",
                              f"核算CO2、CH4、N2O、HFCs、PFCs、SF6、NF3;{st.year}年出现:{'、'.join(groups) or '无'}",
                              source="ledger", gases=gases, inventory=st.inventory_lineage())
    ex = list(inv.exclusions or [])
    out["meta.exclusions"] = _text("meta.exclusions", "; ".join(ex) if ex else
                                   "none: the inventory computation excluded no source",
                                   ";".join(ex) if ex else "无:清单计算未排除任何排放源", source="inventory",
                                   exclusions=ex, inventory=st.inventory_lineage())
    from zerocarbon.services.scope3 import CATEGORIES, NOT_EVALUATED, number

    present = set(_select(st.ledger, {"scope": "3"})["category"].astype(str))
    ev = [f"{number(c)}" for c in CATEGORIES if c in present]
    nodata = [f"{number(c)}" for c in CATEGORIES if c not in present]
    notev = [f"{number(c)}" for c in NOT_EVALUATED]
    out["meta.scope3_categories"] = _text(
        "meta.scope3_categories",
        f"evaluated with data: categories {', '.join(ev) or 'none'}; computed by the platform but no data stored: "
        f"{', '.join(nodata) or 'none'}; not evaluated: {', '.join(notev)}",
        f"已评估:类别{'、'.join(ev) or '无'};无数据:{'、'.join(nodata) or '无'};未评估:{'、'.join(notev)}",
        source="ledger", evaluated=ev, no_data=nodata, not_evaluated={number(c): r for c, r in NOT_EVALUATED.items()},
        inventory=st.inventory_lineage())
    return out


def _factor_sources(st: _Stored) -> Fact:
    ids: set[str] = set()
    other: set[str] = set()
    for text in st.factor_ids:
        for part in str(text or "").split(";"):
            part = part.strip()
            if not part:
                continue
            if part.startswith(("param:", "supplier:", "instrument:")) or "@" not in part:
                other.add(part.split(":", 1)[0] if ":" in part else part)
                continue
            ids.add(part)
    sources: dict[tuple[str, str], list[str]] = {}
    unknown = []
    for fid in sorted(ids):
        bare = fid.split("@", 1)[0]
        f = None
        if st.fs is not None:
            try:
                f = st.fs.get(bare)
            except ZerocarbonError:
                f = None
        if f is None:
            unknown.append(fid)
            continue
        sources.setdefault((f.issuer, f"{f.document} ({f.edition})" if f.edition else f.document), []).append(fid)
    lines = [f"{issuer}: {doc}" for (issuer, doc) in sorted(sources)]
    kinds = {"param": "refrigerant and process-gas parameters from the organisation's own records",
             "supplier": "supplier-specific factors (heat suppliers, product footprints)",
             "instrument": "contractual instruments' emission factors (market-based Scope 2)"}
    lines += [kinds.get(k, k) for k in sorted(other)]
    if unknown:
        lines.append(f"factor ids not in factor set {st.inventory.factor_set}: {', '.join(unknown[:10])}")
    en = f"factor set {st.inventory.factor_set} (fingerprint {st.inventory.factor_set_fingerprint[:12]}): " + \
        "; ".join(lines)
    return _text("meta.factor_sources", en, f"排放因子集 {st.inventory.factor_set}:" + ";".join(lines),
                 source="ledger", factors=sorted(ids), inventory=st.inventory_lineage())


# --- targets, base year, credits, claims ---------------------------------------------------------------------------

def _targets_facts(sessions, st: _Stored) -> dict[str, Fact]:
    from zerocarbon.services import targets

    out: dict[str, Fact] = {}
    cmd = f"`zerocarbon targets set --org {st.org_code} ...`"
    try:
        items = targets.progress(sessions, st.org_code)
    except ZerocarbonError as exc:
        items, problem = [], str(exc).splitlines()[0]
    else:
        problem = ""
    if not items:
        why = problem or f"no target stored for {st.org_code}; set one ({cmd})"
        out["targets.summary"] = missing("targets.summary", TEXT, why, "尚未设定目标", source="targets")
    else:
        en, zh = [], []
        for it in items:
            t = it["target"]
            what = {"s1s2": "Scope 1+2", "s3": "Scope 3", "s1s2s3": "Scope 1+2+3"}.get(t["scopes"], t["scopes"])
            if t["kind"] == "renewable_electricity":
                goal = f"renewable electricity {t['re_share']:.0%} by {t['target_year']}"
                goal_zh = f"{t['target_year']}年可再生电力占比{t['re_share']:.0%}"
            else:
                goal = (f"{t['kind']} {what} ({t['scope2_method']}-based) -{(t['reduction'] or 0):.0%} from "
                        f"{t['base_year']} ({t['base_value']:,.1f} {t['unit']}) by {t['target_year']}")
                goal_zh = f"{what}{t['kind']}目标:以{t['base_year']}年为基准,{t['target_year']}年降低{(t['reduction'] or 0):.0%}"
            point = next((p for p in it["points"] if p["year"] == st.year), None)
            if point is not None:
                state = "on track" if point.get("on_track") else "off track"
                share = t["kind"] == "renewable_electricity"  # a share, shown in per cent
                actual, expected = ((f"{point['actual']:.1%}", f"{point['expected']:.1%}") if share else
                                    (f"{point['actual']:,.1f}", f"{point['expected']:,.1f}"))
                goal += f"; {st.year}: {actual} vs {expected} expected ({state})"
                goal_zh += f";{st.year}年:实际{actual},预期{expected}({'符合轨迹' if point.get('on_track') else '偏离轨迹'})"
            en.append(f"{t['id']}: {goal}")
            zh.append(f"{t['id']}:{goal_zh}")
        out["targets.summary"] = _text("targets.summary", "; ".join(en), ";".join(zh), source="targets",
                                       targets=[it["target"]["id"] for it in items])
    scope12 = [it for it in items if it["target"]["scopes"] == "s1s2" and it["target"]["boundary"] == "org"
               and it["target"]["kind"] in ("absolute", "net_zero")]
    chosen = next(((it, p) for it in scope12 for p in it["points"] if p["year"] == st.year), None)
    if chosen is None:
        why = (f"no organisation-wide absolute Scope 1+2 target with an inventory of {st.year}; set one ({cmd})"
               if not scope12 else f"no inventory of {st.year} for the Scope 1+2 target "
                                   f"{scope12[0]['target']['id']}: {_compute_cmd(st.org_code, st.year)}")
        out["targets.scope12_progress"] = missing("targets.scope12_progress", "fraction", why,
                                                  "没有可计算进展的范围一和二绝对目标", source="targets")
    else:
        it, p = chosen
        t = it["target"]
        base = float(t["base_value"])
        if not base > 0:
            out["targets.scope12_progress"] = missing("targets.scope12_progress", "fraction",
                                                      f"target {t['id']} has no positive base value",
                                                      f"目标{t['id']}的基准值不为正数", source="targets")
        else:
            out["targets.scope12_progress"] = Fact(
                "targets.scope12_progress", (base - float(p["actual"])) / base, "fraction", REPORTED,
                lineage={"source": "targets", "target": t["id"], "base_year": t["base_year"], "base_value": base,
                         "actual": p["actual"], "scope2_method": t["scope2_method"],
                         # what `recompute` sums again for this year's figure: Scope 1 and 2 of the ledger
                         "actual_filter": {"scope": ["1", "2"], "method": list(
                             LOCATION_METHODS if t["scope2_method"] == "location" else MARKET_METHODS)},
                         "inventory": st.inventory_lineage(),
                         "recalculation": it.get("recalculation"),
                         "formula": "(base-year Scope 1+2 - this year's) / base-year Scope 1+2"})
    # base year: that of the Scope 1+2 targets when they agree (services.assessment's rule)
    years = {it["target"]["base_year"] for it in items if it["target"]["scopes"] != "s3"
             and it["target"]["boundary"] in ("", "org")}
    if len(years) != 1:
        why = ("no organisation-wide Scope 1+2 target names a base year" if not years else
               f"the Scope 1+2 targets name several base years ({', '.join(map(str, sorted(years)))})")
        for key in ("ghg.base_year", "ghg.base_year.scope12_location", "ghg.base_year.scope12_market",
                    "ghg.base_year.recalculations"):
            out[key] = missing(key, K.FACTS[key].unit, f"{why}; set the target ({cmd})", "没有唯一的基准年",
                               source="targets")
        return out
    base_year = years.pop()
    out["ghg.base_year"] = Fact("ghg.base_year", int(base_year), "year", REPORTED,
                                lineage={"source": "targets", "targets": sorted(it["target"]["id"] for it in items)})
    out.update(_base_year_facts(sessions, st, base_year))
    return out


def _base_year_facts(sessions, st: _Stored, base_year: int) -> dict[str, Fact]:
    from zerocarbon.core.ghg.base_year import BaseYearChange, ChangeKind, assess_recalculation
    from zerocarbon.store import repos
    from zerocarbon.store.targets import inventory_years

    with sessions.begin() as s:
        years = inventory_years(s, st.org_id, st.boundary.value)
        changes = [(c.kind, c.delta_t, c.reason, c.recorded_at) for c in repos.base_year_changes(s, st.org_id,
                                                                                                 base_year)]
    out: dict[str, Fact] = {}
    totals = years.get(base_year)
    if totals is None:
        why = (f"no stored inventory of the base year {base_year}: {_compute_cmd(st.org_code, base_year)}",
               f"基准年{base_year}没有已保存的清单")
        for key in ("ghg.base_year.scope12_location", "ghg.base_year.scope12_market"):
            out[key] = missing(key, "tCO2e", *why, source="ledger")
    decision = assess_recalculation(totals["total_market_t"] if totals else 0.0,
                                    [BaseYearChange(ChangeKind(k), d, r) for k, d, r, _ in changes])
    delta = sum(d for _, d, _, _ in changes) if decision.recalculate else 0.0
    if totals is not None:
        for name in ("location", "market"):
            key = f"ghg.base_year.scope12_{name}"
            flt = {"scope": ["1", "2"], "method": ["location" if name == "location" else "market", "both"]}
            out[key] = Fact(key, float(totals[f"total_{name}_t"]) + delta, "tCO2e", REPORTED, lineage={
                "source": "ledger", "filter": flt, "year": base_year, "adjustment_t": delta,
                "inventory": {"year": base_year, "boundary": st.boundary.value},
                "formula": "base-year Scope 1+2 of the stored inventory + recorded base-year changes when the "
                           "recalculation policy (GHG Protocol ch. 5, 5 % threshold) applies them",
                "changes": [{"kind": k, "delta_t": d, "reason": r} for k, d, r, _ in changes]})
    if changes:
        en = "; ".join(f"{k} {d:+,.1f} tCO2e: {r}" for k, d, r, _ in changes)
        verdict = (f"recalculated ({decision.relative_change:.1%} > {decision.threshold:.0%})" if decision.recalculate
                   else f"kept ({decision.relative_change:.1%} within the {decision.threshold:.0%} threshold)")
        out["ghg.base_year.recalculations"] = _text("ghg.base_year.recalculations", f"{base_year} {verdict}: {en}",
                                                    f"{base_year}年基准:{'已重新计算' if decision.recalculate else '未重新计算'};{en}",
                                                    source="ledger", base_year=base_year)
    else:
        out["ghg.base_year.recalculations"] = _text(
            "ghg.base_year.recalculations", f"no base-year change recorded for {base_year}: not recalculated",
            f"基准年{base_year}无变更记录,未重新计算", source="ledger", base_year=base_year)
    return out


def _credit_facts(sessions, st: _Stored) -> dict[str, Fact]:
    out: dict[str, Fact] = {}
    retired = [c for c in st.credits if c["retirement_date"] is not None and c["retired_for_period"] == st.year]
    if not st.credits:
        out["ghg.credits_retired"] = missing(
            "ghg.credits_retired", "tCO2e", f"the carbon-credit register of {st.org_code} is empty; import the "
            f"registry statements (`zerocarbon claim credits import --org {st.org_code} FILE`)",
            "碳信用登记簿为空;请导入注销证明", source="claims")
    else:
        out["ghg.credits_retired"] = Fact(
            "ghg.credits_retired", float(sum(c["quantity_t"] for c in retired)), "tCO2e", REPORTED,
            breakdown=tuple(Part(c["credit_id"], float(c["quantity_t"])) for c in retired),
            lineage={"source": "claims", "credits": [{k: (str(v) if k == "retirement_date" else v)
                                                      for k, v in c.items()} for c in retired],
                     "rule": f"credits of the register retired for period {st.year}; never netted from the gross "
                             "figures"})
    from zerocarbon.services import claims

    try:
        rows = claims.list_claims(sessions, st.org_code, st.year)
    except ZerocarbonError as exc:
        rows, problem = [], str(exc).splitlines()[0]
    else:
        problem = ""
    if not rows:
        out["claims.summary"] = missing("claims.summary", TEXT, problem or f"no carbon-neutrality claim for {st.year}"
                                        f" (`zerocarbon claim new --org {st.org_code} --year {st.year} PLAN`)",
                                        f"{st.year}年没有碳中和声明", source="claims")
    else:
        en = []
        for c in rows:
            subject = c["subject"] + (f" {c['site']}" if c["site"] else "")
            en.append(f"claim {c['id']} ({subject}, {c['status']}): residual {c['residual_t']:,.1f} tCO2e, credits "
                      f"{(c['credits_t'] or 0):,.1f} t ({', '.join(c['credit_ids']) or 'none'})"
                      + ("" if c["passed"] else "; not every test passed"))
        out["claims.summary"] = _text("claims.summary", "; ".join(en), ";".join(en), source="claims",
                                      claims=[c["id"] for c in rows])
    return out


# --- inputs --------------------------------------------------------------------------------------------------------

def _input_fact(key: str, inputs: Mapping[str, DisclosureInput]) -> Fact:
    inp = inputs.get(key)
    unit = TEXT if key.startswith("text.") else ""
    if inp is None:
        return missing(key, unit, f"not entered: add `{key}` to the disclosure inputs file and import it "
                                  f"(`{INPUTS_FILE} --org ORG --year YEAR`)",
                       f"未填写:请在披露输入文件中添加 {key} 并导入({INPUTS_FILE})", source="inputs")
    return Fact(key, inp.value, inp.unit, REPORTED, lineage={
        "source": "inputs", "input": {"key": key, "source": inp.source, "entered_by": inp.entered_by},
        **({"value_zh": inp.value_zh} if inp.value_zh else {})})


# --- the interface ---------------------------------------------------------------------------------------------------

_ACTIVITY_PREFIXES = ("energy.", "waste.", "packaging.", "production.", "ghg.intensity.", "ghg.scope2.contractual")


def build_facts(sessions: sessionmaker, org: str, year: int, *, inputs: Mapping[str, DisclosureInput] | None = None,
                keys: Iterable[str] | None = None, boundary: Boundary = Boundary.OPERATIONAL_CONTROL
                ) -> dict[str, Fact]:
    """Every fact of ``keys.FACTS`` (or only ``keys``) of ``org`` and ``year``, plus the input keys asked for (all of
    ``inputs`` when ``keys`` is None). Read-only. A fact that cannot be known is missing with its reason; an
    organisation that does not exist is a NotFoundError."""
    inputs = dict(inputs or {})
    wanted = list(K.FACTS) + sorted(k for k in inputs if K.is_input_key(k)) if keys is None else list(dict.fromkeys(keys))
    # an input per unit produced that was not entered is derived from the entered total and the units produced
    per_unit = [k for k in wanted if K.is_input_key(k) and k.endswith("_per_unit") and k not in inputs
                and k[:-len("_per_unit")] in inputs]
    facts_wanted = [k for k in wanted if k in K.FACTS]
    if per_unit and "production.units" not in facts_wanted:
        facts_wanted.append("production.units")
    need_activities = any(k.startswith(_ACTIVITY_PREFIXES) for k in facts_wanted)
    st = _load(sessions, org, year, boundary, ACTIVITY_KINDS if need_activities else ())
    out: dict[str, Fact] = {}
    groups = {k.split(".")[0] for k in facts_wanted}
    if st.inventory is None:
        for k in facts_wanted:
            if k.startswith("ghg.") and not k.startswith(("ghg.base_year", "ghg.credits_retired", "ghg.scope2.contr")):
                out[k] = _no_inventory(st, k)
    elif "ghg" in groups or need_activities:
        out.update(_ghg_facts(st))
    if groups & {"meta"}:
        out.update(_meta_facts(st))
    if need_activities:
        out.update(_energy_facts(st, inputs))
        out.update(_waste_facts(st))
        out.update(_packaging_facts(st))
        out["production.units"] = _units_fact(st)
        out["finance.revenue"] = _revenue_fact(st, inputs)
        for name in ("location", "market"):
            for what in ("scope12", "total"):
                out.setdefault(f"ghg.{what}_{name}", _no_inventory(st, f"ghg.{what}_{name}"))
        out.update(_intensity_facts(out))
        for kind, q in (("hazardous", "waste.hazardous"), ("non_hazardous", "waste.non_hazardous"),
                        ("packaging", "packaging.total")):
            key = "packaging.per_unit" if kind == "packaging" else f"waste.{kind}_per_unit"
            out[key] = _derived(key, out, [q, "production.units"], "div", scale_by=1000.0)
    if "targets" in groups or any(k.startswith("ghg.base_year") for k in facts_wanted):
        out.update(_targets_facts(sessions, st))
    if "claims" in groups or "ghg.credits_retired" in facts_wanted:
        out.update(_credit_facts(sessions, st))
    for k in per_unit:
        total = k[:-len("_per_unit")]
        out[total] = _input_fact(total, inputs)
        got = _derived(k, out, [total, "production.units"], "div", unit=f"{out[total].unit}/unit",
                       note="derived: the entered total over the units produced (no per-unit figure entered)")
        # the unit it is computed in (the entered total's), for a check that has only the report line
        out[k] = Fact(got.key, got.value, got.unit, got.status, got.reason, got.reason_zh, got.breakdown,
                      {**got.lineage, "unit": got.unit})
    result: dict[str, Fact] = {}
    for k in wanted:
        if k in per_unit:
            result[k] = out[k]
        elif K.is_input_key(k):
            result[k] = _input_fact(k, inputs)
        elif k in out:
            result[k] = out[k]
        elif k in K.FACTS:
            result[k] = missing(k, K.FACTS[k].unit, f"{k} is not computed", f"{k} 未计算", source="derived")
    return result


# --- recompute -----------------------------------------------------------------------------------------------------

def _inventory_id(s, org_id: int, year: int, boundary: str) -> int | None:
    from zerocarbon.store.tables import InventoryRow

    return s.scalar(select(InventoryRow.id).where(InventoryRow.organisation_id == org_id, InventoryRow.year == year,
                                                  InventoryRow.boundary == boundary))


def _ledger_sum(s, inventory_id: int, flt: Mapping) -> float:
    """The stored emission rows of ``flt`` summed by the database."""
    from zerocarbon.store.tables import EmissionLineRow as L
    from zerocarbon.store.tables import EmissionRow as E

    what = func.sum(E.gas_kg) / 1000.0 if flt.get("measure") == "gas_t" else func.sum(E.co2e_t)
    q = (select(what).join(L, L.id == E.line_id)
         .where(E.inventory_id == inventory_id, L.inventory_id == inventory_id, L.memo == flt.get("memo", "")))
    for col in ("scope", "method", "site", "category", "gas"):
        want = flt.get(col)
        if want is None:
            continue
        want = [want] if isinstance(want, str) else list(want)
        q = q.where(getattr(L, col).in_(want))
    return float(s.scalar(q) or 0.0)


def _batch_frames(s, batch_ids: Iterable[int]) -> dict[str, pd.DataFrame]:
    """The rows of the batches as imported, one frame per kind (read straight from the activities table)."""
    from zerocarbon.store.tables import ActivityRow, ImportBatchRow

    ids = sorted({int(b) for b in batch_ids})
    if not ids:
        return {}
    kinds = dict(s.execute(select(ImportBatchRow.id, ImportBatchRow.kind).where(ImportBatchRow.id.in_(ids))).all())
    rows: dict[str, list[dict]] = {}
    for bid, aid, site, start, end, payload in s.execute(
            select(ActivityRow.batch_id, ActivityRow.activity_id, ActivityRow.site, ActivityRow.period_start,
                   ActivityRow.period_end, ActivityRow.payload).where(ActivityRow.batch_id.in_(ids))):
        d = dict(payload if isinstance(payload, dict) else json.loads(payload or "{}"))
        d.update(batch_id=bid, activity_id=aid)
        d.setdefault("site", site)
        rows.setdefault(kinds[bid], []).append(d)
    out = {}
    for kind, rs in rows.items():
        df = pd.DataFrame(rs)
        for c in df.columns:
            if c.startswith(("period_", "vintage_")):
                df[c] = pd.to_datetime(df[c])
        out[kind] = df
    return out


def _recompute_activity(sessions, org: str, year: int, fact: Fact) -> float | None:
    from zerocarbon.services import factor_sets
    from zerocarbon.store import repos

    lin = fact.lineage
    boundary = Boundary(lin.get("boundary", Boundary.OPERATIONAL_CONTROL.value))
    with sessions.begin() as s:
        org_id, organisation = repos.load_organisation(s, org)
        frames = _batch_frames(s, [int(b) for b in lin.get("batches", {})])
        inv = repos.get_inventory(s, org_id, year, boundary.value)
        fs_name = inv.factor_set if inv is not None else None
    included = {x.code: x.inclusion(boundary) for x in organisation.sites if x.inclusion(boundary) > 0}
    q = lin.get("quantity")
    if q in ("waste.total", "waste.hazardous", "waste.non_hazardous", "waste.recycled_share"):
        w = waste_quantities(frames["waste"], included)
        return {"waste.total": w["total"], "waste.hazardous": w["hazardous"], "waste.non_hazardous": w["non_hazardous"],
                "waste.recycled_share": w["recycled"] / w["total"] if w["total"] else None}[q]
    if q == "packaging.total":
        return packaging_tonnes(frames["packaging"], included, year)
    if q == "units":
        return packaging_units(frames["packaging"], included)[0]
    fs = factor_sets.resolve(sessions, fs_name, org) if fs_name and "fuel" in frames else None
    e = energy_quantities(frames, organisation, year, boundary, fs)
    if q == "total":
        return sum(e.values[c] for c in lin["carriers"])
    if q in ("electricity", "renewable", "renewable_electricity"):
        return sum(e.values[c] for c in lin["carriers"])
    if q == "total_tce":
        from zerocarbon.services.assessment_metrics import electricity_kgce_per_kwh, kgce_per_mj

        return ((e.values.get("fuel", 0.0) + e.values.get("heat", 0.0)) * MJ_PER_MWH * kgce_per_mj()
                + (e.values.get("grid", 0.0) + e.values.get("self", 0.0)) * 1000.0 * electricity_kgce_per_kwh()) / 1000
    return e.values.get(q)


def recompute(sessions: sessionmaker, org: str, year: int, fact: Fact) -> float | None:
    """The fact's number again, straight from what its lineage names, by queries of its own: ledger facts sum the
    stored emission rows of their filter in the database; activity facts read their batches' rows from the
    activities table; stored outputs and credits are read again; derived facts recompute their operands. None when
    the fact has no number (a text, a missing fact)."""
    if not fact.reported or isinstance(fact.value, (str, bool)) or fact.value is None:
        return None
    lin = fact.lineage
    src = lin.get("source")
    if src == "ledger" and "filter" in lin:
        from zerocarbon.store import repos

        inv = lin.get("inventory", {})
        with sessions.begin() as s:
            org_id = repos.organisation_key(s, org)
            inv_id = _inventory_id(s, org_id, int(inv.get("year", year)),
                                   inv.get("boundary", Boundary.OPERATIONAL_CONTROL.value))
            if inv_id is None:
                return None
            return _ledger_sum(s, inv_id, lin["filter"]) + float(lin.get("adjustment_t", 0.0))
    if src == "activities":
        return _recompute_activity(sessions, org, year, fact)
    if src == "outputs":
        from zerocarbon.store import repos
        from zerocarbon.store.targets import OutputRow

        with sessions.begin() as s:
            org_id = repos.organisation_key(s, org)
            rows = s.execute(select(OutputRow.site, OutputRow.value, OutputRow.unit).where(
                OutputRow.organisation_id == org_id, OutputRow.year == year,
                OutputRow.metric == lin["metric"])).all()
        named = {(o["site"], o["unit"]) for o in lin["outputs"]}
        total = 0.0
        for site, value, unit in rows:
            if (site, unit) in named:
                total += value * (_currency(unit)[1] if lin["metric"] == "revenue" else 1.0)
        return total
    if src == "claims":
        from zerocarbon.store import repos
        from zerocarbon.store.credits import CreditRow

        with sessions.begin() as s:
            org_id = repos.organisation_key(s, org)
            return float(s.scalar(select(func.coalesce(func.sum(CreditRow.quantity_t), 0.0)).where(
                CreditRow.organisation_id == org_id, CreditRow.retired_for_period == year,
                CreditRow.retirement_date.is_not(None))) or 0.0)
    if src == "derived" and "operands" in lin:
        values = []
        for key, op in lin["operands"].items():
            v = recompute(sessions, org, year, Fact(key, op["value"], op["unit"], REPORTED, lineage=op["lineage"]))
            if v is None:
                return None
            values.append(v)
        if lin["op"] == "sum":
            return sum(values) * lin.get("scale", 1.0)
        return values[0] / values[1] * lin.get("scale", 1.0) if values[1] else None
    if src == "derived" and "input" in lin:
        # fossil / nuclear: a share entered by a person times stored quantities, computed again from the rows
        return _recompute_mix(sessions, org, year, fact)
    if src == "targets" and "actual_filter" in lin:
        # progress = (base - this year's Scope 1+2) / base, this year's figure summed again from the ledger
        from zerocarbon.store import repos

        inv = lin.get("inventory", {})
        with sessions.begin() as s:
            inv_id = _inventory_id(s, repos.organisation_key(s, org), int(inv.get("year", year)),
                                   inv.get("boundary", Boundary.OPERATIONAL_CONTROL.value))
            if inv_id is None:
                return None
            actual = _ledger_sum(s, inv_id, lin["actual_filter"])
        base = float(lin["base_value"])
        return (base - actual) / base
    if src in ("inputs", "targets"):
        # An entered figure has nothing behind it to recompute; a target's progress is the targets service's.
        return float(fact.value) if isinstance(fact.value, (int, float)) and math.isfinite(fact.value) else None
    return None


def _recompute_mix(sessions, org: str, year: int, fact: Fact) -> float | None:
    lin = fact.lineage
    stub = Fact(fact.key, 0.0, "MWh", REPORTED, lineage={"source": "activities", "quantity": "grid",
                                                          "batches": lin["batches"]})
    from zerocarbon.services import factor_sets
    from zerocarbon.store import repos

    with sessions.begin() as s:
        org_id, organisation = repos.load_organisation(s, org)
        frames = _batch_frames(s, [int(b) for b in stub.lineage["batches"]])
        boundary = Boundary(lin.get("boundary", Boundary.OPERATIONAL_CONTROL.value))
        inv = repos.get_inventory(s, org_id, year, boundary.value)
    fs = factor_sets.resolve(sessions, inv.factor_set, org) if inv is not None and "fuel" in frames else None
    e = energy_quantities(frames, organisation, year, boundary, fs)
    value = (e.values.get("grid", 0.0) - e.values.get("renewable_purchased", 0.0)) * lin["share"]
    if lin["quantity"] == "fossil":
        value += e.values.get("fuel.fossil", 0.0) + e.values.get("heat", 0.0)
    return value


__all__ = ["build_facts", "recompute", "gas_group", "energy_quantities", "waste_quantities"]
