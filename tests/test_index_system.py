"""Index systems as data: the shipped systems parse and keep their published structure; a malformed file is
refused with the JSON path of every bad field."""
from __future__ import annotations

import copy

import pytest
import yaml

from zerocarbon.core.assessment.index import (
    KNOWN_METRICS, MEASURE_IDS, IndexSystem, parse_index_system, shipped_index_systems, units_compatible,
)
from zerocarbon.errors import InputError

P = "proposed"


def ind(id_, metric="energy.renewable_electricity_share", unit="fraction", points=50.0, **rule):
    return {"id": id_, "name": {"en": id_, "zh": id_}, "metric": metric, "unit": unit,
            "rule": rule or {"kind": "linear", "baseline": 0.2, "leading": 0.8},
            "points": points, "status": P, "basis": ["S"], "measures": ["rooftop_pv"]}


def valid_doc() -> dict:
    return {
        "id": "t", "version": "1", "name": {"en": "T", "zh": "测"}, "description": {"en": "d", "zh": "述"},
        "sources": [{"id": "S", "title": "a source", "takes": "everything"}],
        "boundaries": ["site", "workshop"],
        "gates": [{"id": "R1", "name": {"en": "g", "zh": "门"}, "metric": "manual.compliance_3y", "op": "==",
                   "value": 1, "status": "sourced", "basis": ["S"]}],
        "dimensions": [{"id": "d1", "name": {"en": "D1", "zh": "维一"}, "indicators": [
            ind("re"),
            ind("kwh", metric="energy.kwh_per_unit", unit="kWh/unit", points=30,
                kind="linear", direction="lower", baseline=20, leading=10)]},
            {"id": "d2", "name": {"en": "D2", "zh": "维二"}, "indicators": [
                ind("inv", metric="ghg.inventory_completeness", unit="count", points=20, kind="checklist",
                    items=[{"en": "a", "zh": "甲"}, {"en": "b", "zh": "乙"}])]}],
        "grades": [{"id": "g1", "name": {"en": "one", "zh": "一"}, "min_score": 50},
                   {"id": "g2", "name": {"en": "two", "zh": "二"}, "min_score": 80,
                    "requires": [{"ref": "re", "op": ">=", "value": 1}]}],
    }


def parse(doc) -> IndexSystem:
    return parse_index_system(yaml.safe_dump(doc, allow_unicode=True), "mine.yaml")


def problems(doc) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        parse(doc)
    assert all(p.source == "mine.yaml" for p in info.value.problems)
    found: dict[str, str] = {}
    for p in info.value.problems:
        found[p.column] = f"{found[p.column]} | {p.reason}" if p.column in found else p.reason
    return found


def test_valid_document_parses_into_the_interface():
    s = parse(valid_doc())
    assert [d.weight for d in s.dimensions] == [80.0, 20.0]
    assert s.indicator("kwh").rule.direction == "lower" and s.indicator("kwh").boundaries == ("site", "workshop")
    assert s.metrics() == {"energy.renewable_electricity_share", "energy.kwh_per_unit",
                           "ghg.inventory_completeness", "manual.compliance_3y"}
    assert len(s.sha256) == 64 and s.grades[1].requires[0].ref == "re"
    assert not s.indicator("re").manual


def step(v, f):
    return {"value": v, "fraction": f}


def _set(path):
    """A mutation that sets a value at a path of keys/indices (the last element is the value)."""
    *keys, last, value = path

    def mutate(doc):
        node = doc
        for k in keys:
            node = node[k]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return mutate


DELETE = object()
I0 = ("dimensions", 0, "indicators", 0)
R0 = I0 + ("rule",)

