"""Scheduling: validator, KPIs, baselines, CP-SAT (with brute-force optima), files, repair."""
import csv
import itertools
import json
from dataclasses import replace
from pathlib import Path

import pytest

from zerocarbon.core.schedule.check import violations
from zerocarbon.core.schedule.kpi import compute_kpis
from zerocarbon.core.schedule.model import Assignment, Series, Line, Operation, Order, Problem, Schedule
from zerocarbon.errors import InfeasibleError, InputError
from zerocarbon.io.schedule_files import (INSTANCES, find_instance, instance_bounds, plant_problem_from_dict, read_fjs,
                                         read_instance, read_plant_problem, read_taillard, shipped_instances)
from zerocarbon.services.demo_plant import laptop_week
from zerocarbon.services.scheduling import compare, solve_shop
from zerocarbon.solvers.schedule.cpsat import SolveOptions, solve
from zerocarbon.solvers.schedule.dispatch import RULES, dispatch
from zerocarbon.solvers.schedule.reschedule import Breakdown, reschedule

DATA = Path(__file__).parent / "data"


def brute_force_makespan(problem: Problem) -> int:
    """Optimal makespan of a tiny job shop by enumerating every machine sequence (semi-active schedules)."""
    ops = problem.operations
    machines = sorted({next(iter(op.options)) for op in ops})
    per_machine = {m: [op.key for op in ops if next(iter(op.options)) == m] for m in machines}
    best = None
    for seqs in itertools.product(*(itertools.permutations(per_machine[m]) for m in machines)):
        order = dict(zip(machines, seqs))
        start, done, changed = {}, {}, True
        # Longest-path on the disjunctive graph fixed by the sequences (cycles -> infeasible).
        for _ in range(len(ops) + 1):
            changed = False
            for o in problem.orders:
                for i, op in enumerate(o.operations):
                    m = next(iter(op.options))
                    pos = order[m].index(op.key)
                    prev_job = done.get(o.operations[i - 1].key) if i else 0
                    prev_mach = done.get(order[m][pos - 1]) if pos else 0
                    if prev_job is None or prev_mach is None:
                        continue
                    s = max(prev_job, prev_mach)
                    if start.get(op.key) != s:
                        start[op.key], done[op.key], changed = s, s + op.options[m], True
            if not changed:
                break
        if len(done) == len(ops):
            span = max(done.values())
            best = span if best is None else min(best, span)
    return best


def test_readers_agree_and_cpsat_is_optimal():
    a, b = read_taillard(DATA / "tiny_taillard.txt"), read_taillard(DATA / "tiny_orlib.txt")
    assert [o.operations for o in a.orders] == [o.operations for o in b.orders]
    s = solve_shop(a, time_limit=5, workers=1)
    assert not violations(a, s)
    assert s.makespan == brute_force_makespan(a) == s.lower_bound


def brute_force_flexible_makespan(problem: Problem) -> int:
    """Optimal makespan of a tiny flexible job shop: every machine choice, each solved by brute force."""
    ops = problem.operations
    best = None
    for choice in itertools.product(*(sorted(op.options) for op in ops)):
        pick = {op.key: m for op, m in zip(ops, choice)}
        fixed = replace(problem, orders=tuple(
            replace(o, operations=tuple(replace(op, options={pick[op.key]: op.options[pick[op.key]]})
                                        for op in o.operations)) for o in problem.orders))
        span = brute_force_makespan(fixed)
        best = span if best is None else min(best, span)
    return best


def test_flexible_job_shop_reaches_the_brute_force_optimum():
    """The solver's flexible job-shop makespan is the optimum, not merely above a bound any plan meets."""
    p = read_fjs(DATA / "tiny.fjs")
    assert p.orders[0].operations[0].options == {"M0": 3, "M1": 4}
    s = solve_shop(p, time_limit=5, workers=1)
    assert not violations(p, s)
    # 6 by hand too: M1 must run 2 + 1 + 3 min of work (job 3 on M0 would take 4 and push M0 to 9)
    assert s.makespan == brute_force_flexible_makespan(p) == 6
    assert s.objective["status"] == "OPTIMAL"


