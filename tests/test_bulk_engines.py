"""The bulk definitions and the engine settings, without starting a JVM: rendering per engine, the Spark master
rules, the checks every bulk command makes before it reads the lake, and the partitions a query reads.
(DuckDB against Spark on the same data: tests/test_spark_engine.py.)"""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from tests.test_spark_engine import REGISTRY, PRODUCTION, _files, _meters
from zerocarbon.core import bulk_sql
from zerocarbon.core.energy.analytics import parse_shifts
from zerocarbon.errors import InputError, StorageError
from zerocarbon.services import energy_data
from zerocarbon.services.meter_import import import_file
from zerocarbon.store import engines


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    base = tmp_path_factory.mktemp("bulk")
    (base / "meters.csv").write_text(REGISTRY, encoding="utf-8")
    (base / "production.csv").write_text(PRODUCTION, encoding="utf-8")
    meters = _meters(base / "meters.csv")
    for path, how in _files(base / "in", 1.0):
        import_file(base / "lake", "A", meters, path, engine=how)
    return base, meters


def test_each_engine_gets_its_own_spelling_of_the_zone_functions_and_nested_ones_too():
    sql = bulk_sql.kpis_sql("day", True, False)
    duck = bulk_sql.render(sql, "duckdb", start=datetime(2026, 1, 1))
    spark = bulk_sql.render(sql, "spark", start=datetime(2026, 1, 1))
    assert "ZC_" not in duck and "ZC_" not in spark
    assert "TIMEZONE('UTC', CAST(p.ts AS TIMESTAMP))" in duck  # ZC_TIMESTAMP inside ZC_LOCAL_TIME
    assert "FROM_UTC_TIMESTAMP(CAST(CAST(p.ts AS TIMESTAMP_NTZ) AS TIMESTAMP), p.timezone)" in spark
    assert "CAST('2026-01-01 00:00:00.000000' AS TIMESTAMP_NTZ)" in spark
    with pytest.raises(KeyError):
        bulk_sql.render(sql, "duckdb")  # :start without a value


@pytest.mark.parametrize("master", ["foo", "spark://", "local[x]", "local[0]", "http://host:7077"])
def test_a_master_that_is_not_a_spark_url_is_refused_before_anything_starts(master):
    with pytest.raises(InputError, match="is not a Spark master URL"):
        engines.engine("spark", master)


def test_an_engine_the_server_cannot_use_is_its_setting(monkeypatch):
    monkeypatch.setenv(engines.ENGINE_ENV, "bogus")
    with pytest.raises(StorageError, match="server setting ZEROCARBON_ENGINE='bogus' is not an engine"):
        engines.server_engine()
    monkeypatch.setenv(engines.ENGINE_ENV, " spark ")
    assert engines.server_engine() == "spark"


def test_inventory_refuses_a_master_without_an_engine(db):
    from zerocarbon.services import accounting

    with pytest.raises(InputError, match="a Spark master is given but no engine; add --engine spark"):
        accounting.compute(db, "ORG", 2025, "CN-2025.1", actor="test", spark_master="local[2]")


def test_a_master_that_does_not_answer_is_said_at_once():
    with pytest.raises(StorageError, match=r"the Spark master spark://127.0.0.1:1 does not answer"):
        engines.SparkEngine("spark://127.0.0.1:1").session()


def test_under_spark_submit_its_master_wins(monkeypatch):
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "1")
    monkeypatch.setenv(engines.MASTER_ENV, "spark://elsewhere:7077")
    assert engines.SparkEngine().chosen_master() is None
    with pytest.raises(InputError, match="runs under spark-submit"):
        engines.SparkEngine("local[2]").chosen_master()
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT")
    assert engines.SparkEngine().chosen_master() == "spark://elsewhere:7077"
    monkeypatch.delenv(engines.MASTER_ENV)
    assert engines.SparkEngine().chosen_master() == "local[*]"


def test_a_meter_missing_from_the_registry_is_refused_by_every_bulk_command(small, tmp_path):
    base, meters = small
    fewer = {k: v for k, v in meters.items() if k != "SH-END"}
    for run in (lambda: energy_data.rollup(base / "lake", "A", fewer, "site", "month"),
                lambda: energy_data.kpis(base / "lake", "A", fewer),
                lambda: energy_data.electricity_activity(base / "lake", "A", fewer, 2026, tmp_path / "e.csv",
                                                         allow_partial=True)):
        with pytest.raises(InputError, match="meter 'SH-END' has readings in the lake but is not in the registry"):
            run()
    assert not (tmp_path / "e.csv").exists()


def test_arguments_are_checked_before_the_lake_is_read(small, tmp_path):
    _, meters = small
    for run in (energy_data.rollup, energy_data.kpis):
        with pytest.raises(InputError, match="is before the first day"):
            run(tmp_path / "no-lake", "A", meters, start=date(2026, 6, 7), end=date(2026, 6, 1))
    with pytest.raises(InputError, match=r"no meter of site 'XX01'"):
        energy_data.kpis(tmp_path / "no-lake", "A", meters, site="XX01")


def test_a_query_reads_only_the_partitions_it_needs(small, tmp_path):
    import shutil
    base, meters = small
    lake = tmp_path / "lake"
    shutil.copytree(base / "lake", lake)
    victim = sorted(lake.glob("org=A/site=S3/month=2026-11/*.parquet"))[0]  # New York, November
    victim.write_bytes(b"not parquet")
    assert len(energy_data.rollup(lake, "A", meters, "site", "day", site="S1"))  # another site: not read
    assert len(energy_data.rollup(lake, "A", meters, "site", "day", site="S3", start=date(2026, 3, 1),
                                  end=date(2026, 3, 31)))  # another month: not read
    with pytest.raises(StorageError, match="is damaged"):
        energy_data.rollup(lake, "A", meters, "site", "day", site="S3")
    with pytest.raises(StorageError, match="is damaged"):
        energy_data.rollup(lake, "A", meters, "site", "day")


def test_kpi_bounds_select_shifts_by_the_day_they_began(small):
    base, meters = small
    df = energy_data.kpis(base / "lake", "A", meters, base / "production.csv", site="S1", start=date(2026, 12, 31),
                          end=date(2026, 12, 31))
    assert set(df["period"]) == {"2026-12-31"}  # not the night of the 30th, though it runs into the 31st
    night = df[(df["line"] == "L1") & (df["shift"] == "night")].iloc[0]
    assert night["intervals"] == 48 and night["kwh"] == pytest.approx(12.0)  # whole, to 08:00 on 1 January


@pytest.mark.parametrize("text, said", [
    ("day=8-20", "no shift covers hour(s) 00:00-08:00, 20:00-24:00"),
    ("day=8-20,day=20-8", "shift day is named more than once"),
    ("a=0-12,b=10-0", "hour(s) 10:00-12:00 are in more than one shift"),
])
def test_shifts_that_cannot_be_used_say_which_hours(text, said):
    with pytest.raises(InputError, match=re.escape(said)):
        parse_shifts(text)
