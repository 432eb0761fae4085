"""The green supply chain through the stored data: packaging, take-back and shipment files imported as any
activity file (all-or-nothing, lineage), read back by ``services.green_supply``; the numbers are the worked
examples of tests/test_green_core.py, now from the database."""
from __future__ import annotations

import pytest

from tests.api_support import load_org
from zerocarbon.errors import InputError
from zerocarbon.services import accounting, green_supply

ORG = "ORG"
PACKAGING_2025 = """site,period_start,period_end,product,units,material,mass_per_unit,unit,recycled_share,plastic
TJ01,2025-01-01,2025-12-31,LAPTOP-A,10000,paper_board,0.80,kg,0.5,false
TJ01,2025-01-01,2025-12-31,LAPTOP-A,10000,plastics_average,50,g,0,true
TJ01,2025-01-01,2025-06-30,MONITOR-B,1200,paper_board,1.5,kg,0.8,false
TJ01,2025-07-01,2025-12-31,MONITOR-B,800,paper_board,1.5,kg,0.8,false
"""
PACKAGING_2024 = """site,period_start,period_end,product,units,material,mass_per_unit,unit,recycled_share,plastic
TJ01,2024-01-01,2024-12-31,LAPTOP-A,8000,paper_board,1.0,kg,0.5,false
TJ01,2024-01-01,2024-12-31,LAPTOP-A,8000,plastics_average,0.1,kg,0,true
"""
TAKEBACK_2025 = """site,period_start,period_end,product,material,collected,recycled,unit,treatment,placed_on_market
TJ01,2025-01-01,2025-12-31,LAPTOP-A,plastics_average,20,15,t,recycling_closed_loop,200
TJ01,2025-01-01,2025-12-31,LAPTOP-A,paper_board,10000,9000,kg,recycling_closed_loop,
TJ01,2025-01-01,2025-12-31,LAPTOP-A,wood,2,1.5,t,recycling_closed_loop,
"""
SHIPMENT_2025 = """site,period_start,period_end,category,shipment,leg,mode,vehicle,mass,mass_unit,distance,distance_unit
TJ01,2025-03-01,2025-03-02,4,S1,1,road,,20,t,800,km
TJ01,2025-03-01,2025-03-02,4,S2,1,road,hgv_average_laden,10000,kg,150,km
TJ01,2025-04-01,2025-04-20,9,S3,1,sea,container_ship_average,100,t,5000,km
"""
ELECTRICITY_2025 = """site,meter,period_start,period_end,quantity,unit
TJ01,M1,2025-01-01,2025-12-31,100000,kWh
"""


def _import(sessions, tmp_path, kind: str, year: int, text: str) -> int:
    path = tmp_path / f"{kind}_{year}.csv"
    path.write_text(text, encoding="utf-8")
    return accounting.import_file(sessions, ORG, kind, path, year, "UK-DESNZ-2025.1", actor="test").batch_id


@pytest.fixture
def stored(sessions, tmp_path):
    load_org(sessions, ORG)
    _import(sessions, tmp_path, "packaging", 2025, PACKAGING_2025)
    _import(sessions, tmp_path, "packaging", 2024, PACKAGING_2024)
    _import(sessions, tmp_path, "takeback", 2025, TAKEBACK_2025)
    _import(sessions, tmp_path, "shipment", 2025, SHIPMENT_2025)
    return sessions


def test_packaging_from_stored_rows_against_base_year(stored):
    report, change = green_supply.packaging(stored, ORG, 2025, base_year=2024)
    assert report.total_t == pytest.approx(11.5) and report.kg_per_unit == pytest.approx(11.5 / 12)
    assert change.total_t.base == pytest.approx(8.8)
    laptop = next(p for p in change.by_product if p.product == "LAPTOP-A")
    assert laptop.kg_per_unit.change == pytest.approx(-0.25)


def test_recycling_with_the_shipped_desnz_2024_material_factors(stored):
    rep = green_supply.recycling(stored, ORG, 2025, "UK-DESNZ-2025.1")
    plastics = next(x for x in rep.lines if x.material == "plastics_average")
    # The shipped set's DESNZ 2024 "Plastics: average plastics" factors, primary and closed-loop source.
    assert plastics.factor_ids == ("DESNZ2024.material.plastics_average.primary",
                                   "DESNZ2024.material.plastics_average.closed_loop")
    assert plastics.avoided_tco2e == pytest.approx(15 * (3164.78049 - 1566.38638) / 1000)
    assert rep.without_factors == ["wood"]


