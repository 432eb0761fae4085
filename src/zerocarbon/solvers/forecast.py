"""Day-ahead and week-ahead forecasts of site load or PV, backtested against a seasonal-naive baseline.

Model: scikit-learn HistGradientBoostingRegressor on calendar features of the site's local clock (hour,
weekday, day of year),
optional drivers (production plan, temperature — known in advance) and the value one week earlier
(available at both horizons); day-ahead forecasts also use the value one day earlier. Baseline: the value
at the same time one week earlier (seasonal naive). Backtest: rolling origin, one forecast per day.
Metrics: CV(RMSE) and MAPE over intervals with a non-zero actual (PV is zero at night; MAPE is undefined there).
Series are indexed by interval start in naive UTC and must be regular (no gaps); ``tz`` names the local clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits


@dataclass(frozen=True)
class Backtest:
    horizon: str
    origins: int
    model_cv_rmse: float
    model_mape: float
    naive_cv_rmse: float
    naive_mape: float

    @property
    def skill(self) -> float:
        """1 - CV(RMSE)_model / CV(RMSE)_naive: positive when the model beats seasonal naive."""
        return 1 - self.model_cv_rmse / self.naive_cv_rmse if self.naive_cv_rmse else 0.0


LEAD_DAYS = {"day": 1, "week": 7}


def _features(y: pd.Series, drivers: pd.DataFrame | None, steps_per_day: int, horizon: str,
              tz: str = "UTC") -> pd.DataFrame:
    local = y.index.tz_localize("UTC").tz_convert(tz)
    X = pd.DataFrame(index=y.index)
    X["hour"] = local.hour + local.minute / 60
    X["weekday"] = local.day_of_week
    X["doy"] = local.day_of_year
    X["lag_week"] = y.shift(7 * steps_per_day)
    if horizon == "day":
        X["lag_day"] = y.shift(steps_per_day)
    if drivers is not None:
        X = X.join(drivers)
    return X


def _model(seed: int) -> HistGradientBoostingRegressor:
    # Fits run on one OpenMP thread: on a shared 2-core machine the threads' busy-waiting made a 0.25 s fit
    # take 12 s; one model per day of backtest is small enough that a thread each buys nothing.
    return HistGradientBoostingRegressor(max_iter=100, random_state=seed)


def _scores(actual: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    ok = ~np.isnan(pred) & ~np.isnan(actual)
    a, p = actual[ok], pred[ok]
    cv = float(np.sqrt(np.mean((a - p) ** 2)) / a.mean()) if a.mean() else float("nan")
    nz = a > 1e-9
    mape = float(np.mean(np.abs((a[nz] - p[nz]) / a[nz]))) if nz.any() else float("nan")
    return cv, mape


def backtest(y: pd.Series, drivers: pd.DataFrame | None = None, horizon: str = "day", days: int = 28,
             steps_per_day: int = 96, seed: int = 0, tz: str = "UTC",
             progress: Callable[[int, int], None] | None = None) -> Backtest:
    """Rolling-origin backtest over the last ``days`` days of ``y`` (a regular series, no gaps): each day is
    forecast from what was known ``horizon`` ahead of it, by the model and by seasonal naive."""
    with threadpool_limits(limits=1, user_api="openmp"):
        return _backtest(y, drivers, horizon, days, steps_per_day, seed, tz, progress)


def _backtest(y, drivers, horizon, days, steps_per_day, seed, tz, progress) -> Backtest:
    X = _features(y, drivers, steps_per_day, horizon, tz)
    lead = LEAD_DAYS[horizon]
    preds, naive, actual = [], [], []
    n = len(y)
    for k, d in enumerate(range(days, 0, -1), start=1):
        start = n - d * steps_per_day
        train_end = start - (lead - 1) * steps_per_day  # only data known at the forecast origin
        train = slice(7 * steps_per_day, train_end)
        model = _model(seed)
        model.fit(X.iloc[train], y.iloc[train])
        test = slice(start, start + steps_per_day)
        preds.append(model.predict(X.iloc[test]))
        naive.append(y.shift(7 * steps_per_day).iloc[test].to_numpy())
        actual.append(y.iloc[test].to_numpy())
        if progress:
            progress(k, days)
    a, p, nv = np.concatenate(actual), np.concatenate(preds), np.concatenate(naive)
    mc, mm = _scores(a, p)
    nc, nm = _scores(a, nv)
    return Backtest(horizon, days, mc, mm, nc, nm)


def forecast(y: pd.Series, horizon: str = "day", steps_per_day: int = 96, seed: int = 0,
             tz: str = "UTC") -> pd.DataFrame:
    """The next day (``horizon="day"``) or week after the last value of ``y``, fitted on all of ``y``:
    columns ``forecast`` and ``seasonal_naive`` (same time a week earlier), indexed by naive UTC start."""
    lead = LEAD_DAYS[horizon]
    step = y.index[1] - y.index[0]
    future = pd.date_range(y.index[-1] + step, periods=lead * steps_per_day, freq=step)
    extended = pd.concat([y, pd.Series(np.nan, index=future)])
    # Every lag stays inside known data: one day back for the next day, one week back for the next week.
    X = _features(extended, None, steps_per_day, horizon, tz)
    with threadpool_limits(limits=1, user_api="openmp"):
        model = _model(seed).fit(X.iloc[7 * steps_per_day:len(y)], y.iloc[7 * steps_per_day:])
        pred = model.predict(X.loc[future])
    return pd.DataFrame({"forecast": pred, "seasonal_naive": extended.shift(7 * steps_per_day).loc[future].to_numpy()},
                        index=future)