def _one_line_problem(**kw) -> Problem:
    line = Line("L", run_kw=100, idle_kw=40, standby_kw=5, warmup_min=10, warmup_kwh=6)
    orders = (Order("A", "f", release=0, due=120, operations=(Operation("A", 0, {"L": 60}),)),
              Order("B", "f", release=0, due=600, operations=(Operation("B", 0, {"L": 60}),)))
    return Problem("one", (line,), orders, horizon=600,
                   series=Series(price=(1.0,) * 10, carbon=(0.5,) * 10), **kw)


def test_kpis_by_hand():
    p = _one_line_problem()
    s = Schedule("one", [Assignment("A", 0, "L", 0, 60), Assignment("B", 0, "L", 300, 360)])
    on = compute_kpis(p, s, "always_on")  # on from 0 to makespan 360: 120 min run, 240 min idle
    assert on.energy_kwh["run"] == pytest.approx(200) and on.energy_kwh["idle"] == pytest.approx(160)
    assert on.energy_kwh["warmup"] == pytest.approx(6)
    # idle 40 kW - standby 5 kW -> break-even max(10 min, 6 kWh / 35 kW x 60) = 10.3 min; a 240-min gap is off
    planned = compute_kpis(p, s, "planned")
    assert planned.energy_kwh["idle"] == 0 and planned.energy_kwh["warmup"] == pytest.approx(12)
    assert planned.energy_kwh["standby"] == pytest.approx(5 * (600 - 120) / 60)
    assert on.energy_cost == pytest.approx(on.grid_kwh * 1.0) and on.co2_kg == pytest.approx(on.grid_kwh * 0.5)
    assert on.on_time_rate == 1.0 and on.makespan_min == 360


def test_validator_finds_each_broken_rule():
    p = _one_line_problem(power_cap_kw=50, calendars={"L": ((0, 300),)})
    s = Schedule("one", [Assignment("A", 0, "L", 0, 60), Assignment("B", 0, "L", 30, 90)])
    msgs = " | ".join(violations(p, s))
    assert "overlapping" in msgs and "exceeds the site cap" in msgs
    s = Schedule("one", [Assignment("A", 0, "L", 0, 50), Assignment("B", 0, "L", 400, 460)])
    msgs = " | ".join(violations(replace(p, power_cap_kw=None), s))
    assert "lasts 50 min" in msgs and "outside the line's working windows" in msgs
    s = Schedule("one", [Assignment("A", 0, "L", 0, 60), Assignment("B", 0, "X", 100, 160)])
    assert "not eligible" in " | ".join(violations(p, s))
    assert "not scheduled" in " ".join(violations(p, Schedule("one", [])))


@pytest.fixture(scope="module")
def small_week():
    spec = laptop_week(seed=3, n_orders=40)
    return plant_problem_from_dict(spec)


@pytest.mark.parametrize("rule", RULES[:4])
def test_dispatch_rules_give_valid_plans(small_week, rule):
    assert not violations(small_week, dispatch(small_week, rule))


def test_energy_aware_plan_beats_always_on(small_week):
    cmp = compare(small_week, time_limit=8, workers=2, include_makespan=False)
    base, plan = cmp.runs["edd_always_on"].kpis, cmp.runs["energy_aware"].kpis
    assert plan.on_time_rate >= base.on_time_rate
    assert plan.energy_cost < base.energy_cost and plan.energy_kwh["idle"] < base.energy_kwh["idle"]
    s = cmp.savings("energy_aware")
    assert s["tco2e_per_year"] > 0 and s["grid_mwh_per_year"] > 0


def test_infeasible_problem_is_explained():
    p = _one_line_problem(calendars={"L": ((0, 30), (100, 140))})
    with pytest.raises(InfeasibleError, match="order A step 0 needs 60 min in one piece"):
        solve(p, SolveOptions(time_limit=2, objective="makespan"))


