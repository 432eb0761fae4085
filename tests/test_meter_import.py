"""Bulk interval import: one small fixture per data trap."""
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import database_with_org
from zerocarbon.core.energy.intervals import Meter
from zerocarbon.errors import InputError
from zerocarbon.services.meter_import import import_file
from zerocarbon.store import lake

ORG = "ORG"  # the lake keeps each organisation apart; these tests use one


def write(tmp_path: Path, rows, name="r.csv", columns=("meter", "timestamp", "value")) -> Path:
    p = tmp_path / name
    pd.DataFrame(rows, columns=list(columns)).to_csv(p, index=False)
    return p


def day(meter="M1", start="2026-08-03 00:00", n=96, value=1.0, step="15min"):
    ts = pd.date_range(start, periods=n, freq=step)
    return [(meter, t.strftime("%Y-%m-%d %H:%M:%S"), value) for t in ts]


M = {"M1": Meter("M1", "HF01", line="SMT1"), "M2": Meter("M2", "HF01", stamp="end"),
     "MAIN": Meter("MAIN", "HF01", revenue=True)}


def total(root) -> float:
    return lake.query(root, ORG, "SELECT sum(value) AS v FROM readings")["v"][0]


def test_same_file_twice_changes_nothing(tmp_path):
    f = write(tmp_path, day())
    a = import_file(tmp_path / "lake", ORG, M, f)
    b = import_file(tmp_path / "lake", ORG, M, f)
    assert (a.stored, b.stored, b.already_stored) == (96, 0, 96)
    assert total(tmp_path / "lake") == pytest.approx(96.0)


def test_interval_end_twin_gives_the_same_daily_totals(tmp_path):
    # the same 24 h as interval-start stamps (M1) and interval-end stamps (M2), local time UTC+8
    start = write(tmp_path, day("M1", "2026-08-03 00:00", value=2.0), "s.csv")
    end = write(tmp_path, day("M2", "2026-08-03 00:15", value=2.0), "e.csv")
    import_file(tmp_path / "lake", ORG, M, start)
    import_file(tmp_path / "lake", ORG, M, end)
    daily = lake.query(tmp_path / "lake", ORG, "SELECT meter, min(ts) AS first, sum(value) AS v FROM readings GROUP BY 1 ORDER BY 1")
    assert list(daily["v"]) == [192.0, 192.0] and daily["first"][0] == daily["first"][1]
    assert daily["first"][0] == pd.Timestamp("2026-08-02 16:00")  # 00:00 Beijing time is 16:00 UTC


def test_dst_gap_is_rejected_and_repeated_hour_is_resolved(tmp_path):
    meters = {"DE": Meter("DE", "EU1", timezone="Europe/Berlin", interval_min=60)}
    bad = write(tmp_path, [("DE", "2026-03-29 01:00:00", 1), ("DE", "2026-03-29 02:30:00", 1)])
    with pytest.raises(InputError, match=r"row 3, column 'timestamp': local time 2026-03-29 02:30:00 does not exist"):
        import_file(tmp_path / "lake", ORG, meters, bad)
    # 2026-10-25: 02:00 local happens twice; in chronological order the two readings are different hours
    rows = [("DE", f"2026-10-25 {h}:00:00", 1) for h in ("00", "01", "02", "02", "03")]
    s = import_file(tmp_path / "lake", ORG, meters, write(tmp_path, rows, "fall.csv"))
    assert s.stored == 5 and not (tmp_path / "nothing").exists()


def test_cumulative_register_rollover_and_reset(tmp_path):
    meters = {"R": Meter("R", "HF01", register="cumulative", stamp="end", rollover=1_000_000)}
    regs = [999_950, 999_980, 10, 40, 5, 25]  # rollover after 999 980; reset (meter exchange) before 5
    rows = [("R", t.strftime("%Y-%m-%d %H:%M:%S"), v)
            for t, v in zip(pd.date_range("2026-08-03 00:15", periods=6, freq="15min"), regs)]
    s = import_file(tmp_path / "lake", ORG, meters, write(tmp_path, rows))
    assert (s.rollovers, s.resets, s.stored) == (1, 1, 4)  # the reset interval stays unknown
    assert total(tmp_path / "lake") == pytest.approx(30 + 30 + 30 + 20)


