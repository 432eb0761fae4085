"""CP-SAT model of the scheduling problem, split into variables, constraints and objective builders.

Per operation: a start and end variable; per eligible line an optional interval with a presence
literal (exactly one is present). Per line: if it has sequence-dependent changeovers, a circuit over
its candidate operations decides the order, and each operation carries a setup variable equal to the
changeover from its predecessor; otherwise a plain no-overlap suffices. Working windows are enforced
by fixed "closed" intervals in the line's no-overlap. The power cap is a cumulative constraint.

Energy terms (used when the objective asks for them):
- processing cost or carbon of each (operation, line) by its start slot (``series.step_min``): an element
  constraint on a table, per allowed start slot, of the operation's power (its per-slot profile, or the
  line's run_kw) times the price (or intensity) net of PV over each of its minutes; price and carbon are
  netted of PV by the same linear stand-in (``net_of_pv``);
- waiting between two consecutive operations of a line: idle power x gap at the horizon's mean price,
  or, if the gap allows it, switching off and paying one warm-up; each line's first block pays a warm-up.
These are the solver's approximations; reported KPIs are recomputed from the schedule by
``core.schedule.kpi`` with the exact series. The cost or carbon phase never returns a plan whose recomputed
KPI is worse than its warm start's: it keeps the warm start then and says so in ``method``.
With ``problem.start_on_grid`` every start is a multiple of the series step.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from ortools.sat.python import cp_model

from zerocarbon.core.schedule.check import violations
from zerocarbon.core.schedule.kpi import compute_kpis
from zerocarbon.core.schedule.model import Assignment, Problem, Schedule
from zerocarbon.errors import InfeasibleError
from zerocarbon.solvers.schedule.dispatch import best_dispatch, dispatch

SCALE = 100  # objective money/carbon units per currency unit (integers for CP-SAT)


@dataclass
class SolveOptions:
    time_limit: float = 60.0  # [s] for the whole solve (lexicographic phases share it)
    workers: int = 2
    seed: int = 0
    objective: str = "lexicographic"  # lexicographic | weighted | makespan
    secondary: str = "cost"  # cost | carbon | idle (second phase of lexicographic)
    weights: dict[str, float] = field(default_factory=lambda: {"tardiness": 10.0, "cost": 1.0, "carbon": 0.0})
    hint: Schedule | None = None
    fix_hint: bool = False
    frozen: tuple[Assignment, ...] = ()  # fixed assignments (already started work)
    line_available: dict[str, int] = field(default_factory=dict)  # earliest start per line [min]
    initial_family: dict[str, str] = field(default_factory=dict)  # family last run on each line
    stability: bool = False  # minimise moves relative to ``reference`` (rescheduling)
    reference: Schedule | None = None  # the previous plan, for stability
    background_load: tuple[tuple[int, int, float], ...] = ()  # fixed (start, end, kW) under the power cap
    fallback: Schedule | None = None  # returned (labelled) if the search finds nothing; never used as a hint
    progress: Callable[[str, float, float, float], None] | None = None  # phase, incumbent, bound, seconds


@dataclass
class _Vars:
    start: dict = field(default_factory=dict)  # op key -> IntVar
    end: dict = field(default_factory=dict)
    presence: dict = field(default_factory=dict)  # (op key, line) -> literal
    interval: dict = field(default_factory=dict)  # (op key, line) -> interval (processing)
    setup: dict = field(default_factory=dict)  # (op key, line) -> IntVar
    arcs: dict = field(default_factory=dict)  # line -> list of (i, j, lit, co, key_i, key_j)
    tardiness: dict = field(default_factory=dict)  # order -> IntVar
    frozen: set = field(default_factory=set)
    lines_of: dict = field(default_factory=dict)  # op key -> eligible lines
    constant: dict = field(default_factory=dict)  # (op key, line) -> True when presence is a constant
    arc_lit: dict = field(default_factory=dict)  # (from key | None, to key | None, line) -> literal
    empty: dict = field(default_factory=dict)  # line -> literal "no operation on this line"
    slot: dict = field(default_factory=dict)  # op key -> IntVar start // step (starts on the grid only)
    makespan: cp_model.IntVar | None = None


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(self, phase: str, fn):
        super().__init__()
        self.phase, self.fn, self.t0 = phase, fn, time.perf_counter()

    def on_solution_callback(self) -> None:
        if self.fn:
            self.fn(self.phase, self.ObjectiveValue(), self.BestObjectiveBound(), time.perf_counter() - self.t0)


def net_of_pv(problem: Problem, values: tuple[float, ...]) -> tuple[float, ...]:
    """A per-slot series (price or carbon intensity) net of PV, one function for both objectives.

    Linear stand-in for self-consumption (KPIs net PV exactly, minute by minute): eff = value x max(0, 1 - pv / L)
    per slot, with L the sum of the lines' run power times the mean share of lines running (taken as 1/2).
    """
    pv = problem.series.pv_kw
    if not values or not pv:
        return tuple(values)
    load = max(1e-9, 0.5 * sum(ln.run_kw for ln in problem.lines))
    return tuple(x * max(0.0, 1.0 - (pv[i] if i < len(pv) else pv[-1]) / load) for i, x in enumerate(values))


def _effective_price(problem: Problem) -> tuple[float, ...]:
    """Price net of PV (see :func:`net_of_pv`)."""
    return net_of_pv(problem, problem.series.price)


def _effective(problem: Problem, series: str) -> tuple[float, ...]:
    """The per-slot values an energy objective weighs kWh with: price or carbon net of PV, else grid kWh."""
    values = {"cost": problem.series.price, "carbon": problem.series.carbon}.get(series, ())
    if series == "idle":
        return (1.0,) * problem.series.slots(problem.horizon)  # kWh of waiting and warm-up, whatever the PV
    if not values:
        values = (1.0,) * problem.series.slots(problem.horizon)  # grid kWh when the series is not given
    return net_of_pv(problem, values)


def start_tables(problem: Problem, values: tuple[float, ...], op, line) -> list[float]:
    """Per start slot s: sum over the operation's minutes of power [kW] x value at that minute / 60, for a
    start at minute s x step (value x kWh)."""
    step = problem.series.step_min
    dur = op.options[line.id]
    n = problem.horizon // step + 1
    span = n * step + dur + 1
    arr = np.asarray(values, dtype=float)
    per_min = arr[np.minimum(np.arange(span) // step, len(arr) - 1)]
    cum = np.concatenate(([0.0], np.cumsum(per_min)))
    starts = np.arange(n) * step
    kw = op.kw_minutes(line, step)
    out = np.zeros(n)
    a = 0
    while a < dur:  # runs of equal power: each adds kW x (sum of values over the run)
        b = a
        while b < dur and kw[b] == kw[a]:
            b += 1
        if kw[a]:
            out += kw[a] * (cum[starts + b] - cum[starts + a])
        a = b
    return (out / 60.0).tolist()


def build_variables(m: cp_model.CpModel, problem: Problem, opt: SolveOptions) -> _Vars:
    v = _Vars()
    frozen = {(a.order, a.index): a for a in opt.frozen}
    horizon = problem.horizon
    for o in problem.orders:
        for op in o.operations:
            k = op.key
            lo = o.release if op.index == o.operations[0].index else 0
            if k in frozen:
                a = frozen[k]
                v.start[k], v.end[k] = m.new_constant(a.start), m.new_constant(a.end)
            else:
                lo = max(lo, min(opt.line_available.get(ln, 0) for ln in op.options))
                v.start[k] = m.new_int_var(lo, horizon, f"s{k}")
                v.end[k] = m.new_int_var(lo, horizon, f"e{k}")
                if problem.start_on_grid:
                    step = problem.series.step_min
                    v.slot[k] = m.new_int_var(-(-lo // step), horizon // step, f"q{k}")
                    m.add(v.start[k] == step * v.slot[k])
            lits = []
            v.lines_of[k] = list(op.options)
            if k in frozen:
                v.frozen.add(k)
            for ln, dur in op.options.items():
                if k in frozen:
                    lit = m.new_constant(1 if frozen[k].line == ln else 0)
                    v.constant[(k, ln)] = True
                elif len(op.options) == 1:
                    lit = m.new_constant(1)
                    v.constant[(k, ln)] = True
                else:
                    lit = m.new_bool_var(f"p{k}{ln}")
                v.presence[(k, ln)] = lit
                # Start, size and the shared end in one interval: the end is tied to this line's duration
                # only when the line is chosen (stronger propagation than a separate enforced equality).
                v.interval[(k, ln)] = m.new_optional_interval_var(v.start[k], dur, v.end[k], lit, f"i{k}{ln}")
                if k not in frozen and opt.line_available.get(ln):
                    m.add(v.start[k] >= opt.line_available[ln]).only_enforce_if(lit)
                lits.append(lit)
            m.add_exactly_one(lits)
    return v


def add_constraints(m: cp_model.CpModel, problem: Problem, v: _Vars, opt: SolveOptions) -> None:
    family = {o.id: o.family for o in problem.orders}
    ops = {op.key: op for op in problem.operations}
    for o in problem.orders:
        for prev, op in zip(o.operations, o.operations[1:]):
            m.add(v.start[op.key] >= v.end[prev.key] + op.min_lag_after_previous)
    by_line: dict[str, list] = {ln.id: [] for ln in problem.lines}
    for (k, ln) in v.interval:
        by_line[ln].append(k)
    for line in problem.lines:
        keys = by_line[line.id]
        closed = []
        windows = problem.calendars.get(line.id)
        if windows:
            t = 0
            for ws, we in sorted(windows):
                if ws > t:
                    closed.append(m.new_fixed_size_interval_var(t, ws - t, f"closed{line.id}{t}"))
                t = max(t, we)
            if t < problem.horizon:
                closed.append(m.new_fixed_size_interval_var(t, problem.horizon - t, f"closed{line.id}{t}"))
        has_co = any(line.changeover_min(family[a[0]], family[b[0]]) for a in keys for b in keys) or any(
            line.changeover_min(opt.initial_family.get(line.id), family[k[0]]) for k in keys)
        energy_arcs = problem.has_energy and opt.objective != "makespan"
        if not has_co and not energy_arcs:
            m.add_no_overlap([v.interval[(k, line.id)] for k in keys] + closed)
            continue
        # Sequence with a circuit: node 0 is the depot (line start/end).
        boxes = []
        arcs, arc_info = [], []
        max_co = max([line.changeover_min(family[a[0]], family[b[0]]) for a in keys for b in keys] + [0])
        for i, k in enumerate(keys, start=1):
            lit = v.presence[(k, line.id)]
            setup = m.new_int_var(0, max_co + line.changeover_min(opt.initial_family.get(line.id), family[k[0]]),
                                  f"su{k}{line.id}")
            v.setup[(k, line.id)] = setup
            box_start = m.new_int_var(-max_co, problem.horizon, f"bs{k}{line.id}")
            m.add(box_start == v.start[k] - setup)
            if opt.line_available.get(line.id):
                # the changeover from the previous plan's last family happens after that plan ends
                m.add(box_start >= opt.line_available[line.id]).only_enforce_if(lit)
            dur = ops[k].options[line.id]
            boxes.append(m.new_optional_interval_var(box_start, setup + dur, v.start[k] + dur, lit, f"b{k}{line.id}"))
            arcs.append((i, i, ~lit))
            first = m.new_bool_var(f"f{k}{line.id}")
            last = m.new_bool_var(f"l{k}{line.id}")
            arcs += [(0, i, first), (i, 0, last)]
            v.arc_lit[(None, k, line.id)] = first
            v.arc_lit[(k, None, line.id)] = last
            co0 = line.changeover_min(opt.initial_family.get(line.id), family[k[0]])
            arc_info.append((0, i, first, co0, None, k))
        for i, ki in enumerate(keys, start=1):
            for j, kj in enumerate(keys, start=1):
                if i == j:
                    continue
                lit = m.new_bool_var(f"a{ki}{kj}{line.id}")
                co = line.changeover_min(family[ki[0]], family[kj[0]])
                arcs.append((i, j, lit))
                v.arc_lit[(ki, kj, line.id)] = lit
                m.add(v.start[kj] - v.setup[(kj, line.id)] >= v.end[ki]).only_enforce_if(lit)
                arc_info.append((i, j, lit, co, ki, kj))
        v.empty[line.id] = m.new_bool_var(f"empty{line.id}")
        m.add_circuit(arcs + [(0, 0, v.empty[line.id])])
        # setup of j = changeover from its predecessor
        incoming: dict[int, list] = {}
        for (i, j, lit, co, ki, kj) in arc_info:
            incoming.setdefault(j, []).append((lit, co))
        for j, kj in enumerate(keys, start=1):
            m.add(v.setup[(kj, line.id)] == sum(co * lit for lit, co in incoming[j] if co))
        m.add_no_overlap(boxes + closed)
        v.arcs[line.id] = arc_info
    if problem.power_cap_kw is not None and (any(ln.run_kw for ln in problem.lines)
                                             or any(op.power_kw for op in problem.operations)):
        ints, demands = [], []
        for (k, ln), iv in v.interval.items():
            kw = ops[k].peak_kw(problem.line(ln))  # a profile counts at its peak: the cap holds every minute
            if kw:
                ints.append(iv)
                demands.append(int(math.ceil(kw)))
        for bs, be, kw in opt.background_load:
            if be > bs and kw:
                ints.append(m.new_fixed_size_interval_var(bs, be - bs, f"bg{bs}"))
                demands.append(int(math.ceil(kw)))
        m.add_cumulative(ints, demands, int(problem.power_cap_kw))
    for o in problem.orders:
        last = o.operations[-1].key
        if o.due is not None:
            t = m.new_int_var(0, problem.horizon, f"t{o.id}")
            m.add(t >= v.end[last] - o.due)
            v.tardiness[o.id] = t
    v.makespan = m.new_int_var(0, problem.horizon, "makespan")
    m.add_max_equality(v.makespan, [v.end[o.operations[-1].key] for o in problem.orders if o.operations])


def energy_terms(m: cp_model.CpModel, problem: Problem, v: _Vars, series: str) -> list:
    """Integer objective terms (x SCALE) for processing, waiting and warm-up.

    ``series``: cost (price net of PV), carbon (intensity net of PV, the same netting), or idle (kWh of
    waiting and warm-up only, no processing term).
    """
    values = _effective(problem, series)
    mean = sum(values) / len(values)
    terms = []
    step = problem.series.step_min
    slots = problem.horizon // step + 1
    ops = {op.key: op for op in problem.operations}
    for (k, ln), lit in v.presence.items():
        line = problem.line(ln)
        if series == "idle" or not (line.run_kw or ops[k].power_kw.get(ln)):
            continue
        table = [int(round(SCALE * x)) for x in start_tables(problem, values, ops[k], line)]
        if k in v.slot:
            slot = v.slot[k]
        else:
            slot = m.new_int_var(0, slots - 1, f"h{k}{ln}")
            m.add_division_equality(slot, v.start[k], step)
        c = m.new_int_var(0, max(table), f"c{k}{ln}")
        m.add_element(slot, table, c)
        ce = m.new_int_var(0, max(table), f"ce{k}{ln}")
        m.add(ce >= c).only_enforce_if(lit)
        terms.append(ce)
    for line_id, arcs in v.arcs.items():
        line = problem.line(line_id)
        warm = int(round(SCALE * line.warmup_kwh * mean))
        idle_per_min = SCALE * (line.idle_kw - line.standby_kw) * mean / 60.0
        for (i, j, lit, co, ki, kj) in arcs:
            if ki is None:  # first block of the line: one warm-up
                terms.append(warm * lit)
                continue
            off = m.new_bool_var(f"off{ki}{kj}")
            m.add_implication(off, lit)
            m.add(v.start[kj] - v.setup[(kj, line_id)] - v.end[ki] >= line.warmup_min).only_enforce_if(off)
            cost = m.new_int_var(0, int(idle_per_min * problem.horizon) + 1, f"w{ki}{kj}")
            gap = v.start[kj] - v.setup[(kj, line_id)] - v.end[ki]
            # cost >= idle power x gap (x1000 keeps the per-minute rate an integer)
            m.add(1000 * cost >= int(round(idle_per_min * 1000)) * gap).only_enforce_if([lit, ~off])
            terms += [cost, warm * off]
    return terms


def _tardiness_expr(problem: Problem, v: _Vars):
    w = {o.id: max(1, int(round(o.weight))) for o in problem.orders}
    return sum(w[o] * t for o, t in v.tardiness.items())


def _solve(m: cp_model.CpModel, opt: SolveOptions, seconds: float, phase: str):
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.5, seconds)
    solver.parameters.num_workers = opt.workers
    solver.parameters.random_seed = opt.seed
    status = solver.solve(m, _Progress(phase, opt.progress))
    return solver, status


def _hint(m: cp_model.CpModel, problem: Problem, v: _Vars, schedule: Schedule | None, opt: SolveOptions) -> None:
    """Hint every decision of ``schedule``: starts, line choice, sequence arcs and setups."""
    if schedule is None:
        return
    family = {o.id: o.family for o in problem.orders}
    for a in schedule.assignments:
        k = (a.order, a.index)
        if k not in v.start or k in v.frozen:
            continue
        m.add_hint(v.start[k], a.start)
        m.add_hint(v.end[k], a.end)
        for ln in v.lines_of[k]:
            if not v.constant.get((k, ln)):
                m.add_hint(v.presence[(k, ln)], 1 if ln == a.line else 0)
        if opt.fix_hint:
            m.add(v.start[k] == a.start)
    if not v.arc_lit:
        return
    chosen = {}
    for line_id, items in schedule.by_line().items():
        keys = [(a.order, a.index) for a in items if (a.order, a.index) in v.start]
        prev_fam = opt.initial_family.get(line_id)
        seq = [None] + keys + [None]
        for x, y in zip(seq, seq[1:]):
            chosen[(x, y, line_id)] = 1
        for k in keys:
            if (k, line_id) in v.setup:
                m.add_hint(v.setup[(k, line_id)], problem.line(line_id).changeover_min(prev_fam, family[k[0]]))
            prev_fam = family[k[0]]
        if line_id in v.empty:
            m.add_hint(v.empty[line_id], 0 if keys else 1)
    for key, lit in v.arc_lit.items():
        m.add_hint(lit, chosen.get(key, 0))


def _extract(problem: Problem, solver: cp_model.CpSolver, v: _Vars) -> list[Assignment]:
    out = []
    for (k, ln), lit in v.presence.items():
        if solver.boolean_value(lit):
            out.append(Assignment(k[0], k[1], ln, solver.value(v.start[k]), solver.value(v.end[k])))
    return out


def explain_infeasible(problem: Problem) -> str:
    """Planner-readable reasons: orders that cannot fit however they are placed."""
    reasons = []
    for o in problem.orders:
        for op in o.operations:
            best = min(op.options.values())
            fits = False
            for ln, dur in op.options.items():
                windows = problem.calendars.get(ln) or ((0, problem.horizon),)
                if any(we - max(ws, o.release) >= dur for ws, we in windows):
                    fits = True
            if not fits:
                reasons.append(f"order {o.id} step {op.index} needs {best} min in one piece, but no working window "
                               f"of lines {sorted(op.options)} after its release is that long")
        min_total = o.release + sum(min(op.options.values()) + op.min_lag_after_previous for op in o.operations)
        if min_total > problem.horizon:
            reasons.append(f"order {o.id} needs at least {min_total} min from the horizon start, beyond the "
                           f"horizon of {problem.horizon} min")
    if problem.power_cap_kw is not None:
        for ln in problem.lines:
            if ln.run_kw > problem.power_cap_kw:
                reasons.append(f"line {ln.id} alone draws {ln.run_kw} kW, above the site cap {problem.power_cap_kw} kW")
    load = {}
    for op in problem.operations:
        if len(op.options) == 1:
            ln = next(iter(op.options))
            load[ln] = load.get(ln, 0) + op.options[ln]
    for ln, minutes in load.items():
        avail = sum(we - ws for ws, we in problem.calendars.get(ln, ((0, problem.horizon),)))
        if minutes > avail:
            reasons.append(f"line {ln} must run {minutes} min of work that only it can do, but has {avail} min of "
                           "working windows in the horizon")
    return "; ".join(reasons) or ("the constraints conflict (release dates, calendars, power cap, precedence); "
                                  "try a longer horizon or fewer orders")


def solve(problem: Problem, opt: SolveOptions | None = None) -> Schedule:
    """Solve ``problem`` with CP-SAT; lexicographic runs two phases sharing the time limit."""
    opt = opt or SolveOptions()
    t0 = time.perf_counter()
    phases = ["primary", "secondary"] if opt.objective == "lexicographic" else ["only"]
    hint = opt.hint
    if hint is None and not opt.frozen and opt.objective != "makespan":
        # A dispatch plan is cheap and always valid: it seeds the search and is the answer of last resort.
        try:
            hint = best_dispatch(problem, available=opt.line_available, last_family=opt.initial_family,
                                 background=opt.background_load)
        except RuntimeError:
            hint = None
    first_hint = hint
    best: Schedule | None = None
    cap_tardiness = None
    for n, phase in enumerate(phases):
        m = cp_model.CpModel()
        v = build_variables(m, problem, opt)
        add_constraints(m, problem, v, opt)
        if opt.objective == "makespan":
            m.minimize(v.makespan)
        elif opt.objective == "weighted":
            # Weights to a tenth: CP-SAT objectives are integer.
            w = {k: int(round(10 * opt.weights.get(k, 0.0))) for k in ("tardiness", "cost", "carbon")}
            terms = []
            for series in ("cost", "carbon"):
                if w[series]:
                    terms += [w[series] * t for t in energy_terms(m, problem, v, series)]
            m.minimize(w["tardiness"] * SCALE * _tardiness_expr(problem, v) + sum(terms))
        elif phase == "primary":
            m.minimize(_tardiness_expr(problem, v) * 1000 + v.makespan if v.tardiness else v.makespan)
        else:
            if v.tardiness:
                m.add(_tardiness_expr(problem, v) <= cap_tardiness)
            terms = energy_terms(m, problem, v, opt.secondary if opt.secondary in ("carbon", "idle") else "cost")
            stab = []
            if opt.stability and opt.reference is not None:
                stab = _stability_terms(m, v, opt.reference)
            m.minimize(sum(terms) + sum(stab))
        _hint(m, problem, v, hint, opt)
        left = opt.time_limit - (time.perf_counter() - t0)
        share = left * (0.35 if (len(phases) == 2 and n == 0) else 1.0)
        solver, status = _solve(m, opt, share, phase)
        if status == cp_model.INFEASIBLE or status == cp_model.MODEL_INVALID:
            raise InfeasibleError(explain_infeasible(problem))
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            # Out of time without a solution: keep what we have (an earlier phase, or a valid hint).
            last_resort = hint or opt.fallback
            if best is None and last_resort is not None and not violations(problem, last_resort):
                best = Schedule(problem.name, list(last_resort.assignments), policy=last_resort.policy,
                                method=f"{last_resort.method} (CP-SAT found nothing better in {share:.1f} s)")
                if phase == "primary" and len(phases) == 2:
                    cap_tardiness = weighted_tardiness(problem, best)
                    hint = best
                    continue
            if best is None:
                raise InfeasibleError(f"no schedule found within {share:.1f} s; " + explain_infeasible(problem))
            break
        assignments = _extract(problem, solver, v)
        best = Schedule(problem.name, assignments, policy="planned" if problem.has_energy else "always_on",
                        method=f"cpsat-{opt.objective}" + (f"-{opt.secondary}" if opt.objective == "lexicographic" else ""),
                        lower_bound=solver.best_objective_bound if opt.objective == "makespan" else None,
                        objective={"value": solver.objective_value, "bound": solver.best_objective_bound,
                                   "status": solver.status_name(status), "seconds": time.perf_counter() - t0})
        if phase == "primary":
            cap_tardiness = weighted_tardiness(problem, best) if v.tardiness else None
            hint = best
            if not problem.has_energy:
                break
        elif phase == "secondary" and opt.secondary in ("cost", "carbon") and not opt.stability:
            warm = [hint, first_hint]
            if opt.hint is None and not opt.frozen:
                # EDD with lines switched off past break-even: the conventional plan to beat
                try:
                    warm.append(dispatch(problem, "edd", "planned", available=opt.line_available,
                                         last_family=opt.initial_family, background=opt.background_load))
                except RuntimeError:
                    pass
            best = keep_better(problem, best, warm, opt.secondary, cap_tardiness)
    return best


def kpi_value(problem: Problem, schedule: Schedule, secondary: str) -> float:
    """The recomputed KPI a cost or carbon phase lowers: energy cost or kgCO2 of the plan, lines planned on/off."""
    k = compute_kpis(problem, schedule, "planned" if problem.has_energy else "always_on")
    return k.energy_cost if secondary == "cost" else k.co2_kg


def keep_better(problem: Problem, plan: Schedule, warm: list, secondary: str, cap_tardiness) -> Schedule:
    """``plan``, or its warm start when the warm start's recomputed KPI is lower (the solver's energy terms are
    approximations: a plan can look better to them and be worse in the KPIs). A warm start counts only if it is
    valid and as punctual as the phase required."""
    value = kpi_value(problem, plan, secondary)
    plan.objective[f"kpi_{secondary}"] = value
    best_warm, best_value = None, None
    for w in warm:
        if w is None or w is plan or violations(problem, w):
            continue
        if cap_tardiness is not None and weighted_tardiness(problem, w) > cap_tardiness:
            continue
        wv = kpi_value(problem, w, secondary)
        if best_value is None or wv < best_value:
            best_warm, best_value = w, wv
    if best_value is None:
        return plan
    plan.objective[f"warm_start_kpi_{secondary}"] = best_value
    if best_value < value - 1e-9 * max(1.0, abs(value)):
        kept = Schedule(problem.name, list(best_warm.assignments), policy=plan.policy,
                        method=f"{plan.method}; kept warm start", lower_bound=plan.lower_bound,
                        objective=dict(plan.objective, kept_warm_start=True, **{f"kpi_{secondary}": best_value}))
        return kept
    return plan


def weighted_tardiness(problem: Problem, schedule: Schedule) -> int:
    end: dict[str, int] = {}
    for a in schedule.assignments:
        end[a.order] = max(end.get(a.order, 0), a.end)
    return sum(max(1, int(round(o.weight))) * max(0, end.get(o.id, 0) - o.due)
               for o in problem.orders if o.due is not None)


def _stability_terms(m: cp_model.CpModel, v: _Vars, hint: Schedule) -> list:
    """Penalty per operation that changes line or start relative to the previous plan."""
    terms = []
    for a in hint.assignments:
        k = (a.order, a.index)
        lit = v.presence.get((k, a.line))
        if lit is None or k in v.frozen:
            continue
        moved = m.new_bool_var(f"mv{k}")
        m.add(v.start[k] == a.start).only_enforce_if([lit, ~moved])
        m.add_implication(~moved, lit)
        terms.append(SCALE * 1000 * moved)
    return terms
