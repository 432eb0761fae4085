"""The pathway core by hand: the capital recovery factor against the textbook table, interacting savings, the
MACC's order and its interaction-aware tonnes, the shipped catalogue, and catalogue/scenario errors with the
path of every bad field."""
from __future__ import annotations

import pytest
import yaml

from zerocarbon.core.pathway.macc import macc
from zerocarbon.core.pathway.measures import parse_catalogue, shipped_catalogue
from zerocarbon.core.pathway.model import Plan, build_problem, crf, evaluate, quantities
from zerocarbon.core.pathway.scenario import parse_scenario
from zerocarbon.errors import InputError

SPEC_IDS = {"rooftop_pv", "green_power_contract", "green_certificates", "led_lighting", "compressed_air_leaks",
            "air_compressor_vsd", "heat_pump_hot_water", "efficient_motors_drives", "energy_aware_scheduling",
            "electrified_canteen_heat", "chiller_upgrade", "low_gwp_refrigerant", "ev_forklifts",
            "energy_management_system", "supplier_engagement"}
ILL = {"status": "illustrative", "reason": "test"}


def fig(value, unit):
    return {"value": value, "unit": unit, **ILL}


def saving(mid, targets, fraction, capex=100.0, life=10, **extra):
    return {"id": mid, "name": {"en": mid, "zh": mid}, "scope": 2, "kind": "saving",
            "acts_on": {"kind": "end_use", "targets": targets}, "fraction": fig(fraction, "fraction"),
            "capex": fig(capex, "CNY/MWh"), "lifetime": fig(life, "year"), **extra}


def problem(measures, **scenario):
    catalogue = parse_catalogue(yaml.safe_dump({"sources": {}, "measures": measures}), "c.yaml")
    sc = {"base": {"source": "scenario", "year": 2025, "electricity_mwh": {"AIR": 1000.0, "OFFICE": 200.0}}, "grid_factor": {2025: 0.5},
          "electricity_price": 600, "discount_rate": 0.08, "targets": [{"year": 2026, "reduction_vs_base": 0.0}]}
    sc.update(scenario)
    return build_problem(catalogue, parse_scenario(yaml.safe_dump(sc), "s.yaml"))


def test_capital_recovery_factor_matches_the_interest_table():
    # Compound-interest tables (e.g. Newnan, Engineering Economic Analysis, 8 % table): A/P(8 %, 10) = 0.14903,
    # A/P(8 %, 25) = 0.09368, A/P(10 %, 5) = 0.26380; at 0 % it is 1/n.
    assert crf(0.08, 10) == pytest.approx(0.14903, abs=5e-6)
    assert crf(0.08, 25) == pytest.approx(0.09368, abs=5e-6)
    assert crf(0.10, 5) == pytest.approx(0.26380, abs=5e-6)
    assert crf(0.0, 4) == 0.25


def test_annualised_cost_by_hand():
    p = problem([saving("led", ["OFFICE"], 0.4, capex=600, life=10)])
    # 600 CNY per MWh/yr x 200 MWh = 120,000 CNY; x A/P(8 %, 10) 0.1490295 = 17,883.5 CNY/yr
    assert p.annual_fixed(p.measure("led")) == pytest.approx(120_000 * crf(0.08, 10))
    assert p.annual_fixed(p.measure("led")) == pytest.approx(17_883.5, abs=0.1)


def test_savings_on_the_same_end_use_act_on_what_remains():
    p = problem([saving("leaks", ["AIR"], 0.15), saving("vsd", ["AIR"], 0.20)])
    assert quantities(p, frozenset()).electricity_mwh == pytest.approx(1200)
    assert quantities(p, frozenset({"leaks"})).electricity_mwh == pytest.approx(1200 - 150)
    # together: 1000 x 0.85 x 0.80 = 680 MWh of AIR, not 1000 x (1 - 0.35) = 650
    assert quantities(p, frozenset({"leaks", "vsd"})).electricity_mwh == pytest.approx(680 + 200)


def test_macc_is_ordered_and_each_step_acts_on_what_is_left():
    p = problem([saving("cheap", ["AIR"], 0.10, capex=10), saving("dear", ["AIR"], 0.20, capex=2000)])
    curve = macc(p, 2026)
    assert [e.measure_id for e in curve] == ["cheap", "dear"]
    assert curve[0].cost_per_t <= curve[1].cost_per_t
    # cheap: 100 MWh x 0.5 t; dear then saves 20 % of the 900 MWh left: 180 MWh x 0.5 = 90 t (not 100 t)
    assert curve[0].abatement_t == pytest.approx(50.0)
    assert curve[1].abatement_t == pytest.approx(90.0)
    assert curve[1].cumulative_t == pytest.approx(140.0)
    energy_saved = 180 * 600
    assert curve[1].annual_cost == pytest.approx(2000 * 1000 * crf(0.08, 10) - energy_saved)


def test_exclusive_measures_never_both_on_the_curve():
    p = problem([saving("a", ["AIR"], 0.10, capex=10, exclusive="g"), saving("b", ["OFFICE"], 0.3, exclusive="g")])
    assert [e.measure_id for e in macc(p, 2026)] == ["a"]


