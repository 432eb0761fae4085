"""Reference results of OpenEEmeter (eemeter 4.1.1) on its own daily sample, for the M&V cross-check.

eemeter 4.1.1 does not run on pandas 3 (its granularity check compares a ``Day`` offset with a Timedelta),
so this script runs in a separate virtual environment built from ``tests/requirements-eemeter.txt``:

    python3 -m venv .venv-eemeter
    .venv-eemeter/bin/pip install -r tests/requirements-eemeter.txt
    .venv-eemeter/bin/python tools/eemeter_reference.py tests/data/eemeter

It writes, into the folder given:
- ``registry.csv``, ``readings.csv``, ``temperature.csv``: the sample ``il-electricity-cdd-hdd-daily``
  (simulated daily kWh of an electrically heated and cooled building, Illinois, US Central time, with the sample's hourly
  temperature averaged per day) in zerocarbon's input formats;
- ``reference.csv``: eemeter's daily predictions for the baseline and reporting periods, default
  (``DailyModel()``) and CalTRACK 2.0 (``DailyModel(model="legacy")``) settings;
- ``reference.json``: periods, eemeter's CV(RMSE), totals, and the sample's stated truth.

Sample data: OpenEEmeter, Apache License 2.0, "samples are simulated, not real, data".
"""
from __future__ import annotations

import importlib.resources
import json
import sys
import warnings
from pathlib import Path

import pandas as pd

BASELINE = ("2015-12-26", "2016-12-24")  # 365 days, ending before the sample's blackout (2016-12-26..2017-01-04)
REPORTING = ("2017-01-05", "2018-01-04")
SAMPLE = "il-electricity-cdd-hdd-daily"


def main(out: Path) -> None:
    warnings.simplefilter("ignore")
    import eemeter
    from eemeter.eemeter import DailyBaselineData, DailyModel, DailyReportingData
    out.mkdir(parents=True, exist_ok=True)
    samples = importlib.resources.files("eemeter.eemeter.samples")
    meta = json.loads(samples.joinpath("metadata.json").read_text())[SAMPLE]
    # Read the sample files as published: stamps are local midnights in US Central time (offsets -06:00 and
    # -05:00 in summer); eemeter's own loader reads the daily stamps as UTC midnights instead.
    tz = "America/Chicago"
    with samples.joinpath(meta["meter_data_filename"]).open("rb") as f:
        meter = pd.read_csv(f, compression="gzip")
    with samples.joinpath(meta["temperature_filename"]).open("rb") as f:
        temp = pd.read_csv(f, compression="gzip")
    kwh = pd.Series(meter["value"].to_numpy(), index=pd.to_datetime(meter["start"], utc=True).dt.tz_convert(tz))
    temp_f = pd.Series(temp["tempF"].to_numpy(), index=pd.to_datetime(temp["dt"], utc=True).dt.tz_convert(tz))
    daily_f = temp_f.groupby(temp_f.index.normalize()).mean()
    days = kwh.index.intersection(daily_f.index)
    kwh, daily_f = kwh.loc[days].dropna(), daily_f.loc[days]

    pd.DataFrame([{"id": "IL1", "site": "IL", "unit": "kWh", "interval_min": 1440, "timezone": tz,
                   "revenue": "true"}]).to_csv(out / "registry.csv", index=False)
    pd.DataFrame({"meter": "IL1", "timestamp": [t.isoformat() for t in kwh.index], "value": kwh.round(4).to_numpy()}
                 ).to_csv(out / "readings.csv", index=False)
    pd.DataFrame({"timestamp": [t.isoformat() for t in daily_f.index], "temperature": daily_f.round(3).to_numpy(),
                  "unit": "degF"}).to_csv(out / "temperature.csv", index=False)

    def window(s: pd.Series, a: str, b: str) -> pd.Series:
        s = s[(s.index >= pd.Timestamp(a, tz=tz)) & (s.index <= pd.Timestamp(b, tz=tz))].copy()
        s.index.freq = None
        return s

    # The same daily means go to both tools, so a difference is the models', not the inputs'.
    temp_daily = daily_f.round(3)
    base = DailyBaselineData.from_series(window(kwh, *BASELINE), window(temp_daily, *BASELINE), is_electricity_data=True)
    rep = DailyReportingData.from_series(window(kwh, *REPORTING), window(temp_daily, *REPORTING), is_electricity_data=True)
    rows, summary = [], {"eemeter_version": eemeter.__version__, "pandas_version": pd.__version__,
                         "sample": SAMPLE, "baseline": BASELINE, "reporting": REPORTING,
                         "sample_truth": {k: meta[k] for k in ("annual_baseline_total_load", "annual_reporting_total_load",
                                                               "baseline_heating_balance_point",
                                                               "baseline_cooling_balance_point")},
                         "models": {}}
    for name, model in (("default", DailyModel()), ("legacy", DailyModel(model="legacy"))):
        model.fit(base, ignore_disqualification=True)
        for period, data in (("baseline", base), ("reporting", rep)):
            pred = model.predict(data, ignore_disqualification=True)
            for t, r in pred.iterrows():
                rows.append({"date": f"{t:%Y-%m-%d}", "period": period, "settings": name,
                             "observed": r["observed"], "predicted": r["predicted"]})
            summary["models"].setdefault(name, {})[period] = {
                "observed_kwh": float(pred["observed"].sum()), "predicted_kwh": float(pred["predicted"].sum()),
                "days": int(pred["observed"].notna().sum())}
        summary["models"][name]["cv_rmse"] = float(model.error["CVRMSE"])
    pd.DataFrame(rows).round(6).to_csv(out / "reference.csv", index=False)
    (out / "reference.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/eemeter"))
