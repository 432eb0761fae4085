"""Repair a plan after a line breakdown or a rush order, changing as little as possible.

Work that has started (start < now) stays where it is, except work interrupted on the broken line,
which starts again. Free for re-planning are: the not-started operations of the broken line, the rush
order, and the not-started operations of the lines that could take them, within a repair window after
``now``. Everything else is frozen; frozen work on a line blocks that line for its duration plus the
line's largest changeover on each side, so any changeover next to it stays feasible. The repair is
lexicographic: weighted tardiness first, then the number of operations moved (changed line or start).
"""
from __future__ import annotations

import time

import numpy as np
from dataclasses import dataclass, replace

from zerocarbon.core.schedule.model import Assignment, Order, Problem, Schedule
from zerocarbon.errors import InfeasibleError
from zerocarbon.solvers.schedule.cpsat import SolveOptions, solve
from zerocarbon.solvers.schedule.dispatch import dispatch


@dataclass(frozen=True)
class Breakdown:
    line: str
    start: int  # [min]
    end: int  # [min] repaired


@dataclass
class Repair:
    schedule: Schedule
    problem: Problem  # with the breakdown in the calendar and the rush orders added
    not_started: int  # operations not started at ``now`` in the old plan
    moved: int  # of those, how many changed line or start
    seconds: float


def _subtract(windows, cut_start: int, cut_end: int):
    out = []
    for ws, we in windows:
        if we <= cut_start or ws >= cut_end:
            out.append((ws, we))
            continue
        if ws < cut_start:
            out.append((ws, cut_start))
        if we > cut_end:
            out.append((cut_end, we))
    return tuple(out)


def reschedule(problem: Problem, plan: Schedule, now: int, breakdown: Breakdown | None = None,
               rush: tuple[Order, ...] = (), window: int = 1440, time_limit: float = 30.0,
               workers: int = 2, seed: int = 0) -> Repair:
    """Repair ``plan``; the repair window doubles until the displaced work fits (at most to the horizon)."""
    t0 = time.perf_counter()
    while True:
        left = time_limit - (time.perf_counter() - t0)
        try:
            r = _reschedule(problem, plan, now, breakdown, rush, window, max(1.0, left), workers, seed)
            r.seconds = time.perf_counter() - t0
            return r
        except InfeasibleError:
            if now + window >= problem.horizon or left < 2:
                return _dispatch_repair(problem, plan, now, breakdown, rush, t0)
            window *= 2


def _disrupted(problem: Problem, plan: Schedule, now: int, breakdown: Breakdown | None,
               rush: tuple[Order, ...]) -> tuple[Problem, dict, set]:
    """The problem with the breakdown cut out of the line's calendar and the rush orders added, the old
    plan by operation, and the operations that have started and stay (work interrupted by the breakdown
    does not stay: it starts again)."""
    cal = dict(problem.calendars)
    if breakdown:
        cal[breakdown.line] = _subtract(cal.get(breakdown.line) or ((0, problem.horizon),),
                                        breakdown.start, breakdown.end)
    full = replace(problem, calendars=cal, orders=problem.orders + tuple(rush))
    old = {(a.order, a.index): a for a in plan.assignments}
    started = {k for k, a in old.items() if a.start < now and not _interrupted(a, breakdown)}
    return full, old, started


def _interrupted(a: Assignment, breakdown: Breakdown | None) -> bool:
    return bool(breakdown) and a.line == breakdown.line and a.end > breakdown.start and a.start < breakdown.end


def _dispatch_repair(problem: Problem, plan: Schedule, now: int, breakdown: Breakdown | None,
                     rush: tuple[Order, ...], t0: float) -> Repair:
    """Fallback: re-dispatch all work not yet started, in the old plan's order, after the work in progress."""
    full, old, started = _disrupted(problem, plan, now, breakdown, rush)
    keep = {k: old[k] for k in started}
    family = {o.id: o.family for o in full.orders}
    last_end, last_family = {}, {}
    for a in keep.values():
        if a.end > last_end.get(a.line, -1):
            last_end[a.line], last_family[a.line] = a.end, family[a.order]
    available = {ln: max(end, now) for ln, end in last_end.items()}
    orders = []
    for o in full.orders:
        rest = tuple(op for op in o.operations if op.key not in keep)
        if rest:
            done = [op for op in o.operations if op.key in keep]
            release = max([o.release, now] + ([keep[done[-1].key].end + rest[0].min_lag_after_previous] if done else []))
            orders.append(replace(o, release=release, operations=rest))
    sub = replace(full, orders=tuple(orders))
    peak = _peaks(full)
    background = tuple((a.start, a.end, peak(a)) for a in keep.values())
    s = dispatch(sub, "plan", available=available, last_family=last_family, background=background,
                 priority={k: a.start for k, a in old.items()})
    merged = list(keep.values()) + s.assignments
    new = {(a.order, a.index): a for a in s.assignments}
    not_started = sum(1 for k in old if k not in keep)
    moved = sum(1 for k, a in old.items() if k not in keep and (new[k].line != a.line or new[k].start != a.start))
    return Repair(Schedule(problem.name, merged, policy=plan.policy, method=f"repair-dispatch({plan.method})"),
                  full, not_started, moved, time.perf_counter() - t0)


