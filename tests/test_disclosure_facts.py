"""The disclosure facts of a tiny company (tests/disclosure_fixture.py) against figures computed by hand from
published factors; missing facts carry reasons and no value; every number is computed again from its lineage."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.disclosure_fixture import (BASE_YEAR, GAS_CO2_KG_PER_TJ, GRID_LOCATION, GRID_RESIDUAL, YEAR,
                                      make_company, published_factors)
from zerocarbon.core.disclosure.keys import FACTS
from zerocarbon.core.disclosure.model import MISSING, REPORTED, DisclosureInput
from zerocarbon.services import accounting
from zerocarbon.services import disclosure_facts as df


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    sessions, org, expected = make_company(tmp_path_factory.mktemp("disc"))
    return sessions, org, expected, df.build_facts(sessions, org, YEAR)


def _parts(fact) -> dict[str, float]:
    return {p.label: p.value for p in fact.breakdown}


def test_the_fixture_factors_are_the_published_ones():
    from zerocarbon.core.factors import load_factor_set

    got = published_factors(load_factor_set("CN-2025.1"))
    assert got["SZ01.location"][0] == pytest.approx(GRID_LOCATION["SZ01"])
    assert got["SH02.location"][0] == pytest.approx(GRID_LOCATION["SH02"])
    assert got["SZ01.residual"][0] == got["SH02.residual"][0] == pytest.approx(GRID_RESIDUAL)
    assert got["natural_gas.CO2"][0] == pytest.approx(GAS_CO2_KG_PER_TJ)
    assert "natural_gas.CH4" not in got and "natural_gas.N2O" not in got


GOLDEN = ["ghg.scope1", "ghg.scope2_location", "ghg.scope2_market", "ghg.scope1.consolidated", "ghg.scope1.investees",
          "ghg.scope2_location.consolidated", "ghg.scope2_location.investees", "ghg.scope2_market.consolidated",
          "ghg.scope2_market.investees", "ghg.scope3.cat1", "ghg.scope12_location", "ghg.scope12_market",
          "energy.fuels", "energy.fuels.fossil", "energy.fuels.renewable", "energy.electricity.grid",
          "energy.electricity.self_generated", "energy.electricity", "energy.total", "energy.produced.renewable",
          "energy.sold", "energy.renewable.purchased", "energy.renewable", "ghg.scope2.contractual_mwh",
          "ghg.scope2.contractual_share", "energy.renewable_share", "energy.electricity.renewable_share",
          "energy.total_tce", "production.units", "finance.revenue", "waste.total", "waste.hazardous",
          "waste.non_hazardous", "waste.recycled_share", "waste.hazardous_per_unit", "waste.non_hazardous_per_unit",
          "packaging.total", "packaging.per_unit", "ghg.intensity.scope12_location_per_unit",
          "ghg.intensity.scope12_market_per_unit", "ghg.intensity.scope12_location_per_revenue",
          "ghg.intensity.scope12_market_per_revenue", "energy.intensity.per_unit", "energy.intensity.per_revenue"]


@pytest.mark.parametrize("key", GOLDEN)
def test_hand_computed_value(company, key):
    _, _, expected, facts = company
    fact = facts[key]
    assert fact.status == REPORTED, fact.reason
    assert fact.value == pytest.approx(expected[key], rel=1e-9, abs=1e-12)
    assert fact.unit == FACTS[key].unit


def test_breakdowns_by_gas_site_and_source(company):
    _, _, e, facts = company
    by_gas = _parts(facts["ghg.scope1.by_gas"])
    assert list(by_gas) == ["CO2", "CH4", "N2O", "HFCs", "PFCs", "SF6", "NF3"]
    for gas, v in by_gas.items():
        assert v == pytest.approx(e[f"s1.{gas}"]), gas  # gases without rows are 0 inside a reported Scope 1
    assert _parts(facts["ghg.scope1.by_site"]) == pytest.approx({"SZ01": e["s1.SZ01"], "SH02": e["s1.SH02"]})
    assert _parts(facts["ghg.scope1.by_source"]) == pytest.approx(
        {"stationary": e["s1.stationary"], "mobile": 0.0, "fugitive": e["s1.fugitive"], "process": 0.0})
    assert _parts(facts["ghg.scope2_location.by_site"]) == pytest.approx({"SZ01": e["s2l.SZ01"],
                                                                           "SH02": e["s2l.SH02"]})
    assert _parts(facts["ghg.scope2_market.by_site"]) == pytest.approx({"SZ01": e["s2m.SZ01"], "SH02": e["s2m.SH02"]})
    assert _parts(facts["ghg.scope2.contractual_mwh"]) == pytest.approx({"GEC": 30.0})
    assert _parts(facts["energy.by_carrier"]) == pytest.approx(
        {"fuels": e["energy.fuels"], "grid electricity": 150.0, "self-generated electricity": 18.0})
    for key, fact in facts.items():
        if fact.breakdown and fact.reported:
            assert sum(p.value for p in fact.breakdown) == pytest.approx(fact.value, rel=1e-9, abs=1e-12), key


def test_consolidated_group_and_investees_split_by_financial_control(company):
    _, _, _, facts = company
    for scope in ("ghg.scope1", "ghg.scope2_location", "ghg.scope2_market"):
        assert facts[f"{scope}.consolidated"].lineage["filter"]["site"] == ["SZ01"]
        assert facts[f"{scope}.investees"].lineage["filter"]["site"] == ["SH02"]
        assert facts[f"{scope}.consolidated"].value + facts[f"{scope}.investees"].value == pytest.approx(
            facts[scope].value)
        assert "financial control" in facts[f"{scope}.investees"].lineage["note"]


def test_totals_equal_what_inventory_show_reports(company):
    sessions, org, _, facts = company
    totals = accounting.inventory_meta(sessions, org, YEAR)["totals"]
    assert facts["ghg.scope1"].value == pytest.approx(totals["scope1_t"], rel=1e-12)
    assert facts["ghg.scope2_location"].value == pytest.approx(totals["scope2_location_t"], rel=1e-12)
    assert facts["ghg.scope2_market"].value == pytest.approx(totals["scope2_market_t"], rel=1e-12)
    assert facts["ghg.scope12_location"].value == pytest.approx(totals["total_location_t"], rel=1e-12)
    assert facts["ghg.scope12_market"].value == pytest.approx(totals["total_market_t"], rel=1e-12)
    assert facts["ghg.scope3"].value == pytest.approx(totals["scope3_t"], rel=1e-12)
    assert facts["ghg.total_market"].value == pytest.approx(totals["total_market_t"] + totals["scope3_t"])
    assert facts["ghg.biogenic_co2"].value == pytest.approx(totals["biogenic_co2_t"])
    assert _parts(facts["ghg.scope3.by_category"])["1"] == pytest.approx(1.2)


def test_recompute_equals_build_for_every_numeric_fact(company):
    sessions, org, _, facts = company
    numeric = {k: f for k, f in facts.items() if f.reported and isinstance(f.value, (int, float))
               and not isinstance(f.value, bool)}
    assert len(numeric) > 60
    for key, fact in numeric.items():
        again = df.recompute(sessions, org, YEAR, fact)
        assert again is not None, key
        assert again == pytest.approx(fact.value, rel=1e-9, abs=1e-12), key
    assert df.recompute(sessions, org, YEAR, facts["meta.gwp_set"]) is None
    assert df.recompute(sessions, org, YEAR, facts["energy.heat"]) is None


def test_recompute_reads_the_store_again(company):
    """A ledger fact's recompute is a database sum: a stored row changed behind its back shows."""
    sessions, org, _, facts = company
    from sqlalchemy import select, update

    from zerocarbon.store.tables import EmissionLineRow, EmissionRow

    fact = facts["ghg.scope1.investees"]
    with sessions.begin() as s:
        line = s.scalar(select(EmissionLineRow.id).where(EmissionLineRow.site == "SH02", EmissionLineRow.scope == "1"))
        s.execute(update(EmissionRow).where(EmissionRow.line_id == line).values(co2e_t=EmissionRow.co2e_t + 1.0))
    try:
        assert df.recompute(sessions, org, YEAR, fact) == pytest.approx(fact.value + 1.0)
    finally:
        with sessions.begin() as s:
            s.execute(update(EmissionRow).where(EmissionRow.line_id == line).values(co2e_t=EmissionRow.co2e_t - 1.0))


