"""The disclosure catalogue: the shipped files load, point at facts that exist, and bad files are refused with
every problem named by file, row and column."""
from __future__ import annotations

from pathlib import Path

import pytest

from zerocarbon.core.disclosure import catalogue as cat
from zerocarbon.core.disclosure.keys import FACTS, is_input_key
from zerocarbon.core.disclosure.model import PSEUDO_UNITS, REQUIREMENTS
from zerocarbon.errors import InputError, NotFoundError
from zerocarbon.units import dimension_of

ROOT = Path(__file__).resolve().parents[1]
HEADER = ",".join(cat.COLUMNS)
GOOD = "hkex,A1.2.scope1,A1,Scope 1,范围一,tCO2e,ghg.scope1,mandatory,,,secondary,a source"


def _point(framework: str, id_: str):
    found = [p for p in cat.points_of(framework) if p.id == id_]
    assert len(found) == 1, f"{framework} {id_}"
    return found[0]


def test_shipped_frameworks_are_the_seven():
    fws = cat.load_frameworks()
    assert tuple(fws) == cat.FRAMEWORK_IDS
    for fw in fws.values():
        assert fw.name_en and fw.name_zh and fw.edition and fw.source.startswith("http")
    assert fws["esrs_e1"].prefix == "esrs"
    assert fws["esrs_e1"].namespace == "https://xbrl.efrag.org/taxonomy/esrs/2023-12-22"
    # no taxonomy outside the two that have one
    assert all(not fws[f].taxonomy for f in cat.FRAMEWORK_IDS if f not in ("issb_s2", "esrs_e1"))


def test_shipped_catalogue_loads_and_every_framework_has_points():
    points = cat.load_catalogue()
    assert len(points) > 200
    for fid in cat.FRAMEWORK_IDS:
        assert len(cat.points_of(fid)) >= 20, fid


def test_every_fact_is_known_or_an_input_and_units_fit():
    for p in cat.load_catalogue():
        assert p.requirement in REQUIREMENTS
        assert p.confidence in cat.CONFIDENCES
        if is_input_key(p.fact):
            continue
        assert p.fact in FACTS, p
        fact_unit = FACTS[p.fact].unit
        if p.unit in PSEUDO_UNITS or p.unit in cat.COAL_UNITS or fact_unit in PSEUDO_UNITS:
            assert p.unit == fact_unit, p
        else:
            assert dimension_of(p.unit) == dimension_of(fact_unit), p


def test_the_headline_points_answer_with_the_right_facts():
    assert _point("hkex", "A1.2.scope1").fact == "ghg.scope1"
    assert _point("hkex", "A1.2.scope1").requirement == "mandatory"
    assert _point("hkex", "A1.2.scope2").fact == "ghg.scope2_location"
    assert _point("hkex", "A2.1.total").fact == "energy.total"
    assert _point("hkex", "A2.1.total").unit == "MWh"
    assert _point("hkex", "A1.3.total").fact == "waste.hazardous"
    assert _point("issb_s2", "29(a)(i)(1)").fact == "ghg.scope1"
    assert _point("issb_s2", "29(a)(i)(2)").fact == "ghg.scope2_location"
    assert _point("issb_s2", "29(a)(i)(3)").fact == "ghg.scope3"
    assert _point("issb_s2", "29(a)(iv).scope1_investees").fact == "ghg.scope1.investees"
    assert _point("esrs_e1", "44").fact == "ghg.total_location"
    assert _point("esrs_e1", "44").xbrl == "esrs:GrossGreenhouseGasEmissions"
    assert _point("esrs_e1", "48(a)").xbrl == "esrs:GrossScope1GreenhouseGasEmissions"
    assert _point("esrs_e1", "49(b)").fact == "ghg.scope2_market"
    assert _point("esrs_e1", "52(b)").fact == "ghg.total_market"
    assert _point("gri", "305-1.a").fact == "ghg.scope1"
    assert _point("gri", "302-1.e").unit == "GJ" and _point("gri", "302-1.e").fact == "energy.total"
    assert _point("cn_exchange", "energy.total_tce").fact == "energy.total_tce"
    assert _point("cn_exchange", "energy.total_tce").unit == "tce"
    assert _point("ghgp", "S2G.market").fact == "ghg.scope2_market"
    assert _point("cdp", "7.7.location").fact == "ghg.scope2_location"


def test_xbrl_only_where_a_taxonomy_is_and_with_its_prefix():
    fws = cat.load_frameworks()
    for p in cat.load_catalogue():
        if p.xbrl:
            assert fws[p.framework].prefix, p
            assert p.xbrl.startswith(fws[p.framework].prefix + ":")


def test_points_of_an_unknown_framework():
    with pytest.raises(NotFoundError):
        cat.points_of("sasb")


def test_input_keys_agree_on_their_units():
    keys = cat.input_keys()
    assert keys["input.water.consumption"] == "m**3"
    assert keys["text.governance"] == "text"
    assert keys["input.finance.internal_carbon_price"] == "CNY/tCO2e"
    # the data README lists every one of them
    readme = (ROOT / "src/zerocarbon/data/disclosure/README.md").read_text("utf-8")
    for key in keys:
        assert f"`{key}`" in readme, key


