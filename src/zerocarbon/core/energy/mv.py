"""Measurement & verification: baseline models, ASHRAE Guideline 14 fit metrics, avoided energy.

IPMVP Option C/B style: a baseline model fitted on the baseline period predicts what the reporting period
would have used; avoided energy = prediction - actual. Two model forms:
- ``linear``: energy ~ production (+ heating and cooling degree-days), for daily or monthly data. With a
  ``temperature`` driver [degC] the balance points are searched (ASHRAE inverse change-point models; the
  CalTRACK daily method searches the same way): heating base 8-22 degC and cooling base 14-28 degC in 1 K
  steps, each alone or both together, slopes kept only when positive; the candidate with the highest
  adjusted R2 wins. Each chosen balance point counts as a model parameter in ``p``;
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

Savings uncertainty (G14-2014 Annex B fractional savings uncertainty, as OpenEEmeter also computes it):
    U = t(conf, n - p) x 1.26 x CV(RMSE) x sqrt((n / n') x (1 + 2 / n') x (1 / m)) x E_baseline,reporting
with n baseline points, m reporting points and n' = n (1 - rho) / (1 + rho) the effective number of
independent baseline points for a lag-1 autocorrelation rho > 0 of the residuals (n' = n when rho <= 0).
The 1.26 is the guideline's empirical factor; OpenEEmeter replaces it by a polynomial in the reporting
length (about 1.3-1.4 for a year), so its bands are up to ~10 % wider.

Two choices where implementations of the guideline differ, both taken so that a strongly autocorrelated
baseline gives a wide band, not an absurd one:
- t has n - p degrees of freedom, as OpenEEmeter takes it (``eemeter/derivatives.py``). kW Engineering's
  nmecr, citing the guideline, takes n' - p when rho >= 0.5 and stops when n' - p < 0. The RMSE is
  estimated from all n residuals and the autocorrelation is already carried by n / n' and 2 / n'; taking
  t at n' - p as well counts it twice and, when n' nears p, sets t to 6.3 (one degree of freedom, 90 %),
  four times the 1.65 of a year of daily points.
- n' is floored at p + 1. n / n' = (1 + rho) / (1 - rho) comes from modelling the residuals as a stationary
  AR(1) noise; when it leaves fewer independent points than a p-parameter model needs to have a residual
  at all, the residuals are a slow trend the model misses (season, a drifting load, a missing driver), not
  noise, and the formula no longer describes them: n' below 1 made (1 + 2 / n') and n / n' explode. The
  floor keeps the band finite; the result says when it applied, and that the band is then no more than
  an indication. On a year of daily data whose model missed a season (CV(RMSE) 4.8 %, rho 0.997, n' 0.6)
  the old rule gave +/- 235 MWh on 165 MWh of use over 180 days; this one gives +/- 17 MWh, and the
  season's true effect on the sum was 7 MWh (tests/test_energy_analytics.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from zerocarbon.errors import ZerocarbonError

CRITERIA = {"monthly": (0.15, 0.05), "daily": (0.25, 0.10), "hourly": (0.30, 0.10)}
MIN_SPAN = {"monthly": pd.Timedelta(days=330), "daily": pd.Timedelta(days=180), "hourly": pd.Timedelta(weeks=8)}
TEMP_KNOTS = (10.0, 18.0, 24.0, 30.0)  # [degC] piecewise-linear temperature knots for TOWT
HEATING_BASES = tuple(float(t) for t in range(8, 23))  # [degC] candidate heating balance points
COOLING_BASES = tuple(float(t) for t in range(14, 29))  # [degC] candidate cooling balance points


class InsufficientData(ZerocarbonError, ValueError):
    """Too few baseline points to fit the model at all."""


class SavingsRefused(ZerocarbonError, ValueError):
    """The baseline does not meet the criteria; no savings figure is reported."""


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
    rho: float = 0.0  # lag-1 autocorrelation of the baseline residuals
    heating_base: float | None = None  # [degC] chosen heating balance point (linear form with temperature)
    cooling_base: float | None = None  # [degC]
    drivers: tuple[str, ...] = ("production",)

    def coefficients(self) -> dict[str, float]:
        return {c: float(v) for c, v in zip(self.columns, self.coef)}


@dataclass(frozen=True)
class Uncertainty:
    """The G14 savings uncertainty and every term of it, so a reader sees why a band is wide."""

    value: float  # +/- at ``confidence`` [energy unit of y]
    confidence: float
    t: float  # Student t at ``dof`` degrees of freedom, two-sided
    dof: int  # n - p
    rho: float  # lag-1 autocorrelation of the baseline residuals
    n: int  # baseline points
    n_effective: float  # n' used (after the floor)
    n_effective_raw: float  # n (1 - rho) / (1 + rho) before the floor
    floored: bool  # n' was raised to p + 1
    m: int  # reporting points


@dataclass(frozen=True)
class Savings:
    avoided: float  # baseline prediction - actual, reporting period [energy unit of y]
    baseline: float  # predicted use in the reporting period
    actual: float
    uncertainty: float  # +/- at the confidence level
    confidence: float
    fraction: float
    terms: Uncertainty | None = None

    @property
    def significant(self) -> bool:
        """|avoided| exceeds its uncertainty: distinguishable from zero at ``confidence``."""
        return abs(self.avoided) > self.uncertainty


def design(df: pd.DataFrame, form: str, drivers: tuple[str, ...] = ("production",),
           heating_base: float | None = None, cooling_base: float | None = None) -> pd.DataFrame:
    """Model matrix. ``linear``: intercept, each driver except temperature, and heating/cooling
    degree-days [K·day per row] at the given balance points [degC]."""
    if form == "linear":
        X = pd.DataFrame({"intercept": 1.0}, index=df.index)
        for d in drivers:
            if d != "temperature":
                X[d] = df[d].astype(float)
        if heating_base is not None:
            X["hdd"] = np.maximum(heating_base - df["temperature"].astype(float), 0.0)
        if cooling_base is not None:
            X["cdd"] = np.maximum(df["temperature"].astype(float) - cooling_base, 0.0)
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


def _lstsq(X: pd.DataFrame, Y: np.ndarray) -> tuple[np.ndarray, float, int]:
    A = X.to_numpy()
    coef, *_ = np.linalg.lstsq(A, Y, rcond=None)
    return coef, float(((Y - A @ coef) ** 2).sum()), int(np.linalg.matrix_rank(A))


def _balance_points(data: pd.DataFrame, Y: np.ndarray, drivers: tuple[str, ...]) -> tuple[float | None, float | None]:
    """Heating and cooling balance points by adjusted R2, keeping only positive degree-day slopes."""
    candidates = [(None, None)] + [(h, None) for h in HEATING_BASES] + [(None, c) for c in COOLING_BASES] + \
                 [(h, c) for h in HEATING_BASES for c in COOLING_BASES if c >= h]
    n, sst = len(Y), float(((Y - Y.mean()) ** 2).sum())
    best, best_adj = (None, None), -np.inf
    for h, c in candidates:
        X = design(data, "linear", drivers, h, c)
        X = X.loc[:, X.abs().sum() > 0]
        if (h is not None and "hdd" not in X) or (c is not None and "cdd" not in X):
            continue  # no day beyond that balance point: the term carries nothing
        coef, sse, rank = _lstsq(X, Y)
        slopes = dict(zip(X.columns, coef))
        if slopes.get("hdd", 1.0) <= 0 or slopes.get("cdd", 1.0) <= 0:
            continue
        k = rank + (h is not None) + (c is not None)
        if n - k <= 0 or sst == 0:
            continue
        adj = 1 - (sse / (n - k)) / (sst / (n - 1))
        if adj > best_adj + 1e-12:
            best, best_adj = (h, c), adj
    return best


def fit_baseline(df: pd.DataFrame, y: str = "energy", form: str = "linear", granularity: str = "daily",
                 drivers: tuple[str, ...] = ("production",), expected_points: int | None = None) -> Fit:
    """Fit on the baseline period (``df`` indexed by time). Says why it may not be used, if it may not.

    Raises :class:`InsufficientData` when there are no more points than parameters."""
    reasons = []
    data = df.dropna(subset=[y, *[d for d in drivers if d in df]])
    Y = data[y].to_numpy(dtype=float)
    h = c = None
    if form == "linear" and "temperature" in drivers and len(Y) > 3:
        h, c = _balance_points(data, Y, drivers)
    X = design(data, form, drivers, h, c)
    n = len(Y)
    if n == 0:
        raise InsufficientData("no baseline point has both energy and every driver")
    coef, _, rank = _lstsq(X, Y)
    p = rank + (h is not None) + (c is not None)  # parameters actually identified, balance points included
    if n <= p:
        raise InsufficientData(f"{n} baseline points cannot fit a model with {p} parameters")
    resid = Y - X.to_numpy() @ coef
    cv, nmbe, r2 = metrics(Y, X.to_numpy() @ coef, p)
    rho = float(np.corrcoef(resid[:-1], resid[1:])[0, 1]) if n > 2 and resid.std() > 0 else 0.0
    max_cv, max_nmbe = CRITERIA[granularity]
    if cv > max_cv:
        reasons.append(f"CV(RMSE) {cv:.1%} exceeds the ASHRAE Guideline 14 limit of {max_cv:.0%} for {granularity} data")
    if abs(nmbe) > max_nmbe:
        reasons.append(f"NMBE {nmbe:+.1%} is outside +/-{max_nmbe:.0%}")
    # The span covered includes the last point's own period: 180 daily points cover 180 days.
    step = pd.Series(data.index).diff().median() if n > 1 else pd.Timedelta(0)
    span = data.index.max() - data.index.min() + step
    if span < MIN_SPAN[granularity]:
        reasons.append(f"baseline covers {span.days} days; {granularity} models need {MIN_SPAN[granularity].days}")
    if expected_points and n < 0.9 * expected_points:
        reasons.append(f"only {n} of {expected_points} baseline intervals have data (< 90 %)")
    return Fit(form, granularity, coef, tuple(X.columns), n, p, cv, nmbe, r2, not reasons, tuple(reasons), rho, h, c,
               tuple(drivers))


def predict(fit: Fit, df: pd.DataFrame, drivers: tuple[str, ...] | None = None) -> np.ndarray:
    """The baseline model's use for the rows of ``df`` [unit of y per row]."""
    X = design(df, fit.form, fit.drivers if drivers is None else drivers, fit.heating_base, fit.cooling_base)
    return X.reindex(columns=list(fit.columns), fill_value=0.0).to_numpy() @ fit.coef


