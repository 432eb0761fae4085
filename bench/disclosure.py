"""Benchmark: disclosure reports of the demo group through the CLI, beside reading the stored inventory.

Dataset: the demo database (`zerocarbon demo --out DIR --schedule-seconds 0`, built by this script unless
``--db`` names one). Its sizes (sites, activity rows and ledger rows of the year) are counted in the database.

Every command runs as its own process of the installed CLI (`python -m zerocarbon.cli`, this checkout's
``src`` first on the path); its wall time and peak RSS are that process's own (``os.wait4`` on the child, so
one command's peak does not hide another's):

  floor      zerocarbon --help                                    (interpreter and CLI start, no database)
  baseline   zerocarbon inventory show --json                     (the existing read of the stored inventory)
  check      zerocarbon disclose check --json                     (every framework, checks only)
  build      zerocarbon disclose build --format xlsx --format html --lang en --lang zh   (every framework)
  pdf        zerocarbon disclose build --framework hkex --format pdf --lang en
  verify     zerocarbon disclose verify --json                    (every reported number from its lineage)

Each command runs --repeat times, interleaved (so a load on the shared machine hits every command alike); the
median is kept, and the ratios are to the median of the baseline.

Usage: python bench/disclosure.py [--db URL] [--demo-dir DIR] [--org DEMO-LAPTOP] [--year 2025] [--repeat 3]
       [--out FILE.json]
Prints the rows quoted in BENCHMARKS.md and writes bench/out/disclosure.json (or --out).
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
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out"
SRC = HERE.parent / "src"
DEMO_DIR = OUT / "disclosure-demo"


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("ZEROCARBON_DB", None)  # every command gets --db
    return env


def run(args: list[str], heartbeat: Path | None = None, ok: tuple[int, ...] = (0,)) -> dict:
    """One CLI process: wall time, peak RSS (its own, from os.wait4), exit code and stdout.

    With ``heartbeat``, prints the elapsed time and the newest entry of that folder every 20 s (for the demo
    build, whose progress bar does not show on a pipe)."""
    cmd = [sys.executable, "-m", "zerocarbon.cli", *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=child_env())
        if heartbeat is None:
            _, status, ru = os.wait4(p.pid, 0)
        else:
            last = t
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                time.sleep(0.5)
                if time.perf_counter() - last >= 20:
                    last = time.perf_counter()
                    print(f"    ... {last - t:5.0f} s, newest output: {newest(heartbeat)}", flush=True)
        seconds = time.perf_counter() - t
        p.returncode = rc = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if rc not in ok:
        raise SystemExit(f"zerocarbon {' '.join(args)} failed (exit {rc}):\n{stderr[-4000:]}\n{stdout[-2000:]}")
    return {"seconds": seconds, "peak_rss_mb": ru.ru_maxrss / 1024, "rc": rc, "stdout": stdout}


def newest(folder: Path) -> str:
    try:
        entries = sorted(folder.rglob("*"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return "-"
    return str(entries[-1].relative_to(folder)) if entries else "-"


def build_demo(folder: Path) -> tuple[str, dict]:
    if folder.exists():
        if folder.resolve() != DEMO_DIR.resolve() and any(folder.iterdir()):
            raise SystemExit(f"{folder} is not empty; give an empty or new folder (or --db URL)")
        shutil.rmtree(folder)
    print(f"building the demo database in {folder} (`zerocarbon demo --schedule-seconds 0`, about 3-4 min)...",
          flush=True)
    res = run(["demo", "--out", str(folder), "--schedule-seconds", "0"], heartbeat=folder)
    db = folder / "zerocarbon.sqlite"
    if not db.exists():
        raise SystemExit(f"the demo wrote no database at {db}:\n{res['stdout'][-2000:]}")
    print(f"  demo built in {res['seconds']:.0f} s, peak {res['peak_rss_mb']:.0f} MB; reuse it with "
          f"--db sqlite:///{db}", flush=True)
    return f"sqlite:///{db}", {"seconds": res["seconds"], "peak_rss_mb": res["peak_rss_mb"]}


def dataset(url: str, org: str, year: int) -> dict:
    """Sizes of what the reports are built from, counted in the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    q = {
        "sites": "select count(*) from sites s join organisations o on o.id = s.organisation_id where o.code = :org",
        "activity_rows": "select count(*) from activities a join import_batches b on b.id = a.batch_id "
                         "join organisations o on o.id = b.organisation_id "
                         "where o.code = :org and b.year = :year and b.status = 'active'",
        "activity_rows_all_years": "select count(*) from activities a join import_batches b on b.id = a.batch_id "
                                   "join organisations o on o.id = b.organisation_id "
                                   "where o.code = :org and b.status = 'active'",
        "ledger_rows": "select count(*) from emissions e join inventories i on i.id = e.inventory_id "
                       "join organisations o on o.id = i.organisation_id where o.code = :org and i.year = :year",
        "ledger_rows_all_years": "select count(*) from emissions e join inventories i on i.id = e.inventory_id "
                                 "join organisations o on o.id = i.organisation_id where o.code = :org",
        "inventories": "select count(*) from inventories i join organisations o on o.id = i.organisation_id "
                       "where o.code = :org and i.year = :year",
        "disclosure_inputs": "select count(*) from disclosure_inputs d join organisations o "
                             "on o.id = d.organisation_id where o.code = :org and d.year = :year and d.superseded_at is null",
    }
    sizes: dict = {}
    with engine.connect() as c:
        for key, sql in q.items():
            try:
                sizes[key] = c.execute(text(sql), {"org": org, "year": year}).scalar_one()
            except Exception as e:  # a table or column this revision lacks: say so, do not invent a count
                c.rollback()
                sizes[key] = None
                sizes.setdefault("missing", {})[key] = str(e).splitlines()[0]
    engine.dispose()
    if url.startswith("sqlite:///"):
        sizes["database_mb"] = round(Path(url[len("sqlite:///"):]).stat().st_size / 1024 ** 2, 1)
    return sizes


