"""A framework's report built from plain facts (no database): values converted into the data point's unit,
missing data points with their reasons, the pre-publication checks, restatements and the facts' fingerprint."""
from __future__ import annotations

import pytest

from zerocarbon.core.disclosure.checks import run_checks
from zerocarbon.core.disclosure.model import (COMPLY_OR_EXPLAIN, MANDATORY, MISSING, NOT_APPLICABLE, REPORTED,
                                              VOLUNTARY, DataPoint, Fact, Framework, Part, missing)
from zerocarbon.core.disclosure.report import build_report, facts_fingerprint

FW = Framework("gri", "GRI Standards", "GRI标准", "2016/2021", "https://www.globalreporting.org")
GHGP = Framework("ghgp", "GHG Protocol Corporate Standard", "温室气体核算体系企业标准", "2004", "ghgprotocol.org")


def point(id: str, fact: str, unit: str, requirement: str = MANDATORY, label: str = "") -> DataPoint:
    return DataPoint("gri", id, "305", label or id, f"{label or id}(中文)", unit, fact, requirement)


def report(points, facts, fw=FW, **kw):
    return build_report(fw, points, facts, org="ACME", org_name="ACME Laptop Co.", year=2025, **kw)


def levels(r, kind=None):
    return [(c.kind, c.level, c.point) for c in r.checks if kind is None or c.kind == kind]


def test_energy_in_mwh_is_reported_in_gj_with_its_breakdown():
    fact = Fact("energy.total", 1000.0, "MWh", breakdown=(Part("electricity", 600.0), Part("natural_gas", 400.0)),
                lineage={"source": "activities"})
    r = report([point("302-1.e", "energy.total", "GJ")], {"energy.total": fact})
    [line] = r.lines
    assert line.status == REPORTED and line.value == pytest.approx(3600.0)
    assert [p.value for p in line.breakdown] == pytest.approx([2160.0, 1440.0])
    assert line.lineage == {"source": "activities"}
    assert r.errors == []


def test_tco2e_stays_as_it_is():
    r = report([point("305-1.a", "ghg.scope1", "tCO2e")], {"ghg.scope1": Fact("ghg.scope1", 1234.5, "tCO2e")})
    assert r.lines[0].value == 1234.5
    r = report([point("305-1.a", "ghg.scope1", "ktCO2e")], {"ghg.scope1": Fact("ghg.scope1", 1234.5, "tCO2e")})
    assert r.lines[0].value == pytest.approx(1.2345)


@pytest.mark.parametrize("fact_unit, point_unit", [("m**3", "t"), ("kg", "MWh"), ("MWh", "tce"), ("tce", "MWh"),
                                                   ("fraction", "percent"), ("kWh", "text")])
def test_an_incompatible_unit_gives_a_missing_line_with_the_reason(fact_unit, point_unit):
    fact = Fact("input.water.withdrawal", 52000.0, fact_unit, lineage={"source": "inputs"})
    r = report([point("303-3.a", "input.water.withdrawal", point_unit)], {"input.water.withdrawal": fact})
    [line] = r.lines
    assert line.status == MISSING and line.value is None
    assert fact_unit in line.reason and point_unit in line.reason and line.reason_zh
    [check] = [c for c in r.checks if c.kind == "completeness"]
    assert check.level == "error" and check.point == "303-3.a" and fact_unit in check.message


def test_input_figure_in_another_unit_is_converted():
    fact = Fact("input.water.withdrawal", 52.0, "megaliter")
    r = report([point("303-3.a", "input.water.withdrawal", "m**3")], {"input.water.withdrawal": fact})
    assert r.lines[0].value == pytest.approx(52000.0)


def test_coal_equivalents_and_pseudo_units_match_by_name():
    facts = {"energy.total_tce": Fact("energy.total_tce", 4200.0, "tce"),
             "energy.renewable_share": Fact("energy.renewable_share", 0.42, "fraction"),
             "ghg.base_year": Fact("ghg.base_year", 2023, "year"),
             "text.governance": Fact("text.governance", "The board oversees climate risks.", "text")}
    points = [point("a", "energy.total_tce", "tce"), point("b", "energy.renewable_share", "fraction"),
              point("c", "ghg.base_year", "year"), point("d", "text.governance", "text")]
    r = report(points, facts)
    assert [line.value for line in r.lines] == [4200.0, 0.42, 2023, "The board oversees climate risks."]
    assert [line.point.id for line in r.lines] == ["a", "b", "c", "d"]


