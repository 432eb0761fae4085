"""Makespan engine for the job shop and the flexible job shop: dispatch, tabu search, CP-SAT, LNS.

Phases share one time budget and each starts from the best schedule so far, so the answer only improves:
1. the best dispatching rule (always valid, the answer of last resort);
2. classical job shop only: tabu search on the N5 neighbourhood (:mod:`.tabu`), ``tabu_share`` of the budget;
3. CP-SAT on the full model with the incumbent as a complete hint and its makespan as the horizon, so
   the model always has that solution (domains are never cut below a hinted schedule), ``full_share``;
   its bound is the reported lower bound;
4. the rest of the budget in ``rounds`` turns: CP-SAT large-neighbourhood search (:mod:`.lns`) around the
   incumbent (60 % of a turn), then, for the classical job shop, tabu search from its result (40 %): the
   tabu search settles in a valley quickly, and the neighbourhood search moves it to another.
The flexible job shop skips the tabu phases (its neighbourhood search frees line choices as well as orders).
Problems with calendars, changeovers, a power cap or energy use go to :func:`cpsat.solve` instead, with the
dispatch plan as hint and fallback.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from zerocarbon.core.schedule.check import violations
from zerocarbon.core.schedule.model import Problem, Schedule
from zerocarbon.solvers.schedule.dispatch import best_dispatch
from zerocarbon.solvers.schedule.lns import lns, neighbourhood, shop_builder, shop_model
from zerocarbon.solvers.schedule.tabu import is_classical, tabu_search


@dataclass
class EngineOptions:
    tabu_share: float = 0.15
    full_share: float = 0.45
    lns_sub_limit: float = 2.0
    lns_size: float = 0.2
    full_hint: bool = True  # hint the full model with the incumbent (its makespan bounds the horizon either way)
    rounds: int = 2  # > 1: LNS and tabu search take turns on the rest of the budget (classical job shop)


def is_shop(problem: Problem) -> bool:
    """A pure (flexible) job shop: makespan only, no calendars, changeovers, power cap or energy terms."""
    return (not problem.calendars and problem.power_cap_kw is None and not problem.has_energy
            and not any(ln.changeover for ln in problem.lines))


def trivial_lower_bound(problem: Problem) -> int:
    """Longest order (shortest options and lags) and, per line, the work only it can do."""
    lb = 0
    load: dict[str, int] = {}
    for o in problem.orders:
        t = o.release
        for op in o.operations:
            t += min(op.options.values()) + op.min_lag_after_previous
            if len(op.options) == 1:
                ln, d = next(iter(op.options.items()))
                load[ln] = load.get(ln, 0) + d
        lb = max(lb, t)
    return max([lb] + list(load.values()))


def solve_shop_engine(problem: Problem, time_limit: float = 60.0, workers: int = 2, seed: int = 0,
                      options: EngineOptions | None = None) -> Schedule:
    opt = options or EngineOptions()
    t0 = time.perf_counter()
    if not is_shop(problem):
        from zerocarbon.solvers.schedule.cpsat import SolveOptions, solve
        upper = best_dispatch(problem, policy="always_on")
        s = solve(problem, SolveOptions(time_limit=time_limit, workers=workers, seed=seed, objective="makespan",
                                        hint=upper, fallback=upper))
        s.problem = problem.name
        return s

    def left() -> float:
        return time_limit - (time.perf_counter() - t0)

    def ok(s: Schedule) -> bool:
        return not violations(problem, s)

    best = best_dispatch(problem, policy="always_on")
    trail = [f"{best.method} {best.makespan}"]
    lower = trivial_lower_bound(problem)
    status = "FEASIBLE"

    if is_classical(problem) and best.makespan > lower and left() > 0:
        cand = tabu_search(problem, best, opt.tabu_share * time_limit, seed=seed, lower_bound=lower)
        if cand.makespan < best.makespan and ok(cand):
            best = cand
            trail.append(f"{cand.method} {best.makespan}")

    if best.makespan > lower and left() > 0.5:
        sm = shop_model(problem, best.makespan, best if opt.full_hint else None)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.5, min(left(), opt.full_share * time_limit))
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = seed
        st = solver.solve(sm.model)
        if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            lower = max(lower, int(round(solver.best_objective_bound)))
            cand = sm.extract(solver, problem.name, "cpsat")
            if cand.makespan < best.makespan and ok(cand):
                best = cand
                trail.append(f"cpsat {best.makespan}")
            if st == cp_model.OPTIMAL:
                lower = max(lower, best.makespan)
        elif st == cp_model.INFEASIBLE:
            # the hinted schedule fits the horizon, so it is the optimum: nothing shorter exists
            lower = max(lower, best.makespan)

    size = opt.lns_size
    rounds = opt.rounds if is_classical(problem) else 1
    for r in range(rounds):
        if best.makespan <= lower or left() <= 0.5:
            break
        share = left() / (rounds - r)
        lns_time = share if rounds == 1 else share * 0.6
        cand, steps = lns(best, shop_builder(problem), lambda s: s.makespan, lns_time,
                          lambda inc, size, rng: neighbourhood(problem, inc, size, rng), ok,
                          workers=workers, seed=seed + r, sub_limit=opt.lns_sub_limit, size=size,
                          stop_at=lower)
        if cand.makespan < best.makespan:
            trail.append(f"cpsat-lns ({steps} steps) {cand.makespan}")
        best = cand
        if rounds > 1 and best.makespan > lower and left() > 0.5:
            cand = tabu_search(problem, best, min(left(), share * 0.4), seed=seed + r + 1, lower_bound=lower)
            if cand.makespan < best.makespan and ok(cand):
                best = cand
                trail.append(f"{cand.method} {best.makespan}")
    if best.makespan <= lower:
        status = "OPTIMAL"
    out = Schedule(problem.name, list(best.assignments), policy="always_on", method=" -> ".join(trail),
                   lower_bound=float(lower),
                   objective={"value": float(best.makespan), "bound": float(lower), "status": status,
                              "seconds": time.perf_counter() - t0})
    return out
