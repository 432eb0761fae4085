"""Benchmark: the monthly site roll-up of the lake through the CLI, DuckDB (the default engine) against Spark.

Data (generated here, deterministic, cached in bench/out/spark_rollup/<size>): one organisation, 10 sites in
five time zones, 15-minute readings, written in the lake's own layout (``org=/site=/month=/bulk-*.parquet``,
sorted by meter and ts) with a registry. ``--sizes 1M,10M,100M`` picks the number of meters (a year each,
35,040 readings) so the lake holds about that many readings.

Each size runs, in the same run and each as its own process, as a user runs it:
  duckdb  zerocarbon meters rollup --registry R --lake L --org G --by site --freq month --json
  spark   the same with --engine spark --spark-master local[N] (N = --cores): a JVM driver with N executor threads
Both read the same files and print the same JSON (checked: equal to 1e-9). Time is the wall time of the whole
command seen from here (process start, Python imports and, for Spark, the JVM start included); ``startup`` runs
both on the 1-meter lake to show the fixed cost. Peak memory is the highest sum of the resident set of the
process and all its descendants (the JVM is a child of the Python process), sampled every 50 ms.

Output: a table on stdout and bench/out/spark_rollup/result.json and result.md.
Usage: python bench/spark_rollup.py --sizes 1M,10M,100M [--cores 2] [--repeat 1]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "spark_rollup"
ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide"]
SITES = 10
PER_YEAR = 365 * 96
YEAR = np.datetime64("2025-01-01T00:00", "us")


def parse_size(text: str) -> int:
    text = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000, "B": 1_000_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KMB")) * mult)


def build(size: int) -> Path:
    """A lake of ``size`` readings (rounded to whole meter-years); cached."""
    meters = max(1, math.ceil(size / PER_YEAR))
    folder = OUT / f"{meters}m"
    if (folder / "done").exists():
        return folder
    lake = folder / "lake" / "org=G"
    lines = ["id,site,medium,unit,interval_min,timezone,revenue"]
    ts = YEAR + np.arange(PER_YEAR, dtype=np.int64) * np.int64(15 * 60 * 1_000_000)
    month = ts.astype("datetime64[M]")
    cuts = np.flatnonzero(np.r_[True, month[1:] != month[:-1], True])
    rng = np.random.default_rng(7)
    by_site: dict[int, list[str]] = {}
    for m in range(meters):
        by_site.setdefault(m % SITES, []).append(f"M{m:06d}")
    for site, ids in by_site.items():
        lines += [f"{i},S{site:02d},electricity,kWh,15,{ZONES[site % len(ZONES)]},true" for i in ids]
        for a, b in zip(cuts[:-1], cuts[1:]):
            part = lake / f"site=S{site:02d}" / f"month={str(month[a])}"
            part.mkdir(parents=True, exist_ok=True)
            n = b - a
            values = rng.gamma(2.0, 3.0, size=n * len(ids))
            table = pa.table({"meter": pa.array(np.repeat(ids, n)).dictionary_encode(),
                              "ts": pa.array(np.tile(ts[a:b], len(ids)), pa.timestamp("us")),
                              "value": values, "unit": pa.array(["kWh"] * (n * len(ids))).dictionary_encode(),
                              "quality": pa.array(["ok"] * (n * len(ids))).dictionary_encode(),
                              "batch": pa.array(["bench"] * (n * len(ids))).dictionary_encode()})
            pq.write_table(table, part / "bulk-bench.parquet", row_group_size=1 << 17)
    (folder / "meters.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "done").write_text(str(meters * PER_YEAR))
    return folder


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every descendant."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:")), 0)
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def measured(cmd: list[str], env: dict) -> tuple[float, float, str, str, int]:
    """Run ``cmd``: wall seconds, peak MB of it and its descendants (sampled every 50 ms), stdout, stderr, exit."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.05)
    out, err = proc.communicate()
    return time.perf_counter() - t0, peak / 2**20, out, err, proc.returncode


def run(folder: Path, engine: str, cores: int) -> dict:
    cmd = [str(Path(sys.executable).with_name("zerocarbon")), "meters", "rollup", "--registry",
           str(folder / "meters.csv"), "--lake", str(folder / "lake"), "--org", "G", "--by", "site", "--freq",
           "month", "--json"]
    if engine == "spark":
        cmd += ["--engine", "spark", "--spark-master", f"local[{cores}]"]
    seconds, peak, out, _, code = measured(cmd, {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"})
    if code != 0:
        raise SystemExit(f"{engine} failed ({code}): {' '.join(cmd)}")
    return {"seconds": seconds, "peak_mb": peak, "rows": json.loads(out)}


def same(a: list[dict], b: list[dict]) -> bool:
    return len(a) == len(b) and all(
        {k: v for k, v in x.items() if k != "value"} == {k: v for k, v in y.items() if k != "value"}
        and math.isclose(x["value"], y["value"], rel_tol=1e-9) for x, y in zip(a, b))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1M,10M")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    results = []
    for label in ["startup"] + args.sizes.split(","):
        folder = build(1 if label == "startup" else parse_size(label))
        readings = int((folder / "done").read_text())
        print(f"{label}: {readings:,} readings in {folder}", flush=True)
        best = {}
        for _ in range(args.repeat):
            for engine in ("duckdb", "spark"):
                r = run(folder, engine, args.cores)
                if engine not in best or r["seconds"] < best[engine]["seconds"]:
                    best[engine] = r
                print(f"  {engine:6s} {r['seconds']:8.2f} s  peak {r['peak_mb']:8.0f} MB", flush=True)
        if not same(best["duckdb"]["rows"], best["spark"]["rows"]):
            raise SystemExit(f"{label}: the engines disagree")
        results.append({"size": label, "readings": readings, "rows_out": len(best["duckdb"]["rows"]),
                        **{f"{e}_{k}": best[e][k] for e in best for k in ("seconds", "peak_mb")}})
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [f"Machine: {machine}; Spark local[{args.cores}]; best of {args.repeat}.", "",
             "| lake | readings | DuckDB s | Spark s | Spark / DuckDB | DuckDB peak MB | Spark peak MB | "
             "DuckDB M readings/s | Spark M readings/s |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['size']} | {r['readings']:,} | {r['duckdb_seconds']:.2f} | {r['spark_seconds']:.2f} | "
                     f"{r['spark_seconds'] / r['duckdb_seconds']:.1f}x | {r['duckdb_peak_mb']:.0f} | "
                     f"{r['spark_peak_mb']:.0f} | {r['readings'] / r['duckdb_seconds'] / 1e6:.2f} | "
                     f"{r['readings'] / r['spark_seconds'] / 1e6:.2f} |")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "result.json").write_text(json.dumps({"machine": machine, "cores": args.cores, "results": results},
                                                indent=1))
    (OUT / "result.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
