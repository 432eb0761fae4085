"""Exact time-indexed model on the slot grid of the problem's series (``step_min``), for a single line or a
flow shop whose operations start on the grid (``Problem.start_on_grid``).

When it applies (:func:`applies`): every order has the same number of operations, operation k of every order
has exactly one eligible line and that line is the same for all orders (one line per stage, the stages in the
same order for every order; a single line is the one-stage case); no line has changeovers. The job order may
differ from line to line (no permutation constraint).

Model: a boolean x[j, k, t] per operation (order j, stage k) and allowed start slot t (release, working
windows and horizon respected); one start per operation; a line holds at most one operation per slot (an
operation occupies ceil(duration / step) slots, as the next start is on the grid); precedence with transfer
lag; weighted tardiness from the end of each order's last operation.

Energy is exact: inside a slot an operation draws its profile value (or the line's run_kw) from the slot's
start for the minutes it runs there (all of the slot, or the remainder in its last slot). Each slot is cut at
every such remainder into pieces of constant load; per piece, grid import g >= load - PV and g >= 0, and the
objective is sum of g x minutes x value (carbon intensity or price) of the slot. kW are counted in tenths and
values in thousandths (CP-SAT is integer): the objective equals the KPIs' grid cost or carbon of processing up
to that rounding. Idle, standby, warm-up and changeover energy are not in this model (the KPIs count them);
the site power cap holds piece by piece, so exactly.

Lexicographic like the interval model: weighted tardiness first (when orders have due dates), then cost or
carbon with tardiness capped at the value found. The plan is kept only if its recomputed KPI is not worse
than the warm start's (an EDD dispatch on the grid).
"""
from __future__ import annotations

import time

from ortools.sat.python import cp_model

from zerocarbon.core.schedule.model import Assignment, Problem, Schedule
from zerocarbon.errors import InfeasibleError
from zerocarbon.solvers.schedule.cpsat import SolveOptions, keep_better
from zerocarbon.solvers.schedule.dispatch import dispatch

KW_SCALE = 10  # tenths of a kW
VALUE_SCALE = 1000  # thousandths of a value unit (currency or kgCO2 per kWh)
MAX_BOOLEANS = 400_000  # beyond this the time-indexed model is too big to build quickly


def applies(problem: Problem) -> str | None:
    """None when the slot model can solve ``problem``, else the reason it cannot."""
    if not problem.orders:
        return "no orders"
    stages = len(problem.orders[0].operations)
    if stages == 0:
        return "orders without operations"
    route: list[str | None] = [None] * stages
    for o in problem.orders:
        if len(o.operations) != stages:
            return "orders have different numbers of operations"
        for k, op in enumerate(o.operations):
            if len(op.options) != 1:
                return f"operation {op.key} may run on {len(op.options)} lines"
            ln = next(iter(op.options))
            if route[k] is None:
                route[k] = ln
            elif route[k] != ln:
                return f"stage {k} runs on lines {route[k]} and {ln}"
    if len(set(route)) != stages:
        return "a line serves two stages"
    if any(ln.changeover for ln in problem.lines):
        return "lines have changeovers"
    n = problem.series.slots(problem.horizon)
    if len(problem.operations) * n > MAX_BOOLEANS:
        return f"{len(problem.operations)} operations x {n} slots is above {MAX_BOOLEANS} start booleans"
    return None


