"""Dispatching rules: the conventional planner's schedule, and warm starts for CP-SAT.

Giffler-Thompson style active-schedule generation: among the next operations of all orders, find the
earliest completion C* over eligible lines; the conflict set is the operations that could start on a
line before C*; the rule picks one (EDD: earliest due date; FIFO: earliest release; SPT: shortest
duration; MWKR: most work remaining). Lines are filled in time order (no insertion into gaps).
Calendars, changeovers, transfer lags, release dates and the site power cap are respected.
"""
from __future__ import annotations

import numpy as np

from zerocarbon.core.schedule.kpi import compute_kpis
from zerocarbon.core.schedule.model import Assignment, Problem, Schedule
from zerocarbon.errors import InfeasibleError

RULES = ("edd", "fifo", "spt", "mwkr", "plan")  # plan: keep the order of a previous plan (``priority``)


def _fit(problem: Problem, line_id: str, earliest: int, co: int, dur: int, load, run_kw: float) -> int | None:
    """Earliest start >= earliest with [start-co, start+dur) inside a window and under the power cap."""
    windows = problem.calendars.get(line_id) or ((0, 10**9),)
    step = problem.series.step_min if problem.start_on_grid else 0  # starts rounded up to the grid
    for ws, we in windows:
        s = max(earliest, ws + co)
        if step:
            s = -(-s // step) * step
        while s + dur <= we:
            if load is None or run_kw == 0:
                return s
            seg = load[s:s + dur]
            over = np.flatnonzero(seg + run_kw > problem.power_cap_kw + 1e-9)
            if over.size == 0:
                return s
            s += int(over[-1]) + 1
            if step:
                s = -(-s // step) * step
    return None


def dispatch(problem: Problem, rule: str = "edd", policy: str = "always_on", available: dict | None = None,
             last_family: dict | None = None, background: tuple = (), priority: dict | None = None,
             serial: bool | None = None) -> Schedule:
    """``available``/``last_family``/``background`` carry line state and running power from earlier plans.
    ``serial``: orders one by one in rule order (fast), else Giffler-Thompson; by default serial only above
    1,000 operations."""
    if rule not in RULES:
        raise ValueError(f"unknown rule '{rule}'; one of {RULES}")
    family = {o.id: o.family for o in problem.orders}
    line_free = {ln.id: (available or {}).get(ln.id, 0) for ln in problem.lines}
    line_fam: dict[str, str | None] = {ln.id: (last_family or {}).get(ln.id) for ln in problem.lines}
    lines = {ln.id: ln for ln in problem.lines}
    nxt = {o.id: 0 for o in problem.orders if o.operations}
    ready = {o.id: o.release for o in problem.orders}
    remaining = {o.id: sum(min(op.options.values()) for op in o.operations) for o in problem.orders}
    orders = {o.id: o for o in problem.orders}
    cap = problem.power_cap_kw
    load = np.zeros(problem.horizon * 2 + 1) if cap is not None else None
    if load is not None:
        for bs, be, kw in background:
            load[bs:be] += kw
    out: list[Assignment] = []
    if serial or (serial is None and len(problem.operations) > 1000):
        # Serial generation for large plants: orders in rule order, each step on its fastest line.
        # The Giffler-Thompson loop below scans every ready operation per step (quadratic).
        def order_key(o):
            return {"edd": o.due if o.due is not None else 10**12, "fifo": o.release,
                    "spt": remaining[o.id], "mwkr": -remaining[o.id],
                    "plan": (priority or {}).get((o.id, o.operations[0].index), 10**12)}[rule], o.release, o.id
        for o in sorted(problem.orders, key=order_key):
            t = o.release
            for k, op in enumerate(o.operations):
                best = None
                for lid, dur in op.options.items():
                    co = lines[lid].changeover_min(line_fam[lid], family[o.id])
                    s = _fit(problem, lid, max(t + (op.min_lag_after_previous if k else 0), line_free[lid] + co),
                             co, dur, load, op.peak_kw(lines[lid]))
                    if s is not None and (best is None or s + dur < best[0]):
                        best = (s + dur, s, lid)
                if best is None:
                    raise InfeasibleError(f"dispatch cannot place order {o.id}: no line window is long enough",
                                          entity=o.id)
                end, start, lid = best
                out.append(Assignment(o.id, op.index, lid, start, end))
                if load is not None:
                    load[start:end] += op.peak_kw(lines[lid])
                line_free[lid], line_fam[lid], t = end, family[o.id], end
        return Schedule(problem.name, out, policy=policy, method=f"dispatch-serial-{rule}")
    # Under a cap that the lines' peaks cannot reach together, a candidate's start depends only on its order
    # and its line: it is kept until that line takes another operation.
    cap_binds = load is not None and (any(bs < be and kw for bs, be, kw in background) or sum(
        max([op.peak_kw(ln) for op in problem.operations if ln.id in op.options] + [0.0])
        for ln in problem.lines) > cap)
    fits: dict = {}
    line_version = dict.fromkeys(lines, 0)
    while nxt:
        cands = []
        for oid, k in nxt.items():
            op = orders[oid].operations[k]
            earliest = ready[oid] + (op.min_lag_after_previous if k else 0)
            for lid, dur in op.options.items():
                memo = (oid, k, lid)
                hit = fits.get(memo)
                if hit is not None and hit[0] == line_version[lid] and not cap_binds:
                    s = hit[1]
                else:
                    co = lines[lid].changeover_min(line_fam[lid], family[oid])
                    s = _fit(problem, lid, max(earliest, line_free[lid] + co), co, dur, load,
                             op.peak_kw(lines[lid]))
                    fits[memo] = (line_version[lid], s)
                if s is not None:
                    cands.append((s + dur, s, oid, lid, dur))
        if not cands:
            left = ", ".join(sorted(nxt)[:10])
            raise InfeasibleError(f"dispatch cannot place orders {left}: no line window is long enough")
        c_star = min(c[0] for c in cands)
        conflict = [c for c in cands if c[1] < c_star]

        def key(c):
            o = orders[c[2]]
            primary = {"edd": o.due if o.due is not None else 10**12, "fifo": o.release, "spt": c[4],
                       "mwkr": -remaining[c[2]],
                       "plan": (priority or {}).get((c[2], o.operations[nxt[c[2]]].index), 10**12)}[rule]
            return (primary, c[0], c[2])

        end, start, oid, lid, dur = min(conflict, key=key)
        placed = orders[oid].operations[nxt[oid]]
        out.append(Assignment(oid, placed.index, lid, start, end))
        if load is not None:
            load[start:end] += placed.peak_kw(lines[lid])
        line_free[lid], line_fam[lid] = end, family[oid]
        line_version[lid] += 1
        ready[oid] = end
        remaining[oid] -= min(orders[oid].operations[nxt[oid]].options.values())
        nxt[oid] += 1
        if nxt[oid] >= len(orders[oid].operations):
            del nxt[oid]
    return Schedule(problem.name, out, policy=policy, method=f"dispatch-{rule}")


def best_dispatch(problem: Problem, policy: str = "planned", **state) -> Schedule:
    """The best of all rules by (weighted tardiness, makespan): a warm start for CP-SAT."""
    best, best_key = None, None
    for rule in RULES[:4]:
        s = dispatch(problem, rule, policy, **state)
        k = compute_kpis(problem, s) if problem.has_energy or any(o.due for o in problem.orders) else None
        key = (k.weighted_tardiness_min, s.makespan) if k else (0, s.makespan)
        if best_key is None or key < best_key:
            best, best_key = s, key
    return best


def _open_windows(windows, closed_slots, step: int):
    """``windows`` minus the slots for which ``closed_slots(slot index)`` is true."""
    out = []
    for ws, we in windows:
        t = ws
        while t < we:
            if closed_slots(t // step):
                t = (t // step + 1) * step
                continue
            end = t
            while end < we and not closed_slots(end // step):
                end = min(we, (end // step + 1) * step)
            out.append((t, end))
            t = end
    return tuple(out)


SHARES = (0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3)  # shares of the dearest slots a line may skip


def closed_dispatch(problem: Problem, values: tuple[float, ...], shares: dict[str, float], rule: str = "edd",
                    policy: str = "planned") -> Schedule:
    """Dispatch with each line kept out of its share (``shares[line]``) of the slots with the highest
    ``values`` (price or carbon intensity per slot of the series step); raises ``InfeasibleError`` when the
    remaining windows cannot take every order. The plan is valid for ``problem``: its windows lie inside the
    problem's calendars."""
    step = problem.series.step_min
    n = problem.series.slots(problem.horizon)
    vals = [values[min(i, len(values) - 1)] for i in range(n)] if values else [0.0] * n
    ranked = sorted(vals, reverse=True)
    cal = dict(problem.calendars)
    for ln in problem.lines:
        share = shares.get(ln.id, 0.0)
        if share <= 0:
            continue
        cut = ranked[min(n - 1, max(0, int(round(share * n)) - 1))]

        def closed(slot, cut=cut):
            return vals[min(slot, n - 1)] >= cut
        base = problem.calendars.get(ln.id) or ((0, problem.horizon),)
        cal[ln.id] = _open_windows(base, closed, step)
    sub = Problem(problem.name, problem.lines, problem.orders, problem.horizon, cal, problem.series,
                  problem.power_cap_kw, problem.start, problem.start_on_grid)
    s = dispatch(sub, rule, policy)
    kept = {ln: sh for ln, sh in shares.items() if sh > 0}
    s.method = f"dispatch-{rule}" + (", dearest slots skipped " + ", ".join(
        f"{ln} {sh:.1%}" for ln, sh in sorted(kept.items())) if kept else "")
    return s


def energy_dispatch_search(problem: Problem, values: tuple[float, ...], score, time_limit: float,
                           rules=("edd", "fifo")) -> Schedule | None:
    """The best :func:`closed_dispatch` plan by ``score`` (lower is better; tardiness belongs in it) found in
    about ``time_limit`` seconds: each rule with every line skipping the same share of dear slots, then
    coordinate descent on each line's share (highest-power lines first), one step of ``SHARES`` at a time."""
    import time

    t0 = time.perf_counter()
    best, best_score, best_state = None, None, None
    seen = {}

    def trial(rule, shares) -> float:
        key = (rule, tuple(sorted(shares.items())))
        if key in seen:
            return seen[key]
        try:
            s = closed_dispatch(problem, values, shares, rule)
            sc = score(s)
        except (InfeasibleError, RuntimeError):
            s, sc = None, float("inf")
        seen[key] = sc
        nonlocal best, best_score, best_state
        if s is not None and (best_score is None or sc < best_score):
            best, best_score, best_state = s, sc, (rule, dict(shares))
        return sc

    def out_of_time() -> bool:
        return time.perf_counter() - t0 > time_limit

    ids = [ln.id for ln in sorted(problem.lines, key=lambda ln: -ln.run_kw)]
    for rule in rules:
        for share in SHARES:
            if out_of_time():
                return best
            if trial(rule, dict.fromkeys(ids, share)) == float("inf") and share > 0:
                break
    improved = True
    while improved and best_state is not None:
        improved = False
        rule, shares = best_state
        for ln in ids:
            pos = SHARES.index(shares[ln]) if shares[ln] in SHARES else 0
            for nxt in (pos + 1, pos - 1):
                if not 0 <= nxt < len(SHARES) or out_of_time():
                    continue
                before = best_score
                trial(rule, dict(shares, **{ln: SHARES[nxt]}))
                if best_score < before:
                    improved = True
                    rule, shares = best_state
                    break
        if out_of_time():
            break
    return best
