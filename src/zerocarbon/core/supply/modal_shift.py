"""Green logistics: a summary of freight legs by transport mode, and modal-shift scenarios.

The legs come computed (one row per shipment leg, ISO 14083 / GLEC) by the freight engine
:func:`zerocarbon.core.supply.logistics.leg_emissions`: ``mode``, ``mass_t`` [t], ``distance_km`` [km], ``tkm``
[t.km], ``ttw_kg`` and ``wtt_kg`` [kgCO2e] (tank-to-wheel: the vehicle's operation; well-to-tank: the energy's
upstream), ``co2e_kg`` (well-to-wheel; the only figure of a carrier-reported leg), ``method`` and ``category``
(4 upstream or 9 downstream transport).

Intensity of a mode = (TTW + WTT) / t.km, in g CO2e per t.km (ISO 14083 reports emission intensity per
transport activity). A modal shift moves the legs matching a rule (a mode, longer than a distance) to another
mode and recomputes them with the same engine, as if carried by the rule's mode and vehicle: the new distance is
the leg's distance x the route ratio (a rail or sea route is rarely as long as the road), or, for a leg with
coordinates, the great circle x the new mode's distance adjustment factor; the emissions are t.km x the new
vehicle's TTW and WTT factors. Every other leg keeps its emissions.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from zerocarbon.core.factors import FactorSet
from zerocarbon.core.supply import logistics
from zerocarbon.errors import FactorNotFoundError, InputError, Problem

MODES = logistics.MODES
# The freight factor (subject) a shift moves legs to unless the rule names another vehicle: the engine's
# default vehicle of the mode (factor-library keys, SUPPLY_SPEC "freight").
DEFAULT_VEHICLE = {m: f"{m}.{v}" for m, v in logistics.DEFAULT_VEHICLE.items()}
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
    factor_ids: tuple[str, ...]  # TTW and WTT factors of the target vehicle (its one WTW factor if no split)
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


def target_factor_ids(fs: FactorSet, subject: str, year: int | None = None) -> tuple[str, ...]:
    """The TTW and WTT factor ids of a freight subject (``<mode>.<vehicle>``) in ``fs``, or its one well-to-wheel
    factor (``use`` wtw, no split published); FactorNotFoundError naming what the set has."""
    have = {f.use for f in fs._of_kind("freight") if f.subject == subject}
    if "ttw" in have and "wtt" in have:
        return fs.freight(subject, "ttw", year).factor_id, fs.freight(subject, "wtt", year).factor_id
    if "wtw" in have:
        return (fs.freight(subject, "wtw", year).factor_id,)
    mode = subject.split(".", 1)[0]
    same_mode = sorted({f.subject for f in fs._of_kind("freight") if f.subject.split(".", 1)[0] == mode})
    lacking = " and ".join(u for u in ("TTW", "WTT") if u.lower() not in have)
    raise FactorNotFoundError(f"no {lacking} freight factor for '{subject}' in factor set {fs.id}; "
                              + (f"its {mode} freight factors: {', '.join(same_mode)}" if same_mode
                                 else f"it has no {mode} freight factors"), entity=subject)


def modal_shift(legs: pd.DataFrame, rule: ShiftRule, fs: FactorSet, year: int | None = None) -> ShiftResult:
    """Move the legs matching ``rule`` to its target mode and recompute: the change in tCO2e and t.km moved.

    Parameters
    ----------
    legs : DataFrame
        Legs computed by ``logistics.leg_emissions`` (at least ``LEG_COLUMNS``; ``co2e_kg`` for carrier-reported
        legs; ``category``; the coordinates, if any).
    fs : FactorSet
        The set the moved legs are recomputed with (its ``freight`` factors of the target vehicle, and the new
        mode's distance adjustment factor for legs with coordinates).
    year : int, optional
        Reporting year: the freight factors of that year or the latest before it.
    """
    rule.check()
    target = rule.target()
    factor_ids = target_factor_ids(fs, target, year)
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
    moved = logistics.leg_emissions(moved, fs, mode=rule.to_mode, vehicle=target.split(".", 1)[1], year=year)
    scenario = legs.copy()
    for c in ("mode", "vehicle", "distance_km", "tkm", "ttw_kg", "wtt_kg", "co2e_kg", "method"):
        if c not in scenario:
            scenario[c] = None if c in ("vehicle", "method") else float("nan")
        if c in ("mode", "vehicle", "method"):
            scenario[c] = scenario[c].astype(object)
        scenario.loc[move, c] = moved[c]
    after = float(moved["co2e_kg"].sum()) / 1000
    base_total = float(wtw[computed].sum()) / 1000
    scen_total = base_total - before + after
    notes = []
    if int(no_distance.sum()):
        notes.append(f"{int(no_distance.sum())} {rule.from_mode} leg(s) have no distance and stay as they are")
    if int((~computed).sum()):
        notes.append(f"{int((~computed).sum())} leg(s) without computed emissions are in neither total")
    return ShiftResult(rule, target, factor_ids, int(move.sum()),
                       float(legs.loc[move, "tkm"].sum()), float(moved["tkm"].sum()), base_total, scen_total,
                       scen_total - base_total, 100 * (scen_total - base_total) / base_total if base_total else None,
                       before, after, summary_by_mode(legs), summary_by_mode(scenario),
                       int(no_distance.sum()), notes)