def _reschedule(problem: Problem, plan: Schedule, now: int, breakdown: Breakdown | None,
                rush: tuple[Order, ...], window: int, time_limit: float, workers: int, seed: int) -> Repair:
    t0 = time.perf_counter()
    full, old, started = _disrupted(problem, plan, now, breakdown, rush)
    cal = full.calendars
    ops = {op.key: op for op in full.operations}
    # Displaced: work that cannot stay (on the broken line before it is repaired, interrupted, or new
    # rush orders) and the later steps of those orders. It may go to any eligible line.
    displaced = {k for k, a in old.items() if k not in started
                 and (_interrupted(a, breakdown) or (breakdown and a.line == breakdown.line and a.start < breakdown.end))}
    displaced |= {op.key for o in rush for op in o.operations}
    for o in full.orders:
        hit = False
        for op in o.operations:
            hit = hit or op.key in displaced
            if hit and op.key not in started:
                displaced.add(op.key)
    # Flexible: near-term work on the lines that could take displaced work; it may shift in time on its
    # own line to make room. Each such line is cut out of the plan between the fixed operation just
    # before its flexible work and the first fixed one after it; those two stay in the model, fixed,
    # so every changeover at the seams is exact. Everything else is untouched.
    helpers = {ln for k in displaced for ln in ops[k].options}
    flexible = {k for k, a in old.items() if k not in started and k not in displaced and a.line in helpers
                and a.start < now + window}
    modelled = displaced | flexible
    by_line: dict[str, list] = {}
    for k, a in old.items():
        by_line.setdefault(a.line, []).append((a.start, k))
    frozen_keys, seam = set(), {}
    for ln in helpers:
        items = sorted(by_line.get(ln, []))
        before = [k for st, k in items if k not in modelled and st < now]
        after = [k for st, k in items if k not in modelled and st >= now]
        lo = old[before[-1]].start if before else 0
        hi = old[after[0]].end if after else full.horizon
        frozen_keys |= {before[-1]} if before else set()
        frozen_keys |= {after[0]} if after else set()
        seam[ln] = (lo, hi)
    sub_orders = []
    for o in full.orders:
        keep = tuple(replace(op, options={old[op.key].line: op.options[old[op.key].line]})
                     if op.key in flexible | frozen_keys else op
                     for op in o.operations if op.key in modelled | frozen_keys)
        if not keep:
            continue
        if keep[0].key in frozen_keys and len(keep) == 1:
            sub_orders.append(replace(o, release=old[keep[0].key].start, operations=keep))
            continue
        release = max(o.release, now)
        for op in o.operations:  # fixed earlier steps of the order
            if op.key == keep[0].key:
                break
            release = max(release, old[op.key].end + (keep[0].min_lag_after_previous
                                                      if op.index + 1 == keep[0].index else 0))
        sub_orders.append(replace(o, release=release, operations=keep))
    in_model = {op.key for o in sub_orders for op in o.operations}
    sub_cal = {}
    for ln in full.lines:
        lo, hi = seam.get(ln.id, (0, 0))
        w = cal.get(ln.id) or ((0, full.horizon),)
        sub_cal[ln.id] = tuple((max(ws, lo), min(we, hi)) for ws, we in w if min(we, hi) > max(ws, lo))
    sub = replace(full, name=f"{problem.name}-repair", orders=tuple(sub_orders), calendars=sub_cal)
    peak = _peaks(full)
    background = tuple((a.start, a.end, peak(a)) for k, a in old.items() if k not in in_model)
    frozen = tuple(old[k] for k in frozen_keys if k in in_model)
    initial = {ln: full.order(old[k].order).family for ln in helpers for k in frozen_keys
               if old[k].line == ln and old[k].start < now}
    hint = _insertion_hint(sub, old, flexible | frozen_keys, background, initial)
    opt = SolveOptions(time_limit=max(1.0, time_limit - (time.perf_counter() - t0)), workers=workers, seed=seed,
                       objective="lexicographic", secondary="idle", stability=True,
                       reference=Schedule(sub.name, [old[k] for k in modelled if k in old]), hint=hint,
                       background_load=background, frozen=frozen)
    repaired = solve(sub, opt)
    new = {(a.order, a.index): a for a in repaired.assignments}
    merged = [new.get(k, a) for k, a in old.items()] + [a for k, a in new.items() if k not in old]
    not_started = sum(1 for k in old if k not in started)
    moved = sum(1 for k, a in old.items() if k not in started and (new.get(k, a).line != a.line
                                                                    or new.get(k, a).start != a.start))
    out = Schedule(problem.name, merged, policy=plan.policy, method=f"repair({plan.method})")
    return Repair(out, full, not_started, moved, time.perf_counter() - t0)


