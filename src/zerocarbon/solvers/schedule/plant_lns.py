"""Large-neighbourhood search for the energy-aware plant plan (on time first, then energy cost or carbon).

Each step frees the operations that start in a time window on a few lines of the incumbent and keeps the
rest in place. The freed part is a small plant problem of its own, built with the interval model of
``cpsat`` (``build_variables``/``add_constraints``): on each freed line it starts after the last kept
operation before the window (that line's end and family carried in, as the rolling horizon does) and ends
before the first kept operation after it (its changeover included); the kept operations of the same
orders bound each freed step through the precedence and transfer lags, and all kept operations count
under the site power cap. The sub-model minimises weighted tardiness first, then the energy terms of
``cpsat.energy_terms`` extended across the window's edges (the idle gap or warm-up to and from the kept
neighbours). A candidate replaces the incumbent only if it passes the validator and its recomputed KPIs
(weighted tardiness, then energy cost or kgCO2 with lines planned on/off) are no worse.

The neighbourhood loop, its size adaptation and the acceptance rule are ``lns.lns``.

:func:`solve_energy_aware` is the whole search for a plant plan: dispatching plans that keep lines out of
the dearest slots of the objective's series (``dispatch.energy_dispatch_search``), the CP-SAT interval model
(in rolling chunks for a large week), the best of those and of the plain dispatching plans by the recomputed
KPIs, then this neighbourhood search for the time left.
"""
from __future__ import annotations

import random
from dataclasses import replace

from ortools.sat.python import cp_model

from zerocarbon.core.schedule.check import violations
from zerocarbon.core.schedule.kpi import compute_kpis
from zerocarbon.core.schedule.model import Assignment, Order, Problem, Schedule
from zerocarbon.solvers.schedule import lns as lns_mod
from zerocarbon.solvers.schedule.cpsat import (SCALE, SolveOptions, _effective, _hint, _tardiness_expr,
                                               add_constraints, build_variables, solve, start_tables,
                                               weighted_tardiness)
from zerocarbon.solvers.schedule.dispatch import RULES, dispatch, energy_dispatch_search

TARDY_WEIGHT = 1e9  # score = weighted tardiness x this + KPI: tardiness strictly first


def score(problem: Problem, schedule: Schedule, secondary: str) -> float:
    """Weighted tardiness first, then the recomputed energy cost or kgCO2 (lines planned on/off)."""
    k = compute_kpis(problem, schedule, "planned")
    value = k.energy_cost if secondary == "cost" else k.co2_kg
    return weighted_tardiness(problem, schedule) * TARDY_WEIGHT + value


def window_neighbourhood(problem: Problem):
    """``neighbourhood_of`` for ``lns.lns``: the operations starting in a random time window, on all lines
    (half the time) or on a random subset of at least two lines."""
    line_ids = [ln.id for ln in problem.lines]

    def pick(incumbent: Schedule, size: float, rng: random.Random) -> set:
        lines = set(line_ids)
        if rng.random() < 0.5 and len(line_ids) > 2:
            lines = set(rng.sample(line_ids, rng.randint(2, len(line_ids) - 1)))
        items = sorted((a for a in incumbent.assignments if a.line in lines), key=lambda a: (a.start, a.end))
        n = len(items)
        want = max(2, min(n, int(size * len(incumbent.assignments))))
        i = rng.randrange(0, max(1, n - want + 1))
        return {(a.order, a.index) for a in items[i:i + want]}
    return pick


