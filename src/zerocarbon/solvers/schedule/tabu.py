"""Tabu search for the job shop on the disjunctive graph (N5 neighbourhood, Nowicki & Smutnicki 1996).

A solution is one operation sequence per machine; start times are the semi-active schedule of the
sequences (each operation starts at its head, the longest path to it). A move swaps the first two or the
last two operations of a critical block (a run of operations on one machine along one critical path);
such a swap never creates a cycle (Van Laarhoven, Aarts & Lenstra 1992) and every other swap on the path
cannot shorten it (Nowicki & Smutnicki 1996). Candidate swaps are ranked by the Taillard (1994) /
Balas & Vazacopoulos (1998) estimate from the current heads and tails — a lower bound of the longest path
through the two swapped operations after the move — and the chosen move is applied with an exact
recomputation. The tabu list holds the reversed arcs; a tabu move is allowed when its estimate beats the
best makespan (aspiration). After a stall the search restarts from the best sequences with a few random
critical swaps.

Only the classical job shop is handled here (each operation has one eligible machine); the flexible job
shop goes to the CP-SAT neighbourhood search of :mod:`zerocarbon.solvers.schedule.lns`. Release dates
and transfer lags between the steps of an order are part of the job arcs. The result is never worse
than the start and always validated by the caller.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from zerocarbon.core.schedule.model import Assignment, Problem, Schedule


def is_classical(problem: Problem) -> bool:
    """True when tabu search applies: one machine per operation, no calendars, changeovers or power cap."""
    return (all(len(op.options) == 1 for op in problem.operations) and not problem.calendars
            and problem.power_cap_kw is None and not any(ln.changeover for ln in problem.lines))


@dataclass
class Graph:
    """The fixed part of the disjunctive graph: operations, job arcs and durations."""

    keys: list[tuple[str, int]]
    machine: list[int]  # machine index per operation
    dur: list[int]
    jp: list[int]  # job predecessor (-1 at the first step)
    js: list[int]  # job successor (-1 at the last step)
    lag: list[int]  # minimum lag after the job predecessor
    release: list[int]
    machine_ids: list[str]

    @classmethod
    def of(cls, problem: Problem) -> "Graph":
        g = cls([], [], [], [], [], [], [], [ln.id for ln in problem.lines])
        mindex = {m: i for i, m in enumerate(g.machine_ids)}
        for o in problem.orders:
            first = len(g.keys)
            for k, op in enumerate(o.operations):
                (line, d), = op.options.items()
                i = len(g.keys)
                g.keys.append(op.key)
                g.machine.append(mindex[line])
                g.dur.append(d)
                g.jp.append(i - 1 if k else -1)
                g.js.append(-1)
                if k:
                    g.js[i - 1] = i
                g.lag.append(op.min_lag_after_previous if k else 0)
                g.release.append(o.release if i == first else 0)
        return g


@dataclass
class State:
    """Machine sequences with their heads (earliest starts), tails (longest path after the end) and makespan."""

    seq: list[list[int]]
    mp: list[int] = field(default_factory=list)
    ms: list[int] = field(default_factory=list)
    head: list[int] = field(default_factory=list)
    tail: list[int] = field(default_factory=list)
    makespan: int = 0


def _links(g: Graph, seq: list[list[int]]) -> tuple[list[int], list[int]]:
    n = len(g.keys)
    mp, ms = [-1] * n, [-1] * n
    for s in seq:
        for a, b in zip(s, s[1:]):
            mp[b], ms[a] = a, b
    return mp, ms


def evaluate(g: Graph, seq: list[list[int]]) -> State | None:
    """Heads, tails and makespan of the sequences; None if they contain a cycle."""
    n = len(g.keys)
    mp, ms = _links(g, seq)
    jp, js, dur, lag = g.jp, g.js, g.dur, g.lag
    indeg = [(jp[i] >= 0) + (mp[i] >= 0) for i in range(n)]
    order = [i for i in range(n) if indeg[i] == 0]
    head = list(g.release)
    for i in order:  # the list grows while it is walked: Kahn's topological order
        e = head[i] + dur[i]
        j = js[i]
        if j >= 0:
            if e + lag[j] > head[j]:
                head[j] = e + lag[j]
            indeg[j] -= 1
            if indeg[j] == 0:
                order.append(j)
        j = ms[i]
        if j >= 0:
            if e > head[j]:
                head[j] = e
            indeg[j] -= 1
            if indeg[j] == 0:
                order.append(j)
    if len(order) < n:
        return None
    tail = [0] * n
    for i in reversed(order):
        t = 0
        j = js[i]
        if j >= 0:
            t = tail[j] + dur[j] + lag[j]
        j = ms[i]
        if j >= 0 and tail[j] + dur[j] > t:
            t = tail[j] + dur[j]
        tail[i] = t
    mk = max(head[i] + dur[i] for i in range(n)) if n else 0
    return State(seq, mp, ms, head, tail, mk)


def critical_path(g: Graph, st: State) -> list[int]:
    """One longest path, first operation to last, ending at an operation that finishes at the makespan."""
    head, dur = st.head, g.dur
    cur = max(range(len(dur)), key=lambda i: (head[i] + dur[i], -i))
    path = [cur]
    while True:
        h = head[cur]
        p = st.mp[cur]
        if p >= 0 and head[p] + dur[p] == h:
            cur = p  # prefer machine arcs: longer blocks give more moves
        else:
            p = g.jp[cur]
            if p >= 0 and head[p] + dur[p] + g.lag[cur] == h:
                cur = p
            else:
                break
        path.append(cur)
    path.reverse()
    return path


def blocks(g: Graph, st: State, path: list[int]) -> list[list[int]]:
    """Maximal runs of the path linked by machine arcs."""
    out = [[path[0]]]
    for a, b in zip(path, path[1:]):
        if st.mp[b] == a:
            out[-1].append(b)
        else:
            out.append([b])
    return out


def n5_moves(g: Graph, st: State) -> list[tuple[int, int]]:
    """N5: swap the first two (except in the first block) and the last two (except in the last block)."""
    bl = blocks(g, st, critical_path(g, st))
    moves = []
    last = len(bl) - 1
    for b, blk in enumerate(bl):
        if len(blk) < 2:
            continue
        if b > 0:
            moves.append((blk[0], blk[1]))
        if b < last and (len(blk) > 2 or b == 0):
            moves.append((blk[-2], blk[-1]))
    if not moves and len(bl) == 1 and len(bl[0]) >= 2:
        blk = bl[0]  # a single block: only its inner swaps can change anything
        moves = list(zip(blk, blk[1:]))
    return list(dict.fromkeys(moves))


def estimate(g: Graph, st: State, u: int, v: int) -> int:
    """Lower bound of the makespan after swapping adjacent ``u`` -> ``v`` on their machine (exact on the
    longest path through ``u`` or ``v``)."""
    head, tail, dur, jp, js, lag = st.head, st.tail, g.dur, g.jp, g.js, g.lag
    a, b = st.mp[u], st.ms[v]
    rv = g.release[v]
    if jp[v] >= 0:
        rv = max(rv, head[jp[v]] + dur[jp[v]] + lag[v])
    if a >= 0:
        rv = max(rv, head[a] + dur[a])
    ru = g.release[u]
    if jp[u] >= 0:
        ru = max(ru, head[jp[u]] + dur[jp[u]] + lag[u])
    ru = max(ru, rv + dur[v])
    qu = 0
    if js[u] >= 0:
        qu = tail[js[u]] + dur[js[u]] + lag[js[u]]
    if b >= 0:
        qu = max(qu, tail[b] + dur[b])
    qv = 0
    if js[v] >= 0:
        qv = tail[js[v]] + dur[js[v]] + lag[js[v]]
    qv = max(qv, qu + dur[u])
    return max(rv + dur[v] + qv, ru + dur[u] + qu)


def swap(st: State, g: Graph, u: int, v: int) -> list[list[int]]:
    """New sequences with adjacent ``u`` -> ``v`` reversed (the other machines' lists are shared)."""
    m = g.machine[u]
    s = list(st.seq[m])
    i = s.index(u)
    s[i], s[i + 1] = v, u
    seq = list(st.seq)
    seq[m] = s
    return seq


def sequences_of(g: Graph, schedule: Schedule) -> list[list[int]]:
    index = {k: i for i, k in enumerate(g.keys)}
    seq: list[list[int]] = [[] for _ in g.machine_ids]
    for a in sorted(schedule.assignments, key=lambda a: (a.start, a.end)):
        i = index[(a.order, a.index)]
        seq[g.machine[i]].append(i)
    return seq


def to_schedule(g: Graph, st: State, name: str, method: str) -> Schedule:
    out = [Assignment(k[0], k[1], g.machine_ids[g.machine[i]], st.head[i], st.head[i] + g.dur[i])
           for i, k in enumerate(g.keys)]
    return Schedule(name, out, method=method)


def tabu_search(problem: Problem, start: Schedule, time_limit: float, seed: int = 0,
                max_iterations: int | None = None, lower_bound: int = 0) -> Schedule:
    """Improve ``start`` (a valid schedule of a classical job shop) for ``time_limit`` seconds.

    Returns the best schedule found; its makespan is never above the start's (the semi-active schedule of
    the start's own sequences is at most the start's makespan).
    """
    if not is_classical(problem):
        raise ValueError("tabu search handles the classical job shop only (one machine per operation)")
    t0 = time.perf_counter()
    rng = random.Random(seed)
    g = Graph.of(problem)
    st = evaluate(g, sequences_of(g, start))
    if st is None:  # a valid schedule's start-time order is acyclic; this guards bad input
        raise ValueError("the start schedule's machine sequences contain a cycle")
    best = st
    n = len(g.keys)
    jobs, machines = len(problem.orders), len(problem.lines)
    base = 10 + jobs // machines  # tenure range of TSAB-style searches, scaled with the shape
    tabu: dict[tuple[int, int], int] = {}
    it = since_best = restarts = 0
    stall = max(2000, 10 * n)
    patience = 50  # restarts without a new best: the search has settled (frees the budget for CP-SAT)
    while time.perf_counter() - t0 < time_limit and best.makespan > lower_bound:
        if max_iterations is not None and it >= max_iterations:
            break
        it += 1
        moves = n5_moves(g, st)
        if not moves:
            break  # the critical path is one job: optimal for these sequences' bound
        chosen, chosen_val = None, None
        fallback = None
        for u, v in moves:
            val = estimate(g, st, u, v)
            # the move puts v before u; it is tabu if the arc v -> u was recently removed
            forbidden = tabu.get((v, u), 0) > it
            if forbidden and val >= best.makespan:
                if fallback is None or tabu[(v, u)] < tabu[fallback[0]]:
                    fallback = ((v, u), (u, v))
                continue
            if chosen_val is None or val < chosen_val or (val == chosen_val and rng.random() < 0.5):
                chosen, chosen_val = (u, v), val
        if chosen is None:
            chosen = fallback[1] if fallback else rng.choice(moves)
        u, v = chosen
        nxt = evaluate(g, swap(st, g, u, v))
        if nxt is None:  # cannot happen for critical adjacent swaps; skip defensively
            tabu[(v, u)] = it + base
            continue
        tabu[(u, v)] = it + base + rng.randint(0, base // 2)  # forbid restoring u -> v
        st = nxt
        if st.makespan < best.makespan:
            best, since_best, restarts = st, 0, 0
        else:
            since_best += 1
        if since_best >= stall:
            restarts += 1
            if restarts > patience:
                break
            # restart from the best with random critical swaps, forgetting the tabu list
            st = best
            for _ in range(rng.randint(2, 6)):
                mv = n5_moves(g, st) or []
                if not mv:
                    break
                cand = evaluate(g, swap(st, g, *rng.choice(mv)))
                if cand is not None:
                    st = cand
            tabu.clear()
            since_best = 0
    return to_schedule(g, best, problem.name, f"tabu-n5 ({it} iterations)")
