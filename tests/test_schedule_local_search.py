"""Job-shop local search: tabu search on the N5 neighbourhood, CP-SAT neighbourhood search, the shop engine."""
import random

import pytest

from zerocarbon.core.schedule.check import violations
from zerocarbon.core.schedule.model import Line, Operation, Order, Problem
from zerocarbon.services.scheduling import solve_shop
from zerocarbon.solvers.schedule import tabu
from zerocarbon.solvers.schedule.dispatch import RULES, dispatch
from zerocarbon.solvers.schedule.lns import lns, neighbourhood, shop_builder, shop_model
from zerocarbon.solvers.schedule.shop import solve_shop_engine, trivial_lower_bound


def random_jsp(seed: int, jobs: int, machines: int, release: bool = False, lags: bool = False) -> Problem:
    """A classical job shop: every job visits every machine once in a random order."""
    rng = random.Random(seed)
    orders = []
    for j in range(jobs):
        route = list(range(machines))
        rng.shuffle(route)
        ops = tuple(Operation(f"J{j}", k, {f"M{m}": rng.randint(1, 20)},
                              min_lag_after_previous=rng.randint(0, 5) if (lags and k) else 0)
                    for k, m in enumerate(route))
        orders.append(Order(f"J{j}", release=rng.randint(0, 30) if release else 0, operations=ops))
    horizon = sum(op.options[next(iter(op.options))] + op.min_lag_after_previous for o in orders
                  for op in o.operations) + 30
    return Problem(f"jsp{seed}", tuple(Line(f"M{m}") for m in range(machines)), tuple(orders), horizon)


def random_fjsp(seed: int, jobs: int, machines: int, steps: int) -> Problem:
    rng = random.Random(seed)
    orders = []
    for j in range(jobs):
        ops = []
        for k in range(steps):
            eligible = rng.sample(range(machines), rng.randint(1, min(3, machines)))
            ops.append(Operation(f"J{j}", k, {f"M{m}": rng.randint(1, 15) for m in eligible}))
        orders.append(Order(f"J{j}", operations=tuple(ops)))
    horizon = sum(max(op.options.values()) for o in orders for op in o.operations)
    return Problem(f"fjsp{seed}", tuple(Line(f"M{m}") for m in range(machines)), tuple(orders), horizon)


CASES = [(0, 6, 4, False, False), (1, 8, 5, False, False), (2, 10, 5, True, False), (3, 7, 6, True, True),
         (4, 5, 5, False, True)]


@pytest.mark.parametrize("seed,jobs,machines,release,lags", CASES)
def test_tabu_is_valid_and_never_worse_than_its_start(seed, jobs, machines, release, lags):
    p = random_jsp(seed, jobs, machines, release, lags)
    for rule in RULES[:4]:
        start = dispatch(p, rule)
        assert not violations(p, start)
        got = tabu.tabu_search(p, start, time_limit=1e9, seed=seed, max_iterations=300)
        assert not violations(p, got), rule
        assert got.makespan <= start.makespan
        assert got.makespan >= trivial_lower_bound(p)


def test_tabu_improves_a_poor_start():
    """From the jobs run one after another (a valid but poor plan), the search must shorten the plan."""
    p = random_jsp(7, 8, 5)
    g = tabu.Graph.of(p)
    seq = [[i for i in range(len(g.keys)) if g.machine[i] == m] for m in range(len(g.machine_ids))]
    start = tabu.to_schedule(g, tabu.evaluate(g, seq), p.name, "job by job")
    assert not violations(p, start)
    got = tabu.tabu_search(p, start, time_limit=1e9, max_iterations=500)
    assert not violations(p, got)
    assert got.makespan < start.makespan


def _longest_path_by_relaxation(g: tabu.Graph, seq) -> tuple[list[int], int]:
    """Heads by repeated relaxation of every arc (independent of the topological pass under test)."""
    n = len(g.keys)
    head = list(g.release)
    arcs = [(g.jp[i], i, g.dur[g.jp[i]] + g.lag[i]) for i in range(n) if g.jp[i] >= 0]
    arcs += [(a, b, g.dur[a]) for s in seq for a, b in zip(s, s[1:])]
    for _ in range(n + 1):
        changed = False
        for a, b, w in arcs:
            if head[a] + w > head[b]:
                head[b], changed = head[a] + w, True
        if not changed:
            break
    return head, max(head[i] + g.dur[i] for i in range(n))