def machine() -> dict:
    cpu, mem = platform.processor() or platform.machine(), 0.0
    try:
        cpu = next(line for line in open("/proc/cpuinfo") if line.startswith("model name")).split(":", 1)[1].strip()
    except (OSError, StopIteration):
        pass
    try:
        mem = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1]) / 1024 ** 2
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "arch": platform.machine(), "cores": os.cpu_count(), "ram_gib": round(mem, 1),
            "python": platform.python_version()}


def cases(url: str, org: str, year: int, folder: Path) -> dict[str, tuple[list[str], tuple[int, ...]]]:
    """Label -> (CLI arguments, accepted exit codes). check exits 1 when a report has an error check and
    verify exits 1 on a difference: both still did all their work, so they are timed and the finding reported."""
    key = ["--org", org, "--year", str(year), "--db", url]
    return {
        FLOOR: (["--help"], (0,)),
        BASELINE: (["inventory", "show", *key, "--json"], (0,)),
        "disclose check, 7 frameworks": (["disclose", "check", *key, "--json"], (0, 1)),
        "disclose build xlsx+html, 7 frameworks, en+zh": (
            ["disclose", "build", *key, "--out", str(folder / "xlsx-html"), "--format", "xlsx", "--format", "html",
             "--lang", "en", "--lang", "zh", "--json"], (0,)),
        "disclose build pdf, hkex, en": (
            ["disclose", "build", *key, "--out", str(folder / "pdf"), "--framework", "hkex", "--format", "pdf",
             "--lang", "en", "--json"], (0,)),
        "disclose verify": (["disclose", "verify", *key, "--json"], (0, 1)),
    }


BASELINE = "inventory show (baseline)"
FLOOR = "zerocarbon --help (start-up floor)"


def table(rows: list[dict]) -> str:
    """The Markdown table quoted in BENCHMARKS.md."""
    lines = ["| command | wall time (median) | beyond start-up | peak RSS | vs `inventory show` | what it did |",
             "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        did = ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in r["facts"].items()
                        if k != "exit" or v)
        lines.append(f"| `{r['command']}` | {r['seconds_median']:.2f} s | {r['seconds_over_floor']:.2f} s | "
                     f"{r['peak_rss_mb_median']:,.0f} MB | {r['vs_baseline']:.2f} | {did} |")
    return "\n".join(lines)