CASES = [  # (name, mutation, JSON path of the problem, words in the reason)
    ("missing field", _set(I0 + ("metric", DELETE)), "dimensions[0].indicators[0].metric", "required"),
    ("missing Chinese name", _set(I0 + ("name", "zh", DELETE)), "dimensions[0].indicators[0].name.zh", "required"),
    ("wrong type", _set(I0 + ("points", "ten")), "dimensions[0].indicators[0].points", "type number"),
    ("points not positive", _set(I0 + ("points", 0)), "dimensions[0].indicators[0].points", "above 0"),
    ("unknown rule kind", _set(R0 + ("kind", "linar")), "dimensions[0].indicators[0].rule.kind", "not one of"),
    ("misspelled field", _set(R0 + ("leadng", 0.8)), "dimensions[0].indicators[0].rule.leadng", "unknown field"),
    ("linear without leading", _set(R0 + ("leading", DELETE)), "dimensions[0].indicators[0].rule.leading",
     "required"),
    ("baseline == leading", _set(R0 + ("leading", 0.2)), "dimensions[0].indicators[0].rule.leading", "equals"),
    ("direction contradicts the range", _set(R0 + ("direction", "lower")),
     "dimensions[0].indicators[0].rule.leading", "direction is 'lower'"),
    ("unordered steps", _set(I0 + ("rule", {"kind": "threshold", "steps": [step(0.6, 0.5), step(0.3, 1)]})),
     "dimensions[0].indicators[0].rule.steps[1].value", "easiest to hardest"),
    ("step fractions not rising", _set(I0 + ("rule", {"kind": "threshold", "steps": [step(0.3, 1), step(0.6, 1)]})),
     "dimensions[0].indicators[0].rule.steps[1].fraction", "does not rise"),
    ("step fraction above 1", _set(I0 + ("rule", {"kind": "threshold", "steps": [step(0.3, 0.5), step(0.6, 1.5)]})),
     "dimensions[0].indicators[0].rule.steps[1].fraction", "not in (0, 1]"),
    ("last step short of full points", _set(I0 + ("rule", {"kind": "threshold", "steps": [step(0.3, 0.5)]})),
     "dimensions[0].indicators[0].rule.steps[0].fraction", "full points"),
    ("a field the rule does not use", _set(R0 + ("steps", [step(0.3, 1)])),
     "dimensions[0].indicators[0].rule.steps", "does not use"),
    ("fraction written as a percentage", _set(R0 + ("leading", 80)), "dimensions[0].indicators[0].rule",
     "write 0.8 for 80 %"),
    ("duplicate id", _set(("dimensions", 0, "indicators", 1, "id", "re")), "dimensions[0].indicators[1].id",
     "already used at dimensions[0].indicators[0].id"),
    ("malformed metric key", _set(I0 + ("metric", "Energy.Share")), "dimensions[0].indicators[0].metric",
     "not a metric key"),
    ("metric zerocarbon does not compute", _set(I0 + ("metric", "energy.sunshine")),
     "dimensions[0].indicators[0].metric", "not computed"),
    ("metric read in the wrong unit", _set(I0 + ("unit", "kWh")), "dimensions[0].indicators[0].unit",
     "cannot be read as 'kWh'"),
    ("unknown unit", _set(("dimensions", 0, "indicators", 1, "unit", "kWhh/unit")),
     "dimensions[0].indicators[1].unit", "unknown unit"),
    ("checklist not counted", _set(("dimensions", 1, "indicators", 0, "unit", "fraction")),
     "dimensions[1].indicators[0].unit", "must be 'count'"),
    ("checklist with a direction", _set(("dimensions", 1, "indicators", 0, "rule", "direction", "lower")),
     "dimensions[1].indicators[0].rule.direction", "always 'higher'"),
    ("malformed measure id", _set(I0 + ("measures", ["Rooftop-PV"])), "dimensions[0].indicators[0].measures[0]",
     "not a measure id"),
    ("basis not a source", _set(I0 + ("basis", ["NOPE"])), "dimensions[0].indicators[0].basis[0]",
     "not the id of an entry in 'sources'"),
    ("boundary outside the system",
     lambda d: [_set(("boundaries", ["site"]))(d), _set(I0 + ("boundaries", ["workshop"]))(d)],
     "dimensions[0].indicators[0].boundaries[0]",
     "not one of the system's boundaries"),
    ("unknown gate operator", _set(("gates", 0, "op", "=>")), "gates[0].op", "not one of"),
    ("grade refers to an unknown indicator", _set(("grades", 1, "requires", 0, "ref", "rx")),
     "grades[1].requires[0].ref", "not the id of an indicator"),
    ("grade refers to an unknown metric", _set(("grades", 1, "requires", 0, "ref", "energy.sunshine")),
     "grades[1].requires[0].ref", "neither read"),
    ("grades out of order", _set(("grades", 1, "min_score", 50)), "grades[1].min_score", "lowest to highest"),
    ("grade above the maximum", _set(("grades", 1, "min_score", 101)), "grades[1].min_score", "above the maximum"),
    ("points do not add up to 100", _set(I0 + ("points", 49.5)), "dimensions", "add up to 99.5"),
    ("unknown top-level field", _set(("weights", {})), "weights", "unknown field"),
    ("second unknown field", lambda d: d.update(weights={}, colour="red"), "colour", "unknown field 'colour'"),
    ("infinite threshold", _set(R0 + ("leading", float("inf"))), "dimensions[0].indicators[0].rule.leading",
     "finite number"),
]


