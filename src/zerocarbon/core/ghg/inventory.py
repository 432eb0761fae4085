"""Compute an inventory: activity frames in, an emission ledger with lineage out.

Every ledger row is one gas from one activity row under one method, and carries the activity id
(``file:row``), the factor ids and editions, the GWP set and value, the formula and the boundary
share applied, so any reported number can be traced back (``explain``).

Frames are validated by :mod:`zerocarbon.io.tables` before they get here (columns, units, signs).
Work is vectorised: factor routes and unit conversions are resolved once per distinct
(fuel, use, unit, basis) or (site, year), then applied to all rows with numpy.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from zerocarbon.core.factors import Economics, FactorSet, load_economics
from zerocarbon.core.ghg.combustion import fuel_route, is_mobile_use
from zerocarbon.core.ghg.electricity import Claim, allocate_instruments
from zerocarbon.core.ghg.fugitive import (negative_mass_balances, process_gas_kg, refrigerant_mass_balance_kg,
                                          refrigerant_screening_kg)
from zerocarbon.core.ghg.gases import NON_KYOTO, canonical_gas, gwp_for
from zerocarbon.core.ghg.scope3 import CATEGORIES as SCOPE3_CATEGORIES
from zerocarbon.core.ghg.scope3 import Context, PurchaseRows, scope3_parts
from zerocarbon.core.model import Boundary, Organisation
from zerocarbon.errors import InputError, Problem, ZerocarbonError
from zerocarbon.units import scale, scales

LEDGER_COLUMNS = [
    "activity_id", "site", "scope", "category", "method", "gas", "gas_kg", "gwp_set", "gwp",
    "gwp_factor_id", "inclusion", "co2e_t", "factor_ids", "formula", "memo", "calc_method", "dq",
]
# Scope 3 rows: scope "3", method SCOPE3_METHOD (in neither Scope 2 view, so no Scope 1+2 total, breakdown or report
# line includes them), calc_method the Scope 3 method, dq the data-quality score (1 very good .. 5 very poor).
SCOPE3_METHOD = "scope3"
# Supplier product footprints (PACT), loaded by the caller as ActivityData.frames["pcf"].
PCF_COLUMNS = ["pf_id", "company_name", "product_id", "declared_unit", "pcf_kg_per_unit", "primary_data_share", "dqr",
               "period_start", "period_end"]
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
                   "emission_factor_kg_per_kwh", "technology"],
    "purchase": ["activity_id", "site", "period_start", "period_end", "category", "item", "supplier", "spend", "currency",
                 "price_year", "eeio_code", "exchange_rate", "quantity", "unit", "material", "supplier_co2e",
                 "supplier_co2e_unit",
                 "supplier_scope12_co2e", "pcf_id", "evidence"],
    "shipment": ["activity_id", "site", "period_start", "period_end", "category", "shipment", "leg", "mode", "vehicle",
                 "mass", "mass_unit", "distance", "distance_unit", "origin_lat", "origin_lon", "destination_lat",
                 "destination_lon", "fuel", "fuel_quantity", "fuel_unit", "carrier_co2e", "carrier_co2e_unit",
                 "carrier"],
    "waste": ["activity_id", "site", "period_start", "period_end", "material", "treatment", "quantity", "unit"],
    "travel": ["activity_id", "site", "period_start", "period_end", "mode", "distance", "distance_unit", "travellers",
               "hotel", "nights", "spend", "currency", "price_year", "eeio_code", "exchange_rate"],
    "commute": ["activity_id", "site", "period_start", "period_end", "mode", "one_way_distance", "distance_unit",
                "employees", "days"],
    "product_use": ["activity_id", "site", "period_start", "period_end", "product", "units_sold", "market",
                    "lifetime_years", "energy_per_year", "energy_unit", "energy_source"],
    "product_eol": ["activity_id", "site", "period_start", "period_end", "product", "units_sold", "material",
                    "mass_per_unit", "unit", "treatment"],
    "packaging": ["activity_id", "site", "period_start", "period_end", "product", "units", "material", "mass_per_unit",
                  "unit", "recycled_share", "plastic"],
    "takeback": ["activity_id", "site", "period_start", "period_end", "product", "material", "collected", "recycled",
                 "unit", "treatment", "placed_on_market"],
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
    renewable: pd.DataFrame  # per site: grid_kwh, pv_self_kwh, covered_kwh, renewable_covered_kwh, renewable_share
    warnings: list[str]
    exclusions: list[str]

    # -- views ------------------------------------------------------------------------------
    def _in_scope(self) -> pd.DataFrame:
        return self.ledger[self.ledger["memo"] == ""]

    def _is(self, col: str, value: str) -> np.ndarray:
        """Boolean mask ``ledger[col] == value`` computed on categorical codes (no string compares)."""
        c = self.ledger[col]
        if isinstance(c.dtype, pd.CategoricalDtype):
            cats = list(c.cat.categories)
            return c.cat.codes.to_numpy() == cats.index(value) if value in cats else np.zeros(len(c), bool)
        return (c == value).to_numpy()

    def totals(self) -> dict[str, float]:
        co2e = self.ledger["co2e_t"].to_numpy()
        in_scope = self._is("memo", "")
        s1 = co2e[in_scope & self._is("scope", "1")].sum()
        scope2 = in_scope & self._is("scope", "2")
        s2l = co2e[scope2 & self._is("method", "location")].sum()
        s2m = co2e[scope2 & self._is("method", "market")].sum()
        return {
            "scope1_t": float(s1), "scope2_location_t": float(s2l), "scope2_market_t": float(s2m),
            "total_location_t": float(s1 + s2l), "total_market_t": float(s1 + s2m),
            "biogenic_co2_t": float(self.ledger["gas_kg"].to_numpy()[self._is("memo", "biogenic_co2")].sum() / 1000),
            "non_kyoto_memo_t": float(co2e[self._is("memo", "non_kyoto")].sum()),
            "renewable_share": float(self.renewable_share()),
            # Scope 3 beside Scope 1+2, never inside total_location_t / total_market_t.
            "scope3_t": float(co2e[in_scope & self._is("scope", "3")].sum()),
        }

    def scope3_by_category(self) -> pd.DataFrame:
        """Every Scope 3 category of the inventory (GHG Protocol Scope 3 Standard) with tCO2e, the emission-weighted
        data-quality score (1 very good .. 5 very poor), the method mix (share of tCO2e per method) and ``status``:
        ``reported`` or ``no data``; a category without rows says so, never a silent zero (its co2e_t is NaN)."""
        led = self.ledger[self._is("scope", "3") & self._is("memo", "")]
        rows = []
        for cat, label in SCOPE3_CATEGORIES.items():
            part = led[(led["category"] == cat).to_numpy()]
            if part.empty:
                rows.append({"category": cat, "label": label, "status": "no data", "co2e_t": np.nan, "dq": np.nan,
                             "methods": {}, "rows": 0})
                continue
            t = part["co2e_t"].to_numpy(dtype=float)
            dq = part["dq"].to_numpy(dtype=float)
            total = float(t.sum())
            weights = np.abs(t)
            known = ~np.isnan(dq)
            w = weights[known]
            dq_w = (float((dq[known] * w).sum() / w.sum()) if w.sum() > 0
                    else float(dq[known].mean()) if known.any() else np.nan)
            by_method = part.groupby("calc_method", observed=True)["co2e_t"].sum()
            methods = {str(m): (float(v / total) if total else 0.0) for m, v in by_method.items()}
            rows.append({"category": cat, "label": label, "status": "reported", "co2e_t": total, "dq": dq_w,
                         "methods": methods, "rows": int(part["activity_id"].nunique())})
        return pd.DataFrame(rows, columns=["category", "label", "status", "co2e_t", "dq", "methods", "rows"])

    def by(self, *keys: str, method: str = "location") -> pd.DataFrame:  # Scope 1 and 2 only
        """CO2e [t] grouped by ledger columns, for one Scope 2 method (Scope 1 rows count in both)."""
        led = self._in_scope()
        led = led[led["method"].isin(["both", method])]
        return led.groupby(list(keys), observed=True)["co2e_t"].sum().reset_index()

    def renewable_share(self) -> float:
        r = self.renewable
        denom = r["grid_kwh"].sum() + r["pv_self_kwh"].sum()
        return float((r["renewable_covered_kwh"].sum() + r["pv_self_kwh"].sum()) / denom) if denom > 0 else 0.0

    def explain(self, site: str | None = None, scope: str | None = None, category: str | None = None,
                method: str = "location") -> pd.DataFrame:
        """Ledger rows of one Scope 2 method (Scope 1 and Scope 3 rows count in both)."""
        led = self.ledger[self.ledger["method"].isin(["both", method, SCOPE3_METHOD])]
        if site:
            led = led[led["site"] == site]
        if scope:
            led = led[led["scope"] == str(scope)]
        if category:
            led = led[led["category"] == category]
        return led


def _rows_problem(df: pd.DataFrame, mask: np.ndarray | pd.Series, column: str, reason: str,
                  shown: int = 20) -> list[Problem]:
    """The first ``shown`` rows of ``mask``, each named by its activity id; then how many more there are."""
    ids = df.loc[np.asarray(mask), "activity_id"]
    out = []
    for aid in ids.head(shown):
        source, _, row = str(aid).rpartition(":")
        out.append(Problem(source or str(aid), int(row) if row.isdigit() else None, column, reason))
    if len(ids) > shown:
        out.append(Problem(out[-1].source, None, column, f"and {len(ids) - shown} more rows like these"))
    return out


def _codes(series: pd.Series) -> tuple[np.ndarray, list]:
    """Integer codes and distinct values of a column (fast on Arrow-backed strings)."""
    codes, uniques = pd.factorize(series, sort=False)
    return codes.astype(np.int64), list(uniques)


class _Ledger:
    """Accumulates ledger parts as numpy arrays; text columns as categorical codes.

    Building per-row Python strings for 1M+ rows dominated the run time; codes into small category
    lists keep every per-row operation in numpy.
    """

    TEXT = ("site", "scope", "category", "method", "gas", "factor_ids", "formula", "memo", "calc_method")

    def __init__(self) -> None:
        self.cats: dict[str, dict[str, int]] = {c: {} for c in self.TEXT}
        self.codes: dict[str, list[np.ndarray]] = {c: [] for c in self.TEXT}
        self.activity_id: list[pd.Series] = []
        self.gas_kg: list[np.ndarray] = []
        self.fossil: list[np.ndarray] = []
        self.dq: list[np.ndarray] = []

    def _put(self, col: str, value, n: int) -> None:
        cats = self.cats[col]
        if isinstance(value, tuple):  # (codes, categories)
            codes, categories = value
            remap = np.array([cats.setdefault(str(c), len(cats)) for c in categories] or [0], dtype=np.int64)
            self.codes[col].append(remap[codes])
        else:
            self.codes[col].append(np.full(n, cats.setdefault(str(value), len(cats)), dtype=np.int64))

    def add(self, activity_id: pd.Series, gas_kg: np.ndarray, fossil, dq=np.nan, **text) -> None:
        n = len(gas_kg)
        if n == 0:
            return
        text.setdefault("calc_method", "")
        self.activity_id.append(activity_id.reset_index(drop=True))
        self.gas_kg.append(np.asarray(gas_kg, dtype=float))
        self.fossil.append(np.broadcast_to(np.asarray(fossil, dtype=bool), (n,)))
        self.dq.append(np.broadcast_to(np.asarray(dq, dtype=float), (n,)))
        for col in self.TEXT:
            self._put(col, text[col], n)

    def frame(self) -> pd.DataFrame:
        if not self.gas_kg:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ("activity_id", *self.TEXT)}
                                | {"gas_kg": pd.Series(dtype=float), "fossil": pd.Series(dtype=bool),
                                   "dq": pd.Series(dtype=float)})
        out = {"activity_id": pd.concat(self.activity_id, ignore_index=True), "gas_kg": np.concatenate(self.gas_kg),
               "fossil": np.concatenate(self.fossil), "dq": np.concatenate(self.dq)}
        for col in self.TEXT:
            out[col] = pd.Categorical.from_codes(np.concatenate(self.codes[col]), categories=list(self.cats[col]))
        return pd.DataFrame(out)


def _ids(values: pd.Series) -> pd.Series:
    # Kept in the frame's own (Arrow) string storage: converting 1M ids to Python objects and back
    # cost more than the arithmetic.
    return values.reset_index(drop=True)


FUEL_KEYS = ["fuel", "use", "unit", "basis"]
#: a fuel route table: one row per distinct (fuel, use, unit, basis) of the activity rows and gas with a factor
FUEL_ROUTE_COLUMNS = ["key", *FUEL_KEYS, "gas", "kg_per_unit", "factor_ids", "formula", "category"]


def fuel_keys(df: pd.DataFrame) -> pd.DataFrame:
    """The route key columns of fuel rows as text (a missing basis is "")."""
    return pd.DataFrame({k: df[k].fillna("").astype(str) for k in FUEL_KEYS})


def fuel_routes(fs: FactorSet, df: pd.DataFrame, exclusions: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Resolve every distinct (fuel, use, unit, basis) of the fuel rows ``df`` once: (the key number of each row,
    the route table, ``FUEL_ROUTE_COLUMNS``). Rows whose key has no route are refused, named by their ids; a gas
    the set has no factor for is recorded in ``exclusions``."""
    keys = fuel_keys(df)
    codes = keys.groupby(FUEL_KEYS, sort=False).ngroup().to_numpy()
    # ngroup with sort=False numbers groups in order of first appearance, as drop_duplicates does.
    uniq = keys.drop_duplicates().reset_index(drop=True)
    problems: list[Problem] = []
    rows = []
    for i, k in uniq.iterrows():
        try:
            route = fuel_route(fs, k["fuel"], k["use"], k["unit"], k["basis"])
        except ZerocarbonError as exc:
            problems += _rows_problem(df, codes == i, exc.column or "fuel", str(exc))
            continue
        category = "mobile_combustion" if is_mobile_use(k["use"]) else "stationary_combustion"
        for gas in ("CO2", "CH4", "N2O"):
            for g in route.gases:
                if g.gas == gas:
                    rows.append((i, *k, gas, g.kg_per_activity_unit,
                                 ";".join(f"{f.factor_id}@{f.edition}" for f in g.factors), g.formula, category))
            if gas in route.omitted:
                exclusions.append(f"{gas} from {k['use']} {k['fuel']}: no sourced factor in set {fs.id}; "
                                  "not estimated")
    if problems:
        raise InputError(problems)
    return codes, pd.DataFrame(rows, columns=FUEL_ROUTE_COLUMNS)


