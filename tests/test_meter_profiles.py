"""Meter-file profiles: a plant's own export imported unchanged, on the careful (pandas) and the out-of-core
(DuckDB) path alike; every stamp that cannot be placed is an error with file, row and column."""
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import database_with_org
from zerocarbon.core.energy.intervals import Meter, dst_windows
from zerocarbon.errors import InputError
from zerocarbon.io.meter_files import read_profile, read_readings, read_registry
from zerocarbon.services.meter_import import import_file, normalise
from zerocarbon.store import lake

ORG = "ORG"  # the lake keeps each organisation apart; these tests use one

DATA = Path(__file__).parent / "data"
STEEL = DATA / "steel_15min_sample.csv"
ENGINES = ["pandas", "duckdb"]


@pytest.fixture(scope="module")
def steel():
    return read_registry(DATA / "steel_meters.csv"), read_profile(DATA / "steel_15min.profile.yaml")


def usage_total() -> Decimal:
    # the file's own numbers, summed exactly as written
    return sum(Decimal(line.split(",")[1]) for line in STEEL.read_text().splitlines()[1:])


def lake_frame(root: Path) -> pd.DataFrame:
    return lake.query(root, ORG, "SELECT meter, ts, value, unit, quality FROM readings ORDER BY meter, ts")


def write(tmp_path: Path, rows, name="r.csv", columns=("meter", "timestamp", "value")) -> Path:
    p = tmp_path / name
    pd.DataFrame(rows, columns=list(columns)).to_csv(p, index=False)
    return p


def test_steel_plant_export_is_imported_unchanged_with_exact_totals_on_both_engines(tmp_path, steel):
    meters, profile = steel
    frames = {}
    for engine in ENGINES:
        s = import_file(tmp_path / engine, ORG, meters, STEEL, engine=engine, profile=profile)
        assert (s.rows, s.stored, s.missing_intervals, s.duplicates_dropped) == (288, 288, 0, 0), engine
        frames[engine] = lake_frame(tmp_path / engine)
    pd.testing.assert_frame_equal(frames["pandas"], frames["duckdb"])
    df = frames["pandas"]
    assert round(Decimal(str(float(df["value"].sum()))), 2) == usage_total()
    # "01/01/2018 00:15" closes the first interval: 00:00 Korean time, 15:00 UTC the day before; the last row,
    # "03/01/2018 00:00" after 23:45, closes 3 January, so the last interval starts at 23:45 local.
    assert df["ts"].min() == pd.Timestamp("2017-12-31 15:00") and df["ts"].max() == pd.Timestamp("2018-01-03 14:45")
    local_days = (df["ts"] + pd.Timedelta(hours=9)).dt.date.value_counts()
    assert set(local_days) == {96}  # each day gets its own 96 intervals, midnight rows included


def test_daily_totals_follow_the_files_day_blocks(tmp_path, steel):
    meters, profile = steel
    import_file(tmp_path / "lake", ORG, meters, STEEL, engine="pandas", profile=profile)
    raw = pd.read_csv(STEEL, dtype={"Usage_kWh": str})
    block = raw["date"].str[:10]  # a day's block is the 96 rows labelled with that date
    expected = raw.groupby(block)["Usage_kWh"].apply(lambda s: sum(Decimal(v) for v in s))
    got = lake.query(tmp_path / "lake", ORG, """SELECT strftime(ts + INTERVAL 9 HOUR, '%d/%m/%Y') AS day, sum(value) AS v
                                           FROM readings GROUP BY 1 ORDER BY 1""")
    assert [round(Decimal(str(float(v))), 2) for v in got["v"]] == list(expected.sort_index())


@pytest.mark.parametrize("engine", ENGINES)
def test_midnight_rows_out_of_order_are_refused_with_the_cause_explained(tmp_path, steel, engine):
    meters, profile = steel
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", ORG, meters, STEEL, engine=engine, profile=replace(profile, midnight="starts_day"))
    first = exc.value.problems[0]
    assert (first.row, first.column) == (97, "date")
    assert "'01/01/2018 00:00' comes after '01/01/2018 23:45' (row 96)" in first.reason
    assert "midnight: ends_day" in first.reason
    assert len(exc.value.problems) == 3 and not (tmp_path / "lake").exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_day_first_dates_read_as_iso_are_an_error_not_a_traceback(tmp_path, steel, engine):
    meters, profile = steel
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", ORG, meters, STEEL, engine=engine, profile=replace(profile, date_format="ISO8601"))
    first = exc.value.problems[0]
    assert (first.row, first.column) == (2, "date")
    assert first.reason.startswith("'01/01/2018 00:15' is not a timestamp in ISO 8601")


