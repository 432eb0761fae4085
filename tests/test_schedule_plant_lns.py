"""Plant plan search: dear-slot dispatching, the windowed neighbourhood search and the whole pipeline."""
from __future__ import annotations

import random

import pytest
from ortools.sat.python import cp_model

from zerocarbon.core.schedule.check import violations
from zerocarbon.core.schedule.kpi import compute_kpis
from zerocarbon.io.schedule_files import plant_problem_from_dict
from zerocarbon.services.demo_plant import laptop_week
from zerocarbon.solvers.schedule import plant_lns
from zerocarbon.solvers.schedule.cpsat import SolveOptions, net_of_pv
from zerocarbon.solvers.schedule.dispatch import closed_dispatch, dispatch, energy_dispatch_search


@pytest.fixture(scope="module")
def week():
    return plant_problem_from_dict(laptop_week(seed=3, n_orders=24))


def test_closed_dispatch_keeps_lines_out_of_the_dearest_slots(week):
    values = net_of_pv(week, week.series.price)
    step = week.series.step_min
    top = max(values)
    s = closed_dispatch(week, values, {"TEST1": 0.05})
    assert not violations(week, s)
    for a in s.assignments:
        if a.line == "TEST1":
            assert all(values[min(t // step, len(values) - 1)] < top for t in range(a.start, a.end))
    assert "TEST1 5.0%" in s.method


def test_dear_slot_search_is_never_worse_than_plain_edd(week):
    def score(s):
        return plant_lns.score(week, s, "cost")
    found = energy_dispatch_search(week, net_of_pv(week, week.series.price), score, time_limit=2.0)
    assert found is not None and not violations(week, found)
    assert score(found) <= score(dispatch(week, "edd", "planned"))


def test_window_model_takes_the_incumbent_and_keeps_the_rest(week):
    incumbent = dispatch(week, "edd", "planned")
    build = plant_lns.builder(week, "cost")
    free = plant_lns.window_neighbourhood(week)(incumbent, 0.3, random.Random(1))
    model, extract = build(free, incumbent)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 5
    assert solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    plan = extract(solver)
    assert not violations(week, plan)
    assert sorted((a.order, a.index) for a in plan.assignments) == sorted(
        (a.order, a.index) for a in incumbent.assignments)
    # freed operations only run on the lines of the window; kept ones do not move at all
    moved = {(a.order, a.index) for a in plan.assignments} - {
        (a.order, a.index) for a in plan.assignments if a in incumbent.assignments}
    lines = {a.line for a in incumbent.assignments if (a.order, a.index) in free}
    assert all(a.line in lines for a in plan.assignments if (a.order, a.index) in moved)


@pytest.mark.slow
@pytest.mark.parametrize("secondary", ["cost", "carbon"])
def test_lns_returns_valid_plans_never_worse(week, secondary):
    for rule in ("edd", "spt"):  # spt is late on this week: tardiness must not grow
        start = dispatch(week, rule, "planned")
        before = plant_lns.score(week, start, secondary)
        plan = plant_lns.improve(week, start, secondary, time_limit=3.0, workers=1, sub_limit=1.0, size=0.2)
        assert not violations(week, plan)
        assert plant_lns.weighted_tardiness(week, plan) <= plant_lns.weighted_tardiness(week, start)
        assert plant_lns.score(week, plan, secondary) <= before


@pytest.mark.slow
def test_energy_aware_search_beats_every_candidate(week):
    plan = plant_lns.solve_energy_aware(week, SolveOptions(time_limit=4, workers=1, secondary="carbon"))
    assert not violations(week, plan)
    value = plant_lns.score(week, plan, "carbon")
    assert plan.objective["candidates"] and all(value <= v + 1e-6 for v in plan.objective["candidates"].values())
    edd = compute_kpis(week, dispatch(week, "edd"), "planned")
    k = compute_kpis(week, plan, "planned")
    assert k.weighted_tardiness_min <= edd.weighted_tardiness_min and k.co2_kg <= edd.co2_kg


@pytest.mark.slow
def test_rolling_plan_is_never_worse_than_edd_switched_off(week):
    from zerocarbon.solvers.schedule.cpsat import kpi_value
    from zerocarbon.solvers.schedule.rolling import solve_rolling

    edd = dispatch(week, "edd", "planned")
    for secondary in ("cost", "carbon"):
        plan = solve_rolling(week, SolveOptions(time_limit=2, workers=1, secondary=secondary), chunk=8)
        assert not violations(week, plan)
        if plant_lns.weighted_tardiness(week, plan) >= plant_lns.weighted_tardiness(week, edd):
            assert kpi_value(week, plan, secondary) <= kpi_value(week, edd, secondary) + 1e-9