@pytest.mark.parametrize("seed,jobs,machines,release,lags", CASES)
def test_n5_move_evaluation_matches_full_recomputation(seed, jobs, machines, release, lags):
    p = random_jsp(seed, jobs, machines, release, lags)
    g = tabu.Graph.of(p)
    rng = random.Random(seed)
    st = tabu.evaluate(g, tabu.sequences_of(g, dispatch(p, "spt")))
    checked = 0
    for _ in range(40):
        head, mk = _longest_path_by_relaxation(g, st.seq)
        assert st.head == head and st.makespan == mk
        moves = tabu.n5_moves(g, st)
        if not moves:
            break
        for u, v in moves:
            after = tabu.evaluate(g, tabu.swap(st, g, u, v))
            assert after is not None  # swapping adjacent critical operations never creates a cycle
            # the estimate is exactly the longest path through u or v after the move ...
            through = max(after.head[x] + g.dur[x] + after.tail[x] for x in (u, v))
            assert tabu.estimate(g, st, u, v) == through
            # ... hence never above the new makespan
            assert tabu.estimate(g, st, u, v) <= after.makespan
            checked += 1
        st = tabu.evaluate(g, tabu.swap(st, g, *rng.choice(moves)))
    assert checked > 10


def test_critical_path_is_a_longest_path():
    p = random_jsp(5, 8, 4)
    g = tabu.Graph.of(p)
    st = tabu.evaluate(g, tabu.sequences_of(g, dispatch(p, "mwkr")))
    path = tabu.critical_path(g, st)
    assert sum(g.dur[i] for i in path) + sum(g.lag[b] for a, b in zip(path, path[1:]) if g.jp[b] == a) \
        + g.release[path[0]] == st.makespan
    assert st.head[path[0]] == g.release[path[0]]


def test_lns_keeps_validity_and_never_increases_the_makespan():
    p = random_fjsp(11, 8, 4, 4)
    best = dispatch(p, "spt")
    build = shop_builder(p)
    rng_size = 0.3
    for step in range(8):
        got, steps = lns(best, build, lambda s: s.makespan, time_limit=1e9,
                         neighbourhood_of=lambda inc, size, rng: neighbourhood(p, inc, size, rng),
                         valid=lambda s: not violations(p, s), workers=1, seed=step, sub_limit=5.0,
                         size=rng_size, max_steps=1)
        assert steps == 1
        assert not violations(p, got)
        assert got.makespan <= best.makespan
        best = got


def test_lns_sub_model_keeps_the_fixed_part():
    """Operations outside the neighbourhood keep their line and their order on it."""
    p = random_fjsp(12, 6, 3, 3)
    inc = dispatch(p, "fifo")
    free = {(a.order, a.index) for a in inc.assignments if a.line == "M0"}
    model, extract = shop_builder(p)(free, inc)
    from ortools.sat.python import cp_model
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    got = extract(solver)
    assert not violations(p, got)
    before, after = inc.by_line(), got.by_line()
    for line in ("M1", "M2"):
        kept = [(a.order, a.index) for a in before.get(line, []) if (a.order, a.index) not in free]
        now = [(a.order, a.index) for a in after.get(line, []) if (a.order, a.index) not in free]
        assert kept == now


def test_shop_model_hint_is_a_solution_at_a_tight_horizon():
    """With the horizon cut to the hinted plan's makespan the model still has that plan: the solver answers."""
    p = random_fjsp(13, 6, 3, 4)
    inc = dispatch(p, "mwkr")
    sm = shop_model(p, inc.makespan, inc)
    from ortools.sat.python import cp_model
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 2
    assert solver.solve(sm.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert solver.objective_value <= inc.makespan


@pytest.mark.parametrize("budget", [0.0, 0.3, 1.5])
def test_solve_shop_on_a_flexible_shop_with_a_short_budget_returns_a_valid_plan(budget):
    p = random_fjsp(14, 12, 5, 5)
    s = solve_shop(p, time_limit=budget, workers=1)
    assert not violations(p, s)
    assert s.makespan <= min(dispatch(p, r).makespan for r in RULES[:4])
    assert s.lower_bound <= s.makespan
    assert s.method.startswith("dispatch-")


def test_engine_proves_a_small_job_shop_optimal():
    p = random_jsp(21, 4, 3)
    s = solve_shop_engine(p, time_limit=4, workers=1)
    assert not violations(p, s)
    assert s.objective["status"] == "OPTIMAL" and s.lower_bound == s.makespan