@pytest.mark.parametrize("engine", ENGINES)
def test_blank_stamp_is_an_error_not_a_silent_drop(tmp_path, engine):
    meters = {"M1": Meter("M1", "HF01")}
    rows = [("M1", "2026-08-03 00:00:00", 1.0), ("M1", None, 2.0), ("M1", "2026-08-03 00:30:00", 3.0)]
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", ORG, meters, write(tmp_path, rows), engine=engine)
    assert [str(p) for p in exc.value.problems] == ["r.csv, row 3, column 'timestamp': timestamp is blank"]
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_unreadable_and_out_of_order_stamps_name_row_and_column(tmp_path, engine):
    meters = {"M1": Meter("M1", "HF01")}
    bad = [("M1", "2026-08-03 00:00:00", 1.0), ("M1", "03/08/2026 00:15", 1.0)]
    with pytest.raises(InputError, match=r"row 3, column 'timestamp': '03/08/2026 00:15' is not a timestamp in ISO"):
        import_file(tmp_path / "a", ORG, meters, write(tmp_path, bad, "a.csv"), engine=engine)
    back = [("M1", "2026-08-03 00:30:00", 1.0), ("M1", "2026-08-03 00:15:00", 1.0)]
    with pytest.raises(InputError, match=r"row 3, column 'timestamp': '2026-08-03 00:15:00' comes after "
                                         r"'2026-08-03 00:30:00' \(row 2\).*check the date format"):
        import_file(tmp_path / "b", ORG, meters, write(tmp_path, back, "b.csv"), engine=engine)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_non_finite_values_are_refused(tmp_path, engine):
    meters = {"M1": Meter("M1", "HF01")}
    rows = [("M1", "2026-08-03 00:00:00", "inf"), ("M1", "2026-08-03 00:15:00", "1e999")]
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", ORG, meters, write(tmp_path, rows), engine=engine)
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "value"), (3, "value")]
    assert all("is not a finite number" in p.reason for p in exc.value.problems)


def test_local_stamps_in_a_clock_change(tmp_path):
    meters = {"DE": Meter("DE", "EU1", timezone="Europe/Berlin", interval_min=60)}
    fall = write(tmp_path, [("DE", f"2026-10-25 {h}:00:00", 1) for h in ("00", "01", "02", "02", "03")], "fall.csv")
    assert import_file(tmp_path / "p", ORG, meters, fall, engine="pandas").stored == 5  # resolved by file order
    with pytest.raises(InputError, match=r"row 4, column 'timestamp': local time 2026-10-25 02:00:00 happens twice"
                                         r".*--engine pandas"):
        import_file(tmp_path / "d", ORG, meters, fall, engine="duckdb")
    gap = write(tmp_path, [("DE", "2026-03-29 01:00:00", 1), ("DE", "2026-03-29 02:30:00", 1)], "gap.csv")
    for engine in ENGINES:
        with pytest.raises(InputError, match=r"row 3, column 'timestamp': local time 2026-03-29 02:30:00 does not "
                                             r"exist in Europe/Berlin"):
            import_file(tmp_path / engine, ORG, meters, gap, engine=engine)


def test_dst_windows_of_a_zone():
    (spring, autumn) = dst_windows("Europe/Berlin", "2026-01-01", "2026-12-31")
    assert spring == (pd.Timestamp("2026-03-29 02:00"), pd.Timestamp("2026-03-29 03:00"), "gap")
    assert autumn == (pd.Timestamp("2026-10-25 02:00"), pd.Timestamp("2026-10-25 03:00"), "repeat")
    assert dst_windows("Asia/Seoul", "2018-01-01", "2018-12-31") == []


def test_kept_columns_travel_with_the_readings(steel):
    meters, profile = steel
    frame, summary = normalise(read_readings(STEEL, profile), meters, STEEL.name, profile=profile)
    assert summary.profile == "steel-15min"
    assert {"Lagging_Current_Reactive.Power_kVarh", "Load_Type"} <= set(frame.columns)
    assert set(frame["Load_Type"]) <= {"Light_Load", "Medium_Load", "Maximum_Load"}