def test_logistics_and_modal_shift_from_stored_legs(stored):
    rep = green_supply.logistics(stored, ORG, 2025, "UK-DESNZ-2025.1")
    road = next(m for m in rep["by_mode"] if m["mode"] == "road")
    assert road["tkm"] == pytest.approx(17500) and road["g_per_tkm"] == pytest.approx(121.11)
    assert rep["tkm"] == pytest.approx(517500)
    shift = green_supply.modal_shift(stored, ORG, 2025, from_mode="road", min_distance_km=500, to_mode="rail",
                                     factor_set="UK-DESNZ-2025.1")
    assert shift.legs_moved == 1 and shift.change_t == pytest.approx(-1.38256)


def test_overview_has_five_dimensions_and_says_no_data_rather_than_zero(stored, tmp_path):
    _import(stored, tmp_path, "electricity", 2025, ELECTRICITY_2025)
    result = accounting.compute(stored, ORG, 2025, "CN-2025.1", actor="test")
    o = green_supply.overview(stored, ORG, 2025, factor_set="UK-DESNZ-2025.1", base_year=2024)
    # Green production is the stored inventory's Scope 1+2 (never Scope 3) and its renewable share.
    assert o["production"]["status"] == "ok" and o["production"]["factor_set"] == "CN-2025.1"
    assert result.totals()["scope2_location_t"] > 0
    assert o["production"]["scope2_location_t"] == pytest.approx(result.totals()["scope2_location_t"])
    assert o["production"]["renewable_share"] == 0.0
    assert o["packaging"]["kg_per_unit"] == pytest.approx(11.5 / 12)
    assert o["packaging"]["base"]["kg_per_unit"]["base"] == pytest.approx(1.1)
    assert o["recycling"]["avoided_tco2e_memo"] > 0 and "not deducted" in o["recycling"]["memo"]
    assert o["logistics"]["status"] == "ok"
    assert o["suppliers"]["status"] in ("ok", "no data", "not available")
    empty = green_supply.overview(stored, ORG, 2023)
    for dim in ("production", "logistics", "recycling", "packaging"):
        assert empty[dim]["status"] == "no data", dim
    assert empty["packaging"]["total_t"] == 0 and empty["packaging"]["kg_per_unit"] is None


def test_supplier_dimension_is_the_registers_compliance_by_count_and_spend(stored):
    from zerocarbon.services import suppliers

    assert green_supply.overview(stored, ORG, 2025)["suppliers"]["status"] == "no data"  # an empty register
    registry = b"code,name,tier,annual_spend,currency\nPS1,Box maker,1,3000000,CNY\nPS2,Foam maker,2,1000000,CNY\n"
    suppliers.import_suppliers(stored, ORG, "suppliers.csv", registry, actor="test")
    s = green_supply.overview(stored, ORG, 2025)["suppliers"]
    # Neither supplier has an accepted answer on 2025-12-31: nothing to judge compliance on, so "no data" with the
    # reason (never "0 of 2 compliant"); the register's size is still given.
    assert s["status"] == "no data" and "no supplier had an accepted answer on 2025-12-31" in s["reason"]
    assert s["suppliers"] == 2 and s["as_of"] == "2025-12-31"


def test_packaging_rows_a_report_cannot_use_are_named_and_the_other_dimensions_stay(sessions, tmp_path):
    from zerocarbon.io.tables import read_table, validate
    from zerocarbon.store import repos

    load_org(sessions, ORG)
    # Two components of one product and period that disagree on the units produced: each row is valid, but the KPI
    # needs one number of units per product and period, so the import refuses them ...
    bad = PACKAGING_2025.replace("LAPTOP-A,10000,plastics_average", "LAPTOP-A,9000,plastics_average")
    with pytest.raises(InputError, match="different units produced"):
        _import(sessions, tmp_path, "packaging", 2025, bad)
    # ... and rows stored before imports checked it are named by the overview.
    path = tmp_path / "packaging_2025.csv"
    path.write_text(bad, encoding="utf-8")
    with sessions.begin() as s:
        org_id, org = repos.load_organisation(s, ORG)
        frame = validate("packaging", read_table(path), path.name, {x.code for x in org.sites}, 2025)
        batch = repos.save_batch(s, org_id, "packaging", path.name, str(path), "0" * 64, 2025, frame, "test").id
    _import(sessions, tmp_path, "takeback", 2025, TAKEBACK_2025)
    o = green_supply.overview(sessions, ORG, 2025, factor_set="UK-DESNZ-2025.1")
    assert o["packaging"]["status"] == "invalid data"
    # Both rows named by their activity id (batch, file, row); the period as dates; a report writes nothing.
    assert any("for 2025-01-01..2025-12-31: its packaging rows state different units produced "
               f"(b{batch}:packaging_2025.csv:2 has 10000, b{batch}:packaging_2025.csv:3 has 9000)" in p
               for p in o["packaging"]["problems"])
    assert "nothing was written" not in o["packaging"]["reason"]
    assert o["recycling"]["status"] == "ok"
