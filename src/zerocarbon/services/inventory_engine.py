"""The inventory's row-level work on an engine: Scope 1 combustion and Scope 2 grid electricity rows computed by
DuckDB or Apache Spark from one SQL definition (``core.bulk_sql.INVENTORY_SCOPE12``).

The factors are resolved once per distinct key by the same functions the in-process path uses
(``core.ghg.inventory.fuel_routes``, ``grid_sites``, ``gwp_values``), so a refused row, a warning or an
exclusion reads the same on every path; only the multiplication of each activity row by its route, the GWP and
the boundary share, and the per-site grid totals the instrument cover needs, run on the engine. The kinds that
are few rows per organisation (heat, refrigerants, process gases) and Scope 3 stay in process.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from zerocarbon.core.bulk_sql import ELECTRICITY_KWH, INVENTORY_SCOPE12
from zerocarbon.core.ghg.electricity import Claim
from zerocarbon.core.ghg.inventory import (LEDGER_COLUMNS, ActivityData, Scope12Rows, fuel_keys, fuel_routes,
                                           grid_sites, gwp_values)
from zerocarbon.core.model import Boundary, Organisation
from zerocarbon.errors import InputError, Problem
from zerocarbon.units import scales


def _typed(columns: dict[str, type], frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame``'s ``columns`` with these types (text, float, bool), or an empty table of them: an empty table
    still tells the engine its columns."""
    if frame is None or frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    return pd.DataFrame({c: frame[c] if t is object else frame[c].to_numpy(dtype=t) for c, t in columns.items()})


FUEL = {"activity_id": object, "site": object, "fuel": object, "fuel_use": object, "unit": object, "basis": object,
        "quantity": float, "biogenic": bool}
ROUTES = {"fuel": object, "fuel_use": object, "unit": object, "basis": object, "gas": object, "kg_per_unit": float,
          "factor_ids": object, "formula": object, "category": object}
ELECTRICITY = {"activity_id": object, "site": object, "quantity": float, "unit": object}
GRID = {"site": object, "loc_ef": float, "loc_id": object, "loc_gas": object, "mkt_ef": float, "mkt_ids": object,
        "mkt_gas": object, "mkt_formula": object}


def _fuel_table(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return _typed(FUEL)
    keys = fuel_keys(df)
    return _typed(FUEL, pd.DataFrame({"activity_id": df["activity_id"], "site": df["site"], "fuel": keys["fuel"],
                                      "fuel_use": keys["use"], "unit": keys["unit"], "basis": keys["basis"],
                                      "quantity": df["quantity"],
                                      "biogenic": df["biogenic"].fillna(False).astype(bool)}))


def _gwp_table(fs, gwp_set: str, pairs: set[tuple[str, bool]]) -> pd.DataFrame:
    found, failed = gwp_values(fs, gwp_set, sorted(pairs))
    if failed:
        raise InputError([Problem(f"factor set {fs.id}", None, "gas", reason) for reason in failed.values()])
    return pd.DataFrame([(g, fo, gwp_set, v, fid) for (g, fo), (v, fid) in found.items()],
                        columns=["gas", "fossil", "gwp_set", "gwp", "gwp_factor_id"]).astype({"fossil": bool,
                                                                                             "gwp": float})


def on_engine(engine) -> Scope12Rows:
    """The combustion and grid-electricity rows of an inventory, computed by ``engine`` (``store.engines``)."""

    def rows(org: Organisation, data: ActivityData, fs, year: int, gwp_set: str, boundary: Boundary,
             warnings: list[str], exclusions: list[str]) -> tuple[pd.DataFrame, dict[str, Claim]]:
        fuel = data.get("fuel").reset_index(drop=True)
        power = data.get("electricity").reset_index(drop=True)
        if fuel.empty and power.empty:
            return pd.DataFrame(columns=LEDGER_COLUMNS), {}
        routes = _typed(ROUTES)
        if not fuel.empty:
            routes = _typed(ROUTES, fuel_routes(fs, fuel, exclusions)[1].rename(columns={"use": "fuel_use"}))
        units = pd.Series(pd.unique(power["unit"].astype(str)), dtype=object)
        unit_table = pd.DataFrame({"unit": units, "to_kwh": scales(units, "kWh") if len(units) else
                                   np.zeros(0)})
        elec = _typed(ELECTRICITY, power.assign(unit=power["unit"].astype(str)) if not power.empty else None)
        grid, claims = _typed(GRID), {}
        if not power.empty:
            by_site = engine.run_tables(ELECTRICITY_KWH, {"electricity": elec, "units": unit_table})
            kwh = dict(zip(by_site["site"].astype(str), by_site["kwh"].astype(float)))
            # Sites in order of first appearance, as the in-process path takes them.
            grid, claims = grid_sites(fs, org, {s: kwh[s] for s in pd.unique(power["site"].astype(str))},
                                      data.get("instrument"), year, warnings)
        biogenic = bool(fuel["biogenic"].fillna(False).astype(bool).any()) if not fuel.empty else False
        pairs = ({(g, True) for g in routes["gas"]} | {(g, False) for g in routes["gas"] if biogenic}
                 | {(g, True) for g in pd.concat([grid["loc_gas"], grid["mkt_gas"]])})
        sites = pd.unique(pd.concat([fuel["site"], power["site"]]).astype(str))
        inclusion = pd.DataFrame({"site": sites, "inclusion": [float(org.site(s).inclusion(boundary))
                                                               for s in sites]})
        ledger = engine.run_tables(INVENTORY_SCOPE12, {
            "fuel": _fuel_table(fuel), "fuel_routes": routes, "electricity": elec, "units": unit_table,
            "grid_sites": _typed(GRID, grid), "gwp": _gwp_table(fs, gwp_set, pairs), "inclusion": inclusion})
        ids = [f["activity_id"].dtype for f in (fuel, power) if isinstance(f["activity_id"].dtype, pd.CategoricalDtype)]
        if ids and all(d == ids[0] for d in ids):
            # The stored rows' own id categories: the ledger's batch of each row is then looked up by code.
            ledger["activity_id"] = pd.Categorical(ledger["activity_id"].astype(str), dtype=ids[0])
        return ledger[LEDGER_COLUMNS].astype({"dq": float}), claims

    return rows
