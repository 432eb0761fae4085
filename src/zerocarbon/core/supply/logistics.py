"""Freight legs: distance, transport activity (t.km), well-to-tank and tank-to-wheel emissions, intensity.

Follows ISO 14083:2023 (Greenhouse gases: quantification and reporting of GHG emissions arising from
transport chain operations) and the GLEC Framework (Smart Freight Centre, v3): a transport chain is cut into
legs (one vehicle, one mode); each leg's emissions are well-to-wheel = tank-to-wheel (TTW: the vehicle's own
fuel combustion) + well-to-tank (WTT: producing and delivering the fuel); transport activity is mass x distance
[t.km]; the emission intensity of a leg is its well-to-wheel emissions / t.km [g CO2e per t.km].

Stable interface (the inventory's Scope 3 categories 4 and 9, the logistics report and modal-shift scenarios
call it)::

    leg_emissions(legs, fs, mode=None, vehicle=None, year=None, gwp_set=None) -> DataFrame

``legs``: one row per leg with columns ``mode`` (road | rail | sea | inland_waterway | air), ``vehicle`` ("" : the
mode's average, the factor ``<mode>.average`` or, for road, ``road.hgv_average_laden``), ``mass_t`` [t],
``distance_km`` [km] (NaN: from the coordinates), ``origin_lat``, ``origin_lon``, ``destination_lat``,
``destination_lon`` [decimal degrees], and optionally ``fuel``, ``fuel_quantity``, ``fuel_unit`` (the carrier's
fuel for the leg) and ``carrier_co2e_kg`` (well-to-wheel emissions the carrier reports). Other columns are kept.

``mode`` / ``vehicle`` given: every leg is computed as if carried by that mode and vehicle (a modal shift
scenario). The carrier's reported emissions and fuel data describe the actual vehicle and are set aside; a
given distance is kept, unless the leg has coordinates, in which case its distance is the great circle times
the new mode's distance adjustment factor.

Returned: the legs plus ``distance_km``, ``distance_source`` (given | great_circle), ``tkm``, ``ttw_kg``,
``wtt_kg`` (NaN for carrier-reported legs and legs with a published well-to-wheel factor only (``use`` wtw), which
come as one well-to-wheel figure), ``co2e_kg``, ``method``
(carrier_reported | fuel_based | distance_based, best available first), ``intensity_g_per_tkm``,
``factor_ids`` and ``formula``. A leg the set has no factor for raises FactorNotFoundError naming it.

Distance: a given distance is used as it is. Without one, the great-circle distance between the coordinates
(haversine formula, mean Earth radius 6,371.0088 km, IUGG) is multiplied by the mode's distance adjustment
factor (DAF), as ISO 14083 and the GLEC Framework prescribe when the actual route is unknown. The DAF of a mode
is a factor-library row of kind ``distance_adjustment`` (subject: the mode; unit km/km; a published value
with its source); a mode without one in the set is refused for coordinate-only legs rather than assumed.

Fuel-based legs: TTW = fuel x combustion factors of the set (CO2, CH4, N2O; mobile use) x GWP; WTT = fuel x
the set's ``fuel_wtt`` factor of that fuel (DESNZ "WTT - fuels").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zerocarbon.core.factors import Factor, FactorSet
from zerocarbon.errors import FactorNotFoundError
from zerocarbon.units import parse_unit, scale

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius R1
MODES = ("road", "rail", "sea", "inland_waterway", "air")
# The factor subject of a mode when no vehicle is named: the average the source publishes.
DEFAULT_VEHICLE = {"road": "hgv_average_laden", "rail": "freight_train", "sea": "container_ship_average",
                   "inland_waterway": "average", "air": "long_haul"}
LEG_COLUMNS = ("mode", "vehicle", "mass_t", "distance_km", "origin_lat", "origin_lon", "destination_lat",
               "destination_lon")


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine great-circle distance [km] between points in decimal degrees (arrays)."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_adjustment(fs: FactorSet, mode: str) -> Factor:
    found = [f for f in fs._of_kind("distance_adjustment") if f.subject == mode]
    if not found:
        have = sorted({f.subject for f in fs._of_kind("distance_adjustment")})
        raise FactorNotFoundError(
            f"a {mode} leg without a distance needs the mode's distance adjustment factor (great circle x DAF, "
            f"ISO 14083 / GLEC), and factor set {fs.id} has none for {mode}"
            + (f" (it has: {', '.join(have)})" if have else "") + "; give the leg's distance")
    return max(found, key=lambda f: f.year or 0)


def _ref(f: Factor) -> str:
    return f"{f.factor_id}@{f.edition}"


def _kg_per(f: Factor, unit: str) -> float:
    """kg CO2e of factor ``f`` per one ``unit`` of its denominator's dimension."""
    num, den = f.unit.split("/", 1)
    return f.value * scale(num, "kgCO2e" if "CO2e" in num else "kg") * scale(unit, den)


