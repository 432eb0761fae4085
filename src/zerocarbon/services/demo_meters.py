"""A year of 15-minute meter data and production counts for the demo Hefei plant's line group.

Lines follow the same power parameters as the scheduling demo (``demo_plant.LINES``). The plant runs
the conventional way: lines are on from 06:00 to 24:00 Monday to Saturday whether or not there is work
(about 70 % of on-time producing), and on some nights (30 %) an SMT line is left on overnight — the idle
running the scheduler removes. HVAC follows the season, compressed air a base plus a share of production,
PV a clear-sky-like curve scaled to 3,000 MWh/yr for the whole plant (this group gets 8 % of it). The
revenue meter (MAIN) is a cumulative register stamped at interval ends, so the import pipeline's register
and stamp handling is exercised; all other meters report interval energy stamped at interval start.
Everything here is a generator parameter, not measured data.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zerocarbon.services.demo_plant import LINES

YEAR = 2025


def generate(out: Path, seed: int = 5, year: int = YEAR) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    idx = pd.date_range(f"{year}-01-01 00:00", f"{year}-12-31 23:45", freq="15min")  # local (Asia/Shanghai)
    n = len(idx)
    hour = np.asarray(idx.hour + idx.minute / 60)
    workday = np.asarray(idx.day_of_week < 6)
    shift_on = workday & (hour >= 6)
    readings, units, registry = {}, {}, []
    day_codes = np.asarray((idx.normalize() - idx[0].normalize()).days)
    for lid, stage, run, idle, stby, _, _, rates, _, _ in LINES:
        producing = shift_on & (rng.random(n) < 0.70)
        # runs of work last a while: smooth the random mask over an hour
        producing = pd.Series(producing.astype(float)).rolling(4, min_periods=1).mean().to_numpy() > 0.5
        producing &= shift_on
        left_on = np.zeros(n, dtype=bool)
        if stage == "SMT":
            nights = rng.random(day_codes.max() + 1) < 0.30
            left_on = nights[day_codes] & ~shift_on & workday
        on = shift_on | left_on
        kw = np.where(producing, run * rng.normal(1, 0.04, n), np.where(on, idle, stby))
        readings[lid] = kw * 0.25
        rate = np.mean(list(rates.values()))
        units[lid] = np.where(producing, np.round(rate * 0.25 * rng.normal(1, 0.05, n)), 0)
        registry.append({"id": lid, "site": "HF01", "area": stage, "line": lid, "medium": "electricity",
                         "unit": "kWh", "multiplier": 1, "register": "interval", "stamp": "start",
                         "interval_min": 15, "timezone": "Asia/Shanghai", "revenue": "false"})
    season = 1 + 0.6 * np.cos((np.asarray(idx.day_of_year) - 205) / 365 * 2 * np.pi) ** 2
    readings["HVAC"] = (60 + 80 * season * np.where(shift_on, 1.0, 0.5)) * 0.25 * rng.normal(1, 0.03, n)
    prod_total = sum(units.values())
    readings["AIR"] = (25 + 0.05 * prod_total / 0.25) * 0.25
    doy = np.asarray(idx.day_of_year)
    sun = np.clip(np.sin(np.pi * (hour - 6) / 13), 0, None) * (1 + 0.3 * np.cos((doy - 172) / 365 * 2 * np.pi))
    pv_kwh = sun / sun.sum() * 3_000_000 * 0.08
    readings["PV"] = pv_kwh
    for mid, area in (("HVAC", "utilities"), ("AIR", "utilities"), ("PV", "roof")):
        registry.append({"id": mid, "site": "HF01", "area": area, "line": "", "medium": "pv" if mid == "PV" else "electricity",
                         "unit": "kWh", "multiplier": 1, "register": "interval", "stamp": "start",
                         "interval_min": 15, "timezone": "Asia/Shanghai", "revenue": "false"})
    grid = sum(readings[k] for k in readings if k != "PV") - readings["PV"]
    grid = np.maximum(grid, 0)
    # MAIN: cumulative register (kWh / 10 at a CT ratio of 10), stamped at interval end
    register = 123_456.0 + np.cumsum(grid / 10.0)
    registry.append({"id": "MAIN", "site": "HF01", "area": "incomer", "line": "", "medium": "electricity",
                     "unit": "kWh", "multiplier": 10, "register": "cumulative", "stamp": "end", "interval_min": 15,
                     "timezone": "Asia/Shanghai", "revenue": "true"})
    stamps = idx.strftime("%Y-%m-%d %H:%M:%S")
    end_stamps = (idx + pd.Timedelta(minutes=15)).strftime("%Y-%m-%d %H:%M:%S")
    frames = [pd.DataFrame({"meter": k, "timestamp": stamps, "value": np.round(v, 4)}) for k, v in readings.items()]
    # The register's first reading is the start of the year: it closes no interval.
    frames.append(pd.DataFrame({"meter": "MAIN", "timestamp": np.r_[[idx[0].strftime("%Y-%m-%d %H:%M:%S")], end_stamps],
                                "value": np.round(np.r_[[123_456.0], register], 3)}))
    paths = {"registry": out / "meters.csv", "readings": out / f"readings_{year}.csv",
             "production": out / f"production_{year}.csv"}
    pd.DataFrame(registry).to_csv(paths["registry"], index=False)
    pd.concat(frames, ignore_index=True).to_csv(paths["readings"], index=False)
    pd.DataFrame({"timestamp": stamps, **units}).to_csv(paths["production"], index=False)
    return paths
