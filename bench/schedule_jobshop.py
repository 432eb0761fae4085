"""Benchmark: job shop (Taillard) and flexible job shop (Brandimarte) against best-known makespans.

Engines, same instance, same time limit and workers, run one after the other:
  ours       zerocarbon.services.scheduling.solve_shop (best dispatch rule, tabu search on the N5 neighbourhood
             for the classical job shop, CP-SAT with the incumbent as hint, then CP-SAT large-neighbourhood search)
  plain      a plain CP-SAT model written as in the OR-Tools documentation (intervals, no-overlap per
             machine, precedences, makespan = max of job ends; optional intervals + exactly-one when flexible)
  pyjobshop  PyJobShop 0.0.9 on its OR-Tools backend (pip install -r bench/requirements.txt)

Instances and best-known values ship in bench/instances (sources, terms and bounds in its README).
Usage: python bench/schedule_jobshop.py --time-limit 60 --workers 2 [--instances ta01-10,mk|ta01,mk03]
       [--engines ours,plain,pyjobshop]
Writes bench/out/jobshop.csv (one row per instance and engine), jobshop.json and jobshop.md (per set: mean
and max gap per engine, and how often ours beats, ties or loses against each other engine).
"""
from __future__ import annotations

import argparse
import csv
import json
import platform
import statistics
import sys
import time
from pathlib import Path

from ortools.sat.python import cp_model

from zerocarbon.core.schedule.check import violations
from zerocarbon.core.schedule.model import Assignment, Problem, Schedule
from zerocarbon.io.schedule_files import instance_bounds, read_instance, shipped_instances
from zerocarbon.services.scheduling import solve_shop

DATA = Path(__file__).resolve().parent / "instances"
OUT = Path(__file__).parent / "out"


def plain_cpsat(problem: Problem, time_limit: float, workers: int) -> tuple[Schedule, float]:
    m = cp_model.CpModel()
    horizon = problem.horizon
    by_machine: dict[str, list] = {}
    start, end, pres = {}, {}, {}
    for o in problem.orders:
        for op in o.operations:
            s, e = m.new_int_var(0, horizon, ""), m.new_int_var(0, horizon, "")
            start[op.key], end[op.key] = s, e
            lits = []
            for mc, d in op.options.items():
                lit = m.new_bool_var("") if len(op.options) > 1 else m.new_constant(1)
                iv = m.new_optional_interval_var(s, d, e, lit, "")
                by_machine.setdefault(mc, []).append(iv)
                pres[(op.key, mc)] = lit
                lits.append(lit)
            m.add_exactly_one(lits)
        for a, b in zip(o.operations, o.operations[1:]):
            m.add(start[b.key] >= end[a.key])
    for ivs in by_machine.values():
        m.add_no_overlap(ivs)
    mk = m.new_int_var(0, horizon, "makespan")
    m.add_max_equality(mk, [end[o.operations[-1].key] for o in problem.orders])
    m.minimize(mk)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    solver.solve(m)
    out = [Assignment(k[0], k[1], mc, solver.value(start[k]), solver.value(end[k]))
           for (k, mc), lit in pres.items() if solver.boolean_value(lit)]
    return Schedule(problem.name, out), solver.best_objective_bound


def pyjobshop_solve(problem: Problem, time_limit: float, workers: int) -> tuple[Schedule | None, float]:
    from pyjobshop import Model

    model = Model()
    machines = {ln.id: model.add_machine(name=ln.id) for ln in problem.lines}
    tasks = {}
    for o in problem.orders:
        job = model.add_job(name=o.id)
        prev = None
        for op in o.operations:
            t = model.add_task(job=job, name=f"{o.id}-{op.index}")
            tasks[op.key] = t
            for mc, d in op.options.items():
                model.add_mode(t, machines[mc], d)
            if prev is not None:
                model.add_end_before_start(prev, t)
            prev = t
    result = model.solve("ortools", time_limit=time_limit, display=False, num_workers=workers)
    sol = result.best
    keys = list(tasks)
    index = {id(t): i for i, t in enumerate(model.tasks)}
    out = []
    for k in keys:
        td = sol.tasks[index[id(tasks[k])]]
        mode = model.modes[td.mode]
        mc = model.resources[mode.resources[0]].name
        out.append(Assignment(k[0], k[1], mc, td.start, td.end))
    return Schedule(problem.name, out), float(getattr(result, "lower_bound", float("nan")))


def load_bks() -> dict[str, int]:
    return {name: b["bks"] for name, b in instance_bounds(DATA).items()}


def select(spec: str) -> set[str] | None:
    """``ta01,ta02``, ranges ``ta01-10`` / ``mk01-05``, or a whole set ``ta`` / ``mk``; empty means all."""
    if not spec:
        return None
    names = set(shipped_instances(DATA))
    out: set[str] = set()
    for part in spec.lower().split(","):
        part = part.strip()
        if part in ("ta", "mk", "taillard", "brandimarte"):
            out |= {n for n in names if n.startswith(part[:2])}
        elif "-" in part:
            lo, hi = part.split("-")
            prefix = lo[:2]
            a, b = int(lo[2:]), int(hi[2:] if hi[:2].isalpha() else hi)
            out |= {f"{prefix}{i:02d}" for i in range(a, b + 1)} & names
        elif part in names:
            out.add(part)
        else:
            sys.exit(f"unknown instance '{part}'; shipped: ta01-ta40, mk01-mk10")
    return out