def _is_energy(unit: str) -> bool:
    return parse_unit(unit).dimensionality == parse_unit("J").dimensionality


def _same_dimension(a: str, b: str) -> bool:
    return parse_unit(a).dimensionality == parse_unit(b).dimensionality


def fuel_wtt_route(fs: FactorSet, fuel: str, unit: str, basis: str = "") -> tuple[float, list[Factor], str]:
    """kg CO2e of well-to-tank emissions per ``unit`` of ``fuel`` (on ``basis`` for energy units), with the factors
    used and the formula; a physical unit without a WTT factor of its own goes through the set's heating value.
    Raises FactorNotFoundError naming the fuel, its unit and what the set has."""
    wtt = fs.fuel_wtt(fuel)
    energy = _is_energy(unit)
    for f in wtt:
        den = f.unit.split("/", 1)[1]
        if energy and _is_energy(den) and f.basis == basis:
            return _kg_per(f, unit), [f], f"qty[{unit} {basis}] x WTT[{f.unit} {f.basis}]"
        if not energy and not _is_energy(den) and _same_dimension(unit, den):
            return _kg_per(f, unit), [f], f"qty[{unit}] x WTT[{f.unit}]"
    if not energy:
        for hv in fs.heating_values(fuel):
            hv_num, hv_den = hv.unit.split("/", 1)
            if not _same_dimension(unit, hv_den):
                continue
            for f in wtt:
                den = f.unit.split("/", 1)[1]
                if _is_energy(den) and f.basis == hv.basis:
                    k = scale(unit, hv_den) * hv.value * scale(hv_num, den) * _kg_per(f, den)
                    return k, [hv, f], f"qty[{unit}] x HV[{hv.unit} {hv.basis}] x WTT[{f.unit} {f.basis}]"
    have = ", ".join(f"{f.unit}{' ' + f.basis if f.basis else ''}" for f in wtt)
    raise FactorNotFoundError(f"no well-to-tank factor for {fuel} in {unit}{' ' + basis if basis else ''} in factor "
                              f"set {fs.id}" + (f" (it has {fuel} per {have})" if wtt else
                                                " (the set has no fuel_wtt factor for this fuel)"))


def _fuel_ttw(fs: FactorSet, fuel: str, unit: str, gwp_set: str) -> tuple[float, list[str], str]:
    """kg CO2e of combustion (CO2 + CH4 + N2O, mobile use) per ``unit`` of ``fuel``."""
    from zerocarbon.core.ghg.combustion import fuel_route
    from zerocarbon.core.ghg.gases import gwp_for

    route = fuel_route(fs, fuel, "mobile", unit, "")
    k, ids, parts = 0.0, [], []
    for g in route.gases:
        gwp = gwp_for(fs, g.gas, gwp_set, True)
        k += g.kg_per_activity_unit * gwp.value
        ids += [_ref(f) for f in g.factors] + [_ref(gwp)]
        parts.append(f"{g.gas}: {g.formula} x GWP {gwp.value:g}")
    if route.omitted:
        parts.append(f"{', '.join(route.omitted)}: no factor in set {fs.id}, not estimated")
    return k, ids, " + ".join(parts)


