"""The readings import as one SQL definition (core.readings_sql) on DuckDB and on Spark against the streaming
import (store.lake_import): the same lake rows to the bit, the same counts, and for bad input the same problems
(row, column, reason) with nothing written. The data hold the hard cases: DST changes both ways, interval-end
stamps, UTC offsets, a year boundary, gaps, identical and conflicting repeats, registers with a rollover, a reset
and a spread, units and multipliers, a spike, two organisations with the same site codes and meter ids.

Marked ``spark`` (Java needed; under CI=true its absence fails).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.spark_cluster import local_spark
from tests.test_bulk_import import BLANKS, METERS as TRAP_METERS, _save, _traps
from tests.test_spark_engine import REGISTRY, _files, _meters
from zerocarbon.core import readings_sql
from zerocarbon.core.energy.intervals import Meter, MeterFileProfile
from zerocarbon.errors import InputError
from zerocarbon.store import engine_import, engines, lake, lake_import

pytestmark = pytest.mark.spark
ROWS = "SELECT meter, ts, value, unit, quality FROM readings ORDER BY meter, ts"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SUMMARY = ("rows", "stored", "already_stored", "duplicates_dropped", "resets", "rollovers", "spikes",
           "missing_intervals")


@pytest.fixture(scope="module")
def spark():
    with local_spark() as engine:
        yield engine


def _outcome(run):
    """("stored", summary) or ("refused", [(row, column, reason), ...])."""
    try:
        s = run()
    except InputError as exc:
        return "refused", [(p.row, p.column, p.reason) for p in exc.problems]
    return "stored", {k: s[k] for k in SUMMARY} if isinstance(s, dict) else {k: getattr(s, k) for k in SUMMARY}


def _all_paths(tmp: Path, spark, meters, path: Path, org="ORG", profile=None, lakes=None):
    """The file through the streaming path, the definition on DuckDB and on Spark, each into its own lake (or
    ``lakes``); asserts the three agree and returns the streaming path's outcome and lake rows."""
    profile = profile or MeterFileProfile()
    lakes = lakes or {name: tmp / name for name in ("stream", "duckdb", "spark")}
    out = {"stream": _outcome(lambda: lake_import.bulk_import(lakes["stream"], org, meters, path, profile))}
    for name, eng in (("duckdb", engines.engine("duckdb")), ("spark", spark)):
        out[name] = _outcome(lambda: engine_import.engine_import(lakes[name], org, meters, path, eng, profile))
    assert out["duckdb"] == out["stream"], "duckdb"
    assert out["spark"] == out["stream"], "spark"
    held = {n: lake.query(p, org, ROWS) if lake.has_readings(p, org) else None for n, p in lakes.items()}
    if held["stream"] is None:
        assert held["duckdb"] is None and held["spark"] is None
    else:
        for name in ("duckdb", "spark"):
            pd.testing.assert_frame_equal(held[name], held["stream"])  # to the bit: no tolerance
    return out["stream"], held["stream"]


def test_the_hard_cases_give_the_same_lake_on_every_path(tmp_path, spark):
    """Two organisations with the same site codes and meter ids; every file of the Spark world, whose Berlin
    file has local stamps in both clock changes (refused alike: the bulk paths leave those to pandas)."""
    (tmp_path / "meters.csv").write_text(REGISTRY, encoding="utf-8")
    meters = _meters(tmp_path / "meters.csv")
    lakes = {name: tmp_path / f"lake-{name}" for name in ("stream", "duckdb", "spark")}
    seen = set()
    for org, scale in (("A", 1.0), ("B", 3.0)):
        for path, _ in _files(tmp_path / org, scale):
            outcome, _ = _all_paths(tmp_path, spark, meters, path, org=org, lakes=lakes)
            seen.add((path.name, outcome[0]))
    assert ("de.csv", "refused") in seen and ("sh-reg.csv", "stored") in seen and ("ny.csv", "stored") in seen
    for org in ("A", "B"):  # the whole lake of each organisation, after all its files
        ref = lake.query(lakes["stream"], org, ROWS)
        assert len(ref) > 1000
        for name in ("duckdb", "spark"):
            pd.testing.assert_frame_equal(lake.query(lakes[name], org, ROWS), ref)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_every_interval_rule_gives_the_same_rows_flags_and_counts(tmp_path, spark, suffix):
    outcome, rows = _all_paths(tmp_path, spark, TRAP_METERS, _save(_traps(), tmp_path / f"in{suffix}"))
    assert outcome[0] == "stored"
    s = outcome[1]
    assert (s["duplicates_dropped"], s["rollovers"], s["resets"], s["spikes"], s["missing_intervals"]) == (2, 1, 1, 1, 4)
    assert set(rows["quality"]) == {"", "spike", "rollover", "spread"}