def test_bau_and_a_plan_by_hand():
    p = problem([saving("leaks", ["AIR"], 0.15, capex=0, life=1)], growth=0.1,
                targets=[{"year": 2027, "reduction_vs_base": 0.0}])
    r = evaluate(p, Plan({"leaks": (2026, 2027)}))
    y2027 = r.years[1]
    assert y2027.electricity_mwh == pytest.approx((850 + 200) * 1.21)
    assert r.bau[1].scope12_t == pytest.approx(1200 * 1.21 * 0.5)
    # no capex: the net present cost is the electricity saved, discounted
    assert r.npc == pytest.approx(-(150 * 1.1 * 600 / 1.08 + 150 * 1.21 * 600 / 1.08 ** 2))


def test_the_shipped_catalogue_has_every_measure_with_sources_or_reasons():
    c = shipped_catalogue()
    assert SPEC_IDS <= set(c.ids())
    for m in c.measures:
        assert m.name.en and m.name.zh
        for name, f in m.figures().items():
            assert (f.status == "sourced" and f.source in c.sources) or (f.status == "illustrative" and f.reason), (
                m.id, name)
    for key, src in c.sources.items():
        assert src["licence"] and src["title"], key
    # DOE tip sheet: leaks waste 20-30 % of output against a 5-10 % target
    assert c.get("compressed_air_leaks").fraction.value == 0.15
    assert c.get("green_certificates").variable_opex.value == 4.99
    assert c.get("rooftop_pv").yield_.value == pytest.approx(1.1)  # 1100 kWh/kW = 1.1 MWh/kW


def test_catalogue_errors_name_every_bad_field():
    bad = saving("led", ["OFFICE"], 1.4)
    bad["capex"] = {"value": 100, "unit": "kg", "status": "illustrative", "reason": "x"}
    bad["lifetime"] = {"value": 10, "unit": "year", "status": "sourced", "source": "nowhere"}
    other = saving("air", ["AIR"], 0.1, exclusive="lonely")
    other["name"] = {"en": "Air"}
    other["fraction"] = {"value": 0.1, "unit": "fraction", "status": "illustrative"}
    with pytest.raises(InputError) as exc:
        parse_catalogue(yaml.safe_dump({"sources": {}, "measures": [bad, other]}), "mine.yaml")
    where = {p.column: p.reason for p in exc.value.problems}
    assert all(p.source == "mine.yaml" for p in exc.value.problems)
    assert "more than 1" in where["measures[0].fraction.value"]
    assert "CNY/MWh" in where["measures[0].capex.unit"]
    assert "nowhere" in where["measures[0].lifetime.source"]
    assert "zh" in where["measures[1].name"]
    assert "why" in where["measures[1].fraction.reason"]


def test_scenario_errors_name_every_bad_field():
    text = yaml.safe_dump({"base": {"source": "scenario", "year": 2025, "electricity_mwh": {"A": "lots"},
                                    "fuels": {"gas": {"fuel": "natural_gas", "mwh": 10, "tco2e": 2}}},
                           "grid_factor": {2025: 5}, "electricity_price": -1, "discount_rate": 0.9,
                           "targets": [{"year": 2024, "reduction_vs_base": 0.5, "max_scope12_t": 10, "foo": 1}],
                           "colour": "red"})
    with pytest.raises(InputError) as exc:
        parse_scenario(text, "plan.yaml")
    where = {p.column for p in exc.value.problems}
    assert {"base.electricity_mwh.A", "grid_factor.2025", "electricity_price", "discount_rate",
            "targets[0].max_scope12_t", "targets[0].foo", "targets[0].year", "colour",
            "fuel_prices.natural_gas"} <= where


def test_stored_targets_replace_the_files():
    text = yaml.safe_dump({"base": {"source": "scenario", "year": 2025, "electricity_mwh": {"A": 10}}, "grid_factor": {2025: 0.5},
                          "electricity_price": 600})
    sc = parse_scenario(text, "s.yaml", targets=[{"year": 2030, "max_scope12_t": 3.0, "min_re_share": None}])
    assert sc.targets[0].max_scope12_t == 3.0 and sc.years[-1] == 2030


def test_nested_unknown_keys_are_refused_with_their_path():
    text = yaml.safe_dump({"base": {"source": "scenario", "year": 2025, "electricity_mwh": {"A": 10}, "asets": 1,
                                    "fuels": {"gas": {"fuel": "natural_gas", "mwh": 10, "tco2e": 2, "mhw": 3}}},
                           "grid_factor": {2025: 0.5}, "electricity_price": 600, "fuel_prices": {"natural_gas": 300},
                           "targets": [{"year": 2030, "max_scope12_t": 3.0}]})
    with pytest.raises(InputError) as exc:
        parse_scenario(text, "plan.yaml")
    assert {p.column for p in exc.value.problems} == {"base.asets", "base.fuels.gas.mhw"}
    assert "is not a base field" in str(exc.value)
