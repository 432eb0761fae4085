"""Scoring a factory against an index system: points, dimension scores, gates, grade and the gap list.

Per indicator i with P_i points and value x (in the indicator's unit):

- ``linear``    f = clamp((x - baseline) / (leading - baseline), 0, 1); the same formula serves both directions
                (for "lower is better" the leading value is below the baseline);
- ``threshold`` f = the fraction of the hardest step reached (x >= value for "higher", x <= value for "lower"),
                0 below the first step;
- ``checklist`` f = items met / items (x is the count met, an integer 0..items);
- ``boolean``   f = 1 when x is 1, 0 when x is 0;

and points_i = P_i x f. A value that is missing scores 0 (status ``missing``), a value not yet reviewed
scores 0 (status ``awaiting_review``), a value in a unit that cannot be read or outside the rule's domain scores
0 (status ``invalid``): nothing is ever given full marks for lack of data.

Mandatory indicators act as gates within their dimension (the GB/T 36132-2018 必选 items): a mandatory indicator
that scores 0 points sets its whole dimension to 0. The penalty stays where the failure is, is visible on the
radar, and lowers the total (and so the grade) by what that dimension would have given; gates proper (the
system's ``gates``) are what withholds a grade altogether.

Boundary: an indicator whose ``boundaries`` do not contain the assessed boundary is ``not_applicable``; the
remaining points are rescaled by s = 100 / (points still applicable) so totals and grade thresholds keep their
meaning. Every points figure in the result (indicators, dimensions, gaps) is on that rescaled basis.

Grade: the highest grade whose ``min_score`` is met (with a 1e-9 tolerance), whose conditions all hold and for
which every applicable gate passed; a gate without data does not pass.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from zerocarbon.core.assessment.index import (
    Condition, Gate, Grade, IndexSystem, Indicator, Rule, compare, unit_kind,
)
from zerocarbon.errors import InputError, Problem, UnitError
from zerocarbon.units import scale

SCORED, MISSING, AWAITING_REVIEW, NOT_APPLICABLE, INVALID = (
    "scored", "missing", "awaiting_review", "not_applicable", "invalid")


@dataclass(frozen=True)
class MetricValue:
    """One metric's value with where it came from. ``source``: computed | manual; a manual value counts only
    once ``reviewed``. ``lineage`` says what it was computed from (meters, inventory, files)."""

    value: float | None
    unit: str
    source: str
    reviewed: bool = True
    lineage: dict = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class IndicatorScore:
    indicator: Indicator
    dimension: str
    points: float
    max_points: float
    status: str  # scored | missing | awaiting_review | not_applicable | invalid
    value: MetricValue | None
    reason: str = ""  # why not scored, or why the dimension was zeroed
    fraction: float = 0.0  # share of the indicator's points reached by the value, 0..1


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    passed: bool | None  # None: no data (or not reviewed), which does not pass
    reason: str


@dataclass(frozen=True)
class Gap:
    indicator: Indicator
    points_short: float  # the indicator's own points below its maximum
    value: float | None
    needed: float | None  # the value that gives full points (inverse of the rule), in the indicator's unit
    measures: tuple[str, ...]
    withheld: float = 0.0  # other points of the dimension lost while this mandatory indicator scores 0
    status: str = SCORED

    @property
    def gain(self) -> float:
        """Points the total gains when this indicator reaches full points."""
        return self.points_short + self.withheld


@dataclass(frozen=True)
class Shortfall:
    """One thing standing between the result and the next grade, structured for display in any language."""

    kind: str  # score | condition | gate
    ref: str  # grade id (score), condition ref, gate id
    op: str
    target: float | None
    actual: float | None
    text: str  # English


@dataclass(frozen=True)
class ScoreResult:
    system: IndexSystem
    boundary: str
    total: float
    max_total: float
    dimensions: tuple[tuple[str, float, float], ...]  # (dimension id, score, max)
    indicators: tuple[IndicatorScore, ...]
    gates: tuple[GateResult, ...]
    grade: Grade | None
    next_grade: Grade | None
    missing_for_next: tuple[str, ...]
    gaps: tuple[Gap, ...]
    shortfalls: tuple[Shortfall, ...] = ()  # missing_for_next, structured
    scale: float = 1.0  # points multiplier of the boundary rescaling
    zeroed: tuple[tuple[str, str], ...] = ()  # (dimension id, mandatory indicator id that zeroed it)

    def indicator_score(self, indicator_id: str) -> IndicatorScore | None:
        return next((s for s in self.indicators if s.indicator.id == indicator_id), None)


# ------------------------------------------------------------------------------------------------- the rules

def rule_fraction(rule: Rule, x: float) -> float:
    """Share of an indicator's points that value ``x`` earns under ``rule``, 0..1."""
    if rule.kind == "linear":
        return min(1.0, max(0.0, (x - rule.baseline) / (rule.leading - rule.baseline)))
    if rule.kind == "threshold":
        op = ">=" if rule.direction == "higher" else "<="
        return max((f for v, f in rule.steps if compare(x, op, v)), default=0.0)
    if rule.kind == "checklist":
        return min(1.0, max(0.0, x / len(rule.items)))
    return 1.0 if compare(x, "==", 1.0) else 0.0


