"""Benchmark: the stored path. 1M activity rows imported through the CLI, then `zerocarbon inventory compute`.

The activity rows are those of ``bench/inventory_1m.py`` (same generator, same seed); only the meter ids are
spread so that no meter has two overlapping months (one meter per site and month slot), because the
importer refuses overlapping meter periods. The rows are written as CSV files and imported with
`zerocarbon import KIND FILE` into a SQLite file and into a private PostgreSQL schema; then the inventory is
computed with `zerocarbon inventory compute`. Every command runs in its own process: its wall time and peak
RSS (``os.wait4``) are its own. In the same run, the in-process compute of ``bench/inventory_1m.py`` (engine
mode, frames already in memory) is measured as the baseline, and the stored totals are checked against it.

Usage: python bench/inventory_stored.py [--rows 1000000] [--electricity-files 7] [--fuel-files 3]
       [--engines sqlite,postgresql] [--pg URL]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
OUT = HERE / "out"
SRC = HERE.parent / "src"
sys.path.insert(0, str(HERE))
from inventory_1m import SITES, YEAR, make_data  # noqa: E402

PG_URL = os.environ.get("ZEROCARBON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def write_files(rows: int, folder: Path, n_elec: int, n_fuel: int) -> dict[str, list[Path]]:
    """CSV files in the importer's formats, from the same frames as bench/inventory_1m.py."""
    elec, fuel, inst = make_data(rows)
    folder.mkdir(parents=True, exist_ok=True)
    org = ["code: B", "name: bench", "sites:"]
    org += [f"  - {{code: {c}, name: {c}, province: {p}, grid_region: {r}}}" for c, p, r in SITES]
    (folder / "organisation.yaml").write_text("\n".join(org) + "\n", encoding="utf-8")
    month = elec["period_start"].dt.month
    slot = elec.groupby([elec["site"], month]).cumcount().to_numpy()
    elec = elec.assign(meter=[f"{s}-M{k:06d}" for s, k in zip(elec["site"], slot)])
    files: dict[str, list[Path]] = {"electricity": [], "fuel": [], "instrument": []}
    day = lambda s: s.dt.strftime("%Y-%m-%d")  # noqa: E731
    cols = ["site", "meter", "period_start", "period_end", "quantity", "unit"]
    e = elec.assign(period_start=day(elec["period_start"]), period_end=day(elec["period_end"]))[cols]
    # Whole meters per file, so the files never share a meter.
    part = (slot % n_elec)
    for i in range(n_elec):
        p = folder / f"electricity_{i + 1}.csv"
        e[part == i].to_csv(p, index=False, float_format="%.17g")
        files["electricity"].append(p)
    f = fuel.assign(period_start=day(fuel["period_start"]), period_end=day(fuel["period_end"]),
                    biogenic="false")[["site", "period_start", "period_end", "fuel", "use", "quantity", "unit",
                                       "basis", "biogenic"]]
    for i, chunk in enumerate(np.array_split(np.arange(len(f)), n_fuel)):
        p = folder / f"fuel_{i + 1}.csv"
        f.iloc[chunk].to_csv(p, index=False, float_format="%.17g")
        files["fuel"].append(p)
    i_ = inst.assign(volume=inst["volume_kwh"], unit="kWh", vintage_start=day(inst["vintage_start"]),
                     vintage_end=day(inst["vintage_end"]), serial_start="", serial_end="",
                     emission_factor=inst["emission_factor_kg_per_kwh"], technology="wind")
    p = folder / "instrument.csv"
    i_[["instrument_id", "type", "registry", "market", "volume", "unit", "vintage_start", "vintage_end",
        "serial_start", "serial_end", "retired_for_site", "retired_for_year", "technology", "emission_factor"]].to_csv(
        p, index=False, float_format="%.17g")
    files["instrument"].append(p)
    return files


# Each command runs under this wrapper, whose only child is the command: os.wait4 gives that child's own
# peak RSS (RUSAGE_CHILDREN would be a running maximum over all commands).
WRAP = ("import json, os, subprocess, sys, time\n"
        "t = time.perf_counter(); p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)\n"
        "out = p.stdout.read(); _, status, ru = os.wait4(p.pid, 0)\n"
        "sys.stderr.write(json.dumps({'seconds': time.perf_counter() - t, 'peak_rss_mb': ru.ru_maxrss / 1024,"
        " 'rc': os.waitstatus_to_exitcode(status)}) + '\\n'); sys.stdout.write(out.decode())\n")


def run_cli(args: list[str], env: dict) -> dict:
    cmd = [sys.executable, "-c", WRAP, sys.executable, "-m", "zerocarbon.cli", *args]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = p.stderr.strip().splitlines()
    stats = json.loads(lines[-1]) if lines else {"rc": p.returncode}
    if stats.get("rc") != 0:
        raise SystemExit(f"zerocarbon {' '.join(args)} failed:\n{p.stderr}\n{p.stdout}")
    stats["stdout"] = p.stdout
    return stats


