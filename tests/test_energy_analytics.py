"""Analytics, M&V and forecasts on small synthetic series whose answers are known by construction."""
import numpy as np
import pandas as pd
import pytest

from zerocarbon.core.energy.analytics import (anomalies, anomaly_scan, base_and_peak, energy_per_unit, idle_load,
                                             parse_shifts)
from zerocarbon.core.energy.mv import (InsufficientData, SavingsRefused, avoided_energy, fit_baseline, metrics,
                                       savings_uncertainty)
from zerocarbon.errors import InputError, ZerocarbonError
from zerocarbon.solvers.forecast import backtest, forecast


def test_idle_load_by_hand():
    idx = pd.date_range("2026-08-03 00:00", periods=8, freq="15min")  # UTC 00:00 = 08:00 Beijing (day shift)
    energy = pd.DataFrame({"SMT1": [10, 10, 4, 4, 10, 0.1, 0.1, 4.0]}, index=idx)
    units = pd.DataFrame({"SMT1": [50, 50, 0, 0, 50, 0, 0, 0]}, index=idx)
    f, night = idle_load(energy, units, kg_per_kwh=0.5, tz="Asia/Shanghai")
    assert night.shift == "night" and night.idle_kwh == 0
    # idle: zero output and above 5 % of the producing demand (40 kW -> 2 kW = 0.5 kWh/interval)
    assert f.shift == "day" and f.idle_kwh == pytest.approx(12.0) and f.idle_hours == pytest.approx(0.75)
    assert f.co2_kg == pytest.approx(6.0) and f.share_of_line_kwh == pytest.approx(12.0 / 42.2)


def test_idle_shifts_follow_the_site_clock():
    idx = pd.date_range("2026-08-03 12:00", periods=4, freq="15min")  # UTC noon: 20:00 in Shanghai, 14:00 in Berlin
    energy = pd.DataFrame({"L": [4.0] * 4}, index=idx)
    units = pd.DataFrame({"L": [0.0] * 4}, index=idx)
    shifts = parse_shifts("early=6-14,late=14-22,night=22-6")
    by_zone = {tz: {f.shift: f.idle_kwh for f in idle_load(energy, units, 0.5, tz=tz, shifts=shifts, min_kw=1)}
               for tz in ("Asia/Shanghai", "Europe/Berlin")}
    assert by_zone == {"Asia/Shanghai": {"early": 0, "late": 16.0, "night": 0},
                       "Europe/Berlin": {"early": 0, "late": 16.0, "night": 0}}
    assert {f.shift: f.idle_kwh for f in idle_load(energy, units, 0.5, tz="America/New_York", shifts=shifts,
                                                    min_kw=1)}["early"] == 16.0  # 08:00 in New York
    with pytest.raises(InputError, match="cover every hour"):
        parse_shifts("day=8-20,night=21-8")


def test_kwh_per_unit_days_are_local_days():
    """Energy per unit was cut into UTC days: a Shanghai plant's 06:00-08:00 landed on the previous day."""
    idx = pd.date_range("2026-08-02 22:00", periods=8, freq="15min")  # 06:00-08:00 on 3 August in Shanghai
    d = energy_per_unit(pd.DataFrame({"L": [1.0] * 8}, index=idx), pd.DataFrame({"L": [2.0] * 8}, index=idx),
                        "D", tz="Asia/Shanghai")
    assert list(d["period"]) == [pd.Timestamp("2026-08-03")] and d["kwh_per_unit"][0] == 0.5


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
    notes = anomalies(energy, units, tz="UTC")
    assert len(notes) == 1 and notes[0].startswith("ASSY1 on 2026-08-13") and "left running" in notes[0]
    energy.iloc[96 * 5: 96 * 6] *= 1.04  # 4 % more on a day of a very steady line: not worth a person's time
    assert len(anomalies(energy, units, tz="UTC")) == 1


