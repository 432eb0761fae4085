"""Analytics, M&V and forecasts on small synthetic series whose answers are known by construction."""
import numpy as np
import pandas as pd
import pytest

from zerocarbon.core.energy.analytics import anomalies, base_and_peak, energy_per_unit, idle_load
from zerocarbon.core.energy.mv import SavingsRefused, avoided_energy, fit_baseline, metrics
from zerocarbon.solvers.forecast import backtest


def test_idle_load_by_hand():
    idx = pd.date_range("2026-08-03 00:00", periods=8, freq="15min")  # UTC 00:00 = 08:00 Beijing (day shift)
    energy = pd.DataFrame({"SMT1": [10, 10, 4, 4, 10, 0.1, 0.1, 4.0]}, index=idx)
    units = pd.DataFrame({"SMT1": [50, 50, 0, 0, 50, 0, 0, 0]}, index=idx)
    (f,) = idle_load(energy, units, kg_per_kwh=0.5)
    # idle: zero output and above 5 % of the producing demand (40 kW -> 2 kW = 0.5 kWh/interval)
    assert f.shift == "day" and f.idle_kwh == pytest.approx(12.0) and f.idle_hours == pytest.approx(0.75)
    assert f.co2_kg == pytest.approx(6.0) and f.share_of_line_kwh == pytest.approx(12.0 / 42.2)


def test_energy_per_unit_and_peaks():
    idx = pd.date_range("2026-08-03", periods=96 * 2, freq="15min")
    e = pd.DataFrame({"L": np.r_[np.full(96, 5.0), np.full(96, 2.0)]}, index=idx)
    u = pd.DataFrame({"L": np.r_[np.full(96, 10.0), np.zeros(96)]}, index=idx)
    d = energy_per_unit(e, u)
    assert len(d) == 1 and d["kwh_per_unit"][0] == pytest.approx(0.5)  # the day without output is left out
    bp = base_and_peak(e["L"])
    assert bp["peak_kw"] == pytest.approx(20.0) and bp["base_kw"] == pytest.approx(8.0)


def test_anomaly_is_explained_in_words():
    idx = pd.date_range("2026-08-01", periods=96 * 20, freq="15min")
    rng = np.random.default_rng(1)
    units = pd.DataFrame({"ASSY1": rng.integers(5, 15, len(idx)).astype(float)}, index=idx)
    energy = pd.DataFrame({"ASSY1": 2 + 0.3 * units["ASSY1"] + rng.normal(0, 0.05, len(idx))}, index=idx)
    energy.iloc[96 * 12: 96 * 13] += 3.0  # a day with something left running
    notes = anomalies(energy, units)
    assert len(notes) == 1 and notes[0].startswith("ASSY1 on 2026-08-13") and "left running" in notes[0]


def _daily(days, slope=2.0, noise=5.0, seed=0, start="2025-01-01"):
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=days, freq="D")
    prod = rng.uniform(100, 300, days)
    return pd.DataFrame({"production": prod, "energy": 500 + slope * prod + rng.normal(0, noise, days)}, index=idx)


def test_metrics_follow_guideline_14():
    y, yhat = np.array([10.0, 12.0, 14.0]), np.array([11.0, 12.0, 13.0])
    cv, nmbe, _ = metrics(y, yhat, p=1)
    assert cv == pytest.approx(np.sqrt(2 / 2) / 12) and nmbe == pytest.approx(0.0)


def test_option_c_savings_with_uncertainty():
    base = _daily(365)
    fit = fit_baseline(base, granularity="daily")
    assert fit.passes and fit.cv_rmse < 0.02
    report = _daily(90, seed=2, start="2026-01-01")
    report["energy"] *= 0.9  # a 10 % efficiency measure
    s = avoided_energy(fit, report)
    expected = (report["energy"] / 0.9).sum() * 0.1
    assert abs(s.avoided - expected) < s.uncertainty + 0.01 * expected
    assert 0 < s.uncertainty < s.avoided and s.fraction == pytest.approx(0.1, abs=0.01)  # significant at 90 %


def test_savings_are_refused_when_the_baseline_fails():
    noisy = _daily(365, noise=400)
    fit = fit_baseline(noisy, granularity="daily")
    assert not fit.passes and "CV(RMSE)" in fit.reasons[0]
    with pytest.raises(SavingsRefused, match="exceeds the ASHRAE Guideline 14 limit"):
        avoided_energy(fit, _daily(30, seed=3, start="2026-01-01"))
    short = fit_baseline(_daily(60), granularity="daily")
    assert not short.passes and any("baseline covers" in r for r in short.reasons)


def test_towt_hourly_model():
    idx = pd.date_range("2025-06-01", periods=24 * 7 * 10, freq="h")
    rng = np.random.default_rng(4)
    temp = 22 + 8 * np.sin(2 * np.pi * (idx.hour - 9) / 24) + rng.normal(0, 1, len(idx))
    occupied = ((idx.day_of_week < 6) & (idx.hour >= 8) & (idx.hour < 20)).astype(float)
    load = 200 + 300 * occupied + 12 * np.maximum(temp - 24, 0) + rng.normal(0, 10, len(idx))
    df = pd.DataFrame({"energy": load, "temperature": temp}, index=idx)
    fit = fit_baseline(df, form="towt", granularity="hourly", drivers=())
    assert fit.passes and fit.cv_rmse < 0.05


def test_forecast_beats_seasonal_naive_when_the_plan_drives_load():
    idx = pd.date_range("2026-03-01", periods=96 * 70, freq="15min")
    rng = np.random.default_rng(5)
    plan = pd.Series(rng.choice([0.0, 1.0, 2.0], size=len(idx) // 96).repeat(96), index=idx)
    load = 100 + 80 * plan + 20 * np.sin(2 * np.pi * idx.hour / 24) + rng.normal(0, 3, len(idx))
    bt = backtest(pd.Series(load, index=idx), drivers=plan.rename("plan").to_frame(), horizon="day", days=7)
    assert bt.skill > 0.3 and bt.model_cv_rmse < bt.naive_cv_rmse
