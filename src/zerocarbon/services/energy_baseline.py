"""Measurement & verification on the lake: fit a baseline model on a baseline period, judge it by ASHRAE
Guideline 14, and report the reporting period's avoided energy with its uncertainty — or refuse, with the
reasons, when the data or the model do not meet the criteria.

``linear`` models run on local days (energy ~ production + heating/cooling degree-days), ``towt`` on hours
(time of week and temperature). A day or hour counts only when every one of its intervals was measured; a
partly measured one would read as a drop in use.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from zerocarbon.core.energy.intervals import Meter
from zerocarbon.core.energy.mv import (CRITERIA, MIN_SPAN, InsufficientData, SavingsRefused, avoided_energy,
                                       effective_points, fit_baseline, predict)
from zerocarbon.errors import InputError, Problem
from zerocarbon.io.charts import baseline_chart
from zerocarbon.io.energy_inputs import read_production, read_temperature
from zerocarbon.io.spreadsheet import write_csv
from zerocarbon.services.energy_data import Selection, interval_minutes, load_kwh, parse_day, select

GRANULARITY = {"linear": "daily", "towt": "hourly"}


@dataclass
class FitSummary:
    n: int
    p: int
    cv_rmse: float
    nmbe: float
    r2: float
    max_cv_rmse: float
    max_abs_nmbe: float
    heating_base_c: float | None
    cooling_base_c: float | None
    coefficients: dict[str, float]
    rho: float  # lag-1 autocorrelation of the residuals, in time order
    n_effective: float  # independent points n' = n (1 - rho) / (1 + rho), at least p + 1 (docs/energy.md)


@dataclass
class SavingsSummary:
    avoided_kwh: float
    baseline_kwh: float
    actual_kwh: float
    uncertainty_kwh: float  # +/- at ``confidence``
    confidence: float
    fraction: float  # avoided / baseline
    significant: bool  # |avoided| larger than its uncertainty: distinguishable from zero at ``confidence``
    points: int
    rho: float  # lag-1 autocorrelation of the baseline residuals
    n_effective: float  # n' the uncertainty used
    n_effective_floored: bool  # n (1 - rho) / (1 + rho) was below p + 1 and raised to it
    t: float  # Student t at n - p degrees of freedom


@dataclass
class BaselineResult:
    site: str
    timezone: str
    meters: list[str]
    model: str
    granularity: str
    drivers: list[str]
    baseline_period: tuple[str, str]
    reporting_period: tuple[str, str] | None
    baseline_points: int
    expected_points: int
    fit: FitSummary | None
    passes: bool
    reasons: list[str]
    savings: SavingsSummary | None = None
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _periods(kwh: pd.Series, tz: str, granularity: str, step: int) -> pd.Series:
    """Interval kWh (naive UTC) to complete local days or hours (naive local index); incomplete ones are NaN."""
    if granularity == "hourly":
        utc_hour = kwh.index.floor("h")
        total = kwh.groupby(utc_hour).sum(min_count=1)
        seen = kwh.notna().groupby(utc_hour).sum()
        expected = pd.Series(60 // step, index=total.index)
        label = total.index.tz_localize("UTC").tz_convert(tz).tz_localize(None)
    else:
        local = kwh.index.tz_localize("UTC").tz_convert(tz)
        day = local.normalize().tz_localize(None)
        total = kwh.groupby(day).sum(min_count=1)
        seen = kwh.notna().groupby(day).sum()
        starts = total.index.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
        # DST days have 23 or 25 hours: the expected count follows the day's real length.
        length = (starts + pd.DateOffset(days=1)).tz_convert("UTC") - starts.tz_convert("UTC")
        expected = pd.Series(np.rint(np.asarray(length / pd.Timedelta(minutes=step), dtype=float)).astype(int),
                             index=total.index)
        label = total.index
    out = total.where(seen.to_numpy() >= expected.to_numpy())
    return pd.Series(out.to_numpy(), index=pd.DatetimeIndex(label), name="energy")


def _mean_by(values: pd.Series, tz: str, granularity: str, index: pd.DatetimeIndex) -> pd.Series:
    if granularity == "hourly":
        key = values.index.floor("h").tz_localize("UTC").tz_convert(tz).tz_localize(None)
        return values.groupby(key).mean().reindex(index)
    key = values.index.tz_localize("UTC").tz_convert(tz).normalize().tz_localize(None)
    return values.groupby(key).mean().reindex(index)


def _production_lines(meters: dict[str, Meter], sel: Selection) -> set[str]:
    own = {m.line for m in sel.meters if m.line}
    return own or {m.line for m in meters.values() if m.site == sel.site and m.line}


def _expected(granularity: str, start: date, end: date) -> int:
    days = (end - start).days + 1
    return days * 24 if granularity == "hourly" else days


def baseline(root: Path, org: str, meters: dict[str, Meter], baseline_from: date | str, baseline_to: date | str,
             reporting_from: date | str | None = None, reporting_to: date | str | None = None,
             meter_ids: list[str] | None = None, site: str | None = None, temperature: Path | None = None,
             production: Path | None = None, model: str = "linear", confidence: float = 0.90,
             out: Path | None = None, progress: Callable[[str], None] = lambda step: None) -> BaselineResult:
    """Fit and judge a baseline for organisation ``org``'s named meters (added up) or, by default, the site's
    revenue meters, then the avoided energy [kWh] of the reporting period. All dates are local and included."""
    if model not in GRANULARITY:
        raise InputError([Problem("--model", None, None, f"'{model}' is not linear or towt")])
    b0, b1 = parse_day(baseline_from, "--baseline-from"), parse_day(baseline_to, "--baseline-to")
    r0, r1 = parse_day(reporting_from, "--reporting-from"), parse_day(reporting_to, "--reporting-to")
    if b1 < b0:
        raise InputError([Problem("--baseline-to", None, None, f"{b1} is before {b0}")])
    if (r0 is None) != (r1 is None):
        raise InputError([Problem("--reporting-from/--reporting-to", None, None, "give both or neither")])
    if r0 is not None and (r1 < r0 or r0 <= b1):
        raise InputError([Problem("--reporting-from", None, None,
                                  f"the reporting period {r0}..{r1} must follow the baseline period {b0}..{b1}")])
    if model == "towt" and temperature is None:
        raise InputError([Problem("--temperature", None, None, "the towt model needs outdoor temperature")])
    sel = select(meters, site, meter_ids)
    granularity = GRANULARITY[model]
    progress("reading the lake")
    wide = load_kwh(root, org, sel, b0, r1 or b1)
    step = interval_minutes(wide)
    energy = _periods(wide.sum(axis=1, min_count=1), sel.timezone, granularity, step)
    frame = energy.to_frame()
    drivers: list[str] = []
    if production is not None:
        site_lines = {m.line for m in meters.values() if m.site == sel.site and m.line}
        p = read_production(production, sel.timezone, site_lines)
        units = p[p["line"].isin(_production_lines(meters, sel))].groupby("ts")["units"].sum()
        frame["production"] = _sum_by(units, sel.timezone, granularity, frame.index)
        drivers.append("production")
    if temperature is not None:
        frame["temperature"] = _mean_by(read_temperature(temperature, sel.timezone), sel.timezone, granularity,
                                        frame.index)
        drivers.append("temperature")
    base = frame[(frame.index >= pd.Timestamp(b0)) & (frame.index < pd.Timestamp(b1) + pd.Timedelta(days=1))]
    expected = _expected(granularity, b0, b1)
    used = base.dropna(subset=["energy", *drivers])
    result = BaselineResult(sel.site, sel.timezone, sel.ids, model, granularity, drivers, (str(b0), str(b1)),
                            (str(r0), str(r1)) if r0 else None, len(used), expected, None, False, [])
    progress("fitting the baseline")
    try:
        fit = fit_baseline(base, form=model, granularity=granularity, drivers=tuple(drivers),
                           expected_points=expected)
    except InsufficientData as exc:
        result.reasons = [f"insufficient baseline data: {exc}"]
        return _finish(result, frame, None, r0, r1, out)
    max_cv, max_nmbe = CRITERIA[granularity]
    result.fit = FitSummary(fit.n, fit.p, fit.cv_rmse, fit.nmbe, fit.r2, max_cv, max_nmbe, fit.heating_base,
                            fit.cooling_base, fit.coefficients() if model == "linear" else
                            {k: v for k, v in fit.coefficients().items() if not k.startswith("how_")},
                            fit.rho, effective_points(fit.n, fit.rho, fit.p))
    result.passes, result.reasons = fit.passes, list(fit.reasons)
    if r0 is not None:
        rep = frame[(frame.index >= pd.Timestamp(r0)) & (frame.index < pd.Timestamp(r1) + pd.Timedelta(days=1))]
        have = len(rep.dropna(subset=["energy", *drivers]))
        want = _expected(granularity, r0, r1)
        if have < 0.9 * want:
            result.notes.append(f"only {have} of {want} reporting-period {granularity} points have data; savings "
                                "cover those points only")
        if not fit.passes:
            result.notes.append("savings not reported: the baseline does not meet the criteria above")
        else:
            try:
                s = avoided_energy(fit, rep, confidence=confidence)
                u = s.terms
                result.savings = SavingsSummary(s.avoided, s.baseline, s.actual, s.uncertainty, s.confidence,
                                                s.fraction, s.significant, have, u.rho, u.n_effective, u.floored, u.t)
                result.notes += _uncertainty_notes(s, granularity)
            except (SavingsRefused, InsufficientData) as exc:
                result.passes = False
                result.reasons.append(str(exc))
    return _finish(result, frame, fit, r0, r1, out)


def _uncertainty_notes(s, granularity: str) -> list[str]:
    """Why a band is wide, and what a band wider than the savings means, in words."""
    u, notes = s.terms, []
    if u.floored:
        notes.append(f"the baseline residuals are so autocorrelated (lag-1 rho = {u.rho:.3f}) that n (1 - rho) / "
                     f"(1 + rho) = {u.n_effective_raw:.2f} independent {granularity} points remain of {u.n}; the "
                     f"uncertainty uses the floor n' = {u.n_effective:g} (the model's parameters + 1) and "
                     "is only an indication: the model misses something that changes slowly (season, weather, a "
                     "drift, a driver not given)")
    elif u.rho >= 0.5:
        notes.append(f"the baseline residuals are autocorrelated (lag-1 rho = {u.rho:.3f}): {u.n} {granularity} "
                     f"points count as n' = {u.n_effective:.1f} independent ones, which widens the band")
    if not s.significant:
        notes.append(f"the avoided energy ({s.avoided:,.0f} kWh) is within its uncertainty (± {s.uncertainty:,.0f} "
                     f"kWh): it is not statistically distinguishable from zero at {s.confidence:.0%} confidence")
    return notes


def _sum_by(values: pd.Series, tz: str, granularity: str, index: pd.DatetimeIndex) -> pd.Series:
    if granularity == "hourly":
        key = values.index.floor("h").tz_localize("UTC").tz_convert(tz).tz_localize(None)
    else:
        key = values.index.tz_localize("UTC").tz_convert(tz).normalize().tz_localize(None)
    # A period without a count row made nothing: zero, not missing.
    return values.groupby(key).sum().reindex(index).fillna(0.0)


def _finish(result: BaselineResult, frame: pd.DataFrame, fit, r0, r1, out: Path | None) -> BaselineResult:
    if out is None:
        return result
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = frame.copy()
    table["period"] = "baseline"
    if r0 is not None:
        table.loc[table.index >= pd.Timestamp(r0), "period"] = "reporting"
    if fit is not None:
        ok = table.dropna(subset=[c for c in table.columns if c in ("energy", *result.drivers)]).index
        table["baseline"] = np.nan
        table.loc[ok, "baseline"] = predict(fit, table.loc[ok])
    files = {"periods_csv": out / "baseline_periods.csv", "result": out / "baseline.json"}
    write_csv(table.rename(columns={"energy": "actual"}).rename_axis("local_start").reset_index(), files["periods_csv"])
    if fit is not None:
        chart = table.rename(columns={"energy": "actual"})
        chart.attrs["granularity"] = "day" if result.granularity == "daily" else "hour"
        title = f"{' + '.join(result.meters)}: {result.model} baseline (CV(RMSE) {fit.cv_rmse:.1%}, NMBE {fit.nmbe:+.1%})"
        files["chart"] = baseline_chart(chart, out / "baseline.png", "kWh", title)
    result.files = {k: str(v) for k, v in files.items()}
    files["result"].write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str),
                               encoding="utf-8")
    return result


__all__ = ["BaselineResult", "FitSummary", "SavingsSummary", "baseline", "GRANULARITY", "MIN_SPAN"]
