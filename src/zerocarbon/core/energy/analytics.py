"""Energy analytics on interval data: profiles, base load, peak demand, energy per unit, idle load,
and anomalies a person can act on.

Inputs are plain frames indexed by interval start (UTC): ``energy`` [kWh per interval] per line and
``units`` [units produced per interval] per line. Shifts are local clock hours.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SHIFTS = (("day", 8, 20), ("night", 20, 8))  # (name, start hour, end hour) local time; night wraps


def shift_of(local_hour: pd.Index | np.ndarray, shifts=SHIFTS) -> np.ndarray:
    out = np.empty(len(local_hour), dtype=object)
    h = np.asarray(local_hour)
    for name, a, b in shifts:
        mask = (h >= a) & (h < b) if a < b else (h >= a) | (h < b)
        out[mask] = name
    return out


def demand_kw(energy_kwh: pd.Series, interval_min: int = 15) -> pd.Series:
    return energy_kwh * 60.0 / interval_min


def base_and_peak(site_kwh: pd.Series, interval_min: int = 15) -> dict[str, float]:
    """Base load = 5th percentile of demand; peak = highest interval demand [kW]."""
    kw = demand_kw(site_kwh, interval_min)
    return {"base_kw": float(kw.quantile(0.05)), "peak_kw": float(kw.max()),
            "peak_at": kw.idxmax(), "load_factor": float(kw.mean() / kw.max()) if kw.max() > 0 else 0.0}


def energy_per_unit(energy: pd.DataFrame, units: pd.DataFrame, freq: str = "D") -> pd.DataFrame:
    """kWh per unit produced, per line and period (periods with no output are left out, not divided by 0)."""
    e = energy.resample(freq).sum().stack().rename("kwh")
    u = units.resample(freq).sum().stack().rename("units")
    df = pd.concat([e, u], axis=1).fillna(0.0)
    df = df[df["units"] > 0]
    df["kwh_per_unit"] = df["kwh"] / df["units"]
    return df.rename_axis(["period", "line"]).reset_index()


@dataclass(frozen=True)
class IdleFinding:
    line: str
    shift: str
    idle_kwh: float
    idle_hours: float
    co2_kg: float
    share_of_line_kwh: float


def idle_load(energy: pd.DataFrame, units: pd.DataFrame, kg_per_kwh: float, tz: str = "Asia/Shanghai",
              interval_min: int = 15, min_kw: float | None = None) -> list[IdleFinding]:
    """Energy a line draws in intervals where it produces nothing, per line and shift, with its CO2.

    An interval is idle when the line made zero units and drew more than ``min_kw`` (default: 5 % of the
    line's median demand while producing, so a switched-off line's trickle is not counted as waste).
    """
    local_hour = energy.index.tz_localize("UTC").tz_convert(tz).hour
    shifts = shift_of(local_hour)
    out = []
    for line in energy.columns:
        e = energy[line].fillna(0.0)
        u = units[line].reindex(energy.index).fillna(0.0) if line in units else pd.Series(0.0, index=energy.index)
        kw = demand_kw(e, interval_min)
        producing = u > 0
        threshold = min_kw if min_kw is not None else 0.05 * float(kw[producing].median() if producing.any() else 0)
        idle = (~producing) & (kw > threshold)
        total = float(e.sum())
        for s in sorted(set(shifts)):
            m = idle & (shifts == s)
            kwh = float(e[m].sum())
            out.append(IdleFinding(line, s, kwh, m.sum() * interval_min / 60.0, kwh * kg_per_kwh,
                                   kwh / total if total else 0.0))
    return out


def anomalies(energy: pd.DataFrame, units: pd.DataFrame, z: float = 3.0) -> list[str]:
    """Days when a line used far more energy than its own energy-vs-output line predicts, in words."""
    daily = energy_per_unit(energy, units, "D")
    notes = []
    for line, g in daily.groupby("line"):
        if len(g) < 10:
            continue
        slope, intercept = np.polyfit(g["units"], g["kwh"], 1)
        pred = intercept + slope * g["units"]
        resid = g["kwh"] - pred
        sd = resid.std(ddof=2)
        for r, p, res in zip(g.itertuples(), pred, resid):
            if sd > 0 and res > z * sd:
                notes.append(f"{line} on {r.period:%Y-%m-%d}: {r.kwh:,.0f} kWh for {r.units:,.0f} units, "
                             f"{res:,.0f} kWh ({res / p:.0%}) above its usual {p:,.0f} kWh for that output - "
                             "check for equipment left running or a process fault")
    return notes
