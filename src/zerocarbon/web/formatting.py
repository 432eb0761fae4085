"""Numbers on the pages: thousands separators and a fixed number of decimals per unit.

Exports (JSON, CSV) and the exact values of ledger rows keep full precision; these figures are for reading.
"""
from __future__ import annotations

import math

# Decimals when a page does not ask for a number: tCO2e totals to 0.1 t, energy to whole kWh (MWh to 0.1).
DEFAULT_DECIMALS = {"tCO2e": 1, "t": 1, "kWh": 0, "MWh": 1, "%": 1}


def num(value, decimals: int | None = None, unit: str = "tCO2e") -> str:
    """``value`` with thousands separators and ``decimals`` decimals (by default those of ``unit``); empty for
    a missing value, the text as it is for one that is not a number."""
    if value is None or value == "":
        return ""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return ""
    places = DEFAULT_DECIMALS.get(unit, 1) if decimals is None else max(0, int(decimals))
    text = f"{x:,.{places}f}"
    # -0.0 rounds to "-0.0": a total that is zero reads as zero.
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text