def instances(only: set[str] | None):
    for name, (path, fmt) in sorted(shipped_instances(DATA).items(), key=lambda kv: (kv[1][1] != "taillard", kv[0])):
        if not only or name in only:
            yield ("taillard" if fmt == "taillard" else "brandimarte"), name, read_instance(path, fmt)


def group(name: str) -> str:
    if name.startswith("mk"):
        return "mk01-10"
    n = int(name[2:])
    lo = (n - 1) // 10 * 10 + 1
    return f"ta{lo:02d}-{lo + 9:02d}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--instances", "--only", default="", help="ta01,ta02 | ta01-10 | ta | mk (default all)")
    ap.add_argument("--engines", default="ours,plain,pyjobshop")
    ap.add_argument("--out", default=str(OUT / "jobshop.csv"))
    a = ap.parse_args()
    if not (DATA / "bks.csv").exists():
        sys.exit(f"instance files not found in {DATA}: bench/instances ships with the source tree")
    only = select(a.instances)
    engines = a.engines.split(",")
    bks = load_bks()
    OUT.mkdir(exist_ok=True)
    rows = []
    for set_name, name, problem in instances(only):
        for engine in engines:
            t0 = time.perf_counter()
            if engine == "ours":
                s = solve_shop(problem, a.time_limit, a.workers)
                lb = s.lower_bound
            elif engine == "plain":
                s, lb = plain_cpsat(problem, a.time_limit, a.workers)
            else:
                s, lb = pyjobshop_solve(problem, a.time_limit, a.workers)
            secs = time.perf_counter() - t0
            ok = not violations(problem, s)
            gap = (s.makespan - bks[name]) / bks[name]
            row = {"set": set_name, "instance": name, "engine": engine, "makespan": s.makespan, "lower_bound": lb,
                   "bks": bks[name], "gap": gap, "seconds": round(secs, 2), "valid": ok,
                   "method": getattr(s, "method", "") or engine}
            rows.append(row)
            print(json.dumps(row), flush=True)
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    summary = summarise(rows, engines)
    meta = {"machine": platform.machine(), "workers": a.workers, "time_limit_s": a.time_limit}
    out = Path(a.out)
    out.with_suffix(".json").write_text(json.dumps({**meta, "groups": summary, "rows": rows}, indent=1))
    md = markdown(summary, rows, engines, meta)
    out.with_suffix(".md").write_text(md)
    print("\n" + md)


def summarise(rows: list[dict], engines: list[str]) -> list[dict]:
    """Per set: mean and max gap of each engine; wins/ties/losses of the first engine against the others."""
    out = []
    for g in sorted({group(r["instance"]) for r in rows}):
        mine = {r["instance"]: r for r in rows if group(r["instance"]) == g}
        item: dict = {"set": g, "instances": len({r["instance"] for r in mine.values()})}
        by = {e: {r["instance"]: r for r in rows if r["engine"] == e and group(r["instance"]) == g} for e in engines}
        for e in engines:
            gaps = [r["gap"] for r in by[e].values()]
            item[e] = {"mean_gap": statistics.mean(gaps), "max_gap": max(gaps),
                       "all_valid": all(r["valid"] for r in by[e].values())}
        first = engines[0]
        for e in engines[1:]:
            common = set(by[first]) & set(by[e])
            d = [by[first][i]["makespan"] - by[e][i]["makespan"] for i in common]
            item[f"{first}_vs_{e}"] = {"wins": sum(x < 0 for x in d), "ties": sum(x == 0 for x in d),
                                       "losses": sum(x > 0 for x in d)}
        out.append(item)
    return out


def markdown(summary: list[dict], rows: list[dict], engines: list[str], meta: dict) -> str:
    first = engines[0]
    head = ["set", "n"] + [f"{e} mean / max" for e in engines] + [f"{first} vs {e} (W/T/L)" for e in engines[1:]]
    lines = [f"{meta['time_limit_s']:g} s per instance and engine, {meta['workers']} workers, {meta['machine']}", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for it in summary:
        cells = [it["set"], str(it["instances"])]
        cells += [f"{it[e]['mean_gap']:.2%} / {it[e]['max_gap']:.2%}" + ("" if it[e]["all_valid"] else " (INVALID)")
                  for e in engines]
        cells += ["{wins}/{ties}/{losses}".format(**it[f"{first}_vs_{e}"]) for e in engines[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| instance | BKS | " + " | ".join(engines) + " |", "|---|---:|" + "---:|" * len(engines)]
    names = sorted({r["instance"] for r in rows}, key=lambda n: (n[:2] != "ta", n))
    for n in names:
        got = {r["engine"]: r for r in rows if r["instance"] == n}
        bks = next(iter(got.values()))["bks"]
        lines.append(f"| {n} | {bks} | " + " | ".join(
            f"{got[e]['makespan']} ({got[e]['gap']:.1%})" if e in got else "" for e in engines) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