def _fuel_ledger(fs: FactorSet, df: pd.DataFrame, led: _Ledger, exclusions: list[str]) -> None:
    if df.empty:
        return
    df = df.reset_index(drop=True)
    codes, routes = fuel_routes(fs, df, exclusions)
    nkeys = int(codes.max()) + 1
    qty = df["quantity"].to_numpy(dtype=float)
    biogenic = df["biogenic"].fillna(False).astype(bool).to_numpy()
    site_codes, site_cats = _codes(df["site"])
    aid = _ids(df["activity_id"])
    mobile = np.zeros(nkeys, dtype=np.int64)
    mobile[routes["key"].to_numpy()] = (routes["category"] == "mobile_combustion").to_numpy()
    cat_codes = mobile[codes]
    for gas in ("CO2", "CH4", "N2O"):
        mine = routes[routes["gas"] == gas]
        k = np.full(nkeys, np.nan)
        fids = [""] * nkeys
        forms = [""] * nkeys
        for i, kg, fid, form in zip(mine["key"], mine["kg_per_unit"], mine["factor_ids"], mine["formula"]):
            k[i], fids[i], forms[i] = kg, fid, form
        kk = k[codes]
        present = ~np.isnan(kk)
        if not present.any():
            continue
        c = codes[present]
        memo = (biogenic[present] & (gas == "CO2")).astype(np.int64)
        led.add(aid[present], qty[present] * kk[present], ~biogenic[present],
                site=(site_codes[present], site_cats), scope="1",
                category=(cat_codes[present], ["stationary_combustion", "mobile_combustion"]), method="both",
                gas=gas, factor_ids=(c, fids), formula=(c, forms), memo=(memo, ["", "biogenic_co2"]))