def _problems(text: str, **kw):
    with pytest.raises(InputError) as err:
        cat.load_catalogue(text, origin="bad.csv", **kw)
    return [(p.source, p.row, p.column) for p in err.value.problems], err.value


def test_a_good_small_file_loads():
    points = cat.load_catalogue(f"{HEADER}\n{GOOD}\n")
    assert [p.id for p in points] == ["A1.2.scope1"]


@pytest.mark.parametrize("row, column", [
    ("sasb,X1,s,en,zh,tCO2e,ghg.scope1,mandatory,,,secondary,src", "framework"),
    ("hkex,X1,s,en,zh,tonnesCO2,ghg.scope1,mandatory,,,secondary,src", "unit"),
    ("hkex,X1,s,en,zh,tCO2e,ghg.scope9,mandatory,,,secondary,src", "fact"),
    ("hkex,X1,s,en,zh,MWh,ghg.scope1,mandatory,,,secondary,src", "unit"),
    ("hkex,X1,s,en,zh,tCO2e,ghg.scope1,must,,,secondary,src", "requirement"),
    ("hkex,X1,s,en,zh,tCO2e,ghg.scope1,mandatory,,,sure,src", "confidence"),
    ("hkex,X1,s,en,zh,tCO2e,ghg.scope1,mandatory,,,verified,", "source"),
    ("hkex,X1,s,en,zh,tCO2e,ghg.scope1,mandatory,,esrs:GrossScope1GreenhouseGasEmissions,secondary,src", "xbrl"),
    ("hkex,X1,s,en,zh,MWh,energy.total_tce,mandatory,,,secondary,src", "unit"),
    ("hkex,X1,s,en,zh,fraction,ghg.scope1,mandatory,,,secondary,src", "unit"),
    ("hkex,X1,s,en,zh,kg,text.waste_handling,mandatory,,,secondary,src", "unit"),
    ("hkex,,s,en,zh,tCO2e,ghg.scope1,mandatory,,,secondary,src", "id"),
])
def test_a_bad_row_is_named_by_row_and_column(row, column):
    found, _ = _problems(f"{HEADER}\n{GOOD}\n{row}\n")
    assert ("bad.csv", 3, column) in found


def test_a_duplicate_id_names_the_second_row():
    found, err = _problems(f"{HEADER}\n{GOOD}\n{GOOD}\n")
    assert found == [("bad.csv", 3, "id")]
    assert "row 2" in str(err)


def test_an_input_key_used_with_two_dimensions_is_refused():
    rows = ("hkex,W1,s,en,zh,m**3,input.water.consumption,voluntary,,,secondary,src\n"
            "gri,W1,s,en,zh,kg,input.water.consumption,voluntary,,,secondary,src\n")
    found, _ = _problems(f"{HEADER}\n{rows}")
    assert found == [("bad.csv", 3, "unit")]


def test_compatible_units_convert_and_known_can_be_given():
    rows = "gri,E1,s,en,zh,GJ,energy.total,voluntary,,,secondary,src\n"
    assert cat.load_catalogue(f"{HEADER}\n{rows}")[0].unit == "GJ"
    rows = "gri,E1,s,en,zh,GJ,my.energy,voluntary,,,secondary,src\n"
    assert cat.load_catalogue(f"{HEADER}\n{rows}", known={"my.energy": "kWh"})[0].fact == "my.energy"


def test_a_missing_column_is_named():
    header = HEADER.replace(",note", "")
    found, _ = _problems(f"{header}\nhkex,X,s,en,zh,tCO2e,ghg.scope1,mandatory,,secondary,src\n")
    assert found == [("bad.csv", 1, "note")]


def test_every_problem_is_reported_at_once():
    rows = ("sasb,X1,s,en,zh,tCO2e,ghg.scope1,mandatory,,,secondary,src\n"
            "hkex,X2,s,en,zh,tCO2e,ghg.nothing,mandatory,,,secondary,src\n"
            "hkex,X3,s,en,zh,parsecs,ghg.scope1,mandatory,,,secondary,src\n")
    found, _ = _problems(f"{HEADER}\n{rows}")
    assert found == [("bad.csv", 2, "framework"), ("bad.csv", 3, "fact"), ("bad.csv", 4, "unit")]


def test_a_row_with_the_wrong_number_of_cells():
    found, _ = _problems(f"{HEADER}\nhkex,X1,s\n")
    assert found == [("bad.csv", 2, None)]


def test_frameworks_file_problems_are_named():
    with pytest.raises(InputError) as err:
        cat.load_frameworks("frameworks:\n  - id: hkex\n    name_en: HKEX\n", origin="fw.yaml")
    found = {(p.row, p.column) for p in err.value.problems}
    assert (1, "name_zh") in found and (None, "id") in found


def test_the_catalogue_document_shows_the_catalogue():
    doc = (ROOT / "docs/disclosure-catalogue.md").read_text("utf-8")
    marker = "<!-- generated by zerocarbon.core.disclosure.catalogue.catalogue_markdown -->\n"
    assert marker in doc
    assert doc.split(marker, 1)[1] == cat.catalogue_markdown()