def _col(legs: pd.DataFrame, name: str, default) -> pd.Series:
    return legs[name] if name in legs else pd.Series(default, index=legs.index)


def leg_emissions(legs: pd.DataFrame, fs: FactorSet, mode: str | None = None, vehicle: str | None = None,
                  year: int | None = None, gwp_set: str | None = None) -> pd.DataFrame:
    """Emissions of freight legs (see the module docstring for the columns in and out)."""
    r = leg_arrays(legs, fs, mode, vehicle, year, gwp_set)
    out = legs.copy()
    out["mode"], out["vehicle"] = r.mode_of_pair[r.pair], r.vehicle_of_pair[r.pair]
    out["distance_km"] = r.distance
    out["distance_source"] = np.where(r.use_gc, "great_circle", "given")
    out["tkm"] = r.tkm
    out["ttw_kg"], out["wtt_kg"], out["co2e_kg"] = r.ttw, r.wtt, r.co2e
    out["method"] = np.array(METHODS, dtype=object)[r.method]
    out["intensity_g_per_tkm"] = r.intensity
    out["factor_ids"], out["formula"] = r.label_ids[r.label], r.label_formula[r.label]
    return out


METHODS = ("distance_based", "fuel_based", "carrier_reported")


@dataclass
class LegArrays:
    """What ``leg_emissions`` computes, as numpy arrays; text per distinct key, indexed by integer codes per leg."""

    pair: np.ndarray  # code of the leg's (mode, vehicle) into mode_of_pair / vehicle_of_pair / subject_of_pair
    mode_of_pair: np.ndarray
    vehicle_of_pair: np.ndarray
    subject: np.ndarray  # code of the leg's factor subject ``mode.vehicle`` into ``subjects``
    subjects: list[str]
    use_gc: np.ndarray
    distance: np.ndarray
    tkm: np.ndarray
    ttw: np.ndarray
    wtt: np.ndarray
    co2e: np.ndarray
    method: np.ndarray  # index into METHODS
    intensity: np.ndarray
    label: np.ndarray  # code into label_ids / label_formula
    label_ids: np.ndarray
    label_formula: np.ndarray


def _codes(values: pd.Series) -> tuple[np.ndarray, list]:
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64), list(uniq)


@dataclass
class LegSubjects:
    """The factor subject of every leg: integer codes per leg into the distinct (mode, vehicle) pairs and subjects."""

    m_code: np.ndarray  # per leg, into ``modes``
    modes: list[str]
    pair: np.ndarray  # per leg, into mode_of_pair / vehicle_of_pair
    mode_of_pair: np.ndarray
    vehicle_of_pair: np.ndarray  # "" resolved to the mode's default vehicle
    subject: np.ndarray  # per leg, into ``subjects`` (``mode.vehicle``)
    subjects: list[str]


