"""Benchmark: what finding a CSV's empty lines costs `zerocarbon meters import`.

Every CSV reader skips empty lines, so the import looks for them first to name a problem by the row the user
sees (`io.meter_files.sheet_rows`): one search of the file; only a file that has some is read line by line.
This measures that search beside the whole command it belongs to, on the streaming path:

  import  zerocarbon meters import REGISTRY FILE --lake L --org ORG --engine duckdb --db URL --json
          (its own process, into an empty lake; the organisation loaded beforehand, not timed)
  search  sheet_rows(FILE) in this process, on the same file (no empty line: the usual case)
  lines   sheet_rows on the same file with one empty line near its end (the line-by-line count)

Data: the readings of ``bench/meter_import.py`` (2,850 meters at 15 minutes, same generator and cache),
written as CSV (meter, ISO 8601 stamp with offset, value); ``--sizes 1M,10M`` gives the whole days nearest
that many readings.
Output: a table on stdout and bench/out/csv_rows/result.json.
Usage: python bench/csv_rows.py --sizes 1M,10M [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import meter_import as gen  # noqa: E402

OUT = HERE / "out" / "csv_rows"
ZEROCARBON = str(Path(sys.executable).with_name("zerocarbon"))


def make_csv(days: int) -> Path:
    import pandas as pd

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"readings_{gen.METERS}x{days}.csv"
    if not path.exists():
        df = pd.read_parquet(gen.make(gen.METERS, days))
        df["timestamp"] = df["timestamp"].dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
        df.to_csv(path, index=False)
    return path


def import_seconds(path: Path) -> float:
    lake = OUT / "lake"
    url = gen.fresh_target(lake, OUT / "bench.sqlite")
    cmd = [ZEROCARBON, "meters", "import", str(gen.OUT / f"meters_{gen.METERS}.csv"), str(path), "--lake", str(lake),
           "--org", "ORG", "--engine", "duckdb", "--db", url, "--json"]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


def search_seconds(path: Path) -> float:
    from zerocarbon.io.meter_files import sheet_rows

    t = time.perf_counter()
    sheet_rows(path)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1M,10M")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    results = []
    for size in a.sizes.split(","):
        days = gen.days_for(gen.size(size))
        n = gen.METERS * 96 * days  # whole days of every meter
        path = make_csv(days)
        with_blank = OUT / f"readings_{n}_blank.csv"
        data = path.read_bytes()
        cut = data.rfind(b"\n", 0, len(data) - 1) + 1
        with_blank.write_bytes(data[:cut] + b"\n" + data[cut:])
        del data
        imports, searches, lines = [], [], []
        for _ in range(a.repeat):  # interleaved rounds: the page cache warm for all three
            imports.append(import_seconds(path))
            searches.append(search_seconds(path))
            lines.append(search_seconds(with_blank))
        with_blank.unlink()
        row = {"readings": n, "mb": round(path.stat().st_size / 1e6, 1), "import_s": statistics.median(imports),
               "search_s": statistics.median(searches), "lines_s": statistics.median(lines)}
        row["search_share"] = row["search_s"] / row["import_s"]
        results.append(row)
        print(f"{n:>12,} readings  {row['mb']:>7} MB  import {row['import_s']:6.2f} s  search {row['search_s']:5.3f} s "
              f"({row['search_share']:.1%} of the import)  line-by-line {row['lines_s']:5.2f} s", flush=True)
    shutil.rmtree(OUT / "lake", ignore_errors=True)
    meta = {"machine": platform.processor() or platform.machine(), "cores": os.cpu_count(), "repeat": a.repeat}
    (OUT / "result.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))


if __name__ == "__main__":
    main()
