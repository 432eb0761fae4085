"""Energy flows (core.energy.flows) on hand-made numbers: where each meter sits, no double counting of a main
meter and its sub-meters, the unmetered remainder, and a sub-meter sum above its parent as a warning."""
from __future__ import annotations

import pytest

from zerocarbon.core.energy.flows import MeterTotal, flows, place, role
from zerocarbon.core.energy.intervals import Meter


def t(meter, value, *path, covered=None):
    return MeterTotal(meter, tuple(path), value, covered)


A, B = ("area", "SMT hall"), ("area", "test hall")
L1, L2, L3 = ("line", "SMT1"), ("line", "SMT2"), ("line", "TEST1")


def by_id(f):
    return {n.id: n for n in f.nodes}


def links(f):
    return {(lk.source, lk.target): lk.value for lk in f.links}


def test_a_meter_sits_where_the_registry_places_it():
    assert place(Meter("M", "S", area="substation", asset="10 kV incomer", revenue=True)) == ()
    assert place(Meter("X", "S")) == ()
    assert place(Meter("H", "S", area="SMT hall")) == (A,)
    assert place(Meter("L", "S", area="SMT hall", line="SMT1")) == (A, L1)
    assert place(Meter("O", "S", area="SMT hall", line="SMT1", asset="oven")) == (A, L1, ("asset", "oven"))
    assert place(Meter("N", "S", line="SMT1")) == (L1,)


def test_main_meter_above_sub_meters_is_not_counted_twice_and_the_rest_is_unmetered():
    f = flows("S", [t("MAIN", 1000.0), t("HALL", 700.0, A), t("M1", 300.0, A, L1), t("M2", 250.0, A, L2),
                    t("M3", 200.0, B, L3)])
    n = by_id(f)
    assert f.total == 1000.0 and n["S"].metered and n["S"].meters == ("MAIN",)
    # the hall has its own meter: 700, of which its lines measure 550; test hall has none: its line's 200
    assert n["S › SMT hall"].value == 700.0 and n["S › test hall"].value == 200.0
    assert not n["S › test hall"].metered
    assert links(f) == {("S", "S › SMT hall"): 700.0, ("S", "S › test hall"): 200.0, ("S", "S › unmetered"): 100.0,
                        ("S › SMT hall", "S › SMT hall › SMT1"): 300.0, ("S › SMT hall", "S › SMT hall › SMT2"): 250.0,
                        ("S › SMT hall", "S › SMT hall › unmetered"): 150.0,
                        ("S › test hall", "S › test hall › TEST1"): 200.0}
    # what leaves every node is what comes in: no double counting anywhere
    for node in f.nodes:
        out = [v for (s, _), v in links(f).items() if s == node.id]
        if out:
            assert sum(out) == pytest.approx(node.value)
    assert f.warnings == []


def test_sub_meters_above_their_parent_are_a_warning_and_no_negative_flow():
    f = flows("S", [t("MAIN", 500.0), t("M1", 300.0, L1), t("M2", 260.0, L2)])
    assert f.total == 500.0
    assert all(lk.value >= 0 for lk in f.links) and "S › unmetered" not in by_id(f)
    (w,) = f.warnings
    assert w.kind == "children_exceed_meter" and w.node == "S" and w.value == pytest.approx(-60.0)
    assert "60.000 kWh more" in w.message and "MAIN" in w.message


def test_without_a_site_meter_the_site_is_the_sum_of_its_parts():
    f = flows("S", [t("M1", 300.0, A, L1), t("M2", 250.0, A, L2)])
    assert f.total == 550.0 and not by_id(f)["S"].metered
    assert not any(n.level == "unmetered" for n in f.nodes)


def test_several_meters_of_one_node_add_up():
    f = flows("S", [t("MAIN-A", 400.0), t("MAIN-B", 600.0), t("M1", 900.0, L1)])
    assert f.total == 1000.0 and by_id(f)["S"].meters == ("MAIN-A", "MAIN-B")
    assert links(f)[("S", "S › unmetered")] == pytest.approx(100.0)


def test_asset_level_is_optional_but_still_counts():
    totals = [t("MAIN", 100.0), t("O1", 30.0, A, L1, ("asset", "oven")), t("P1", 20.0, A, L1, ("asset", "printer"))]
    deep, shallow = flows("S", totals), flows("S", totals, depth=2)
    assert by_id(deep)["S › SMT hall › SMT1 › oven"].value == 30.0
    assert not any(n.level == "asset" for n in shallow.nodes)
    assert by_id(shallow)["S › SMT hall › SMT1"].value == 50.0
    assert links(shallow)[("S", "S › unmetered")] == 50.0