#: a grid site table: per site the location and market factors, and the market cover of its instruments
GRID_SITE_COLUMNS = ["site", "loc_ef", "loc_id", "loc_gas", "mkt_ef", "mkt_ids", "mkt_gas", "mkt_formula"]


def grid_sites(fs: FactorSet, org: Organisation, grid_kwh_by_site: dict[str, float], instruments: pd.DataFrame,
               year: int, warnings: list[str]) -> tuple[pd.DataFrame, dict[str, Claim]]:
    """Per site with grid electricity (``grid_kwh_by_site``, kWh): the location-based factor, the market-based
    factor (residual-mix proxy for the uncovered share, instruments for the covered share) in kg per kWh, their
    factor ids, gases and formulas (``GRID_SITE_COLUMNS``); and the instrument claims."""
    sites = list(grid_kwh_by_site)
    rows = {c: [] for c in GRID_SITE_COLUMNS}
    picked = {}
    for code in sites:
        # Grid selection: the factor set picks by the site's country/province/grid region and refuses
        # a site it has no factor for. A CO2e factor (DESNZ total, Ember life-cycle) enters the ledger
        # as gas CO2e, whose GWP is 1 by definition.
        for series in ("location", "residual"):
            sel = fs.grid_factor(series, year, org.site(code))
            if sel.warning:
                warnings.append(f"site {code}: {sel.warning}")
            num, den = sel.factor.unit.split("/")
            gas = sel.factor.gas
            ef = sel.factor.value * scale(num, "kgCO2e" if gas == "CO2e" else "kg") / scale(den, "kWh")
            picked[code, series] = (ef, f"{sel.factor.factor_id}@{sel.factor.edition}", gas)
    claims, w = allocate_instruments(grid_kwh_by_site, instruments, year, {c: org.site(c).country for c in sites})
    warnings += w
    for s in sites:
        (loc_ef, loc_id, loc_gas), (res_ef, res_id, res_gas), c = picked[s, "location"], picked[s, "residual"], claims[s]
        rows["site"].append(s)
        rows["loc_ef"].append(loc_ef)
        rows["loc_id"].append(loc_id)
        rows["loc_gas"].append(loc_gas)
        rows["mkt_ef"].append((1 - c.fraction) * res_ef + c.fraction * c.weighted_ef_kg_per_kwh)
        rows["mkt_ids"].append(res_id + "".join(f";instrument:{x}" for x in c.instrument_ids))
        rows["mkt_gas"].append(res_gas)
        rows["mkt_formula"].append(
            f"kWh x [(1-f) x residual-mix proxy EF + f x instrument EF], f = {c.fraction:.6f} "
            f"({c.covered_kwh:,.0f} of {c.grid_kwh:,.0f} kWh covered by instruments)")
    return pd.DataFrame(rows, columns=GRID_SITE_COLUMNS), claims


