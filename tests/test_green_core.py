"""UK DESNZ 2024 material factors used by the green supply tests, each with its source row.

Values copied from "UK Government GHG Conversion Factors for Company Reporting 2024", flat file v1.1
(2024-10-18), sheet "Factors by Category", column "GHG Conversion Factor 2024", kg CO2e; Open Government
Licence v3.0 (Crown copyright). Copy read: GitHub SWASTIKA3011/Carbon-Lens,
ghg-conversion-factors-2024-FlatFormat_v1_1.xlsx (blob aa36504). The row ID of the sheet is given per value.
The logistics tests use the shipped factor set UK-DESNZ-2025.1, whose freight rows are the same DESNZ 2024 file.
"""
from __future__ import annotations

from zerocarbon.core.factors import Factor

DOC = ("UK Government GHG Conversion Factors for Company Reporting 2024, flat file v1.1, sheet 'Factors by "
       "Category'")

# (factor id, kind, subject, use, value, unit, DESNZ row ID and names)
ROWS = [
    ("DESNZ2024.material.plastics_average.primary", "material", "plastics_average", "primary", 3164.78049, "kg/t",
     "19_505_5120_15_1 Material use, Plastic, Plastics: average plastics, Primary material production"),
    ("DESNZ2024.material.plastics_average.closed_loop", "material", "plastics_average", "closed_loop", 1566.38638,
     "kg/t", "19_505_5123_15_1 Material use, Plastic, Plastics: average plastics, Closed-loop source"),
    ("DESNZ2024.material.paper_board.primary", "material", "paper_board", "primary", 1193.96586, "kg/t",
     "19_506_5156_15_1 Material use, Paper, Paper and board: board, Primary material production"),
    ("DESNZ2024.material.paper_board.closed_loop", "material", "paper_board", "closed_loop", 1092.35486, "kg/t",
     "19_506_5159_15_1 Material use, Paper, Paper and board: board, Closed-loop source"),
    # DESNZ publishes no closed-loop factor for wood (the "Closed-loop source" cell is empty).
    ("DESNZ2024.material.wood.primary", "material", "wood", "primary", 269.50416, "kg/t",
     "19_500_5048_15_1 Material use, Construction, Wood, Primary material production"),
]

FACTORS = [Factor(fid, kind, subject, use, "CO2e", value, unit, "", "GB", 2024, "UK DESNZ (with Defra)", DOC,
                  "2024 v1.1 (2024-10-18)", "Open Government Licence v3.0 (Crown copyright)", "official (DESNZ)",
                  fid, row)
           for fid, kind, subject, use, value, unit, row in ROWS]


# -- green packaging: HKEX KPI A2.5 ----------------------------------------------------------------------------
import math  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from zerocarbon.core.factors import load_factor_set  # noqa: E402
from zerocarbon.core.supply import modal_shift as ms  # noqa: E402
from zerocarbon.core.supply.logistics import leg_emissions  # noqa: E402
from zerocarbon.core.supply.packaging import KPI_TEXT, compare, packaging_report  # noqa: E402
from zerocarbon.core.supply.recycling import recycling_report  # noqa: E402
from zerocarbon.errors import FactorNotFoundError, InputError  # noqa: E402


def _pack(rows):
    cols = ["site", "period_start", "period_end", "product", "units", "material", "mass_per_unit", "unit",
            "recycled_share", "plastic"]
    return pd.DataFrame(rows, columns=cols)


# Reporting year 2025: a laptop box (board, 0.80 kg/unit, half recycled fibre) with a plastic foam insert
# (0.05 kg/unit), 10,000 laptops packed; a monitor box (board, 1.5 kg/unit, 80 % recycled), 1,200 + 800 units
# in two half-years.
PACK_2025 = _pack([
    ("TJ01", "2025-01-01", "2025-12-31", "LAPTOP-A", 10000, "paper_board", 0.80, "kg", 0.5, False),
    ("TJ01", "2025-01-01", "2025-12-31", "LAPTOP-A", 10000, "plastics_average", 50, "g", 0.0, True),
    ("TJ01", "2025-01-01", "2025-06-30", "MONITOR-B", 1200, "paper_board", 1.5, "kg", 0.8, False),
    ("TJ01", "2025-07-01", "2025-12-31", "MONITOR-B", 800, "paper_board", 1.5, "kg", 0.8, False),
])
# Base year 2024: the laptop box was 1.0 kg of board and a 100 g foam insert, 8,000 laptops; no monitor.
PACK_2024 = _pack([
    ("TJ01", "2024-01-01", "2024-12-31", "LAPTOP-A", 8000, "paper_board", 1.0, "kg", 0.5, False),
    ("TJ01", "2024-01-01", "2024-12-31", "LAPTOP-A", 8000, "plastics_average", 0.1, "kg", 0.0, "true"),
])


