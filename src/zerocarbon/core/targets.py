"""Reduction targets: a linear trajectory from the base year, progress in a year, and a check against the
Science Based Targets initiative's published rules (docs/targets.md lists every rule with its source).

Values are plain floats in the unit each target states: tCO2e for absolute and net-zero targets, tCO2e per
output unit for intensity targets, a fraction (0..1) for renewable-electricity targets.

SBTi rules used (Corporate Near-Term Criteria v5.x, Corporate Net-Zero Standard v1.x):
- absolute contraction approach: the linear annual reduction rate (LAR) is the reduction over the base-year
  value divided by the years from base year to target year; 1.5 degC needs at least 4.2 %/yr, well-below
  2 degC at least 2.5 %/yr; Scope 1+2 targets must be 1.5 degC aligned, Scope 3 at least well-below 2 degC;
- near-term timeframe: 5 to 10 years from submission; a target submitted in the first half of a calendar year
  counts that year (the criteria's own example, for the 5..15-year rule of v4.x, is reproduced in the tests);
- base year no earlier than 2015;
- coverage: 95 % of Scope 1+2; a Scope 3 target covers at least 67 % of Scope 3;
- long term (net zero): at least 90 % reduction by 2050 at the latest, Scope 3 included;
- renewable electricity, the alternative for Scope 2: 80 % by 2025 and 100 % by 2030.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

KINDS = ("absolute", "intensity", "renewable_electricity", "net_zero")
SCOPES = ("s1s2", "s3", "s1s2s3")
METHODS = ("market", "location")
ORG = "org"  # the boundary of a target covering the whole organisation; otherwise a site code

RATE_1_5C = 0.042  # minimum linear annual reduction, 1.5 degC, absolute contraction (fraction of base per year)
RATE_WB2C = 0.025  # minimum linear annual reduction, well-below 2 degC
EARLIEST_BASE_YEAR = 2015
NEAR_TERM_MIN_YEARS = 5
NEAR_TERM_MAX_YEARS = 10  # v5.x; v4.x allowed 15
SCOPE12_COVERAGE = 0.95
SCOPE3_COVERAGE = 0.67
SCOPE3_MATERIAL_SHARE = 0.40  # a Scope 3 target is required when Scope 3 is 40 % or more of Scopes 1+2+3
LONG_TERM_REDUCTION = 0.90
LONG_TERM_LATEST_YEAR = 2050
RE_MILESTONES = ((2025, 0.80), (2030, 1.00))

AMBITION_1_5C, AMBITION_WB2C, NOT_ALIGNED, NOT_ASSESSED = "1.5C", "WB2C", "not aligned", "not assessed"
_EPS = 1e-9


@dataclass(frozen=True)
class Target:
    """A reduction (or renewable-electricity) target.

    base_value : value of the base year [tCO2e | tCO2e/unit | fraction]
    reduction : fraction of the base value to cut by the target year (absolute, intensity, net_zero)
    re_share : renewable share of electricity to reach by the target year [fraction] (renewable_electricity)
    denominator, denominator_unit : output metric of an intensity target (``units`` or ``revenue``) and its unit
    base_output, projected_output : output of the base year and the stated projection for the target year
    coverage : share of the scope's emissions (of the organisation) inside the target's boundary [fraction]
    """

    id: str
    kind: str
    scopes: str
    base_year: int
    base_value: float
    target_year: int
    scope2_method: str = "market"
    boundary: str = ORG
    reduction: float | None = None
    re_share: float | None = None
    denominator: str | None = None
    denominator_unit: str | None = None
    base_output: float | None = None
    projected_output: float | None = None
    coverage: float = 1.0
    submitted: date | None = None
    note: str = ""

    @property
    def unit(self) -> str:
        if self.kind == "renewable_electricity":
            return "fraction"
        if self.kind == "intensity":
            return f"tCO2e/{self.denominator_unit or 'unit'}"
        return "tCO2e"

    @property
    def target_value(self) -> float:
        if self.kind == "renewable_electricity":
            return float(self.re_share)
        return self.base_value * (1 - float(self.reduction))

    @property
    def higher_is_better(self) -> bool:
        return self.kind == "renewable_electricity"


def problems(t: Target) -> list[tuple[str, str]]:
    """(field, reason) for everything that makes ``t`` impossible; empty when it can be set."""
    out = []
    if t.kind not in KINDS:
        out.append(("kind", f"'{t.kind}' is not one of {', '.join(KINDS)}"))
    if t.scopes not in SCOPES:
        out.append(("scopes", f"'{t.scopes}' is not one of {', '.join(SCOPES)}"))
    if t.scope2_method not in METHODS:
        out.append(("scope2_method", f"'{t.scope2_method}' is not one of {', '.join(METHODS)}"))
    if t.target_year <= t.base_year:
        out.append(("target_year", f"target year {t.target_year} must come after the base year {t.base_year}"))
    if t.kind == "renewable_electricity":
        if t.re_share is None:
            out.append(("re_share", "required for kind renewable_electricity: the share of electricity to reach, "
                                    "in (0, 1]; 0.9 is 90 %"))
        elif not 0 < t.re_share <= 1:
            out.append(("re_share", f"{t.re_share:g} is outside (0, 1]: give the share of electricity to reach; "
                                    "0.9 is 90 %"))
        elif t.re_share <= t.base_value:
            out.append(("re_share", f"renewable share {t.re_share:.3f} is not above the base year's "
                                    f"{t.base_value:.3f}: nothing to reach"))
    elif t.reduction is None:
        out.append(("reduction", f"required for kind {t.kind}: the fraction of the base value to cut, in (0, 1]; "
                                 "0.42 is -42 %"))
    elif not 0 < t.reduction <= 1:
        out.append(("reduction", f"{t.reduction:g} is outside (0, 1]: give the fraction of the base value to cut; "
                                 "0.42 is -42 %"))
    if t.kind != "renewable_electricity" and not t.base_value > 0:
        out.append(("base_value", f"the base year's value {t.base_value} {t.unit} must be positive"))
    if t.kind == "intensity" and t.denominator not in ("units", "revenue"):
        out.append(("denominator", f"an intensity target needs an output metric: units or revenue, "
                                   f"not '{t.denominator}'"))
    if t.kind == "renewable_electricity" and t.scopes != "s1s2":
        out.append(("scopes", "a renewable-electricity target addresses Scope 2: scopes must be s1s2"))
    if not 0 < t.coverage <= 1:
        out.append(("coverage", f"coverage {t.coverage} must lie in (0, 1]"))
    return out


def trajectory(t: Target, year: int) -> float:
    """Value expected in ``year`` on the straight line from (base year, base value) to (target year, target
    value); before the base year the base value, after the target year the target value."""
    if year <= t.base_year:
        return t.base_value
    if year >= t.target_year:
        return t.target_value
    f = (year - t.base_year) / (t.target_year - t.base_year)
    return t.base_value + f * (t.target_value - t.base_value)


@dataclass(frozen=True)
class Progress:
    """Where a target stands in ``year``.

    rate_needed : linear annual change still needed from ``actual`` to the target value by the target year, as a
        fraction of the base value per year (reductions) or share points per year (renewable electricity);
        None in or after the target year.
    """

    year: int
    actual: float
    expected: float
    on_track: bool
    achieved_change: float  # reduction so far as a fraction of the base (share points gained for RE)
    rate_needed: float | None


def progress(t: Target, year: int, actual: float) -> Progress:
    """Progress in ``year``: on track when ``actual`` is at or better than the trajectory (boundary included)."""
    expected = trajectory(t, year)
    if t.higher_is_better:
        on_track = actual >= expected - _EPS
        achieved = actual - t.base_value
        remaining = t.target_value - actual
        scale = 1.0
    else:
        on_track = actual <= expected + _EPS
        achieved = (t.base_value - actual) / t.base_value
        remaining = actual - t.target_value
        scale = t.base_value
    years_left = t.target_year - year
    rate = max(remaining, 0.0) / scale / years_left if years_left > 0 else None
    return Progress(year, actual, expected, on_track, achieved, rate)


@dataclass(frozen=True)
class Finding:
    """One rule's outcome; ``data`` holds the numbers of ``reason`` so a page can word it in its language."""

    rule: str
    passed: bool | None  # None: not applicable or cannot be judged from the data given
    reason: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SBTCheck:
    """The science-based check of one target.

    annual_rate : linear annual reduction rate [fraction of base per year] (implied absolute for intensity)
    implied_reduction : absolute reduction the target implies (intensity: with the stated output projection)
    """

    target: str
    ambition: str
    annual_rate: float | None
    implied_reduction: float | None
    findings: tuple[Finding, ...]

    @property
    def passed(self) -> bool:
        return all(f.passed is not False for f in self.findings) and self.ambition not in (NOT_ALIGNED, NOT_ASSESSED)