def test_a_reimport_stores_nothing_twice_and_a_change_is_refused_alike(tmp_path, spark):
    path = _save(_traps(), tmp_path / "in.csv")
    lakes = {name: tmp_path / name for name in ("stream", "duckdb", "spark")}
    _all_paths(tmp_path, spark, TRAP_METERS, path, lakes=lakes)
    again, _ = _all_paths(tmp_path, spark, TRAP_METERS, path, lakes=lakes)
    assert again[0] == "stored" and again[1]["stored"] == 0 and again[1]["already_stored"] > 0
    changed = _traps()
    changed.loc[[10, 11, 12], "value"] = [9.0, 9.5, 10.0]
    outcome, _ = _all_paths(tmp_path, spark, TRAP_METERS, _save(changed, tmp_path / "changed.csv"), lakes=lakes)
    assert outcome[0] == "refused" and "3 reading(s) differ" in outcome[1][0][2] and "row 12: A at 2026-08-02 18:15 UTC" in outcome[1][0][2]
    # a corrected file that adds what was missing stores only that
    more = pd.concat([_traps(), pd.DataFrame([("A", "2026-08-06T00:00:00+08:00", 1.0, "kWh")],
                                             columns=["meter", "timestamp", "value", "unit"])])
    added, _ = _all_paths(tmp_path, spark, TRAP_METERS, _save(more, tmp_path / "more.csv"), lakes=lakes)
    assert added[0] == "stored" and added[1]["stored"] == 1, added


M = {"SH": Meter("SH", "S1", unit="kWh", interval_min=15, timezone="Asia/Shanghai"),
     "DE": Meter("DE", "S2", unit="kWh", interval_min=60, timezone="Europe/Berlin")}


def _csv(tmp_path: Path, name: str, rows: list[tuple]) -> Path:
    path = tmp_path / name
    pd.DataFrame(rows, columns=["meter", "timestamp", "value", "unit"]).to_csv(path, index=False)
    return path


GOOD = [("SH", f"2026-08-03 00:{m:02d}", 1.0, "kWh") for m in (0, 15, 30, 45)]


@pytest.mark.parametrize("case, rows, expect", [
    ("row reasons", GOOD + [("XX", "2026-08-03 01:00", 1, "kWh"), (None, "2026-08-03 01:00", 1, "kWh"),
                            ("SH", "2026-08-03 01:00", None, "kWh"), ("SH", "2026-08-03 01:15", "x", "kWh"),
                            ("SH", "2026-08-03 01:30", "inf", "kWh"), ("SH", "2026-08-03 01:45", -2, "kWh"),
                            ("SH", None, 1, "kWh"), ("SH", "03/08/2026 02:00", 1, "kWh"),
                            ("SH", "2026-08-03 02:15", 1, "kg"), ("SH", "2026-08-03 02:30", 1, "Kwh"),
                            ("SH", "2026-08-03 02:45", 1, None), ("SH", "2026-08-03 03:00", "1_000", "kWh"),
                            ("SH", "2026-08-03 03:15", "1__000", "kWh"),
                            ("DE", "2026-03-29 02:00", 1, "kWh"), ("DE", "2026-10-25 02:00", 1, "kWh")],
     ["unknown meter 'XX'", "meter is blank", "value is blank", "'x' is not a number", "not a finite number",
      "negative reading", "timestamp is blank", "is not a timestamp in ISO 8601", "wrong dimension",
      "does not exist in Europe/Berlin", "happens twice in Europe/Berlin", "'1__000' is not a number"]),
    ("outside the years", GOOD + [("SH", "2250-01-01T00:00:00Z", 1, "kWh"), ("SH", "1850-01-01T00:00:00+08:00", 1, "kWh")],
     ["is outside the years 1900 to 2199"]),
    ("off the grid", GOOD + [("SH", "2026-08-03 01:07", 1, "kWh"), ("DE", "2026-08-03 01:30+02:00", 1, "kWh")],
     ["not on the meter's 15-min grid", "not on the meter's 60-min grid"]),
    ("out of order", GOOD + [("SH", "2026-08-02 23:45", 1, "kWh"), ("SH", "2026-08-03 00:15", 7.0, "kWh")],
     ["stamps are out of time order"]),
    ("conflicting repeats", GOOD + [("SH", "2026-08-03 00:45", 2.0, "kWh"), ("SH", "2026-08-03 00:15", 3.0, "kWh")],
     ["appears with different values"]),
])
def test_bad_input_gets_the_same_problems_and_writes_nothing(tmp_path, spark, case, rows, expect):
    outcome, held = _all_paths(tmp_path, spark, M, _csv(tmp_path, "bad.csv", rows))
    assert outcome[0] == "refused" and held is None
    text = " | ".join(r for _, _, r in outcome[1])
    for part in expect:
        assert part in text, (case, part, text)
    assert not any(p.exists() for p in (tmp_path / "stream", tmp_path / "duckdb", tmp_path / "spark"))


