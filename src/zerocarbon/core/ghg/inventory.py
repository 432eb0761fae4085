"""Compute an inventory: activity frames in, an emission ledger with lineage out.

Every ledger row is one gas from one activity row under one method, and carries the activity id
(``file:row``), the factor ids and editions, the GWP set and value, the formula and the boundary
share applied, so any reported number can be traced back (``explain``).

Frames are validated by :mod:`zerocarbon.io.tables` before they get here (columns, units, signs).
Work is vectorised: factor routes and unit conversions are resolved once per distinct
(fuel, use, unit, basis) or (site, year), then applied to all rows with numpy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from zerocarbon.core.factors import FactorSet
from zerocarbon.core.ghg.combustion import fuel_route
from zerocarbon.core.ghg.electricity import Claim, allocate_instruments
from zerocarbon.core.ghg.fugitive import process_gas_kg, refrigerant_mass_balance_kg, refrigerant_screening_kg
from zerocarbon.core.ghg.gases import NON_KYOTO, canonical_gas, gwp_for
from zerocarbon.core.model import Boundary, Organisation
from zerocarbon.errors import InputError, Problem, ZerocarbonError
from zerocarbon.units import scale

LEDGER_COLUMNS = [
    "activity_id", "site", "scope", "category", "method", "gas", "gas_kg", "gwp_set", "gwp",
    "gwp_factor_id", "inclusion", "co2e_t", "factor_ids", "formula", "memo",
]
KIND_COLUMNS = {
    "fuel": ["activity_id", "site", "period_start", "period_end", "fuel", "use", "quantity", "unit", "basis",
             "biogenic"],
    "electricity": ["activity_id", "site", "meter", "period_start", "period_end", "quantity", "unit"],
    "heat": ["activity_id", "site", "period_start", "period_end", "quantity", "unit", "supplier_factor",
             "supplier_factor_unit", "factor_source"],
    "refrigerant": ["activity_id", "site", "period_start", "period_end", "gas", "method", "unit",
                    "inventory_start", "inventory_end", "purchased", "recovered_or_sold", "capacity_change",
                    "charge", "annual_leak_rate", "parameter_source"],
    "process_gas": ["activity_id", "site", "period_start", "period_end", "gas", "consumed", "unit", "heel",
                    "utilisation", "abatement_fraction", "destruction_efficiency", "byproduct_cf4_rate",
                    "byproduct_c2f6_rate", "parameter_source"],
    "generation": ["activity_id", "site", "period_start", "period_end", "technology", "generated", "exported",
                   "unit"],
    "instrument": ["activity_id", "instrument_id", "type", "registry", "market", "volume_kwh", "vintage_start",
                   "vintage_end", "serial_start", "serial_end", "retired_for_site", "retired_for_year",
                   "emission_factor_kg_per_kwh"],
}


def empty(kind: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in KIND_COLUMNS[kind]})


@dataclass
class ActivityData:
    """All activity rows of one organisation and year, one frame per kind (see ``KIND_COLUMNS``)."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def get(self, kind: str) -> pd.DataFrame:
        return self.frames.get(kind, empty(kind))


@dataclass
class InventoryResult:
    year: int
    factor_set: str
    factor_set_fingerprint: str
    gwp_set: str
    boundary: Boundary
    ledger: pd.DataFrame
    claims: dict[str, Claim]
    renewable: pd.DataFrame  # per site: grid_kwh, pv_self_kwh, covered_kwh, renewable_share
    warnings: list[str]
    exclusions: list[str]

    # -- views ------------------------------------------------------------------------------
    def _in_scope(self) -> pd.DataFrame:
        return self.ledger[self.ledger["memo"] == ""]

    def totals(self) -> dict[str, float]:
        led = self._in_scope()
        s1 = led.loc[led["scope"] == "1", "co2e_t"].sum()
        s2 = led[led["scope"] == "2"]
        s2l = s2.loc[s2["method"] == "location", "co2e_t"].sum()
        s2m = s2.loc[s2["method"] == "market", "co2e_t"].sum()
        memo = self.ledger.groupby("memo")["co2e_t"].sum()
        biogenic = self.ledger.loc[self.ledger["memo"] == "biogenic_co2", "gas_kg"].sum() / 1000.0
        return {
            "scope1_t": float(s1), "scope2_location_t": float(s2l), "scope2_market_t": float(s2m),
            "total_location_t": float(s1 + s2l), "total_market_t": float(s1 + s2m),
            "biogenic_co2_t": float(biogenic), "non_kyoto_memo_t": float(memo.get("non_kyoto", 0.0)),
            "renewable_share": float(self.renewable_share()),
        }

    def by(self, *keys: str, method: str = "location") -> pd.DataFrame:
        """CO2e [t] grouped by ledger columns, for one Scope 2 method (Scope 1 rows count in both)."""
        led = self._in_scope()
        led = led[led["method"].isin(["both", method])]
        return led.groupby(list(keys), observed=True)["co2e_t"].sum().reset_index()

    def renewable_share(self) -> float:
        r = self.renewable
        denom = r["grid_kwh"].sum() + r["pv_self_kwh"].sum()
        return float((r["covered_kwh"].sum() + r["pv_self_kwh"].sum()) / denom) if denom > 0 else 0.0

    def explain(self, site: str | None = None, scope: str | None = None, category: str | None = None,
                method: str = "location") -> pd.DataFrame:
        led = self.ledger[self.ledger["method"].isin(["both", method])]
        if site:
            led = led[led["site"] == site]
        if scope:
            led = led[led["scope"] == str(scope)]
        if category:
            led = led[led["category"] == category]
        return led