def implied_absolute_reduction(t: Target) -> float | None:
    """The absolute reduction an intensity target implies: target-year emissions = target intensity x projected
    output, against base emissions = base intensity x base output. None without both outputs."""
    if t.kind != "intensity":
        return t.reduction
    if not t.base_output or not t.projected_output:
        return None
    return 1 - t.target_value * t.projected_output / (t.base_value * t.base_output)


def near_term_window(submitted: date, max_years: int = NEAR_TERM_MAX_YEARS) -> tuple[int, int]:
    """Earliest and latest target year for a near-term target submitted on ``submitted``: 5 to ``max_years``
    years, the submission year counting when submitted in January..June."""
    first_half = submitted.month <= 6
    start = submitted.year - (1 if first_half else 0)
    return start + NEAR_TERM_MIN_YEARS, start + max_years


def ambition_of(rate: float) -> str:
    if rate >= RATE_1_5C - _EPS:
        return AMBITION_1_5C
    if rate >= RATE_WB2C - _EPS:
        return AMBITION_WB2C
    return NOT_ALIGNED


def _base_year_rule(t: Target) -> Finding:
    ok = t.base_year >= EARLIEST_BASE_YEAR
    return Finding("base_year", ok, f"base year {t.base_year} {'is' if ok else 'is not'} {EARLIEST_BASE_YEAR} "
                                    "or later", {"base_year": t.base_year, "earliest": EARLIEST_BASE_YEAR})


