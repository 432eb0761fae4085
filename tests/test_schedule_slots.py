"""The exact time-indexed slot model, per-slot power profiles and quarter-hour series."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from zerocarbon.core.schedule.check import violations
from zerocarbon.core.schedule.kpi import compute_kpis
from zerocarbon.core.schedule.model import Assignment, Line, Operation, Order, Problem, Schedule, Series
from zerocarbon.errors import InputError
from zerocarbon.io.schedule_files import plant_problem_from_dict
from zerocarbon.solvers.schedule.cpsat import SolveOptions
from zerocarbon.solvers.schedule.slots import applies, solve_slots


def _instance(seed: int, jobs: int, slots: int, machines: int, step: int = 15) -> Problem:
    """Random small instance on the grid: kW and series to one decimal (exact in the model's integers),
    durations of whole and partial slots, per-slot profiles on some jobs, PV that may exceed the load."""
    rng = np.random.default_rng(seed)
    lines = tuple(Line(f"M{k}", f"S{k}", run_kw=float(rng.integers(20, 60))) for k in range(machines))
    orders = []
    for j in range(jobs):
        ops = []
        for k in range(machines):
            dur = int(rng.integers(5, 2 * step + 1))
            prof = {}
            if rng.random() < 0.5:
                prof = {f"M{k}": tuple(round(float(v), 1) for v in rng.integers(10, 90, size=int(rng.integers(1, 3))))}
            ops.append(Operation(f"J{j}", k, {f"M{k}": dur}, 0, prof))
        orders.append(Order(f"J{j}", operations=tuple(ops)))
    series = Series(price=tuple(round(float(v), 1) for v in rng.uniform(0.2, 1.2, slots)),
                    carbon=tuple(round(float(v), 1) for v in rng.uniform(0.3, 0.9, slots)),
                    pv_kw=tuple(round(float(v), 1) for v in rng.uniform(0, 70, slots)), step_min=step)
    return Problem(f"slots{seed}", lines, tuple(orders), slots * step, series=series, start_on_grid=True)


def _enumerate_best(problem: Problem, kpi: str) -> float:
    """Lowest grid carbon (or cost) over every valid combination of start slots, minute by minute."""
    step, horizon = problem.series.step_min, problem.horizon
    n = problem.series.slots(horizon)
    pv = np.repeat(np.asarray(problem.series.pv_kw), step)[:horizon]
    weight = np.repeat(np.asarray(getattr(problem.series, kpi)), step)[:horizon] / 60.0
    ops = [(o, op) for o in problem.orders for op in o.operations]
    profiles = {}
    for _, op in ops:
        ln = next(iter(op.options))
        kw = np.asarray(op.kw_minutes(problem.line(ln), step))
        profiles[op.key] = kw
    best = [np.inf]
    busy: dict[str, list[tuple[int, int]]] = {}
    end_of: dict[tuple[str, int], int] = {}
    load = np.zeros(horizon)

    def place(i: int) -> None:
        if i == len(ops):
            best[0] = min(best[0], float((np.maximum(load - pv, 0.0) * weight).sum()))
            return
        o, op = ops[i]
        ln, dur = next(iter(op.options.items()))
        earliest = end_of.get((o.id, op.index - 1), o.release)
        for t in range(n):
            s = t * step
            if s < earliest or s + dur > horizon:
                continue
            if any(s < be and bs < s + dur for bs, be in busy.get(ln, [])):
                continue
            busy.setdefault(ln, []).append((s, s + dur))
            end_of[(o.id, op.index)] = s + dur
            load[s:s + dur] += profiles[op.key]
            place(i + 1)
            load[s:s + dur] -= profiles[op.key]
            busy[ln].pop()
            del end_of[(o.id, op.index)]

    place(0)
    return best[0]


CASES = [(1, 3, 12, 1), (2, 4, 8, 1), (3, 2, 16, 1), (4, 2, 10, 2), (5, 3, 8, 2), (6, 2, 12, 2)]


@pytest.mark.parametrize("seed,jobs,slots,machines", CASES)
@pytest.mark.parametrize("kpi,secondary", [("carbon", "carbon"), ("price", "cost")])
def test_slot_model_matches_enumeration_and_kpis(seed, jobs, slots, machines, kpi, secondary):
    problem = _instance(seed, jobs, slots, machines)
    assert applies(problem) is None
    plan = solve_slots(problem, SolveOptions(time_limit=10, workers=1, secondary=secondary))
    assert not violations(problem, plan)
    assert plan.objective["status"] == "OPTIMAL"
    best = _enumerate_best(problem, kpi)
    k = compute_kpis(problem, plan)
    recomputed = k.co2_kg if kpi == "carbon" else k.energy_cost
    # the objective's terms are the KPIs' (integer scaling only: kW and values have one decimal here)
    assert plan.objective["value"] == pytest.approx(recomputed, rel=1e-9, abs=1e-9)
    assert recomputed == pytest.approx(best, rel=1e-9, abs=1e-9)


def test_slot_model_moves_work_into_pv_and_meets_due_dates():
    """One line, PV only in slots 4-7: a due date forces job A early, job B goes into the PV slots."""
    line = Line("L", "S", run_kw=50.0)
    orders = (Order("A", due=30, operations=(Operation("A", 0, {"L": 30}),)),
              Order("B", operations=(Operation("B", 0, {"L": 30}),)))
    series = Series(carbon=(0.5,) * 12, pv_kw=(0, 0, 0, 0, 60, 60, 60, 60, 0, 0, 0, 0), step_min=15)
    p = Problem("pv", (line,), orders, 180, series=series, start_on_grid=True)
    plan = solve_slots(p, SolveOptions(time_limit=5, workers=1, secondary="carbon"))
    start = {a.order: a.start for a in plan.assignments}
    assert start["A"] == 0 and 60 <= start["B"] <= 90
    assert compute_kpis(p, plan).co2_kg == pytest.approx(50 * 0.5 * 0.5)  # A's half hour only


def test_applies_names_why_not():
    p = _instance(1, 2, 8, 2)
    o = p.orders[0]
    two = replace(o, operations=(replace(o.operations[0], options={"M0": 10, "M1": 10}),) + o.operations[1:])
    assert "may run on 2 lines" in applies(replace(p, orders=(two,) + p.orders[1:]))
    swapped = replace(o, operations=(replace(o.operations[0], options={"M1": 10}),
                                     replace(o.operations[1], options={"M0": 10})))
    assert "stage 0 runs on lines" in applies(replace(p, orders=(swapped,) + p.orders[1:]))
    co = replace(p.lines[0], changeover={("a", "b"): (5, 1.0)})
    assert applies(replace(p, lines=(co,) + p.lines[1:])) == "lines have changeovers"


def test_profile_drives_kpis_minute_by_minute():
    """A 40-min operation with profile [90, 30] on 15-min slots: 15 min at 90 kW, then 30 kW (last value holds);
    PV 20 kW in the second slot only is netted per minute."""
    line = Line("L", "S", run_kw=10.0)
    op = Operation("A", 0, {"L": 40}, 0, {"L": (90.0, 30.0)})
    p = Problem("p", (line,), (Order("A", operations=(op,)),), 60,
                series=Series(carbon=(1.0,) * 4, pv_kw=(0.0, 20.0, 0.0, 0.0), step_min=15))
    k = compute_kpis(p, Schedule("p", [Assignment("A", 0, "L", 0, 40)], policy="planned"))
    assert k.energy_kwh["run"] == pytest.approx((90 * 15 + 30 * 25) / 60)
    assert k.grid_kwh == pytest.approx((90 * 15 + 10 * 15 + 30 * 10) / 60)
    assert k.co2_kg == pytest.approx(k.grid_kwh)


def _spec(**series) -> dict:
    return {"name": "q", "horizon_min": 1440, "stages": ["S"], "start_on_grid": True,
            "lines": [{"id": "L1", "stage": "S", "run_kw": 50, "rates": {"x": 60}}],
            "orders": [{"id": "A", "family": "x", "quantity": 60, "power_kw": [80, 40]},
                       {"id": "B", "family": "x", "quantity": 30, "power_kw": {"L1": [20]}}],
            "series": series}


def test_problem_file_quarter_hours_and_profiles():
    p = plant_problem_from_dict(_spec(step_min=15, currency="EUR", price=[0.1] * 96, carbon=[0.4] * 96,
                                      pv_kw=[0.0] * 96))
    assert p.series.step_min == 15 and p.series.currency == "EUR" and p.start_on_grid
    assert p.orders[0].operations[0].power_kw == {"L1": (80.0, 40.0)}
    assert p.orders[1].operations[0].power_kw == {"L1": (20.0,)}
    assert p.series.at("price", 1439) == 0.1 and applies(p) is None


def test_problem_file_series_length_is_checked():
    # 96 quarter-hour values read as hourly ones would cover four days of a one-day horizon
    with pytest.raises(InputError) as e:
        plant_problem_from_dict(_spec(price=[0.1] * 96))
    assert "series.price" in str(e.value) and "96 values, expected 24" in str(e.value)
    assert 'did you mean "step_min": 15?' in str(e.value)  # 96 x 15 min fits the 1,440-min horizon
    with pytest.raises(InputError) as e:
        plant_problem_from_dict(_spec(price=[0.1] * 48))
    assert 'did you mean "step_min": 30?' in str(e.value)
    with pytest.raises(InputError) as e:
        plant_problem_from_dict(_spec(price=[0.1] * 50))  # no step fits: no guess
    assert "50 values, expected 24" in str(e.value) and "did you mean" not in str(e.value)
    with pytest.raises(InputError) as e:
        plant_problem_from_dict(_spec(step_min=15, carbon=[0.4] * 95))
    assert "series.carbon" in str(e.value) and "95 values, expected 96" in str(e.value)
    with pytest.raises(InputError) as e:  # a stated step is not second-guessed
        plant_problem_from_dict(_spec(step_min=60, price=[0.1] * 96))
    assert "96 values, expected 24" in str(e.value) and "did you mean" not in str(e.value)
    with pytest.raises(InputError) as e:
        plant_problem_from_dict(_spec(step_min=20))
    assert "series.step_min" in str(e.value)
    bad = _spec()
    bad["orders"][1]["power_kw"] = {"L9": [1]}
    with pytest.raises(InputError) as e:
        plant_problem_from_dict(bad)
    assert "orders[1].power_kw" in str(e.value) and "L9" in str(e.value)


def test_shipped_slot_example_plans_with_the_slot_model(tmp_path):
    from pathlib import Path

    from zerocarbon.services.scheduling import compare

    path = Path(__file__).resolve().parents[1] / "examples" / "schedule" / "one_line_day_15min.json"
    spec = json.loads(path.read_text(encoding="utf-8"))
    spec["orders"] = spec["orders"][:6]  # keep the test short
    p = plant_problem_from_dict(spec)
    assert p.series.step_min == 15 and len(p.series.price) == 96 and applies(p) is None
    cmp = compare(p, time_limit=3, workers=1, secondary="carbon", include_makespan=False)
    plan = cmp.runs["energy_aware"].schedule
    assert plan.method.startswith("slots-") and not violations(p, plan)
    assert all(a.start % 15 == 0 for a in plan.assignments)
    for run in cmp.runs.values():
        assert all(a.start % 15 == 0 for a in run.schedule.assignments)


def test_slot_example_file_is_its_generator_output():
    import runpy
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "examples" / "schedule"
    made = runpy.run_path(str(folder / "make_slots_example.py"))["example"]()
    text = (folder / "one_line_day_15min.json").read_text(encoding="utf-8")
    assert json.dumps(made, indent=1, ensure_ascii=False) + "\n" == text


def test_interval_model_and_dispatch_keep_starts_on_the_grid():
    """Two eligible lines: the slot model does not apply, the interval model plans on the 15-min grid."""
    from zerocarbon.solvers.schedule.cpsat import solve
    from zerocarbon.solvers.schedule.dispatch import dispatch

    lines = (Line("A", "S", run_kw=40.0), Line("B", "S", run_kw=50.0))
    orders = tuple(Order(f"J{j}", due=600, release=7 * j,
                         operations=(Operation(f"J{j}", 0, {"A": 20 + 7 * j, "B": 25 + 5 * j}),)) for j in range(5))
    p = Problem("grid", lines, orders, 240, series=Series(carbon=(0.5,) * 16, pv_kw=(30.0,) * 16, step_min=15),
                start_on_grid=True)
    assert "may run on 2 lines" in applies(p)
    for s in (solve(p, SolveOptions(time_limit=3, workers=1, secondary="carbon")), dispatch(p, "edd")):
        assert not violations(p, s) and all(a.start % 15 == 0 for a in s.assignments)
    off = Schedule("grid", [Assignment("J0", 0, "A", 5, 25)] + [a for a in dispatch(p, "edd").assignments
                                                                  if a.order != "J0"])
    assert any("not on the 15-min grid" in v for v in violations(p, off))


def test_neighbourhood_search_keeps_plans_valid_and_exactly_valued():
    import time

    from zerocarbon.solvers.schedule.dispatch import dispatch
    from zerocarbon.solvers.schedule.slots import _neighbourhoods

    p = _instance(5, 3, 8, 2)
    start = dispatch(p, "edd", "planned")
    plan, value, moves = _neighbourhoods(p, SolveOptions(workers=1), "carbon", None, start.assignments,
                                         time.perf_counter() + 1.5)
    s = Schedule(p.name, plan, policy="planned")
    assert not violations(p, s) and moves >= 0
    co2 = compute_kpis(p, s).co2_kg
    assert value == pytest.approx(co2, abs=1e-9)
    assert _enumerate_best(p, "carbon") - 1e-9 <= co2 <= compute_kpis(p, start).co2_kg + 1e-9
