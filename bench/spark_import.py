"""Benchmark: `zerocarbon meters import` of one readings file, the streaming path (--engine duckdb) against the
same rules as one definition on Spark (--engine spark).

Data: the file of ``bench/meter_import.py`` (2,850 meters x D days at 15 minutes, one Parquet file of meter,
timestamp with time zone, value; sorted by meter and time; same generator, cached in bench/out/meter_import).
``--sizes 1M,10M`` picks D so that the file holds about that many readings.

Each engine runs as its own process, as a user runs it, into an empty lake and a SQLite database holding the
organisation (loaded beforehand, not timed):
  duckdb  zerocarbon meters import REGISTRY FILE --lake L --org ORG --engine duckdb --db URL --json
  spark   the same with --engine spark --spark-master local[N] (N = --cores)
Both summaries must be equal, and the two lakes must hold the same readings: an order-free hash of every (meter,
ts, value, quality) row, and the count and sum of value per site and month (sums to 1e-12: DuckDB adds in
parallel, in no fixed order). Time is the wall time of the
whole command (for Spark the JVM start included); peak memory is the highest sum of the resident set of the
process and its descendants (the JVM), sampled every 50 ms.

Output: a table on stdout and bench/out/spark_import/result.json.
Usage: python bench/spark_import.py --sizes 1M,10M [--cores 2] [--driver-memory 4g] [--repeat 1]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import meter_import as gen  # noqa: E402
from spark_rollup import measured  # noqa: E402

OUT = HERE / "out" / "spark_import"
ZEROCARBON = str(Path(sys.executable).with_name("zerocarbon"))


def run(path: Path, engine: str, cores: int, driver_memory: str) -> dict:
    lake = OUT / f"lake-{engine}"
    url = gen.fresh_target(lake, OUT / f"{engine}.sqlite")
    cmd = [ZEROCARBON, "meters", "import", str(gen.OUT / f"meters_{gen.METERS}.csv"), str(path), "--lake", str(lake),
           "--org", "ORG", "--engine", engine, "--db", url, "--json"]
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    if engine == "spark":
        cmd += ["--spark-master", f"local[{cores}]"]
        env["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {driver_memory} pyspark-shell"
    seconds, peak, out, err, code = measured(cmd, env)
    if code != 0:
        raise SystemExit(f"{engine} failed ({code}): {' '.join(cmd)}\n{err[-3000:]}")
    return {"seconds": seconds, "peak_mb": peak, "summary": json.loads(out), "lake": str(lake)}


def held(lake: str) -> dict:
    """What a lake holds, per site and month, and a hash of every row."""
    import duckdb

    files = f"'{lake}/org=ORG/site=*/month=*/*.parquet'"
    per = duckdb.sql(f"""SELECT site, month, count(*) AS n, sum(value) AS kwh
                         FROM read_parquet({files}, hive_partitioning = true) GROUP BY ALL ORDER BY ALL""").fetchall()
    digest = duckdb.sql(f"""SELECT bit_xor(hash(meter, ts, value, quality)) FROM read_parquet({files})""").fetchall()
    return {"per_month": [list(r) for r in per], "hash": digest[0][0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1M,10M")
    ap.add_argument("--cores", type=int, default=2, help="Spark local[N]")
    ap.add_argument("--driver-memory", default="4g")
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    engines = a.engines.split(",")
    results = []
    for want in a.sizes.split(","):
        days = gen.days_for(gen.size(want))
        path = gen.make(gen.METERS, days)
        readings = gen.METERS * days * 96
        runs: dict[str, list[dict]] = {e: [] for e in engines}
        for _ in range(a.repeat):  # interleaved, so a busy spell of the machine hits every engine alike
            for engine in engines:
                r = run(path, engine, a.cores, a.driver_memory)
                r["held"] = held(r["lake"])
                runs[engine].append(r)
                print(f"{readings:>12,} readings  {engine:6s} {r['seconds']:8.2f} s  peak {r['peak_mb']:7.0f} MB",
                      flush=True)
        best = {e: sorted(rs, key=lambda x: x["seconds"])[len(rs) // 2] for e, rs in runs.items()}
        ref = best[engines[0]]
        for e in engines[1:]:
            assert best[e]["summary"] == ref["summary"], (e, best[e]["summary"], ref["summary"])
            got, want = best[e]["held"], ref["held"]
            # the same rows (the hash is exact and order-free); sums only to rounding, as DuckDB adds in parallel
            assert got["hash"] == want["hash"] and len(got["per_month"]) == len(want["per_month"]), e
            for x, y in zip(got["per_month"], want["per_month"]):
                assert x[:3] == y[:3] and math.isclose(x[3], y[3], rel_tol=1e-12), (e, x, y)
        results.append({"readings": readings, "file_mb": path.stat().st_size / 2**20, "summary": ref["summary"],
                        **{f"{e}_{k}": best[e][k] for e in engines for k in ("seconds", "peak_mb")},
                        "all_seconds": {e: [x["seconds"] for x in rs] for e, rs in runs.items()}})
        for e in engines:
            shutil.rmtree(OUT / f"lake-{e}", ignore_errors=True)
    (OUT / "result.json").write_text(json.dumps({"cores": a.cores, "cpus": os.cpu_count(), "results": results},
                                                indent=2))
    print("| readings | file MB | " + " | ".join(f"{e} s" for e in engines) + " | " +
          " | ".join(f"{e} / {engines[0]}" for e in engines[1:]) + " | " + " | ".join(f"{e} peak MB" for e in engines)
          + " |")
    for r in results:
        print(f"| {r['readings']:,} | {r['file_mb']:.0f} | " + " | ".join(f"{r[e + '_seconds']:.2f}" for e in engines)
              + " | " + " | ".join(f"{r[e + '_seconds'] / r[engines[0] + '_seconds']:.2f}x" for e in engines[1:])
              + " | " + " | ".join(f"{r[e + '_peak_mb']:,.0f}" for e in engines) + " |")


if __name__ == "__main__":
    main()
