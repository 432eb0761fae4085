"""Numbers as the pages show them: thousands separators and the decimals a reader needs (the same in zh-CN and
en, which both group digits by three with "," and use "." for decimals).

Exports (JSON, CSV) and the exact values of ledger rows keep full precision; these figures are for reading.
"""
from __future__ import annotations

import math

# Decimals when a page names the unit but not the decimals: tCO2e totals to 0.1 t, energy to whole kWh (MWh to 0.1).
DEFAULT_DECIMALS = {"tCO2e": 1, "t": 1, "kWh": 0, "MWh": 1, "%": 1}
MISSING = "–"


def _decimals_by_size(x: float) -> int:
    # Meter quantities span kWh of a plant to fractions of a line: 0 decimals from 100 up, 1 from 1 up, else 2.
    return 0 if abs(x) >= 100 else 1 if abs(x) >= 1 else 2


def num(value, decimals: int | None = None, unit: str | None = "tCO2e") -> str:
    """``value`` with thousands separators and ``decimals`` decimals: by default those of ``unit``, or, for a
    unit without a default (``None``), by the value's size. A missing value shows as "–", a text as it is."""
    if value is None or value == "":
        return MISSING
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return MISSING
    if decimals is not None:
        places = max(0, int(decimals))
    elif unit in DEFAULT_DECIMALS:
        places = DEFAULT_DECIMALS[unit]
    else:
        places = _decimals_by_size(x)
    text = f"{x:,.{places}f}"
    # -0.0 rounds to "-0.0": a total that is zero reads as zero.
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def qty(value, decimals: int | None = None) -> str:
    """A measured quantity in any unit (kWh, m3, h): decimals by its size unless given."""
    return num(value, decimals, unit=None)


def register(env) -> None:
    """Make :func:`num` and :func:`qty` filters of a Jinja2 environment."""
    env.filters["num"] = num
    env.filters["qty"] = qty


__all__ = ["num", "qty", "register"]