def test_a_mandatory_point_missing_is_an_error_and_others_warn_or_inform():
    facts = {"ghg.scope1": missing("ghg.scope1", "tCO2e", "no stored inventory for 2025", "2025年无已存清单"),
             "ghg.scope3": missing("ghg.scope3", "tCO2e", "Scope 3 not evaluated", "未评估范围三"),
             "ghg.biogenic_co2": Fact("ghg.biogenic_co2", None, "t", NOT_APPLICABLE, "no biomass burnt", "无生物质")}
    points = [point("305-1.a", "ghg.scope1", "tCO2e", MANDATORY, "Gross Scope 1"),
              point("305-3.a", "ghg.scope3", "tCO2e", COMPLY_OR_EXPLAIN, "Gross Scope 3"),
              point("305-1.c", "ghg.biogenic_co2", "t", VOLUNTARY),
              point("305-5.a", "text.reduction_initiatives", "text", VOLUNTARY)]
    r = report(points, facts)
    assert [line.status for line in r.lines] == [MISSING, MISSING, NOT_APPLICABLE, MISSING]
    assert levels(r, "completeness") == [("completeness", "error", "305-1.a"), ("completeness", "warning", "305-3.a"),
                                        ("completeness", "info", "305-1.c"), ("completeness", "info", "305-5.a")]
    error = r.errors[0]
    assert "Gross Scope 1" in error.message and "no stored inventory for 2025" in error.message
    assert "2025年无已存清单" in error.message_zh
    assert "explain" in r.checks[1].message and "解释" in r.checks[1].message_zh
    # An input nobody entered says which command enters it.
    assert "zerocarbon disclose inputs import" in r.lines[3].reason


def test_a_breakdown_that_does_not_add_up_is_a_consistency_error():
    fact = Fact("ghg.scope1.by_site", 100.0, "tCO2e", breakdown=(Part("TJ01", 60.0), Part("CD01", 30.0)))
    r = report([point("305-1.a", "ghg.scope1.by_site", "tCO2e")], {"ghg.scope1.by_site": fact})
    assert levels(r, "consistency") == [("consistency", "error", "305-1.a")]
    assert "TJ01, CD01" in r.errors[0].message and "90" in r.errors[0].message
    ok = Fact("ghg.scope1.by_site", 100.0, "tCO2e", breakdown=(Part("TJ01", 70.0), Part("CD01", 30.0 + 1e-9)))
    assert levels(report([point("305-1.a", "ghg.scope1.by_site", "tCO2e")], {"ghg.scope1.by_site": ok})) == []


def test_a_breakdown_fact_must_total_its_base_fact():
    facts = {"ghg.scope1": Fact("ghg.scope1", 120.0, "tCO2e"),
             "ghg.scope1.by_gas": Fact("ghg.scope1.by_gas", 100.0, "tCO2e", breakdown=(Part("CO2", 100.0),))}
    r = report([point("305-1.a", "ghg.scope1", "tCO2e"), point("305-1.b", "ghg.scope1.by_gas", "tCO2e")], facts)
    assert levels(r, "consistency") == [("consistency", "error", "305-1.b")]


def scopes(s1=100.0, s2l=200.0, s2m=150.0, s3=1000.0, **override):
    values = {"ghg.scope1": s1, "ghg.scope2_location": s2l, "ghg.scope2_market": s2m, "ghg.scope3": s3,
              "ghg.scope12_location": s1 + s2l, "ghg.scope12_market": s1 + s2m,
              "ghg.total_location": s1 + s2l + s3, "ghg.total_market": s1 + s2m + s3, **override}
    return {k: Fact(k, v, "tCO2e") for k, v in values.items()}


def all_scopes():
    return [point(k, k, "tCO2e") for k in scopes()]


def test_scope_sums_hold():
    assert levels(report(all_scopes(), scopes())) == []
    r = report(all_scopes(), scopes(**{"ghg.scope12_market": 260.0, "ghg.total_location": 1200.0}))
    assert levels(r, "consistency") == [("consistency", "error", "ghg.scope1"), ("consistency", "error", "ghg.scope1")]
    assert any("ghg.scope1 + ghg.scope2_market" in c.message for c in r.errors)


def test_scope2_needs_both_methods():
    facts = scopes()
    facts["ghg.scope2_market"] = missing("ghg.scope2_market", "tCO2e", "no market data", "无市场数据")
    points = [point("s1", "ghg.scope1", "tCO2e"), point("s2", "ghg.scope2_location", "tCO2e")]
    [check] = report(points, facts).checks
    assert (check.kind, check.level) == ("consistency", "warning") and "market-based" in check.message
    [check] = report(points, facts, fw=GHGP).checks
    assert check.level == "error"


def test_an_intensity_needs_its_denominator_and_equals_the_ratio():
    facts = scopes()
    facts["finance.revenue"] = missing("finance.revenue", "CNY", "no revenue stored", "无营业收入")
    facts["ghg.intensity.scope12_market_per_revenue"] = Fact("ghg.intensity.scope12_market_per_revenue",
                                                             250.0 / 1e9, "tCO2e/CNY")
    points = [point("i", "ghg.intensity.scope12_market_per_revenue", "tCO2e/wan_CNY")]
    r = report(points, facts)
    assert r.lines[0].value == pytest.approx(250.0 / 1e5)
    [check] = r.checks
    assert check.level == "error" and "Revenue" in check.message and "targets output set" in check.message
    facts["finance.revenue"] = Fact("finance.revenue", 1e9, "CNY")
    assert report(points, facts).checks == []
    facts["finance.revenue"] = Fact("finance.revenue", 100_000.0, "wan_CNY")
    assert report(points, facts).checks == []
    facts["finance.revenue"] = Fact("finance.revenue", 2e9, "CNY")
    [check] = report(points, facts).checks
    assert check.level == "error" and "ghg.scope12_market / finance.revenue" in check.message


