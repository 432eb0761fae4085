"""`zerocarbon energy ...` and `meters rollup` on lakes built from small CSVs with `meters import`."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.helpers import database_with_org, line_day
from zerocarbon.cli import app

runner = CliRunner()


def _for_org(args) -> list[str]:
    """The lakes here hold organisation ORG (lake_from): every read names it, as a database of several would."""
    args = [str(a) for a in args]
    if args[0] in ("meters", "energy") and args[1] != "import" and "--org" not in args:
        args += ["--org", "ORG"]
    return args


def run(*args) -> dict | list:
    r = runner.invoke(app, _for_org(args))
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout) if "--json" in args else r.output


def fails(*args) -> str:
    r = runner.invoke(app, _for_org(args))
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output
    return " ".join(r.output.split())


REGISTRY = """id,site,line,unit,interval_min,timezone,revenue
MAIN,HF01,,kWh,15,Asia/Shanghai,true
L1,HF01,SMT1,kWh,15,Asia/Shanghai,false
B1,DE01,PRESS,kWh,60,Europe/Berlin,true
"""


# the sites of the registries here, besides the test organisation's own
SITES = ("  - {code: DE01, name: Press shop, country: DE, grid_region: DE, timezone: Europe/Berlin}\n"
         "  - {code: P1, name: Plant 1}\n  - {code: S1, name: Site 1}\n")


def lake_from(tmp_path: Path, rows: list[tuple], registry: str = REGISTRY) -> tuple[Path, Path]:
    reg = tmp_path / "meters.csv"
    reg.write_text(registry, encoding="utf-8")
    readings = tmp_path / "readings.csv"
    pd.DataFrame(rows, columns=["meter", "timestamp", "value"]).to_csv(readings, index=False)
    url = database_with_org(tmp_path, SITES) if not (tmp_path / "db.sqlite").exists() else f"sqlite:///{tmp_path / 'db.sqlite'}"
    run("meters", "import", reg, readings, "--lake", tmp_path / "lake", "--db", url)
    return tmp_path / "lake", reg


def series(meter: str, start: str, values, step="15min") -> list[tuple]:
    ts = pd.date_range(start, periods=len(values), freq=step)
    return [(meter, t.strftime("%Y-%m-%d %H:%M:%S"), float(v)) for t, v in zip(ts, values)]


# --- local calendar ---------------------------------------------------------------------------------


def test_rollup_months_of_a_shanghai_site_have_no_phantom_previous_year(tmp_path):
    """Defect: `meters rollup --freq month` cut months in UTC, so 1 January 00:00-08:00 in Shanghai showed
    up as a December of the previous year."""
    lake, reg = lake_from(tmp_path, series("MAIN", "2026-01-01 00:00", [1.0] * 96))  # local time, one day
    months = run("meters", "rollup", "--registry", reg, "--lake", lake, "--freq", "month", "--json")
    assert [(m["period"], m["value"]) for m in months] == [("2026-01-01", 96.0)]
    assert months[0]["timezone"] == "Asia/Shanghai" and months[0]["basis"] == "revenue meters"
    days = run("meters", "rollup", "--registry", reg, "--lake", lake, "--by", "meter", "--freq", "day", "--json")
    assert [(d["meter"], d["period"], d["value"]) for d in days] == [("MAIN", "2026-01-01", 96.0)]


def test_rollup_tables_stay_whole_in_80_columns(tmp_path, monkeypatch):
    """Defect: with stdout not a terminal (80 columns) `meters rollup` cut numbers and periods off
    ("271,60…", "2025-01…"). Columns with one value move to the caption; numbers and keys never shorten."""
    from zerocarbon.cli.common import console

    monkeypatch.setattr(console, "width", 80)
    lake, reg = lake_from(tmp_path, series("MAIN", "2026-01-01 00:00", [2829.25] * 96)
                          + series("L1", "2026-01-01 00:00", [1.5] * 96))
    for args, expect in ((("--freq", "month"), ["HF01", "2026-01-01", "271,608.0", "96"]),
                         (("--by", "meter", "--freq", "hour"), ["MAIN", "2026-01-01T23:00:00+08:00", "11,317.0"])):
        text = run("meters", "rollup", "--registry", reg, "--lake", lake, *args)
        assert "…" not in text, text
        for word in expect:
            assert word in text, (word, text)
        assert "timezone Asia/Shanghai" in " ".join(text.split())


def test_site_rollup_counts_the_revenue_meter_not_its_sub_meters(tmp_path):
    lake, reg = lake_from(tmp_path, series("MAIN", "2026-03-02 00:00", [10.0] * 4) + series("L1", "2026-03-02 00:00", [3.0] * 4))
    (row,) = run("meters", "rollup", "--registry", reg, "--lake", lake, "--json")
    assert row["value"] == 40.0 and row["site"] == "HF01"


def test_hourly_rollup_keeps_both_hours_of_a_dst_fall_back(tmp_path):
    rows = [("B1", "2026-10-25T00:00:00+00:00", 1.0), ("B1", "2026-10-25T01:00:00+00:00", 2.0)]  # 02:00 CEST, 02:00 CET
    lake, reg = lake_from(tmp_path, rows)
    hours = run("meters", "rollup", "--registry", reg, "--lake", lake, "--by", "meter", "--freq", "hour", "--json")
    assert [(h["period"], h["value"]) for h in hours] == [("2026-10-25T02:00:00+02:00", 1.0),
                                                          ("2026-10-25T02:00:00+01:00", 2.0)]


def test_scope2_activity_of_a_shanghai_site_has_no_energy_in_the_previous_year(tmp_path):
    lake, reg = lake_from(tmp_path, series("MAIN", "2026-01-01 00:00", [2.0] * 8))
    out = tmp_path / "e.csv"
    run("meters", "to-activity", reg, "--year", "2026", "--lake", lake, "--out", out, "--allow-partial")
    assert pd.read_csv(out)[["period_start", "quantity"]].values.tolist() == [["2026-01-01", 16.0]]
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # defect: written without the BOM Excel needs
    assert "no readings of revenue meters" in fails("meters", "to-activity", reg, "--year", "2025", "--lake", lake,
                                                    "--out", tmp_path / "e2025.csv")


def test_missing_or_empty_lake_is_a_clear_error_naming_the_folder(tmp_path):
    """Defect: `meters rollup` on a missing lake ended in a DuckDB traceback (an internal error)."""
    reg = tmp_path / "meters.csv"
    reg.write_text(REGISTRY, encoding="utf-8")
    text = fails("meters", "rollup", "--registry", reg, "--lake", tmp_path / "nowhere")
    assert f"no meter-data lake at {tmp_path / 'nowhere'}" in text and "zerocarbon meters import" in text
    (tmp_path / "empty").mkdir()
    assert "holds no readings" in fails("meters", "rollup", "--registry", reg, "--lake", tmp_path / "empty")
    assert "no meter-data lake" in fails("energy", "report", "--lake", tmp_path / "nowhere", "--registry", reg,
                                         "--site", "HF01", "--out", tmp_path / "o")


# --- energy report ----------------------------------------------------------------------------------


def _report_fixture(tmp_path):
    kwh, units = line_day()
    rows = series("L1", "2026-08-03 00:00", kwh) + series("MAIN", "2026-08-03 00:00", [k + 5 for k in kwh])
    lake, reg = lake_from(tmp_path, rows)
    prod = tmp_path / "production.csv"
    ts = pd.date_range("2026-08-03 00:00", periods=96, freq="15min")
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "line": "SMT1", "units": units}).query("units > 0") \
        .to_csv(prod, index=False)
    return lake, reg, prod


def test_energy_report_idle_load_by_line_and_shift_with_co2(tmp_path):
    lake, reg, prod = _report_fixture(tmp_path)
    rep = run("energy", "report", "--lake", lake, "--registry", reg, "--site", "HF01", "--production", prod,
              "--kg-per-kwh", "0.5", "--out", tmp_path / "out", "--json")
    idle = {f["shift"]: f for f in rep["idle"]}
    # day shift: 8 idle intervals x 4 kWh; night: 4 x 4 kWh (22:00-23:00 local); the 0.1 kWh trickle is "off"
    assert idle["day"]["idle_kwh"] == pytest.approx(32.0) and idle["day"]["idle_hours"] == pytest.approx(2.0)
    assert idle["night"]["idle_kwh"] == pytest.approx(16.0) and idle["night"]["co2_kg"] == pytest.approx(8.0)
    assert rep["idle_total_co2_kg"] == pytest.approx(24.0)
    (epu,) = rep["kwh_per_unit"]
    assert epu["month"] == "2026-08" and epu["kwh_per_unit"] == pytest.approx(sum(line_day()[0]) / 400)
    site = rep["site_load"]
    assert site["peak_kw"] == pytest.approx(60.0) and site["peak_at"].startswith("2026-08-03T08:00:00+08:00")
    assert rep["first_day"] == rep["last_day"] == "2026-08-03" and rep["timezone"] == "Asia/Shanghai"
    for key in ("idle_chart", "profile_chart"):
        assert Path(rep["files"][key]).read_bytes()[:4] == b"\x89PNG"
    assert json.loads(Path(rep["files"]["report"]).read_text(encoding="utf-8"))["idle_total_kwh"] == pytest.approx(48.0)


BOM = b"\xef\xbb\xbf"


def test_energy_report_csvs_are_spreadsheet_safe_and_a_steady_line_is_a_note(tmp_path):
    """Defects: idle_by_line_shift.csv and kwh_per_unit.csv had no UTF-8 BOM and wrote a registry line named
    `=SMT1+1` raw (a formula in Excel); a line making the same count every day leaked numpy's RankWarning."""
    import warnings

    kwh, units = line_day()
    days = 12
    registry = "id,site,line,unit,interval_min,timezone,revenue\nMAIN,HF01,,kWh,15,Asia/Shanghai,true\n" \
               "L1,HF01,=SMT1+1,kWh,15,Asia/Shanghai,false\n"
    rows = series("L1", "2026-08-03 00:00", kwh * days) + series("MAIN", "2026-08-03 00:00", [k + 5 for k in kwh] * days)
    lake, reg = lake_from(tmp_path, rows, registry)
    prod = tmp_path / "production.csv"
    ts = pd.date_range("2026-08-03 00:00", periods=96 * days, freq="15min")
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "line": "=SMT1+1", "units": units * days}) \
        .query("units > 0").to_csv(prod, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy warning would now be an internal error
        rep = run("energy", "report", "--lake", lake, "--registry", reg, "--production", prod, "--kg-per-kwh",
                  "0.5", "--out", tmp_path / "out", "--json")
    assert any("=SMT1+1 made the same output every day (400 units)" in n for n in rep["notes"])
    for key in ("idle_csv", "kwh_per_unit_csv"):
        raw = Path(rep["files"][key]).read_bytes()
        assert raw.startswith(BOM), key
        text = raw.decode("utf-8-sig")
        assert "\n'=SMT1+1," in text and "\n=SMT1+1" not in text, key
    assert pd.read_csv(rep["files"]["idle_csv"])["line"].iloc[0] == "'=SMT1+1"  # readable back, shown as text


def test_energy_report_grid_factor_comes_from_the_factor_set(tmp_path):
    lake, reg, prod = _report_fixture(tmp_path)
    rep = run("energy", "report", "--lake", lake, "--registry", reg, "--site", "HF01", "--production", prod,
              "--factors", "CN-2025.1", "--grid-region", "east", "--out", tmp_path / "out", "--json")
    g = rep["grid_factor"]
    # data year 2026 is not published; the set's rule falls back to the latest earlier year, and says so
    assert g["kg_per_kwh"] == pytest.approx(0.55) and "CN-grid-east.2023" in g["source"]
    assert any("not published" in n for n in rep["notes"])
    assert rep["idle_total_co2_kg"] == pytest.approx(48.0 * 0.55)


def test_energy_report_reads_another_site_and_period(tmp_path):
    rows = series("B1", "2026-03-01 00:00", [50.0] * 24 * 4, step="h")  # four local days in Berlin
    lake, reg = lake_from(tmp_path, rows)
    rep = run("energy", "report", "--lake", lake, "--registry", reg, "--site", "DE01", "--from", "2026-03-02",
              "--to", "2026-03-03", "--out", tmp_path / "o", "--json")
    assert (rep["first_day"], rep["last_day"], rep["interval_min"]) == ("2026-03-02", "2026-03-03", 60)
    assert rep["site_load"]["kwh"] == pytest.approx(48 * 50.0) and rep["site_load"]["base_kw"] == pytest.approx(50.0)
    assert any("no production counts" in n for n in rep["notes"])
    assert "no readings of meter(s) B1 between 2027-01-01" in fails(
        "energy", "report", "--lake", lake, "--registry", reg, "--site", "DE01", "--from", "2027-01-01",
        "--out", tmp_path / "o")


def test_bad_production_rows_are_listed_by_row_and_column(tmp_path):
    lake, reg, _ = _report_fixture(tmp_path)
    prod = tmp_path / "bad.csv"
    prod.write_text("timestamp,line,units\n2026-08-03 08:00,SMT1,-5\n2026-08-03 08:15,SMT9,3\n", encoding="utf-8")
    text = fails("energy", "report", "--lake", lake, "--registry", reg, "--site", "HF01", "--production", prod,
                 "--out", tmp_path / "o")
    assert "bad.csv, row 2, column 'units': -5 is below 0" in text
    assert "bad.csv, row 3, column 'line': 'SMT9' is not a line" in text


def test_counts_of_products_need_the_product_and_kpis_per_product_need_products(tmp_path):
    lake, reg, _ = _report_fixture(tmp_path)
    prod = tmp_path / "products.csv"
    prod.write_text("timestamp,line,product,units\n2026-08-03 08:00,SMT1,X1,5\n2026-08-03 08:15,SMT1,,3\n"
                    "2026-08-03 08:30,SMT1,,0\n", encoding="utf-8")
    kpis = ("meters", "kpis", "--registry", reg, "--lake", lake, "--site", "HF01")
    text = fails(*kpis, "--production", prod)
    assert "products.csv, row 3, column 'product': empty, but the line made 3 units" in text and "row 4" not in text
    plain = tmp_path / "plain.csv"
    plain.write_text("timestamp,line,units\n2026-08-03 08:00,SMT1,5\n", encoding="utf-8")
    assert "the counts name no product" in fails(*kpis, "--production", plain, "--per", "product")
    assert "need production counts" in fails(*kpis, "--per", "product")
    # the long layout's columns are checked: a misspelt one is not read as nothing
    misspelt = tmp_path / "misspelt.csv"
    misspelt.write_text("timestamp,line,prod,units\n2026-08-03 08:00,SMT1,X1,5\n", encoding="utf-8")
    assert "misspelt.csv, row 1, column 'prod': not a column of production counts" in fails(
        *kpis, "--production", misspelt)
    no_units = tmp_path / "no_units.csv"
    no_units.write_text("timestamp,line,product\n2026-08-03 08:00,SMT1,X1\n", encoding="utf-8")
    assert "no_units.csv, row 1, column 'units': required column is missing" in fails(*kpis, "--production", no_units)


# --- baseline ---------------------------------------------------------------------------------------


def _daily_plant(tmp_path, days=240, cut=0.0, cut_from=180):
    """Hourly meter of a plant whose daily use is 200 kWh + 2 kWh per unit made; from day ``cut_from`` on it
    uses ``cut`` (a share) less."""
    rng = np.random.default_rng(3)
    made = rng.uniform(100, 300, days)
    daily = 200 + 2.0 * made + rng.normal(0, 5, days)
    daily[cut_from:] *= 1 - cut
    hourly = np.repeat(daily / 24, 24)
    registry = "id,site,line,unit,interval_min,timezone,revenue\nM,P1,A,kWh,60,Asia/Shanghai,true\n"
    lake, reg = lake_from(tmp_path, series("M", "2025-01-01 00:00", hourly, step="h"), registry)
    prod = tmp_path / "prod.csv"
    pd.DataFrame({"timestamp": pd.date_range("2025-01-01 12:00", periods=days, freq="D").strftime("%Y-%m-%d %H:%M"),
                  "line": "A", "units": made.round(3)}).to_csv(prod, index=False)
    return lake, reg, prod


def test_baseline_reports_savings_with_g14_uncertainty(tmp_path):
    lake, reg, prod = _daily_plant(tmp_path, cut=0.10)
    res = run("energy", "baseline", "--lake", lake, "--registry", reg, "--production", prod,
              "--baseline-from", "2025-01-01", "--baseline-to", "2025-06-29", "--reporting-from", "2025-06-30",
              "--reporting-to", "2025-08-28", "--out", tmp_path / "b", "--json")
    assert res["passes"] and res["fit"]["cv_rmse"] < 0.02 and abs(res["fit"]["nmbe"]) < 1e-9
    assert res["fit"]["coefficients"]["production"] == pytest.approx(2.0, abs=0.05)
    s = res["savings"]
    assert s["fraction"] == pytest.approx(0.10, abs=0.01) and s["significant"] and 0 < s["uncertainty_kwh"] < s["avoided_kwh"]
    assert Path(res["files"]["chart"]).read_bytes()[:4] == b"\x89PNG"
    periods = Path(res["files"]["periods_csv"])
    assert periods.read_bytes().startswith(BOM)  # defect: baseline_periods.csv was written without the BOM
    assert pd.read_csv(periods).columns[0] == "local_start"


def test_baseline_refuses_with_reasons_when_the_data_is_insufficient(tmp_path):
    lake, reg, prod = _daily_plant(tmp_path, days=60)
    res = run("energy", "baseline", "--lake", lake, "--registry", reg, "--production", prod,
              "--baseline-from", "2025-01-01", "--baseline-to", "2025-02-10", "--reporting-from", "2025-02-11",
              "--reporting-to", "2025-03-01", "--out", tmp_path / "b", "--json")
    assert not res["passes"] and res["savings"] is None
    assert any("baseline covers 41 days; daily models need 180" in r for r in res["reasons"])
    text = run("energy", "baseline", "--lake", lake, "--registry", reg, "--baseline-from", "2025-03-01",
               "--baseline-to", "2025-03-01", "--out", tmp_path / "b")
    assert "Baseline refused" in text and "insufficient baseline data" in text
    assert "towt model needs outdoor temperature" in fails(
        "energy", "baseline", "--lake", lake, "--registry", reg, "--model", "towt", "--baseline-from", "2025-01-01",
        "--baseline-to", "2025-02-01", "--out", tmp_path / "b")


# --- forecast ---------------------------------------------------------------------------------------


def test_forecast_writes_the_next_day_and_its_backtest(tmp_path):
    idx = pd.date_range("2026-03-02", periods=24 * 28, freq="h")
    rng = np.random.default_rng(7)
    load = 100 + 60 * ((idx.hour >= 8) & (idx.hour < 20)) * (idx.day_of_week < 6) + rng.normal(0, 2, len(idx))
    registry = "id,site,unit,interval_min,timezone,revenue\nG,P1,kWh,60,Asia/Shanghai,true\n"
    lake, reg = lake_from(tmp_path, series("G", "2026-03-02 00:00", load, step="h"), registry)
    res = run("energy", "forecast", "--lake", lake, "--registry", reg, "--horizon", "day", "--backtest-days", "3",
              "--out", tmp_path / "f", "--json")
    assert res["backtest_days"] == 3 and res["model_cv_rmse"] > 0 and res["naive_cv_rmse"] > 0
    assert res["skill"] == pytest.approx(1 - res["model_cv_rmse"] / res["naive_cv_rmse"])
    assert res["forecast_from"] == "2026-03-30T00:00:00+08:00"  # the local day after the history
    csv = pd.read_csv(res["files"]["forecast_csv"])
    assert len(csv) == 24 and csv["forecast_kwh"].between(80, 180).all()
    assert Path(res["files"]["forecast_csv"]).read_bytes().startswith(BOM)  # defect: forecast_day.csv had none
    assert Path(res["files"]["chart"]).read_bytes()[:4] == b"\x89PNG"
    assert "needs 41" in fails("energy", "forecast", "--lake", lake, "--registry", reg, "--horizon", "week",
                               "--backtest-days", "20", "--out", tmp_path / "f")


def test_towt_baseline_on_hours_with_temperature(tmp_path):
    idx = pd.date_range("2025-03-01", periods=24 * 7 * 16, freq="h")
    rng = np.random.default_rng(4)
    temp = 22 + 8 * np.sin(2 * np.pi * (np.asarray(idx.hour) - 9) / 24) + rng.normal(0, 1, len(idx))
    occupied = ((idx.day_of_week < 6) & (idx.hour >= 8) & (idx.hour < 20)).astype(float)
    load = np.asarray(200 + 300 * occupied + 12 * np.maximum(temp - 24, 0) + rng.normal(0, 10, len(idx)))
    load[np.asarray(idx >= "2025-05-20")] *= 0.92
    registry = "id,site,unit,interval_min,timezone,revenue\nH,S1,kWh,60,Asia/Shanghai,true\n"
    lake, reg = lake_from(tmp_path, series("H", "2025-03-01 00:00", load, step="h"), registry)
    temps = tmp_path / "t.csv"
    pd.DataFrame({"timestamp": idx.strftime("%Y-%m-%d %H:%M"), "temperature": (temp * 9 / 5 + 32).round(4),
                  "unit": "degF"}).to_csv(temps, index=False)
    res = run("energy", "baseline", "--lake", lake, "--registry", reg, "--model", "towt", "--temperature", temps,
              "--baseline-from", "2025-03-01", "--baseline-to", "2025-05-19", "--reporting-from", "2025-05-20",
              "--reporting-to", "2025-06-20", "--out", tmp_path / "b", "--json")
    assert res["granularity"] == "hourly" and res["passes"] and res["fit"]["cv_rmse"] < 0.05
    assert res["savings"]["fraction"] == pytest.approx(0.08, abs=0.01) and res["savings"]["significant"]


def test_production_and_temperature_files_saved_as_gbk_are_read(tmp_path):
    """Production counts exported by a Chinese MES in GBK were read as UTF-8 and failed; they are read like
    every other CSV now (UTF-8 or GB18030/GBK)."""
    from zerocarbon.io.energy_inputs import read_production, read_temperature

    prod = tmp_path / "产量.csv"
    prod.write_bytes("timestamp,line,units\n2026-08-03 08:00,贴片1,12\n".encode("gbk"))
    p = read_production(prod, "Asia/Shanghai", {"贴片1"})
    assert p["line"].tolist() == ["贴片1"] and p["units"].tolist() == [12.0]
    temp = tmp_path / "气温.csv"
    temp.write_bytes("timestamp,temperature,unit\n2026-08-03 08:00,30.5,degC\n".encode("gbk"))
    assert read_temperature(temp, "Asia/Shanghai").tolist() == [30.5]


def test_energy_report_takes_a_stored_factor_set(tmp_path):
    """`energy report --factors` found only shipped sets; a set imported with `factors import` was 'not found'."""
    lake, reg, prod = _report_fixture(tmp_path)
    db = f"sqlite:///{tmp_path / 'sets.sqlite'}"
    examples = Path(__file__).parents[1] / "examples" / "factors"
    run("org", "load", examples.parent / "organisation.yaml", "--db", db)  # a stored set belongs to an organisation
    run("factors", "import", examples / "supplier_grid.csv", "--name", "MY-GRID", "--db", db)
    rep = run("energy", "report", "--lake", lake, "--registry", reg, "--site", "HF01", "--production", prod,
              "--factors", "MY-GRID", "--db", db, "--province", "天津", "--out", tmp_path / "out", "--json")
    assert "CN-天津.2022" in rep["grid_factor"]["source"] and rep["grid_factor"]["kg_per_kwh"] == pytest.approx(0.7041)


def test_a_lake_uri_is_refused_where_the_lake_is_a_folder_and_by_duckdb(tmp_path, monkeypatch):
    """A URI is read by Spark only: the folder commands refuse it (never a relative folder named "file:"), and
    the engine commands on DuckDB say to add --engine spark. Nothing is created."""
    monkeypatch.chdir(tmp_path)
    lake, reg = lake_from(tmp_path, series("MAIN", "2026-03-02 00:00", [10.0] * 4))
    readings = tmp_path / "readings.csv"
    uri = lake.resolve().as_uri()
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    for args in (("meters", "import", reg, readings, "--lake", uri, "--db", url),
                 ("meters", "import", reg, readings, "--lake", "s3a://bucket/lake", "--db", url),
                 ("energy", "report", "--registry", reg, "--lake", uri, "--out", tmp_path / "report"),
                 ("doctor", "--lake", "hdfs://namenode/lake")):
        text = " ".join(fails(*args).replace("│", " ").split())  # a usage error comes in a box
        assert "is a URI, and this command reads or writes the lake as a folder" in text, text
    assert not (tmp_path / "file:").exists() and not (tmp_path / "s3a:").exists()
    for args in (("meters", "rollup", "--registry", reg, "--lake", uri),
                 ("meters", "rollup", "--registry", reg, "--lake", "file:" + str(lake.resolve())),
                 ("meters", "to-activity", reg, "--year", "2026", "--lake", uri, "--out", tmp_path / "e.csv")):
        text = fails(*args)
        assert "a lake there is read by Apache Spark only; add --engine spark" in text, text
    assert not (tmp_path / "e.csv").exists()