def test_multiplier_and_units(tmp_path):
    meters = {"CT": Meter("CT", "HF01", multiplier=40)}
    rows = [("CT", "2026-08-03 00:00:00", 500, "Wh"), ("CT", "2026-08-03 00:15:00", 1, "kWh")]
    import_file(tmp_path / "lake", ORG, meters, write(tmp_path, rows, columns=("meter", "timestamp", "value", "unit")))
    assert total(tmp_path / "lake") == pytest.approx(0.5 * 40 + 1 * 40)
    bad = [("CT", "2026-08-03 01:00:00", 1, "kg")]
    with pytest.raises(InputError, match=r"row 2, column 'unit'.*meter CT is in kWh"):
        import_file(tmp_path / "lake", ORG, meters, write(tmp_path, bad, "u.csv", ("meter", "timestamp", "value", "unit")))


def test_duplicates(tmp_path):
    rows = day(n=4) + day(n=1)  # an exact repeat of the first reading
    s = import_file(tmp_path / "lake", ORG, M, write(tmp_path, rows))
    assert s.duplicates_dropped == 1 and s.stored == 4
    clash = day(n=2) + [("M1", "2026-08-03 00:00:00", 9.0)]
    with pytest.raises(InputError, match=r"row 4, column 'value': M1 at 2026-08-03 00:00:00 appears with different"):
        import_file(tmp_path / "lake2", ORG, M, write(tmp_path, clash, "c.csv"))
    assert not (tmp_path / "lake2").exists()


def test_gaps_are_counted_and_filled_only_on_request(tmp_path):
    rows = [r for i, r in enumerate(day(n=12)) if i not in (4, 5)]
    s = import_file(tmp_path / "a", ORG, M, write(tmp_path, rows))
    assert (s.missing_intervals, s.filled, s.stored) == (2, 0, 10)
    s = import_file(tmp_path / "b", ORG, M, write(tmp_path, rows, "f.csv"), fill=True)
    assert (s.filled, s.stored) == (2, 12) and s.filled_share == pytest.approx(2 / 12)
    q = lake.query(tmp_path / "b", ORG, "SELECT count(*) AS n FROM readings WHERE quality = 'filled'")
    assert q["n"][0] == 2


def test_spike_is_flagged_not_changed(tmp_path):
    rows = day(n=96)
    rows[50] = ("M1", rows[50][1], 80.0)
    s = import_file(tmp_path / "lake", ORG, M, write(tmp_path, rows))
    assert s.spikes == 1
    q = lake.query(tmp_path / "lake", ORG, "SELECT value, quality FROM readings WHERE quality = 'spike'")
    assert list(q["value"]) == [80.0]


def test_bad_rows_write_nothing(tmp_path):
    rows = day(n=4) + [("NOPE", "2026-08-03 00:00:00", 1), ("M1", "2026-08-03 05:00:00", "x"),
                       ("M1", "2026-08-03 06:00:00", -3)]
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", ORG, M, write(tmp_path, rows))
    text = str(exc.value)
    assert "row 6, column 'meter': unknown meter 'NOPE'" in text and "row 7, column 'value': 'x' is not a number" in text
    assert "row 8, column 'value': negative reading" in text
    assert not (tmp_path / "lake").exists()


def test_changed_value_for_a_stored_reading_is_a_conflict(tmp_path):
    import_file(tmp_path / "lake", ORG, M, write(tmp_path, day(n=4)))
    changed = day(n=4, value=1.0)
    changed[2] = ("M1", changed[2][1], 7.0)
    with pytest.raises(InputError, match="differ from what the lake holds"):
        import_file(tmp_path / "lake", ORG, M, write(tmp_path, changed, "x.csv"))
    assert total(tmp_path / "lake") == pytest.approx(4.0)


def test_registry_is_stored_in_the_database(db):
    from sqlalchemy import select

    from zerocarbon.services.meter_import import register_meters
    from zerocarbon.store.tables import MeterRow

    register_meters(db, ORG, M, actor="test")
    register_meters(db, ORG, M, actor="test")  # idempotent
    with db() as s:
        rows = {r.id: r for r in s.scalars(select(MeterRow))}
    assert set(rows) == set(M) and rows["M2"].stamp == "end" and rows["M2"].organisation_id is not None


def test_cli_import_and_rollup(tmp_path):
    from typer.testing import CliRunner

    from zerocarbon.cli import app

    reg = tmp_path / "meters.csv"
    reg.write_text("id,site,unit,stamp\nM1,HF01,kWh,start\n")
    f = write(tmp_path, day(n=8))
    r = CliRunner().invoke(app, ["meters", "import", str(reg), str(f), "--lake", str(tmp_path / "lake"),
                                 "--db", database_with_org(tmp_path)])
    assert r.exit_code == 0 and "8 new readings stored" in r.output
    r = CliRunner().invoke(app, ["meters", "rollup", "--registry", str(reg), "--lake", str(tmp_path / "lake"),
                                 "--by", "meter", "--freq", "day", "--org", ORG])
    assert r.exit_code == 0 and "8.0" in r.output