@pytest.mark.parametrize("name,mutate,path,words", CASES, ids=[c[0] for c in CASES])
def test_malformed_file_is_refused_at_the_bad_field(name, mutate, path, words):
    doc = valid_doc()
    mutate(doc)
    found = problems(doc)
    assert path in found, found
    assert words in found[path], found[path]


def test_every_problem_is_reported_at_once():
    doc = valid_doc()
    _set(R0 + ("leading", 0.2))(doc)
    _set(("grades", 1, "requires", 0, "ref", "rx"))(doc)
    _set(("dimensions", 1, "indicators", 0, "metric", DELETE))(doc)
    assert {"dimensions[0].indicators[0].rule.leading", "grades[1].requires[0].ref",
            "dimensions[1].indicators[0].metric"} <= set(problems(doc))


def test_points_may_be_off_100_only_by_rounding():
    doc = valid_doc()
    doc["dimensions"][0]["indicators"][0]["points"] = 50 + 1e-12
    assert parse(doc)


def test_a_well_formed_measure_outside_the_catalogue_is_accepted():
    """The catalogue is checked where both are loaded (the assessment service), not by the parser."""
    doc = valid_doc()
    doc["dimensions"][0]["indicators"][0]["measures"] = ["solar_carport"]
    assert parse(doc).indicator("re").measures == ("solar_carport",)


def test_manual_metrics_and_conditions_on_them_are_accepted():
    doc = valid_doc()
    doc["dimensions"][0]["indicators"][0].update(metric="manual.pv_roof_share")
    doc["grades"][1]["requires"].append({"ref": "manual.third_party_verified", "op": "==", "value": 1})
    s = parse(doc)
    assert s.indicator("re").manual and "manual.third_party_verified" in s.metrics()
    assert s.unit_of("manual.third_party_verified") == "bool"


@pytest.mark.parametrize("text,column,row", [
    ("id: [unclosed", None, 1),
    ("- a list\n- not a mapping\n", "$", None),
])
def test_unreadable_yaml_is_refused(text, column, row):
    with pytest.raises(InputError) as info:
        parse_index_system(text, "mine.yaml")
    (p,) = info.value.problems
    assert (p.column, p.row, p.source) == (column, row, "mine.yaml")


def test_unit_rules():
    assert units_compatible("kWh/unit", "MWh/unit")  # pint: converted before scoring
    assert not units_compatible("kWh/unit", "kgCO2e/unit")
    assert units_compatible("kgce/unit", "kgce/unit") and not units_compatible("kgce/unit", "tce/unit")
    assert not units_compatible("fraction", "count")


# ------------------------------------------------------------------------------------------ shipped systems

@pytest.fixture(scope="module")
def shipped():
    return shipped_index_systems()


def test_both_shipped_systems_parse(shipped):
    assert set(shipped) == {"zero_carbon_factory", "green_factory_gbt36132"}
    for s in shipped.values():
        assert s.name.en and s.name.zh and s.description.zh
        for i in s.indicators():
            assert i.name.en and i.name.zh and i.status in ("sourced", "proposed") and i.basis
            assert i.metric in KNOWN_METRICS or i.manual, i.metric
            assert set(i.measures) <= set(MEASURE_IDS), (i.id, i.measures)
            assert i.status == "sourced" or i.rationale, f"{i.id}: a proposal must say why"
        for src in s.sources:
            assert src["takes"] and (src.get("url") or src["id"] in ("P", "MIIT26_SELF"))


