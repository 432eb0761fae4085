"""Scope 1 fuel combustion: choose a factor route for a fuel quantity and turn it into gas masses.

Formulas (GHG Protocol Corporate Standard ch.6; IPCC 2006 Vol.2 ch.2 eq.2.1; GB/T 32150-2015 §7):
    E_gas [kg] = activity [energy, basis B] x EF_gas [kg/energy, basis B]
    E_gas [kg] = activity [mass|volume|gas amount] x HV [energy/unit, basis B] x EF_gas [kg/energy, basis B]
    E_gas [kg] = activity [physical unit] x EF_gas [kg/physical unit]
The energy basis of activity, heating value and factor must agree; otherwise
:class:`BasisMismatchError` is raised. No default GCV/NCV ratio is applied (none is sourced).
"""
from __future__ import annotations

from dataclasses import dataclass

from zerocarbon.core.factors import Factor, FactorSet
from zerocarbon.errors import BasisMismatchError, FactorNotFoundError, UnitError
from zerocarbon.units import parse_unit, scale

GASES = ("CO2", "CH4", "N2O")
BASES = ("NCV", "GCV")
BASIS_ALIASES = {"NCV": "NCV", "LHV": "NCV", "GCV": "GCV", "HHV": "GCV", "": ""}


def normalise_basis(text: str | None) -> str:
    key = (text or "").strip().upper()
    if key not in BASIS_ALIASES:
        raise BasisMismatchError(f"unknown energy basis '{text}'; use NCV (=LHV) or GCV (=HHV)")
    return BASIS_ALIASES[key]


def _is_energy(unit: str) -> bool:
    return parse_unit(unit).dimensionality == parse_unit("J").dimensionality


def _denominator(unit: str) -> str:
    return unit.split("/", 1)[1]


def _same_dimension(a: str, b: str) -> bool:
    return parse_unit(a).dimensionality == parse_unit(b).dimensionality


@dataclass(frozen=True)
class GasRoute:
    """How one activity unit becomes kilograms of one gas."""

    gas: str
    kg_per_activity_unit: float
    factors: tuple[Factor, ...]
    formula: str


@dataclass(frozen=True)
class FuelRoute:
    gases: tuple[GasRoute, ...]
    omitted: tuple[str, ...]  # gases with no sourced factor, disclosed as exclusions


def _route_one(fs: FactorSet, fuel: str, gas: str, use: str, unit: str, basis: str) -> GasRoute | None:
    energy = _is_energy(unit)
    mismatched: list[Factor] = []
    for f in fs.combustion_factors(fuel, gas, use):
        per = _denominator(f.unit)
        mass_per = f.unit.split("/", 1)[0]
        to_kg = scale(mass_per, "kg")
        if f.kind == "combustion":  # per energy, on f.basis
            if energy:
                if basis != f.basis:
                    mismatched.append(f)
                    continue
                k = scale(unit, per) * f.value * to_kg
                return GasRoute(gas, k, (f,), f"qty[{unit} {basis}] x EF[{f.unit} {f.basis}]")
            for hv in fs.heating_values(fuel):
                if hv.basis != f.basis or not _same_dimension(unit, _denominator(hv.unit)):
                    continue
                hv_energy = hv.unit.split("/", 1)[0]
                k = scale(unit, _denominator(hv.unit)) * hv.value * scale(hv_energy, per) * f.value * to_kg
                return GasRoute(gas, k, (hv, f),
                                f"qty[{unit}] x HV[{hv.unit} {hv.basis}] x EF[{f.unit} {f.basis}]")
        else:  # per physical unit
            if not energy and _same_dimension(unit, per):
                k = scale(unit, per) * f.value * to_kg
                return GasRoute(gas, k, (f,), f"qty[{unit}] x EF[{f.unit}]")
    if mismatched:
        f = mismatched[0]
        raise BasisMismatchError(
            f"{fuel} quantity is on a {basis or 'unstated'} basis but factor {f.factor_id} is on {f.basis}; "
            f"convert the quantity with a sourced GCV/NCV ratio, or state basis={f.basis} if that is what "
            "the meter or invoice gives")
    return None


NONROAD = "nonroad."


def is_mobile_use(use: str) -> bool:
    """Mobile combustion: road vehicles (``mobile``) and non-road equipment (``nonroad.<category>``)."""
    return use == "mobile" or use.startswith(NONROAD)


def is_combustion_use(use) -> bool:
    return isinstance(use, str) and (use == "stationary" or (is_mobile_use(use) and use != NONROAD))


def fuel_route(fs: FactorSet, fuel: str, use: str, unit: str, basis: str = "") -> FuelRoute:
    """Resolve the gas routes for ``fuel`` used as ``use`` measured in ``unit``.

    ``use`` is ``stationary``, ``mobile`` or a non-road equipment category of the set (``nonroad.<category>``,
    e.g. US EPA Hub Table 5), whose CH4 and N2O factors then apply.
    """
    if not is_combustion_use(use):
        raise FactorNotFoundError(f"use '{use}' is not stationary, mobile or nonroad.<equipment category>",
                                  column="use")
    if use.startswith(NONROAD):
        known = fs.nonroad_uses(fuel)
        if use not in known:
            raise FactorNotFoundError(
                f"no non-road category '{use}' for {fuel} in set {fs.id}; "
                + (f"known: {', '.join(known)}" if known else "the set has no non-road factors for this fuel"),
                column="use")
    basis = normalise_basis(basis)
    if _is_energy(unit) and not basis:
        raise BasisMismatchError(
            f"{fuel} given in {unit} without an energy basis; state NCV (LHV) or GCV (HHV)")
    if not _is_energy(unit) and not any(
        _same_dimension(unit, d) for d in ("kg", "m**3", "mol")
    ):
        raise UnitError(f"{fuel} quantity unit '{unit}' is not an energy, mass, volume or gas-amount unit")
    if fuel not in fs.fuels():
        raise FactorNotFoundError(
            f"fuel '{fuel}' has no factor in set {fs.id}; known fuels: {', '.join(fs.fuels())}", column="fuel")
    routes, omitted = [], []
    for gas in GASES:
        r = _route_one(fs, fuel, gas, use, unit, basis)
        if r is not None:
            routes.append(r)
        elif gas == "CO2" or fs.rules["combustion"].get("missing_non_co2") != "disclose":
            hint = ("; if this is a gas, its volume needs reference conditions: Nm3 (0 degC), Sm3 (15 degC) or scf"
                    if _same_dimension(unit, "m**3") else "")
            if use == "mobile" and fs.nonroad_uses(fuel):
                hint += (f"; for non-road equipment give its category as use, one of "
                         f"{', '.join(fs.nonroad_uses(fuel))}")
            raise FactorNotFoundError(
                f"no {gas} factor in set {fs.id} for {fuel} ({use}) measured in {unit}"
                + (f" ({basis})" if basis else "") + hint, column="unit")
        else:
            omitted.append(gas)
    return FuelRoute(tuple(routes), tuple(omitted))
