"""The base of a pathway from a stored inventory: which end use a meter feeds, which fuel stream a fuel use is,
which refrigerant stream a gas is, and the base built from those sums.

Electricity rows carry their meter. A meter's end use is the first ``end_uses`` entry (end use -> list of
shell-style meter-name patterns, e.g. ``HVAC: ["*-M-HVAC", "CHILLER*"]``) whose pattern matches it; without an
entry for it, a name of the form ``<site>-M-<END_USE>`` gives ``END_USE`` (the demo group's meters, e.g.
``TJ01-M-HVAC``). Electricity of a meter that maps to no end use is kept, in the end use ``OTHER`` (only measures
acting on all electricity reach it), and every such meter is listed.

Fuels are streams named ``<fuel>_<use>`` (``natural_gas_stationary``, ``diesel_mobile``) unless ``fuel_streams``
splits one into named shares (``natural_gas_stationary: {natural_gas_hot_water: 0.6, natural_gas_canteen:
0.4}``); refrigerant gases are streams named by the gas unless ``refrigerant_streams`` names them
(``HFC-134a: chillers``; the names are the ledger's canonical gas names).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from zerocarbon.core.pathway.scenario import Base, Fuel

UNMAPPED = "OTHER"
DEMO_METER = re.compile(r"^[^-]+-M-(?P<end_use>[A-Za-z0-9_]+)$")


def end_use_of(meter: str, end_uses: dict[str, tuple[str, ...]]) -> str | None:
    """The end use of ``meter``: the first pattern of ``end_uses`` matching it, else ``<site>-M-<END_USE>``."""
    for use, patterns in end_uses.items():
        if any(fnmatchcase(meter, p) for p in patterns):
            return use
    m = DEMO_METER.match(meter)
    return m.group("end_use") if m else None


@dataclass(frozen=True)
class Sums:
    """What a stored inventory holds of the year, summed (from the ledger and its activity rows)."""

    year: int
    grid_mwh_by_meter: dict[str, float]  # [MWh] grid electricity of the ledger's electricity rows, by meter
    pv_self_mwh: float  # [MWh] on-site generation used (generated - exported)
    renewable_share: float  # of the stored inventory: (renewable bought + PV used) / (grid + PV used)
    fuels: dict[tuple[str, str], tuple[float, float]]  # (fuel, use) -> ([MWh], [tCO2e])
    refrigerants: dict[str, float]  # gas -> [tCO2e] (fugitive refrigerants and process F-gases)
    # scope1_t, scope2_market_t, scope2_location_t; electricity_market_t, electricity_location_t: Scope 2 of
    # purchased electricity alone
    totals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Mapping:
    end_uses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fuel_streams: dict[str, dict[str, float]] = field(default_factory=dict)
    refrigerant_streams: dict[str, str] = field(default_factory=dict)


def electricity_by_end_use(sums: Sums, mapping: Mapping) -> tuple[dict[str, float], dict[str, float]]:
    """Electricity consumed [MWh] by end use (grid by meter, on-site PV used spread pro rata), and the meters that
    map to no end use with their grid MWh."""
    grid: dict[str, float] = {}
    unmapped: dict[str, float] = {}
    for meter, mwh in sorted(sums.grid_mwh_by_meter.items()):
        use = end_use_of(meter, mapping.end_uses)
        if use is None:
            unmapped[meter] = mwh
            use = UNMAPPED
        grid[use] = grid.get(use, 0.0) + mwh
    total = sum(grid.values())
    if total <= 0:
        return ({UNMAPPED: sums.pv_self_mwh} if sums.pv_self_mwh > 0 else {}), unmapped
    scale = (total + sums.pv_self_mwh) / total
    return {k: v * scale for k, v in grid.items()}, unmapped


def fuel_streams(sums: Sums, mapping: Mapping) -> dict[str, Fuel]:
    out: dict[str, Fuel] = {}
    for (fuel, use), (mwh, t) in sorted(sums.fuels.items()):
        name = f"{fuel}_{use}"
        for stream, share in (mapping.fuel_streams.get(name) or {name: 1.0}).items():
            old = out.get(stream)
            out[stream] = Fuel(fuel, mwh * share + (old.mwh if old else 0.0), t * share + (old.tco2e if old else 0.0))
    return out


def refrigerant_streams(sums: Sums, mapping: Mapping) -> dict[str, float]:
    out: dict[str, float] = {}
    for gas, t in sorted(sums.refrigerants.items()):
        name = mapping.refrigerant_streams.get(gas, gas)
        out[name] = out.get(name, 0.0) + t
    return out


def implied_grid_factors(sums: Sums, consumed: float, bought: float) -> dict:
    """The base year's grid factors [tCO2e/MWh] the stored inventory implies, defined so that the model's Scope 2
    of the base year is the ledger's: market-based = the ledger's purchased-electricity tCO2e (market) / the MWh the
    model prices at the grid factor (consumed - on-site used - renewable bought); location-based = its tCO2e
    (location) / grid MWh (consumed - on-site used). None where no MWh is left to price (the scenario's applies)."""
    priced, grid = consumed - sums.pv_self_mwh - bought, consumed - sums.pv_self_mwh
    t = sums.totals
    return {"grid_factor": t.get("electricity_market_t", 0.0) / priced if priced > 1e-9 else None,
            "grid_factor_location": t.get("electricity_location_t", 0.0) / grid if grid > 1e-9 else None,
            "priced_mwh": priced}


def grid_note(year: int, factors: dict) -> str:
    f = factors["grid_factor"]
    if f is None:
        return f"grid factor {year}: the scenario's (no grid MWh is left uncovered by renewables to imply one)"
    return f"grid factor {year}: {f:.4f} t/MWh implied by the inventory; scenario trajectory applied as ratios"


def base_from(sums: Sums, mapping: Mapping, assets: dict[str, float], note: str) -> tuple[Base, dict]:
    """The pathway base of the stored sums (Scope 1 streams with the ledger's tonnes, grid factors of the base year
    implied by the inventory) and what the mapping did (meters without an end use, the implied factors)."""
    electricity, unmapped = electricity_by_end_use(sums, mapping)
    consumed = sum(electricity.values())
    bought = min(max(0.0, sums.renewable_share * consumed - sums.pv_self_mwh), consumed - sums.pv_self_mwh)
    factors = implied_grid_factors(sums, consumed, bought)
    base = Base(sums.year, electricity, sums.pv_self_mwh, bought, fuel_streams(sums, mapping),
                refrigerant_streams(sums, mapping), {}, dict(assets), f"{note}; {grid_note(sums.year, factors)}",
                factors["grid_factor"], factors["grid_factor_location"])
    return base, {"unmapped_meters": unmapped, "unmapped_mwh": sum(unmapped.values()),
                  "implied_grid_factor": factors, "grid_factor_note": grid_note(sums.year, factors)}