def effective_points(n: int, rho: float, p: int = 0) -> float:
    """n' = n (1 - rho) / (1 + rho): independent points in n autocorrelated ones (G14 Annex B), at least
    p + 1 (see the module notes); n when rho <= 0."""
    raw = n * (1 - rho) / (1 + rho) if rho > 0 else float(n)
    return max(raw, float(p + 1)) if p else raw


def uncertainty(fit: Fit, m: int, baseline_use: float, confidence: float = 0.90) -> Uncertainty:
    """The G14 fractional savings uncertainty of avoided energy over ``m`` reporting points whose baseline
    use is ``baseline_use`` [same unit], at ``confidence`` (two-sided), with its terms."""
    raw = effective_points(fit.n, fit.rho)
    n_eff = effective_points(fit.n, fit.rho, fit.p)
    dof = max(fit.n - fit.p, 1)
    t = float(stats.t.ppf(0.5 + confidence / 2, dof))
    u = float(t * 1.26 * fit.cv_rmse * np.sqrt((fit.n / n_eff) * (1 + 2 / n_eff) / m) * abs(baseline_use))
    return Uncertainty(u, confidence, t, dof, fit.rho, fit.n, n_eff, raw, n_eff > raw, m)


def savings_uncertainty(fit: Fit, m: int, baseline_use: float, confidence: float = 0.90) -> float:
    """+/- uncertainty of avoided energy over ``m`` reporting points whose baseline use is ``baseline_use``
    [same unit], at ``confidence`` (two-sided), by the G14 fractional savings uncertainty."""
    return uncertainty(fit, m, baseline_use, confidence).value


def avoided_energy(fit: Fit, reporting: pd.DataFrame, y: str = "energy", confidence: float = 0.90,
                   drivers: tuple[str, ...] | None = None) -> Savings:
    """Baseline prediction minus actual over the reporting period, with the G14 uncertainty at ``confidence``."""
    if not fit.passes:
        raise SavingsRefused("savings not reported: " + "; ".join(fit.reasons))
    used = fit.drivers if drivers is None else drivers
    data = reporting.dropna(subset=[y, *[d for d in used if d in reporting]])
    if data.empty:
        raise InsufficientData("no reporting-period point has both energy and every driver")
    pred = predict(fit, data, used)
    actual = float(data[y].sum())
    base = float(pred.sum())
    u = uncertainty(fit, len(data), base, confidence)
    return Savings(base - actual, base, actual, u.value, confidence, (base - actual) / base if base else 0.0, u)