def test_a_line_with_the_same_output_every_day_gets_a_note_not_a_numpy_warning():
    """Defect: `energy report` leaked numpy's RankWarning (with a source path) when a line made the same
    count every day: no energy-vs-output line can be fitted. Its days are now judged against its mean use
    and the report says why."""
    import warnings

    idx = pd.date_range("2026-08-01", periods=96 * 20, freq="15min")
    units = pd.DataFrame({"PACK1": np.where(idx.hour == 9, 25.0, 0.0)}, index=idx)  # 100 units, every day
    rng = np.random.default_rng(1)
    energy = pd.DataFrame({"PACK1": 2 + rng.normal(0, 0.05, len(idx))}, index=idx)
    energy.iloc[96 * 12: 96 * 13] += 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found, notes = anomaly_scan(energy, units, tz="UTC")
    assert len(found) == 1 and found[0].startswith("PACK1 on 2026-08-13")
    assert notes == ["PACK1 made the same output every day (100 units), so its use cannot be related to its "
                     "output: its days are compared with its mean daily use for anomalies"]


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


def test_savings_uncertainty_follows_g14_annex_b():
    """The band shrinks with more reporting points (1/sqrt(m)); it used to grow with sqrt(n/m), so a year
    of daily baseline data made it 19 times too wide."""
    fit = fit_baseline(_daily(365), granularity="daily")
    one, four = savings_uncertainty(fit, 30, 1000.0), savings_uncertainty(fit, 120, 1000.0)
    assert one / four == pytest.approx(2.0, rel=1e-9)
    from scipy import stats

    n_eff = fit.n * (1 - fit.rho) / (1 + fit.rho) if fit.rho > 0 else fit.n
    t = stats.t.ppf(0.95, fit.n - fit.p)
    by_hand = t * 1.26 * fit.cv_rmse * np.sqrt((fit.n / n_eff) * (1 + 2 / n_eff) / 30) * 1000.0
    assert one == pytest.approx(by_hand)


def _seasonal(days=365, amplitude=60.0, noise=1.0, seed=5, first_day=0):
    """Daily use 500 + 2 kWh/unit plus a season of ``amplitude`` kWh that the model (production only) misses:
    its residuals follow the season, so they are strongly autocorrelated."""
    rng = np.random.default_rng(seed)
    prod = rng.uniform(100, 300, days)
    day = np.arange(first_day, first_day + days)
    idx = pd.date_range("2025-01-01", periods=days, freq="D") + pd.Timedelta(days=first_day)
    season = amplitude * np.sin(2 * np.pi * day / 365)
    return pd.DataFrame({"production": prod, "energy": 500 + 2 * prod + season + rng.normal(0, noise, days)},
                        index=idx)


def test_autocorrelated_residuals_give_a_wide_band_not_an_absurd_one():
    """Defect: with strongly autocorrelated residuals n' = n (1 - rho) / (1 + rho) fell below 1 and t was
    taken at max(n' - p, 1) = 1 degree of freedom: a baseline with CV(RMSE) 4.7 % gave +/- 418 MWh on 53 MWh
    avoided. Now t has n - p degrees of freedom, n' is at least p + 1, and the result says so."""
    from scipy import stats

    fit = fit_baseline(_seasonal(), granularity="daily")
    assert fit.passes and fit.cv_rmse == pytest.approx(0.047, abs=0.002) and fit.rho > 0.99
    raw = fit.n * (1 - fit.rho) / (1 + fit.rho)
    assert raw < 1  # the case that exploded
    report = _seasonal(days=180, seed=6, first_day=365)
    s = avoided_energy(fit, report)
    u = s.terms
    assert u.floored and u.n_effective == fit.p + 1 and u.n_effective_raw == pytest.approx(raw)
    assert u.dof == fit.n - fit.p and u.t == pytest.approx(stats.t.ppf(0.95, fit.n - fit.p))
    n_eff = fit.p + 1
    by_hand = u.t * 1.26 * fit.cv_rmse * np.sqrt((fit.n / n_eff) * (1 + 2 / n_eff) / 180) * s.baseline
    assert s.uncertainty == pytest.approx(by_hand)
    # the old formula: t at one degree of freedom and the raw n' put the band at many times the use itself
    old_t = stats.t.ppf(0.95, max(raw - fit.p, 1.0))
    old = old_t * 1.26 * fit.cv_rmse * np.sqrt((fit.n / raw) * (1 + 2 / raw) / 180) * s.baseline
    assert old > s.baseline and s.uncertainty < 0.25 * s.baseline