class _Model:
    """The CP-SAT model of :mod:`slots` (see the module's description)."""

    def __init__(self, problem: Problem, series: str):
        self.p = problem
        step = self.step = problem.series.step_min
        self.n = n = problem.series.slots(problem.horizon)
        self.m = m = cp_model.CpModel()
        self.x: dict[tuple[str, int], dict[int, cp_model.IntVar]] = {}
        self.dur: dict[tuple[str, int], int] = {}
        self.line: dict[tuple[str, int], str] = {}
        occ_by_line: dict[str, list] = {}
        for o in problem.orders:
            for k, op in enumerate(o.operations):
                ln, dur = next(iter(op.options.items()))
                windows = problem.calendars.get(ln) or ((0, problem.horizon),)
                lo = o.release if k == 0 else 0
                allowed = [t for t in range(n) if t * step >= lo and t * step + dur <= problem.horizon
                           and any(ws <= t * step and t * step + dur <= we for ws, we in windows)]
                if not allowed:
                    raise InfeasibleError(f"order {o.id} step {op.index} ({dur} min on {ln}) has no allowed start "
                                          f"slot in the horizon and the line's working windows")
                xs = {t: m.new_bool_var(f"x{o.id}_{k}_{t}") for t in allowed}
                m.add_exactly_one(xs.values())
                self.x[op.key], self.dur[op.key], self.line[op.key] = xs, dur, ln
                occ_by_line.setdefault(ln, []).append(op.key)
        self.start = {key: sum(step * t * lit for t, lit in xs.items()) for key, xs in self.x.items()}
        for ln, keys in occ_by_line.items():
            per_slot: dict[int, list] = {}
            for key in keys:
                occ = -(-self.dur[key] // step)
                for t, lit in self.x[key].items():
                    for s in range(t, min(n, t + occ)):
                        per_slot.setdefault(s, []).append(lit)
            for lits in per_slot.values():
                if len(lits) > 1:
                    m.add_at_most_one(lits)
        for o in problem.orders:
            for prev, op in zip(o.operations, o.operations[1:]):
                m.add(self.start[op.key] >= self.start[prev.key] + self.dur[prev.key] + op.min_lag_after_previous)
        self.tardiness = []
        for o in problem.orders:
            last = o.operations[-1].key
            if o.due is not None:
                t = m.new_int_var(0, problem.horizon, f"T{o.id}")
                m.add(t >= self.start[last] + self.dur[last] - o.due)
                self.tardiness.append(max(1, int(round(o.weight))) * t)
        self._energy(series)

    def _energy(self, series: str) -> None:
        p, m, step, n = self.p, self.m, self.step, self.n
        values = {"cost": p.series.price, "carbon": p.series.carbon}.get(series, ())
        value = [values[min(s, len(values) - 1)] if values else 1.0 for s in range(n)]  # grid kWh without one
        pv = [p.series.pv_kw[min(s, len(p.series.pv_kw) - 1)] if p.series.pv_kw else 0.0 for s in range(n)]
        ops = {op.key: op for op in p.operations}
        # Per operation: kW (tenths) and minutes run in each of its slots, counted from its start slot.
        shape = {}
        cuts = {0, step}
        for key, dur in self.dur.items():
            kw = ops[key].kw_minutes(p.line(self.line[key]), step)
            occ = -(-dur // step)
            run = [min(step, dur - i * step) for i in range(occ)]
            shape[key] = [(int(round(KW_SCALE * kw[i * step])), run[i]) for i in range(occ)]
            cuts.add(run[-1])
        cuts_sorted = sorted(cuts)
        pieces = list(zip(cuts_sorted, cuts_sorted[1:]))
        load: dict[tuple[int, int], list] = {}
        for key, xs in self.x.items():
            for t, lit in xs.items():
                for i, (kw10, minutes) in enumerate(shape[key]):
                    s = t + i
                    if s >= n or not kw10:
                        continue
                    for a, (_, hi) in enumerate(pieces):
                        if minutes >= hi:
                            load.setdefault((s, a), []).append((kw10, lit))
        self.objective_terms = []
        self.pieces = pieces
        cap = None if p.power_cap_kw is None else int(KW_SCALE * p.power_cap_kw + 1e-9)
        self.grid = {}
        for (s, a), terms in load.items():
            expr = sum(kw10 * lit for kw10, lit in terms)
            if cap is not None:
                m.add(expr <= cap)
            pv10 = int(round(KW_SCALE * pv[s]))
            g = m.new_int_var(0, max(0, sum(kw10 for kw10, _ in terms) - pv10), f"g{s}_{a}")
            m.add(g >= expr - pv10)
            self.grid[(s, a)] = g
            minutes = pieces[a][1] - pieces[a][0]
            coef = int(round(VALUE_SCALE * value[s])) * minutes
            if coef:
                self.objective_terms.append(coef * g)
        self.divisor = KW_SCALE * VALUE_SCALE * 60.0  # objective units per (value x kWh)

    def hint(self, schedule: Schedule | None) -> None:
        if schedule is None:
            return
        self.m.clear_hints()
        at = {(a.order, a.index): a.start for a in schedule.assignments}
        for key, xs in self.x.items():
            start = at.get(key)
            for t, lit in xs.items():
                self.m.add_hint(lit, 1 if start == t * self.step else 0)

    def extract(self, solver: cp_model.CpSolver) -> list[Assignment]:
        out = []
        for key, xs in self.x.items():
            for t, lit in xs.items():
                if solver.boolean_value(lit):
                    out.append(Assignment(key[0], key[1], self.line[key], t * self.step, t * self.step + self.dur[key]))
        return out


def _warm_start(problem: Problem) -> Schedule | None:
    try:
        return dispatch(problem, "edd", "planned")
    except InfeasibleError:
        return None


def solve_slots(problem: Problem, opt: SolveOptions | None = None) -> Schedule:
    """Lexicographic plan (on time, then ``opt.secondary`` cost or carbon) with the exact slot model."""
    opt = opt or SolveOptions()
    if opt.secondary not in ("cost", "carbon"):
        raise ValueError(f"the slot model lowers cost or carbon, not '{opt.secondary}'")
    why = applies(problem)
    if why is not None:
        raise ValueError(f"the slot model does not apply: {why}")
    t0 = time.perf_counter()
    md = _Model(problem, opt.secondary)
    warm = opt.hint or _warm_start(problem)
    cap = None
    hint = warm
    if md.tardiness:
        md.m.minimize(sum(md.tardiness))
        md.hint(hint)
        solver = _solver(opt, opt.time_limit * 0.35)
        status = solver.solve(md.m)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            cap = int(round(solver.objective_value))
            hint = Schedule(problem.name, md.extract(solver), policy="planned")
        elif status == cp_model.INFEASIBLE:
            raise InfeasibleError("no plan on the slot grid meets the release dates, windows, precedence and "
                                  "power cap")
        elif warm is None:
            raise InfeasibleError(f"no plan on the slot grid found within {opt.time_limit * 0.35:.1f} s")
        if cap is not None:
            md.m.add(sum(md.tardiness) <= cap)
    md.m.minimize(sum(md.objective_terms))
    md.hint(hint)
    left = max(0.5, opt.time_limit - (time.perf_counter() - t0))
    solver = _solver(opt, left)
    status = solver.solve(md.m)
    if status == cp_model.INFEASIBLE:
        raise InfeasibleError("no plan on the slot grid meets the release dates, windows, precedence and power cap")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if hint is None:
            raise InfeasibleError(f"no plan on the slot grid found within {left:.1f} s")
        return Schedule(problem.name, list(hint.assignments), policy="planned",
                        method=f"{hint.method or 'slots'} (the slot model found nothing better in {left:.1f} s)")
    value, bound = solver.objective_value / md.divisor, solver.best_objective_bound / md.divisor
    plan = Schedule(problem.name, md.extract(solver), policy="planned",
                    method=f"slots-lexicographic-{opt.secondary}",
                    objective={"value": value, "bound": bound, "gap": (value - bound) / value if value else 0.0,
                               "status": solver.status_name(status), "seconds": time.perf_counter() - t0,
                               "booleans": sum(len(xs) for xs in md.x.values()), "slots": md.n,
                               "step_min": md.step, "tardiness_cap": cap})
    return keep_better(problem, plan, [hint, warm], opt.secondary, cap)


def _solver(opt: SolveOptions, seconds: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.5, seconds)
    solver.parameters.num_workers = opt.workers
    solver.parameters.random_seed = opt.seed
    return solver
