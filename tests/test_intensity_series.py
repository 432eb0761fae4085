"""Grid carbon-intensity series: reader checks, unit conversion, cutting onto a window, the shipped
series and its provenance, and ``schedule run --carbon-series``."""
import csv
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zerocarbon.cli import app
from zerocarbon.core.energy.intensity import IntensitySeries, SeriesWindowError, cut
from zerocarbon.errors import InputError, UnitError
from zerocarbon.io.intensity_series import intensity_unit, read_intensity_series, shipped_series

runner = CliRunner()
UTC = timezone.utc
HEADER = ["timestamp", "value", "unit", "source", "method"]
SRC, METHOD = "Test grid operator", "average, operational, generation-based"


def write(path: Path, rows, header=HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def quarter_hours(n=4, start="2026-08-03T00:00:00+08:00", values=(400, 500, 600, 700), unit="gCO2/kWh"):
    t0 = datetime.fromisoformat(start)
    return [[(t0 + timedelta(minutes=15 * i)).isoformat(), values[i % len(values)], unit, SRC, METHOD]
            for i in range(n)]


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as exc:
        read_intensity_series(path)
    assert path.name in str(exc.value)
    return [str(p) for p in exc.value.problems]


# --- reader ---------------------------------------------------------------------------------------------------


def test_reads_a_15_min_series_and_converts_grams_to_kilograms(tmp_path):
    f = write(tmp_path / "site.csv", quarter_hours())
    s = read_intensity_series(f)
    assert s.step_min == 15
    assert s.start == datetime(2026, 8, 2, 16, 0, tzinfo=UTC)  # 00:00 at +08:00
    assert s.start.utcoffset() == timedelta(hours=8)
    assert s.values == (0.4, 0.5, 0.6, 0.7)  # g -> kg: / 1000
    assert (s.unit, s.source_unit, s.source, s.method, s.name) == ("kgCO2/kWh", "gCO2/kWh", SRC, METHOD, "site")
    assert s.end == s.start + timedelta(hours=1)


def test_z_suffix_extra_columns_and_a_utc_offset_change_are_accepted(tmp_path):
    rows = [["2023-03-26T00:00:00Z", 100, "kgCO2/kWh", SRC, METHOD, "x"],
            ["2023-03-26T02:00:00+01:00", 120, "kgCO2/kWh", SRC, METHOD, ""]]  # one hour later, BST
    s = read_intensity_series(write(tmp_path / "a.csv", rows, HEADER + ["note"]))
    assert s.step_min == 60 and s.values == (100.0, 120.0)


def test_a_gb18030_file_from_a_chinese_spreadsheet_reads(tmp_path):
    f = tmp_path / "anhui.csv"
    rows = [["2026-08-03T00:00:00+08:00", 550, "gCO2/kWh", "安徽 自建 (测试)", "平均, 运行, 发电侧"],
            ["2026-08-03T00:30:00+08:00", 560, "gCO2/kWh", "安徽 自建 (测试)", "平均, 运行, 发电侧"]]
    text = ",".join(HEADER) + "\n" + "\n".join(",".join(f'"{c}"' for c in map(str, r)) for r in rows) + "\n"
    f.write_bytes(text.encode("gb18030"))
    s = read_intensity_series(f)
    assert s.source == "安徽 自建 (测试)" and s.step_min == 30 and s.values == (0.55, 0.56)


@pytest.mark.parametrize("unit, value, expected, kind", [
    ("gCO2/kWh", 250, 0.25, "kgCO2/kWh"),  # 250 g / 1000
    ("kgCO2/kWh", 0.5, 0.5, "kgCO2/kWh"),
    ("tCO2/MWh", 0.8, 0.8, "kgCO2/kWh"),  # 800 kg / 1000 kWh
    ("kg/MWh", 581, 0.581, "kgCO2/kWh"),
    ("lbCO2/MWh", 1000, 0.45359237, "kgCO2/kWh"),  # 1000 lb x 0.45359237 kg/lb / 1000 kWh
    ("gCO2e/kWh", 123, 0.123, "kgCO2e/kWh"),
])
def test_units_convert_to_kilograms_per_kwh(tmp_path, unit, value, expected, kind):
    rows = [["2023-01-01T00:00:00+00:00", value, unit, SRC, METHOD],
            ["2023-01-01T01:00:00+00:00", value, unit, SRC, METHOD]]
    s = read_intensity_series(write(tmp_path / "u.csv", rows))
    assert s.values[0] == pytest.approx(expected, rel=1e-12) and s.unit == kind


def test_non_intensity_units_are_refused():
    for bad in ("kWh", "gCO2eq/kWh", "furlongs"):
        with pytest.raises(UnitError):
            intensity_unit(bad)


def test_missing_column_is_reported_on_the_header_row(tmp_path):
    f = write(tmp_path / "m.csv", [r[:4] for r in quarter_hours()], HEADER[:4])
    assert problems(f) == ["m.csv, row 1, column 'method': required column is missing"]


def test_timestamp_without_offset_or_unreadable(tmp_path):
    rows = quarter_hours()
    rows[1][0] = "2026-08-03T00:15:00"
    rows[2][0] = "3 August"
    got = problems(write(tmp_path / "t.csv", rows))
    assert got[0].startswith("t.csv, row 3, column 'timestamp': '2026-08-03T00:15:00' has no UTC offset")
    assert got[1] == "t.csv, row 4, column 'timestamp': '3 August' is not an ISO 8601 date and time"


def test_gap_duplicate_order_and_irregular_step_name_their_rows(tmp_path):
    rows = quarter_hours(6)
    del rows[2]  # 00:30 missing: row 4 (00:45) follows 00:15
    assert problems(write(tmp_path / "gap.csv", rows)) == [
        "gap.csv, row 4, column 'timestamp': gap: 1 missing 15-min interval(s) after row 3"]
    rows = quarter_hours(4)
    rows[2][0] = rows[1][0]
    assert "dup.csv, row 4, column 'timestamp': duplicate of row 3" in problems(write(tmp_path / "dup.csv", rows))
    rows = quarter_hours(4)
    rows[2], rows[3] = rows[3], rows[2]
    assert "order.csv, row 5, column 'timestamp': before row 4; rows must be in time order" in problems(
        write(tmp_path / "order.csv", rows))
    rows = quarter_hours(3)
    rows[1][0] = "2026-08-03T00:20:00+08:00"
    assert problems(write(tmp_path / "step.csv", rows))[0] == (
        "step.csv, row 3, column 'timestamp': step from row 2 is 20 min; a series steps by 15, 30, 60 min")
    rows = quarter_hours(3)
    rows[2][0] = "2026-08-03T00:25:00+08:00"
    assert problems(write(tmp_path / "odd.csv", rows)) == [
        "odd.csv, row 4, column 'timestamp': 10 min after row 3; the file's step is 15 min"]


def test_one_row_is_not_a_series(tmp_path):
    assert problems(write(tmp_path / "one.csv", quarter_hours(1))) == [
        "one.csv, column 'timestamp': one row only: at least two are needed to know the step"]


def test_bad_values_units_and_empty_provenance_are_all_reported_at_once(tmp_path):
    rows = quarter_hours(8)
    rows[0][1] = "-5"
    rows[1][1] = "nan"
    rows[2][1] = "lots"
    rows[3][1] = "inf"
    rows[4][2] = "kWh"
    rows[5][3] = ""
    rows[6][4] = " "
    rows[7][2] = "gCO2e/kWh"
    got = problems(write(tmp_path / "v.csv", rows))
    assert got[0] == "v.csv, row 2, column 'value': -5 is negative; an intensity is 0 or more"
    assert got[1] == "v.csv, row 3, column 'value': 'nan' is not a finite number"
    assert got[2] == "v.csv, row 4, column 'value': 'lots' is not a number"
    assert got[3] == "v.csv, row 5, column 'value': 'inf' is not a finite number"
    assert got[4].startswith("v.csv, row 6, column 'unit': unknown intensity unit 'kWh'")
    assert got[5] == "v.csv, row 7, column 'source': empty; say who published the values"
    assert got[6].startswith("v.csv, row 8, column 'method': empty; say what the values are")
    assert got[7] == "v.csv, row 9, column 'unit': 'gCO2e/kWh' is CO2e, row 2 is CO2; one file holds one kind"
    assert len(got) == 8


def test_missing_file_and_unknown_shipped_name(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_intensity_series(tmp_path / "none.csv")
    with pytest.raises(InputError, match="no shipped series 'nope'; shipped: .*gb_national_2023"):
        read_intensity_series("shipped:nope")


# --- cut / resample --------------------------------------------------------------------------------------------

HOURLY = IntensitySeries(values=(0.1, 0.3, 0.2, 0.4, 0.5, 0.1), step_min=60,
                         start=datetime(2023, 1, 1, tzinfo=UTC), name="h")


def test_coarsening_takes_the_mean_refining_repeats():
    assert cut(HOURLY, "2023-01-01T00:00:00+00:00", 240, 120).values == pytest.approx((0.2, 0.3))  # (.1+.3)/2, (.2+.4)/2
    w = cut(HOURLY, "2023-01-01T01:00:00+00:00", 60, 15)
    assert w.values == (0.3, 0.3, 0.3, 0.3) and w.shift_days == 0 and "(repeat)" in w.note
    assert cut(HOURLY, "2023-01-01T00:00:00+00:00", 180, 60).values == (0.1, 0.3, 0.2)


def test_a_window_off_the_series_grid_is_time_weighted():
    # 00:30-01:30: half an hour at 0.1, half at 0.3
    assert cut(HOURLY, "2023-01-01T00:30:00+00:00", 60, 60).values == pytest.approx((0.2,))
    # 00:30-00:45 lies inside the first hour
    assert cut(HOURLY, "2023-01-01T00:30:00+00:00", 30, 15).values == (0.1, 0.1)


def test_the_window_start_offset_is_honoured_and_a_part_step_counts_whole():
    # 09:00 at +08:00 is 01:00 UTC; 90 min at 60-min steps is ceil(1.5) = 2 values
    assert cut(HOURLY, "2023-01-01T09:00:00+08:00", 90, 60).values == (0.3, 0.2)


def test_other_years_use_the_same_dates_and_say_so():
    w = cut(HOURLY, "2026-01-01T02:00:00+00:00", 120, 60)
    assert w.values == (0.2, 0.4)
    assert w.used_from == datetime(2023, 1, 1, 2, tzinfo=UTC) and w.shift_days == -1096
    assert "same dates and clock times of 2023" in w.note and "-1096 days" in w.note
    with pytest.raises(SeriesWindowError, match="is not inside it"):
        cut(HOURLY, "2026-01-01T02:00:00+00:00", 120, 60, match_year=False)


def test_a_window_past_the_series_end_is_an_error():
    with pytest.raises(SeriesWindowError, match="covers 2023-01-01T00:00:00\\+00:00 to 2023-01-01T06:00:00\\+00:00"):
        cut(HOURLY, "2023-01-01T05:00:00+00:00", 120, 60)
    with pytest.raises(SeriesWindowError, match="no start date"):
        cut(HOURLY, "", 60, 60)
    with pytest.raises(SeriesWindowError, match="no UTC offset"):
        cut(HOURLY, "2023-01-01T00:00:00", 60, 60)


# --- shipped series --------------------------------------------------------------------------------------------


def test_shipped_gb_series_loads_with_its_provenance():
    path = shipped_series()["gb_national_2023"]
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7030
    assert all(r["source"] == "NESO Carbon Intensity API (GB national)" for r in rows)
    assert all(r["method"] == "average, operational, generation-based" for r in rows)
    assert {r["unit"] for r in rows} == {"gCO2/kWh"}
    s = read_intensity_series("shipped:gb_national_2023")
    assert s.step_min == 60 and s.start == datetime(2023, 1, 1, tzinfo=UTC)
    assert s.end == datetime(2023, 10, 20, 22, tzinfo=UTC)
    assert s.values[0] == pytest.approx(float(rows[0]["value"]) / 1000)
    readme = (path.parent / "README.md").read_text(encoding="utf-8")
    for fact in ("CC BY 4.0", "avagm/neso-carbon-intensity", "1a4fe4099820f9eddf42eee98bd3cd2cc10ad4da",
                 "carbon-intensity/api-definitions", "e3f25a16065dbd47b8b369ad4e6222284ae6e56c", "operational"):
        assert fact in readme


# --- putting a series on a problem -----------------------------------------------------------------------------


def small_week(n_orders=4) -> dict:
    from zerocarbon.services.demo_plant import laptop_week

    return laptop_week(seed=5, n_orders=n_orders)


def test_with_carbon_series_replaces_only_the_carbon_series():
    from zerocarbon.io.schedule_files import plant_problem_from_dict
    from zerocarbon.services.carbon_series import with_carbon_series

    p = plant_problem_from_dict(small_week())
    a = with_carbon_series(p, "shipped:gb_national_2023")
    q = a.problem
    assert len(q.series.carbon) == p.horizon // 60 == 168
    assert q.series.price == p.series.price and q.series.pv_kw == p.series.pv_kw
    # the week starts 2026-08-03 00:00 at +08:00 = 2026-08-02 16:00 UTC -> 2023-08-02 16:00 UTC
    s = read_intensity_series("shipped:gb_national_2023")
    first = int((datetime(2023, 8, 2, 16, tzinfo=UTC) - s.start) / timedelta(hours=1))
    assert q.series.carbon == s.values[first:first + 168]
    assert "2023-08-02T16:00:00+00:00" in a.note and "NESO" in a.note


def test_with_carbon_series_follows_the_problem_step():
    """A problem whose series carry ``step_min`` (15 min here) gets ceil(horizon / step) carbon values."""
    from dataclasses import replace

    from zerocarbon.io.schedule_files import plant_problem_from_dict
    from zerocarbon.services.carbon_series import with_carbon_series

    @dataclass(frozen=True)
    class Series15:
        price: tuple = ()
        carbon: tuple = ()
        pv_kw: tuple = ()
        step_min: int = 15

    p = plant_problem_from_dict(small_week())
    p = replace(p, series=Series15(), horizon=100)
    q = with_carbon_series(p, "shipped:gb_national_2023").problem
    assert len(q.series.carbon) == 7  # ceil(100 / 15)
    assert q.series.carbon[:4] == (q.series.carbon[0],) * 4  # one hourly value repeated per quarter hour


def test_cli_run_uses_the_series(tmp_path):
    from zerocarbon.core.schedule.kpi import compute_kpis
    from zerocarbon.io.schedule_files import plant_problem_from_dict
    from zerocarbon.services.carbon_series import with_carbon_series
    from zerocarbon.solvers.schedule.dispatch import dispatch

    spec = small_week()
    (tmp_path / "p.json").write_text(json.dumps(spec), encoding="utf-8")
    r = runner.invoke(app, ["schedule", "run", str(tmp_path / "p.json"), "--time-limit", "1", "--json",
                            "--carbon-series", "gb_national_2023", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output  # a bare shipped name, as the API takes it
    kpis = json.loads(r.stdout)["kpis"]
    q = with_carbon_series(plant_problem_from_dict(spec), "shipped:gb_national_2023").problem
    expected = compute_kpis(q, dispatch(q, "edd"), "always_on").co2_kg
    flat = compute_kpis(plant_problem_from_dict(spec), dispatch(q, "edd"), "always_on").co2_kg
    assert kpis["edd_always_on"]["co2_kg"] == pytest.approx(expected) and expected < 0.5 * flat
    assert "gb_national_2023" in r.stderr and "2023-08-02T16:00:00+00:00" in r.stderr
    assert "converted from gCO2/kWh to kgCO2/kWh" in r.stderr and "read as" not in r.stderr
    # a CO2 series: the table and the savings line say CO2, not CO2e
    (tmp_path / "q.json").write_text(json.dumps(small_week(2)), encoding="utf-8")
    r = runner.invoke(app, ["schedule", "run", str(tmp_path / "q.json"), "--time-limit", "1",
                            "--carbon-series", "gb_national_2023", "--out", str(tmp_path / "o2")])
    assert r.exit_code == 0, r.output
    assert "kgCO2" in r.stdout and "tCO2," in r.stdout and "CO2e" not in r.stdout


def test_cli_bad_series_is_a_message(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps(small_week(2)), encoding="utf-8")
    write(tmp_path / "s.csv", [["2026-08-03T00:00:00", 500, "gCO2/kWh", SRC, METHOD],
                               ["2026-08-03T01:00:00+08:00", 500, "gCO2/kWh", SRC, METHOD]])
    r = runner.invoke(app, ["schedule", "run", str(tmp_path / "p.json"), "--carbon-series", str(tmp_path / "s.csv"),
                            "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "s.csv, row 2, column 'timestamp'" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


def test_cli_series_lists_the_shipped_series():
    r = runner.invoke(app, ["schedule", "series", "--json"])
    assert r.exit_code == 0, r.output
    row = next(x for x in json.loads(r.stdout) if x["name"] == "gb_national_2023")
    assert row["step_min"] == 60 and row["rows"] == 7030 and row["unit"] == "kgCO2/kWh"
    assert 0.03 <= row["min"] < row["mean"] < row["max"] <= 0.3


def test_cli_takes_bare_shipped_names_and_names_the_shipped_ones(tmp_path, monkeypatch):
    """Defect guarded: ``--carbon-series gb_national_2023`` was "file not found" on the command line while the API
    took the bare name."""
    from zerocarbon.services.carbon_series import series_spec
    from zerocarbon.services.schedule_runs import shipped_spec

    monkeypatch.chdir(tmp_path)
    assert series_spec("gb_national_2023", paths=True) == "shipped:gb_national_2023"
    assert series_spec("shipped:gb_national_2023", paths=True) == "shipped:gb_national_2023"
    assert series_spec("nope", paths=True) == "shipped:nope"
    assert series_spec("nope.csv", paths=True) == "nope.csv" and series_spec("d/x", paths=True) == "d/x"
    write(tmp_path / "gb_national_2023", [["2026-08-03T00:00:00+08:00", 500, "gCO2/kWh", SRC, METHOD]])
    assert series_spec("gb_national_2023", paths=True) == "gb_national_2023"  # an existing file is read as one
    # a form or a request is never read as a path
    assert shipped_spec("gb_national_2023") == shipped_spec(" gb_national_2023 ") == "shipped:gb_national_2023"
    assert shipped_spec("../etc/passwd") == "shipped:../etc/passwd"
    (tmp_path / "gb_national_2023").unlink()
    r = runner.invoke(app, ["schedule", "series", "gb_national_2023", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["name"] == "gb_national_2023"
    r = runner.invoke(app, ["schedule", "series", "nope"])
    assert r.exit_code == 2 and "no shipped series 'nope'; shipped: gb_national_2023" in r.output
    r = runner.invoke(app, ["schedule", "series", "nope.csv"])
    assert r.exit_code == 2 and "nope.csv: file not found" in r.output


def test_a_row_with_more_fields_than_the_header_is_refused(tmp_path):
    """Defect guarded: an unquoted ``average, operational, generation-based`` method split into three fields,
    and the method was silently cut to ``average``."""
    path = tmp_path / "grid.csv"
    path.write_text("timestamp,value,unit,source,method\n"
                    '2026-08-03T00:00:00+08:00,500,gCO2/kWh,Grid,"average, operational, generation-based"\n'
                    "2026-08-03T01:00:00+08:00,480,gCO2/kWh,Grid,average, operational, generation-based\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_intensity_series(path)
    (p,) = exc.value.problems
    assert (p.source, p.row) == ("grid.csv", 3)
    assert p.reason == "7 fields, header has 5; quote values containing commas"
    fixed = path.read_text().replace(",average, operational, generation-based\n",
                                     ',"average, operational, generation-based"\n')
    path.write_text(fixed, encoding="utf-8")
    assert read_intensity_series(path).method == "average, operational, generation-based"
