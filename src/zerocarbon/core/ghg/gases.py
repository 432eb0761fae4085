"""Gas names, aliases and GWP lookup.

Conventions (documented in docs/methodology.md §GWP):
- Chemical formulas and ASHRAE/HFC names are aliases of one canonical name (CH2F2 = HFC-32).
- Under AR6, CH4 from fossil sources uses the fossil value (29.8) and CH4 from biogenic fuels the
  non-fossil value (27.0) of AR6 WGI Table 7.15; under AR4/AR5 one CH4 value applies.
- HCFCs are Montreal Protocol gases: computed and reported as memo items, never in Scope totals
  (GHG Protocol Corporate Standard ch.4).
"""
from __future__ import annotations

from zerocarbon.core.factors import Factor, FactorSet

ALIASES = {
    "CH2F2": "HFC-32", "R-32": "HFC-32", "R32": "HFC-32",
    "HFC-23": "CHF3", "R-23": "CHF3",
    "PFC-318": "c-C4F8", "C4F8": "c-C4F8",
    "PFC-14": "CF4", "PFC-116": "C2F6", "PFC-218": "C3F8",
    "R-134A": "HFC-134a", "R-134a": "HFC-134a", "HFC-134A": "HFC-134a",
    "R-125": "HFC-125", "R-143a": "HFC-143a",
    "R-22": "HCFC-22", "R22": "HCFC-22",
    "R410A": "R-410A", "R404A": "R-404A", "R407C": "R-407C",
}
NON_KYOTO = {"HCFC-22"}


def canonical_gas(name: str) -> str:
    n = str(name).strip()
    return ALIASES.get(n, ALIASES.get(n.upper(), n))


def gwp_for(fs: FactorSet, gas: str, gwp_set: str, fossil: bool = True) -> Factor:
    gas = canonical_gas(gas)
    if gas == "CH4" and gwp_set == "AR6":
        return fs.gwp("CH4_fossil" if fossil else "CH4_nonfossil", gwp_set)
    return fs.gwp(gas, gwp_set)