def test_zero_carbon_factory_structure(shipped):
    s = shipped["zero_carbon_factory"]
    assert [(d.id, d.name.zh, d.weight) for d in s.dimensions] == [
        ("infrastructure", "基础设施建设", 15), ("production_operations", "生产运营", 25),
        ("carbon_neutrality_management", "碳中和管理", 20), ("informatization", "信息化协同", 15),
        ("zero_carbon_performance", "零碳绩效", 25)]
    assert [g.id for g in s.gates] == ["R1", "R2", "R3", "R4"]
    top = s.grades[-1]
    # T/CECA-G 0171-2022: Type I six-star needs 100 % renewable electricity and 100 % offset.
    assert {(c.ref, c.op, c.value) for c in top.requires} >= {
        ("energy.renewable_electricity_share", ">=", 1.0), ("claim.offset_coverage", ">=", 1.0)}
    assert [g.name.zh for g in s.grades] == ["三星级零碳工厂", "四星级零碳工厂", "五星级零碳工厂", "六星级零碳工厂"]
    # the MIIT 2026 guidance's paths are sourced: every dimension names it at least once
    assert all(any("MIIT26" in i.basis for i in d.indicators) for d in s.dimensions)


def test_green_factory_weights_follow_gbt36132_2025(shipped):
    """GB/T 36132-2025: quantitative indicators carry >= 60 % of the weight, and energy saving/carbon reduction
    plus efficient resource use >= 60 % (checked both of the quantitative weight and of the total)."""
    s = shipped["green_factory_gbt36132"]
    assert [d.name.zh for d in s.dimensions] == ["能源低碳化", "资源高效化", "生产洁净化", "产品绿色化", "用地集约化"]
    total = sum(d.weight for d in s.dimensions)
    quantitative = {d.id: sum(i.points for i in d.indicators if i.rule.kind in ("linear", "threshold"))
                    for d in s.dimensions}
    q_total = sum(quantitative.values())
    energy_resources = quantitative["energy_low_carbon"] + quantitative["resource_efficiency"]
    assert q_total / total >= 0.60
    assert energy_resources / q_total >= 0.60 and energy_resources / total >= 0.60
    assert {i.rule.kind for i in s.indicators() if i.rule.kind in ("linear", "threshold")}
    assert all(i.status == "proposed" for i in s.indicators())  # no second-level value is published yet


def test_shipped_systems_are_cached_but_returned_as_new_dicts(shipped):
    again = shipped_index_systems()
    again.pop("zero_carbon_factory")
    assert "zero_carbon_factory" in shipped_index_systems()


def test_schema_refuses_the_shipped_file_with_one_field_broken():
    from importlib.resources import files
    doc = yaml.safe_load(files("zerocarbon").joinpath("data", "index", "zero_carbon_factory.yaml")
                         .read_text(encoding="utf-8"))
    broken = copy.deepcopy(doc)
    broken["dimensions"][2]["indicators"][0]["rule"]["items"] = []
    assert "dimensions[2].indicators[0].rule.items" in problems(broken)


def test_the_example_in_the_docs_parses_and_scores_as_the_docs_say():
    from pathlib import Path

    from zerocarbon.core.assessment.scoring import MetricValue, score
    text = (Path(__file__).parents[1] / "docs" / "index-systems.md").read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    s = parse_index_system(example, "docs example")
    r = score(s, {"energy.renewable_electricity_share": MetricValue(0.65, "fraction", "computed"),
                  "energy.kwh_per_unit": MetricValue(5, "kWh/unit", "computed"),
                  "manual.compliance_3y": MetricValue(1, "bool", "manual")})
    assert r.total == pytest.approx(50.0) and r.grade is None and r.next_grade.id == "good"
    assert r.missing_for_next == ("score 50 below 60",)
    assert [(g.indicator.id, round(g.points_short, 9), g.needed) for g in r.gaps] == [
        ("re_share", 30.0, 1.0), ("kwh_per_unit", 20.0, 4.0)]


def test_docs_list_every_shipped_indicator(shipped):
    from pathlib import Path
    text = (Path(__file__).parents[1] / "docs" / "index-systems.md").read_text(encoding="utf-8")
    for s in shipped.values():
        for i in s.indicators():
            assert f"`{i.id}` | `{i.metric}`" in text, i.id
