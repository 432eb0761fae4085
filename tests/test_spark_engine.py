"""DuckDB and Spark run the same bulk definitions (core.bulk_sql) and must agree: identical row sets, values to
1e-9 relative, on data holding the hard cases: DST changes both ways in two zones, interval-end stamps, a
cumulative register that rolls over, duplicate rows, gaps, a year boundary, and two organisations with the same
site codes and meter ids. A real standalone cluster (master + worker on loopback) runs a job via spark-submit.

Tests marked ``spark`` need Java; under CI=true its absence fails them (tests.spark_cluster).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from tests.spark_cluster import java_or_fail, spark_env, start
from zerocarbon.core.energy.intervals import Meter
from zerocarbon.errors import InputError, NotFoundError, StorageError
from zerocarbon.services import accounting, energy_data
from zerocarbon.services.meter_import import import_file
from zerocarbon.store import engines, lake


REGISTRY = """id,site,line,medium,unit,register,stamp,interval_min,timezone,rollover,revenue
SH-MAIN,S1,,electricity,kWh,interval,start,15,Asia/Shanghai,,true
SH-END,S1,L1,electricity,kWh,interval,end,15,Asia/Shanghai,,false
SH-REG,S1,L2,electricity,kWh,cumulative,start,15,Asia/Shanghai,9999.9,false
DE-MAIN,S2,,electricity,kWh,interval,end,60,Europe/Berlin,,true
NY-MAIN,S3,NY1,electricity,MWh,interval,start,15,America/New_York,,true
"""
#: units made per hour on the Shanghai lines, local stamps
PRODUCTION = "timestamp,L1,L2\n" + "".join(f"2026-12-31 {h:02d}:00,10,{h % 4}\n" for h in range(24))
#: the same day by product: L1 makes A13 and B15 by day (6 + 4 an hour) and only A13 at night (10); L2 makes B15
PRODUCTS = "timestamp,line,product,units\n" + "".join(
    (f"2026-12-31 {h:02d}:00,L1,A13,6\n2026-12-31 {h:02d}:00,L1,B15,4\n" if 8 <= h < 20
     else f"2026-12-31 {h:02d}:00,L1,A13,10\n") + f"2026-12-31 {h:02d}:00,L2,B15,{h % 4}\n" for h in range(24))


def _meters(path: Path) -> dict[str, Meter]:
    from zerocarbon.services.meter_import import read_registry
    return read_registry(path)


def _rows(meter, stamps, values):
    return pd.DataFrame({"meter": meter, "timestamp": stamps, "value": values})


def _files(folder: Path, scale: float) -> list[tuple[Path, str]]:
    """Readings files of one organisation (``scale`` makes the second one's values differ) and the import
    engine each goes through (the careful path resolves a repeated local hour by file order)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    # Shanghai, interval starts, across the year boundary, with a gap (an hour missing) and identical repeats
    ts = pd.date_range("2026-12-30 00:00", "2027-01-02 00:00", freq="15min", inclusive="left")
    ts = ts[(ts < "2026-12-31 10:00") | (ts >= "2026-12-31 11:00")]
    main = _rows("SH-MAIN", ts.strftime("%Y-%m-%d %H:%M:%S"), [scale * (1 + (i % 7) * 0.37) for i in range(len(ts))])
    main = pd.concat([main, main.iloc[[5, 6, 100]]], ignore_index=True)
    main.to_csv(folder / "sh-main.csv", index=False)
    out.append((folder / "sh-main.csv", "duckdb"))
    # interval-end stamps: 00:15 marks 00:00-00:15
    end = pd.date_range("2026-12-31 00:15", periods=192, freq="15min")
    _rows("SH-END", end.strftime("%Y-%m-%d %H:%M:%S"), scale * 0.25).to_csv(folder / "sh-end.csv", index=False)
    out.append((folder / "sh-end.csv", "duckdb"))
    # a cumulative register rolling over at 9999.9
    reg = pd.date_range("2026-12-31 00:00", periods=96, freq="15min")
    values = [(9990.0 + i * 0.5 * scale) % 10000.0 for i in range(96)]
    values = [round(v if v <= 9999.9 else v - 9999.9, 4) for v in values]
    _rows("SH-REG", reg.strftime("%Y-%m-%d %H:%M:%S"), values).to_csv(folder / "sh-reg.csv", index=False)
    out.append((folder / "sh-reg.csv", "pandas"))
    # Berlin, hourly, interval-end local stamps over both changes of 2026; the autumn hour repeats in file order
    spring = pd.date_range("2026-03-28 00:00", "2026-03-31 00:00", freq="1h", tz="Europe/Berlin")
    autumn = pd.date_range("2026-10-24 00:00", "2026-10-27 00:00", freq="1h", tz="Europe/Berlin")
    stamps = [t + pd.Timedelta(hours=1) for t in spring.append(autumn)]
    de = _rows("DE-MAIN", [t.strftime("%Y-%m-%d %H:%M:%S") for t in stamps], [scale * (2 + i % 5) for i in range(len(stamps))])
    de.to_csv(folder / "de.csv", index=False)
    out.append((folder / "de.csv", "pandas"))
    # New York, 15 min in MWh, stamps with their UTC offset, around both changes and across month ends
    ny = pd.date_range("2026-02-27 00:00", "2026-03-10 00:00", freq="15min", tz="America/New_York").append(
        pd.date_range("2026-10-30 00:00", "2026-11-03 00:00", freq="15min", tz="America/New_York"))
    _rows("NY-MAIN", [t.isoformat() for t in ny], [scale * 0.001 * (1 + i % 3) for i in range(len(ny))]).to_csv(
        folder / "ny.csv", index=False)
    out.append((folder / "ny.csv", "duckdb"))
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    java_or_fail()
    base = tmp_path_factory.mktemp("spark-world")
    (base / "meters.csv").write_text(REGISTRY, encoding="utf-8")
    (base / "production.csv").write_text(PRODUCTION, encoding="utf-8")
    (base / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    meters = _meters(base / "meters.csv")
    root = base / "lake"
    for org, scale in (("A", 1.0), ("B", 3.0)):  # same site codes and meter ids in both organisations
        for path, how in _files(base / org, scale):
            import_file(root, org, meters, path, engine=how)
    return base, root, meters


@pytest.fixture(scope="module")
def spark(world):
    base, _, _ = world
    import os
    saved = {k: os.environ.get(k) for k in ("SPARK_LOCAL_IP", "PYSPARK_PYTHON")}
    os.environ.update({k: v for k, v in spark_env().items() if k in saved})
    # Every call names the engine as a user's would; the session is made once and reused by name.
    yield {"engine": "spark", "spark_master": "local[2]"}
    engines.SparkEngine("local[2]").session().stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _named(spark: dict) -> dict:
    return {"name": spark["engine"], "master": spark["spark_master"]}


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Identical rows in the same order; numbers equal to 1e-9 relative (missing on both sides is equal)."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b) > 0
    for c in a.columns:
        x, y = a[c].tolist(), b[c].tolist()
        if pd.api.types.is_float_dtype(a[c]) or pd.api.types.is_float_dtype(b[c]):
            bad = [(i, u, v) for i, (u, v) in enumerate(zip(x, y)) 
                   if not (math.isclose(u, v, rel_tol=1e-9, abs_tol=0) or (u != u and v != v))]
            assert not bad, f"column {c}: {bad[:5]}"
        else:
            assert x == y, f"column {c} differs"


@pytest.mark.parametrize("by", ["meter", "site"])
@pytest.mark.parametrize("freq", ["hour", "day", "month"])
@pytest.mark.spark
@pytest.mark.slow
def test_rollups_are_the_same_on_both_engines(world, spark, by, freq):
    _, root, meters = world
    for org in ("A", "B"):
        assert_same(energy_data.rollup(root, org, meters, by, freq),
                    energy_data.rollup(root, org, meters, by, freq, **spark))


@pytest.mark.spark
@pytest.mark.slow
def test_the_hard_cases_came_through(world):
    """Hand-checked figures, so that two engines agreeing on a wrong answer fails too."""
    _, root, meters = world
    day = energy_data.rollup(root, "A", meters, "meter", "day")
    ny = day[day["meter"] == "NY-MAIN"].set_index("period")["intervals"]
    assert ny["2026-03-08"] == 92 and ny["2026-11-01"] == 100 and ny["2026-03-09"] == 96  # 23 h, 25 h, 24 h
    de = day[day["meter"] == "DE-MAIN"].set_index("period")["intervals"]
    assert de["2026-03-29"] == 23 and de["2026-10-25"] == 25
    sh = day[day["meter"] == "SH-MAIN"].set_index("period")
    assert sh.loc["2026-12-31", "intervals"] == 92  # a missing hour; the repeated rows counted once
    hours = energy_data.rollup(root, "A", meters, "meter", "hour")
    de_hours = hours[(hours["meter"] == "DE-MAIN") & hours["period"].str.startswith("2026-10-25T02")]
    assert list(de_hours["period"]) == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]
    a = energy_data.rollup(root, "A", meters, "site", "month")
    b = energy_data.rollup(root, "B", meters, "site", "month")
    assert list(a["period"]) == list(b["period"])
    assert b["value"].sum() == pytest.approx(3 * a["value"].sum(), rel=1e-9)  # nothing of A leaks into B


@pytest.mark.parametrize("freq", ["day", "month"])
@pytest.mark.spark
@pytest.mark.slow
def test_energy_kpis_per_line_and_shift_are_the_same(world, spark, freq):
    base, root, meters = world
    for org in ("A", "B"):
        assert_same(energy_data.kpis(root, org, meters, freq=freq),
                    energy_data.kpis(root, org, meters, freq=freq, **spark))
        made = {"production": base / "production.csv", "site": "S1", "freq": freq}
        duck = energy_data.kpis(root, org, meters, **made)
        assert duck["units"].notna().any()
        assert_same(duck, energy_data.kpis(root, org, meters, **made, **spark))


@pytest.mark.spark
@pytest.mark.slow
def test_kpis_per_product_are_the_same(world, spark):
    base, root, meters = world
    for per in ("line", "product"):
        made = {"production": base / "products.csv", "site": "S1", "per": per}
        duck = energy_data.kpis(root, "A", meters, **made)
        assert_same(duck, energy_data.kpis(root, "A", meters, **made, **spark))


@pytest.mark.spark
@pytest.mark.slow
def test_kpis_per_product_hand_checked(world):
    """A line's kWh in a shift is shared by units made; a product's figure adds its shares over lines and shifts;
    the shares add up to the line's kWh."""
    base, root, meters = world
    lines = energy_data.kpis(root, "A", meters, base / "products.csv", site="S1")
    by = lines.set_index(["line", "shift", "period", "product"])
    assert by.loc[("L1", "day", "2026-12-31", "A13"), "kwh"] == pytest.approx(12.0 * 72 / 120)  # 12 kWh, 72 of 120
    assert by.loc[("L1", "day", "2026-12-31", "B15"), "kwh"] == pytest.approx(12.0 * 48 / 120)
    assert by.loc[("L1", "night", "2026-12-31", "A13"), "kwh"] == pytest.approx(12.0)  # A13 alone: all of it
    plain = energy_data.kpis(root, "A", meters, base / "production.csv", site="S1")
    assert lines.groupby(["line", "shift", "period"])["kwh"].sum().to_dict() == pytest.approx(
        plain.set_index(["line", "shift", "period"])["kwh"].to_dict())
    products = energy_data.kpis(root, "A", meters, base / "products.csv", site="S1", per="product").set_index(
        ["product", "period"])
    a13 = products.loc[("A13", "2026-12-31")]
    assert (a13["kwh"], a13["units"]) == (pytest.approx(12.0 * 72 / 120 + 12.0), 72 + 40)
    b15 = products.loc[("B15", "2026-12-31")]
    l2 = lines[(lines["line"] == "L2") & (lines["period"] == "2026-12-31") & (lines["product"] == "B15")]
    assert b15["kwh"] == pytest.approx(12.0 * 48 / 120 + l2["kwh"].sum())
    assert b15["kwh_per_unit"] == pytest.approx(b15["kwh"] / b15["units"])


@pytest.mark.spark
@pytest.mark.slow
def test_kpis_hand_checked(world):
    base, root, meters = world
    df = energy_data.kpis(root, "A", meters, base / "production.csv", site="S1").set_index(["line", "shift", "period"])
    # SH-END: 0.25 kWh per quarter hour from 00:00 on 31 December, stamped at interval ends
    assert df.loc[("L1", "night", "2026-12-30"), "kwh"] == pytest.approx(8.0)  # 00:00-08:00 of the 31st
    assert df.loc[("L1", "day", "2026-12-31"), "kwh"] == pytest.approx(12.0)
    assert df.loc[("L1", "day", "2026-12-31"), "units"] == 120  # 12 hours x 10
    assert df.loc[("L1", "day", "2026-12-31"), "kwh_per_unit"] == pytest.approx(0.1)
    assert df.loc[("L1", "night", "2026-12-31"), "kwh"] == pytest.approx(12.0)  # 20:00-08:00, over midnight
    assert df.loc[("L1", "night", "2026-12-31"), "units"] == 40  # 20:00-24:00 of the 31st was recorded


@pytest.mark.spark
@pytest.mark.slow
def test_bounded_rollup_and_holdings_are_the_same(world, spark):
    from datetime import date
    _, root, meters = world
    for org in ("A", "B"):
        kw = {"start": date(2026, 3, 1), "end": date(2026, 12, 31)}
        assert_same(energy_data.rollup(root, org, meters, "meter", "day", **kw),
                    energy_data.rollup(root, org, meters, "meter", "day", **kw, **spark))
        duck, sp = lake.holdings(root, org), lake.holdings(root, org, engines.engine(**_named(spark)))
        assert duck.astype(str).values.tolist() == sp.astype(str).values.tolist()


@pytest.mark.spark
@pytest.mark.slow
def test_scope2_activity_file_is_the_same(world, spark, tmp_path):
    _, root, meters = world
    for org in ("A", "B"):
        a = energy_data.electricity_activity(root, org, meters, 2026, tmp_path / f"{org}-duck.csv", allow_partial=True)
        s = energy_data.electricity_activity(root, org, meters, 2026, tmp_path / f"{org}-spark.csv",
                                             allow_partial=True, **spark)
        assert (a.months, a.partial, a.without_readings) == (s.months, s.partial, s.without_readings)
        assert_same(pd.read_csv(a.path), pd.read_csv(s.path))


@pytest.mark.spark
@pytest.mark.slow
def test_a_damaged_lake_file_gets_the_same_error_and_nothing_is_written(world, spark, tmp_path):
    import shutil
    _, root, meters = world
    copy = tmp_path / "lake"
    shutil.copytree(root, copy)
    victim = sorted(copy.glob("org=A/site=S1/month=*/*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[: len(victim.read_bytes()) // 2])
    errors = []
    for run in ({}, spark):
        out = tmp_path / f"out-{len(errors)}.csv"
        with pytest.raises(StorageError) as caught:
            energy_data.electricity_activity(copy, "A", meters, 2026, out, allow_partial=True, **run)
        assert not out.exists()
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and str(victim) in errors[0] and "damaged" in errors[0]


@pytest.mark.spark
@pytest.mark.slow
def test_a_lake_at_a_uri_is_read_by_spark(world, spark, tmp_path):
    """The same lake named by a URI (file://, through the file systems Spark uses for s3a:// and hdfs:// too):
    Spark lists it and prunes its partitions itself; the results are those of the folder."""
    from datetime import date
    _, root, meters = world
    uri = root.resolve().as_uri() + "/"  # a trailing slash is allowed
    for org in ("A", "B"):
        assert_same(energy_data.rollup(root, org, meters, "site", "month"),
                    energy_data.rollup(uri, org, meters, "site", "month", **spark))
    kw = {"site": "S2", "start": date(2026, 3, 1), "end": date(2026, 3, 31)}  # one site and month: pruned
    assert_same(energy_data.rollup(root, "A", meters, "meter", "day", **kw),
                energy_data.rollup(uri, "A", meters, "meter", "day", **kw, **spark))
    assert_same(energy_data.kpis(root, "A", meters, freq="month"),
                energy_data.kpis(uri, "A", meters, freq="month", **spark))
    a = energy_data.electricity_activity(root, "A", meters, 2026, tmp_path / "a.csv", allow_partial=True)
    s = energy_data.electricity_activity(uri, "A", meters, 2026, tmp_path / "s.csv", allow_partial=True, **spark)
    assert_same(pd.read_csv(a.path), pd.read_csv(s.path))
    # DuckDB does not read a URI lake: a usage error naming the option, not a failed read
    with pytest.raises(InputError) as caught:
        energy_data.rollup(uri, "A", meters, "site", "month")
    assert "--lake" in str(caught.value) and "--engine spark" in str(caught.value)
    # an organisation the lake does not hold, and a lake that is not there
    for where, org in ((uri, "C"), ((tmp_path / "nowhere").resolve().as_uri(), "A")):
        with pytest.raises(NotFoundError) as caught:
            energy_data.rollup(where, org, meters, "site", "month", **spark)
        assert f"holds no readings of organisation {org}" in str(caught.value)
    # a damaged file: Spark's reading error, naming the file, and nothing written
    import shutil
    copy = tmp_path / "lake"
    shutil.copytree(root, copy)
    victim = sorted(copy.glob("org=A/site=S1/month=*/*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[: len(victim.read_bytes()) // 2])
    out = tmp_path / "out.csv"
    with pytest.raises(StorageError) as caught:
        energy_data.electricity_activity(copy.resolve().as_uri(), "A", meters, 2026, out, allow_partial=True, **spark)
    assert "cannot be read" in str(caught.value) and victim.name in str(caught.value) and not out.exists()


@pytest.mark.spark
@pytest.mark.slow
def test_a_job_through_spark_submit_on_a_standalone_cluster(world, tmp_path):
    base, root, meters = world
    for cluster in start(tmp_path / "cluster"):
        out = tmp_path / "A-cluster.csv"
        done = cluster.submit(["to-activity", str(base / "meters.csv"), "--year", "2026", "--lake", str(root),
                               "--org", "A", "--out", str(out), "--allow-partial", "--json"])
        assert done.returncode == 0, done.stderr[-3000:]
        # spark-submit merges the Python driver's stderr into its stdout; the JSON is the command's last output
        said = json.loads(done.stdout[done.stdout.index("{"):])
        ref = energy_data.electricity_activity(root, "A", meters, 2026, tmp_path / "A-duck.csv", allow_partial=True)
        assert said["months"] == ref.months
        assert_same(pd.read_csv(ref.path), pd.read_csv(out))
        # the executors read a lake named by a URI
        by_uri = cluster.submit(["rollup", "--registry", str(base / "meters.csv"), "--lake", root.resolve().as_uri(),
                                 "--org", "B", "--by", "site", "--freq", "month", "--json"])
        assert by_uri.returncode == 0, by_uri.stderr[-3000:]
        got = pd.DataFrame(json.loads(by_uri.stdout[by_uri.stdout.index("["):]))
        assert_same(energy_data.rollup(root, "B", meters, "site", "month").astype({"period": str}),
                    got.astype({"period": str}))
        bad = cluster.submit(["rollup", "--registry", str(base / "meters.csv"), "--lake", str(tmp_path / "none"),
                              "--org", "A"])
        assert bad.returncode == 2 and "no meter-data lake" in bad.stdout + bad.stderr
        # the inventory job: combustion and grid rows on the cluster, stored where the embedded path stores them
        url = f"sqlite:///{tmp_path / 'acme.sqlite'}"
        sessions = _acme(url)
        done = cluster.submit(["inventory", "--org", "ACME", "--year", "2025", "--db", url, "--json"])
        assert done.returncode == 0, done.stderr[-3000:]
        said = json.loads(done.stdout[done.stdout.index("{"):])
        stored = accounting.inventory_meta(sessions, "ACME", 2025)["totals"]
        here = accounting.compute(sessions, "ACME", 2025, "CN-2025.1", actor="test").totals()
        for key, value in here.items():
            assert math.isclose(said["totals"][key], value, rel_tol=1e-9) and math.isclose(stored[key], value,
                                                                                          rel_tol=1e-9), key
        # the import job: the executors check the readings file and write the new rows, the driver moves them in
        examples = Path(__file__).resolve().parent.parent / "examples" / "meters"
        registry, readings = examples / "registry.csv", examples / "readings_2026-06.csv"
        done = cluster.submit(["import", str(registry), str(readings), "--lake", str(tmp_path / "lake-cluster"),
                               "--org", "ACME", "--db", url, "--json"])
        assert done.returncode == 0, done.stderr[-3000:]
        said = json.loads(done.stdout[done.stdout.index("{"):])
        ref = import_file(tmp_path / "lake-stream", "ACME", _meters(registry), readings, engine="duckdb")
        assert (said["rows"], said["stored"], said["missing_intervals"]) == (ref.rows, ref.stored,
                                                                           ref.missing_intervals) == (10752, 10752, 0)
        q = "SELECT meter, ts, value, unit, quality FROM readings ORDER BY meter, ts"
        pd.testing.assert_frame_equal(lake.query(tmp_path / "lake-cluster", "ACME", q),
                                      lake.query(tmp_path / "lake-stream", "ACME", q))


def _acme(url: str):
    """A database holding the README's example organisation and its 2025 activity files."""
    from zerocarbon.store.db import make_engine, session_factory, upgrade

    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    examples = Path(__file__).resolve().parent.parent / "examples"
    accounting.load_organisation_file(sessions, examples / "organisation.yaml", actor="test")
    for kind in ("electricity", "generation", "fuel", "refrigerant", "instrument"):
        accounting.import_file(sessions, "ACME", kind, examples / f"{kind}_2025.csv", 2025, "CN-2025.1", actor="test")
    return sessions


def test_without_java_the_spark_engine_says_what_it_needs(tmp_path):
    """No JVM to start: exit 2 with what to install, not a Py4J trace; the DuckDB engine is not affected."""
    import os
    import subprocess
    import sys

    (tmp_path / "meters.csv").write_text(REGISTRY, encoding="utf-8")
    import_file(tmp_path / "lake", "A", _meters(tmp_path / "meters.csv"), _files(tmp_path / "in", 1.0)[0][0])
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java"), "SPARK_LOCAL_IP": "127.0.0.1",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    args = [sys.executable, "-m", "zerocarbon.spark", "rollup", "--registry", str(tmp_path / "meters.csv"),
            "--lake", str(tmp_path / "lake"), "--org", "A", "--spark-master", "local[1]"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Spark could not start" in done.stderr and "Java 17" in done.stderr and "Traceback" not in done.stderr
    duck = subprocess.run([sys.executable, "-m", "zerocarbon", "meters", *args[3:-2], "--json"], capture_output=True,
                          text=True, timeout=120, env=env)
    assert duck.returncode == 0 and json.loads(duck.stdout)[0]["site"] == "S1"


@pytest.mark.parametrize("job", ["rollup", "kpis", "to-activity", "inventory"])
def test_a_jobs_help_says_that_engine_is_always_spark(job, capsys):
    import re

    from zerocarbon.spark import JOBS, main

    assert main([job, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Job {job}: runs `zerocarbon {' '.join(JOBS[job])} ARGS --engine spark`")
    assert f"Usage: python -m zerocarbon.spark {job} [OPTIONS]" in out
    options = [m.group(1) for m in (re.match(r"│ [ *]  (--[a-z-]+) ", line) for line in out.splitlines()) if m]
    assert "--org" in options and "--spark-master" in options and "--engine" not in options, options
