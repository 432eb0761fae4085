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
    totals: dict[str, float] = field(default_factory=dict)  # scope1_t, scope2_market_t, scope2_location_t


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


def base_from(sums: Sums, mapping: Mapping, assets: dict[str, float], note: str) -> tuple[Base, dict]:
    """The pathway base of the stored sums and what the mapping did (meters without an end use)."""
    electricity, unmapped = electricity_by_end_use(sums, mapping)
    consumed = sum(sums.grid_mwh_by_meter.values()) + sums.pv_self_mwh
    bought = max(0.0, sums.renewable_share * consumed - sums.pv_self_mwh)
    base = Base(sums.year, electricity, sums.pv_self_mwh, min(bought, consumed - sums.pv_self_mwh),
                fuel_streams(sums, mapping), refrigerant_streams(sums, mapping), {}, dict(assets), note)
    return base, {"unmapped_meters": unmapped, "unmapped_mwh": sum(unmapped.values())}