def test_change_above_ten_percent_warns_and_restatement_is_marked_with_its_reason():
    facts = scopes(s1=115.0)
    prior = scopes(s1=100.0)
    published = {"ghg.scope1": {"value": 95.0, "unit": "tCO2e", "status": REPORTED},
                 "ghg.scope2_location": {"value": 0.2, "unit": "ktCO2e", "status": REPORTED}}
    points = [point("s1", "ghg.scope1", "tCO2e"), point("s2", "ghg.scope2_location", "tCO2e"),
              point("s2m", "ghg.scope2_market", "tCO2e")]
    reason = "batch 3 (electricity_2024.csv) replaced on 2026-02-01: meter TJ01-M2 was read twice"
    r = report(points, facts, prior=prior, published_prior=published, restatements=[reason])
    s1, s2, s2m = r.lines
    assert s1.change == pytest.approx(0.15) and s1.prior == 100.0
    assert s1.published_prior == 95.0 and s1.restated and s1.restatement == reason
    assert s2.published_prior == pytest.approx(200.0) and not s2.restated and s2.change == 0.0
    assert s2m.published_prior is None and not s2m.restated
    assert levels(r, "change") == [("change", "warning", "s1"), ("change", "info", "s1")]
    warning, info = [c for c in r.checks if c.kind == "change"]
    assert "+15.0%" in warning.message and "2024" in warning.message and "Explain" in warning.message
    assert reason in info.message and "重述" in info.message_zh
    # A change within 10 % asks for nothing.
    assert levels(report(points, scopes(s1=109.0), prior=prior), "change") == []


def test_restatement_without_a_recorded_reason_says_so():
    r = report([point("s1", "ghg.scope1", "tCO2e")], {"ghg.scope1": Fact("ghg.scope1", 1.0, "tCO2e")},
               prior={"ghg.scope1": Fact("ghg.scope1", 100.0, "tCO2e")},
               published_prior={"ghg.scope1": {"value": 90.0, "unit": "tCO2e", "status": REPORTED}})
    assert r.lines[0].restated and "no recorded change" in r.lines[0].restatement


def test_fingerprint_is_stable_and_changes_with_any_fact():
    a = scopes()
    b = dict(reversed(list(scopes().items())))
    assert facts_fingerprint(a) == facts_fingerprint(b)
    assert len(facts_fingerprint(a)) == 64
    assert facts_fingerprint(scopes(s1=100.000001)) != facts_fingerprint(a)
    c = dict(a, **{"ghg.scope1": Fact("ghg.scope1", 100.0, "ktCO2e")})
    assert facts_fingerprint(c) != facts_fingerprint(a)
    d = dict(a, **{"ghg.scope1": missing("ghg.scope1", "tCO2e", "x", "x")})
    assert facts_fingerprint(d) != facts_fingerprint(a)
    r1, r2 = report(all_scopes(), a), report(all_scopes(), b)
    assert r1.fingerprint == r2.fingerprint == facts_fingerprint(a)
    assert report(all_scopes(), scopes(s3=1.0)).fingerprint != r1.fingerprint


def test_meta_and_run_checks_again():
    r = report([point("s1", "ghg.scope1", "tCO2e")], {}, meta={"factor_set": "CN-2025.1"},
               generated_at="2026-03-01T00:00:00Z")
    assert r.meta == {"factor_set": "CN-2025.1"} and r.generated_at == "2026-03-01T00:00:00Z"
    assert r.lines[0].status == MISSING and "ghg.scope1" in r.lines[0].reason
    assert run_checks(r, {}) == r.checks


def test_years_and_texts_are_neither_changes_nor_restatements():
    facts = {"ghg.base_year": Fact("ghg.base_year", 2024, "year"), "meta.period": Fact("meta.period", "2025", "text")}
    prior = {"ghg.base_year": Fact("ghg.base_year", 2020, "year"), "meta.period": Fact("meta.period", "2024", "text")}
    published = {"ghg.base_year": {"value": 2019, "unit": "year", "status": REPORTED},
                 "meta.period": {"value": "calendar 2024", "unit": "text", "status": REPORTED}}
    r = report([point("by", "ghg.base_year", "year"), point("p", "meta.period", "text")], facts, prior=prior,
               published_prior=published)
    assert [(line.change, line.restated) for line in r.lines] == [(None, False), (None, False)]
    assert [line.published_prior for line in r.lines] == [2019, "calendar 2024"]
    assert r.checks == []