def value_for_fraction(rule: Rule, fraction: float) -> float | None:
    """The least demanding value that earns ``fraction`` (0 < fraction <= 1) of the points: the inverse of
    :func:`rule_fraction`. None when no value earns it."""
    if rule.kind == "linear":
        return rule.baseline + fraction * (rule.leading - rule.baseline)
    if rule.kind == "threshold":
        return next((v for v, f in rule.steps if f >= fraction - 1e-12), None)
    if rule.kind == "checklist":
        return float(math.ceil(fraction * len(rule.items) - 1e-9))
    return 1.0


def _domain_problem(rule: Rule, x: float) -> str:
    if rule.kind == "checklist" and (x < 0 or x > len(rule.items) or x != int(x)):
        return f"{x:g} is not a count of items met between 0 and {len(rule.items)}"
    if rule.kind == "boolean" and x not in (0, 1):
        return f"{x:g} is neither 0 (no) nor 1 (yes)"
    return ""


def entry_problem(system: IndexSystem, metric: str, x: float) -> str:
    """Why ``x`` cannot be the value a person enters for ``metric`` (empty when it can), by the unit and rule the
    system reads it with: a fraction in [0, 1], a yes/no 0 or 1, a checklist count of 0 to its number of items,
    any other quantity not negative."""
    unit = system.unit_of(metric) or "bool"
    checklist = next((i.rule for i in system.indicators() if i.metric == metric and i.rule.kind == "checklist"), None)
    if checklist is not None:
        return _domain_problem(checklist, x)
    if unit == "bool":
        return "" if x in (0, 1) else f"must be 0 (no) or 1 (yes), not {x:g}"
    if unit == "fraction":
        return "" if 0 <= x <= 1 else f"{x:g} is not a fraction between 0 and 1 (write 80 % as 0.8)"
    return "" if x >= 0 else f"{x:g} {unit}: a quantity must not be negative"


def _read(x: float, value_unit: str, unit: str) -> tuple[float | None, str]:
    """``x`` [value_unit] in ``unit``, or (None, why not)."""
    if value_unit == unit:
        return x, ""
    try:
        if unit_kind(unit) == "physical" and unit_kind(value_unit) == "physical":
            return x * scale(value_unit, unit), ""
    except UnitError as exc:
        return None, str(exc)
    return None, f"value in '{value_unit}' cannot be read as '{unit}'"


def _usable(value: MetricValue | None, unit: str) -> tuple[str, float | None, str]:
    """(status, value in ``unit``, reason) for a metric value as scoring and gates see it."""
    if value is None or value.value is None:
        return MISSING, None, "no value"
    try:
        x = float(value.value)
    except (TypeError, ValueError):
        return INVALID, None, f"{value.value!r} is not a number"
    if math.isnan(x):
        return MISSING, None, "no value"
    if not value.reviewed:
        return AWAITING_REVIEW, None, "entered but not yet reviewed"
    if math.isinf(x):
        return INVALID, None, "the value is infinite"
    x, why = _read(x, value.unit, unit)
    return (INVALID, None, why) if x is None else (SCORED, x, "")


def score_indicator(ind: Indicator, dimension: str, value: MetricValue | None, factor: float) -> IndicatorScore:
    status, x, reason = _usable(value, ind.unit)
    if status == SCORED and (why := _domain_problem(ind.rule, x)):
        status, reason = INVALID, why
    frac = rule_fraction(ind.rule, x) if status == SCORED else 0.0
    return IndicatorScore(ind, dimension, ind.points * factor * frac, ind.points * factor, status, value,
                          reason, frac)


# ------------------------------------------------------------------------------------------- gates, grades

def check_gate(gate: Gate, system: IndexSystem, values: Mapping[str, MetricValue]) -> GateResult:
    status, x, reason = _usable(values.get(gate.metric), system.unit_of(gate.metric) or "bool")
    if status != SCORED:
        return GateResult(gate, None, f"{gate.metric}: {reason}")
    ok = compare(x, gate.op, gate.value)
    return GateResult(gate, ok, f"{gate.metric} = {x:g}, required {gate.op} {gate.value:g}")