def _electricity_ledger(fs: FactorSet, org: Organisation, df: pd.DataFrame, instruments: pd.DataFrame,
                        year: int, led: _Ledger, warnings: list[str]) -> dict[str, Claim]:
    if df.empty:
        return {}
    df = df.reset_index(drop=True)
    kwh = df["quantity"].to_numpy(dtype=float) * scales(df["unit"], "kWh")
    sc, sites = _codes(df["site"])
    grid, claims = grid_sites(fs, org, dict(zip(sites, np.bincount(sc, weights=kwh, minlength=len(sites)))),
                              instruments, year, warnings)
    aid = _ids(df["activity_id"])
    common = dict(site=(sc, sites), scope="2", category="purchased_electricity", memo="")
    g = {c: grid[c].tolist() for c in GRID_SITE_COLUMNS}
    led.add(aid, kwh * np.asarray(g["loc_ef"])[sc], True, method="location", factor_ids=(sc, g["loc_id"]),
            gas=(sc, g["loc_gas"]), formula="kWh x grid EF[kg/kWh]", **common)
    led.add(aid, kwh * np.asarray(g["mkt_ef"])[sc], True, method="market", factor_ids=(sc, g["mkt_ids"]),
            formula=(sc, g["mkt_formula"]), gas=(sc, g["mkt_gas"]), **common)
    return claims


