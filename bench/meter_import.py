"""Benchmark: bulk import of interval readings into the lake, against a bare DuckDB scan of the same file.

Data (generated, seed 1): M meters x D days at 15 minutes, one Parquet file (meter, timestamp with offset,
value). Engines, each in its own process (peak RSS is its own):
  import   zerocarbon services.meter_import.import_file: validation, UTC, stamps, duplicates, gaps, spikes,
           idempotent partitioned lake write
  duckdb   SELECT meter, date, sum(value) FROM read_parquet(...) GROUP BY ALL (no validation, no write)
Usage: python bench/meter_import.py --meters 2850 --days 7
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

OUT = Path(__file__).parent / "out" / "meter_import"


def make(meters: int, days: int) -> Path:
    """Generate with DuckDB (streaming): meter, timestamp (TIMESTAMPTZ), value."""
    import duckdb

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"readings_{meters}x{days}.parquet"
    if not path.exists():
        con = duckdb.connect()
        con.execute("SET TimeZone = 'Asia/Shanghai'")
        con.execute(f"""COPY (
            SELECT 'M' || lpad(CAST(m.range AS VARCHAR), 5, '0') AS meter,
                   TIMESTAMPTZ '2026-03-01 00:00:00+08' + to_minutes(CAST(15 * t.range AS BIGINT)) AS timestamp,
                   round(1 + 9 * (CAST(hash(m.range * 100003 + t.range) AS DOUBLE) / 18446744073709551615.0), 3) AS value
            FROM range({meters}) m, range({days * 96}) t ORDER BY meter, timestamp)
            TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)""")
    reg = pd.DataFrame({"id": [f"M{m:05d}" for m in range(meters)], "site": [f"S{m % 10}" for m in range(meters)],
                        "unit": "kWh"})
    reg.to_csv(OUT / f"meters_{meters}.csv", index=False)
    return path


def child(mode: str, path: Path, meters: int) -> dict:
    t0 = time.perf_counter()
    if mode == "import":
        from zerocarbon.io.meter_files import read_registry
        from zerocarbon.services.meter_import import import_file

        lake = OUT / "lake"
        shutil.rmtree(lake, ignore_errors=True)
        s = import_file(lake, "BENCH", read_registry(OUT / f"meters_{meters}.csv"), path, engine="duckdb")
        rows = s.stored
    else:
        import duckdb

        rows = duckdb.connect().execute(f"SELECT count(*) FROM (SELECT meter, date_trunc('day', timestamp) AS d, "
                                        f"sum(value) FROM read_parquet('{path}') GROUP BY ALL)").fetchone()[0]
    secs = time.perf_counter() - t0
    return {"mode": mode, "seconds": secs, "rows_out": rows,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--meters", type=int, default=2850)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--child")
    ap.add_argument("--path")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, Path(a.path), a.meters)))
        return
    path = make(a.meters, a.days)
    readings = a.meters * a.days * 96
    res = {}
    for mode in ("duckdb", "import"):
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--path", str(path), "--meters", str(a.meters)],
                             capture_output=True, text=True, check=True)
        res[mode] = json.loads(out.stdout)
        r = res[mode]
        print(f"{mode:7s} {r['seconds']:8.2f} s  {readings / r['seconds']:>12,.0f} readings/s  peak {r['peak_rss_mb']:7.0f} MB")
    print(f"readings: {readings:,} ({a.meters} meters x {a.days} days x 96); import / duckdb = "
          f"{res['import']['seconds'] / res['duckdb']['seconds']:.1f}x")
    (OUT / "result.json").write_text(json.dumps({"readings": readings, **res}, indent=2))


if __name__ == "__main__":
    main()