def test_packaging_kpi_a25_total_tonnes_and_per_unit_produced():
    rep = packaging_report(PACK_2025, 2025)
    # Laptop: 10,000 x (0.80 + 0.05) kg = 8,500 kg; monitor: 2,000 x 1.5 kg = 3,000 kg.
    assert rep.total_t == pytest.approx(11.5)
    assert rep.units_produced == 12000
    assert rep.kg_per_unit == pytest.approx(11.5 * 1000 / 12000)  # 0.958 kg per unit produced
    laptop, monitor = rep.by_product
    assert (laptop.product, laptop.mass_t, laptop.kg_per_unit) == ("LAPTOP-A", pytest.approx(8.5), pytest.approx(0.85))
    assert laptop.materials == {"paper_board": pytest.approx(0.80), "plastics_average": pytest.approx(0.05)}
    assert (monitor.units_produced, monitor.kg_per_unit, monitor.plastic_free) == (2000, pytest.approx(1.5), True)
    assert {m.material: m.mass_t for m in rep.by_material} == {"paper_board": pytest.approx(11.0),
                                                               "plastics_average": pytest.approx(0.5)}
    # Recycled content: 8,000 x 0.5 + 3,000 x 0.8 = 6,400 kg of 11,500 kg.
    assert rep.recycled_share == pytest.approx(6400 / 11500)
    assert rep.plastic_free_share == pytest.approx(11000 / 11500)
    assert rep.plastic_free_units_share == pytest.approx(2000 / 12000)
    assert "per unit produced" in KPI_TEXT and rep.kpi.endswith("A2.5")


def test_packaging_against_base_year_per_unit_and_total():
    cmp_ = compare(packaging_report(PACK_2025, 2025), packaging_report(PACK_2024, 2024))
    # Base: 8,000 x 1.1 kg = 8.8 t, 1.1 kg/unit.
    assert cmp_.total_t.base == pytest.approx(8.8)
    assert cmp_.total_t.change == pytest.approx(2.7)  # more units produced: more tonnes
    assert cmp_.kg_per_unit.change == pytest.approx(11500 / 12000 - 1.1)
    laptop = next(p for p in cmp_.by_product if p.product == "LAPTOP-A")
    assert laptop.kg_per_unit.change == pytest.approx(-0.25)
    assert laptop.kg_per_unit.change_pct == pytest.approx(-0.25 / 1.1 * 100)  # -22.7 % per laptop
    monitor = next(p for p in cmp_.by_product if p.product == "MONITOR-B")
    assert monitor.kg_per_unit.base is None and monitor.kg_per_unit.change is None
    assert cmp_.only_current == ["MONITOR-B"] and cmp_.only_base == []


def test_packaging_refuses_rows_it_cannot_use_naming_row_and_column():
    bad = _pack([
        ("TJ01", "2025-01-01", "2025-12-31", "X", 100, "paper_board", 1.0, "kWh", 0.2, False),
        ("TJ01", "2025-01-01", "2025-12-31", "X", 90, "glass", 1.0, "kg", 1.4, False),
    ])
    with pytest.raises(InputError) as exc:
        packaging_report(bad, 2025, source="pack.csv")
    text = str(exc.value)
    assert "pack.csv, row 2, column 'unit'" in text and "mass unit" in text
    assert "row 3, column 'recycled_share'" in text
    assert "column 'units'" in text and "different units produced (row 2 has 100, row 3 has 90)" in text


def test_packaging_names_both_conflicting_stored_rows_by_activity_id_and_dates_without_time():
    # Stored rows (as the report reads them back): activity id b<batch>:<file>:<row>, periods as timestamps.
    rows = _pack([
        ("TJ01", pd.Timestamp("2022-01-01"), pd.Timestamp("2022-12-31"), "X", 1000, "paper_board", 0.2, "kg", 0.5,
         False),
        ("TJ01", pd.Timestamp("2022-01-01"), pd.Timestamp("2022-12-31"), "X", 1200, "plastics_average", 0.01, "kg",
         0.0, True),
    ]).assign(activity_id=["b7:pack-2022.csv:2", "b7:pack-2022.csv:5"])
    with pytest.raises(InputError) as exc:
        packaging_report(rows, 2022, source="packaging rows of ACME 2022")
    text = str(exc.value)
    assert ("product X at TJ01 for 2022-01-01..2022-12-31: its packaging rows state different units produced "
            "(b7:pack-2022.csv:2 has 1000, b7:pack-2022.csv:5 has 1200)") in text
    assert "00:00:00" not in text
    # A report only reads: it does not claim that "nothing was written".
    assert "nothing was written" not in text and "stored rows the report reads" in text