def _heat_ledger(df: pd.DataFrame, led: _Ledger) -> None:
    if df.empty:
        return
    df = df.reset_index(drop=True)
    k = [scale(u, fu.split("/")[1]) * scale(fu.split("/")[0], "kg")
         for u, fu in zip(df["unit"], df["supplier_factor_unit"])]
    kg = df["quantity"].to_numpy(dtype=float) * np.asarray(k) * df["supplier_factor"].to_numpy(dtype=float)
    src_codes, srcs = _codes("supplier:" + df["factor_source"].astype(str))
    for method in ("location", "market"):
        led.add(_ids(df["activity_id"]), kg, True, site=_codes(df["site"]), scope="2",
                category="purchased_heat_steam", method=method, gas="CO2", factor_ids=(src_codes, srcs),
                formula="GJ x supplier EF (no grid-average heat factor is shipped)", memo="")


def _refrigerant_ledger(df: pd.DataFrame, led: _Ledger) -> None:
    if df.empty:
        return
    df = df.reset_index(drop=True)
    to_kg = scales(df["unit"], "kg")
    kg = np.zeros(len(df))
    mb = (df["method"] == "mass_balance").to_numpy()
    sc = ~mb
    if mb.any():
        negative = negative_mass_balances(df[mb])
        if negative:
            raise InputError([p for i, reason in negative
                              for p in _rows_problem(df[mb].iloc[[i]], [True], "inventory_end", reason)])
        kg[mb] = refrigerant_mass_balance_kg(df[mb].fillna({"capacity_change": 0.0, "recovered_or_sold": 0.0}))
    if sc.any():
        kg[sc] = refrigerant_screening_kg(df[sc])
    gas = df["gas"].map(canonical_gas)
    led.add(_ids(df["activity_id"]), kg * to_kg, True, site=_codes(df["site"]), scope="1",
            category="fugitive_refrigerants", method="both", gas=_codes(gas),
            factor_ids=_codes("param:" + df["parameter_source"].fillna("").astype(str)),
            formula=(sc.astype(np.int64), ["mass balance: (start-end)+purchased-recovered-capacity change",
                                           "screening: charge x annual leak rate x days/365"]),
            memo=(gas.isin(NON_KYOTO).to_numpy().astype(np.int64), ["", "non_kyoto"]))