def _offset_rows(meter, start, n, value, step="15min"):
    ts = pd.date_range(start, periods=n, freq=step, tz="Asia/Shanghai")
    return [(meter, t.isoformat(), value if not callable(value) else value(i)) for i, t in enumerate(ts)]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_duckdb_bulk_path_gives_the_same_lake_as_the_careful_path(tmp_path, suffix):
    meters = {"A": Meter("A", "HF01", multiplier=2), "B": Meter("B", "HF01", stamp="end"),
              "R": Meter("R", "HF02", register="cumulative", rollover=1000)}
    regs = [900, 950, 990, 20, 60, 5, 30, 30, 70]
    rows = (_offset_rows("A", "2026-08-03 00:00", 20, lambda i: 1.0 + (40 if i == 7 else 0))
            + _offset_rows("B", "2026-08-03 00:15", 20, 2.0)
            + [r for i, r in enumerate(_offset_rows("R", "2026-08-03 00:15", 9, lambda i: regs[i])) if i != 6]
            + _offset_rows("A", "2026-08-03 00:00", 1, 1.0))  # an exact duplicate
    df = pd.DataFrame(rows, columns=["meter", "timestamp", "value"])
    path = tmp_path / f"in{suffix}"
    df.to_parquet(path, index=False) if suffix == ".parquet" else df.to_csv(path, index=False)
    a = import_file(tmp_path / "pandas", ORG, meters, path, engine="pandas")
    b = import_file(tmp_path / "duckdb", ORG, meters, path, engine="duckdb")
    for k in ("stored", "duplicates_dropped", "resets", "rollovers", "spikes", "missing_intervals"):
        assert getattr(a, k) == getattr(b, k), k
    q = "SELECT meter, ts, round(value, 9) AS value, quality FROM readings ORDER BY meter, ts"
    pd.testing.assert_frame_equal(lake.query(tmp_path / "pandas", ORG, q), lake.query(tmp_path / "duckdb", ORG, q))
    again = import_file(tmp_path / "duckdb", ORG, meters, path, engine="duckdb")
    assert again.stored == 0 and again.already_stored == b.stored


def test_duckdb_bulk_path_rejects_bad_rows(tmp_path):
    rows = _offset_rows("M1", "2026-08-03 00:00", 3, 1.0) + [("X9", "2026-08-03T00:00:00+08:00", 1.0),
                                                            ("M1", None, 1.0),
                                                            ("M1", "2026-08-03T06:00:00+08:00", -1.0)]
    path = tmp_path / "bad.parquet"
    pd.DataFrame(rows, columns=["meter", "timestamp", "value"]).to_parquet(path, index=False)
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", ORG, M, path, engine="duckdb")
    text = str(exc.value)
    assert "row 4, column 'meter': unknown meter 'X9'" in text
    assert "row 5, column 'timestamp': timestamp is blank" in text  # was stored with no time
    assert "negative reading" in text and not (tmp_path / "lake").exists()


def test_revenue_meter_becomes_an_importable_electricity_file(tmp_path):
    from zerocarbon.io.tables import read_table, validate
    from zerocarbon.services.energy_data import electricity_activity

    import_file(tmp_path / "lake", ORG, M, write(tmp_path, day("MAIN", value=10.0) + day("M1", value=3.0)))
    path = electricity_activity(tmp_path / "lake", ORG, M, 2026, tmp_path / "electricity.csv", allow_partial=True).path
    frame = validate("electricity", read_table(path), path.name, {"HF01"}, 2026)
    # 96 intervals x 10 kWh on 2026-08-03 local time: one August row; the sub-meter M1 is left out
    assert frame["quantity"].sum() == pytest.approx(960.0) and set(frame["meter"]) == {"MAIN"}


def test_activity_months_follow_the_local_calendar(tmp_path):
    from zerocarbon.services.energy_data import electricity_activity

    rows = [("MAIN", "2026-08-31 23:00:00", 5.0), ("MAIN", "2026-09-01 02:00:00", 7.0)]  # both 31 Aug in UTC
    import_file(tmp_path / "lake", ORG, M, write(tmp_path, rows))
    out = pd.read_csv(electricity_activity(tmp_path / "lake", ORG, M, 2026, tmp_path / "e.csv", allow_partial=True).path)
    assert list(zip(out["period_start"], out["quantity"])) == [("2026-08-01", 5.0), ("2026-09-01", 7.0)]