def _rows_problem(df: pd.DataFrame, mask: np.ndarray | pd.Series, column: str, reason: str) -> list[Problem]:
    out = []
    for aid in df.loc[mask, "activity_id"].head(20):
        source, _, row = str(aid).rpartition(":")
        out.append(Problem(source or str(aid), int(row) if row.isdigit() else None, column, reason))
    return out


def _frame(df: pd.DataFrame, gas: str, gas_kg: np.ndarray, scope: str, category: str, method: str,
           factor_ids, formula, memo="") -> pd.DataFrame:
    return pd.DataFrame({
        "activity_id": df["activity_id"].to_numpy(), "site": df["site"].to_numpy(), "scope": scope,
        "category": category, "method": method, "gas": gas, "gas_kg": gas_kg,
        "factor_ids": factor_ids, "formula": formula, "memo": memo,
    })


def _fuel_ledger(fs: FactorSet, df: pd.DataFrame, warnings: list[str], exclusions: list[str]) -> list[pd.DataFrame]:
    if df.empty:
        return []
    df = df.reset_index(drop=True)
    keys = ["fuel", "use", "unit", "basis"]
    df[keys] = df[keys].fillna("")
    codes = df.groupby(keys, sort=False).ngroup().to_numpy()
    uniq = df[keys].drop_duplicates().reset_index(drop=True)
    # ngroup with sort=False numbers groups in order of first appearance, as drop_duplicates does.
    problems: list[Problem] = []
    routes = []
    for i, k in uniq.iterrows():
        try:
            routes.append(fuel_route(fs, k["fuel"], k["use"], k["unit"], k["basis"]))
        except ZerocarbonError as exc:
            routes.append(None)
            mask = (codes == i)
            col = "basis" if "basis" in str(exc) else ("unit" if "unit" in str(exc) else "fuel")
            problems += _rows_problem(df, mask, col, str(exc))
    if problems:
        raise InputError(problems)
    out = []
    qty = df["quantity"].to_numpy(dtype=float)
    biogenic = df["biogenic"].fillna(False).astype(bool).to_numpy()
    category = np.where(df["use"].to_numpy() == "mobile", "mobile_combustion", "stationary_combustion")
    for gas in ("CO2", "CH4", "N2O"):
        k = np.full(len(uniq), np.nan)
        fids = np.empty(len(uniq), dtype=object)
        forms = np.empty(len(uniq), dtype=object)
        for i, r in enumerate(routes):
            for g in r.gases:
                if g.gas == gas:
                    k[i] = g.kg_per_activity_unit
                    fids[i] = ";".join(f"{f.factor_id}@{f.edition}" for f in g.factors)
                    forms[i] = g.formula
            if gas in r.omitted:
                k_ = uniq.iloc[i]
                exclusions.append(f"{gas} from {k_['use']} {k_['fuel']}: no sourced factor in set {fs.id}; "
                                  "not estimated")
        kk = k[codes]
        present = ~np.isnan(kk)
        if not present.any():
            continue
        sub = df[present]
        memo = np.where(biogenic[present] & (gas == "CO2"), "biogenic_co2", "")
        f = _frame(sub, gas, qty[present] * kk[present], "1", "", "both",
                   pd.Categorical(fids[codes[present]]), pd.Categorical(forms[codes[present]]), memo)
        f["category"] = pd.Categorical(category[present])
        f["fossil"] = ~biogenic[present]
        out.append(f)
    return out