def test_a_profile_says_what_is_wrong_with_it(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("timestamp: {column: date, format: dd/mm/yyyy, marks: middle, timezone: Mars/Olympus}\n"
                 "meter: {column: m, id: X}\nvalue: {column: v, unit: kWhh}\ncolour: red\n")
    with pytest.raises(InputError) as exc:
        read_profile(p)
    keys = {pr.column for pr in exc.value.problems}
    assert keys == {"colour", "timestamp.format", "timestamp.marks", "timestamp.timezone", "meter", "value.unit"}


def test_profile_meter_must_be_registered(tmp_path, steel):
    _, profile = steel
    with pytest.raises(InputError, match="meter 'KR-STEEL-MAIN' is not in the meter registry"):
        import_file(tmp_path / "lake", ORG, {"OTHER": Meter("OTHER", "KR01")}, STEEL, profile=profile)


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_mapped_column_is_named(tmp_path, steel, engine):
    meters, profile = steel
    only_dates = write(tmp_path, [("01/01/2018 00:15",)], "dates.csv", ("date",))
    with pytest.raises(InputError, match=r"row 1, column 'Usage_kWh': required column is missing"):
        import_file(tmp_path / "lake", ORG, meters, only_dates, engine=engine, profile=profile)


KR01 = "  - {code: KR01, name: Dangjin, country: KR, grid_region: KR, timezone: Asia/Seoul}\n"


@pytest.mark.parametrize("engine", ENGINES)
def test_cli_imports_the_steel_export_with_its_profile(tmp_path, engine):
    from typer.testing import CliRunner

    from zerocarbon.cli import app

    args = ["meters", "import", str(DATA / "steel_meters.csv"), str(STEEL), "--profile",
            str(DATA / "steel_15min.profile.yaml"), "--engine", engine, "--lake", str(tmp_path / "lake"),
            "--db", database_with_org(tmp_path, KR01)]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "288 new readings stored" in r.output
    bad = CliRunner().invoke(app, args[:4] + [str(DATA / "steel_meters.csv")] + args[5:])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


# --- text encodings ---------------------------------------------------------------------------------------

SCADA_GBK = "表号,时间,读数,单位\n1号表,2025-01-01 00:00,1.5,kWh\n1号表,2025-01-01 00:15,1.75,kWh\n"
REGISTRY_GBK = "id,site,area,unit,interval_min,timezone,revenue\n1号表,HF01,一车间,kWh,15,Asia/Shanghai,true\n"
SCADA_PROFILE = "name: scada\ntimestamp: {column: 时间}\nvalue: {column: 读数, unit_column: 单位}\nmeter: {column: 表号}\n"


def _gbk_files(tmp_path: Path, profile_extra: str = "") -> tuple[Path, Path, Path]:
    readings, registry, profile = tmp_path / "scada_gbk.csv", tmp_path / "meters.csv", tmp_path / "prof.yaml"
    readings.write_bytes(SCADA_GBK.encode("gbk"))
    registry.write_bytes(REGISTRY_GBK.encode("gbk"))
    profile.write_text(SCADA_PROFILE + profile_extra, encoding="utf-8")
    return readings, registry, profile


@pytest.mark.parametrize("engine", ENGINES)
def test_gbk_scada_export_and_registry_import_on_both_engines(tmp_path, engine):
    """Defect: `meters import meters.csv scada_gbk.csv --profile prof.yaml` failed with "'utf-8' codec can't
    decode byte" (an internal error on the DuckDB path): files saved by Chinese Windows are GBK. Registry
    and readings are now read as UTF-8, else GB18030 (a superset of GBK), like activity files."""
    readings, registry, profile = _gbk_files(tmp_path)
    meters = read_registry(registry)
    assert meters["1号表"].area == "一车间"
    s = import_file(tmp_path / "lake", ORG, meters, readings, engine=engine, profile=read_profile(profile))
    assert s.stored == 2 and s.meters == ["1号表"]
    assert lake_frame(tmp_path / "lake")["value"].tolist() == [1.5, 1.75]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".utf8-")]  # the UTF-8 copy is gone


def test_profile_declares_the_encoding_and_a_wrong_one_is_named(tmp_path):
    readings, registry, _ = _gbk_files(tmp_path)
    meters = read_registry(registry)
    declared = tmp_path / "declared.yaml"
    declared.write_text(SCADA_PROFILE + "encoding: GBK\n", encoding="utf-8")
    profile = read_profile(declared)
    assert profile.encoding == "gbk"
    assert import_file(tmp_path / "lake", ORG, meters, readings, profile=profile).stored == 2
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(SCADA_PROFILE + "encoding: utf-8\n", encoding="utf-8")
    for engine in ENGINES:
        with pytest.raises(InputError, match=r"scada_gbk.csv: text is not valid utf-8, the encoding the profile"):
            import_file(tmp_path / "lake2", ORG, meters, readings, engine=engine, profile=read_profile(wrong))
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(SCADA_PROFILE + "encoding: klingon\n", encoding="utf-8")
    with pytest.raises(InputError, match="'klingon' is not a text encoding"):
        read_profile(unknown)


def test_cli_imports_a_gbk_export_without_an_internal_error(tmp_path):
    from typer.testing import CliRunner

    from zerocarbon.cli import app

    readings, registry, profile = _gbk_files(tmp_path)
    url = database_with_org(tmp_path)
    for engine in ENGINES:
        r = CliRunner().invoke(app, ["meters", "import", str(registry), str(readings), "--profile", str(profile),
                                     "--engine", engine, "--lake", str(tmp_path / engine), "--db", url])
        assert r.exit_code == 0, r.output
        assert "2 new readings stored" in r.output
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("meter,timestamp,value\nCaf\xe9,2025-01-01 00:00,1\n".encode("latin-1"))
    r = CliRunner().invoke(app, ["meters", "import", str(registry), str(latin), "--lake", str(tmp_path / "x"),
                                 "--db", url])
    assert r.exit_code == 2 and "neither UTF-8 nor GB18030/GBK" in r.output and "Traceback" not in r.output