def builder(problem: Problem, secondary: str):
    """``build(free, incumbent)`` for ``lns.lns``."""
    ops = {op.key: op for op in problem.operations}
    family = {o.id: o.family for o in problem.orders}
    orders = {o.id: o for o in problem.orders}
    series = secondary if secondary in ("cost", "carbon") else "cost"

    def build(free: set, incumbent: Schedule):
        per_line = incumbent.by_line()
        # On each line the freed operations are made one contiguous run of its sequence.
        free = set(free)
        free_lines = {a.line for a in incumbent.assignments if (a.order, a.index) in free}
        before, after = {}, {}  # line -> kept neighbour Assignment before/after the freed run
        for ln in free_lines:
            seq = per_line[ln]
            idx = [i for i, a in enumerate(seq) if (a.order, a.index) in free]
            lo, hi = min(idx), max(idx)
            free |= {(a.order, a.index) for a in seq[lo:hi + 1]}
            before[ln] = seq[lo - 1] if lo > 0 else None
            after[ln] = seq[hi + 1] if hi + 1 < len(seq) else None
        placed = {(a.order, a.index): a for a in incumbent.assignments}
        kept = [a for a in incumbent.assignments if (a.order, a.index) not in free]
        # A freed step keeps the lines it could use among the freed lines.
        sub_orders, deadline = [], {}
        for oid in sorted({k[0] for k in free}):
            o = orders[oid]
            steps = [op for op in o.operations if op.key in free]
            release = o.release
            first = o.operations.index(steps[0])
            if first > 0:
                prev = placed[o.operations[first - 1].key]
                release = max(release, prev.end + steps[0].min_lag_after_previous)
            last = o.operations.index(steps[-1])
            if last + 1 < len(o.operations):
                nxt = o.operations[last + 1]
                deadline[steps[-1].key] = placed[nxt.key].start - nxt.min_lag_after_previous
            new_steps = tuple(replace(op, options={ln: d for ln, d in op.options.items() if ln in free_lines})
                              for op in steps)
            due = o.due if last == len(o.operations) - 1 else None
            sub_orders.append(Order(o.id, o.family, o.quantity, release, due, o.weight, new_steps))
        sub = replace(problem, name=f"{problem.name}#lns", orders=tuple(sub_orders))
        lo_t = min([before[ln].end for ln in free_lines if before[ln]] + [placed[k].start for k in free])
        hi_t = max([after[ln].start for ln in free_lines if after[ln]] + [placed[k].end for k in free])
        background = tuple((a.start, a.end, ops[(a.order, a.index)].peak_kw(problem.line(a.line)))
                           for a in kept if a.end > lo_t and a.start < hi_t)
        opt = SolveOptions(objective="lexicographic", secondary=series,
                           line_available={ln: before[ln].end for ln in free_lines if before[ln]},
                           initial_family={ln: family[before[ln].order] for ln in free_lines if before[ln]},
                           background_load=background)
        m = cp_model.CpModel()
        v = build_variables(m, sub, opt)
        add_constraints(m, sub, v, opt)
        for k, t in deadline.items():
            m.add(v.end[k] <= t)
        for ln in free_lines:
            nb = after[ln]
            if nb is None:
                continue
            line = problem.line(ln)
            for (k, l2), lit in v.presence.items():
                if l2 != ln:
                    continue
                co = line.changeover_min(family[k[0]], family[nb.order])
                last = v.arc_lit.get((k, None, ln))
                m.add(v.end[k] + co <= nb.start).only_enforce_if(last if last is not None else lit)
        terms = _terms(m, sub, v, series, before, after, family)
        tard = _tardiness_expr(sub, v) if v.tardiness else 0
        cap = sum(max(1, int(round(orders[o.id].weight))) * max(0, placed[o.operations[-1].key].end - o.due)
                  for o in sub_orders if o.due is not None)
        if v.tardiness:
            m.add(tard <= cap)
        m.minimize(tard * 1000 * SCALE + sum(terms))
        _hint(m, sub, v, Schedule(sub.name, [placed[k] for k in free]), opt)
        _complete_hint(m)

        def extract(solver: cp_model.CpSolver) -> Schedule:
            new = [Assignment(k[0], k[1], ln, solver.value(v.start[k]), solver.value(v.end[k]))
                   for (k, ln), lit in v.presence.items() if solver.boolean_value(lit)]
            return Schedule(problem.name, kept + new, policy="planned", method=incumbent.method,
                            objective=dict(incumbent.objective))
        return m, extract
    return build