def _electricity_ledger(fs: FactorSet, org: Organisation, df: pd.DataFrame, instruments: pd.DataFrame,
                        year: int, warnings: list[str]):
    if df.empty:
        return [], {}
    df = df.reset_index(drop=True)
    to_kwh = df["unit"].map(lambda u: scale(u, "kWh")).to_numpy(dtype=float)
    kwh = df["quantity"].to_numpy(dtype=float) * to_kwh
    sites = df["site"].to_numpy()
    loc_ef, loc_id, res_ef, res_id = {}, {}, {}, {}
    for code in pd.unique(sites):
        s = org.site(code)
        for series, ef, fid in (("location", loc_ef, loc_id), ("residual", res_ef, res_id)):
            sel = fs.grid_factor(series, year, s.province, s.grid_region)
            if sel.warning:
                warnings.append(f"site {code}: {sel.warning}")
            ef[code] = sel.factor.value * scale(sel.factor.unit.split("/")[0], "kg") / scale(
                sel.factor.unit.split("/")[1], "kWh")
            fid[code] = f"{sel.factor.factor_id}@{sel.factor.edition}"
    grid_by_site = pd.Series(kwh).groupby(sites).sum().to_dict()
    claims, w = allocate_instruments(grid_by_site, instruments, year,
                                     {c: org.site(c).country for c in grid_by_site})
    warnings += w
    s = pd.Series(sites)
    loc = _frame(df, "CO2", kwh * s.map(loc_ef).to_numpy(), "2", "purchased_electricity", "location",
                 pd.Categorical(s.map(loc_id)), "kWh x grid EF[kg/kWh]")
    frac = s.map({k: c.fraction for k, c in claims.items()}).to_numpy(dtype=float)
    inst_ef = s.map({k: c.weighted_ef_kg_per_kwh for k, c in claims.items()}).to_numpy(dtype=float)
    mkt_ids = s.map({k: res_id[k] + "".join(f";instrument:{i}" for i in c.instrument_ids)
                     for k, c in claims.items()})
    mkt_formula = s.map({k: f"kWh x [(1-f) x residual-mix proxy EF + f x instrument EF], f = {c.fraction:.6f} "
                            f"({c.covered_kwh:,.0f} of {c.grid_kwh:,.0f} kWh covered by instruments)"
                         for k, c in claims.items()})
    mkt = _frame(df, "CO2", kwh * ((1 - frac) * s.map(res_ef).to_numpy() + frac * inst_ef), "2",
                 "purchased_electricity", "market", pd.Categorical(mkt_ids), pd.Categorical(mkt_formula))
    for f in (loc, mkt):
        f["fossil"] = True
    return [loc, mkt], claims


def _heat_ledger(df: pd.DataFrame) -> list[pd.DataFrame]:
    if df.empty:
        return []
    df = df.reset_index(drop=True)
    k = [scale(u, fu.split("/")[1]) * scale(fu.split("/")[0], "kg")
         for u, fu in zip(df["unit"], df["supplier_factor_unit"])]
    kg = df["quantity"].to_numpy(dtype=float) * np.asarray(k) * df["supplier_factor"].to_numpy(dtype=float)
    ids = "supplier:" + df["factor_source"].astype(str)
    out = []
    for method in ("location", "market"):
        f = _frame(df, "CO2", kg, "2", "purchased_heat_steam", method, pd.Categorical(ids),
                   "GJ x supplier EF (no grid-average heat factor is shipped)")
        f["fossil"] = True
        out.append(f)
    return out


def _refrigerant_ledger(df: pd.DataFrame) -> list[pd.DataFrame]:
    if df.empty:
        return []
    df = df.reset_index(drop=True)
    to_kg = df["unit"].map(lambda u: scale(u, "kg")).to_numpy(dtype=float)
    kg = np.zeros(len(df))
    mb = (df["method"] == "mass_balance").to_numpy()
    sc = ~mb
    if mb.any():
        kg[mb] = refrigerant_mass_balance_kg(df[mb].fillna({"capacity_change": 0.0, "recovered_or_sold": 0.0}))
    if sc.any():
        kg[sc] = refrigerant_screening_kg(df[sc])
    kg *= to_kg
    gas = df["gas"].map(canonical_gas)
    memo = np.where(gas.isin(NON_KYOTO), "non_kyoto", "")
    f = _frame(df, "", kg, "1", "fugitive_refrigerants", "both",
               pd.Categorical("param:" + df["parameter_source"].fillna("").astype(str)),
               pd.Categorical(np.where(mb, "mass balance: (start-end)+purchased-recovered-capacity change",
                                       "screening: charge x annual leak rate x days/365")), memo)
    f["gas"] = gas.to_numpy()
    f["fossil"] = True
    return [f]