def facts_of(label: str, stdout: str) -> dict:
    """What the command reports about its work (from its --json output)."""
    try:
        data = json.loads(stdout)
    except ValueError:
        return {}
    if label.startswith("disclose check"):
        return {"frameworks": len(data), "reported_points": sum(r["reported"] for r in data),
                "missing_points": sum(r["missing"] for r in data),
                "error_checks": sum(1 for r in data for c in r["checks"] if c.get("level") == "error"),
                "checks": sum(len(r["checks"]) for r in data)}
    if label.startswith("disclose build"):
        files = [Path(p) for p in data["files"]]
        return {"files": len(files), "bytes": sum(p.stat().st_size for p in files if p.exists()),
                "reports": len(data["reports"])}
    if label.startswith("disclose verify"):
        return {"numbers_checked": data["checked"], "differences": data["differences"]}
    return {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="SQLAlchemy URL of a database holding the demo group (default: build the demo)")
    ap.add_argument("--demo-dir", default=str(DEMO_DIR), help="folder the demo is built in (without --db)")
    ap.add_argument("--org", default="DEMO-LAPTOP")
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command (the median is kept)")
    ap.add_argument("--out", default=str(OUT / "disclosure.json"), help="JSON file for the rows")
    a = ap.parse_args()
    if a.repeat < 1:
        ap.error("--repeat must be at least 1")
    mach = machine()
    print(f"{mach['cpu']} ({mach['arch']}), {mach['cores']} cores, {mach['ram_gib']} GiB, Python {mach['python']}",
          flush=True)
    demo = None
    url = a.db
    if url is None:
        url, demo = build_demo(Path(a.demo_dir))
    sizes = dataset(url, a.org, a.year)
    print(f"dataset {a.org} {a.year}: {sizes}", flush=True)
    if not sizes.get("ledger_rows"):
        raise SystemExit(f"no stored inventory of {a.org} {a.year} in {url}")

    runs: dict[str, list[dict]] = {}
    facts: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="zc-disclose-") as tmp:
        todo = cases(url, a.org, a.year, Path(tmp))
        for i in range(a.repeat):
            for label, (args, ok) in todo.items():
                if "--out" in args:  # each build writes into an empty folder
                    shutil.rmtree(args[args.index("--out") + 1], ignore_errors=True)
                r = run(args, ok=ok)
                runs.setdefault(label, []).append({k: r[k] for k in ("seconds", "peak_rss_mb", "rc")})
                facts[label] = {**facts_of(label, r["stdout"]), "exit": r["rc"]}
                print(f"  run {i + 1}/{a.repeat}  {label:48s} {r['seconds']:7.2f} s  peak {r['peak_rss_mb']:6.0f} MB"
                      + (f"  exit {r['rc']}" if r["rc"] else ""), flush=True)

    base = statistics.median(x["seconds"] for x in runs[BASELINE])
    floor = statistics.median(x["seconds"] for x in runs[FLOOR])
    rows = []
    for label, rs in runs.items():
        med = statistics.median(x["seconds"] for x in rs)
        rows.append({"command": label, "seconds_median": med, "seconds_min": min(x["seconds"] for x in rs),
                     "seconds_over_floor": med - floor,
                     "peak_rss_mb_median": statistics.median(x["peak_rss_mb"] for x in rs),
                     "vs_baseline": med / base, "runs": rs, "facts": facts[label]})
    print(f"\n{mach['cpu']}, {mach['cores']} cores, Python {mach['python']}; median of {a.repeat} run(s); "
          f"{sizes.get('sites')} sites, {sizes.get('activity_rows')} activity rows and {sizes.get('ledger_rows')} "
          f"ledger rows in {a.year}\n")
    print(table(rows))
    result = {"machine": mach, "org": a.org, "year": a.year, "db": url, "dataset": sizes, "demo_build": demo,
              "repeat": a.repeat, "baseline": BASELINE, "rows": rows}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nrows written to {out}")


if __name__ == "__main__":
    main()