def _terms(m, sub: Problem, v, series: str, before: dict, after: dict, family: dict) -> list:
    """``cpsat.energy_terms`` with the window's edges: the gap from the kept operation before the run and to
    the kept operation after it costs idle power or one warm-up, whichever is less (the KPI's turn-off rule)."""
    values = _effective(sub, series)
    mean = sum(values) / len(values)
    step = sub.series.step_min
    slots = sub.horizon // step + 1
    ops = {op.key: op for op in sub.operations}
    terms = []
    for (k, ln), lit in v.presence.items():
        line = sub.line(ln)
        if not (line.run_kw or ops[k].power_kw.get(ln)):
            continue
        table = [int(round(SCALE * x)) for x in start_tables(sub, values, ops[k], line)]
        slot = v.slot.get(k)
        if slot is None:
            slot = m.new_int_var(0, slots - 1, "")
            m.add_division_equality(slot, v.start[k], step)
        c = m.new_int_var(0, max(table), "")
        m.add_element(slot, table, c)
        ce = m.new_int_var(0, max(table), "")
        m.add(ce >= c).only_enforce_if(lit)
        terms.append(ce)

    def gap_cost(gap, lit, line):
        warm = int(round(SCALE * line.warmup_kwh * mean))
        per_min = SCALE * (line.idle_kw - line.standby_kw) * mean / 60.0
        off = m.new_bool_var("")
        m.add_implication(off, lit)
        m.add(gap >= line.warmup_min).only_enforce_if(off)
        cost = m.new_int_var(0, int(per_min * sub.horizon) + 1, "")
        m.add(1000 * cost >= int(round(per_min * 1000)) * gap).only_enforce_if([lit, ~off])
        return [cost, warm * off]

    for line_id, arcs in v.arcs.items():
        line = sub.line(line_id)
        warm = int(round(SCALE * line.warmup_kwh * mean))
        prev = before.get(line_id)
        for (i, j, lit, co, ki, kj) in arcs:
            box = v.start[kj] - v.setup[(kj, line_id)]
            if ki is None:
                terms += gap_cost(box - prev.end, lit, line) if prev is not None else [warm * lit]
            else:
                terms += gap_cost(box - v.end[ki], lit, line)
        nxt = after.get(line_id)
        if nxt is not None:
            for (kf, kt, ln), lit in v.arc_lit.items():
                if ln == line_id and kf is not None and kt is None:  # the line's last freed operation
                    co = line.changeover_min(family[kf[0]], family[nxt.order])
                    terms += gap_cost(nxt.start - co - v.end[kf], lit, line)
            if prev is not None and line_id in v.empty:  # nothing left in the window: one gap, kept to kept
                co = line.changeover_min(family[prev.order], family[nxt.order])
                gap = nxt.start - co - prev.end
                per_min = (line.idle_kw - line.standby_kw) * mean / 60.0
                const = min(per_min * gap, line.warmup_kwh * mean) if gap >= line.warmup_min else per_min * gap
                terms.append(int(round(SCALE * max(0.0, const))) * v.empty[line_id])
    return terms


def _complete_hint(m: cp_model.CpModel, seconds: float = 1.0) -> None:
    """Replace the hint on the decisions by a hint on every variable (auxiliary ones included): the model
    solved with the hinted variables fixed. A partial hint can leave CP-SAT without any solution in a short
    run; a complete one is its first solution."""
    fixed = m.clone()
    hint = fixed.proto.solution_hint
    for index, value in zip(hint.vars, hint.values):
        fixed.add(fixed.get_int_var_from_proto_index(index) == value)
    fixed.clear_objective()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 1
    if solver.solve(fixed) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return
    values = solver.response_proto.solution
    m.clear_hints()
    for index in range(len(m.proto.variables)):
        m.add_hint(m.get_int_var_from_proto_index(index), values[index])


def improve(problem: Problem, incumbent: Schedule, secondary: str, time_limit: float, workers: int = 2,
            seed: int = 0, sub_limit: float = 3.0, size: float = 0.04) -> Schedule:
    """The incumbent improved for ``time_limit`` seconds; never invalid, never worse by :func:`score`."""
    if not violations(problem, incumbent) and time_limit >= 0.5 and len(incumbent.assignments) > 1:
        best, steps = lns_mod.lns(incumbent, builder(problem, secondary), lambda s: score(problem, s, secondary),
                                  time_limit, window_neighbourhood(problem),
                                  lambda s: not violations(problem, s), workers=workers, seed=seed,
                                  sub_limit=sub_limit, size=size)
    else:
        best, steps = incumbent, 0
    if best is not incumbent:
        best.method = f"{incumbent.method}; plant LNS ({steps} steps)"
        best.objective = dict(incumbent.objective, lns_steps=steps)
    return best