def test_malformed_problem_file_names_the_field(tmp_path):
    spec = laptop_week(seed=3, n_orders=5)
    spec["orders"][2]["quantity"] = "lots"
    spec["lines"][0]["stage"] = "PAINT"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(InputError) as exc:
        read_plant_problem(path)
    text = str(exc.value)
    assert "bad.json" in text and ("orders[2].quantity" in text or "lines[0].stage" in text)


def test_repair_after_breakdown_is_valid(small_week):
    plan = dispatch(small_week, "edd")
    busy = max({a.line for a in plan.assignments}, key=lambda ln: sum(a.line == ln for a in plan.assignments))
    now = sorted(a.start for a in plan.assignments)[len(plan.assignments) // 3]
    r = reschedule(small_week, plan, now, Breakdown(busy, now, now + 240), time_limit=10)
    assert not violations(r.problem, r.schedule)
    assert 0 < r.moved <= r.not_started
    assert not any(a.line == busy and a.start < now + 240 and a.end > now for a in r.schedule.assignments
                   if a.start >= now)


def _price_against_carbon(due: int = 600, price: tuple[float, ...] = (0.2,) * 5 + (1.0,) * 5) -> Problem:
    """One 2-hour order (100 kW) on one line; by default power is cheap when the grid is dirty.

    Hours 0-4 cost 0.2 CNY/kWh at 0.9 kgCO2/kWh, hours 5-9 cost 1.0 CNY/kWh at 0.3 kgCO2/kWh, so
    the cheapest plan and the cleanest plan differ, and both can be on time.
    """
    line = Line("L", run_kw=100)
    order = Order("A", "f", release=0, due=due, operations=(Operation("A", 0, {"L": 120}),))
    return Problem("price-vs-carbon", (line,), (order,), horizon=600,
                   series=Series(price=price, carbon=(0.9,) * 5 + (0.3,) * 5))


def test_carbon_phase_gives_less_co2_than_cost_phase_at_equal_on_time():
    """The second lexicographic phase must follow ``secondary``: carbon and cost give different plans."""
    p = _price_against_carbon()
    by = {}
    for secondary in ("cost", "carbon"):
        s = solve(p, SolveOptions(time_limit=4, workers=1, objective="lexicographic", secondary=secondary))
        assert not violations(p, s)
        by[secondary] = compute_kpis(p, s, "planned")
    assert by["carbon"].on_time_rate == by["cost"].on_time_rate == 1.0
    assert by["carbon"].co2_kg == pytest.approx(200 * 0.3)  # 200 kWh, all in clean hours
    assert by["cost"].energy_cost == pytest.approx(200 * 0.2)  # all in cheap hours
    assert by["carbon"].co2_kg < by["cost"].co2_kg and by["cost"].energy_cost < by["carbon"].energy_cost


def test_weights_change_the_weighted_plan():
    """Weighted objective: which series is weighted, and how much lateness weighs, decide the plan."""
    p = _price_against_carbon()

    def kpis(problem, **weights):
        s = solve(problem, SolveOptions(time_limit=4, workers=1, objective="weighted", weights=weights))
        assert not violations(problem, s)
        return compute_kpis(problem, s, "planned")

    cost, carbon = kpis(p, tardiness=10, cost=1, carbon=0), kpis(p, tardiness=10, cost=0, carbon=1)
    assert carbon.co2_kg < cost.co2_kg and cost.energy_cost < carbon.energy_cost
    # Dear first, cheap from minute 300, due at minute 300: on time means paying the dear price.
    # Weighing lateness lightly (0.1 against cost 1) makes the cheap late plan win; heavily, it does not.
    urgent = _price_against_carbon(due=300, price=(1.0,) * 5 + (0.2,) * 5)
    assert kpis(urgent, tardiness=10, cost=1, carbon=0).on_time_rate == 1.0
    lax = kpis(urgent, tardiness=0.1, cost=1, carbon=0)
    assert lax.on_time_rate == 0.0 and lax.energy_cost < kpis(urgent, tardiness=10, cost=1, carbon=0).energy_cost


def test_shipped_instances_resolve_by_name_or_path(tmp_path):
    """`schedule bench ta01` crashed on a fresh clone: instances now ship and resolve by name."""
    path, fmt = find_instance("ta01")
    assert fmt == "taillard" and path.name == "ta01.txt" and path.is_file()
    assert find_instance("MK03")[1] == "fjs"
    assert find_instance(path) == (path, "taillard")  # a path still works
    assert find_instance(DATA / "tiny.fjs")[1] == "fjs"
    with pytest.raises(InputError, match="ta01-ta40, mk01-mk10"):
        find_instance("ta99")
    with pytest.raises(InputError, match="fjs format, not taillard"):
        find_instance("mk01", "taillard")
    # Every shipped file reads, with the size its published bounds are for.
    sizes = {r["instance"]: (int(r["jobs"]), int(r["machines"]))
             for r in csv.DictReader(open(INSTANCES / "bks.csv", encoding="utf-8"))}
    shipped = shipped_instances()
    assert set(shipped) == set(sizes) and len(shipped) == 50
    for name, (file, f) in shipped.items():
        problem = read_instance(file, f)
        assert (len(problem.orders), len(problem.lines)) == sizes[name], name
    bounds = instance_bounds()
    assert all(b["lower_bound"] <= b["bks"] for b in bounds.values())
    assert bounds["ta01"]["bks"] == 1231 and bounds["mk01"]["bks"] == 40  # Taillard 1993; Brandimarte optimum


def _pv_day(seed: int, varying: bool) -> Problem:
    """One line over one day with rooftop PV around noon (sine, 80 kW peak), carbon flat or varying by hour,
    5-7 orders with random releases and loose due dates (generator assumptions, not data)."""
    import math
    import random

    rng = random.Random(seed)
    line = Line("L", "S", run_kw=100, idle_kw=30, standby_kw=3, warmup_min=15, warmup_kwh=5)
    orders = []
    for i in range(rng.randint(5, 7)):
        dur = rng.randint(30, 120)
        orders.append(Order(f"O{i}", "x", release=rng.randint(0, 600), due=rng.randint(900, 1440),
                            operations=(Operation(f"O{i}", 0, {"L": dur}),)))
    pv = tuple(round(80 * max(0.0, math.sin(math.pi * (h - 6) / 13)), 1) for h in range(24))
    carbon = tuple(round(0.58 + 0.15 * math.cos(math.pi * (h - 3) / 12), 3) if varying else 0.58 for h in range(24))
    return Problem(f"pv{seed}", (line,), tuple(orders), 1440, series=Series(price=(1.0,) * 24, carbon=carbon,
                                                                             pv_kw=pv))


@pytest.mark.parametrize("seed,varying", [(s, v) for s in range(8) for v in (False, True)])
def test_carbon_phase_never_worse_than_its_warm_start_with_pv(seed, varying):
    """Defect guarded: the carbon phase weighed raw intensity while the KPIs net PV, so a carbon-aware plan
    could emit more than the plan it started from. The carbon phase nets PV like the cost phase and keeps its
    warm start when the recomputed carbon would be higher."""
    p = _pv_day(seed, varying)
    warm = dispatch(p, "edd", "planned")
    s = solve(p, SolveOptions(time_limit=3, workers=1, objective="lexicographic", secondary="carbon", hint=warm))
    assert not violations(p, s)
    k, kw = compute_kpis(p, s, "planned"), compute_kpis(p, warm, "planned")
    # nor worse than the conventional plan (EDD, lines always on), which the old carbon phase could be
    assert k.co2_kg <= compute_kpis(p, warm, "always_on").co2_kg
    assert k.weighted_tardiness_min <= kw.weighted_tardiness_min
    if k.weighted_tardiness_min == kw.weighted_tardiness_min:
        assert k.co2_kg <= kw.co2_kg + 1e-9
    assert s.objective["kpi_carbon"] == pytest.approx(k.co2_kg)
    assert k.co2_kg <= s.objective["warm_start_kpi_carbon"] + 1e-9


def test_keep_better_returns_the_warm_start_when_the_plan_is_worse():
    from zerocarbon.solvers.schedule.cpsat import keep_better

    p = _pv_day(0, False)
    # the same order of work, once in the PV hours and once at night
    noon, night = [], []
    t_noon, t_night = 600, 0
    for o in p.orders:
        dur = o.operations[0].options["L"]
        noon.append(Assignment(o.id, 0, "L", t_noon, t_noon + dur))
        night.append(Assignment(o.id, 0, "L", t_night, t_night + dur))
        t_noon, t_night = t_noon + dur, t_night + dur
    good, bad = Schedule(p.name, noon, "planned", "noon"), Schedule(p.name, night, "planned", "cpsat")
    assert compute_kpis(p, good, "planned").co2_kg < compute_kpis(p, bad, "planned").co2_kg
    kept = keep_better(p, bad, [good], "carbon", None)
    assert kept.method == "cpsat; kept warm start" and kept.assignments == noon and kept.objective["kept_warm_start"]
    assert keep_better(p, good, [bad], "carbon", None) is good


def test_annualisation_follows_the_horizon():
    from zerocarbon.services.scheduling import annualisation

    day = _pv_day(0, False)
    assert annualisation(day).factor == 250.0
    assert annualisation(day).text == ("annualised x 250.0 (250 operating days a year / 1 operating days in the "
                                       "1-day horizon)")
    week = replace(day, horizon=7 * 1440)
    assert annualisation(week, 350).factor == pytest.approx(50.0)
    assert annualisation(week).factor == pytest.approx(250 / 7)
    with pytest.raises(ValueError):
        annualisation(day, 0)
    cmp = compare(day, time_limit=2, workers=1, secondary="carbon", include_makespan=False, operating_days=200)
    b, r = cmp.runs["edd_always_on"].kpis, cmp.runs["energy_aware"].kpis
    assert cmp.savings("energy_aware")["tco2e_per_year"] == pytest.approx((b.co2_kg - r.co2_kg) * 200 / 1000)


def test_annualisation_counts_operating_days_of_the_horizon():
    """Defect guarded: a week whose lines work 6 of 7 days was annualised x 250 / 7 (calendar days) instead of
    x 250 / 6 (operating days)."""
    from zerocarbon.services.scheduling import annualisation

    day = _pv_day(0, False)
    six = replace(day, horizon=7 * 1440, calendars={"L": ((0, 6 * 1440),)}, start="2026-08-03T00:00:00+08:00")
    a = annualisation(six)
    assert a.working_days == 6 and a.factor == pytest.approx(250 / 6)
    assert a.text == "annualised x 41.7 (250 operating days a year / 6 operating days in the 7-day horizon)"
    assert a.as_dict()["horizon_operating_days"] == 6
    # Mon-Fri day shifts: five operating days; the weekend has no window
    shifts = tuple((d * 1440 + 480, d * 1440 + 1200) for d in range(5))
    assert annualisation(replace(six, calendars={"L": shifts})).working_days == 5
    # days are midnight to midnight in the start's offset: a window 22:00-02:00 touches two days
    assert annualisation(replace(six, calendars={"L": ((1320, 1560),)})).working_days == 2
    # a horizon from 16:00 covers a third of its first day and two thirds of its last
    late = replace(day, start="2023-08-02T16:00:00+00:00", calendars={"L": ((0, 1440),)})
    assert annualisation(late).working_days == pytest.approx(1.0)
    assert annualisation(replace(late, calendars={"L": ((0, 480),)})).working_days == pytest.approx(1 / 3, abs=1e-4)
    # a line without a calendar is always available: every day of the horizon counts
    other = replace(six.lines[0], id="M")
    assert annualisation(replace(six, lines=(six.lines[0], other))).working_days == 7