def leg_subjects(legs: pd.DataFrame, mode: str | None = None, vehicle: str | None = None) -> LegSubjects:
    """Each leg's mode, vehicle and factor subject ``mode.vehicle`` (an empty vehicle: the mode's default), as codes
    into the distinct values (``mode`` / ``vehicle`` given: those for every leg)."""
    modes = pd.Series(mode, index=legs.index) if mode else _col(legs, "mode", "").fillna("").astype(str)
    vehicles = (pd.Series(vehicle or "", index=legs.index) if mode or vehicle
                else _col(legs, "vehicle", "").fillna("").astype(str))
    m_code, m_uniq = _codes(modes)
    v_code, v_uniq = _codes(vehicles)
    nv = max(len(v_uniq), 1)
    pair, pair_u = pd.factorize(m_code * nv + v_code)
    pair = pair.astype(np.int64)
    mode_of_pair = np.array([m_uniq[int(c) // nv] for c in pair_u], dtype=object)
    vehicle_of_pair = np.array([v_uniq[int(c) % nv] or DEFAULT_VEHICLE.get(m_uniq[int(c) // nv], "")
                                for c in pair_u], dtype=object)
    s_of_pair, subjects = pd.factorize(pd.Series([f"{m}.{v}" for m, v in zip(mode_of_pair, vehicle_of_pair)],
                                                 dtype=object))
    return LegSubjects(m_code, m_uniq, pair, mode_of_pair, vehicle_of_pair, s_of_pair.astype(np.int64)[pair],
                       list(subjects))


def leg_arrays(legs: pd.DataFrame, fs: FactorSet, mode: str | None = None, vehicle: str | None = None,
               year: int | None = None, gwp_set: str | None = None, subjects: LegSubjects | None = None) -> LegArrays:
    """``leg_emissions`` without building per-leg text: factors, ids and formulas are resolved once per distinct
    (mode, vehicle), fuel, carrier and distance source, and legs carry integer codes into them. ``subjects``: the
    legs' ``leg_subjects`` (same ``mode`` and ``vehicle``) when the caller has them already."""
    gwp_set = gwp_set or fs.rules.get("gwp_default", "AR5")
    n = len(legs)
    ls = subjects if subjects is not None else leg_subjects(legs, mode, vehicle)
    m_code, m_uniq = ls.m_code, ls.modes
    bad = sorted(set(m_uniq) - set(MODES))
    if bad:
        raise FactorNotFoundError(f"unknown transport mode {', '.join(map(repr, bad))}; one of {', '.join(MODES)}")
    pair, mode_of_pair, vehicle_of_pair = ls.pair, ls.mode_of_pair, ls.vehicle_of_pair
    subject, subjects = ls.subject, ls.subjects
    mass = _col(legs, "mass_t", np.nan).to_numpy(dtype=float)
    given = _col(legs, "distance_km", np.nan).to_numpy(dtype=float)
    coords = np.column_stack([_col(legs, c, np.nan).to_numpy(dtype=float)
                              for c in ("origin_lat", "origin_lon", "destination_lat", "destination_lon")])
    has_coords = ~np.isnan(coords).any(axis=1)
    use_gc = np.isnan(given) | (bool(mode) & has_coords)
    gc = np.full(n, np.nan)
    gc[use_gc] = great_circle_km(*coords[use_gc].T)
    daf = np.ones(n)
    daf_id = [""] * len(m_uniq)
    for mc in pd.unique(m_code[use_gc]):
        at = use_gc & (m_code == mc)
        m = m_uniq[mc]
        if not has_coords[at].all():
            raise FactorNotFoundError(f"a {m} leg has neither a distance nor all four coordinates")
        f = distance_adjustment(fs, m)
        daf[at] = f.value
        daf_id[mc] = _ref(f)
    distance = np.where(use_gc, gc * daf, given)
    tkm = mass * distance
    # Distance-based: t.km x (TTW + WTT) factor of the mode and vehicle.
    ttw = np.full(n, np.nan)
    wtt = np.full(n, np.nan)
    wtw = np.full(n, np.nan)
    method = np.zeros(n, dtype=np.int64)
    sub = subject.copy()  # the key of the leg's ids and formula within its method
    ids_of: dict[tuple[int, int], str] = {}
    form_of: dict[tuple[int, int], str] = {}
    for i, s in enumerate(subjects):
        at = subject == i
        try:
            ft, fw = fs.freight(s, "ttw", year), fs.freight(s, "wtt", year)
        except FactorNotFoundError:
            # A published well-to-wheel intensity without its split (use ``wtw``), else the TTW/WTT error.
            if not any(f.subject == s and f.use == "wtw" for f in fs._of_kind("freight")):
                raise
            f = fs.freight(s, "wtw", year)
            k = _kg_per(f, "tkm")
            wtw[at] = tkm[at] * k
            ids_of[0, i] = _ref(f)
            form_of[0, i] = f"t x km x WTW {k:g} kg CO2e/t.km [{s}; no TTW/WTT split published]"
            continue
        kt, kw = _kg_per(ft, "tkm"), _kg_per(fw, "tkm")
        ttw[at], wtt[at] = tkm[at] * kt, tkm[at] * kw
        ids_of[0, i] = f"{_ref(ft)};{_ref(fw)}"
        form_of[0, i] = f"t x km x (TTW {kt:g} + WTT {kw:g}) kg CO2e/t.km [{s}]"
    # Fuel-based: the carrier's fuel for the leg (not in a modal-shift scenario).
    if not mode:
        fuel = _col(legs, "fuel", "").fillna("").astype(str)
        qty = _col(legs, "fuel_quantity", np.nan).to_numpy(dtype=float)
        unit = _col(legs, "fuel_unit", "").fillna("").astype(str)
        has_fuel = ((fuel != "") & (unit != "")).to_numpy() & ~np.isnan(qty)
        if has_fuel.any():
            f_code, f_uniq = _codes(fuel)
            u_code, u_uniq = _codes(unit)
            fk = f_code * max(len(u_uniq), 1) + u_code
            for key in pd.unique(fk[has_fuel]):
                at = has_fuel & (fk == key)
                f_, u = f_uniq[int(key) // max(len(u_uniq), 1)], u_uniq[int(key) % max(len(u_uniq), 1)]
                kt, tid, tform = _fuel_ttw(fs, f_, u, gwp_set)
                kw, wf, wform = fuel_wtt_route(fs, f_, u)
                ttw[at], wtt[at] = qty[at] * kt, qty[at] * kw
                ids_of[1, int(key)] = ";".join(tid + [_ref(f) for f in wf])
                form_of[1, int(key)] = f"fuel-based: TTW {tform}; WTT {wform} [{f_}, carrier fuel data]"
                method[at], sub[at] = 1, key
        carrier = _col(legs, "carrier_co2e_kg", np.nan).to_numpy(dtype=float)
        reported = ~np.isnan(carrier)
        ttw[reported], wtt[reported] = np.nan, np.nan
        if reported.any():
            c_code, c_uniq = _codes(_col(legs, "carrier", "").fillna("").astype(str))
            for c in pd.unique(c_code[reported]):
                ids_of[2, int(c)] = "carrier:" + c_uniq[c]
                form_of[2, int(c)] = "carrier-reported well-to-wheel emissions of the leg (no TTW/WTT split)"
            method[reported], sub[reported] = 2, c_code[reported]
        co2e = np.where(reported, carrier, np.where(np.isnan(wtw), ttw + wtt, wtw))
    else:
        co2e = np.where(np.isnan(wtw), ttw + wtt, wtw)
    with np.errstate(divide="ignore", invalid="ignore"):
        intensity = np.where(tkm > 0, co2e * 1000.0 / tkm, np.nan)
    # One label per distinct (method, its key, distance source and mode): the leg's factor ids and formula.
    gc_mode = np.where(use_gc, m_code, -1)
    comb = (method * (max(int(sub.max(initial=0)), 0) + 1) + sub) * (len(m_uniq) + 1) + (gc_mode + 1)
    label, _ = pd.factorize(comb)
    label = label.astype(np.int64)
    first = pd.Series(label).drop_duplicates().index.to_numpy()
    label_ids, label_formula = np.empty(len(first), dtype=object), np.empty(len(first), dtype=object)
    for j, r in enumerate(first):
        key = (int(method[r]), int(sub[r]))
        ids, formula = ids_of[key], form_of[key]
        if use_gc[r]:
            d = daf_id[m_code[r]]
            ids = ids + ";" + d if d != "" else ids
            formula = formula + " ; distance = great circle x DAF"
        label_ids[j], label_formula[j] = ids, formula
    return LegArrays(pair, mode_of_pair, vehicle_of_pair, subject, subjects, use_gc, distance, tkm, ttw, wtt, co2e,
                     method, intensity, label, label_ids, label_formula)


__all__ = ["DEFAULT_VEHICLE", "EARTH_RADIUS_KM", "METHODS", "MODES", "LegArrays", "distance_adjustment",
           "fuel_wtt_route", "great_circle_km", "leg_arrays", "leg_emissions", "leg_subjects", "LegSubjects"]