def test_lineage_names_the_filter_files_and_factors(company):
    _, _, _, facts = company
    s2 = facts["ghg.scope2_location"]
    assert s2.lineage["source"] == "ledger"
    assert s2.lineage["filter"] == {"scope": "2", "method": ["location", "both"]}
    assert facts["ghg.scope2_market"].lineage["filter"]["method"] == ["market", "both"]
    assert s2.lineage["inventory"]["factor_set"] == "CN-2025.1" and s2.lineage["inventory"]["fingerprint"]
    files = {b["source"] for b in s2.lineage["batches"].values()}
    assert files == {"electricity_2025.csv"}
    assert all(len(b["sha256"]) == 64 for b in s2.lineage["batches"].values())
    energy = facts["energy.total"].lineage
    assert {b["source"] for b in energy["batches"].values()} == {"fuel_2025.csv", "electricity_2025.csv",
                                                                 "generation_2025.csv"}
    assert any("natural_gas" in hv for hv in energy["heating_values"])
    assert "heat" in energy["note"]  # the carrier without rows is named, not counted as zero
    assert facts["ghg.scope12_market"].lineage["derived_from"] == ["ghg.scope1", "ghg.scope2_market"]
    assert "CN_MEE_NBS.grid.location.CN-grid-south.2023" in " ".join(facts["meta.factor_sources"].lineage["factors"])
    assert "MEE" in facts["meta.factor_sources"].value
    assert facts["production.units"].lineage["source"] == "activities"  # no stored units output: packaging rows
    assert facts["finance.revenue"].lineage["outputs"][0]["unit"] == "万元"


