"""Large-neighbourhood search with CP-SAT around an incumbent schedule.

Each step frees a part of the incumbent (the operations starting in a time window, the operations of a few
machines, or of a few orders), keeps the rest in place — its line choice and its order on every line — and
re-optimises the freed part with a short CP-SAT run, the incumbent given as a complete hint and its score
as a bound, so the sub-model always has a solution and never loses the incumbent. A better (or equal but
different, to cross plateaus) answer becomes the incumbent. The neighbourhood size adapts: it grows when
sub-problems are solved to optimality and shrinks when they run out of time.

:func:`lns` is generic: it takes a ``build(free, incumbent)`` function returning the CP-SAT model of the
sub-problem and a way to read a schedule from the solver, and a ``score`` to minimise.
:func:`shop_model` is the makespan model of the (flexible) job shop it is used with here.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable

from ortools.sat.python import cp_model

from zerocarbon.core.schedule.model import Assignment, Problem, Schedule

Build = Callable[[set, Schedule], tuple[cp_model.CpModel, Callable[[cp_model.CpSolver], Schedule]]]


@dataclass
class ShopModel:
    model: cp_model.CpModel
    start: dict
    end: dict
    presence: dict  # (op key, line) -> literal
    makespan: cp_model.IntVar
    flexible: set  # op keys with more than one eligible line (their presence literals are variables)

    def extract(self, solver: cp_model.CpSolver, name: str, method: str) -> Schedule:
        out = [Assignment(k[0], k[1], ln, solver.value(self.start[k]), solver.value(self.end[k]))
               for (k, ln), lit in self.presence.items() if solver.boolean_value(lit)]
        return Schedule(name, out, method=method)


def shop_model(problem: Problem, horizon: int, hint: Schedule | None = None) -> ShopModel:
    """Makespan model: an optional interval per eligible line, exactly one chosen, no overlap per line,
    order steps with their transfer lags, release dates; ``horizon`` bounds every end."""
    m = cp_model.CpModel()
    start, end, presence, per_line, flexible = {}, {}, {}, {}, set()
    for o in problem.orders:
        prev = None
        for n, op in enumerate(o.operations):
            lo = o.release if n == 0 else 0
            s = m.new_int_var(lo, horizon, "")
            e = m.new_int_var(lo, horizon, "")
            start[op.key], end[op.key] = s, e
            lits = []
            for ln, d in op.options.items():
                lit = m.new_constant(1) if len(op.options) == 1 else m.new_bool_var("")
                per_line.setdefault(ln, []).append(m.new_optional_interval_var(s, d, e, lit, ""))
                presence[(op.key, ln)] = lit
                lits.append(lit)
            if len(lits) > 1:
                m.add_exactly_one(lits)
                flexible.add(op.key)
            if prev is not None:
                m.add(s >= end[prev] + op.min_lag_after_previous)
            prev = op.key
    for ivs in per_line.values():
        m.add_no_overlap(ivs)
    mk = m.new_int_var(0, horizon, "makespan")
    m.add_max_equality(mk, [end[o.operations[-1].key] for o in problem.orders if o.operations])
    m.minimize(mk)
    sm = ShopModel(m, start, end, presence, mk, flexible)
    if hint is not None:
        add_hint(sm, hint)
    return sm


def add_hint(sm: ShopModel, schedule: Schedule) -> None:
    chosen = {(a.order, a.index): a for a in schedule.assignments}
    for k, a in chosen.items():
        sm.model.add_hint(sm.start[k], a.start)
        sm.model.add_hint(sm.end[k], a.end)
    for (k, ln), lit in sm.presence.items():
        if k in sm.flexible and k in chosen:
            sm.model.add_hint(lit, 1 if chosen[k].line == ln else 0)
    sm.model.add_hint(sm.makespan, schedule.makespan)


def shop_builder(problem: Problem) -> Build:
    """``build`` for :func:`lns`: operations outside ``free`` keep their line and their order on it."""
    def build(free: set, incumbent: Schedule):
        sm = shop_model(problem, incumbent.makespan, incumbent)
        for line, items in incumbent.by_line().items():
            fixed = [a for a in items if (a.order, a.index) not in free]
            for a in fixed:
                if (a.order, a.index) in sm.flexible:
                    sm.model.add(sm.presence[((a.order, a.index), line)] == 1)
            for a, b in zip(fixed, fixed[1:]):
                sm.model.add(sm.start[(b.order, b.index)] >= sm.end[(a.order, a.index)])
        return sm.model, lambda solver: sm.extract(solver, problem.name, "cpsat-lns")
    return build


def neighbourhood(problem: Problem, incumbent: Schedule, size: float, rng: random.Random) -> set:
    """A random share ``size`` of the operations, chosen as a time window, a set of lines or a set of orders."""
    items = sorted(incumbent.assignments, key=lambda a: (a.start, a.end))
    n = len(items)
    want = max(2, int(size * n))
    kind = rng.random()
    if kind < 0.5:  # time window: consecutive operations by start time
        i = rng.randrange(0, max(1, n - want + 1))
        return {(a.order, a.index) for a in items[i:i + want]}
    if kind < 0.75:  # whole lines, until the share is reached
        lines = list({a.line for a in items})
        rng.shuffle(lines)
        free: set = set()
        per = incumbent.by_line()
        for ln in lines:
            if len(free) >= want:
                break
            free |= {(a.order, a.index) for a in per[ln]}
        return free
    orders = list({a.order for a in items})  # whole orders
    rng.shuffle(orders)
    by_order: dict[str, list] = {}
    for a in items:
        by_order.setdefault(a.order, []).append((a.order, a.index))
    free = set()
    for o in orders:
        if len(free) >= want:
            break
        free |= set(by_order[o])
    return free


def lns(incumbent: Schedule, build: Build, score: Callable[[Schedule], float], time_limit: float,
        neighbourhood_of: Callable[[Schedule, float, random.Random], set], valid: Callable[[Schedule], bool],
        workers: int = 2, seed: int = 0, sub_limit: float = 2.0, size: float = 0.2,
        stop_at: float | None = None, max_steps: int | None = None) -> tuple[Schedule, int]:
    """Improve ``incumbent`` for ``time_limit`` seconds; returns the best schedule and the number of steps.

    The returned score is never above the incumbent's: only valid answers that are at least as good are taken.
    """
    t0 = time.perf_counter()
    rng = random.Random(seed)
    best, best_score = incumbent, score(incumbent)
    steps = 0
    while True:
        left = time_limit - (time.perf_counter() - t0)
        if left < 0.2 or (stop_at is not None and best_score <= stop_at) or (max_steps is not None
                                                                              and steps >= max_steps):
            break
        steps += 1
        free = neighbourhood_of(best, size, rng)
        model, extract = build(free, best)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = min(sub_limit, left)
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = rng.randrange(1 << 30)
        status = solver.solve(model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            cand = extract(solver)
            sc = score(cand)
            if sc <= best_score and valid(cand):
                best, best_score = cand, sc
        # adapt: solved to optimality -> larger neighbourhoods; timed out -> smaller
        size = min(0.8, size * 1.1) if status == cp_model.OPTIMAL else max(0.05, size * 0.85)
    return best, steps