def _process_gas_ledger(df: pd.DataFrame, led: _Ledger) -> None:
    if df.empty:
        return
    df = df.reset_index(drop=True)
    to_kg = scales(df["unit"], "kg")
    src = _codes("param:" + df["parameter_source"].fillna("").astype(str))
    site = _codes(df["site"])
    fed_gas = _codes(df["gas"].map(canonical_gas))
    for key, kg in process_gas_kg(df).items():
        keep = kg > 0
        pick = lambda t: (t[0][keep], t[1])  # noqa: E731
        led.add(_ids(df["activity_id"])[keep], kg[keep] * to_kg[keep], True, site=pick(site), scope="1",
                category="process_fgases", method="both", gas=pick(fed_gas) if key == "self" else key,
                factor_ids=pick(src), memo="",
                formula="FC x (1-h) x (1-U) x (1-a x d)" if key == "self" else f"FC x (1-h) x B_{key} x (1-a x d)")


def _renewable(org: Organisation, gen: pd.DataFrame, claims: dict[str, Claim]) -> pd.DataFrame:
    sites = sorted(set(claims) | set(pd.unique(gen["site"])))
    rows = []
    for s in sites:
        c = claims.get(s)
        g = gen[gen["site"] == s]
        pv_self = 0.0
        if not g.empty:
            to_kwh = scales(g["unit"], "kWh")
            pv_self = float(((g["generated"] - g["exported"].fillna(0.0)).to_numpy(dtype=float) * to_kwh).sum())
        grid = c.grid_kwh if c else 0.0
        covered = c.covered_kwh if c else 0.0
        renewable = c.renewable_kwh if c else 0.0
        denom = grid + pv_self
        rows.append({"site": s, "grid_kwh": grid, "pv_self_kwh": pv_self, "covered_kwh": covered,
                     "renewable_covered_kwh": renewable,
                     "renewable_share": (renewable + pv_self) / denom if denom > 0 else 0.0})
    return pd.DataFrame(rows, columns=["site", "grid_kwh", "pv_self_kwh", "covered_kwh", "renewable_covered_kwh",
                                       "renewable_share"])