def test_remainder_under_a_hidden_level_is_hidden_with_it():
    totals = [t("L1", 100.0, L1), t("O1", 60.0, L1, ("asset", "oven"))]
    assert links(flows("S", totals))[("S › SMT1", "S › SMT1 › unmetered")] == 40.0
    shallow = flows("S", totals, depth=1)
    assert [n.id for n in shallow.nodes] == ["S", "S › SMT1"] and shallow.total == 100.0


def test_float_rounding_is_no_remainder_and_no_warning():
    f = flows("S", [t("MAIN", 0.3), t("M1", 0.1, L1), t("M2", 0.2, L2)])
    assert not any(n.level == "unmetered" for n in f.nodes) and f.warnings == []


def test_missing_and_partial_readings_are_warned():
    f = flows("S", [t("MAIN", 100.0, covered=1440), t("M1", 50.0, L1, covered=720), t("M2", 0.0, L2, covered=0)])
    kinds = {w.node: w.kind for w in f.warnings}
    assert kinds == {"S › SMT1": "partial_coverage", "S › SMT2": "no_readings"}
    assert "50.0%" in next(w.message for w in f.warnings if w.kind == "partial_coverage")


def s(meter, value, r, covered=None):
    return MeterTotal(meter, (), value, covered, role=r)


def test_a_pv_meter_is_a_supply_generation_or_export_by_its_revenue_flag():
    assert role(Meter("PV", "S", area="roof", medium="pv")) == "generation"
    assert role(Meter("PVX", "S", area="roof", medium="pv", revenue=True)) == "export"
    assert role(Meter("MAIN", "S", area="incomer", revenue=True)) == "import"
    assert role(Meter("L", "S", line="SMT1")) == "consumer"
    # in the flows of PV alone, a PV meter is the medium's own meter, not a supply
    assert role(Meter("PV", "S", area="roof", medium="pv"), "pv") == "consumer"


def test_rooftop_pv_feeds_the_site_and_its_consumption_is_import_plus_generation():
    """Grid import 700 + PV 240 = 940 consumed; the lines measure 900: 40 unmetered, no warning. The old rule
    compared the lines with the import meter alone and warned that they measure 200 more."""
    f = flows("S", [s("MAIN", 700.0, "import"), s("PV", 240.0, "generation"), t("M1", 500.0, A, L1),
                    t("M2", 400.0, B, L3)])
    n = by_id(f)
    assert f.total == 940.0 and f.grid_import == 700.0 and f.generation == 240.0 and f.export is None
    assert f.self_consumption == 240.0
    assert f.warnings == []
    assert n["S › grid import"].level == "import" and n["S › generation"].meters == ("PV",)
    assert links(f)[("S › grid import", "S")] == 700.0 and links(f)[("S › generation", "S")] == 240.0
    assert links(f)[("S", "S › unmetered")] == pytest.approx(40.0)
    assert "S › roof" not in n


def test_an_export_meter_takes_the_exported_energy_out_of_the_site_consumption():
    """Generation 300, of which 80 exported: 220 consumed on site; import 700: site 920."""
    f = flows("S", [s("MAIN", 700.0, "import"), s("PV", 300.0, "generation"), s("PVX", 80.0, "export"),
                    t("M1", 920.0, A, L1)])
    assert f.total == 920.0 and f.self_consumption == 220.0 and f.export == 80.0
    assert links(f)[("S › generation", "S")] == 220.0 and links(f)[("S › generation", "S › export")] == 80.0
    assert by_id(f)["S › export"].value == 80.0
    assert f.warnings == [] and "S › unmetered" not in by_id(f)


def test_with_pv_only_real_over_measurement_is_a_warning():
    f = flows("S", [s("MAIN", 700.0, "import"), s("PV", 240.0, "generation"), t("M1", 1000.0, A, L1)])
    (w,) = f.warnings
    assert w.kind == "children_exceed_meter" and w.value == pytest.approx(-60.0)
    assert "grid import MAIN plus on-site generation" in w.message


def test_export_above_generation_is_a_warning():
    f = flows("S", [s("MAIN", 700.0, "import"), s("PV", 50.0, "generation"), s("PVX", 80.0, "export")])
    assert [w.kind for w in f.warnings] == ["export_exceeds_generation"]
    assert f.self_consumption == 0.0 and f.total == 700.0