def test_a_month_with_missing_intervals_is_not_written_as_a_whole_month(tmp_path):
    """`meters to-activity` wrote a month with readings up to the 26th as the whole month, understating Scope 2."""
    from zerocarbon.errors import InputError
    from zerocarbon.services.energy_data import electricity_activity

    import_file(tmp_path / "lake", ORG, M, write(tmp_path, day("MAIN", value=10.0)))
    with pytest.raises(InputError, match=r"2026-08: 96 of 2,976 intervals \(3.2%\)"):
        electricity_activity(tmp_path / "lake", ORG, M, 2026, tmp_path / "e.csv")
    assert not (tmp_path / "e.csv").exists()
    r = electricity_activity(tmp_path / "lake", ORG, M, 2026, tmp_path / "e.csv", allow_partial=True)
    assert r.partial == ["MAIN 2026-08 (3.2%)"] and "MAIN 2026-01" in r.without_readings and r.months == 1


def test_non_numbers_in_a_readings_file_are_named_by_row_as_written(tmp_path):
    """'nan' among whole numbers made the reader fail with no row ('cannot convert NA to integer'), and 'nan'
    among decimals was reported as 'value is blank'."""
    from zerocarbon.errors import InputError

    rows = [("MAIN", "2026-08-03 00:00:00", "4"), ("MAIN", "2026-08-03 00:15:00", "nan"),
            ("MAIN", "2026-08-03 00:30:00", "1e309"), ("MAIN", "2026-08-03 00:45:00", "")]
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", ORG, M, write(tmp_path, rows), engine="pandas")
    text = str(exc.value)
    assert "row 3, column 'value': 'nan' is not a finite number" in text
    assert "row 4, column 'value': '1e309' is not a finite number" in text
    assert "row 5, column 'value': value is blank" in text


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_stamp_off_the_meter_grid_is_refused_by_row(tmp_path, engine):
    """A 15-min meter's 00:07 is not an interval of its own: both engines refuse the file, naming the row."""
    f = write(tmp_path, [("M1", "2026-08-03 00:00", 1.0), ("M1", "2026-08-03 00:07", 1.0),
                         ("M1", "2026-08-03 00:30", 1.0), ("M2", "2026-08-03 00:22:30", 1.0)])
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", ORG, M, f, engine=engine)
    got = sorted((p.row, p.column, p.reason) for p in exc.value.problems)
    assert [(r, c) for r, c, _ in got] == [(3, "timestamp"), (5, "timestamp")]
    assert "not on the meter's 15-min grid (…:07)" in got[0][2] and "2026-08-03 00:07 local time" in got[0][2]
    assert "(…:07:30)" in got[1][2]  # an interval-end stamp: its interval would start at 00:07:30
    assert not (tmp_path / "lake").exists() or not list((tmp_path / "lake").rglob("*.parquet"))


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_the_grid_is_the_meters_local_time(tmp_path, engine):
    """An hourly meter in India starts its intervals on the local hour: :30 in UTC is on its grid, :00 UTC not."""
    meters = {"IN": Meter("IN", "PN01", interval_min=60, timezone="Asia/Kolkata")}
    good = write(tmp_path, [("IN", "2026-08-03T00:30:00Z", 1.0), ("IN", "2026-08-03 07:00", 1.0)], "good.csv")
    assert import_file(tmp_path / "lake", ORG, meters, good, engine=engine).stored == 2
    bad = write(tmp_path, [("IN", "2026-08-03T02:00:00Z", 1.0)], "bad.csv")
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", ORG, meters, bad, engine=engine)
    assert "not on the meter's 60-min grid (…:30): interval start 2026-08-03 07:30 local time (Asia/Kolkata)" \
        in str(exc.value)


def test_a_registry_is_checked_against_the_organisations_sites(db, tmp_path):
    """A meter at a site the organisation does not have, or in another time zone than its site, is refused by
    row and column, and nothing of the registry is stored."""
    from sqlalchemy import select

    from zerocarbon.services.meter_import import register_meters
    from zerocarbon.store.tables import MeterRow

    bad = {"M1": M["M1"], "X": Meter("X", "NOPE1"), "Z": Meter("Z", "HF01", timezone="Europe/Berlin")}
    with pytest.raises(InputError) as exc:
        register_meters(db, ORG, bad, actor="test", source="registry.csv")
    got = [(p.source, p.row, p.column) for p in exc.value.problems]
    assert got == [("registry.csv", 3, "site"), ("registry.csv", 4, "timezone")]
    text = str(exc.value)
    assert "site 'NOPE1' is not a site of organisation ORG (its sites: HF01, TJ01)" in text
    assert "time zone Europe/Berlin differs from Asia/Shanghai, the time zone of its site HF01" in text
    with db() as s:
        assert list(s.scalars(select(MeterRow))) == []


