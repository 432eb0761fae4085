"""The streaming bulk import against the careful (pandas) path: same rules, same lake, same counts; the
month layout of the lake, its migration, and idempotent re-imports across both writers."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zerocarbon.core.energy import intervals as iv
from zerocarbon.core.energy.intervals import Meter
from zerocarbon.errors import InputError, StateError
from zerocarbon.services.meter_import import import_file, migrate_lake
from zerocarbon.store import lake, lake_import

ORG = "ORG"
METERS = {"A": Meter("A", "HF01", multiplier=2), "B": Meter("B", "HF01", stamp="end"),
          "W": Meter("W", "HF02", unit="kWh"),
          "R": Meter("R", "HF02", register="cumulative", rollover=1000),
          "S": Meter("S", "HF02", register="cumulative")}
Q = "SELECT meter, ts, value, quality FROM readings ORDER BY meter, ts"


def _rows(meter, start, n, value, step="15min", unit=None):
    ts = pd.date_range(start, periods=n, freq=step, tz="Asia/Shanghai")
    return [(meter, t.isoformat(), value(i) if callable(value) else value) + ((unit,) if unit else ())
            for i, t in enumerate(ts)]


def _traps() -> pd.DataFrame:
    """Every rule at once: multiplier, interval-end stamps, units, a spike, a gap, registers with a rollover,
    a reset and a delta across missing readings, an in-order repeat and a repeat at the end of the file."""
    regs_r = [900, 950, 990, 20, 60, 5, 30, 30, 70, 80, 95]
    regs_s = [10, 12, 15, 15, 40, 41]
    a = _rows("A", "2026-08-03 00:00", 200, lambda i: 1.0 + (i % 7) * 0.125 + (60 if i == 77 else 0), unit="kWh")
    a = [r for i, r in enumerate(a) if i not in (100, 101, 102)]  # a gap of three intervals
    rows = (a + _rows("B", "2026-08-03 00:15", 40, 2.0, unit="kWh")
            + _rows("W", "2026-08-03 00:00", 30, lambda i: 500.0 + i, unit="Wh")
            + [r for i, r in enumerate(_rows("R", "2026-08-03 00:15", 11, lambda i: regs_r[i], unit="kWh")) if i != 6]
            + _rows("S", "2026-08-03 00:15", 6, lambda i: regs_s[i], step="30min", unit="kWh"))
    rows.insert(5, rows[4])  # an identical repeat, in order
    rows.append(rows[0])  # an identical repeat of the first reading, at the end of the file
    return pd.DataFrame(rows, columns=["meter", "timestamp", "value", "unit"])


def _save(df: pd.DataFrame, path: Path) -> Path:
    df.to_parquet(path, index=False) if path.suffix == ".parquet" else df.to_csv(path, index=False)
    return path


def _compare(tmp_path, path, monkeypatch=None):
    a = import_file(tmp_path / "pandas", ORG, METERS, path, engine="pandas")
    b = import_file(tmp_path / "duckdb", ORG, METERS, path, engine="duckdb")
    for k in ("rows", "stored", "duplicates_dropped", "resets", "rollovers", "spikes", "missing_intervals"):
        assert getattr(a, k) == getattr(b, k), k
    left, right = lake.query(tmp_path / "pandas", ORG, Q), lake.query(tmp_path / "duckdb", ORG, Q)
    pd.testing.assert_frame_equal(left, right)  # values and flags alike to the bit
    return a, left


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_both_paths_give_the_same_lake_flags_and_counts(tmp_path, suffix):
    a, rows = _compare(tmp_path, _save(_traps(), tmp_path / f"in{suffix}"))
    assert (a.duplicates_dropped, a.rollovers, a.resets, a.spikes, a.missing_intervals) == (2, 1, 1, 1, 4)  # the reset leaves its interval missing
    assert set(rows["quality"]) == {"", "spike", "rollover", "spread"}
    assert rows.loc[rows["meter"] == "W", "value"].iloc[0] == pytest.approx(0.5)  # Wh into the meter's kWh


@pytest.mark.parametrize("held", [1 << 23, 5])
def test_batches_carry_each_meters_last_reading(tmp_path, monkeypatch, held):
    """Tiny batches and row groups: every rule has to hold across batch boundaries (with ``held`` 5, a meter
    outgrows what is held for its spike flags and they are set after the pass)."""
    monkeypatch.setattr(lake_import, "HELD_ROWS", held)
    monkeypatch.setattr(lake_import, "BATCH_ROWS", 7)
    monkeypatch.setattr(lake_import, "ROW_GROUP", 5)
    monkeypatch.setattr(lake_import, "BUFFERED", 11)
    _compare(tmp_path, _save(_traps(), tmp_path / "in.parquet"))


def test_a_file_sorted_by_time_not_by_meter_gives_the_same_lake(tmp_path, monkeypatch):
    monkeypatch.setattr(lake_import, "BATCH_ROWS", 16)
    df = _traps().iloc[:-1]
    df = df.assign(t=pd.to_datetime(df["timestamp"], utc=True)).sort_values("t", kind="stable").drop(columns="t")
    _compare(tmp_path, _save(df, tmp_path / "by_time.parquet"))


def test_spike_quantile_is_the_linear_quantile():
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 99, 100, 101, 2881):
        v = rng.gamma(2.0, 3.0, n)
        s = np.sort(v)
        rn = (n - 1) * iv.SPIKE_QUANTILE
        lo, hi = s[int(np.floor(rn))], s[int(np.ceil(rn))]
        assert iv.spike_quantile(v) == lo + (hi - lo) * (rn - np.floor(rn))
        assert iv.spike_quantile(v) == pytest.approx(np.quantile(v, iv.SPIKE_QUANTILE), rel=1e-12)


def test_a_value_just_above_the_spike_limit_is_flagged_alike(tmp_path):
    """The limit is computed from the same two values with the same formula on both paths."""
    values = np.array([1.0 + i / 97 for i in range(96)])

    def spike(x):  # the last value is a spike by the rule (the quantile moves with it)
        v = np.r_[values[:-1], x]
        return bool(x > iv.SPIKE_FACTOR * iv.spike_quantile(v))

    def bits(i: int) -> float:
        return float(np.int64(i).view(np.float64))

    lo, hi = int(np.float64(2.0).view(np.int64)), int(np.float64(100.0).view(np.int64))
    while hi - lo > 1:  # the smallest double that is a spike, by bisection over the bit patterns
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if spike(bits(mid)) else (mid, hi)
    values = values.tolist()
    values[-1] = bits(hi)
    assert spike(values[-1]) and not spike(bits(lo))
    rows = [(r[0], r[1], v) for r, v in zip(_rows("A", "2026-08-03 00:00", 96, 1.0), values)]
    path = _save(pd.DataFrame(rows, columns=["meter", "timestamp", "value"]), tmp_path / "edge.parquet")
    meters = {"A": Meter("A", "HF01")}
    a = import_file(tmp_path / "p", ORG, meters, path, engine="pandas")
    b = import_file(tmp_path / "d", ORG, meters, path, engine="duckdb")
    assert (a.spikes, b.spikes) == (1, 1)
    pd.testing.assert_frame_equal(lake.query(tmp_path / "p", ORG, Q), lake.query(tmp_path / "d", ORG, Q))


def test_register_rules_spread_and_flag():
    delta, q = iv.register_deltas(np.array([20.0, 5.0, 70.0]), np.array([990.0, 60.0, 30.0]), 1000.0)
    assert delta[0] == 30.0 and np.isnan(delta[1]) and delta[2] == 40.0
    assert [iv.QUALITY[x] for x in q] == ["rollover", "reset", ""]
    hour = 60 * 60_000_000
    start, value, quality, src = iv.spread(np.array([3 * hour]), np.array([0]), np.array([30.0]),
                                           np.array([iv.OK], np.int8), hour)
    assert list(start) == [0, hour, 2 * hour] and list(value) == [10.0] * 3
    assert [iv.QUALITY[x] for x in quality] == ["spread"] * 3 and list(src) == [0, 0, 0]


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_a_rollover_behind_a_multiplier_is_the_registers_own_maximum(tmp_path, engine):
    """The registry's rollover is the register's maximum as the meter shows it; the readings are differenced
    after the CT ratio. 99,999.9 -> 0.7 on a x10 meter rolling over at 100,000 is 0.8 register kWh = 8 kWh
    (it was stored as 0.7x10 + 100,000 - 99,999.9x10 = -899,992 kWh)."""
    meters = {"G": Meter("G", "HF01", multiplier=10, register="cumulative", rollover=100_000)}
    rows = _rows("G", "2026-08-03 00:15", 4, lambda i: [99_999.5, 99_999.9, 0.7, 1.2][i], unit="kWh")
    path = _save(pd.DataFrame(rows, columns=["meter", "timestamp", "value", "unit"]), tmp_path / "g.csv")
    s = import_file(tmp_path / "lake", ORG, meters, path, engine=engine)
    got = lake.query(tmp_path / "lake", ORG, Q)
    assert s.rollovers == 1 and got["value"].tolist() == pytest.approx([4.0, 8.0, 5.0])
    assert got["quality"].tolist() == ["", "rollover", ""]


def test_large_files_are_one_per_site_and_month(tmp_path):
    rows = _rows("A", "2026-07-31 00:00", 96 * 3, 1.0) + _rows("W", "2026-07-31 00:00", 96 * 3, 1.0)
    path = _save(pd.DataFrame(rows, columns=["meter", "timestamp", "value"]), tmp_path / "r.parquet")
    s = import_file(tmp_path / "lake", ORG, METERS, path, engine="duckdb")
    files = sorted(str(p.relative_to(tmp_path / "lake" / f"org={ORG}").parent)
                   for p in (tmp_path / "lake").rglob("*.parquet"))
    # UTC months: local midnight of 31 July in Shanghai is 30 July 16:00 UTC
    assert files == ["site=HF01/month=2026-07", "site=HF01/month=2026-08", "site=HF02/month=2026-07",
                     "site=HF02/month=2026-08"]
    assert s.stored == 2 * 96 * 3 and lake.holdings(tmp_path / "lake", ORG)["readings"].sum() == s.stored


@pytest.mark.parametrize("first,second", [("duckdb", "pandas"), ("pandas", "duckdb"), ("duckdb", "duckdb")])
def test_reimport_across_writers_stores_nothing_twice(tmp_path, first, second):
    path = _save(_traps().drop(columns="unit").assign(unit="kWh"), tmp_path / "in.csv")
    meters = {k: m for k, m in METERS.items()}
    a = import_file(tmp_path / "lake", ORG, meters, path, engine=first)
    b = import_file(tmp_path / "lake", ORG, meters, path, engine=second)
    assert b.stored == 0 and b.already_stored == a.stored
    assert lake.holdings(tmp_path / "lake", ORG)["readings"].sum() == a.stored


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_a_corrected_file_adds_what_was_missing_and_doubles_nothing(tmp_path, engine):
    full = pd.DataFrame(_rows("A", "2026-08-03 00:00", 96, 1.5), columns=["meter", "timestamp", "value"])
    first = import_file(tmp_path / "lake", ORG, METERS, _save(full.drop(index=range(40, 50)), tmp_path / "a.parquet"),
                        engine=engine)
    again = import_file(tmp_path / "lake", ORG, METERS, _save(full, tmp_path / "b.parquet"), engine=engine)
    assert (first.stored, again.stored, again.already_stored) == (86, 10, 86)
    got = lake.query(tmp_path / "lake", ORG, "SELECT count(*) AS n, count(DISTINCT ts) AS d, sum(value) AS v FROM readings")
    assert (got["n"][0], got["d"][0], got["v"][0]) == (96, 96, pytest.approx(96 * 3.0))


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_glob_characters_in_names_read_only_the_file_and_lake_named(tmp_path, engine):
    """DuckDB expands ``*``, ``?`` and ``[...]`` in the paths it reads: a file named ``r*.csv`` must not also
    read ``r1.csv``, nor a lake in ``lake[1]`` the lake in ``lake1``."""
    full = pd.DataFrame(_rows("A", "2026-08-03 00:00", 96, 1.5), columns=["meter", "timestamp", "value"])
    _save(full.assign(value=7.0), tmp_path / "r1.csv")  # neighbours the patterns would match
    import_file(tmp_path / "lake1", ORG, METERS, _save(full.assign(value=7.0), tmp_path / "other.csv"), engine=engine)
    first = import_file(tmp_path / "lake[1]", ORG, METERS, _save(full.drop(index=range(40, 50)), tmp_path / "r*.csv"),
                        engine=engine)
    again = import_file(tmp_path / "lake[1]", ORG, METERS, _save(full, tmp_path / "r?.csv"), engine=engine)
    assert (first.rows, first.stored, again.stored, again.already_stored) == (86, 86, 10, 86)
    got = lake.query(tmp_path / "lake[1]", ORG, "SELECT count(*) AS n, sum(value) AS v FROM readings")
    assert (got["n"][0], got["v"][0]) == (96, pytest.approx(96 * 3.0))


BLANKS = {  # empty lines before the rows: every reader skips them, the user counts them
    "bad.csv": ("meter,timestamp,value\n\nA,2026-08-03T00:00:00+08:00,1\n\nA,2026-08-03T00:15:00+08:00,-1\n\n\n"
                "A,2026-08-03T00:30:00+08:00,x\n", [(5, "value"), (8, "value")]),
    "crlf.csv": ("meter,timestamp,value\r\nA,2026-08-03T00:00:00+08:00,1\r\n\r\nA,2026-08-03T00:30:00+08:00,1\r\n"
                 "\r\nA,2026-08-03T00:15:00+08:00,1\r\n", [(6, "timestamp")]),
}


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
@pytest.mark.parametrize("name", list(BLANKS))
def test_rows_are_the_files_own_after_empty_lines(tmp_path, engine, name):
    text, expect = BLANKS[name]
    (tmp_path / name).write_bytes(text.encode())
    with pytest.raises(InputError) as err:
        import_file(tmp_path / "lake", ORG, METERS, tmp_path / name, engine=engine)
    assert [(p.row, p.column) for p in err.value.problems] == expect
    if name == "crlf.csv":  # the earlier row named in the text is the file's own too
        assert "(row 4)" in err.value.problems[0].reason
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_a_changed_reading_after_empty_lines_is_named_by_the_files_row(tmp_path, engine):
    (tmp_path / "a.csv").write_text("meter,timestamp,value\nA,2026-08-03T00:00:00+08:00,1\n"
                                    "A,2026-08-03T00:15:00+08:00,1\n", encoding="utf-8")
    import_file(tmp_path / "lake", ORG, METERS, tmp_path / "a.csv", engine=engine)
    (tmp_path / "b.csv").write_text("meter,timestamp,value\n\nA,2026-08-03T00:00:00+08:00,1\n\n"
                                    "A,2026-08-03T00:15:00+08:00,2\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        import_file(tmp_path / "lake", ORG, METERS, tmp_path / "b.csv", engine=engine)
    (p,) = err.value.problems
    assert p.row == 5 and "row 5: A at 2026-08-02 16:15 UTC" in p.reason, p


def test_a_changed_value_is_refused_and_the_lake_is_untouched(tmp_path):
    full = pd.DataFrame(_rows("A", "2026-08-03 00:00", 96, 1.5), columns=["meter", "timestamp", "value"])
    import_file(tmp_path / "lake", ORG, METERS, _save(full, tmp_path / "a.parquet"), engine="duckdb")
    before = sorted(p.name for p in (tmp_path / "lake").rglob("*.parquet"))
    changed = full.copy()
    changed.loc[3, "value"] = 9.0
    with pytest.raises(InputError, match=r"1 reading\(s\) differ from what the lake holds.*nothing was written"):
        import_file(tmp_path / "lake", ORG, METERS, _save(changed, tmp_path / "b.parquet"), engine="duckdb")
    assert sorted(p.name for p in (tmp_path / "lake").rglob("*.parquet")) == before
    assert lake.query(tmp_path / "lake", ORG, "SELECT sum(value) AS v FROM readings")["v"][0] == pytest.approx(288.0)


def test_out_of_order_and_conflicting_rows_are_named_as_the_careful_path_names_them(tmp_path):
    rows = _rows("A", "2026-08-03 00:00", 6, 1.0)
    back = rows[:3] + [rows[4], rows[3], rows[5]]
    clash = rows + [("A", rows[2][1], 4.0)]
    for name, data, text in [("back", back, r"row 6, column 'timestamp': '.*' comes after '.*' \(row 5\): stamps are "
                                            r"out of time order"),
                             ("clash", clash, r"row 8, column 'value': A at 2026-08-03T00:30:00\+08:00 appears with "
                                              r"different values")]:
        path = _save(pd.DataFrame(data, columns=["meter", "timestamp", "value"]), tmp_path / f"{name}.csv")
        for engine in ("pandas", "duckdb"):
            with pytest.raises(InputError, match=text):
                import_file(tmp_path / name, ORG, METERS, path, engine=engine)
        assert not list((tmp_path / name).rglob("*.parquet"))


def test_a_lake_with_day_folders_is_refused_until_moved_into_months(tmp_path):
    root = tmp_path / "lake"
    path = _save(pd.DataFrame(_rows("A", "2026-08-03 00:00", 96, 1.0), columns=["meter", "timestamp", "value"]),
                 tmp_path / "a.csv")
    import_file(root, ORG, METERS, path, engine="pandas")
    # lay it out as the lake was written before month folders: org=/site=/date=<day>/readings.parquet
    for f in list(root.rglob("day-*.parquet")):
        day = f.stem.removeprefix("day-")
        dest = f.parents[1] / f"date={day}" / "readings.parquet"
        dest.parent.mkdir(parents=True)
        f.rename(dest)
        if not any(f.parent.iterdir()):
            f.parent.rmdir()
    with pytest.raises(StateError, match=r"one folder per day.*zerocarbon meters migrate-lake --org ORG"):
        lake.holdings(root, ORG)
    with pytest.raises(StateError, match="one folder per day"):
        import_file(root, ORG, METERS, path, engine="duckdb")
    assert migrate_lake(root, ORG) == ["HF01"]
    assert lake.holdings(root, ORG)["readings"].sum() == 96
    again = import_file(root, ORG, METERS, path, engine="duckdb")
    assert again.stored == 0 and again.already_stored == 96


def test_the_stream_is_cut_into_batches_of_exactly_batch_rows():
    """DuckDB hands back batches of its own sizes; the stream re-cuts them, as where a batch ends decides which
    problems a refusal lists (and the Spark import counts batches the same way)."""
    import pyarrow as pa

    sizes = [5, 1, 9, 3, 0, 4]
    start = np.cumsum([0] + sizes)
    batches = [pa.record_batch({"x": pa.array(np.arange(a, a + n))}) for a, n in zip(start, sizes)]
    got = list(lake_import._exact_batches(iter(batches), 4))
    assert [b.num_rows for b in got] == [4, 4, 4, 4, 4, 2]
    assert np.concatenate([b.column("x").to_numpy() for b in got]).tolist() == list(range(22))