def baseline(rows: int, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, str(HERE / "inventory_1m.py"), "--child", "engine", "--rows", str(rows)],
                             capture_output=True, text=True, check=True, env=child_env())
        runs.append(json.loads(out.stdout))
    return min(runs, key=lambda r: r["seconds"])


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run_engine(name: str, url: str, files: dict[str, list[Path]], folder: Path) -> dict:
    env = child_env()
    db = ["--db", url]
    steps = [("org load", run_cli(["org", "load", str(folder / "organisation.yaml"), *db], env))]
    for kind, paths in files.items():
        for p in paths:
            s = run_cli(["import", kind, str(p), "--org", "B", "--year", str(YEAR), *db, "--json"], env)
            steps.append((f"import {kind} {p.name}", s))
    comp = run_cli(["inventory", "compute", "--org", "B", "--year", str(YEAR), *db, "--json"], env)
    steps.append(("inventory compute", comp))
    totals = json.loads(comp["stdout"])["totals"]
    for label, s in steps:
        print(f"  {name:10s} {label:32s} {s['seconds']:7.2f} s  peak {s['peak_rss_mb']:7.0f} MB", flush=True)
    return {"steps": [{"step": label, "seconds": s["seconds"], "peak_rss_mb": s["peak_rss_mb"]} for label, s in steps],
            "totals": totals}


def machine() -> dict:
    mem = 0
    try:
        mem = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1]) / 1024 ** 2
    except (OSError, StopIteration):
        pass
    return {"cpu": platform.processor() or platform.machine(), "nproc": os.cpu_count(), "ram_gib": round(mem, 1),
            "python": platform.python_version(), "pandas": pd.__version__}


def main() -> None:
    global SRC
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--electricity-files", type=int, default=7)
    ap.add_argument("--fuel-files", type=int, default=3)
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--pg", default=PG_URL)
    ap.add_argument("--src", default=str(SRC), help="source tree to run (default: this checkout)")
    ap.add_argument("--out", default=str(OUT / "stored"), help="folder for the files and the SQLite database")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the in-process baseline (best is kept)")
    a = ap.parse_args()
    SRC = Path(a.src)
    folder = Path(a.out)
    files = write_files(a.rows, folder / "files", a.electricity_files, a.fuel_files)
    n_files = sum(len(v) for v in files.values())
    print(f"{a.rows:,} activity rows in {n_files} CSV files; {machine()}", flush=True)
    base = baseline(a.rows, a.repeat)
    print(f"  in-process compute_inventory (bench/inventory_1m.py engine): {base['seconds']:.2f} s, "
          f"peak {base['peak_rss_mb']:.0f} MB", flush=True)
    results = {"rows": a.rows, "files": n_files, "machine": machine(), "baseline": base, "engines": {}}
    for engine in a.engines.split(","):
        if engine == "sqlite":
            path = folder / "bench.sqlite"
            path.unlink(missing_ok=True)
            res = run_engine("sqlite", f"sqlite:///{path}", files, folder / "files")
            res["database_mb"] = path.stat().st_size / 1024 ** 2
        else:
            from sqlalchemy import create_engine, text

            schema = f"zc_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(a.pg)
            with admin.begin() as c:
                c.execute(text(f"create schema {schema}"))
            try:
                res = run_engine("postgresql", f"{a.pg}?options=-csearch_path%3D{schema}", files, folder / "files")
            finally:
                with admin.begin() as c:
                    c.execute(text(f"drop schema {schema} cascade"))
                admin.dispose()
        for key in ("total_location_t", "total_market_t"):
            assert abs(res["totals"][key] - base[key]) <= 1e-9 * abs(base[key]), (engine, key, res["totals"][key], base[key])
        comp = res["steps"][-1]
        imports = [s for s in res["steps"] if s["step"].startswith("import")]
        res["compute_vs_in_process"] = comp["seconds"] / base["seconds"]
        res["import_seconds_total"] = sum(s["seconds"] for s in imports)
        res["peak_rss_mb_max"] = max(s["peak_rss_mb"] for s in res["steps"])
        print(f"  {engine}: compute {comp['seconds']:.2f} s = {res['compute_vs_in_process']:.1f}x in-process; "
              f"peak RSS of any command {res['peak_rss_mb_max']:.0f} MB; imports {res['import_seconds_total']:.1f} s "
              "in total; totals equal to the in-process compute", flush=True)
        results["engines"][engine] = res
    OUT.mkdir(exist_ok=True)
    (OUT / "inventory_stored.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