def _condition(cond: Condition, system: IndexSystem, values, by_id: dict[str, IndicatorScore]) -> Shortfall | None:
    """None when the condition holds, else what is short."""
    if cond.ref in by_id:
        s = by_id[cond.ref]
        if s.status == NOT_APPLICABLE:
            return None  # a condition on an indicator the boundary skips does not bind
        actual = s.fraction
    else:
        status, actual, reason = _usable(values.get(cond.ref), system.unit_of(cond.ref) or "bool")
        if status != SCORED:
            return Shortfall("condition", cond.ref, cond.op, cond.value, None, f"{cond.text()} ({reason})")
    if compare(actual, cond.op, cond.value):
        return None
    return Shortfall("condition", cond.ref, cond.op, cond.value, actual, f"{cond.text()} (now {actual:.4g})")


def _shortfalls(grade: Grade, total: float, system, values, by_id, gates) -> list[Shortfall]:
    out = []
    if not compare(total, ">=", grade.min_score):
        out.append(Shortfall("score", grade.id, ">=", grade.min_score, total,
                             f"score {total:.6g} below {grade.min_score:g}"))
    out += [s for c in grade.requires if (s := _condition(c, system, values, by_id))]
    out += [Shortfall("gate", g.gate.id, g.gate.op, g.gate.value, None,
                      f"gate {g.gate.id} not passed ({g.reason})") for g in gates if g.passed is not True]
    return out


# ----------------------------------------------------------------------------------------------------- score

def score(system: IndexSystem, values: Mapping[str, MetricValue], boundary: str = "site") -> ScoreResult:
    """Score ``values`` (metric key -> value) against ``system`` for the ``boundary`` (site | workshop)."""
    if boundary not in system.boundaries:
        raise InputError([Problem(source=system.id, row=None, column="boundary",
                                  reason=f"'{boundary}' is not a boundary of this system "
                                         f"({', '.join(system.boundaries)})")])
    applicable = sum(i.points for i in system.indicators() if boundary in i.boundaries)
    factor = system_total(system) / applicable if applicable else 0.0

    scores, dims, zeroed, gaps = [], [], [], []
    for dim in system.dimensions:
        mine = [score_indicator(i, dim.id, values.get(i.metric), factor) if boundary in i.boundaries
                else IndicatorScore(i, dim.id, 0.0, 0.0, NOT_APPLICABLE, values.get(i.metric),
                                    f"not assessed at {boundary} level")
                for i in dim.indicators]
        blocker = next((s for s in mine if s.indicator.mandatory and s.max_points > 0 and s.points <= 0), None)
        got, top = sum(s.points for s in mine), sum(s.max_points for s in mine)
        if blocker:
            zeroed.append((dim.id, blocker.indicator.id))
        for s in mine:
            if s.status != NOT_APPLICABLE and s.points < s.max_points - 1e-12:
                withheld = got - s.points if s is blocker else 0.0
                gaps.append(Gap(s.indicator, s.max_points - s.points,
                                _usable(s.value, s.indicator.unit)[1] if s.status == SCORED else None,
                                value_for_fraction(s.indicator.rule, 1.0), s.indicator.measures, withheld, s.status))
        scores += mine
        dims.append((dim.id, 0.0 if blocker else got, top))

    total = sum(d[1] for d in dims)
    max_total = sum(d[2] for d in dims)
    gates = tuple(check_gate(g, system, values) for g in system.gates if boundary in g.boundaries)
    by_id = {s.indicator.id: s for s in scores}
    reached = [g for g in system.grades if not _shortfalls(g, total, system, values, by_id, gates)]
    grade = reached[-1] if reached else None
    above = system.grades[system.grades.index(grade) + 1:] if grade else system.grades
    next_grade = above[0] if above else None
    short = tuple(_shortfalls(next_grade, total, system, values, by_id, gates)) if next_grade else ()
    order = {i.id: k for k, i in enumerate(system.indicators())}
    gaps.sort(key=lambda g: (-round(g.gain, 9), order[g.indicator.id]))  # ties: the system's own order
    return ScoreResult(system=system, boundary=boundary, total=total, max_total=max_total, dimensions=tuple(dims),
                       indicators=tuple(scores), gates=gates, grade=grade, next_grade=next_grade,
                       missing_for_next=tuple(s.text for s in short), gaps=tuple(gaps), shortfalls=short,
                       scale=factor, zeroed=tuple(zeroed))


def system_total(system: IndexSystem) -> float:
    return sum(i.points for i in system.indicators())
