"""Least-cost pathway as a mixed-integer linear programme, solved by HiGHS through ``scipy.optimize.milp``.

Variables (years t of the horizon, whole measures i, continuous measures j, interaction groups g):

- ``start[i,t]`` binary: measure i is (re)invested in year t; in service x[i,t] = sum of start[i,tau] over
  t - L_i < tau <= t, with x[i,t] <= 1 (a measure stays for its lifetime, never twice at once); without
  re-investment sum_t start[i,t] <= 1;
- ``w[g,S,t]`` in [0, 1]: combination S of group g's measures is the one in service, sum_S w = 1 and
  x[i,t] = sum of w[g,S,t] over S containing i. For binary x exactly one w is 1 (the set of measures in service),
  so the interacting savings prod(1 - f_i) of that combination, computed exactly beforehand, enter linearly;
  combinations that break an exclusive group are not created;
- ``add[j,t]`` >= 0: size added (kW of PV, MWh bought), at most the ramp a year; in service cap[j,t] = sum over its
  lifetime window, PV at most the roof (``base.assets``).

Constraints per year: renewable MWh <= MWh consumed; Scope 1+2 <= target cap; renewable share >= target; at most
one measure of an exclusive group when they are in different interaction groups. Objective: the discounted cost
of :mod:`zerocarbon.core.pathway.model` (energy + annuities + opex + carbon price), which differs from the net
present cost only by a constant (business as usual). Nothing of scipy leaves this module: the answer is a core
``Plan`` judged by ``core.pathway.model.evaluate``.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from zerocarbon.core.pathway.model import Plan, PlanResult, Problem, evaluate, free_streams, groups
from zerocarbon.errors import InfeasibleError


@dataclass(frozen=True)
class Solution:
    plan: Plan
    result: PlanResult
    status: str  # optimal | time_limit (best found, not proven)
    objective: float  # discounted cost of the plan, the constant part included [currency]
    seconds: float
    variables: int
    binaries: int
    constraints: int
    gap: float | None


class _Model:
    """A sparse MILP under construction: named variable blocks, rows of (index, coefficient)."""

    def __init__(self):
        self.c, self.lo, self.hi, self.integer = [], [], [], []
        self.rows, self.cols, self.vals, self.lb, self.ub = [], [], [], [], []
        self.names: list[str] = []

    def var(self, lo: float, hi: float, cost: float = 0.0, integer: bool = False) -> int:
        self.c.append(cost)
        self.lo.append(lo)
        self.hi.append(hi)
        self.integer.append(1 if integer else 0)
        return len(self.c) - 1

    def row(self, terms: dict[int, float], lb: float, ub: float, name: str) -> int:
        r = len(self.lb)
        for k, v in terms.items():
            if v != 0:
                self.rows.append(r)
                self.cols.append(k)
                self.vals.append(v)
        self.lb.append(lb)
        self.ub.append(ub)
        self.names.append(name)
        return r

    def solve(self, time_limit: float, objective: np.ndarray | None = None):
        a = coo_matrix((self.vals, (self.rows, self.cols)), shape=(len(self.lb), len(self.c))).tocsr()
        cons = [LinearConstraint(a, np.array(self.lb), np.array(self.ub))] if self.lb else []
        return milp(np.array(self.c) if objective is None else objective, integrality=np.array(self.integer),
                    bounds=Bounds(np.array(self.lo), np.array(self.hi)), constraints=cons,
                    options={"time_limit": time_limit, "disp": False, "mip_rel_gap": 1e-7})


def _add(terms: dict[int, float], k: int, v: float) -> None:
    terms[k] = terms.get(k, 0.0) + v


@dataclass
class _Built:
    model: _Model
    start: dict[tuple[str, int], int]
    add: dict[tuple[str, int], int]
    const: float
    # per year: linear expressions (terms, constant) of Scope 1+2, renewable MWh and electricity MWh
    scope12: dict[int, tuple[dict[int, float], float]]
    renewable: dict[int, tuple[dict[int, float], float]]
    electricity: dict[int, tuple[dict[int, float], float]]


def _build(problem: Problem, with_targets: bool = True) -> _Built:
    sc = problem.scenario
    years = problem.years
    m = _Model()
    whole = [x for x in problem.measures if x.binary]
    cont = [x for x in problem.measures if not x.binary]
    start = {(i.id, t): m.var(0, 1, 0.0, True) for i in whole for t in years}
    add = {}
    for j in cont:
        ramp = j.ramp.value if j.ramp else np.inf
        for t in years:
            add[(j.id, t)] = m.var(0, ramp)
    gs = groups(problem)
    free = free_streams(problem)
    const = 0.0
    s12, ren, ele = {}, {}, {}

    def window(mid: str, t: int, life: int) -> list[int]:
        return [start[(mid, tau)] for tau in years if tau <= t < tau + life]

    for i in whole:
        life = int(i.lifetime.value)
        for t in years:
            m.row({k: 1.0 for k in window(i.id, t, life)}, 0, 1, f"{i.id}: in service once in {t}")
            for k in window(i.id, t, life):  # the annuity and opex of each year in service
                m.c[k] += sc.discount(t) * problem.annual_fixed(i)
        if not sc.reinvest:
            m.row({start[(i.id, t)]: 1.0 for t in years}, 0, 1, f"{i.id}: invested once")
    for t in years:
        g_t, ef, d = sc.growth_factor(t), sc.grid(t), sc.discount(t)
        s12_t, ren_t, ele_t = {}, {}, {}
        c12 = g_t * (free.scope1_t + ef * free.electricity_mwh) - ef * sc.base.onsite_re_mwh
        cren = sc.base.onsite_re_mwh
        cele = g_t * free.electricity_mwh
        const += d * (g_t * (sc.electricity_price * free.electricity_mwh + free.fuel_cost(sc.fuel_prices))
                      - sc.electricity_price * sc.base.onsite_re_mwh + sc.carbon_price * c12)
        for gi, grp in enumerate(gs):
            link = {}
            ws = []
            for subset, q in grp.combos:
                cost = g_t * (sc.electricity_price * q.electricity_mwh + q.fuel_cost(sc.fuel_prices))
                e12 = g_t * (q.scope1_t + ef * q.electricity_mwh)
                k = m.var(0, 1, d * (cost + sc.carbon_price * e12))
                ws.append(k)
                _add(s12_t, k, e12)
                _add(ele_t, k, g_t * q.electricity_mwh)
                for mid in subset:
                    link.setdefault(mid, []).append(k)
            m.row({k: 1.0 for k in ws}, 1, 1, f"group {gi}: one combination in {t}")
            for mid in grp.measures:
                terms = {k: 1.0 for k in link.get(mid, [])}
                for k in window(mid, t, int(problem.measure(mid).lifetime.value)):
                    _add(terms, k, -1.0)
                m.row(terms, 0, 0, f"{mid}: combination matches service in {t}")
        for j in cont:
            life = int(j.lifetime.value)
            ks = [add[(j.id, tau)] for tau in years if tau <= t < tau + life]
            mwh = j.yield_.value if j.kind == "onsite_re" else 1.0
            unit = problem.unit_cost(j) - (sc.electricity_price * mwh if j.kind == "onsite_re" else 0.0)
            for k in ks:
                m.c[k] += d * (unit - sc.carbon_price * ef * mwh)
                _add(s12_t, k, -ef * mwh)
                _add(ren_t, k, mwh)
            cap = problem.max_size(j)
            if cap is not None:
                m.row({k: 1.0 for k in ks}, 0, cap, f"{j.id}: at most {cap:g} in service in {t}")
        by_group = {}
        for i in whole:
            if i.exclusive:
                by_group.setdefault(i.exclusive, []).append(i)
        for g, members in by_group.items():
            terms = {}
            for i in members:
                for k in window(i.id, t, int(i.lifetime.value)):
                    _add(terms, k, 1.0)
            m.row(terms, 0, 1, f"exclusive group {g} in {t}")
        # renewable MWh cannot exceed the MWh consumed
        terms = dict(ren_t)
        for k, v in ele_t.items():
            _add(terms, k, -v)
        m.row(terms, -np.inf, cele - cren, f"renewable MWh <= consumption in {t}")
        s12[t], ren[t], ele[t] = (s12_t, c12), (ren_t, cren), (ele_t, cele)
    built = _Built(m, start, add, const, s12, ren, ele)
    if with_targets:
        for target in sc.targets:
            _target_rows(problem, built, target)
    return built


def _target_rows(problem: Problem, b: _Built, target) -> None:
    t = target.year
    cap = problem.cap(target)
    if cap is not None:
        terms, c = b.scope12[t]
        b.model.row(terms, -np.inf, cap - c, f"Scope 1+2 <= {cap:,.1f} t in {t}")
    if target.min_re_share is not None:
        terms, c = _share(b, t, target.min_re_share)
        b.model.row(terms, -c, np.inf, f"renewable share >= {target.min_re_share:.1%} in {t}")


def _share(b: _Built, t: int, share: float) -> tuple[dict[int, float], float]:
    """renewable - share x electricity, as (terms, constant)."""
    (rt, rc), (et, ec) = b.renewable[t], b.electricity[t]
    terms = dict(rt)
    for k, v in et.items():
        _add(terms, k, -share * v)
    return terms, rc - share * ec


def _plan(problem: Problem, b: _Built, x: np.ndarray) -> Plan:
    starts: dict[str, list[int]] = {}
    for (mid, t), k in b.start.items():
        if x[k] > 0.5:
            starts.setdefault(mid, []).append(t)
    added: dict[str, dict[int, float]] = {}
    for (mid, t), k in b.add.items():
        if x[k] > 1e-7:
            added.setdefault(mid, {})[t] = float(x[k])
    return Plan({k: tuple(sorted(v)) for k, v in starts.items()}, added)


def _explain(problem: Problem, time_limit: float) -> list[str]:
    """Which targets cannot be met, each on its own, with the best the catalogue reaches."""
    reasons = []
    for target in problem.scenario.targets:
        cap = problem.cap(target)
        if cap is not None:
            b = _build(problem, with_targets=False)
            terms, c = b.scope12[target.year]
            obj = np.zeros(len(b.model.c))
            for k, v in terms.items():
                obj[k] = v
            res = b.model.solve(time_limit, obj)
            if res.x is not None and res.fun + c > cap + 1e-6:
                reasons.append(f"Scope 1+2 <= {cap:,.1f} tCO2e in {target.year}: the lowest the measures reach is "
                               f"{res.fun + c:,.1f} tCO2e")
        if target.min_re_share is not None:
            b = _build(problem, with_targets=False)
            terms, c = _share(b, target.year, target.min_re_share)
            obj = np.zeros(len(b.model.c))
            for k, v in terms.items():
                obj[k] = -v
            res = b.model.solve(time_limit, obj)
            if res.x is not None and -res.fun + c < -1e-6:
                reasons.append(f"renewable share >= {target.min_re_share:.1%} in {target.year}: at best "
                               f"{-(-res.fun + c):,.1f} MWh short")
    return reasons


def solve(problem: Problem, *, time_limit: float | None = None,
          progress: Callable[[str], None] | None = None) -> Solution:
    """The least-cost plan meeting every target, or InfeasibleError naming the targets that cannot be met."""
    say = progress or (lambda message: None)
    limit = time_limit if time_limit is not None else problem.scenario.time_limit_s
    t0 = time.perf_counter()
    say("building the model")
    b = _build(problem)
    binaries = int(sum(b.model.integer))
    say(f"solving: {len(b.model.c):,} variables ({binaries:,} binary), {len(b.model.lb):,} constraints")
    res = b.model.solve(limit)
    seconds = time.perf_counter() - t0
    if res.status == 2 or (res.x is None and res.status in (1, 3)):
        if res.status == 1:
            raise InfeasibleError(f"no plan meeting the targets was found within {limit:g} s; allow more time")
        say("infeasible: finding which target cannot be met")
        reasons = _explain(problem, limit) or ["the targets cannot all be met together, though each can be alone"]
        raise InfeasibleError("no plan meets the targets: " + "; ".join(reasons))
    if res.x is None:
        raise InfeasibleError(f"the solver stopped: {res.message}")
    plan = _plan(problem, b, res.x)
    say("evaluating the plan")
    result = evaluate(problem, plan)
    gap = getattr(res, "mip_gap", None)
    return Solution(plan, result, "optimal" if res.status == 0 else "time_limit", float(res.fun + b.const), seconds,
                    len(b.model.c), binaries, len(b.model.lb), float(gap) if gap is not None else None)