def test_problems_come_from_the_batch_the_stream_would_stop_at(tmp_path, spark, monkeypatch):
    """With batches of 4 rows: the first batch with a problem gives its first kind of problem (off the grid
    here); later batches add only their rows' own reasons, never their grid or range problems."""
    monkeypatch.setattr(lake_import, "BATCH_ROWS", 4)
    monkeypatch.setattr(readings_sql, "BATCH_ROWS", 4)
    rows = (GOOD + [("SH", "2026-08-03 01:07", 1, "kWh"), ("SH", "2026-08-03 01:15", 1, "kWh"),
                    ("SH", "2026-08-03 01:30", 1, "kWh"), ("SH", "2026-08-03 01:45", 1, "kWh")]
            + [("SH", "2026-08-03 02:01", 1, "kWh"), ("SH", "2250-01-01T00:00:00Z", 1, "kWh"),
               ("SH", "2026-08-03 02:30", "x", "kWh"), ("SH", "2026-08-03 02:45", 1, "kWh")])
    outcome, _ = _all_paths(tmp_path, spark, M, _csv(tmp_path, "batches.csv", rows))
    assert [(r, c) for r, c, _ in outcome[1]] == [(6, "timestamp"), (12, "value")]


def test_rows_are_numbered_in_file_order_across_spark_splits(tmp_path, spark):
    """A file Spark reads in many splits (a 4 KB split size) still names the user's rows."""
    stamps = pd.date_range("2026-08-01 00:00", periods=3000, freq="15min").strftime("%Y-%m-%d %H:%M")
    rows = [("SH", t, 1.0, "kWh") for t in stamps]
    rows[1234] = ("SH", rows[1234][1], "n/a", "kWh")
    rows[2998] = ("XX", rows[2998][1], 1.0, "kWh")
    path = _csv(tmp_path, "long.csv", rows)
    session = spark.session()
    session.conf.set("spark.sql.files.maxPartitionBytes", "4096")
    try:
        outcome, _ = _all_paths(tmp_path, spark, M, path)
        assert session.read.csv(str(path), header=True).rdd.getNumPartitions() > 10
    finally:
        session.conf.unset("spark.sql.files.maxPartitionBytes")
    assert [r for r, _, _ in outcome[1]] == [1236, 3000]


def test_a_missing_column_and_a_strftime_profile_are_refused_before_reading(tmp_path, spark):
    path = tmp_path / "cols.csv"
    path.write_text("meter,when,value\nSH,2026-08-03 00:00,1\n")
    outcome, _ = _all_paths(tmp_path, spark, M, path)
    assert outcome == ("refused", [(1, "timestamp", "required column is missing (profile default)")])
    dayfirst = MeterFileProfile(date_format="dayfirst")
    with pytest.raises(InputError, match="are read by --engine duckdb or pandas"):
        engine_import.engine_import(tmp_path / "x", "ORG", M, path, spark, dayfirst)
    assert not (tmp_path / "x").exists()


