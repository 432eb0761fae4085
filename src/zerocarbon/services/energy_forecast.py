"""Day-ahead or week-ahead load forecast of a meter or a site from the lake, with its rolling-origin
backtest against seasonal naive (the same time a week earlier), so a reader sees whether the model earns
its keep before trusting the forecast."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import pandas as pd

from zerocarbon.core.energy.intervals import Meter
from zerocarbon.core.energy.mv import InsufficientData
from zerocarbon.errors import InputError, Problem
from zerocarbon.io.charts import forecast_chart
from zerocarbon.io.spreadsheet import write_csv
from zerocarbon.services.energy_data import interval_minutes, load_kwh, parse_day, select
from zerocarbon.solvers.forecast import LEAD_DAYS, backtest, forecast as predict_ahead

MAX_MISSING = 0.10  # share of intervals that may be interpolated before a forecast is refused


@dataclass
class ForecastResult:
    site: str
    timezone: str
    meters: list[str]
    horizon: str
    interval_min: int
    history_days: float
    filled_intervals: int
    backtest_days: int
    model_cv_rmse: float
    model_mape: float
    naive_cv_rmse: float
    naive_mape: float
    skill: float  # 1 - CV(RMSE) model / CV(RMSE) seasonal naive: > 0 when the model beats naive
    forecast_from: str  # local time, ISO 8601 with offset
    forecast_to: str
    forecast_kwh: float
    naive_kwh: float
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def forecast(root: Path, org: str, meters: dict[str, Meter], horizon: str = "day", meter_ids: list[str] | None = None,
             site: str | None = None, start: date | str | None = None, end: date | str | None = None,
             backtest_days: int = 14, out: Path | None = None,
             progress: Callable[[str, int, int], None] = lambda step, done, total: None) -> ForecastResult:
    """Backtest over the last ``backtest_days`` days of organisation ``org``'s history (local dates
    ``start``..``end``), then forecast the day or week after it. Energy in kWh per interval."""
    if horizon not in LEAD_DAYS:
        raise InputError([Problem("--horizon", None, None, f"'{horizon}' is not day or week")])
    if backtest_days < 1:
        raise InputError([Problem("--backtest-days", None, None, "must be at least 1")])
    sel = select(meters, site, meter_ids)
    progress("reading the lake", 0, 1)
    wide = load_kwh(root, org, sel, parse_day(start, "--from"), parse_day(end, "--to"))
    step = interval_minutes(wide)
    if step >= 1440:
        raise InputError([Problem("meter registry", None, "interval_min", f"meters {', '.join(sel.ids)} report "
                                                                          "daily; forecasts read sub-daily intervals")])
    steps_per_day = 1440 // step
    y = wide.sum(axis=1, min_count=1)
    missing = int(y.isna().sum())
    if missing > MAX_MISSING * len(y):
        raise InsufficientData(f"{missing} of {len(y)} intervals of {', '.join(sel.ids)} are missing "
                               f"(more than {MAX_MISSING:.0%}); a forecast needs a near-complete history")
    y = y.interpolate(limit_direction="both")
    # A whole number of days ending at the last reading, so every backtest origin has a full day to forecast.
    y = y.iloc[len(y) % steps_per_day:]
    days = len(y) / steps_per_day
    need = 7 + 7 + backtest_days + LEAD_DAYS[horizon]
    if days < need:
        raise InsufficientData(f"{days:.0f} days of history; a {horizon}-ahead forecast with a {backtest_days}-day "
                               f"backtest needs {need} (a week of lags, a week to learn from, the backtest)")
    bt = backtest(y, None, horizon, backtest_days, steps_per_day, tz=sel.timezone,
                  progress=lambda done, total: progress("backtest", done, total))
    progress("forecast", 0, 1)
    ahead = predict_ahead(y, horizon, steps_per_day, tz=sel.timezone)
    local = ahead.index.tz_localize("UTC").tz_convert(sel.timezone)
    res = ForecastResult(sel.site, sel.timezone, sel.ids, horizon, step, days, missing, backtest_days,
                         bt.model_cv_rmse, bt.model_mape, bt.naive_cv_rmse, bt.naive_mape, bt.skill,
                         local[0].isoformat(), (local[-1] + pd.Timedelta(minutes=step)).isoformat(),
                         float(ahead["forecast"].sum()), float(ahead["seasonal_naive"].sum()))
    if missing:
        res.notes.append(f"{missing} missing intervals were interpolated linearly")
    if bt.skill <= 0:
        res.notes.append("the model did not beat seasonal naive in the backtest: use the seasonal-naive column")
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        files = {"forecast_csv": out / f"forecast_{horizon}.csv", "result": out / f"forecast_{horizon}.json"}
        write_csv(pd.DataFrame({"local_start": [t.isoformat() for t in local],
                                "forecast_kwh": ahead["forecast"].round(4),
                                "seasonal_naive_kwh": ahead["seasonal_naive"].round(4)}), files["forecast_csv"])
        files["chart"] = forecast_chart(y, ahead, out / f"forecast_{horizon}.png", sel.timezone, "kWh",
                                        f"{' + '.join(sel.ids)}: {horizon}-ahead forecast "
                                        f"(backtest skill {bt.skill:+.0%} vs seasonal naive)")
        res.files = {k: str(v) for k, v in files.items()}
        files["result"].write_text(json.dumps(res.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    return res


__all__ = ["ForecastResult", "forecast"]