# -- green recycling -------------------------------------------------------------------------------------------
def _takeback(rows):
    return pd.DataFrame(rows, columns=["site", "period_start", "period_end", "product", "material", "collected",
                                       "recycled", "unit", "treatment", "placed_on_market"])


TAKEBACK = _takeback([
    ("TJ01", "2025-01-01", "2025-12-31", "LAPTOP-A", "plastics_average", 20, 15, "t", "recycling_closed_loop", 200),
    ("TJ01", "2025-01-01", "2025-12-31", "LAPTOP-A", "paper_board", 10000, 9000, "kg", "recycling_closed_loop", None),
    ("TJ01", "2025-01-01", "2025-12-31", "LAPTOP-A", "wood", 2, 1.5, "t", "recycling_closed_loop", None),
])


def test_recycling_rates_and_avoided_emissions_with_desnz_2024_material_factors():
    rep = recycling_report(TAKEBACK, FACTORS, 2025)
    assert rep.collected_t == pytest.approx(32.0) and rep.recycled_t == pytest.approx(25.5)
    assert rep.recycling_rate == pytest.approx(25.5 / 32)
    # Take-back rate only where the placed-on-market mass is given: 20 t of 200 t of plastics.
    assert rep.takeback_rate == pytest.approx(0.1)
    lines = {x.material: x for x in rep.lines}
    # DESNZ 2024 "Plastics: average plastics": primary 3,164.78049 kgCO2e/t, closed-loop source 1,566.38638:
    # 15 t x 1,598.39411 kg/t = 23.976 tCO2e.
    assert lines["plastics_average"].avoided_tco2e == pytest.approx(15 * (3164.78049 - 1566.38638) / 1000)
    assert lines["plastics_average"].factor_ids == ("DESNZ2024.material.plastics_average.primary",
                                                    "DESNZ2024.material.plastics_average.closed_loop")
    # "Paper and board: board": 9 t x (1,193.96586 - 1,092.35486) kg/t = 0.9145 tCO2e.
    assert lines["paper_board"].avoided_tco2e == pytest.approx(9 * (1193.96586 - 1092.35486) / 1000)
    assert lines["paper_board"].takeback_rate is None  # not a zero: nothing placed on market was given
    # Wood pallets: DESNZ has no closed-loop factor for wood: listed, no avoided figure, not a zero.
    assert lines["wood"].avoided_tco2e is None and "closed_loop" in lines["wood"].formula
    assert rep.without_factors == ["wood"]
    assert rep.avoided_tco2e_memo == pytest.approx(23.97591165 + 0.914499)
    assert "not deducted" in rep.memo


def test_recycling_refuses_more_recycled_than_collected():
    bad = _takeback([("TJ01", "2025-01-01", "2025-12-31", "P", "glass", 1, 2, "t", "recycling_closed_loop", None),
                     ("TJ01", "2025-01-01", "2025-12-31", "P", "glass", 1, 1, "kWh", "recycling_closed_loop", None)])
    with pytest.raises(InputError) as exc:
        recycling_report(bad, FACTORS, source="tb.csv")
    assert "tb.csv, row 2, column 'recycled': recycled (2) exceeds collected (1)" in str(exc.value)
    assert "row 3, column 'unit'" in str(exc.value)


# -- green logistics: modal shift -------------------------------------------------------------------------------
# Freight factors of the shipped set UK-DESNZ-2025.1: DESNZ 2024 flat file v1.1, kg CO2e per tonne.km (OGL v3.0):
#   HGV (all diesel), all HGVs, average laden: TTW 0.09752 (27_304_3140_14_1), WTT 0.02359 (28_907_3140_14_1)
#   Rail, freight train:                       TTW 0.02779 (27_315_3151_14_1), WTT 0.00691 (28_911_3151_14_1)
#   Cargo ship, container ship, average:       TTW 0.01612 (27_320_3235_14_1), WTT 0.00365 (28_916_3235_14_1)
DESNZ = load_factor_set("UK-DESNZ-2025.1")
SHIPMENTS = pd.DataFrame([
    # mode, vehicle, mass [t], distance [km], Scope 3 category
    ("road", "", 20.0, 800.0, 4),
    ("road", "hgv_average_laden", 10.0, 150.0, 4),
    ("sea", "", 100.0, 5000.0, 9),
], columns=["mode", "vehicle", "mass_t", "distance_km", "category"])


def _legs(shipments=SHIPMENTS):
    return leg_emissions(shipments, DESNZ, year=2025)


