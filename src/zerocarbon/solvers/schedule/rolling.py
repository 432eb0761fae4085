"""Rolling-horizon decomposition for instances too big to solve whole.

Orders are taken in due-date order in chunks; each chunk is solved by CP-SAT with the lines'
availability, last product family and the running power of earlier chunks carried over, so the
chunks join into one feasible plan. Each chunk gets an equal share of the time limit.
"""
from __future__ import annotations

import time
from dataclasses import replace

from zerocarbon.core.schedule.model import Problem, Schedule
from zerocarbon.solvers.schedule.cpsat import SolveOptions, weighted_tardiness, keep_better, solve
from zerocarbon.solvers.schedule.dispatch import best_dispatch, dispatch


def solve_rolling(problem: Problem, opt: SolveOptions, chunk: int = 30) -> Schedule:
    t0 = time.perf_counter()
    order = sorted(problem.orders, key=lambda o: (o.due if o.due is not None else 10**12, o.release, o.id))
    chunks = [order[i:i + chunk] for i in range(0, len(order), chunk)]
    available: dict[str, int] = {}
    last_family: dict[str, str] = {}
    background: list[tuple[int, int, float]] = []
    assignments = []
    fam = {o.id: o.family for o in problem.orders}
    ops = {op.key: op for op in problem.operations}
    for n, orders in enumerate(chunks):
        sub = replace(problem, name=f"{problem.name}#{n}", orders=tuple(orders))
        left = opt.time_limit - (time.perf_counter() - t0)
        sub_opt = replace(opt, time_limit=max(1.0, left / (len(chunks) - n)), hint=None,
                          line_available=dict(available), initial_family=dict(last_family),
                          background_load=tuple(background))
        # Warm start each chunk from a dispatch of the same chunk under the same carried-over state.
        sub_opt.hint = _chunk_hint(sub, available, last_family, background)
        s = solve(sub, sub_opt)
        assignments += s.assignments
        for a in s.assignments:
            if a.end >= available.get(a.line, 0):
                available[a.line] = a.end
                last_family[a.line] = fam[a.order]
            background.append((a.start, a.end, ops[(a.order, a.index)].peak_kw(problem.line(a.line))))
    plan = Schedule(problem.name, assignments, policy="planned" if problem.has_energy else "always_on",
                    method=f"cpsat-rolling{chunk}-{opt.objective}",
                    objective={"seconds": time.perf_counter() - t0, "chunks": len(chunks)})
    if opt.objective == "lexicographic" and opt.secondary in ("cost", "carbon") and problem.has_energy \
            and not opt.frozen and not opt.stability:
        # The chunks' energy terms are approximations and each chunk sees only its orders: the whole week's
        # dispatching plans (EDD with lines switched off past break-even among them) replace the joined plan
        # when they are as punctual and better in the recomputed KPI.
        warm = []
        for rule in ("edd", "fifo"):
            try:
                warm.append(dispatch(problem, rule, "planned"))
            except RuntimeError:
                pass
        plan = keep_better(problem, plan, warm, opt.secondary, weighted_tardiness(problem, plan))
    return plan


def _chunk_hint(sub: Problem, available: dict[str, int], last_family: dict[str, str],
                background: list) -> Schedule | None:
    """A dispatch plan for the chunk under the same carried-over line state (None if it cannot place all)."""
    try:
        return best_dispatch(sub, available=available, last_family=last_family, background=tuple(background))
    except RuntimeError:
        return None
