"""Targets in the core: the linear trajectory, progress and on-track at its boundary, the science-based check at
the 4.2 %/yr and 2.5 %/yr boundaries on both sides, the timeframe and base-year rules, net zero, renewable
electricity, and intensity targets judged on the absolute reduction they imply.

Worked examples, with their sources (docs/targets.md):
- No SBTi document with a numeric worked example of the absolute contraction approach could be retrieved; the
  rate check is built from the published minimum rates (4.2 %/yr for 1.5 degC, 2.5 %/yr for well-below 2 degC;
  SBTi Corporate Near-Term Criteria v5.x, also quoted in Salesforce Net Zero Cloud's EmssnReductionTarget docs).
- The secondary worked example "a company emitting 10,000 t in its base year must cut at least 420 t every year"
  (greeninitiative.eco, "The Absolute Contraction Method: 4.2% Annual Reduction Explained", 2026-03-11).
- The SBTi criteria's timeframe example (v4.x wording, 5..15 years): targets submitted by the end of June 2021 may
  have target years 2025..2035, those submitted July..December 2021 2026..2036 (en.zbhegui.com/baike/article_99).
"""
from __future__ import annotations

from datetime import date

import pytest

from zerocarbon.core import targets as core
from zerocarbon.core.targets import Target, check_science_based, near_term_window, progress, trajectory

SUBMITTED = date(2024, 3, 1)  # window 2028..2033


def absolute(reduction=0.5, base=2023, year=2030, scopes="s1s2", value=1000.0, **kw) -> Target:
    return Target("T1", "absolute", scopes, base, value, year, reduction=reduction, submitted=SUBMITTED, **kw)


def test_trajectory_is_linear_from_base_to_target():
    t = absolute(0.5, 2020, 2030)
    assert trajectory(t, 2020) == 1000 and trajectory(t, 2030) == 500
    assert trajectory(t, 2025) == pytest.approx(750)
    assert trajectory(t, 2019) == 1000 and trajectory(t, 2035) == 500  # held outside the span


def test_published_secondary_example_10000_t_420_t_a_year():
    # greeninitiative.eco: 10,000 t base year, 4.2 %/yr linear -> at least 420 t less every year.
    t = Target("X", "absolute", "s1s2", 2020, 10_000.0, 2030, reduction=0.42, submitted=date(2021, 3, 1))
    cuts = [trajectory(t, y) - trajectory(t, y + 1) for y in range(2020, 2030)]
    assert cuts == pytest.approx([420.0] * 10)
    check = check_science_based(t)
    assert check.annual_rate == pytest.approx(0.042) and check.ambition == "1.5C"


def test_on_track_at_the_boundary_and_just_above():
    t = absolute(0.5, 2020, 2030)
    assert progress(t, 2025, 750.0).on_track
    assert not progress(t, 2025, 750.01).on_track
    p = progress(t, 2025, 800.0)
    # 800 -> 500 in 5 years = 60 t/yr = 6 % of the base per year still needed
    assert p.rate_needed == pytest.approx(0.06) and p.achieved_change == pytest.approx(0.2)
    assert progress(t, 2030, 400.0).rate_needed is None


def test_renewable_progress_higher_is_better():
    t = Target("RE", "renewable_electricity", "s1s2", 2023, 0.1, 2030, re_share=0.8)
    assert trajectory(t, 2030) == 0.8
    assert progress(t, 2026, trajectory(t, 2026)).on_track
    assert not progress(t, 2026, trajectory(t, 2026) - 0.01).on_track
    assert progress(t, 2026, 0.5).rate_needed == pytest.approx(0.3 / 4)


@pytest.mark.parametrize("reduction, ambition", [
    (0.042 * 7, "1.5C"), (0.042 * 7 - 0.001, "WB2C"), (0.025 * 7, "WB2C"), (0.025 * 7 - 0.001, "not aligned")])
def test_ambition_at_both_rate_boundaries(reduction, ambition):
    check = check_science_based(absolute(reduction, 2023, 2030))
    assert check.ambition == ambition
    rule = {f.rule: f for f in check.findings}["ambition"]
    assert rule.passed is (ambition == "1.5C")  # Scope 1+2 must be 1.5 degC aligned


