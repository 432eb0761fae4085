"""Benchmark: `zerocarbon inventory compute` of stored activity rows, in process against DuckDB and Spark.

Data: the activity rows of ``bench/inventory_1m.py`` (20 sites, 70 % electricity rows in kWh and MWh, 30 % fuel
rows of five fuels, 10 certificates; same generator and seed), written as CSV files and imported once per size
with `zerocarbon import` into a SQLite file (bench/out/spark_inventory/<size>/bench.sqlite; kept, so a second
run of the same size skips the import). ``--sizes 1M,10M`` gives the number of activity rows.
With ``--kind purchase`` the rows are instead purchase lines (Scope 3 categories 1 and 2) of ``bench/scope3.py``
(80 % spend-based, 15 % average-data, 5 % supplier-specific; same generator and seed), in
bench/out/spark_inventory/purchase-<size>/.

Then, in the same run and each as its own process, as a user runs it:
  in-process  zerocarbon inventory compute --org B --year 2023 --db URL --json
  duckdb      the same with --engine duckdb
  spark       the same with --engine spark --spark-master local[N] (N = --cores)
Each stores the same inventory and ledger (one row per activity row, gas and Scope 2 method) in the same tables;
their totals are checked equal to 1e-9. Time is the wall time of the whole command (process start, reading the
stored rows, computing, writing the ledger; for Spark the JVM start). Peak memory is the highest sum of the
resident set of the process and its descendants (the JVM), sampled every 50 ms. Spark's driver gets
``--driver-memory`` (``$PYSPARK_SUBMIT_ARGS``), as docs/spark.md advises for local mode.

Output: a table on stdout and bench/out/spark_inventory/result-<kind>.json.
Usage: python bench/spark_inventory.py --sizes 1M,10M [--kind activity|purchase] [--cores 2] [--driver-memory 8g]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from inventory_1m import YEAR  # noqa: E402
from inventory_stored import machine, write_files  # noqa: E402
from spark_rollup import measured, parse_size  # noqa: E402

OUT = HERE / "out" / "spark_inventory"
ZEROCARBON = str(Path(sys.executable).with_name("zerocarbon"))


def prepare(rows: int, kind: str) -> str:
    """A SQLite database holding ``rows`` imported activity rows (or purchase lines); made once per size."""
    folder = OUT / (f"{rows}" if kind == "activity" else f"purchase-{rows}")
    db = folder / "bench.sqlite"
    url = f"sqlite:///{db}"
    if (folder / "imported").exists():
        return url
    db.unlink(missing_ok=True)
    per_file = 500_000  # under the importer's 1M-row limit per file, whatever the meter spread
    if kind == "purchase":
        from scope3 import write_files as purchase_files

        files = {"purchase": purchase_files(rows, 0, max(1, math.ceil(rows / per_file)), folder / "files")["purchase"]}
    else:
        files = write_files(rows, folder / "files", max(1, math.ceil(rows * 0.7 / per_file)),
                            max(1, math.ceil(rows * 0.3 / per_file)))
    subprocess.run([ZEROCARBON, "org", "load", str(folder / "files" / "organisation.yaml"), "--db", url],
                   check=True, stdout=subprocess.DEVNULL)
    t0 = time.perf_counter()
    for kind, paths in files.items():
        for p in paths:
            subprocess.run([ZEROCARBON, "import", kind, str(p), "--org", "B", "--year", str(YEAR), "--db", url,
                            "--json"], check=True, stdout=subprocess.DEVNULL)
    print(f"  imported {rows:,} rows in {time.perf_counter() - t0:.0f} s", flush=True)
    (folder / "imported").write_text("")
    return url


def run(url: str, engine: str, cores: int, driver_memory: str) -> dict:
    cmd = [ZEROCARBON, "inventory", "compute", "--org", "B", "--year", str(YEAR), "--db", url, "--json"]
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    if engine == "duckdb":
        cmd += ["--engine", "duckdb"]
    elif engine == "spark":
        cmd += ["--engine", "spark", "--spark-master", f"local[{cores}]"]
        env["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {driver_memory} pyspark-shell"
    seconds, peak, out, err, code = measured(cmd, env)
    if code != 0:
        raise SystemExit(f"{engine} failed ({code}): {' '.join(cmd)}\n{err[-3000:]}")
    return {"seconds": seconds, "peak_mb": peak, "totals": json.loads(out)["totals"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1M", help="activity rows per run, e.g. 1M,10M")
    ap.add_argument("--cores", type=int, default=2, help="Spark local[N]")
    ap.add_argument("--driver-memory", default="8g")
    ap.add_argument("--engines", default="in-process,duckdb,spark")
    ap.add_argument("--kind", choices=["activity", "purchase"], default="activity",
                    help="activity: fuel and electricity rows (Scope 1 and 2); purchase: purchase lines (Scope 3)")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine(), "cores": a.cores, "kind": a.kind, "sizes": {}}
    print(f"machine: {results['machine']}", flush=True)
    for size in a.sizes.split(","):
        rows = parse_size(size)
        url = prepare(rows, a.kind)
        got = {}
        for engine in a.engines.split(","):
            got[engine] = run(url, engine, a.cores, a.driver_memory)
            print(f"  {rows:>12,} rows  {engine:10s} {got[engine]['seconds']:8.2f} s  peak "
                  f"{got[engine]['peak_mb']:7.0f} MB", flush=True)
        ref = got[a.engines.split(",")[0]]["totals"]
        for engine, r in got.items():
            for key, value in ref.items():
                assert math.isclose(r["totals"][key], value, rel_tol=1e-9, abs_tol=1e-9), (engine, key)
        results["sizes"][size] = {"rows": rows, "runs": got}
        (OUT / f"result-{a.kind}.json").write_text(json.dumps(results, indent=2))
    print("totals equal on every engine (1e-9 relative)")


if __name__ == "__main__":
    main()