def test_the_command_imports_on_spark(tmp_path, spark):
    """``zerocarbon meters import --engine spark`` as a user runs it: the same summary as the streaming path,
    and a usage error for --spark-master without Spark."""
    from typer.testing import CliRunner

    from zerocarbon.cli import app

    registry, path = EXAMPLES / "meters" / "registry.csv", EXAMPLES / "meters" / "readings_2026-06.csv"
    db = f"sqlite:///{tmp_path / 'zc.sqlite'}"
    runner = CliRunner()
    assert runner.invoke(app, ["org", "load", str(EXAMPLES / "organisation.yaml"), "--db", db]).exit_code == 0
    out = {}
    for engine in ("duckdb", "spark"):
        res = runner.invoke(app, ["meters", "import", str(registry), str(path), "--lake",
                                  str(tmp_path / f"lake-{engine}"), "--org", "ACME", "--engine", engine, "--db", db,
                                  "--json"] + (["--spark-master", "local[2]"] if engine == "spark" else []))
        assert res.exit_code == 0, res.output
        out[engine] = res.output
    assert out["spark"] == out["duckdb"]
    res = runner.invoke(app, ["meters", "import", str(registry), str(path), "--lake",
                              str(tmp_path / "lake-x"), "--org", "ACME", "--engine", "pandas", "--spark-master",
                              "local[2]", "--db", db])
    assert res.exit_code == 2 and "add --engine spark" in res.output


def test_a_parquet_file_spark_cannot_read_is_named_with_what_to_do(tmp_path, spark):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "ns.parquet"
    pq.write_table(pa.table({"meter": ["SH"], "timestamp": pa.array([1_785_700_800_000_000_000], pa.timestamp("ns", "UTC")),
                             "value": [1.0]}), path)
    with pytest.raises(InputError, match="coerce_timestamps='us'") as exc:
        engine_import.engine_import(tmp_path / "lake", "ORG", M, path, spark)
    assert "spark could not read the file" in str(exc.value) and not (tmp_path / "lake").exists()


@pytest.mark.parametrize("text, encoding", [
    ("meter,timestamp,value\nSH,2026-08-03 00:00,1\nSH,2026-08-03 00:15,2\n", "utf-8-sig"),
    ("meter;timestamp;value\nSH;2026-08-03 00:00;1,5\nSH;2026-08-03 00:15;2\n", "utf-8"),
    ("meter,timestamp,value\n", "utf-8")], ids=["bom", "semicolons", "header-only"])
def test_csv_dialects_are_read_alike(tmp_path, spark, text, encoding):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding=encoding)
    outcome, _ = _all_paths(tmp_path, spark, M, path)
    assert outcome[0] == "refused" or outcome[1]["rows"] == text.count("\n") - 1


@pytest.mark.parametrize("name, encoding, header", [
    ("gb.csv", "gb18030", "meter,timestamp,value,unit"), ("readings 2026:06[1]{a,b}*.csv", "utf-8", "meter,timestamp,value,unit"),
    ("spaced.csv", "utf-8", "meter, timestamp, value, unit")], ids=["gb18030", "odd-name", "spaced-header"])
def test_files_the_command_reads_on_duckdb_are_read_on_spark(tmp_path, spark, name, encoding, header):
    """Through the command's service: a GB18030 file (read through a UTF-8 copy), a name holding ':' and glob
    characters, a header with spaces after the commas."""
    from zerocarbon.services.meter_import import import_file

    path = tmp_path / name
    path.write_text(header + "\n" + "".join(f"SH,2026-08-03 00:{m:02d},1.5,千瓦时\n" if m == 30 else
                                            f"SH,2026-08-03 00:{m:02d},1.5,kWh\n" for m in (0, 15, 30, 45)),
                    encoding=encoding)
    out = {}
    for engine in ("duckdb", "spark"):
        out[engine] = _outcome(lambda: import_file(tmp_path / engine, "ORG", M, path, engine=engine,
                                                   spark_master="local[2]" if engine == "spark" else None))
    assert out["spark"] == out["duckdb"]
    assert out["duckdb"][0] == "refused" and out["duckdb"][1][0][:2] == (4, "unit")  # 千瓦时: named, on both
    assert not list(tmp_path.glob("*/.tmp-*")) and not list(tmp_path.glob("*/.utf8-*"))