def _process_gas_ledger(df: pd.DataFrame) -> list[pd.DataFrame]:
    if df.empty:
        return []
    df = df.reset_index(drop=True)
    to_kg = df["unit"].map(lambda u: scale(u, "kg")).to_numpy(dtype=float)
    parts = process_gas_kg(df)
    src = pd.Categorical("param:" + df["parameter_source"].fillna("").astype(str))
    out = []
    for key, kg in parts.items():
        gas = df["gas"].map(canonical_gas).to_numpy() if key == "self" else key
        keep = kg > 0
        f = _frame(df[keep], "", kg[keep] * to_kg[keep], "1", "process_fgases", "both", src[keep],
                   "FC x (1-h) x (1-U) x (1-a x d)" if key == "self" else f"FC x (1-h) x B_{key} x (1-a x d)")
        f["gas"] = gas[keep] if key == "self" else key
        f["fossil"] = True
        out.append(f)
    return out


def _renewable(org: Organisation, elec: pd.DataFrame, gen: pd.DataFrame, claims: dict[str, Claim]) -> pd.DataFrame:
    sites = sorted(set(elec["site"]) | set(gen["site"])) if not (elec.empty and gen.empty) else []
    rows = []
    for s in sites:
        c = claims.get(s)
        g = gen[gen["site"] == s]
        pv_self = 0.0
        if not g.empty:
            to_kwh = g["unit"].map(lambda u: scale(u, "kWh")).to_numpy(dtype=float)
            pv_self = float(((g["generated"] - g["exported"].fillna(0.0)).to_numpy(dtype=float) * to_kwh).sum())
        grid = c.grid_kwh if c else 0.0
        covered = c.covered_kwh if c else 0.0
        denom = grid + pv_self
        rows.append({"site": s, "grid_kwh": grid, "pv_self_kwh": pv_self, "covered_kwh": covered,
                     "renewable_share": (covered + pv_self) / denom if denom > 0 else 0.0})
    return pd.DataFrame(rows, columns=["site", "grid_kwh", "pv_self_kwh", "covered_kwh", "renewable_share"])


def compute_inventory(org: Organisation, data: ActivityData, fs: FactorSet, year: int, gwp_set: str = "AR5",
                      boundary: Boundary = Boundary.OPERATIONAL_CONTROL) -> InventoryResult:
    """GHG Protocol Corporate Standard inventory of ``org`` for ``year`` under a pinned factor set."""
    warnings: list[str] = []
    exclusions: list[str] = []
    frames = _fuel_ledger(fs, data.get("fuel"), warnings, exclusions)
    elec_frames, claims = _electricity_ledger(fs, org, data.get("electricity"), data.get("instrument"), year,
                                              warnings)
    frames += elec_frames + _heat_ledger(data.get("heat")) + _refrigerant_ledger(data.get("refrigerant"))
    frames += _process_gas_ledger(data.get("process_gas"))
    ledger = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=LEDGER_COLUMNS + ["fossil"])
    # GWP: one lookup per distinct (gas, fossil).
    problems: list[Problem] = []
    gwp_val, gwp_id = {}, {}
    for gas, fossil in ledger[["gas", "fossil"]].drop_duplicates().itertuples(index=False):
        try:
            f = gwp_for(fs, gas, gwp_set, bool(fossil))
            gwp_val[(gas, fossil)], gwp_id[(gas, fossil)] = f.value, f"{f.factor_id}@{f.edition}"
        except ZerocarbonError as exc:
            problems += _rows_problem(ledger, (ledger["gas"] == gas).to_numpy(), "gas", str(exc))
    if problems:
        raise InputError(problems)
    keys = list(zip(ledger["gas"], ledger["fossil"]))
    ledger["gwp_set"] = gwp_set
    ledger["gwp"] = np.fromiter((gwp_val[k] for k in keys), float, len(keys)) if keys else []
    ledger["gwp_factor_id"] = pd.Categorical([gwp_id[k] for k in keys])
    inclusion = {s.code: s.inclusion(boundary) for s in org.sites}
    ledger["inclusion"] = ledger["site"].map(inclusion).astype(float)
    ledger["co2e_t"] = ledger["gas_kg"] * ledger["gwp"] * ledger["inclusion"] / 1000.0
    ledger = ledger[LEDGER_COLUMNS]
    renewable = _renewable(org, data.get("electricity"), data.get("generation"), claims)
    return InventoryResult(year, fs.id, fs.fingerprint, gwp_set, boundary, ledger, claims, renewable,
                           warnings, sorted(set(exclusions)))
