"""The inventory's row-level work on an engine: Scope 1 combustion and Scope 2 grid electricity rows
(``core.bulk_sql.INVENTORY_SCOPE12``) and Scope 3 purchase rows (``PURCHASE_KEYS``, ``PURCHASES_SCOPE3``), computed
by DuckDB or Apache Spark from one SQL definition each.

The factors are resolved once per distinct key by the same functions the in-process path uses
(``core.ghg.inventory.fuel_routes``, ``grid_sites``, ``gwp_values``), so a refused row, a warning or an
exclusion reads the same on every path; only the multiplication of each activity row by its route, the GWP and
the boundary share, and the per-site grid totals the instrument cover needs, run on the engine. The engine hands
back numbers (activity row, lineage entry, site, origin, kg, t); the text of each ledger row (activity id,
factor ids, formula, ...) is put back here from the small tables, as categories, so no text is repeated per row
between the engine and the driver. The kinds that are few rows per organisation (heat, refrigerants, process
gases) and the other Scope 3 kinds stay in process.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from zerocarbon.core.bulk_sql import ELECTRICITY_KWH, INVENTORY_SCOPE12, PURCHASE_KEYS, PURCHASES_SCOPE3
from zerocarbon.core.ghg.electricity import Claim
from zerocarbon.core.ghg.inventory import (LEDGER_COLUMNS, ActivityData, Scope12Rows, fuel_keys, fuel_routes,
                                           grid_sites, gwp_values)
from zerocarbon.core.ghg.scope3 import (PURCHASE_NUMBERS, ROUTE_KEYS, ROUTES, Context, Part, purchase_part,
                                        purchase_plan, purchases, route_table)
from zerocarbon.core.model import Boundary, Organisation
from zerocarbon.errors import InputError, Problem
from zerocarbon.units import scales

#: per lineage entry: what a ledger row of that route (fuel) or grid entry (site x method) says
LINEAGE = ["scope", "category", "method", "gas", "factor_ids", "formula"]


def _categories(values, codes: np.ndarray) -> pd.Categorical:
    """``values[codes]`` as categories, without a Python string per row."""
    uniq, inverse = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
    return pd.Categorical.from_codes(inverse.reshape(-1)[codes], categories=pd.Index(uniq, dtype=object))


def _activity_ids(fuel: pd.DataFrame, power: pd.DataFrame, source_row: np.ndarray) -> pd.Categorical:
    """The activity id of each ``source_row`` (fuel rows first, then electricity rows)."""
    parts = [f["activity_id"] for f in (fuel, power) if len(f)]
    dtypes = {p.dtype for p in parts}
    if len(dtypes) == 1 and isinstance(parts[0].dtype, pd.CategoricalDtype):
        # The stored rows' own id categories: storing the ledger then finds each row's batch by code.
        codes = np.concatenate([p.cat.codes.to_numpy() for p in parts])
        return pd.Categorical.from_codes(codes[source_row], dtype=parts[0].dtype)
    return _categories(np.concatenate([p.astype(str).to_numpy(dtype=object) for p in parts]), source_row)


def _gwp(fs, gwp_set: str, pairs: set[tuple[str, bool]]) -> dict[tuple[str, bool], tuple[float, str]]:
    found, failed = gwp_values(fs, gwp_set, sorted(pairs))
    if failed:
        raise InputError([Problem(f"factor set {fs.id}", None, "gas", reason) for reason in failed.values()])
    return found


def on_engine(engine) -> Scope12Rows:
    """The combustion and grid-electricity rows of an inventory, computed by ``engine`` (``store.engines``)."""

    def rows(org: Organisation, data: ActivityData, fs, year: int, gwp_set: str, boundary: Boundary,
             warnings: list[str], exclusions: list[str]) -> tuple[pd.DataFrame, dict[str, Claim]]:
        fuel = data.get("fuel").reset_index(drop=True)
        power = data.get("electricity").reset_index(drop=True)
        if fuel.empty and power.empty:
            return pd.DataFrame(columns=LEDGER_COLUMNS), {}
        site_codes, sites = pd.factorize(pd.concat([fuel["site"], power["site"]], ignore_index=True).astype(str))
        sites = list(sites)
        lineage = pd.DataFrame(columns=LINEAGE)
        routes = pd.DataFrame({"lineage": pd.Series(dtype=np.int64), "fuel": pd.Series(dtype=object),
                               "fuel_use": pd.Series(dtype=object), "unit": pd.Series(dtype=object),
                               "basis": pd.Series(dtype=object), "gas": pd.Series(dtype=object),
                               "kg_per_unit": pd.Series(dtype=float)})
        fuel_t = pd.DataFrame({"source_row": np.zeros(0, np.int64), "site_no": np.zeros(0, np.int64),
                               **{c: pd.Series(dtype=object) for c in ("fuel", "fuel_use", "unit", "basis")},
                               "quantity": np.zeros(0), "biogenic": np.zeros(0, bool)})
        if not fuel.empty:
            found = fuel_routes(fs, fuel, exclusions)[1].reset_index(drop=True)
            lineage = pd.DataFrame({"scope": "1", "category": found["category"], "method": "both",
                                    "gas": found["gas"], "factor_ids": found["factor_ids"],
                                    "formula": found["formula"]})
            routes = pd.DataFrame({"lineage": np.arange(len(found), dtype=np.int64), "fuel": found["fuel"],
                                   "fuel_use": found["use"], "unit": found["unit"], "basis": found["basis"],
                                   "gas": found["gas"], "kg_per_unit": found["kg_per_unit"].astype(float)})
            keys = fuel_keys(fuel)
            fuel_t = pd.DataFrame({"source_row": np.arange(len(fuel), dtype=np.int64),
                                   "site_no": site_codes[:len(fuel)].astype(np.int64), "fuel": keys["fuel"],
                                   "fuel_use": keys["use"], "unit": keys["unit"], "basis": keys["basis"],
                                   "quantity": fuel["quantity"].to_numpy(dtype=float),
                                   "biogenic": fuel["biogenic"].fillna(False).astype(bool).to_numpy()})
        units = pd.Series(pd.unique(power["unit"].astype(str)), dtype=object)
        unit_t = pd.DataFrame({"unit": units, "to_kwh": scales(units, "kWh") if len(units) else np.zeros(0)})
        elec_t = pd.DataFrame({"source_row": np.arange(len(fuel), len(fuel) + len(power), dtype=np.int64),
                               "site_no": site_codes[len(fuel):].astype(np.int64),
                               "quantity": power["quantity"].to_numpy(dtype=float),
                               "unit": power["unit"].astype(str).to_numpy(dtype=object)})
        claims: dict[str, Claim] = {}
        grid_t = pd.DataFrame({"site_no": np.zeros(0, np.int64), "loc_ef": np.zeros(0), "loc_gas": [],
                               "loc_lineage": np.zeros(0, np.int64), "mkt_ef": np.zeros(0), "mkt_gas": [],
                               "mkt_lineage": np.zeros(0, np.int64)}).astype({"loc_gas": object, "mkt_gas": object})
        if not power.empty:
            by_site = engine.run_tables(ELECTRICITY_KWH, {"electricity": elec_t, "units": unit_t})
            kwh = dict(zip(by_site["site_no"].astype(int), by_site["kwh"].astype(float)))
            # Sites in order of first appearance, as the in-process path takes them.
            order = pd.unique(site_codes[len(fuel):])
            grid, claims = grid_sites(fs, org, {sites[i]: kwh[int(i)] for i in order}, data.get("instrument"), year,
                                      warnings)
            first = len(lineage)
            n = len(grid)
            entries = pd.DataFrame({"scope": "2", "category": "purchased_electricity",
                                    "method": np.tile(["location", "market"], n),
                                    "gas": np.column_stack([grid["loc_gas"], grid["mkt_gas"]]).reshape(-1),
                                    "factor_ids": np.column_stack([grid["loc_id"], grid["mkt_ids"]]).reshape(-1),
                                    "formula": np.column_stack([np.full(n, "kWh x grid EF[kg/kWh]", dtype=object),
                                                                grid["mkt_formula"]]).reshape(-1)})
            lineage = pd.concat([lineage, entries], ignore_index=True) if len(lineage) else entries
            grid_t = pd.DataFrame({"site_no": [sites.index(s) for s in grid["site"]],
                                   "loc_ef": grid["loc_ef"].astype(float), "loc_gas": grid["loc_gas"],
                                   "loc_lineage": first + 2 * np.arange(n), "mkt_ef": grid["mkt_ef"].astype(float),
                                   "mkt_gas": grid["mkt_gas"], "mkt_lineage": first + 2 * np.arange(n) + 1})
        biogenic = bool(fuel_t["biogenic"].any())
        pairs = ({(g, True) for g in lineage["gas"]} | {(g, False) for g in routes["gas"] if biogenic})
        gwp = _gwp(fs, gwp_set, pairs)
        inclusion = np.array([float(org.site(s).inclusion(boundary)) for s in sites])
        out = engine.run_tables(INVENTORY_SCOPE12, {
            "fuel": fuel_t, "fuel_routes": routes, "electricity": elec_t, "units": unit_t, "grid_sites": grid_t,
            "gwp": pd.DataFrame([(g, fo, v) for (g, fo), (v, _) in gwp.items()], columns=["gas", "fossil", "gwp"]),
            "inclusion": pd.DataFrame({"site_no": np.arange(len(sites), dtype=np.int64), "inclusion": inclusion})})
        return _ledger(out, lineage, sites, inclusion, gwp, gwp_set, fuel, power), claims

    return rows


def _ledger(out: pd.DataFrame, lineage: pd.DataFrame, sites: list[str], inclusion: np.ndarray,
            gwp: dict[tuple[str, bool], tuple[float, str]], gwp_set: str, fuel: pd.DataFrame,
            power: pd.DataFrame) -> pd.DataFrame:
    """The engine's numbered rows as ledger rows (``LEDGER_COLUMNS``), their text put back from the tables, in the
    in-process path's order: fuel rows by gas (CO2, CH4, N2O), then electricity rows location-based, then
    market-based; each in activity-row order. Stored in that order, a listing of the ledger reads the same
    whichever engine computed it."""
    rank = [("1", "CO2"), ("1", "CH4"), ("1", "N2O"), ("2", "location"), ("2", "market")]
    of_entry = [next(i for i, (s, k) in enumerate(rank) if s == scope and k in (gas, method))
                for scope, gas, method in zip(lineage["scope"], lineage["gas"], lineage["method"])]
    line = out["lineage"].to_numpy(dtype=np.int64)
    order = np.lexsort((out["source_row"].to_numpy(dtype=np.int64), np.asarray(of_entry, dtype=np.int64)[line]))
    out = out.iloc[order].reset_index(drop=True)
    line = line[order]
    site = out["site_no"].to_numpy(dtype=np.int64)
    fossil = out["fossil"].to_numpy(dtype=bool)
    gas = lineage["gas"].to_numpy(dtype=object)
    # (gas, origin) of each row as one number: lineage entry x 2 + fossil
    pair = line * 2 + fossil
    per_pair = [(g, bool(fo)) for g in gas for fo in (False, True)]
    ledger = {"activity_id": _activity_ids(fuel, power, out["source_row"].to_numpy(dtype=np.int64)),
              "site": pd.Categorical.from_codes(site, categories=pd.Index(sites, dtype=object))}
    for c in ("scope", "category", "method", "gas"):
        ledger[c] = _categories(lineage[c], line)
    ledger["gas_kg"] = out["gas_kg"].to_numpy(dtype=float)
    ledger["gwp_set"] = pd.Categorical.from_codes(np.zeros(len(out), np.int64), categories=[gwp_set])
    ledger["gwp"] = np.array([gwp.get(p, (np.nan, ""))[0] for p in per_pair])[pair] if len(per_pair) else []
    ledger["gwp_factor_id"] = _categories([gwp.get(p, (np.nan, ""))[1] for p in per_pair] or [""], pair)
    ledger["inclusion"] = inclusion[site] if len(inclusion) else np.zeros(0)
    ledger["co2e_t"] = out["co2e_t"].to_numpy(dtype=float)
    ledger["factor_ids"] = _categories(lineage["factor_ids"], line)
    ledger["formula"] = _categories(lineage["formula"], line)
    # A biogenic fuel's CO2 is reported beside the scopes, never in them.
    memo = [("biogenic_co2" if (g == "CO2" and not fo and s == "1") else "")
            for g, s in zip(gas, lineage["scope"]) for fo in (False, True)]
    ledger["memo"] = _categories(memo or [""], pair)
    ledger["calc_method"] = pd.Categorical.from_codes(np.zeros(len(out), np.int64), categories=[""])
    ledger["dq"] = np.full(len(out), np.nan)
    return pd.DataFrame(ledger)[LEDGER_COLUMNS]


def _purchase_table(df: pd.DataFrame) -> pd.DataFrame:
    """The purchase rows as the engine reads them: text as it is stored (missing is null), numbers as floats."""
    text = ("pcf_id", "unit", "material", "currency", "eeio_code", "supplier_co2e_unit", "evidence")
    n = len(df)
    out = {"source_row": np.arange(n, dtype=np.int64)}
    for c in text:
        out[c] = df[c] if c in df else pd.Series([None] * n, dtype=object)
    for c in PURCHASE_NUMBERS:
        out[c] = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float) if c in df else np.full(n, np.nan)
    return pd.DataFrame(out)


def purchases_on(engine) -> Callable[[Context, pd.DataFrame], Part | None]:
    """Scope 3 over purchase rows (categories 1 and 2) computed by ``engine``: the engine finds each row's route
    from its presence mask (the hierarchy is ``core.ghg.scope3.route_table``) and the distinct route keys; the
    driver resolves each key once with the in-process path's functions (``purchase_plan``); the engine then
    multiplies every row by its key's factor. A key the factor set cannot price, or a row no route can price, is
    refused by the in-process path itself, so the error names the same rows, columns and reasons."""

    def part(ctx: Context, df: pd.DataFrame) -> Part | None:
        if df.empty:
            return None
        df = df.reset_index(drop=True)
        footprints = pd.DataFrame({"pcf_id": pd.Series(list(ctx.stored_footprints), dtype=object)})
        tables = {"purchases": _purchase_table(df), "footprints": footprints, "routes": route_table()}
        found = engine.run_tables(PURCHASE_KEYS, tables)
        for c in found.columns:
            if isinstance(found[c].dtype, pd.CategoricalDtype):
                found[c] = found[c].astype(str)
        found = found.sort_values("first", kind="stable")
        route = found["route"].to_numpy(dtype=np.int64)
        if (route == ROUTES.index("none")).any():
            return purchases(ctx, df)  # raises the in-process error: no method left for those rows
        keys: dict[tuple[str, str], list[tuple]] = {}
        for fam, (columns, routes) in ROUTE_KEYS.items():
            for r in routes:
                at = found[route == ROUTES.index(r)]
                # in order of each key's first row, as the in-process path meets them
                firsts = at.groupby(list(columns), sort=False, dropna=False)["first"].min().sort_values(kind="stable")
                keys[fam, r] = [tuple(k) if isinstance(k, tuple) else (k,) for k in firsts.index]
        named = found[found["unknown_pcf_id"] != ""]
        unknown = list(named.groupby("unknown_pcf_id", sort=False)["first"].min().sort_values(kind="stable").index)
        site_code, sites = pd.factorize(df["site"].astype(str) if not isinstance(df["site"].dtype, pd.CategoricalDtype)
                                        else df["site"])
        countries_of_site = ctx.country(pd.Series(list(sites), dtype=object))
        country_code, countries = pd.factorize(pd.Series(countries_of_site, dtype=object))
        plan = purchase_plan(ctx, keys, unknown, list(countries))
        if plan.refused:
            return purchases(ctx, df)  # raises the in-process error, naming the rows of each refused key
        out = engine.run_tables(PURCHASES_SCOPE3, tables | {
            "footprint_routes": plan.tables["footprint"], "material_routes": plan.tables["material"],
            "spend_routes": plan.tables["spend"], "supplier_units": plan.tables["supplier_unit"]})
        out = out.sort_values("source_row", kind="stable")
        source_row = out["source_row"].to_numpy(dtype=np.int64)
        kg = out["kg"].to_numpy(dtype=float)
        if len(source_row) != len(df) or (source_row != np.arange(len(df))).any():
            raise RuntimeError("the engine did not return one purchase ledger row per purchase row")
        if np.isnan(kg).any():
            return purchases(ctx, df)  # raises the in-process error for rows whose figure lacks a number
        entry = np.where(out["route"].to_numpy() == ROUTES.index("supplier"), plan.supplier_lineage,
                         out["lineage"].to_numpy(dtype=np.int64))
        return purchase_part(df, plan, entry, kg, country_code.astype(np.int64)[site_code])

    return part