def test_glob_characters_in_file_and_lake_names_read_only_what_they_name(tmp_path, spark):
    """DuckDB and Hadoop expand ``*``, ``?``, ``[...]`` (and Hadoop ``{a,b}``) in the paths they read: the file
    ``r*.csv`` must not also read ``r1.csv``, nor the lake in ``lake[0]`` the lake in ``lake0``, on any path,
    first import or re-import."""
    path = _save(_traps(), tmp_path / "r*.csv")
    _save(_traps().assign(value=9.0), tmp_path / "r1.csv")
    lakes = {name: tmp_path / f"lake[{i}]" for i, name in enumerate(("stream", "duckdb", "spark"))}
    for i in range(3):
        lake_import.bulk_import(tmp_path / f"lake{i}", "ORG", TRAP_METERS, tmp_path / "r1.csv", MeterFileProfile())
    first, rows = _all_paths(tmp_path, spark, TRAP_METERS, path, lakes=lakes)
    again, _ = _all_paths(tmp_path, spark, TRAP_METERS, path, lakes=lakes)
    assert first[0] == "stored" and first[1]["rows"] == len(_traps()) and again[1]["stored"] == 0
    on_spark = lake.query(lakes["spark"], "ORG", ROWS, engine=spark)
    pd.testing.assert_frame_equal(on_spark, rows, check_dtype=False)


def test_ctrl_c_cancels_the_spark_jobs_and_is_an_interruption_not_bad_input(tmp_path, spark, monkeypatch):
    """PySpark's own SIGINT handler calls Spark from inside the interrupted call ("reentrant call" tracebacks),
    and the cancelled job's error read as "could not read the file". Ctrl-C must cancel the running job and
    raise KeyboardInterrupt, leave nothing in the lake, and give the handler back."""
    import os
    import signal
    import threading

    session = spark.session()  # started before any Ctrl-C
    before = signal.getsignal(signal.SIGINT)
    timer = threading.Timer(2, os.kill, (os.getpid(), signal.SIGINT))
    try:
        with pytest.raises(KeyboardInterrupt), engines.interruptible(spark):
            timer.start()
            session.range(10 ** 12).selectExpr("sum(id % 7)").collect()  # hours: only the cancel ends it
    finally:
        timer.cancel()  # never a stray Ctrl-C into the next test
    assert signal.getsignal(signal.SIGINT) is before

    path = _save(_traps(), tmp_path / "in.csv")

    def interrupted(source):
        os.kill(os.getpid(), signal.SIGINT)  # arrives while the import's Spark work is under way
        return ","

    monkeypatch.setattr(engine_import, "_delimiter", interrupted)
    with pytest.raises(KeyboardInterrupt):
        engine_import.engine_import(tmp_path / "lake", "ORG", TRAP_METERS, path, spark, MeterFileProfile())
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize("name", list(BLANKS))
def test_rows_after_empty_lines_are_the_files_own_on_spark(tmp_path, spark, name):
    """Spark's CSV reader skips empty lines as DuckDB's does: the command names the file's own rows alike,
    in the problems and in the text of an out-of-order stamp."""
    from zerocarbon.services.meter_import import import_file

    text, expect = BLANKS[name]
    path = tmp_path / name
    path.write_bytes(text.encode())
    out = {}
    for engine in ("duckdb", "spark"):
        out[engine] = _outcome(lambda: import_file(tmp_path / engine, "ORG", TRAP_METERS, path, engine=engine,
                                                   spark_master="local[2]" if engine == "spark" else None))
    assert out["spark"] == out["duckdb"]
    assert [(r, c) for r, c, _ in out["spark"][1]] == expect


