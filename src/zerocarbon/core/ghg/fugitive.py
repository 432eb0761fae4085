"""Scope 1 fugitive and process emissions of fluorinated gases.

Refrigerants (GHG Protocol "HFC and PFC emissions from refrigeration and AC" guidance; US EPA
Center for Corporate Climate Leadership, Direct Fugitive Emissions from Refrigeration, AC, Fire
Suppression and Industrial Gases, 2014 — the same two methods):
  mass balance:  E = (inventory_start - inventory_end) + purchased - recovered_or_sold - capacity_change
                 capacity_change = charge of new equipment - charge of retired equipment
  screening:     E = charge x annual_leak_rate x days_in_period / 365
Both give kg of the refrigerant (a blend is one "gas" with its own GWP). A mass balance below zero
is impossible (equipment cannot take refrigerant back out of the air): it means a stock figure is
wrong, so it is refused rather than booked as negative emissions (:func:`negative_mass_balances`).

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


MASS_BALANCE_COLUMNS = ("inventory_start", "inventory_end", "purchased", "recovered_or_sold", "capacity_change")


def negative_mass_balances(df: pd.DataFrame) -> list[tuple[int, str]]:
    """(position, reason) of every row whose mass balance is below zero, with the figures used.

    Blank ``recovered_or_sold`` and ``capacity_change`` count as zero; rows with another blank term
    are skipped (the importer reports them as missing). Amounts are in the row's ``unit``.
    """
    terms = df[list(MASS_BALANCE_COLUMNS)].astype(float).fillna({"recovered_or_sold": 0.0, "capacity_change": 0.0})
    emitted = refrigerant_mass_balance_kg(terms)
    # Sums of decimal figures that should give exactly zero can land a rounding error below it.
    tolerance = 1e-9 * terms.abs().sum(axis=1).to_numpy(dtype=float)
    units = df["unit"].astype(str).to_numpy() if "unit" in df else np.full(len(df), "")
    out = []
    for i in np.flatnonzero(emitted < -tolerance):
        t = terms.iloc[i]
        out.append((int(i), f"mass balance ({t['inventory_start']:g} - {t['inventory_end']:g}) + {t['purchased']:g} "
                            f"- {t['recovered_or_sold']:g} - {t['capacity_change']:g} = {emitted[i]:g} {units[i]} "
                            "is negative: emissions cannot be below zero; check the stock figures"))
    return out


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
