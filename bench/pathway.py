"""Benchmark: least-cost pathway MILP against the greedy cost-per-tonne ranking on a generated catalogue.

A seeded generator writes a catalogue of N measures (default 200: savings on 80 electricity end uses and 8 fuel
uses, up to 3 measures interacting on one end use, fuel switches, exclusive pairs, rooftop PV with a roof limit
and a ramp, green-power contracts and certificates) and a scenario of Y years (default 25: base 2025, targets every
5 years tightening to -80 % Scope 1+2 and 90 % renewable electricity by 2050). Then:

  milp     zerocarbon.solvers.pathway.solve (scipy.optimize.milp = HiGHS), time limit --time-limit
  greedy   zerocarbon.core.pathway.macc.greedy (cheapest tonne first until each target year is met)
  cli      `zerocarbon pathway compare --scenario ... --catalogue ... --json` in this process (typer runner):
           file reading, validation, MACC, greedy and MILP, JSON out

Usage: python bench/pathway.py [--measures 200] [--years 25] [--seed 12] [--time-limit 120]
Prints the rows quoted in BENCHMARKS.md and writes bench/out/pathway.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path

import yaml

from zerocarbon.core.pathway.macc import greedy
from zerocarbon.core.pathway.measures import parse_catalogue
from zerocarbon.core.pathway.model import build_problem
from zerocarbon.core.pathway.scenario import parse_scenario
from zerocarbon.solvers.pathway import solve

OUT = Path(__file__).parent / "out"
ILL = {"status": "illustrative", "reason": "generated benchmark catalogue"}


def fig(value, unit):
    return {"value": value, "unit": unit, **ILL}


def generate(n: int, years: int, seed: int) -> tuple[str, str]:
    rng = random.Random(seed)
    end_uses = [f"E{i:02d}" for i in range(80)]
    fuels = [f"F{i}" for i in range(8)]
    measures = [
        {"id": "pv", "name": {"en": "PV", "zh": "光伏"}, "scope": 2, "kind": "onsite_re",
         "acts_on": {"kind": "electricity", "targets": ["*"]}, "size": {"kind": "continuous", "max_driver": "roof_kw"},
         "yield": fig(1100, "kWh/kW"), "capex": fig(3000, "CNY/kW"), "fixed_opex": fig(70, "CNY/kW"),
         "lifetime": fig(25, "year"), "ramp": fig(4000, "kW")},
        {"id": "gpc", "name": {"en": "GPC", "zh": "绿电"}, "scope": 2, "kind": "re_purchase",
         "acts_on": {"kind": "electricity", "targets": ["*"]}, "variable_opex": fig(30, "CNY/MWh"),
         "lifetime": fig(1, "year")},
        {"id": "gec", "name": {"en": "GEC", "zh": "绿证"}, "scope": 2, "kind": "re_purchase",
         "acts_on": {"kind": "electricity", "targets": ["*"]}, "variable_opex": fig(60, "CNY/MWh"),
         "lifetime": fig(1, "year")},
    ]
    per_use = {u: 0 for u in end_uses}
    i = 0
    while len(measures) < n:
        i += 1
        mid = f"m{i:03d}"
        if rng.random() < 0.1:
            fuel = rng.choice(fuels)
            m = {"id": mid, "name": {"en": mid, "zh": mid}, "scope": 1, "kind": "fuel_switch",
                 "acts_on": {"kind": "fuel", "targets": [fuel], "electricity_end_use": f"HEAT_{fuel}"},
                 "fraction": fig(round(rng.uniform(0.3, 1.0), 2), "fraction"),
                 "electricity_per_fuel": fig(round(rng.uniform(0.25, 0.6), 2), "MWh/MWh"),
                 "capex": fig(round(rng.uniform(500, 4000), 0), "CNY/MWh"), "lifetime": fig(rng.randint(8, 20), "year")}
        else:
            free = [u for u in end_uses if per_use[u] < 3]
            use = rng.choice(free)
            per_use[use] += 1
            m = {"id": mid, "name": {"en": mid, "zh": mid}, "scope": 2, "kind": "saving",
                 "acts_on": {"kind": "end_use", "targets": [use]},
                 "fraction": fig(round(rng.uniform(0.02, 0.35), 3), "fraction"),
                 "capex": fig(round(rng.uniform(20, 3000), 0), "CNY/MWh"),
                 "fixed_opex": fig(round(rng.uniform(0, 40), 0), "CNY/MWh"), "lifetime": fig(rng.randint(3, 20), "year")}
        measures.append(m)
    savings = [m for m in measures if m["kind"] == "saving"]
    for k in range(0, 20, 2):  # ten exclusive pairs, on different end uses where possible
        savings[k]["exclusive"] = savings[k + 1]["exclusive"] = f"x{k // 2}"
    catalogue = yaml.safe_dump({"sources": {}, "measures": measures}, allow_unicode=True, sort_keys=False)
    base_year = 2025
    last = base_year + years
    targets = []
    for y in range(base_year + 5, last + 1, 5):
        share = (y - base_year) / years
        targets.append({"year": y, "reduction_vs_base": round(0.8 * share, 3), "min_re_share": round(0.9 * share, 3)})
    if targets[-1]["year"] != last:
        targets.append({"year": last, "reduction_vs_base": 0.8, "min_re_share": 0.9})
    scenario = {
        "name": f"bench-{n}x{years}", "base": {
            "source": "scenario", "year": base_year,
            "electricity_mwh": {u: round(rng.uniform(200, 3000), 1) for u in end_uses},
            "onsite_re_mwh": 2000.0,
            "fuels": {f: {"fuel": "natural_gas", "mwh": (mwh := round(rng.uniform(500, 4000), 1)),
                          "tco2e": round(mwh * 0.202, 2)} for f in fuels},
            "refrigerant_tco2e": {"hfc": 400.0}, "assets": {"roof_kw": 30000.0}},
        "growth": 0.02, "grid_factor": {base_year: 0.5306, last: 0.30}, "electricity_price": 635.2,
        "fuel_prices": {"natural_gas": 320.0}, "discount_rate": 0.08, "carbon_price": 0, "reinvest": True,
        "end_year": last, "targets": targets}
    return catalogue, yaml.safe_dump(scenario, sort_keys=False)


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--measures", type=int, default=200)
    ap.add_argument("--years", type=int, default=25)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--skip-cli", action="store_true")
    a = ap.parse_args()
    cat_text, sc_text = generate(a.measures, a.years, a.seed)
    t0 = time.perf_counter()
    problem = build_problem(parse_catalogue(cat_text, "bench-catalogue.yaml"), parse_scenario(sc_text, "bench.yaml"))
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = greedy(problem)
    t_greedy = time.perf_counter() - t0
    sol = solve(problem, time_limit=a.time_limit)
    rows = {"measures": len(problem.measures), "years": len(problem.years), "seed": a.seed,
            "variables": sol.variables, "binaries": sol.binaries, "constraints": sol.constraints,
            "milp_status": sol.status, "milp_s": round(sol.seconds, 2), "milp_gap": sol.gap,
            "milp_npc_mcny": round(sol.result.npc / 1e6, 3), "milp_meets": sol.result.meets_targets,
            "greedy_s": round(t_greedy, 2), "greedy_npc_mcny": round(g.result.npc / 1e6, 3),
            "greedy_meets": g.meets_targets, "greedy_misses": list(g.result.violations)[:5],
            "greedy_measures": len(g.order), "build_s": round(t_build, 2), "machine": machine()}
    rows["milp_cheaper_by_mcny"] = round((g.result.npc - sol.result.npc) / 1e6, 3)
    if not a.skip_cli:
        from typer.testing import CliRunner

        from zerocarbon.cli.pathway import app

        with tempfile.TemporaryDirectory() as d:
            cat, sc = Path(d) / "catalogue.yaml", Path(d) / "scenario.yaml"
            cat.write_text(cat_text, encoding="utf-8")
            sc.write_text(sc_text, encoding="utf-8")
            t0 = time.perf_counter()
            r = CliRunner().invoke(app, ["compare", "--scenario", str(sc), "--catalogue", str(cat), "--json",
                                         "--time-limit", str(a.time_limit)])
            rows["cli_s"] = round(time.perf_counter() - t0, 2)
            rows["cli_exit"] = r.exit_code
            if r.exit_code == 0:
                rows["cli_npc_mcny"] = round(json.loads(r.output)[0]["summary"]["npc"] / 1e6, 3)
    OUT.mkdir(exist_ok=True)
    (OUT / "pathway.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(json.dumps(rows, indent=1))
    print()
    print("| catalogue | variables (binary) / constraints | MILP (HiGHS) | greedy cost-per-tonne | CLI path |")
    print("|---|---|---|---|---|")
    print(f"| {rows['measures']} measures x {rows['years']} years (seed {a.seed}) | {rows['variables']:,} "
          f"({rows['binaries']:,}) / {rows['constraints']:,} | {rows['milp_s']} s, {rows['milp_status']}, NPC "
          f"{rows['milp_npc_mcny']:,} M CNY | {rows['greedy_s']} s, NPC {rows['greedy_npc_mcny']:,} M CNY, "
          f"{'meets' if rows['greedy_meets'] else 'misses'} the targets | {rows.get('cli_s', '-')} s |")


if __name__ == "__main__":
    main()