def _scope3_ledger(org: Organisation, data: ActivityData, fs: FactorSet, year: int, economics: Economics | None,
                   led: _Ledger, warnings: list[str], exclusions: list[str],
                   purchase_rows: PurchaseRows | None = None) -> None:
    """Scope 3 rows (categories 1-7, 9, 11, 12; see core.ghg.scope3) beside Scope 1 and 2, never inside them."""
    ctx = Context(org, fs, year, economics if economics is not None else load_economics(), data.frames.get("pcf"))
    def codes(v):  # a Part column: already (codes, values), or one value per row
        return v if isinstance(v, tuple) else _codes(pd.Series(v, dtype=object))

    for part in scope3_parts(ctx, data.frames, purchase_rows):
        led.add(part.activity_id, part.kg, True, dq=part.dq, site=codes(part.site), scope="3",
                category=codes(part.category), method=SCOPE3_METHOD, gas=codes(part.gas),
                factor_ids=codes(part.factor_ids), formula=codes(part.formula), memo="",
                calc_method=codes(part.calc_method))
    warnings += ctx.warnings
    exclusions += ctx.exclusions


#: computes the ledger rows of fuel combustion (Scope 1) and grid electricity (Scope 2, both methods) somewhere else:
#: ``(org, data, fs, year, gwp_set, boundary, warnings, exclusions) -> (rows with LEDGER_COLUMNS, claims)``
Scope12Rows = Callable[[Organisation, ActivityData, FactorSet, int, str, Boundary, list, list],
                       tuple[pd.DataFrame, dict[str, Claim]]]


def _category(s: pd.Series) -> pd.Categorical:
    """``s`` as categories of plain text."""
    if not isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(str).astype("category")
    return pd.Categorical.from_codes(s.cat.codes, categories=pd.Index(s.cat.categories.astype(str), dtype=object))