def test_cli_refuses_a_registry_meter_at_an_unknown_site_before_any_lake_folder(tmp_path):
    from typer.testing import CliRunner

    from zerocarbon.cli import app

    url = database_with_org(tmp_path)
    reg = tmp_path / "registry.csv"
    reg.write_text("id,site,unit\nM1,HF01,kWh\nX,NOPE1,kWh\n", encoding="utf-8")
    readings = write(tmp_path, day("X", n=4))
    res = CliRunner().invoke(app, ["meters", "import", str(reg), str(readings), "--lake", str(tmp_path / "lake"),
                                   "--org", ORG, "--db", url])
    assert res.exit_code != 0 and "registry.csv" in res.output and "NOPE1" in res.output
    assert not (tmp_path / "lake").exists()


def test_a_changed_reading_is_named_by_row_local_time_and_the_files_own_number(tmp_path):
    """Both engines word a conflict with the lake alike: the file's row, UTC and local time as written, the
    file's number beside the value after unit and multiplier, and what to do."""
    meters = {"WX-L1": Meter("WX-L1", "HF01", multiplier=2)}
    cols = ("meter", "timestamp", "value", "unit")
    first = write(tmp_path, [("WX-L1", "2026-03-02 02:00", 22.0, "kWh"), ("WX-L1", "2026-03-02 02:15", 22.0, "kWh")],
                  "first.csv", cols)
    changed = write(tmp_path, [("WX-L1", "2026-03-02 02:00", 22.0, "kWh"), ("WX-L1", "2026-03-02 02:15", 996.0, "kWh"),
                               ("WX-L1", "2026-03-02 02:30", 1.0, "kWh")], "changed.csv", cols)
    texts = []
    for engine in ("pandas", "duckdb"):
        import_file(tmp_path / engine, ORG, meters, first, engine=engine)
        with pytest.raises(InputError) as exc:
            import_file(tmp_path / engine, ORG, meters, changed, engine=engine)
        (p,) = exc.value.problems
        assert (p.source, p.row, p.column) == ("changed.csv", 3, "value")
        texts.append(p.reason)
        assert lake.query(tmp_path / engine, ORG, "SELECT count(*) AS n FROM readings")["n"][0] == 2
    assert texts[0] == texts[1]
    assert ("row 3: WX-L1 at 2026-03-01 18:15 UTC = 2026-03-02 02:15 Asia/Shanghai, written '2026-03-02 02:15' "
            "(interval start): stored 44 kWh, new file 996 x multiplier 2 = 1992 kWh") in texts[0]
    assert "the lake keeps the value first stored" in texts[0] and "Correcting stored readings" in texts[0]


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_meter_is_refused_not_given_to_a_meter(tmp_path, engine, blank):
    # The streaming path once read a blank meter cell as no problem and stored the reading under the first
    # meter of the registry; the careful path called it meter 'nan'.
    path = tmp_path / "r.csv"
    path.write_text("meter,timestamp,value\nM1,2026-08-03T00:00:00+08:00,1.0\n"
                    f"{blank},2026-08-03T00:15:00+08:00,2.0\n")
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", ORG, M, path, engine=engine)
    assert "row 3, column 'meter': meter is blank" in str(exc.value)
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize("engine", ["pandas", "duckdb", "spark"])
def test_an_empty_file_is_said_to_be_empty_on_every_engine(tmp_path, engine):
    # Refused before any engine starts (Spark listed three missing columns, pandas "No columns to parse").
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", ORG, M, path, engine=engine)
    assert [str(p) for p in exc.value.problems] == ["empty.csv: file is empty"]
    assert not (tmp_path / "lake").exists()


def test_gap_filling_with_the_streaming_engine_is_refused_not_ignored(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("meter,timestamp,value\nM1,2026-08-03T00:00:00+08:00,1.0\n")
    with pytest.raises(InputError, match="gap filling is done by --engine pandas"):
        import_file(tmp_path / "lake", ORG, M, path, fill=True, engine="duckdb")
    with pytest.raises(InputError, match="add --engine spark"):
        import_file(tmp_path / "lake", ORG, M, path, engine="pandas", spark_master="local[2]")
    assert not (tmp_path / "lake").exists()