def test_missing_facts_have_reasons_and_no_value(company):
    _, _, _, facts = company
    for key, fact in facts.items():
        if fact.status != REPORTED:
            assert fact.value is None, key
            assert fact.reason and fact.reason_zh, key
    assert facts["energy.heat"].status == MISSING and "zerocarbon import heat" in facts["energy.heat"].reason
    assert "input.grid.fossil_share" in facts["energy.fossil"].reason
    assert "input.grid.nuclear_share" in facts["energy.nuclear"].reason
    assert facts["ghg.scope3.cat2"].status == MISSING and "no data" in facts["ghg.scope3.cat2"].reason
    assert "not evaluated" in facts["ghg.scope3.cat15"].reason
    assert "claim credits import" in facts["ghg.credits_retired"].reason
    assert facts["claims.summary"].status == MISSING
    assert set(FACTS) <= set(facts)


def test_meta_targets_and_base_year(company):
    sessions, org, _, facts = company
    assert facts["meta.gwp_set"].value.startswith("IPCC Fifth")
    assert "SH02" in facts["meta.entities"].value and "40%" in facts["meta.entities"].value
    assert "financial control" in facts["meta.consolidation_approach"].value
    assert "1" in facts["meta.scope3_categories"].lineage["evaluated"]
    assert facts["ghg.base_year"].value == BASE_YEAR
    base = accounting.inventory_meta(sessions, org, BASE_YEAR)["totals"]
    assert facts["ghg.base_year.scope12_market"].value == pytest.approx(base["total_market_t"])
    assert facts["ghg.base_year.scope12_location"].value == pytest.approx(base["total_location_t"])
    assert "no base-year change" in facts["ghg.base_year.recalculations"].value
    progress = facts["targets.scope12_progress"]
    assert progress.value == pytest.approx((base["total_market_t"] - facts["ghg.scope12_market"].value)
                                           / base["total_market_t"])
    assert "T1" in facts["targets.summary"].value