SEARCH_SHARE = 0.5  # of the time limit: dispatching with dear slots skipped
CPSAT_SHARE = 0.25  # of the time limit: the CP-SAT interval model in rolling chunks; LNS gets the rest
CPSAT_WHOLE_SHARE = 0.7  # of the time limit, first, when CP-SAT takes the whole problem in one model


def solve_energy_aware(problem: Problem, opt: SolveOptions, chunk: int = 30) -> Schedule:
    """On time first, then ``opt.secondary`` (cost or carbon) in about ``opt.time_limit`` seconds: the best,
    by weighted tardiness then the recomputed KPI (lines planned on/off), of the dear-slot dispatching
    search, the CP-SAT plan and the plain dispatching plans (EDD with lines switched off past break-even
    among them), improved by the neighbourhood search for the time left unless CP-SAT proved its plan of the
    whole problem optimal and that plan is the best. A problem of at most ``chunk`` orders is one CP-SAT model,
    solved first with 70 % of the time (what it leaves goes to the rest); a larger one is solved in rolling
    chunks with a quarter, after the dispatching search's half, when that quarter gives each chunk at least
    1 s (else the search takes it). ``objective["candidates"]`` holds every
    candidate's score; ``objective["status"]`` is the CP-SAT status."""
    import time

    from zerocarbon.solvers.schedule.rolling import solve_rolling

    t0 = time.perf_counter()
    secondary = opt.secondary
    limit = opt.time_limit
    single = len(problem.orders) <= chunk
    # Rolling CP-SAT gives each chunk at least 1 s: below that share it would overrun the limit, so it is left
    # out and the dispatching search takes its time.
    rolling = not single and CPSAT_SHARE * limit >= -(-len(problem.orders) // chunk)

    def value(s: Schedule) -> float:
        return score(problem, s, secondary)

    def run_cpsat(seconds: float) -> Schedule | None:
        sub = replace(opt, time_limit=max(1.0, seconds))
        try:
            return solve(problem, sub) if single else solve_rolling(problem, sub, chunk=chunk)
        except RuntimeError:
            return None
    cpsat = run_cpsat(CPSAT_WHOLE_SHARE * limit) if single else None
    candidates: list[Schedule] = []
    for rule in RULES[:4]:
        try:
            candidates.append(dispatch(problem, rule, "planned"))
        except RuntimeError:
            pass
    series = problem.series.price if secondary == "cost" else problem.series.carbon
    if series:
        left = limit - (time.perf_counter() - t0)
        share = 0.5 * left if single else (SEARCH_SHARE if rolling else SEARCH_SHARE + CPSAT_SHARE) * limit
        found = energy_dispatch_search(problem, _effective(problem, secondary), value, min(share, left))
        if found is not None:
            candidates.append(found)
    if rolling:
        left = limit - (time.perf_counter() - t0)
        cpsat = run_cpsat(CPSAT_SHARE / (1 - SEARCH_SHARE) * left)
    if cpsat is not None:
        candidates.insert(0, cpsat)  # first among equals
    scored = [(value(c), n, c) for n, c in enumerate(candidates) if not violations(problem, c)]
    if not scored:
        raise RuntimeError("no valid plan among the dispatching and CP-SAT plans")
    start = min(scored, key=lambda x: x[:2])[2]
    proven = start is cpsat and cpsat.objective.get("status") == "OPTIMAL" and "kept warm start" not in cpsat.method
    start = Schedule(problem.name, list(start.assignments), policy="planned", method=start.method,
                     objective=dict(start.objective))
    left = limit - (time.perf_counter() - t0)
    # A plan CP-SAT proved optimal for the whole problem has no better neighbour in the same model.
    best = start if proven else improve(problem, start, secondary, left, workers=opt.workers, seed=opt.seed)
    best.objective.update({"seconds": time.perf_counter() - t0, f"kpi_{secondary}": value(best) % TARDY_WEIGHT,
                           "candidates": {c.method: v for v, _, c in scored}})
    if cpsat is not None and "status" in cpsat.objective:
        best.objective["status"] = cpsat.objective["status"]  # the CP-SAT phase's status, for stored runs
    return best
