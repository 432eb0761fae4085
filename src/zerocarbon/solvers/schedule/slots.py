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

Processing energy is exact: inside a slot an operation draws its profile value (or the line's run_kw) from the
slot's start for the minutes it runs there (all of the slot, or the remainder in its last slot). Each slot is
cut at every such remainder into pieces of constant load; per piece, grid import g >= load - PV and g >= 0, and
the objective is sum of g x minutes x value (carbon intensity or price) of the slot. On a single line only one
operation runs at a time, so each (operation, start slot) gets its exact grid cost directly (a stronger model).
kW are counted in tenths and values in thousandths (CP-SAT is integer): the processing terms equal the KPIs'
grid cost or carbon up to that rounding. The site power cap holds piece by piece, so exactly.

Line states are modelled per slot (powered or standby): a powered slot without work idles at (idle - standby)
kW at the slot's value (idle power is not netted of PV here), and each block of powered slots pays one warm-up
at the horizon's mean value; standby is the same for every plan. This is an approximation of the KPIs'
break-even rule; the KPIs recompute the plan's energy exactly and the plan is kept only if it is no worse than
the warm start.

On a flow shop the full model runs for 40 % of the time (mostly for its bound), then a neighbourhood search
improves the plan window by window (:func:`_neighbourhoods`).

Lexicographic like the interval model: weighted tardiness first (when orders have due dates), then cost or
carbon with tardiness capped at the value found. The plan is kept only if its recomputed KPI is not worse
than the warm start's (an EDD dispatch on the grid).
"""
from __future__ import annotations

import math
import random
import time

from ortools.sat.python import cp_model

from zerocarbon.core.schedule.model import Assignment, Problem, Schedule
from zerocarbon.errors import InfeasibleError
from zerocarbon.solvers.schedule.cpsat import SolveOptions, weighted_tardiness, keep_better
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

    def __init__(self, problem: Problem, series: str, fixed: dict | None = None):
        """``fixed``: operation key -> start slot, for operations kept where they are (neighbourhood search)."""
        self.p = problem
        fixed = fixed or {}
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
                allowed = [fixed[op.key]] if op.key in fixed else [
                    t for t in range(n) if t * step >= lo and t * step + dur <= problem.horizon
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
        self.started: dict[tuple[str, int], list] = {}
        for o in problem.orders:
            for prev, op in zip(o.operations, o.operations[1:]):
                # Slot by slot: op has started by slot t only if prev started by slot t - d, with d the slots
                # prev and the lag take (starts are on the grid, so this is exactly start >= prev end + lag);
                # a much tighter LP relaxation than a constraint on the sums of start times.
                d = -(-(self.dur[prev.key] + op.min_lag_after_previous) // step)
                if prev.key in fixed and op.key in fixed:
                    continue  # both kept: they already satisfy it
                before, after = self._started(prev.key), self._started(op.key)
                for t in range(n):
                    m.add(after[t] <= (before[t - d] if t - d >= 0 else 0))
        self.tardiness = []
        for o in problem.orders:
            last = o.operations[-1].key
            if o.due is not None:
                t = m.new_int_var(0, problem.horizon, f"T{o.id}")
                m.add(t >= self.start[last] + self.dur[last] - o.due)
                self.tardiness.append(max(1, int(round(o.weight))) * t)
        self._energy(series)

    def _started(self, key) -> list:
        """Booleans per slot t: the operation has started by slot t (a running sum of its start booleans)."""
        if key not in self.started:
            xs, out, prev = self.x[key], [], None
            for t in range(self.n):
                b = self.m.new_bool_var(f"by{key}_{t}")
                self.m.add(b == (prev if prev is not None else 0) + (xs[t] if t in xs else 0))
                out.append(b)
                prev = b
            self.started[key] = out
        return self.started[key]

    def _energy(self, series: str) -> None:
        p, m, step, n = self.p, self.m, self.step, self.n
        values = {"cost": p.series.price, "carbon": p.series.carbon}.get(series, ())
        value = [values[min(s, len(values) - 1)] if values else 1.0 for s in range(n)]  # grid kWh without one
        pv = [p.series.pv_kw[min(s, len(p.series.pv_kw) - 1)] if p.series.pv_kw else 0.0 for s in range(n)]
        v1000 = [int(round(VALUE_SCALE * x)) for x in value]
        pv10 = [int(round(KW_SCALE * x)) for x in pv]
        ops = {op.key: op for op in p.operations}
        # Per operation: kW (tenths) and minutes run in each of its slots, counted from its start slot.
        shape = {}
        for key, dur in self.dur.items():
            kw = ops[key].kw_minutes(p.line(self.line[key]), step)
            occ = -(-dur // step)
            run = [min(step, dur - i * step) for i in range(occ)]
            shape[key] = [(int(round(KW_SCALE * kw[i * step])), run[i]) for i in range(occ)]
        self.objective_terms = []
        self.aux_grid: list = []  # (g, [(kW tenths, literal)], PV tenths): for hints
        self.aux_state: list = []  # (powered, idle, up or None, [literals busy in the slot], previous powered)
        cap = None if p.power_cap_kw is None else int(KW_SCALE * p.power_cap_kw + 1e-9)
        self.single_line = len(set(self.line.values())) == 1
        if self.single_line:
            # One line: one operation at a time, so each (operation, start) has its exact grid cost on its own.
            for key, xs in self.x.items():
                for t, lit in xs.items():
                    c = sum(max(0, kw10 - pv10[t + i]) * minutes * v1000[t + i]
                            for i, (kw10, minutes) in enumerate(shape[key]) if t + i < n)
                    if cap is not None and any(kw10 > cap for kw10, _ in shape[key]):
                        m.add(lit == 0)
                    if c:
                        self.objective_terms.append(c * lit)
        else:
            # Per slot: the operations running all of it (one sum, shared by the slot's pieces) and those running
            # only its first minutes (their last slot); the slot is cut where one of these stops.
            full: dict[int, list] = {}
            partial: dict[int, list] = {}
            for key, xs in self.x.items():
                for t, lit in xs.items():
                    for i, (kw10, minutes) in enumerate(shape[key]):
                        s = t + i
                        if s < n and kw10:
                            if minutes == step:
                                full.setdefault(s, []).append((kw10, lit))
                            else:
                                partial.setdefault(s, []).append((kw10, lit, minutes))
            for s in sorted(set(full) | set(partial)):
                whole = full.get(s, [])
                base = self._weighted_sum(m, whole, f"f{s}", shared=bool(partial.get(s)))
                over = [(kw10 - pv10[s], lit) for kw10, lit in whole if kw10 > pv10[s]]
                alone_whole = self._weighted_sum(m, over, f"w{s}", shared=bool(partial.get(s)))
                ends = sorted({0, step} | {mins for _, _, mins in partial.get(s, [])})
                for lo, hi in zip(ends, ends[1:]):
                    part = [(kw10, lit) for kw10, lit, mins in partial.get(s, []) if mins >= hi]
                    terms = whole + part
                    expr = base + sum(kw10 * lit for kw10, lit in part)
                    if cap is not None:
                        m.add(expr <= cap)
                    g = m.new_int_var(0, max(0, sum(kw10 for kw10, _ in terms) - pv10[s]), f"g{s}_{lo}")
                    self.aux_grid.append((g, terms, pv10[s]))
                    m.add(g >= expr - pv10[s])
                    # Valid for loads >= 0 (max(0, x - pv) is superadditive): each operation alone against all
                    # the PV. It keeps fractional starts from hiding load under PV in the LP relaxation.
                    alone = [(kw10 - pv10[s], lit) for kw10, lit in part if kw10 > pv10[s]]
                    if over or alone:
                        m.add(g >= alone_whole + sum(c * lit for c, lit in alone))
                    coef = v1000[s] * (hi - lo)
                    if coef:
                        self.objective_terms.append(coef * g)
        self.processing_terms = list(self.objective_terms)
        self._line_states(v1000)
        self.divisor = KW_SCALE * VALUE_SCALE * 60.0  # objective units per (value x kWh)

    def _weighted_sum(self, m: cp_model.CpModel, pairs: list, name: str, shared: bool):
        """sum(c x literal); as its own variable when several sub-slot terms reuse it (one definition, hinted)."""
        if not (pairs and shared):
            return sum(c * lit for c, lit in pairs)
        var = m.new_int_var(0, sum(c for c, _ in pairs), name)
        m.add(var == sum(c * lit for c, lit in pairs))
        self.aux_grid.append((var, pairs, 0))
        return var

    def _line_states(self, v1000: list[int]) -> None:
        """Lines powered or in standby per slot: a powered slot without work idles at (idle - standby) kW, and
        each block of powered slots starts with one warm-up (at the mean value); standby is the same for every
        plan and left out. Idle power is weighed at the slot's value without PV netting (an approximation)."""
        m, n, step = self.m, self.n, self.step
        mean = sum(v1000) / max(1, len(v1000))
        cover: dict[str, dict[int, list]] = {}
        for key, xs in self.x.items():
            occ = -(-self.dur[key] // step)
            for t, lit in xs.items():
                for s in range(t, min(n, t + occ)):
                    cover.setdefault(self.line[key], {}).setdefault(s, []).append(lit)
        for line_id, by_slot in cover.items():
            line = self.p.line(line_id)
            idle10 = int(round(KW_SCALE * max(0.0, line.idle_kw - line.standby_kw)))
            warm = int(round(KW_SCALE * 60 * line.warmup_kwh * mean))
            if not idle10 and not warm:
                continue
            powered = [m.new_bool_var(f"on{line_id}_{s}") for s in range(n)]
            for s in range(n):
                idle = m.new_bool_var(f"idle{line_id}_{s}")
                busy = sum(by_slot.get(s, []))
                # Inequalities, not powered == busy + idle: an equality is substituted by presolve, leaving negative
                # objective coefficients and a useless bound.
                m.add(powered[s] >= busy)
                m.add(idle >= powered[s] - busy)
                if idle10 and v1000[s]:
                    self.objective_terms.append(idle10 * step * v1000[s] * idle)
                up = None
                if warm:
                    up = m.new_bool_var(f"up{line_id}_{s}")
                    m.add(up >= powered[s] - (powered[s - 1] if s else 0))
                    self.objective_terms.append(warm * up)
                self.aux_state.append((powered[s], idle, up, by_slot.get(s, []), powered[s - 1] if s else None))

    def hint(self, schedule: Schedule | None) -> None:
        if schedule is None:
            return
        self.m.clear_hints()
        at = {(a.order, a.index): a.start for a in schedule.assignments}
        chosen = {}
        for key, xs in self.x.items():
            start = at.get(key)
            for t, lit in xs.items():
                chosen[lit.index] = 1 if start == t * self.step else 0
                self.m.add_hint(lit, chosen[lit.index])
        for key, flags in self.started.items():
            start = at.get(key)
            for t, b in enumerate(flags):
                self.m.add_hint(b, 1 if start is not None and start <= t * self.step else 0)
        # Every auxiliary variable too, so the hint is a complete solution: grid import per piece; lines powered
        # only while they work (no idle slots), one warm-up per block.
        for g, terms, pv10 in self.aux_grid:
            self.m.add_hint(g, max(0, sum(kw10 * chosen.get(lit.index, 0) for kw10, lit in terms) - pv10))
        on = {}
        for powered, idle, up, busy, prev in self.aux_state:
            value = 1 if any(chosen.get(lit.index, 0) for lit in busy) else 0
            on[powered.index] = value
            self.m.add_hint(powered, value)
            self.m.add_hint(idle, 0)
            if up is not None:
                self.m.add_hint(up, 1 if value and not (prev is not None and on[prev.index]) else 0)

    def extract(self, solver: cp_model.CpSolver) -> list[Assignment]:
        out = []
        for key, xs in self.x.items():
            for t, lit in xs.items():
                if solver.boolean_value(lit):
                    out.append(Assignment(key[0], key[1], self.line[key], t * self.step, t * self.step + self.dur[key]))
        return out


def _late(problem: Problem, schedule: Schedule) -> bool:
    end = {}
    for a in schedule.assignments:
        end[a.order] = max(end.get(a.order, 0), a.end)
    return any(o.due is not None and end.get(o.id, 0) > o.due for o in problem.orders)


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
    if md.tardiness and warm is not None and not _late(problem, warm):
        cap = 0  # the warm start is on time: nothing to search for in the first phase
        md.m.add(sum(md.tardiness) <= 0)
    elif md.tardiness:
        md.m.minimize(sum(md.tardiness))
        md.hint(hint)
        solver = _solver(opt, opt.time_limit * 0.35, md.single_line)
        status = solver.solve(md.m)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            cap = int(round(solver.objective_value))
            hint = Schedule(problem.name, md.extract(solver), policy="planned")
        elif status == cp_model.INFEASIBLE:
            raise InfeasibleError("no plan on the slot grid meets the release dates, windows, precedence and "
                                  "power cap")
        elif warm is None:
            raise InfeasibleError(f"no plan on the slot grid found within {opt.time_limit * 0.35:.1f} s")
        else:
            cap = weighted_tardiness(problem, warm)  # out of time: no later than the warm start
        if cap is not None:
            md.m.add(sum(md.tardiness) <= cap)
    md.m.minimize(sum(md.objective_terms))
    md.hint(hint)
    left = max(0.5, opt.time_limit - (time.perf_counter() - t0))
    # A flow shop's full model mostly proves a bound; its plan improves faster by neighbourhoods (measured).
    share = left if md.single_line else 0.4 * left
    solver = _solver(opt, share, md.single_line)
    status = solver.solve(md.m)
    if status == cp_model.INFEASIBLE:
        raise InfeasibleError("no plan on the slot grid meets the release dates, windows, precedence and power cap")
    solved = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    if not solved and (hint is None or md.single_line):
        if hint is None:
            raise InfeasibleError(f"no plan on the slot grid found within {left:.1f} s")
        return Schedule(problem.name, list(hint.assignments), policy="planned",
                        method=f"{hint.method or 'slots'} (the slot model found nothing better in {left:.1f} s)")
    # every objective term is >= 0, so 0 bounds it when CP-SAT's own bound is still below
    raw_bound = solver.best_objective_bound / md.divisor
    bound = max(0.0, raw_bound) if math.isfinite(raw_bound) else 0.0
    if solved:
        value = solver.objective_value / md.divisor
        processing = sum(solver.value(t) for t in md.processing_terms) / md.divisor
        found = md.extract(solver)
    else:  # a flow shop whose full model found nothing yet: the neighbourhoods start from the warm start
        value, processing, found = math.inf, None, list(hint.assignments)
    method, moves = f"slots-lexicographic-{opt.secondary}", 0
    if not md.single_line and status != cp_model.OPTIMAL:
        deadline = t0 + opt.time_limit
        better, v, moves = _neighbourhoods(problem, opt, opt.secondary, cap, found, deadline)
        if v is not None and v < value:
            found, value, processing = better, v, None
        if not math.isfinite(value):
            return Schedule(problem.name, list(hint.assignments), policy="planned",
                            method=f"{hint.method or 'slots'} (the slot model found nothing better in {left:.1f} s)")
        method += f" + neighbourhood search ({moves} improvements)"
    plan = Schedule(problem.name, found, policy="planned", method=method,
                    objective={"value": value, "bound": bound, "gap": (value - bound) / value if value else 0.0,
                               "processing": processing, "neighbourhood_improvements": moves,
                               "status": solver.status_name(status), "seconds": time.perf_counter() - t0,
                               "booleans": sum(len(xs) for xs in md.x.values()), "slots": md.n,
                               "step_min": md.step, "tardiness_cap": cap})
    return keep_better(problem, plan, [hint, warm], opt.secondary, cap)


def _neighbourhoods(problem: Problem, opt: SolveOptions, secondary: str, cap: int | None,
                    start: list[Assignment], deadline: float) -> tuple[list[Assignment], float | None, int]:
    """Large-neighbourhood search for flow shops: free the operations starting in a random window of slots, keep
    the others where they are, solve that smaller model exactly (one LP worker), keep the plan if it is better.
    The window widens while its models solve quickly and narrows when they do not. Returns the plan, its model
    objective (value x kWh) and the number of improvements."""
    step, n = problem.series.step_min, problem.series.slots(problem.horizon)
    rng = random.Random(opt.seed)
    current = {(a.order, a.index): a.start // step for a in start}

    def solve_sub(fixed: dict, seconds: float):
        sub = _Model(problem, secondary, fixed)
        if cap is not None and sub.tardiness:
            sub.m.add(sum(sub.tardiness) <= cap)
        sub.m.minimize(sum(sub.objective_terms))
        sub.hint(Schedule(problem.name, [Assignment(k[0], k[1], sub.line[k], t * step, t * step + sub.dur[k])
                                         for k, t in current.items()]))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.2, seconds)
        solver.parameters.num_workers = 1
        solver.parameters.linearization_level = 2
        solver.parameters.random_seed = rng.randrange(1 << 30)
        status = solver.solve(sub.m)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, None, status
        return sub.extract(solver), solver.objective_value / sub.divisor, status

    plan, value, _ = solve_sub(dict(current), max(0.5, deadline - time.perf_counter()))  # the start's value
    if plan is None:
        return start, None, 0
    # Measured on a 2-line, 20-order day: windows freeing about 6 operations solve to optimality in under a
    # second; 11 did not in 5 s. So windows start narrow and widen only while they solve fast.
    width, moves = 6, 0
    while time.perf_counter() < deadline - 0.2:
        lo = rng.randrange(-width // 2, n)
        free = {k for k, t in current.items() if lo <= t < lo + width}
        if len(free) < 2:
            continue
        t0 = time.perf_counter()
        found, v, status = solve_sub({k: t for k, t in current.items() if k not in free},
                                     min(1.5, deadline - time.perf_counter()))
        if status == cp_model.OPTIMAL and time.perf_counter() - t0 < 0.5:
            width = min(n, width + 1)
        elif status != cp_model.OPTIMAL:
            width = max(3, width - 2)
        if found is not None and v < value - 1e-9:
            plan, value, moves = found, v, moves + 1
            current = {(a.order, a.index): a.start // step for a in found}
    return plan, value, moves


def _solver(opt: SolveOptions, seconds: float, single_line: bool) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.5, seconds)
    solver.parameters.num_workers = opt.workers
    if single_line:
        # One line: the LP relaxation of the per-start costs is strong, so full linearisation in one worker.
        # Measured (one line, 14 orders, 96 slots): optimal in 0.5 s, where CP-SAT's 2-worker portfolio left a
        # 60 % gap after 5 s. On a 2-line flow shop (20 orders) the 2-worker portfolio did better (30 s: 544
        # against 577 kgCO2 in the model's terms), so flow shops keep it.
        solver.parameters.linearization_level = 2
        solver.parameters.num_workers = 1 if opt.workers <= 2 else opt.workers
    solver.parameters.random_seed = opt.seed
    return solver