def test_inputs_grid_mix_and_revenue_in_another_currency(company):
    sessions, org, e, _ = company
    inputs = {
        "input.grid.fossil_share": DisclosureInput("input.grid.fossil_share", 0.6, "fraction", "CEC 2025 yearbook"),
        "input.grid.nuclear_share": DisclosureInput("input.grid.nuclear_share", 0.05, "fraction", "CEC 2025"),
        "text.strategy": DisclosureInput("text.strategy", "Electrify and buy green power", "text", "board",
                                         value_zh="电气化并购买绿电"),
        "input.finance.revenue": DisclosureInput("input.finance.revenue", 1_000_000, "HKD", "annual report 2024"),
    }
    facts = df.build_facts(sessions, org, YEAR, inputs=inputs)
    # (grid 150 - renewable certificates 30) x share; fossil adds the fossil fuels (no heat rows)
    assert facts["energy.fossil"].value == pytest.approx(e["energy.fuels"] + 120 * 0.6)
    assert facts["energy.nuclear"].value == pytest.approx(120 * 0.05)
    assert facts["text.strategy"].value == "Electrify and buy green power"
    assert facts["text.strategy"].lineage["value_zh"] == "电气化并购买绿电"
    assert facts["finance.revenue"].unit == "CNY"  # the stored output wins over the input
    for key in ("energy.fossil", "energy.nuclear"):
        assert df.recompute(sessions, org, YEAR, facts[key]) == pytest.approx(facts[key].value)
    # 2024 has no stored revenue: the entered HKD figure is used, and intensities are per HKD
    prior = df.build_facts(sessions, org, BASE_YEAR, inputs=inputs,
                           keys=["finance.revenue", "ghg.intensity.scope12_market_per_revenue", "text.missing"])
    assert prior["finance.revenue"].unit == "HKD" and prior["finance.revenue"].value == 1_000_000
    assert prior["ghg.intensity.scope12_market_per_revenue"].unit == "tCO2e/HKD"
    base = accounting.inventory_meta(sessions, org, BASE_YEAR)["totals"]
    assert prior["ghg.intensity.scope12_market_per_revenue"].value == pytest.approx(base["total_market_t"] / 1e6)
    assert prior["text.missing"].status == MISSING and "disclose inputs import" in prior["text.missing"].reason
    assert set(prior) == {"finance.revenue", "ghg.intensity.scope12_market_per_revenue", "text.missing"}


def test_a_year_without_inventory_is_missing_never_zero(company):
    sessions, org, _, _ = company
    facts = df.build_facts(sessions, org, 2026)
    for key in ("ghg.scope1", "ghg.scope2_market", "ghg.scope1.by_gas", "ghg.scope12_market", "meta.gwp_set",
                "ghg.intensity.scope12_market_per_unit", "energy.total", "waste.total"):
        assert facts[key].status == MISSING and facts[key].value is None, key
    assert "inventory compute" in facts["ghg.scope1"].reason


def test_waste_without_the_hazardous_flag_is_not_split():
    frame = pd.DataFrame({"site": ["A", "A"], "quantity": [1.0, 2.0], "unit": ["t", "t"],
                          "treatment": ["landfill", "recycling"], "batch_id": [7, 7]})
    q = df.waste_quantities(frame, {"A": 1.0})
    assert q["total"] == 3.0 and q["hazardous"] is None and q["non_hazardous"] is None
    assert q["without_flag"] == {7} and q["recycled"] == 2.0
    frame["hazardous"] = [True, None]
    assert df.waste_quantities(frame, {"A": 1.0})["hazardous"] is None


def test_gas_groups():
    assert [df.gas_group(g) for g in ("CO2", "HFC-134a", "R-410A", "CHF3", "CF4", "SF6", "HCFC-22")] == \
        ["CO2", "HFCs", "HFCs", "HFCs", "PFCs", "SF6", "HCFC-22"]
    assert math.isclose(df.MJ_PER_MWH, 3600.0)
