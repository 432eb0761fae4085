"""Energy analytics use case: from the lake and production counts to findings people act on."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from zerocarbon.core.energy.analytics import anomalies, base_and_peak, energy_per_unit, idle_load
from zerocarbon.core.energy.intervals import Meter
from zerocarbon.core.energy.mv import fit_baseline
from zerocarbon.io.charts import idle_chart, profile_chart
from zerocarbon.solvers.forecast import backtest
from zerocarbon.store import lake


def line_frames(root: Path, meters: dict[str, Meter], production_csv: Path, tz: str = "Asia/Shanghai"):
    lines = [m.id for m in meters.values() if m.line]
    ids = ", ".join(f"'{i}'" for i in lines)
    e = lake.query(root, f"SELECT meter, ts, value FROM readings WHERE meter IN ({ids})")
    energy = e.pivot(index="ts", columns="meter", values="value").sort_index()
    p = pd.read_csv(production_csv)
    p.index = pd.to_datetime(p.pop("timestamp")).dt.tz_localize(tz).dt.tz_convert("UTC").dt.tz_localize(None)
    return energy, p.reindex(energy.index).fillna(0.0)


def report(root: Path, meters: dict[str, Meter], production_csv: Path, kg_per_kwh: float, out: Path,
           forecast_days: int = 7) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    energy, units = line_frames(root, meters, production_csv)
    idle = idle_load(energy, units, kg_per_kwh)
    site = lake.query(root, "SELECT ts, sum(value) AS kwh FROM readings WHERE meter = 'MAIN' GROUP BY ts "
                            "ORDER BY ts").set_index("ts")["kwh"]
    epu = energy_per_unit(energy, units, "YS")
    daily = pd.DataFrame({"energy": energy.resample("D").sum().sum(axis=1),
                          "production": units.resample("D").sum().sum(axis=1)})
    daily = daily[daily["production"] > 0]
    fit = fit_baseline(daily, granularity="daily")
    bt = backtest(site.asfreq("15min").interpolate(), horizon="day", days=forecast_days)
    result = {
        "idle": [f.__dict__ for f in idle],
        "idle_total_kwh": sum(f.idle_kwh for f in idle), "idle_total_tco2": sum(f.co2_kg for f in idle) / 1000,
        "kwh_per_unit": epu.to_dict(orient="records"),
        "site_load": {k: (str(v) if k == "peak_at" else v) for k, v in base_and_peak(site).items()},
        "anomalies": anomalies(energy, units)[:20],
        "baseline_model": {"cv_rmse": fit.cv_rmse, "nmbe": fit.nmbe, "r2": fit.r2, "passes": fit.passes,
                           "reasons": list(fit.reasons)},
        "forecast_day_ahead": {"model_cv_rmse": bt.model_cv_rmse, "naive_cv_rmse": bt.naive_cv_rmse,
                               "model_mape": bt.model_mape, "naive_mape": bt.naive_mape, "skill": bt.skill,
                               "origins": bt.origins},
    }
    (out / "energy_report.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    idle_chart(idle, out / "idle_by_line.png")
    profile_chart(site, out / "site_load_profile.png")
    result["files"] = [str(out / "energy_report.json"), str(out / "idle_by_line.png"), str(out / "site_load_profile.png")]
    return result