def _timeframe_rule(t: Target, today: date) -> Finding:
    submitted = t.submitted or today
    lo, hi = near_term_window(submitted)
    ok = lo <= t.target_year <= hi
    return Finding("timeframe", ok, f"near-term target year {t.target_year} "
                                    f"{'lies' if ok else 'does not lie'} in {lo}..{hi} "
                                    f"({NEAR_TERM_MIN_YEARS}-{NEAR_TERM_MAX_YEARS} years from {submitted})",
                   {"target_year": t.target_year, "first": lo, "last": hi, "submitted": submitted.isoformat()})


def _coverage_rule(t: Target) -> Finding:
    need = SCOPE3_COVERAGE if t.scopes == "s3" else SCOPE12_COVERAGE
    ok = t.coverage >= need - _EPS
    what = "Scope 3" if t.scopes == "s3" else "Scope 1+2"
    return Finding("coverage", ok, f"the boundary covers {t.coverage:.0%} of {what} emissions; at least "
                                   f"{need:.0%} needed", {"coverage": t.coverage, "need": need, "scopes": t.scopes})


def _ambition_rule(t: Target, ambition: str, rate: float) -> Finding:
    if t.scopes == "s3":
        ok = ambition in (AMBITION_1_5C, AMBITION_WB2C)
        need = f"well-below 2 degC ({RATE_WB2C:.1%}/yr)"
    else:
        ok = ambition == AMBITION_1_5C
        need = f"1.5 degC ({RATE_1_5C:.1%}/yr)"
    return Finding("ambition", ok, f"linear annual reduction {rate:.2%}/yr gives '{ambition}'; "
                                   f"{t.scopes} needs at least {need}",
                   {"rate": rate, "ambition": ambition, "scopes": t.scopes,
                    "need": RATE_WB2C if t.scopes == "s3" else RATE_1_5C})