def _joined(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Ledger ``a`` then ``b``; text columns stay categories (their codes are what storing the ledger reads)."""
    out = {}
    for c in LEDGER_COLUMNS:
        x, y = a[c], b[c]
        if isinstance(x.dtype, pd.CategoricalDtype) and x.dtype == y.dtype:  # the stored rows' activity ids
            out[c] = pd.Categorical.from_codes(np.concatenate([x.cat.codes, y.cat.codes]), dtype=x.dtype)
        elif c in _Ledger.TEXT or c in ("activity_id", "gwp_set", "gwp_factor_id"):
            out[c] = union_categoricals([_category(x), _category(y)])
        else:
            out[c] = np.concatenate([x.to_numpy(dtype=float), y.to_numpy(dtype=float)])
    return pd.DataFrame(out)


def gwp_values(fs: FactorSet, gwp_set: str, pairs) -> tuple[dict[tuple[str, bool], tuple[float, str]],
                                                                dict[tuple[str, bool], str]]:
    """The GWP of each (gas, fossil) of ``pairs`` in ``gwp_set``: (value, factor id) where the set has one, and
    the reason for each pair it has none."""
    found, failed = {}, {}
    for gas, fossil in pairs:
        try:
            f = gwp_for(fs, gas, gwp_set, bool(fossil))
            found[gas, bool(fossil)] = (f.value, f"{f.factor_id}@{f.edition}")
        except ZerocarbonError as exc:
            failed[gas, bool(fossil)] = str(exc)
    return found, failed


def compute_inventory(org: Organisation, data: ActivityData, fs: FactorSet, year: int, gwp_set: str = "AR5",
                      boundary: Boundary = Boundary.OPERATIONAL_CONTROL,
                      economics: Economics | None = None, scope12_rows: Scope12Rows | None = None,
                      purchase_rows: PurchaseRows | None = None) -> InventoryResult:
    """GHG Protocol Corporate Standard inventory of ``org`` for ``year`` under a pinned factor set, with Scope 3
    (Corporate Value Chain Standard) beside it. ``economics``: exchange rates and price indices for the spend-based
    method (default: the shipped reference). ``scope12_rows``: where the combustion and grid-electricity rows are
    computed (default: here, with numpy; ``services.inventory_engine`` runs them on DuckDB or Spark);
    ``purchase_rows`` likewise for Scope 3 over purchase rows."""
    warnings: list[str] = []
    exclusions: list[str] = []
    led = _Ledger()
    outside = None
    if scope12_rows is None:
        _fuel_ledger(fs, data.get("fuel"), led, exclusions)
        claims = _electricity_ledger(fs, org, data.get("electricity"), data.get("instrument"), year, led, warnings)
    else:
        outside, claims = scope12_rows(org, data, fs, year, gwp_set, boundary, warnings, exclusions)
    _heat_ledger(data.get("heat"), led)
    _refrigerant_ledger(data.get("refrigerant"), led)
    _process_gas_ledger(data.get("process_gas"), led)
    _scope3_ledger(org, data, fs, year, economics, led, warnings, exclusions, purchase_rows)
    ledger = led.frame()
    # GWP: one lookup per distinct (gas, fossil), then applied by integer code.
    gas_codes = ledger["gas"].cat.codes.to_numpy() if len(ledger) else np.zeros(0, dtype=np.int64)
    gases = list(ledger["gas"].cat.categories) if len(ledger) else []
    fossil = ledger["fossil"].to_numpy(dtype=bool)
    gwp_val = np.full((len(gases), 2), np.nan)
    gwp_id = [[""] * 2 for _ in gases]
    used = [(gas, bool(fo)) for gi, gas in enumerate(gases) for fo in (0, 1)
            if ((gas_codes == gi) & (fossil == bool(fo))).any()]
    found, failed = gwp_values(fs, gwp_set, used)
    for (gas, fo), (value, fid) in found.items():
        gwp_val[gases.index(gas), int(fo)], gwp_id[gases.index(gas)][int(fo)] = value, fid
    problems = [p for (gas, _), reason in failed.items()
                for p in _rows_problem(ledger, gas_codes == gases.index(gas), "gas", reason)]
    if problems:
        raise InputError(problems)
    pair = gas_codes * 2 + fossil.astype(np.int64)
    ledger["gwp_set"] = gwp_set
    ledger["gwp"] = gwp_val.reshape(-1)[pair] if len(ledger) else np.zeros(0)
    # A fossil and a non-fossil origin may share one GWP factor (biogenic CH4 and N2O), so the ids are made
    # unique and each (gas, origin) pair points at its id.
    ids, id_of_pair = np.unique(np.array([gwp_id[g][fo] for g in range(len(gases)) for fo in (0, 1)] or [""],
                                         dtype=object), return_inverse=True)
    ledger["gwp_factor_id"] = (pd.Categorical.from_codes(id_of_pair.reshape(-1)[pair], categories=list(ids))
                               if len(ledger) else [])
    site_codes = ledger["site"].cat.codes.to_numpy() if len(ledger) else np.zeros(0, dtype=np.int64)
    inclusion = np.array([org.site(s).inclusion(boundary) for s in ledger["site"].cat.categories]) \
        if len(ledger) else np.zeros(0)
    ledger["inclusion"] = inclusion[site_codes] if len(ledger) else np.zeros(0)
    ledger["co2e_t"] = ledger["gas_kg"].to_numpy() * ledger["gwp"].to_numpy() * ledger["inclusion"].to_numpy() / 1000.0
    ledger = ledger[LEDGER_COLUMNS]
    if outside is not None and len(outside):
        ledger = _joined(outside[LEDGER_COLUMNS], ledger) if len(ledger) else outside[LEDGER_COLUMNS].reset_index(
            drop=True)
    # An infinite or NaN quantity that reached the core would otherwise surface as a database error.
    not_finite = ~np.isfinite(ledger["co2e_t"].to_numpy(dtype=float))
    if not_finite.any():
        raise InputError(_rows_problem(ledger, not_finite, None, "emission is not a finite number; check the "
                                                                 "quantities of this row"))
    renewable = _renewable(org, data.get("generation"), claims)
    return InventoryResult(year, fs.id, fs.fingerprint, gwp_set, boundary, ledger, claims, renewable,
                           warnings, sorted(set(exclusions)))
