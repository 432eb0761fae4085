"""Energy analytics on interval data: profiles, base load, peak demand, energy per unit, idle load,
and anomalies a person can act on.

Inputs are plain frames indexed by interval start (naive UTC): ``energy`` [kWh per interval] per line
and ``units`` [units produced per interval] per line. Every calendar cut (day, month, shift) is made on the
site's local clock ``tz``: a plant's day and its shifts are local, never UTC.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zerocarbon.errors import InputError, Problem

SHIFTS = (("day", 8, 20), ("night", 20, 8))  # (name, start hour, end hour) local time; night wraps


def parse_shifts(text: str) -> tuple[tuple[str, int, int], ...]:
    """``"day=8-20,night=20-8"`` -> (("day", 8, 20), ("night", 20, 8)); the shifts must cover 24 h once."""
    def bad(reason: str) -> InputError:
        return InputError([Problem("shifts", None, None, reason)])

    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            name, hours = part.split("=")
            a, b = (int(x) for x in hours.split("-"))
        except ValueError:
            raise bad(f"'{part}' is not NAME=START-END in whole local hours (e.g. day=8-20)") from None
        if not (0 <= a < 24 and 0 <= b < 24) or a == b:
            raise bad(f"'{part}': hours must be 0-23 and differ")
        out.append((name.strip(), a, b))
    names = [n for n, _, _ in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise bad(f"shift {', '.join(twice)} is named more than once in '{text}'")
    covered = np.zeros(24, dtype=int)
    for _, a, b in out:
        covered[[h % 24 for h in range(a, a + (b - a) % 24)]] += 1
    if not (covered == 1).all():
        gaps = [h for h in range(24) if covered[h] == 0]
        overlaps = [h for h in range(24) if covered[h] > 1]
        said = "; ".join(x for x in (f"no shift covers hour(s) {_hours(gaps)}" if gaps else "",
                                     f"hour(s) {_hours(overlaps)} are in more than one shift" if overlaps else "") if x)
        raise bad(f"'{text}' must cover every hour of the day exactly once: {said}")
    return tuple(out)


def _hours(hours: list[int]) -> str:
    """[20, 21, 22, 23, 0, 1] -> '20:00-02:00' style runs, in local whole hours."""
    runs, start = [], None
    for h in range(25):
        inside = h < 24 and h in hours
        if inside and start is None:
            start = h
        if not inside and start is not None:
            runs.append(f"{start:02d}:00-{h:02d}:00")
            start = None
    return ", ".join(runs)


def local_index(index: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """Naive UTC interval starts as naive local clock times in ``tz``."""
    return index.tz_localize("UTC").tz_convert(tz).tz_localize(None)


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
    """Base load = 5th percentile of demand; peak = highest interval demand [kW]; load factor = mean / peak.
    Missing intervals are left out, not counted as zero."""
    kw = demand_kw(site_kwh.dropna(), interval_min)
    if kw.empty:
        return {"base_kw": float("nan"), "peak_kw": float("nan"), "peak_at": None, "load_factor": float("nan"),
                "kwh": 0.0}
    return {"base_kw": float(kw.quantile(0.05)), "peak_kw": float(kw.max()),
            "peak_at": kw.idxmax(), "load_factor": float(kw.mean() / kw.max()) if kw.max() > 0 else 0.0,
            "kwh": float(site_kwh.sum())}


def energy_per_unit(energy: pd.DataFrame, units: pd.DataFrame, freq: str = "D", tz: str = "UTC") -> pd.DataFrame:
    """kWh per unit produced, per line and local period (periods with no output are left out, not divided
    by 0). ``freq`` is a pandas frequency of the local calendar: ``D`` days, ``MS`` months, ``YS`` years."""
    energy = energy.set_axis(local_index(energy.index, tz))
    units = units.set_axis(local_index(units.index, tz))
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


def idle_load(energy: pd.DataFrame, units: pd.DataFrame, kg_per_kwh: float, *, tz: str,
              interval_min: int = 15, min_kw: float | None = None, shifts=SHIFTS) -> list[IdleFinding]:
    """Energy a line draws in intervals where it produces nothing, per line and shift, with its CO2.

    ``kg_per_kwh`` [kgCO2/kWh] is the grid factor; ``tz`` the site's zone, whose clock the ``shifts``
    ((name, start hour, end hour), local) follow. An interval is idle when the line made zero units and drew
    more than ``min_kw`` [kW] (default: 5 % of the line's median demand while producing, so a switched-off
    line's trickle is not counted as waste).
    """
    local_hour = local_index(energy.index, tz).hour
    names = [name for name, _, _ in shifts]
    shifts = shift_of(local_hour, shifts)
    out = []
    for line in energy.columns:
        e = energy[line].fillna(0.0)
        u = units[line].reindex(energy.index).fillna(0.0) if line in units else pd.Series(0.0, index=energy.index)
        kw = demand_kw(e, interval_min)
        producing = u > 0
        threshold = min_kw if min_kw is not None else 0.05 * float(kw[producing].median() if producing.any() else 0)
        idle = (~producing) & (kw > threshold)
        total = float(e.sum())
        for s in names:
            m = idle & (shifts == s)
            kwh = float(e[m].sum())
            out.append(IdleFinding(line, s, kwh, m.sum() * interval_min / 60.0, kwh * kg_per_kwh,
                                   kwh / total if total else 0.0))
    return out


def anomaly_scan(energy: pd.DataFrame, units: pd.DataFrame, z: float = 3.0, tz: str = "UTC",
                 min_excess: float = 0.10) -> tuple[list[str], list[str]]:
    """Local days when a line used far more energy than its own energy-vs-output line predicts, in words:
    more than ``z`` residual standard deviations and more than ``min_excess`` (a share of the predicted
    use) above it, so a very steady line's 2 % wobble is not sent to a person as a fault.

    Returns (anomalies, notes). A line whose daily output hardly varies has no energy-vs-output line to
    draw (numpy's fit is rank-deficient): its days are compared with its mean daily use instead, and a
    note says so."""
    daily = energy_per_unit(energy, units, "D", tz)
    found, notes = [], []
    for line, g in daily.groupby("line"):
        if len(g) < 10:
            continue
        x, y = g["units"].to_numpy(dtype=float), g["kwh"].to_numpy(dtype=float)
        slope, intercept = _line_fit(x, y)
        if slope is None:
            slope, intercept = 0.0, float(y.mean())
            made = (f"the same output every day ({x[0]:,.0f} units)" if np.ptp(x) == 0 else
                    f"almost the same output every day ({x.min():,.0f} to {x.max():,.0f} units)")
            notes.append(f"{line} made {made}, so its use cannot be related to its output: its days are "
                         "compared with its mean daily use for anomalies")
        pred = intercept + slope * x
        resid = y - pred
        sd = resid.std(ddof=2 if slope else 1)
        for r, p, res in zip(g.itertuples(), pred, resid):
            if sd > 0 and res > z * sd and res > min_excess * p:
                found.append(f"{line} on {r.period:%Y-%m-%d}: {r.kwh:,.0f} kWh for {r.units:,.0f} units, "
                             f"{res:,.0f} kWh ({res / p:.0%}) above its usual {p:,.0f} kWh for that output - "
                             "check for equipment left running or a process fault")
    return found, notes


def _line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    """Slope and intercept of y on x by least squares, or (None, None) when x has no usable spread."""
    if np.ptp(x) == 0:
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.RankWarning)
        try:
            slope, intercept = np.polyfit(x, y, 1)
        except np.exceptions.RankWarning:
            return None, None
    return float(slope), float(intercept)


def anomalies(energy: pd.DataFrame, units: pd.DataFrame, z: float = 3.0, tz: str = "UTC",
              min_excess: float = 0.10) -> list[str]:
    """The anomalies of :func:`anomaly_scan`, without its notes."""
    return anomaly_scan(energy, units, z, tz, min_excess)[0]