def test_scope3_needs_only_well_below_2c_and_67_percent_coverage():
    assert {f.rule: f.passed for f in check_science_based(absolute(0.025 * 7, scopes="s3")).findings}["ambition"]
    low = check_science_based(absolute(0.025 * 7, scopes="s3", coverage=0.66))
    assert {f.rule: f.passed for f in low.findings}["coverage"] is False
    assert {f.rule: f.passed for f in check_science_based(absolute(scopes="s3", coverage=0.67)).findings}["coverage"]


def test_scope12_coverage_95_percent():
    assert not {f.rule: f.passed for f in check_science_based(absolute(coverage=0.94)).findings}["coverage"]


def test_published_timeframe_example_first_and_second_half_of_2021():
    # SBTi criteria (v4.x, 5..15 years): by end of June 2021 -> 2025..2035; July..December 2021 -> 2026..2036.
    assert near_term_window(date(2021, 6, 30), max_years=15) == (2025, 2035)
    assert near_term_window(date(2021, 7, 1), max_years=15) == (2026, 2036)
    # v5.x: 5..10 years
    assert near_term_window(date(2024, 3, 1)) == (2028, 2033)


@pytest.mark.parametrize("year, ok", [(2027, False), (2028, True), (2033, True), (2034, False)])
def test_timeframe_rule(year, ok):
    rules = {f.rule: f.passed for f in check_science_based(absolute(0.5, 2023, year)).findings}
    assert rules["timeframe"] is ok


@pytest.mark.parametrize("base, ok", [(2014, False), (2015, True)])
def test_base_year_no_earlier_than_2015(base, ok):
    rules = {f.rule: f.passed for f in check_science_based(absolute(0.6, base, 2030)).findings}
    assert rules["base_year"] is ok


def test_net_zero_rules():
    good = Target("NZ", "net_zero", "s1s2s3", 2023, 1000.0, 2050, reduction=0.9)
    assert check_science_based(good).ambition == "1.5C"
    for bad in (Target("NZ", "net_zero", "s1s2s3", 2023, 1000.0, 2051, reduction=0.9),
                Target("NZ", "net_zero", "s1s2s3", 2023, 1000.0, 2050, reduction=0.89),
                Target("NZ", "net_zero", "s1s2", 2023, 1000.0, 2050, reduction=0.95)):
        assert check_science_based(bad).ambition == "not aligned"


@pytest.mark.parametrize("year, share, ok", [(2025, 0.8, True), (2025, 0.79, False), (2030, 0.9, False),
                                             (2030, 1.0, True), (2031, 1.0, False)])
def test_renewable_route_80_by_2025_100_by_2030(year, share, ok):
    t = Target("RE", "renewable_electricity", "s1s2", 2023, 0.1, year, re_share=share)
    assert (check_science_based(t).ambition == "1.5C") is ok


def test_intensity_is_judged_on_the_implied_absolute_reduction():
    # -50 % per unit while output grows 40 %: 0.5 x 1.4 = 0.7 of base emissions, a 30 % absolute cut in 7 years
    t = Target("I", "intensity", "s1s2", 2023, 2.0, 2030, reduction=0.5, denominator="units",
               denominator_unit="unit", base_output=100.0, projected_output=140.0, submitted=SUBMITTED)
    check = check_science_based(t)
    assert check.implied_reduction == pytest.approx(0.3)
    assert check.annual_rate == pytest.approx(0.3 / 7) and check.ambition == "1.5C"
    unknown = check_science_based(Target("I", "intensity", "s1s2", 2023, 2.0, 2030, reduction=0.5,
                                         denominator="units", submitted=SUBMITTED))
    assert unknown.ambition == "not assessed" and not unknown.passed


@pytest.mark.parametrize("kw, field", [({"target_year": 2023}, "target_year"), ({"reduction": 0.0}, "reduction"),
                                       ({"reduction": 1.01}, "reduction"), ({"kind": "hope"}, "kind")])
def test_impossible_targets(kw, field):
    args = dict(id="T", kind="absolute", scopes="s1s2", base_year=2023, base_value=10.0, target_year=2030,
                reduction=0.5)
    args.update(kw)
    assert field in {f for f, _ in core.problems(Target(**args))}


def test_scope3_materiality_threshold():
    assert core.scope3_target_required(60.0, 40.0).passed is False  # 40 %: required
    assert core.scope3_target_required(61.0, 39.0).passed is True
