"""Numbers as the pages show them: thousands separators and the decimals a reader needs (the same in zh-CN and
en, which both group digits by three with "," and use "." for decimals)."""
from __future__ import annotations

import math


def num(value, decimals: int | None = None) -> str:
    """``value`` with thousands separators and ``decimals`` decimals; ``decimals`` None: 0 from 100 up
    (kWh of a plant), 1 from 1 up, else 2. None and NaN show as "–"."""
    if value is None:
        return "–"
    x = float(value)
    if math.isnan(x):
        return "–"
    if decimals is None:
        decimals = 0 if abs(x) >= 100 else 1 if abs(x) >= 1 else 2
    text = f"{x:,.{decimals}f}"
    # -0 is not a reading anyone made
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def register(env) -> None:
    """Make :func:`num` the ``num`` filter of a Jinja2 environment."""
    env.filters["num"] = num


__all__ = ["num", "register"]