def test_moderate_autocorrelation_keeps_the_guideline_n_prime():
    fit = fit_baseline(_seasonal(amplitude=20, noise=8), granularity="daily")
    s = avoided_energy(fit, _seasonal(days=90, amplitude=20, noise=8, seed=9, first_day=365))
    assert 0.5 < fit.rho < 0.9 and not s.terms.floored
    assert s.terms.n_effective == pytest.approx(fit.n * (1 - fit.rho) / (1 + fit.rho))


def test_balance_points_are_found_for_heating_and_cooling():
    idx = pd.date_range("2025-01-01", periods=365, freq="D")
    rng = np.random.default_rng(9)
    temp = 15 + 12 * np.sin(2 * np.pi * (idx.day_of_year - 110) / 365) + rng.normal(0, 3, len(idx))
    use = 300 + 20 * np.maximum(14 - temp, 0) + 30 * np.maximum(temp - 22, 0) + rng.normal(0, 5, len(idx))
    fit = fit_baseline(pd.DataFrame({"energy": use, "temperature": temp}, index=idx), drivers=("temperature",))
    assert (fit.heating_base, fit.cooling_base) == (14.0, 22.0) and fit.p == 5 and fit.passes
    c = fit.coefficients()
    assert c["hdd"] == pytest.approx(20, rel=0.05) and c["cdd"] == pytest.approx(30, rel=0.05)


def test_too_few_points_is_a_zerocarbon_error():
    with pytest.raises(InsufficientData, match="cannot fit") as exc:
        fit_baseline(_daily(2), granularity="daily")
    assert isinstance(exc.value, ZerocarbonError) and issubclass(SavingsRefused, ZerocarbonError)


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
    # Hourly steps keep the five model fits small (the 15-min version of this took minutes on a busy machine).
    idx = pd.date_range("2026-03-01", periods=24 * 35, freq="h")
    rng = np.random.default_rng(5)
    plan = pd.Series(rng.choice([0.0, 1.0, 2.0], size=len(idx) // 24).repeat(24), index=idx)
    load = 100 + 80 * plan + 20 * np.sin(2 * np.pi * idx.hour / 24) + rng.normal(0, 3, len(idx))
    bt = backtest(pd.Series(load, index=idx), drivers=plan.rename("plan").to_frame(), horizon="day", days=5,
                  steps_per_day=24)
    assert bt.skill > 0.3 and bt.model_cv_rmse < bt.naive_cv_rmse


def test_forecast_calendar_is_the_site_clock():
    """A plant busy 08:00-20:00 in Shanghai: the forecast puts the busy hours at 00:00-12:00 UTC."""
    idx = pd.date_range("2026-03-01", periods=24 * 21, freq="h")  # naive UTC
    local_hour = idx.tz_localize("UTC").tz_convert("Asia/Shanghai").hour
    y = pd.Series(np.where((local_hour >= 8) & (local_hour < 20), 100.0, 10.0), index=idx)
    ahead = forecast(y, "day", steps_per_day=24, tz="Asia/Shanghai")
    assert len(ahead) == 24 and ahead.index[0] == pd.Timestamp("2026-03-22 00:00")
    assert (ahead["forecast"].iloc[:12] > 90).all() and (ahead["forecast"].iloc[12:] < 20).all()