def test_logistics_summary_by_mode_with_desnz_freight_factors():
    road, sea = ms.summary_by_mode(_legs())
    # 20 t x 800 km + 10 t x 150 km = 17,500 t.km; TTW 0.09752 and WTT 0.02359 kgCO2e/t.km (DESNZ 2024 HGV).
    assert road.tkm == pytest.approx(17500)
    assert road.ttw_t == pytest.approx(17500 * 0.09752 / 1000)
    assert road.wtt_t == pytest.approx(17500 * 0.02359 / 1000)
    assert road.g_per_tkm == pytest.approx((0.09752 + 0.02359) * 1000)  # 121.11 g/t.km
    assert sea.tkm == pytest.approx(500000) and sea.g_per_tkm == pytest.approx((0.01612 + 0.00365) * 1000)


def test_modal_shift_road_over_500_km_to_rail():
    legs = _legs()
    res = ms.modal_shift(legs, ms.ShiftRule("road", 500, "rail"), DESNZ, year=2025)
    # Only the 800 km leg moves: 16,000 t.km from 0.12111 to 0.0347 kgCO2e/t.km (rail 0.02779 + WTT 0.00691).
    assert res.legs_moved == 1 and res.tkm_moved == pytest.approx(16000) and res.tkm_after == pytest.approx(16000)
    assert res.moved_before_t == pytest.approx(16000 * 0.12111 / 1000)  # 1.93776 t
    assert res.moved_after_t == pytest.approx(16000 * 0.0347 / 1000)  # 0.5552 t
    baseline = (17500 * 0.12111 + 500000 * 0.01977) / 1000  # 12.004425 t
    assert res.baseline_t == pytest.approx(baseline)
    assert res.change_t == pytest.approx(-1.38256)
    assert res.change_pct == pytest.approx(-1.38256 / baseline * 100)  # -11.5 %
    assert round(res.change_pct, 1) == -11.5
    assert res.target_vehicle == "rail.freight_train"
    assert res.factor_ids == ("DESNZ2024.freight.rail.freight_train.ttw", "DESNZ2024.freight.rail.freight_train.wtt")
    assert {s.mode: s.tkm for s in res.scenario} == {"road": pytest.approx(1500), "rail": pytest.approx(16000),
                                                     "sea": pytest.approx(500000)}
    rail = next(s for s in res.scenario if s.mode == "rail")
    assert rail.ttw_t == pytest.approx(16000 * 0.02779 / 1000) and rail.wtt_t == pytest.approx(16000 * 0.00691 / 1000)
    # A longer rail route (x1.2) moves the same goods over more t.km.
    longer = ms.modal_shift(legs, ms.ShiftRule("road", 500, "rail", distance_ratio=1.2), DESNZ, year=2025)
    assert longer.tkm_after == pytest.approx(19200)
    assert longer.change_t == pytest.approx((19200 * 0.0347 - 16000 * 0.12111) / 1000)
    # Only category 9 legs: no road leg is in it, nothing moves.
    none = ms.modal_shift(legs, ms.ShiftRule("road", 0, "rail", category=9), DESNZ, year=2025)
    assert none.legs_moved == 0 and none.change_t == 0 and none.scenario == none.baseline


def test_modal_shift_recomputes_a_carrier_reported_leg_on_the_new_mode():
    """A road leg whose carrier reports 2,000 kg CO2e well-to-wheel (no TTW/WTT split) moved to rail: the carrier's
    figure describes the truck, so the rail leg is computed distance-based, 16,000 t.km x (0.02779 + 0.00691)."""
    reported = SHIPMENTS.iloc[[0]].assign(carrier_co2e_kg=[2000.0], carrier=["Tianjin Haul"])
    legs = _legs(reported)
    assert legs["method"].tolist() == ["carrier_reported"]
    res = ms.modal_shift(legs, ms.ShiftRule("road", 500, "rail"), DESNZ, year=2025)
    assert res.moved_before_t == pytest.approx(2.0)
    assert res.moved_after_t == pytest.approx(0.5552)
    assert res.change_t == pytest.approx(0.5552 - 2.0)
    (rail,) = res.scenario
    assert (rail.mode, rail.ttw_t) == ("rail", pytest.approx(16000 * 0.02779 / 1000))


def test_modal_shift_needs_factors_of_the_target_mode():
    legs = _legs()
    # The set has no inland waterway freight factors (DESNZ publishes none), nor an electric train of its own.
    with pytest.raises(FactorNotFoundError, match="inland_waterway.average.*no inland_waterway freight factors"):
        ms.modal_shift(legs, ms.ShiftRule("road", 0, "inland_waterway"), DESNZ)
    with pytest.raises(FactorNotFoundError, match="rail.electric_train.*its rail freight factors: rail.freight_train"):
        ms.modal_shift(legs, ms.ShiftRule("road", 0, "rail", to_vehicle="electric_train"), DESNZ)
    with pytest.raises(InputError, match="target mode is the present one"):
        ms.modal_shift(legs, ms.ShiftRule("road", 0, "road"), DESNZ)
    assert not math.isnan(legs["ttw_kg"].sum())
