"""The one pint registry of the package, with domain units from ``units.txt``.

Strictness rules enforced here:
- a number without a unit is refused (:func:`quantity` requires a unit string);
- a unit of the wrong dimension is refused (:func:`require`), with the expected dimension named.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pint

from zerocarbon.errors import UnitError

ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
ureg.load_definitions(str(resources.files("zerocarbon") / "units.txt"))
Q_ = ureg.Quantity

ENERGY = "[energy]"
MASS = "[mass]"
CO2E = "[co2e]"
GAS_AMOUNT = "[substance]"
VOLUME = "[length] ** 3"


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> pint.Unit:
    """Parse a unit string; raise :class:`UnitError` naming the text if pint does not know it."""
    if text is None or not str(text).strip():
        raise UnitError("a unit is required; the value has none")
    try:
        return ureg.Unit(str(text).strip())
    except Exception as exc:  # pint's parser raises assorted built-ins on malformed text ("kg/0", "1(", "^^")
        raise UnitError(f"unknown unit '{text}'") from exc


def quantity(value: float, unit: str) -> pint.Quantity:
    """A quantity with a unit that pint knows. There is no unit-less path."""
    return Q_(value, parse_unit(unit))


def require(q: pint.Quantity, dimension: str, what: str = "quantity") -> pint.Quantity:
    """Return ``q`` if it has ``dimension`` (e.g. ``"[energy]"``), else raise :class:`UnitError`."""
    if not isinstance(q, pint.Quantity):
        raise UnitError(f"{what} has no unit")
    if not q.check(dimension):
        raise UnitError(f"{what} in '{q.units:~}' is not a {dimension.strip('[]')} unit")
    return q


@lru_cache(maxsize=4096)
def scale(from_unit: str, to_unit: str) -> float:
    """Multiplier converting ``from_unit`` into ``to_unit``; :class:`UnitError` if dimensions differ.

    Used by vectorised code: one pint conversion per distinct unit pair, then plain float arithmetic.
    """
    src, dst = parse_unit(from_unit), parse_unit(to_unit)
    try:
        return float(Q_(1.0, src).to(dst).magnitude)
    except pint.DimensionalityError as exc:
        raise UnitError(f"'{from_unit}' cannot be converted to '{to_unit}' (different dimensions)") from exc


def dimension_of(unit: str) -> str:
    return str(parse_unit(unit).dimensionality)


def scales(units, to_unit: str):
    """Per-element multipliers from a sequence of unit strings into ``to_unit`` (one pint conversion per
    distinct unit), as a float numpy array."""
    import numpy as np
    import pandas as pd

    # factorize the column as it is: converting Arrow strings to objects first costs more than the arithmetic
    codes, uniques = pd.factorize(units if isinstance(units, pd.Series) else pd.Series(list(units)), sort=False)
    return np.array([scale(str(u), to_unit) for u in uniques], dtype=float)[codes] if len(uniques) else np.zeros(0)
