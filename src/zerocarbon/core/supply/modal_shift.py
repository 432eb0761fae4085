"""Green logistics: a summary of freight legs by transport mode, and modal-shift scenarios.

The legs come computed (one row per shipment leg, ISO 14083 / GLEC): ``mode``, ``mass_t`` [t], ``distance_km``
[km], ``tkm`` [t.km], ``ttw_kg`` and ``wtt_kg`` [kgCO2e] (tank-to-wheel: the vehicle's operation; well-to-tank:
the energy's upstream), ``method`` and ``category`` (4 upstream or 9 downstream transport). The engine that
computes them (distance-, fuel- or carrier-based) is ``core.supply.logistics``; :func:`distance_based_legs`
here computes legs from mass, distance and the set's ``freight`` factors, as the modal shift needs it for the
mode a leg moves to.

Intensity of a mode = (TTW + WTT) / t.km, in g CO2e per t.km (ISO 14083 reports emission intensity per
transport activity). A modal shift moves the legs matching a rule (a mode, longer than a distance) to another
mode: their new transport activity is mass x distance x the route ratio (a rail or sea route is rarely as long
as the road), times the new mode's TTW and WTT factors; every other leg keeps its emissions.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from zerocarbon.errors import FactorNotFoundError, InputError, Problem, UnitError
from zerocarbon.units import scale

MODES = ("road", "rail", "sea", "inland_waterway", "air")
# The freight factor (subject) a mode's leg uses when it names no vehicle, and the one a shift moves legs to
# unless the rule names another (factor-library keys, SUPPLY_SPEC "freight").
DEFAULT_VEHICLE = {"road": "road.hgv_average_laden", "rail": "rail.freight_train",
                   "sea": "sea.container_ship_average", "inland_waterway": "inland_waterway.average",
                   "air": "air.long_haul"}
LEG_COLUMNS = ("mode", "mass_t", "distance_km", "tkm", "ttw_kg", "wtt_kg")


@dataclass(frozen=True)
class ModeSummary:
    mode: str
    legs: int
    tkm: float  # [t.km]
    ttw_t: float  # [tCO2e]
    wtt_t: float  # [tCO2e]
    total_t: float  # [tCO2e] TTW + WTT
    g_per_tkm: float | None  # [gCO2e/(t.km)] (TTW + WTT) / t.km; None without transport activity
    ttw_g_per_tkm: float | None  # [gCO2e/(t.km)] TTW over the legs with a TTW/WTT split


def well_to_wheel_kg(legs: pd.DataFrame) -> pd.Series:
    """TTW + WTT of each leg [kgCO2e]; a carrier's reported well-to-wheel figure (``co2e_kg``, no split) where
    the leg has no TTW/WTT; NaN for a leg with neither."""
    split = legs["ttw_kg"] + legs["wtt_kg"]
    if "co2e_kg" in legs:
        return split.where(split.notna(), pd.to_numeric(legs["co2e_kg"], errors="coerce"))
    return split


def summary_by_mode(legs: pd.DataFrame) -> list[ModeSummary]:
    """t.km, TTW, WTT and intensity per mode of computed legs. A carrier-reported leg (one well-to-wheel figure,
    no TTW/WTT split) counts in the total and the intensity, not in TTW or WTT; legs without emissions are not
    counted."""
    if legs is None or len(legs) == 0:
        return []
    wtw = well_to_wheel_kg(legs)
    ok = legs.assign(_wtw=wtw)[wtw.notna()]
    out = []
    for mode, g in ok.groupby("mode", sort=False):
        tkm = float(g["tkm"].sum())
        ttw, wtt, total = float(g["ttw_kg"].sum()), float(g["wtt_kg"].sum()), float(g["_wtw"].sum())
        split_tkm = float(g.loc[g["ttw_kg"].notna(), "tkm"].sum())
        out.append(ModeSummary(str(mode), len(g), tkm, ttw / 1000, wtt / 1000, total / 1000,
                               total * 1000 / tkm if tkm > 0 else None,
                               ttw * 1000 / split_tkm if split_tkm > 0 else None))
    order = {m: i for i, m in enumerate(MODES)}
    return sorted(out, key=lambda s: (order.get(s.mode, len(MODES)), s.mode))


def _freight_index(factors: Iterable) -> dict[tuple[str, str], object]:
    out = {}
    for f in factors:
        if f.kind == "freight" and f.gas == "CO2e":
            out.setdefault((f.subject, f.use), f)
    return out


def per_tkm(factor) -> float:
    """A ``freight`` factor in kgCO2e per t.km (``kg/tkm`` of gas CO2e, or ``kgCO2e/tkm``)."""
    try:
        return factor.value * scale(factor.unit, "kgCO2e/tkm")
    except UnitError:
        return factor.value * scale(factor.unit, "kg/tkm")


def freight_pair(factors: Iterable, subject: str) -> tuple[object, object]:
    """The TTW and WTT factors of a freight subject; FactorNotFoundError naming what the set has."""
    index = factors if isinstance(factors, dict) else _freight_index(factors)
    ttw, wtt = index.get((subject, "ttw")), index.get((subject, "wtt"))
    if ttw is None or wtt is None:
        mode = subject.split(".", 1)[0]
        have = sorted({s for s, _ in index if s.split(".", 1)[0] == mode})
        lacking = " and ".join(u for u, f in (("TTW", ttw), ("WTT", wtt)) if f is None)
        raise FactorNotFoundError(f"no {lacking} freight factor for '{subject}' in the factor set; "
                                  + (f"its {mode} freight factors: {', '.join(have)}" if have
                                     else f"it has no {mode} freight factors"), entity=subject)
    return ttw, wtt


def distance_based_legs(shipments: pd.DataFrame, factors: Iterable, source: str = "shipment") -> pd.DataFrame:
    """Legs by the distance-based method: t.km = mass x distance; TTW, WTT = t.km x the vehicle's factors.

    ``shipments`` has ``mode``, ``vehicle`` (optional; the mode's default vehicle otherwise), ``mass``,
    ``mass_unit``, ``distance``, ``distance_unit``. A row without distance is an error here (the great-circle
    distance and the fuel- and carrier-based methods are the logistics engine's)."""
    index = _freight_index(factors)
    df = shipments.reset_index(drop=True)
    problems = []
    mass_t = np.full(len(df), np.nan)
    dist_km = np.full(len(df), np.nan)
    for col, unit_col, target, out in (("mass", "mass_unit", "t", mass_t), ("distance", "distance_unit", "km", dist_km)):
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        for u in df[unit_col].astype(str).unique():
            hit = df[unit_col].astype(str).to_numpy() == u
            try:
                out[hit] = values[hit] * scale(u, target)
            except UnitError as exc:
                problems.append(Problem(source, int(np.flatnonzero(hit)[0]) + 2, unit_col, str(exc)))
    bad = np.flatnonzero(~(np.isfinite(mass_t) & np.isfinite(dist_km)) | (mass_t < 0) | (dist_km < 0))
    problems += [Problem(source, int(i) + 2, "distance", "mass and distance must be numbers >= 0") for i in bad[:20]]
    if problems:
        raise InputError(problems)
    vehicles = df["vehicle"].fillna("").astype(str) if "vehicle" in df else pd.Series([""] * len(df))
    subject = [(v if v.startswith(f"{m}.") else f"{m}.{v}") if v else DEFAULT_VEHICLE.get(m, f"{m}.average")
               for m, v in zip(df["mode"].astype(str), vehicles)]
    tkm = mass_t * dist_km
    ttw = np.empty(len(df))
    wtt = np.empty(len(df))
    ids = []
    for s in sorted(set(subject)):
        f_ttw, f_wtt = freight_pair(index, s)
        hit = np.array([x == s for x in subject])
        ttw[hit] = tkm[hit] * per_tkm(f_ttw)
        wtt[hit] = tkm[hit] * per_tkm(f_wtt)
    for s in subject:
        f_ttw, f_wtt = index[(s, "ttw")], index[(s, "wtt")]
        ids.append(f"{f_ttw.factor_id},{f_wtt.factor_id}")
    out = pd.DataFrame({"mode": df["mode"].astype(str), "vehicle": subject, "mass_t": mass_t,
                        "distance_km": dist_km, "tkm": tkm, "ttw_kg": ttw, "wtt_kg": wtt,
                        "method": "distance_based", "factor_ids": ids})
    for c in ("category", "shipment", "leg", "activity_id"):
        if c in df:
            out[c] = df[c].to_numpy()
    return out


@dataclass(frozen=True)
class ShiftRule:
    """Which legs move where: legs of ``from_mode`` longer than ``min_distance_km`` go to ``to_vehicle``."""

    from_mode: str = "road"
    min_distance_km: float = 0.0  # [km] legs strictly longer than this move
    to_mode: str = "rail"
    to_vehicle: str = ""  # freight factor subject; "" = DEFAULT_VEHICLE[to_mode]
    distance_ratio: float = 1.0  # [-] new route length / present leg distance
    category: int | None = None  # 4 or 9: only legs of that Scope 3 category; None = both

    def target(self) -> str:
        if not self.to_vehicle:
            return DEFAULT_VEHICLE.get(self.to_mode, f"{self.to_mode}.average")
        return self.to_vehicle if self.to_vehicle.startswith(f"{self.to_mode}.") else f"{self.to_mode}.{self.to_vehicle}"

    def check(self) -> None:
        problems = []
        for name, mode in (("from_mode", self.from_mode), ("to_mode", self.to_mode)):
            if mode not in MODES:
                problems.append(Problem("modal shift", None, name, f"'{mode}' is not a mode ({', '.join(MODES)})"))
        if self.from_mode == self.to_mode:
            problems.append(Problem("modal shift", None, "to_mode", "the target mode is the present one"))
        if not (math.isfinite(self.min_distance_km) and self.min_distance_km >= 0):
            problems.append(Problem("modal shift", None, "min_distance_km", "must be a distance >= 0 km"))
        if not (math.isfinite(self.distance_ratio) and 0 < self.distance_ratio <= 5):
            problems.append(Problem("modal shift", None, "distance_ratio", "must be > 0 and at most 5 (the new "
                                    "route's length over the present leg's)"))
        if self.category not in (None, 4, 9):
            problems.append(Problem("modal shift", None, "category", "must be 4 or 9"))
        if problems:
            raise InputError(problems)


@dataclass(frozen=True)
class ShiftResult:
    rule: ShiftRule
    target_vehicle: str
    factor_ids: tuple[str, str]  # TTW, WTT factors of the target vehicle
    legs_moved: int
    tkm_moved: float  # [t.km] transport activity of the moved legs before the shift
    tkm_after: float  # [t.km] the same goods on the new mode (x distance ratio)
    baseline_t: float  # [tCO2e] TTW + WTT of every computed leg
    scenario_t: float  # [tCO2e]
    change_t: float  # [tCO2e] scenario - baseline (negative: a cut)
    change_pct: float | None  # [%] of the baseline
    moved_before_t: float  # [tCO2e] of the moved legs before
    moved_after_t: float  # [tCO2e] of the moved legs after
    baseline: list[ModeSummary]
    scenario: list[ModeSummary]
    not_moved_without_distance: int = 0  # matching legs with no distance, left as they are
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def modal_shift(legs: pd.DataFrame, rule: ShiftRule, factors: Iterable,
                recompute: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> ShiftResult:
    """Move the legs matching ``rule`` to its target mode and recompute: the change in tCO2e and t.km moved.

    Parameters
    ----------
    legs : DataFrame
        Computed legs (``LEG_COLUMNS``, optional ``co2e_kg`` for carrier-reported legs and ``category``).
    factors : iterable of Factor
        The factor set's factors (its ``freight`` factors give the target vehicle's TTW and WTT).
    recompute : callable, optional
        Computes the moved legs on the new mode (given them with ``distance_km`` already x the route ratio;
        returns them with ``tkm``, ``ttw_kg``, ``wtt_kg``): the logistics engine, which also re-derives a
        distance from coordinates with the new mode's distance adjustment. By default t.km x the target
        vehicle's TTW and WTT factors.
    """
    rule.check()
    target = rule.target()
    factors = list(factors)
    f_ttw, f_wtt = freight_pair(factors, target)
    k_ttw, k_wtt = per_tkm(f_ttw), per_tkm(f_wtt)
    legs = legs.reset_index(drop=True).copy()
    wtw = well_to_wheel_kg(legs)
    computed = wtw.notna()
    match = computed & (legs["mode"].astype(str) == rule.from_mode)
    if rule.category is not None and "category" in legs:
        match &= pd.to_numeric(legs["category"], errors="coerce") == rule.category
    dist = pd.to_numeric(legs["distance_km"], errors="coerce")
    no_distance = match & dist.isna()
    move = match & dist.notna() & (dist > rule.min_distance_km)
    before = float(wtw[move].sum()) / 1000
    moved = legs[move].copy()
    moved["distance_km"] = dist[move] * rule.distance_ratio
    if recompute is None or not len(moved):
        moved["tkm"] = moved["mass_t"] * moved["distance_km"]
        moved["ttw_kg"] = moved["tkm"] * k_ttw
        moved["wtt_kg"] = moved["tkm"] * k_wtt
    else:
        moved = recompute(moved)
        moved.index = legs.index[move]
    moved["mode"] = rule.to_mode
    if "co2e_kg" in legs:
        moved["co2e_kg"] = moved["ttw_kg"] + moved["wtt_kg"]
    scenario = legs.copy()
    for c in ("mode", "distance_km", "tkm", "ttw_kg", "wtt_kg") + (("co2e_kg",) if "co2e_kg" in legs else ()):
        scenario[c] = scenario[c].astype(object) if c == "mode" else scenario[c]
        scenario.loc[move, c] = moved[c]
    after = float((moved["ttw_kg"] + moved["wtt_kg"]).sum()) / 1000
    base_total = float(wtw[computed].sum()) / 1000
    scen_total = base_total - before + after
    notes = []
    if int(no_distance.sum()):
        notes.append(f"{int(no_distance.sum())} {rule.from_mode} leg(s) have no distance and stay as they are")
    if int((~computed).sum()):
        notes.append(f"{int((~computed).sum())} leg(s) without computed emissions are in neither total")
    return ShiftResult(rule, target, (f_ttw.factor_id, f_wtt.factor_id), int(move.sum()),
                       float(legs.loc[move, "tkm"].sum()), float(moved["tkm"].sum()), base_total, scen_total,
                       scen_total - base_total, 100 * (scen_total - base_total) / base_total if base_total else None,
                       before, after, summary_by_mode(legs), summary_by_mode(scenario),
                       int(no_distance.sum()), notes)