def _insertion_hint(sub: Problem, old: dict, flexible: set, background: tuple, initial: dict) -> Schedule | None:
    """Flexible work stays where it was; displaced work is inserted, step by step, into the gap that
    finishes it first without moving anything (changeovers, windows and the power cap respected)."""
    family = {o.id: o.family for o in sub.orders}
    placed: dict[str, list[tuple[int, int, str]]] = {ln.id: [] for ln in sub.lines}
    load = None
    if sub.power_cap_kw is not None:
        load = np.zeros(sub.horizon + 1)
        for bs, be, kw in background:
            load[max(0, bs):be] += kw
    out = []
    for k in flexible:
        a = old[k]
        placed[a.line].append((a.start, a.end, family[a.order]))
        out.append(a)
        if load is not None:
            load[a.start:a.end] += sub.line(a.line).run_kw
    for items in placed.values():
        items.sort()

    def first_key(o: Order):
        k = o.operations[0].key
        return (old[k].start if k in old else o.release, o.id)

    for o in sorted(sub.orders, key=first_key):
        t = o.release
        for i, op in enumerate(o.operations):
            if op.key in flexible:
                t = old[op.key].end
                continue
            earliest = t + (op.min_lag_after_previous if i else 0)
            best = None
            for ln, dur in op.options.items():
                s = _first_gap(sub, ln, placed[ln], family[o.id], earliest, dur, initial.get(ln), load)
                if s is not None and (best is None or s + dur < best[0]):
                    best = (s + dur, s, ln)
            if best is None:
                return None
            end, start, ln = best
            placed[ln].append((start, end, family[o.id]))
            placed[ln].sort()
            out.append(Assignment(o.id, op.index, ln, start, end))
            if load is not None:
                load[start:end] += sub.line(ln).run_kw
            t = end
    return Schedule(sub.name, out, method="insertion")


def _peaks(problem: Problem):
    """Running power of a kept operation under the site cap [kW]: its profile's peak, or the line's run_kw."""
    ops = {op.key: op for op in problem.operations if op.power_kw}

    def peak(a: Assignment) -> float:
        op = ops.get((a.order, a.index))
        return op.peak_kw(problem.line(a.line)) if op is not None else problem.line(a.line).run_kw

    return peak


def _first_gap(sub: Problem, line_id: str, items, fam: str, earliest: int, dur: int, initial, load) -> int | None:
    """Earliest start >= earliest on the line between already placed work, or None."""
    line = sub.line(line_id)
    windows = sub.calendars.get(line_id) or ((0, sub.horizon),)
    candidates = sorted({earliest} | {e for _, e, _ in items if e >= earliest})
    for s0 in candidates:
        prev = [x for x in items if x[1] <= s0]
        co = line.changeover_min(prev[-1][2] if prev else initial, fam)
        s = max(s0, earliest, (prev[-1][1] + co) if prev else s0)
        nxt = [x for x in items if x[0] >= s]
        limit = nxt[0][0] - line.changeover_min(fam, nxt[0][2]) if nxt else sub.horizon
        for ws, we in windows:
            st = max(s, ws + co)
            if st + dur > min(we, limit):
                continue
            if any(x[0] < st + dur and x[1] > st - co for x in items):
                continue
            if load is not None and line.run_kw and (load[st:st + dur] + line.run_kw > sub.power_cap_kw + 1e-9).any():
                continue
            return st
    return None
