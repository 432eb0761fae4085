"""Marginal abatement cost curve and the greedy cost-per-tonne pathway.

The MACC of a year is built step by step, as measures interact: at each step every remaining measure is costed
against the state left by those already taken (its saving acts on what remains), the cheapest per tonne is taken,
and the others are costed again. Annual cost of a step = change in (energy cost + capex annuity + opex) [CNY/year];
tonnes = change in Scope 1+2 (market-based) [tCO2e/year], or in Scope 3 for a Scope 3 measure; cost per tonne =
cost / tonnes. Continuous measures are taken at the largest size the state allows (PV up to the roof and the
electricity not yet renewable; purchases: all electricity not yet renewable); ramp limits do not apply to a
one-year curve. Measures that abate nothing in the state left are listed last, without a cost per tonne.

The greedy pathway walks the same order: for each target year, it adopts the next measure (from that year on,
renewed at the end of its life when re-investment is allowed) until the year's targets are met, or the list is
exhausted (then it misses them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from zerocarbon.core.pathway.model import Plan, PlanResult, Problem, evaluate, year_result


@dataclass(frozen=True)
class MaccEntry:
    measure_id: str
    name_en: str
    name_zh: str
    scope: int
    size: float  # MWh or tCO2e a year of the streams (whole), kW (PV), MWh bought
    size_unit: str
    annual_cost: float  # [currency/year], net of energy savings
    abatement_t: float  # [tCO2e/year]
    cost_per_t: float | None  # [currency/tCO2e]; None: abates nothing after the measures before it
    cumulative_t: float
    illustrative: tuple[str, ...]
    lineage: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"measure": self.measure_id, "name": {"en": self.name_en, "zh": self.name_zh}, "scope": self.scope,
                "size": self.size, "size_unit": self.size_unit, "annual_cost": self.annual_cost,
                "abatement_t": self.abatement_t, "cost_per_t": self.cost_per_t, "cumulative_t": self.cumulative_t,
                "illustrative": list(self.illustrative), "lineage": self.lineage}


def _with(problem: Problem, plan: Plan, mid: str, year: int, size: float | None = None, until: int | None = None
          ) -> Plan:
    """``plan`` plus measure ``mid`` from ``year`` (renewed to ``until`` when re-investment is allowed)."""
    m = problem.measure(mid)
    life = int(m.lifetime.value)
    last = until or year
    if m.binary:
        starts = [year]
        while problem.scenario.reinvest and starts[-1] + life <= last:
            starts.append(starts[-1] + life)
        return Plan({**plan.starts, mid: tuple(starts)}, plan.added)
    added = dict(plan.added.get(mid, {}))
    added[year] = added.get(year, 0.0) + (size or 0.0)
    return Plan(plan.starts, {**plan.added, mid: added})


def _room(problem: Problem, plan: Plan, mid: str, year: int) -> float:
    """Largest size a continuous measure can add in ``year`` without making more renewable MWh than consumed."""
    m = problem.measure(mid)
    y = year_result(problem, plan, year)
    free = max(0.0, y.electricity_mwh - y.onsite_re_mwh - y.purchased_re_mwh)
    if m.kind == "re_purchase":
        return free
    cap = problem.max_size(m) or 0.0
    return max(0.0, min(cap - plan.capacity(problem, mid, year), free / m.yield_.value))


def _size_unit(m, problem: Problem) -> str:
    if m.kind == "onsite_re":
        return "kW"
    if m.kind == "re_purchase":
        return "MWh"
    return "tCO2e" if m.acts_on in ("refrigerant", "scope3") else "MWh"


def macc(problem: Problem, year: int | None = None) -> tuple[MaccEntry, ...]:
    """The curve of ``year`` (default: the first year after the base), cheapest tonne first."""
    year = year or problem.years[0]
    one = Plan()
    state = year_result(problem, one, year)
    left = [m.id for m in problem.measures]
    out: list[MaccEntry] = []
    cumulative = 0.0
    while left:
        best = None
        for mid in left:
            m = problem.measure(mid)
            size = None if m.binary else _room(problem, one, mid, year)
            trial = _with(problem, one, mid, year, size)
            y = year_result(problem, trial, year)
            tonnes = (state.scope3_t - y.scope3_t) if m.scope == 3 else (state.scope12_t - y.scope12_t)
            cost = (y.energy_cost + y.measure_cost) - (state.energy_cost + state.measure_cost)
            per_t = cost / tonnes if tonnes > 1e-9 else math.inf
            if best is None or per_t < best[0] or (per_t == best[0] and mid < best[1]):
                best = (per_t, mid, size, trial, y, tonnes, cost)
        per_t, mid, size, trial, y, tonnes, cost = best
        m = problem.measure(mid)
        left.remove(mid)
        if m.exclusive:  # the others of its group are gone
            left = [i for i in left if problem.measure(i).exclusive != m.exclusive]
        abated = tonnes if math.isfinite(per_t) else 0.0
        cumulative += abated if m.scope != 3 else 0.0
        out.append(MaccEntry(mid, m.name.en, m.name.zh, m.scope, size if size is not None else problem.size(m),
                             _size_unit(m, problem), cost, abated, per_t if math.isfinite(per_t) else None,
                             cumulative, m.illustrative, dict(m.lineage)))
        if math.isfinite(per_t):
            one, state = trial, y
    return tuple(out)


@dataclass(frozen=True)
class GreedyResult:
    plan: Plan
    result: PlanResult
    order: tuple[str, ...]

    @property
    def meets_targets(self) -> bool:
        return self.result.meets_targets


def _misses(problem: Problem, plan: Plan, year: int) -> bool:
    y = year_result(problem, plan, year)
    over = y.target_cap_t is not None and y.scope12_t > y.target_cap_t + 1e-6
    short = y.target_re_share is not None and y.re_share < y.target_re_share - 1e-9
    return over or short


def _adopt(problem: Problem, plan: Plan, mid: str, year: int) -> Plan:
    m = problem.measure(mid)
    last = problem.years[-1]
    if m.binary:
        return _with(problem, plan, mid, year, until=last)
    if m.kind == "re_purchase":  # bought every year from now on, as much as is not yet renewable
        for t in range(year, last + 1):
            plan = _with(problem, plan, mid, t, _room(problem, plan, mid, t))
        return plan
    size = _room(problem, plan, mid, year)
    ramp = m.ramp.value if m.ramp else math.inf
    steps = max(1, math.ceil(size / ramp)) if math.isfinite(ramp) else 1
    first = max(problem.years[0], year - steps + 1)
    for t in range(first, year + 1):
        if size <= 1e-9:
            break
        add = min(ramp, size)
        plan = _with(problem, plan, mid, t, add)
        size -= add
    return plan


def greedy(problem: Problem, year: int | None = None, curve: tuple[MaccEntry, ...] | None = None) -> GreedyResult:
    """Adopt measures in MACC order (``curve``, default: the MACC of ``year``), cheapest tonne first, until each
    target year's targets are met."""
    curve = curve if curve is not None else macc(problem, year)
    order = tuple(e.measure_id for e in curve if e.cost_per_t is not None and e.scope != 3)
    plan, taken = Plan(), 0
    for target in problem.scenario.targets:
        while _misses(problem, plan, target.year) and taken < len(order):
            plan = _adopt(problem, plan, order[taken], target.year)
            taken += 1
    return GreedyResult(plan, evaluate(problem, plan), order[:taken])