def _check_renewable(t: Target) -> SBTCheck:
    needed = next((share for year, share in RE_MILESTONES if t.target_year <= year), None)
    if needed is None:
        ok, reason = False, (f"target year {t.target_year} is after {RE_MILESTONES[-1][0]}, when 100 % is "
                             "needed")
    else:
        ok = t.re_share >= needed - _EPS
        reason = (f"{t.re_share:.0%} renewable electricity by {t.target_year}; the route needs "
                  f"{needed:.0%} by then (80 % by 2025, 100 % by 2030)")
    data = {"share": t.re_share, "year": t.target_year, "needed": needed if needed is not None else 1.0}
    findings = (_base_year_rule(t), Finding("renewable_electricity", ok, reason, data))
    return SBTCheck(t.id, AMBITION_1_5C if ok else NOT_ALIGNED, None, None, findings)


def _check_net_zero(t: Target) -> SBTCheck:
    findings = [
        _base_year_rule(t),
        Finding("long_term_year", t.target_year <= LONG_TERM_LATEST_YEAR,
                f"net-zero year {t.target_year}; {LONG_TERM_LATEST_YEAR} at the latest",
                {"year": t.target_year, "latest": LONG_TERM_LATEST_YEAR}),
        Finding("long_term_reduction", t.reduction >= LONG_TERM_REDUCTION - _EPS,
                f"reduction {t.reduction:.0%} by the net-zero year; at least {LONG_TERM_REDUCTION:.0%}",
                {"reduction": t.reduction, "need": LONG_TERM_REDUCTION}),
        Finding("long_term_scope3", t.scopes == "s1s2s3",
                "Scope 3 is covered" if t.scopes == "s1s2s3" else
                f"scopes {t.scopes}: a net-zero target covers Scopes 1, 2 and 3", {"scopes": t.scopes}),
        _coverage_rule(t),
    ]
    rate = t.reduction / (t.target_year - t.base_year)
    ok = all(f.passed for f in findings)
    return SBTCheck(t.id, AMBITION_1_5C if ok else NOT_ALIGNED, rate, t.reduction, tuple(findings))


def check_science_based(t: Target, today: date | None = None) -> SBTCheck:
    """Ambition (1.5C, WB2C, not aligned, not assessed) with the linear annual rate and every rule's finding.

    ``today`` stands in for the submission date when the target records none.
    """
    today = today or date.today()
    if t.kind == "renewable_electricity":
        return _check_renewable(t)
    if t.kind == "net_zero":
        return _check_net_zero(t)
    reduction = implied_absolute_reduction(t)
    findings = [_base_year_rule(t), _timeframe_rule(t, today), _coverage_rule(t)]
    if reduction is None:
        findings.append(Finding("ambition", None, "an intensity target is judged on the absolute reduction it "
                                                  "implies: give the base-year output and the projected output of "
                                                  "the target year"))
        return SBTCheck(t.id, NOT_ASSESSED, None, None, tuple(findings))
    rate = reduction / (t.target_year - t.base_year)
    ambition = ambition_of(rate)
    findings.append(_ambition_rule(t, ambition, rate))
    return SBTCheck(t.id, ambition, rate, reduction, tuple(findings))


def scope3_target_required(scope12_t: float, scope3_t: float, year: int | None = None,
                           scope3_targets: tuple[str, ...] | list[str] = ()) -> Finding:
    """Is a Scope 3 target required? (Scope 3 at or above 40 % of Scopes 1+2+3). ``passed`` is False when one is
    required and ``scope3_targets`` (the ids of the organisation's near-term Scope 3 targets) is empty."""
    total = scope12_t + scope3_t
    share = scope3_t / total if total > 0 else 0.0
    need = share >= SCOPE3_MATERIAL_SHARE
    when = f" in {year}" if year else ""
    stored = ", ".join(scope3_targets)
    reason = (f"Scope 3 is {share:.0%} of Scopes 1+2+3{when}; a Scope 3 target is "
              f"{'required' if need else 'not required'} (threshold 40 %)")
    if need:
        reason += f": stored ({stored})" if stored else ", and none is stored"
    return Finding("scope3_required", not need or bool(stored), reason,
                   {"share": share, "threshold": SCOPE3_MATERIAL_SHARE, "year": year, "stored": stored or "–",
                    "required": need})


def rebased(t: Target, base_value: float, note: str) -> Target:
    """``t`` with another base value (a recalculated base year), the note saying why."""
    return replace(t, base_value=base_value, note=note)