def test_a_changed_reading_after_empty_lines_is_named_alike_on_spark(tmp_path, spark):
    from zerocarbon.services.meter_import import import_file

    (tmp_path / "a.csv").write_text("meter,timestamp,value\nA,2026-08-03T00:00:00+08:00,1\n"
                                    "A,2026-08-03T00:15:00+08:00,1\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("meter,timestamp,value\n\nA,2026-08-03T00:00:00+08:00,1\n\n"
                                    "A,2026-08-03T00:15:00+08:00,2\n", encoding="utf-8")
    out = {}
    for engine in ("duckdb", "spark"):
        master = "local[2]" if engine == "spark" else None
        import_file(tmp_path / engine, "ORG", TRAP_METERS, tmp_path / "a.csv", engine=engine, spark_master=master)
        out[engine] = _outcome(lambda: import_file(tmp_path / engine, "ORG", TRAP_METERS, tmp_path / "b.csv",
                                                   engine=engine, spark_master=master))
    assert out["spark"] == out["duckdb"]
    (row, _, reason), = out["spark"][1]
    assert row == 5 and "row 5: A at" in reason


@pytest.mark.parametrize("text", [
    'meter,timestamp,value,unit\n"A","2026-08-03T00:00:00+08:00","1.5","kWh"\n"A","2026-08-03T00:15:00+08:00","2",kWh\n',
    'meter,timestamp,value,unit\n"A",2026-08-03T00:00:00+08:00,"1.5",kWh\n"A\nB",2026-08-03T00:15:00+08:00,1,kWh\n'
    '"A",2026-08-03T00:30:00+08:00,"2""",kWh\n'], ids=["all-quoted", "line-break-and-doubled-quote"])
def test_quoted_fields_are_read_as_duckdb_reads_them(tmp_path, spark, text):
    """A quote inside a quoted field is doubled (RFC 4180), and a quoted line break stays inside its field:
    Spark reads a file with quotes whole, and as DuckDB does."""
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    outcome, _ = _all_paths(tmp_path, spark, TRAP_METERS, path)
    assert outcome[0] == ("stored" if "B" not in text else "refused"), outcome


def test_a_rollover_behind_a_multiplier_is_differenced_alike(tmp_path, spark):
    """The registry's rollover is the register's own maximum; every path differences after the CT ratio."""
    from tests.test_bulk_import import _rows

    meters = {"G": Meter("G", "HF01", multiplier=10, register="cumulative", rollover=100_000)}
    rows = _rows("G", "2026-08-03 00:15", 4, lambda i: [99_999.5, 99_999.9, 0.7, 1.2][i], unit="kWh")
    path = _save(pd.DataFrame(rows, columns=["meter", "timestamp", "value", "unit"]), tmp_path / "g.csv")
    outcome, held = _all_paths(tmp_path, spark, meters, path)
    assert outcome[1]["rollovers"] == 1 and held["value"].tolist() == pytest.approx([4.0, 8.0, 5.0])


def test_ctrl_c_while_spark_starts_is_an_interruption(tmp_path):
    """The command started as a user starts it; Ctrl-C once Spark's JVM is starting (its first line on stderr)
    ends it with "interrupted" and exit 130. PySpark's handler, set while its context starts, made this a
    Py4J traceback and "Spark could not start … needs Java 17"."""
    import os
    import signal
    import subprocess
    import sys

    registry, path = EXAMPLES / "meters" / "registry.csv", EXAMPLES / "meters" / "readings_2026-06.csv"
    db = f"sqlite:///{tmp_path / 'zc.sqlite'}"
    exe = [sys.executable, "-m", "zerocarbon"]
    subprocess.run(exe + ["org", "load", str(EXAMPLES / "organisation.yaml"), "--db", db], check=True,
                   capture_output=True)
    p = subprocess.Popen(exe + ["meters", "import", str(registry), str(path), "--lake", str(tmp_path / "lake"),
                                "--org", "ACME", "--engine", "spark", "--spark-master", "local[1]", "--db", db],
                         stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"},
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        first = p.stderr.readline()  # the JVM's first word: Spark is starting
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally:
        p.kill()
    assert p.returncode == 130, (first, err[-2000:])
    assert "interrupted" in err and "Java 17" not in err and "Traceback" not in err
    assert not (tmp_path / "lake").exists()
