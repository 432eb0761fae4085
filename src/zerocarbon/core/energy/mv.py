"""Measurement & verification: baseline models, ASHRAE Guideline 14 fit metrics, avoided energy.

IPMVP Option C/B style: a baseline model fitted on the baseline period predicts what the reporting period
would have used; avoided energy = prediction - actual. Two model forms:
- ``linear``: energy ~ production (+ temperature terms), for daily or monthly data;
- ``towt``: hourly time-of-week-and-temperature model (Mathieu et al. 2011, LBNL): an indicator per hour of
  the week plus a piecewise-linear temperature term with knots at fixed temperatures.

Fit metrics (ASHRAE Guideline 14-2014, Annex B), with p the number of model parameters:
    CV(RMSE) = sqrt(sum (y - yhat)^2 / (n - p)) / mean(y)
    NMBE     = sum (y - yhat) / ((n - p) * mean(y))
Acceptance (G14-2014 calibration criteria as commonly applied): monthly CV(RMSE) <= 15 % and |NMBE| <= 5 %;
hourly CV(RMSE) <= 30 % and |NMBE| <= 10 % (the hourly NMBE bound is from the developers' knowledge of the
guideline and should be checked against the text). Savings are refused, with the reason, when a criterion
fails or the baseline data are insufficient (< 90 % of intervals present, or less than 12 months for
monthly models / 180 days for daily / 8 weeks for hourly models).

Savings uncertainty (G14 fractional savings uncertainty, no autocorrelation correction):
    U = t(conf, n - p) x 1.26 x CV(RMSE) x sqrt((n / m) x (1 + 2 / n)) x E_baseline,reporting
with n baseline points and m reporting points.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CRITERIA = {"monthly": (0.15, 0.05), "daily": (0.25, 0.10), "hourly": (0.30, 0.10)}
MIN_SPAN = {"monthly": pd.Timedelta(days=330), "daily": pd.Timedelta(days=180), "hourly": pd.Timedelta(weeks=8)}
TEMP_KNOTS = (10.0, 18.0, 24.0, 30.0)  # [degC] piecewise-linear temperature knots for TOWT


@dataclass(frozen=True)
class Fit:
    form: str
    granularity: str
    coef: np.ndarray
    columns: tuple[str, ...]
    n: int
    p: int
    cv_rmse: float
    nmbe: float
    r2: float
    passes: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Savings:
    avoided: float  # baseline prediction - actual, reporting period [energy unit of y]
    baseline: float  # predicted use in the reporting period
    actual: float
    uncertainty: float  # +/- at the confidence level
    confidence: float
    fraction: float


def design(df: pd.DataFrame, form: str, drivers: tuple[str, ...] = ("production",)) -> pd.DataFrame:
    if form == "linear":
        X = pd.DataFrame({"intercept": 1.0}, index=df.index)
        for d in drivers:
            X[d] = df[d].astype(float)
        return X
    # TOWT: hour-of-week indicators + piecewise-linear temperature (one slope per segment between knots)
    how = df.index.day_of_week * 24 + df.index.hour
    X = pd.get_dummies(pd.Categorical(how, categories=range(168)), prefix="how").astype(float)
    X.index = df.index
    t = df["temperature"].astype(float).to_numpy()
    edges = (-np.inf,) + TEMP_KNOTS + (np.inf,)
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        base = lo if np.isfinite(lo) else 0.0
        X[f"temp{i}"] = np.clip(t, lo, hi) - base if np.isfinite(lo) else np.minimum(t, hi)
    for d in drivers:
        if d in df and d != "temperature":
            X[d] = df[d].astype(float)
    # Hours of the week or temperature segments never seen in the data carry no information.
    return X.loc[:, X.abs().sum() > 0]


def metrics(y: np.ndarray, yhat: np.ndarray, p: int) -> tuple[float, float, float]:
    n = len(y)
    resid = y - yhat
    ybar = y.mean()
    cv = float(np.sqrt((resid ** 2).sum() / (n - p)) / ybar)
    nmbe = float(resid.sum() / ((n - p) * ybar))
    r2 = float(1 - (resid ** 2).sum() / ((y - ybar) ** 2).sum()) if n > 1 else 0.0
    return cv, nmbe, r2


def fit_baseline(df: pd.DataFrame, y: str = "energy", form: str = "linear", granularity: str = "daily",
                 drivers: tuple[str, ...] = ("production",), expected_points: int | None = None) -> Fit:
    """Fit on the baseline period (``df`` indexed by time). Says why it may not be used, if it may not."""
    reasons = []
    data = df.dropna(subset=[y])
    X = design(data, form, drivers)
    Y = data[y].to_numpy(dtype=float)
    coef, *_ = np.linalg.lstsq(X.to_numpy(), Y, rcond=None)
    n, p = len(Y), int(np.linalg.matrix_rank(X.to_numpy()))  # parameters actually identified
    if n <= p:
        raise ValueError(f"{n} baseline points cannot fit a model with {p} parameters")
    cv, nmbe, r2 = metrics(Y, X.to_numpy() @ coef, p)
    max_cv, max_nmbe = CRITERIA[granularity]
    if cv > max_cv:
        reasons.append(f"CV(RMSE) {cv:.1%} exceeds the ASHRAE Guideline 14 limit of {max_cv:.0%} for {granularity} data")
    if abs(nmbe) > max_nmbe:
        reasons.append(f"NMBE {nmbe:+.1%} is outside +/-{max_nmbe:.0%}")
    span = data.index.max() - data.index.min()
    if span < MIN_SPAN[granularity]:
        reasons.append(f"baseline covers {span.days} days; {granularity} models need {MIN_SPAN[granularity].days}")
    if expected_points and n < 0.9 * expected_points:
        reasons.append(f"only {n} of {expected_points} baseline intervals have data (< 90 %)")
    return Fit(form, granularity, coef, tuple(X.columns), n, p, cv, nmbe, r2, not reasons, tuple(reasons))


def predict(fit: Fit, df: pd.DataFrame, drivers: tuple[str, ...] = ("production",)) -> np.ndarray:
    X = design(df, fit.form, drivers).reindex(columns=list(fit.columns), fill_value=0.0)
    return X.to_numpy() @ fit.coef


class SavingsRefused(ValueError):
    """The baseline does not meet the criteria; no savings figure is reported."""


def avoided_energy(fit: Fit, reporting: pd.DataFrame, y: str = "energy", confidence: float = 0.90,
                   drivers: tuple[str, ...] = ("production",)) -> Savings:
    if not fit.passes:
        raise SavingsRefused("savings not reported: " + "; ".join(fit.reasons))
    data = reporting.dropna(subset=[y])
    pred = predict(fit, data, drivers)
    actual = float(data[y].sum())
    base = float(pred.sum())
    m = len(data)
    t = float(stats.t.ppf(0.5 + confidence / 2, fit.n - fit.p))
    u = t * 1.26 * fit.cv_rmse * np.sqrt((fit.n / m) * (1 + 2 / fit.n)) * base
    return Savings(base - actual, base, actual, float(u), confidence, (base - actual) / base if base else 0.0)
