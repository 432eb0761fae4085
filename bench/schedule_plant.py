"""Benchmark: the energy-aware scheduler on plant instances, against conventional plans in the same run.

1. Laptop week (6 lines over SMT -> assembly -> test -> pack, 220 orders, Anhui summer TOU tariff,
   hourly carbon intensity, PV): EDD and FIFO dispatch with lines always on, a CP-SAT makespan plan with
   lines always on, and the energy-aware plan (on time first, then energy cost; lines switched off by
   the plan). KPIs are recomputed from each validated schedule. A second conventional baseline is the
   same EDD plan run the way a disciplined plant runs it by hand: each line switched off when an idle gap
   exceeds its warm-up break-even (the EDD schedule evaluated with the KPI policy ``planned``).
   The week is then re-evaluated and re-planned (on time, then carbon) under a varying hourly carbon
   series, the shipped GB national 2023 series by default, aligned to the same dates of 2023.
2. Large plant (43 assembly lines, 1,300 orders, a week): time to a first feasible plan; then three
   breakdowns (different lines, 8 h each) repaired with a 30 s budget: time, share of not-started
   operations moved, validity, on-time rate.

3. Slot model (``--slots``, its own run): generated one-day instances of 20, 30 and 50 jobs, on a single line
   and on a 2-line flow shop, 96 quarter-hour slots, starts on the grid, per-job power profiles; Anhui summer
   TOU price per slot (sourced, each hour's price held for its quarter-hours), the CN-2025.1 East China grid
   factor (sourced, constant by slot), PV 80 kW peak per line (generator assumption). Per instance and
   objective (carbon, cost): the exact slot model's plan (model value, CP-SAT best bound and gap within the
   stated budget), the interval model's plan with the same budget, and EDD dispatch on the grid, all as KPIs
   recomputed from the validated schedule.

Usage: python bench/schedule_plant.py [--time-limit 60] [--workers 2] [--carbon-series shipped:gb_national_2023]
       python bench/schedule_plant.py --slots [--slots-budget 30] [--slots-sizes 20,30,50] [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from pathlib import Path

from zerocarbon.core.schedule.check import violations
from zerocarbon.core.schedule.kpi import compute_kpis
from zerocarbon.io.schedule_files import plant_problem_from_dict
from zerocarbon.services.demo_plant import large_plant_week, laptop_week
from zerocarbon.services.carbon_series import with_carbon_series
from zerocarbon.services.scheduling import Run, compare
from zerocarbon.solvers.schedule.dispatch import dispatch
from zerocarbon.solvers.schedule.reschedule import Breakdown, reschedule

OUT = Path(__file__).parent / "out"


# The laptop week's lines work 6 of its 7 days; 50 such weeks a year.
OPERATING_DAYS = 300


def laptop(time_limit: float, workers: int, carbon_series: str | None = None) -> dict:
    p = plant_problem_from_dict(laptop_week())
    t0 = time.perf_counter()
    cmp = compare(p, time_limit=time_limit, workers=workers, operating_days=OPERATING_DAYS)
    secs = time.perf_counter() - t0
    cmp.runs["edd_planned"] = edd_planned(p, cmp.runs["edd_always_on"])
    out = {"instance": p.name, "orders": len(p.orders), "lines": len(p.lines), "seconds_total": secs, "runs": {}}
    base = cmp.runs["edd_always_on"].kpis
    for key, r in cmp.runs.items():
        out["runs"][key] = kpi_row(r, base)
    out["savings_vs_edd"] = cmp.savings("energy_aware")
    out["annualisation"] = cmp.annualisation.as_dict()
    out["savings_vs_edd_planned"] = savings(cmp.runs["edd_planned"], cmp.runs["energy_aware"], cmp.annualisation.factor)
    if carbon_series:
        out["varying_carbon"] = varying_carbon(p, cmp, carbon_series, time_limit, workers)
    return out


def kpi_row(r: Run, base) -> dict:
    k = r.kpis
    return {"label": r.label, "on_time": k.on_time_rate, "tardiness_min": k.total_tardiness_min, "kwh": k.total_kwh,
            "idle_kwh": k.energy_kwh["idle"], "grid_kwh": k.grid_kwh, "cost_cny": k.energy_cost,
            "co2_kg": k.co2_kg, "peak_kw": k.peak_kw, "makespan_h": k.makespan_min / 60,
            "cost_vs_edd": k.energy_cost / base.energy_cost - 1, "co2_vs_edd": k.co2_kg / base.co2_kg - 1,
            "idle_vs_edd": k.energy_kwh["idle"] / base.energy_kwh["idle"] - 1}


def edd_planned(problem, edd: Run) -> Run:
    """The EDD plan with each line switched off over idle gaps longer than its warm-up break-even.

    ``core.schedule.kpi`` policy ``planned`` applies exactly that turn-off rule to any schedule, so this is
    the EDD schedule (same starts, same lines) evaluated under it, not a second implementation."""
    s = replace(edd.schedule, policy="planned")
    return Run("EDD, lines off past break-even", s, compute_kpis(problem, s, "planned"))


def savings(base: Run, plan: Run, factor: float) -> dict:
    """Savings over the horizon times the annualisation factor (positive = saved)."""
    b, r = base.kpis, plan.kpis
    return {"tco2e_per_year": (b.co2_kg - r.co2_kg) * factor / 1000,
            "co2_change": r.co2_kg / b.co2_kg - 1 if b.co2_kg else 0.0,
            "cost_per_year": (b.energy_cost - r.energy_cost) * factor,
            "energy_cost_change": r.energy_cost / b.energy_cost - 1 if b.energy_cost else 0.0,
            "grid_mwh_per_year": (b.grid_kwh - r.grid_kwh) * factor / 1000}


def varying_carbon(p, flat, spec: str, time_limit: float, workers: int) -> dict:
    """The same week under a varying carbon series: the flat run's plans re-evaluated (dispatching does not
    look at carbon, the cost-first plan is the one already made) and a plan made on time, then carbon."""
    applied = with_carbon_series(p, spec)
    q = applied.problem
    t0 = time.perf_counter()
    cmp = compare(q, time_limit=time_limit, workers=workers, secondary="carbon", include_makespan=False,
                  operating_days=OPERATING_DAYS)
    secs = time.perf_counter() - t0
    runs = {"edd_always_on": cmp.runs["edd_always_on"],
            "edd_planned": edd_planned(q, cmp.runs["edd_always_on"]),
            "energy_aware_cost": Run(flat.runs["energy_aware"].label, flat.runs["energy_aware"].schedule,
                                     compute_kpis(q, flat.runs["energy_aware"].schedule, "planned")),
            "energy_aware_carbon": cmp.runs["energy_aware"]}
    base = runs["edd_always_on"].kpis
    carbon = q.series.carbon
    return {"series": applied.series.name, "note": applied.note,
            "series_window_utc": [applied.window.used_from.isoformat(), applied.window.used_to.isoformat()],
            "window_kg_per_kwh": {"mean": sum(carbon) / len(carbon), "min": min(carbon), "max": max(carbon)},
            "seconds_carbon_plan": secs,
            "runs": {k: kpi_row(r, base) for k, r in runs.items()},
            "savings": {plan: {"vs_edd_always_on": savings(runs["edd_always_on"], runs[plan], cmp.annualisation.factor),
                               "vs_edd_planned": savings(runs["edd_planned"], runs[plan], cmp.annualisation.factor)}
                        for plan in ("energy_aware_cost", "energy_aware_carbon")}}


def large(workers: int, repair_budget: float) -> dict:
    p = plant_problem_from_dict(large_plant_week())
    t0 = time.perf_counter()
    plan = dispatch(p, "edd")
    first = time.perf_counter() - t0
    assert not violations(p, plan)
    k = compute_kpis(p, plan)
    out = {"instance": p.name, "orders": len(p.orders), "lines": len(p.lines), "first_feasible_s": first,
           "first_on_time": k.on_time_rate, "repairs": []}
    lines = sorted({a.line for a in plan.assignments})
    for i, (line, day) in enumerate(((lines[3], 2), (lines[20], 3), (lines[37], 1))):
        now = day * 1440 + 480
        r = reschedule(p, plan, now, Breakdown(line, now, now + 480), time_limit=repair_budget, workers=workers)
        bad = violations(r.problem, r.schedule)
        kk = compute_kpis(r.problem, r.schedule)
        out["repairs"].append({"line": line, "now_min": now, "seconds": r.seconds, "moved": r.moved,
                               "not_started": r.not_started, "moved_share": r.moved / r.not_started,
                               "valid": not bad, "on_time": kk.on_time_rate, "method": r.schedule.method})
    return out


def slot_instance(jobs: int, machines: int, seed: int = 0):
    """A generated one-day instance on 96 quarter-hour slots (see the module's description, item 3)."""
    import math

    import numpy as np

    from zerocarbon.core.factors import load_factor_set
    from zerocarbon.core.model import Site
    from zerocarbon.services.demo_plant import anhui_summer_prices

    rng = np.random.default_rng(seed)
    step, slots = 15, 96
    stages = [f"S{k}" for k in range(machines)]
    mean_min = 0.6 * 1440 / jobs  # about 60 % of the day busy on each line
    orders = []
    for j in range(jobs):
        minutes = max(5, int(rng.normal(mean_min, mean_min / 3)))
        peak, steady = float(rng.integers(70, 130)), float(rng.integers(40, 80))
        orders.append({"id": f"J{j:02d}", "family": "x", "quantity": minutes, "release_min": 0,
                       "due_min": int(rng.choice([720, 1080, 1440, 1440])), "power_kw": [peak, steady]})
    grid = load_factor_set("CN-2025.1").grid_factor(
        "location", 2026, Site("HF", "Hefei", country="CN", province="安徽", grid_region="east")).factor
    hourly = anhui_summer_prices(24)
    pv = [round(80 * machines * max(0.0, math.sin(math.pi * ((s * step + step / 2) / 60 - 6) / 13)), 1)
          for s in range(slots)]
    spec = {"name": f"slots-{jobs}x{machines}", "horizon_min": 1440, "stages": stages, "start_on_grid": True,
            "lines": [{"id": f"M{k}", "stage": st, "run_kw": 60, "idle_kw": 30, "standby_kw": 3, "warmup_min": 15,
                       "warmup_kwh": 5, "rates": {"x": 60}} for k, st in enumerate(stages)],
            "orders": orders,
            "series": {"step_min": step, "price": [hourly[s * step // 60] for s in range(slots)],
                       "carbon": [grid.value] * slots, "pv_kw": pv}}
    return plant_problem_from_dict(spec)


def slots(budget: float, workers: int, sizes: tuple[int, ...] = (20, 30, 50)) -> dict:
    """Exact slot model against the interval model and EDD on the grid (item 3 of the module's description)."""
    from zerocarbon.solvers.schedule.cpsat import SolveOptions, solve
    from zerocarbon.solvers.schedule.slots import applies, solve_slots

    rows = []
    for jobs in sizes:
        for machines in (1, 2):
            p = slot_instance(jobs, machines)
            assert applies(p) is None, applies(p)
            edd = dispatch(p, "edd", "planned")
            for secondary in ("carbon", "cost"):
                opt = SolveOptions(time_limit=budget, workers=workers, secondary=secondary)
                t0 = time.perf_counter()
                plan = solve_slots(p, opt)
                secs = time.perf_counter() - t0
                t0 = time.perf_counter()
                interval = solve(p, SolveOptions(time_limit=budget, workers=workers, secondary=secondary))
                secs_interval = time.perf_counter() - t0
                row = {"jobs": jobs, "lines": machines, "slots": 96, "objective": secondary, "budget_s": budget,
                       "workers": workers}
                for name, s, sec in (("slots", plan, secs), ("interval", interval, secs_interval),
                                     ("edd", edd, None)):
                    assert not violations(p, s), name
                    k = compute_kpis(p, s, "planned")
                    row[name] = {"co2_kg": k.co2_kg, "cost": k.energy_cost, "grid_kwh": k.grid_kwh,
                                 "on_time": k.on_time_rate, "seconds": sec, "method": s.method}
                row["slots"].update({key: plan.objective.get(key) for key in
                                     ("value", "processing", "bound", "gap", "status", "booleans")})
                rows.append(row)
                print(json.dumps(row), flush=True)
    return {"machine": f"{platform.machine()}, workers {workers}", "budget_s": budget, "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--carbon-series", default="shipped:gb_national_2023",
                    help="varying carbon series for the laptop week (a CSV or shipped:<name>; '' to skip)")
    ap.add_argument("--slots", action="store_true", help="run only the slot-model section (item 3)")
    ap.add_argument("--slots-budget", type=float, default=30, help="[s] per solve in the slot-model section")
    ap.add_argument("--slots-sizes", default="20,30,50", help="jobs per instance in the slot-model section")
    a = ap.parse_args()
    if a.slots:
        res = slots(a.slots_budget, a.workers, tuple(int(x) for x in a.slots_sizes.split(",")))
        OUT.mkdir(exist_ok=True)
        (OUT / "schedule_slots.json").write_text(json.dumps(res, indent=2))
        return
    res = {"machine": f"{platform.machine()}, workers {a.workers}",
           "laptop_week": laptop(a.time_limit, a.workers, a.carbon_series or None),
           "large_plant": large(a.workers, 30)}
    OUT.mkdir(exist_ok=True)
    (OUT / "schedule_plant.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
