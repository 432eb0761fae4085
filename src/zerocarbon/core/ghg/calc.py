"""One-line quick check: a quantity of fuel (combustion) or of a released gas, to CO2e per gas."""
from __future__ import annotations

import math
from dataclasses import dataclass

from zerocarbon.core.factors import FactorSet
from zerocarbon.core.ghg.combustion import fuel_route
from zerocarbon.core.ghg.gases import canonical_gas, gwp_for
from zerocarbon.errors import FactorNotFoundError, InputError, Problem
from zerocarbon.units import quantity, require


@dataclass(frozen=True)
class GasLine:
    gas: str
    mass_kg: float
    gwp: float
    co2e_kg: float
    factor_ids: tuple[str, ...]


@dataclass(frozen=True)
class CalcResult:
    subject: str
    quantity: float
    unit: str
    factor_set: str
    gwp_set: str
    lines: tuple[GasLine, ...]
    omitted: tuple[str, ...]

    @property
    def total_co2e_kg(self) -> float:
        return sum(x.co2e_kg for x in self.lines)

    def as_dict(self) -> dict:
        return {
            "subject": self.subject, "quantity": self.quantity, "unit": self.unit,
            "factor_set": self.factor_set, "gwp_set": self.gwp_set,
            "gases": [{"gas": x.gas, "mass_kg": x.mass_kg, "gwp": x.gwp, "co2e_kg": x.co2e_kg,
                       "factor_ids": list(x.factor_ids)} for x in self.lines],
            "omitted_gases": list(self.omitted),
            "total_co2e_kg": self.total_co2e_kg, "total_co2e_t": self.total_co2e_kg / 1000.0,
        }


def calc(fs: FactorSet, value: float, unit: str, subject: str, gwp_set: str = "AR5", use: str = "stationary",
         basis: str = "") -> CalcResult:
    """``subject`` is a fuel of the set (combustion) or a gas released as such (e.g. ``R-410A``)."""
    if not math.isfinite(value):
        raise InputError([Problem("quantity", None, None, f"'{value}' is not a finite number")])
    if value < 0:
        raise InputError([Problem("quantity", None, None, f"{value:g} is negative; give the amount burnt or "
                                                          "released, zero or more")])
    q = quantity(value, unit)
    if subject in fs.fuels():
        route = fuel_route(fs, subject, use, unit, basis)
        lines = []
        for g in route.gases:
            w = gwp_for(fs, g.gas, gwp_set, fossil=True)
            kg = value * g.kg_per_activity_unit
            lines.append(GasLine(g.gas, kg, w.value, kg * w.value,
                                 tuple(f.factor_id for f in g.factors) + (w.factor_id,)))
        return _finite(CalcResult(subject, value, unit, fs.id, gwp_set, tuple(lines), route.omitted))
    try:
        w = gwp_for(fs, subject, gwp_set)
    except FactorNotFoundError:
        raise FactorNotFoundError(
            f"'{subject}' is neither a fuel of set {fs.id} ({', '.join(fs.fuels())}) nor a gas with a "
            f"{gwp_set} GWP") from None
    kg = require(q, "[mass]", f"release of {subject}").to("kg").magnitude
    return _finite(CalcResult(canonical_gas(subject), value, unit, fs.id, gwp_set,
                              (GasLine(canonical_gas(subject), kg, w.value, kg * w.value, (w.factor_id,)),), ()))


def _finite(result: CalcResult) -> CalcResult:
    # A finite quantity near the float limit can still overflow once multiplied by a factor and a GWP.
    if not all(math.isfinite(x) for line in result.lines for x in (line.mass_kg, line.co2e_kg)) \
            or not math.isfinite(result.total_co2e_kg):
        raise InputError([Problem("quantity", None, None, f"{result.quantity:g} {result.unit} gives a result beyond "
                                                          "the range of numbers; check the quantity and its unit")])
    return result


__all__ = ["calc", "CalcResult", "GasLine"]
