"""Scope 1 fugitive and process emissions of fluorinated gases.

Refrigerants (GHG Protocol "HFC and PFC emissions from refrigeration and AC" guidance; US EPA
Center for Corporate Climate Leadership, Direct Fugitive Emissions from Refrigeration, AC, Fire
Suppression and Industrial Gases, 2014 — the same two methods):
  mass balance:  E = (inventory_start - inventory_end) + purchased - recovered_or_sold - capacity_change
                 capacity_change = charge of new equipment - charge of retired equipment
  screening:     E = charge x annual_leak_rate x days_in_period / 365
Both give kg of the refrigerant (a blend is one "gas" with its own GWP).

Fluorinated process gases in electronics manufacturing (IPCC 2006 Vol.3 ch.6 Tier 2a, the pattern
GB/T 32151.24-2024 follows):
  E_i  = FC_i x (1 - h) x (1 - U_i) x (1 - a_i x d_i)
  BP_k = FC_i x (1 - h) x B_k,i x (1 - a_i x d_i)      (by-products CF4, C2F6 formed from gas i)
with FC the gas fed [kg], h the heel left in the cylinder, U the utilisation (use) rate, a the
fraction of gas volume through abatement and d its destruction efficiency. All parameters are
inputs with their source; no defaults are shipped because none could be sourced (see docs).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def refrigerant_mass_balance_kg(df: pd.DataFrame) -> np.ndarray:
    """Columns in kg: inventory_start, inventory_end, purchased, recovered_or_sold, capacity_change."""
    return (
        (df["inventory_start"] - df["inventory_end"])
        + df["purchased"] - df["recovered_or_sold"] - df["capacity_change"]
    ).to_numpy(dtype=float)


def refrigerant_screening_kg(df: pd.DataFrame) -> np.ndarray:
    """Columns: charge [kg], annual_leak_rate [fraction/yr], period_start/period_end [dates, end inclusive]."""
    days = (pd.to_datetime(df["period_end"]) - pd.to_datetime(df["period_start"])).dt.days + 1
    return (df["charge"] * df["annual_leak_rate"] * days / 365.0).to_numpy(dtype=float)


def process_gas_kg(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Emissions of the fed gas and of its by-products, kg, keyed 'self', 'CF4', 'C2F6'."""
    fed_net = df["consumed"] * (1 - df["heel"])
    not_destroyed = 1 - df["abatement_fraction"] * df["destruction_efficiency"]
    out = {"self": (fed_net * (1 - df["utilisation"]) * not_destroyed).to_numpy(dtype=float)}
    for bp in ("CF4", "C2F6"):
        col = f"byproduct_{bp.lower()}_rate"
        if col in df:
            out[bp] = (fed_net * df[col].fillna(0.0) * not_destroyed).to_numpy(dtype=float)
    return out
