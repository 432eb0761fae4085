"""Scope 3 reference data: DESNZ 2024 Scope 3 factors, US EPA supply-chain factors v1.3, FX and price index.

Spot checks compare shipped values with the cells of the publications they were read from (sheet, row ID
and cell for DESNZ; NAICS row for EPA; release and table for the Federal Reserve and BLS). See
docs/scope3-data.md for the list of subject keys and sources.
"""
from __future__ import annotations

import csv
import importlib.util
import io
import math
import re
from pathlib import Path

import pytest
import yaml

from zerocarbon.core.factors import (DATA, PROVENANCE, available_factor_sets, build_factor_set, load_factor_set,
                                     parse_factor_csv)
from zerocarbon.units import parse_unit, scale

REPO = Path(__file__).resolve().parents[1]
DESNZ = "scope3_desnz2024.csv"
EEIO = "eeio_epa_v13.csv"
ECON = DATA / "reference" / "economics"

USES = {
    "freight": {"ttw", "wtt"},
    "travel": {"ttw", "wtt"},
    "material": {"primary", "reused", "open_loop", "closed_loop"},
    "waste": {"reuse", "recycling_open_loop", "recycling_closed_loop", "combustion", "composting", "landfill",
              "anaerobic_digestion"},
    "fuel_wtt": {""},
    "electricity_wtt": {""},
    "electricity_td": {""},
    "electricity_td_wtt": {""},
    "eeio": {"with_margins", "without_margins"},
}
UNITS = {
    "freight": {"kg/tkm"},
    "travel": {"kg/pkm", "kg/km", "kg/room_night"},
    "material": {"kg/t"},
    "waste": {"kg/t"},
    "fuel_wtt": {"kg/t", "kg/L", "kg/kWh", "kg/kg", "kg/m**3"},
    "electricity_wtt": {"kg/kWh"},
    "electricity_td": {"kg/kWh"},
    "electricity_td_wtt": {"kg/kWh"},
    "eeio": {"kg/USD"},
}


def _factors(name: str):
    return parse_factor_csv((DATA / "factors" / name).read_text(encoding="utf-8"), name, allow_zero=True)


def _by(name: str) -> dict[tuple[str, str, str, str, str], float]:
    return {(f.kind, f.subject, f.use, f.unit, f.basis): f.value for f in _factors(name)}


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# -- every row: provenance, units, kinds and uses ----------------------------------------------------------
@pytest.mark.parametrize("name", [DESNZ, EEIO])
def test_every_row_has_full_provenance_a_parsable_unit_and_an_allowed_kind_and_use(name):
    factors = _factors(name)
    assert factors
    for f in factors:
        for field in (*PROVENANCE, "confidence", "notes"):
            assert getattr(f, field).strip(), f"{f.factor_id} lacks {field}"
        num, den = f.unit.split("/", 1)
        parse_unit(num), parse_unit(den)
        assert f.gas == "CO2e" and f.year is not None
        assert f.kind in USES, f.factor_id
        assert f.use in USES[f.kind], f"{f.factor_id}: use '{f.use}'"
        assert f.unit in UNITS[f.kind], f"{f.factor_id}: unit '{f.unit}'"
        assert math.isfinite(f.value) and f.value >= 0


def test_desnz_rows_name_sheet_row_id_and_cell_and_energy_rows_state_their_heating_value_basis():
    for f in _factors(DESNZ):
        rid = f.source_key.removeprefix("desnz2024-flat:")
        assert re.fullmatch(r"\d+_\d+_\d+_\d+_1", rid), f.source_key  # "_1": the kg CO2e total row
        assert f"sheet 'Factors by Category' row ID {rid} cell J" in f.notes, f.factor_id
        if f.kind == "fuel_wtt" and f.unit == "kg/kWh":
            assert f.basis in ("NCV", "GCV"), f.factor_id
        if f.kind.startswith("electricity_"):
            assert f.region == "GB"
        if f.subject.startswith("hotel."):
            assert f.region == f.subject.split(".")[1] and f.unit == "kg/room_night"


def test_every_freight_and_travel_mode_has_both_ttw_and_wtt_except_hotel_stays():
    rows = _factors(DESNZ)
    for kind in ("freight", "travel"):
        ttw = {f.subject for f in rows if f.kind == kind and f.use == "ttw" and not f.subject.startswith("hotel.")}
        wtt = {f.subject for f in rows if f.kind == kind and f.use == "wtt"}
        assert ttw == wtt, (kind, ttw ^ wtt)


def test_subject_keys_named_in_the_shared_design_exist():
    have = {(f.kind, f.subject) for f in _factors(DESNZ)}
    for kind, subjects in {
        "freight": ["road.hgv_average_laden", "road.van_average", "rail.freight_train", "sea.container_ship_average",
                    "sea.bulk_carrier_average", "air.long_haul", "air.short_haul", "air.domestic",
                    "air.long_haul.with_rf"],
        "material": ["plastics_average", "hdpe", "pet", "paper_board", "paper", "aluminium_cans_foil", "steel_cans",
                     "glass", "wood", "electrical_items_it"],
        "waste": ["plastics_average", "paper_board", "steel_cans", "glass", "commercial_industrial_waste"],
        "travel": ["air.domestic.average", "air.short_haul.economy", "air.long_haul.economy",
                   "air.long_haul.business", "air.long_haul.business.with_rf", "rail.national", "taxi.regular",
                   "car.average_unknown_fuel", "bus.average", "hotel.CN", "hotel.GB", "hotel.US"],
        "fuel_wtt": ["natural_gas", "lpg", "motor_gasoline", "gas_diesel_oil", "residual_fuel_oil", "kerosene",
                     "propane", "distillate_fuel_oil_no2"],
        "electricity_wtt": ["location"], "electricity_td": ["location"], "electricity_td_wtt": ["location"],
    }.items():
        for s in subjects:
            assert (kind, s) in have, (kind, s)


def test_radiative_forcing_factors_are_higher_than_the_direct_ones_and_wtt_is_the_same():
    by = _by(DESNZ)
    pairs = [(k, s) for (k, s, u, unit, b) in by if s.endswith(".with_rf") and u == "ttw"]
    assert len(pairs) == 4 + 14  # 4 freight flight bands, 14 passenger band x cabin rows
    for kind, s in pairs:
        unit = "kg/tkm" if kind == "freight" else "kg/pkm"
        plain = s.removesuffix(".with_rf")
        assert by[(kind, s, "ttw", unit, "")] > by[(kind, plain, "ttw", unit, "")]
        assert by[(kind, s, "wtt", unit, "")] == by[(kind, plain, "wtt", unit, "")]


# -- spot checks against the cells that were read ----------------------------------------------------------
def test_desnz_2024_values_match_the_flat_file_cells():
    by = _by(DESNZ)
    # sheet 'Factors by Category', column J "GHG Conversion Factor 2024", GHG/Unit "kg CO2e"
    assert by[("freight", "road.hgv_average_laden", "ttw", "kg/tkm", "")] == 0.09752  # J6389, 27_304_3140_14_1
    assert by[("freight", "road.hgv_average_laden", "wtt", "kg/tkm", "")] == 0.02359  # J7228, 28_907_3140_14_1
    assert by[("freight", "sea.container_ship_average", "ttw", "kg/tkm", "")] == 0.01612  # J7021
    assert by[("freight", "air.long_haul.with_rf", "ttw", "kg/tkm", "")] == 1.09904  # J6825
    assert by[("freight", "rail.freight_train", "wtt", "kg/tkm", "")] == 0.00691  # J7341
    assert by[("travel", "air.long_haul.economy", "ttw", "kg/pkm", "")] == 0.11812  # J4454, without RF
    assert by[("travel", "air.long_haul.economy.with_rf", "ttw", "kg/pkm", "")] == 0.20011  # J4450
    assert by[("travel", "rail.national", "ttw", "kg/pkm", "")] == 0.03546  # J5461
    assert by[("travel", "car.average_unknown_fuel", "ttw", "kg/km", "")] == 0.16691  # J5353, per vehicle km
    assert by[("travel", "hotel.CN", "ttw", "kg/room_night", "")] == 53.5  # J7404
    assert by[("material", "plastics_average", "primary", "kg/t", "")] == 3164.78049  # J4068
    assert by[("material", "plastics_average", "closed_loop", "kg/t", "")] == 1566.38638  # J4071
    assert by[("waste", "paper_board", "landfill", "kg/t", "")] == 1164.39015  # J4394
    assert by[("fuel_wtt", "natural_gas", "", "kg/kWh", "NCV")] == 0.03347  # J3476
    assert by[("fuel_wtt", "natural_gas", "", "kg/kWh", "GCV")] == 0.03021  # J3477
    assert by[("electricity_wtt", "location", "", "kg/kWh", "")] == 0.0459  # J3939
    assert by[("electricity_td", "location", "", "kg/kWh", "")] == 0.0183  # J3627
    assert by[("electricity_td_wtt", "location", "", "kg/kWh", "")] == 0.00397  # J3940


def test_epa_v13_values_match_the_published_rows():
    by = _by(EEIO)
    # SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv, columns "... without Margins" / "... with Margins"
    assert by[("eeio", "334111", "with_margins", "kg/USD", "")] == 0.058  # Electronic Computer Manufacturing
    assert by[("eeio", "334111", "without_margins", "kg/USD", "")] == 0.03
    assert by[("eeio", "327310", "with_margins", "kg/USD", "")] == 3.924  # Cement Manufacturing
    assert by[("eeio", "331110", "with_margins", "kg/USD", "")] == 0.787  # Iron and Steel Mills and Ferroalloy Mfg
    assert by[("eeio", "111110", "without_margins", "kg/USD", "")] == 0.488  # Soybean Farming


def test_epa_v13_covers_1016_commodities_with_and_without_margins():
    factors = _factors(EEIO)
    codes = {f.subject for f in factors}
    assert len(codes) == 1016 and all(re.fullmatch(r"\d{6}", c) for c in codes)
    by = {(f.subject, f.use): f for f in factors}
    for c in codes:
        w, wo = by[(c, "with_margins")], by[(c, "without_margins")]
        assert w.value >= wo.value and w.notes == wo.notes and w.notes  # notes = the NAICS title
        assert w.year == 2022 and w.region == "US"
    assert by[("334111", "with_margins")].notes == "Electronic Computer Manufacturing"


# -- the extractors -------------------------------------------------------------------------------------
def test_desnz_extractor_maps_source_labels_to_subject_keys():
    classify = _tool("extract_desnz_scope3").classify
    assert classify("Scope 3", "Freighting goods", "HGV (all diesel)", "All HGVs", "", "Average laden",
                    "tonne.km") == ("freight", "road.hgv_average_laden", "ttw")
    assert classify("Scope 3", "WTT- delivery vehs & freight", "WTT- cargo ship", "Container ship", "Average", "",
                    "tonne.km") == ("freight", "sea.container_ship_average", "wtt")
    assert classify("Scope 3", "Business travel- air", "Flights", "Long-haul, to/from UK", "Business class",
                    "With RF", "passenger.km") == ("travel", "air.long_haul.business.with_rf", "ttw")
    assert classify("Scope 3", "Waste disposal", "Plastic", "Plastics: PET (incl. forming)", "", "Closed-loop",
                    "tonnes") == ("waste", "pet", "recycling_closed_loop")
    assert classify("Scope 1", "Fuels", "Gaseous fuels", "Natural gas", "", "", "kWh (Net CV)") is None
    # HGVs per vehicle km are not freight factors per tonne.km
    assert classify("Scope 3", "Freighting goods", "HGV (all diesel)", "All HGVs", "", "Average laden", "km") is None


def test_epa_extractor_refuses_a_file_that_is_not_the_v13_format(tmp_path):
    rows_from = _tool("extract_epa_supply_chain").rows_from
    bad = tmp_path / "v12.csv"
    bad.write_text("NAICS Code,NAICS Title,GHG,Unit,Factor\n334111,Electronic Computer Manufacturing,All GHGs,"
                   "kg/2021 USD,0.1\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="not the v1.3 format"):
        rows_from(str(bad))
    header = ("2017 NAICS Code,2017 NAICS Title,GHG,Unit,Supply Chain Emission Factors without Margins,"
              "Margins of Supply Chain Emission Factors,Supply Chain Emission Factors with Margins,Reference USEEIO Code\n")
    short = tmp_path / "short.csv"
    short.write_text(header + '334111,Electronic Computer Manufacturing,All GHGs,"kg CO2e/2022 USD, purchaser price",'
                     "0.03,0.028,0.9,334111\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"with margins 0.9 != without 0.03 \+ margins 0.028"):
        rows_from(str(short))


# -- economics -------------------------------------------------------------------------------------------
def _econ(name: str) -> list[dict]:
    with (ECON / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_fx_rates_are_sourced_sane_and_unique():
    rows = _econ("fx_annual.csv")
    seen = set()
    for r in rows:
        for c in ("currency", "year", "value", "unit", "source", "edition", "licence", "notes"):
            assert r[c].strip(), (r, c)
        key = (r["currency"], int(r["year"]))
        assert key not in seen
        seen.add(key)
        assert 2015 <= key[1] <= 2025 and r["unit"] == f"{r['currency']}/USD"
        v = float(r["value"])
        lo, hi = {"CNY": (6.0, 7.5), "HKD": (7.75, 7.85), "EUR": (0.8, 1.0), "GBP": (0.6, 0.85)}[r["currency"]]
        assert lo < v < hi, r
    by = {(r["currency"], int(r["year"])): r for r in rows}
    # Federal Reserve G.5A release 2024-02-01: CHINA, P.R. YUAN 2023 = 7.0809; *EMU MEMBERS EURO 2023 = 1.0817 USD/EUR
    assert float(by[("CNY", 2023)]["value"]) == 7.0809
    assert float(by[("EUR", 2023)]["value"]) == pytest.approx(1 / 1.0817, rel=1e-8)
    assert "published 1.0817 USD per EUR" in by[("EUR", 2023)]["notes"]
    # G.5A 2016-01-04: HONG KONG DOLLAR 2015 = 7.7524; *UNITED KINGDOM POUND 2015 = 1.5284 USD/GBP
    assert float(by[("HKD", 2015)]["value"]) == 7.7524
    assert float(by[("GBP", 2015)]["value"]) == pytest.approx(1 / 1.5284, rel=1e-8)
    # currencies the unit registry knows convert like any unit (GBP is not a registry unit yet)
    for cur in ("CNY", "HKD", "EUR"):
        assert scale(f"{cur}/USD", f"{cur}/USD") == 1.0


def test_price_index_is_the_bls_cpi_u_annual_average_and_rises_every_year():
    rows = _econ("price_index.csv")
    assert {r["index"] for r in rows} == {"US_CPI_U"}
    values = {int(r["year"]): float(r["value"]) for r in rows}
    assert sorted(values) == list(range(2015, 2026))
    assert all(values[y] > values[y - 1] for y in range(2016, 2026))
    for r in rows:
        for c in ("unit", "source", "edition", "licence", "notes"):
            assert r[c].strip()
    # BLS CUUR0000SA0 annual average (M13): 2022 = 292.655, 2017 = 245.12
    assert values[2022] == 292.655 and values[2017] == 245.12
    # Federal Register (DOL) certifies the CPI-U on the 1967=100 base: 2017 = 734.269, 2022 = 876.664
    assert values[2022] / values[2017] == pytest.approx(876.664 / 734.269, rel=1e-5)


# -- factor sets ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("set_id", available_factor_sets())
def test_every_shipped_set_loads_with_the_scope3_files_and_its_fingerprint_changes_only_by_them(set_id):
    fs = load_factor_set(set_id)
    assert DESNZ in fs.files and EEIO in fs.files
    kinds = {f.kind for f in fs.factors}
    assert {"eeio", "freight", "material", "waste", "travel", "fuel_wtt", "electricity_wtt"} <= kinds
    text = (DATA / "factor_sets" / f"{set_id}.yaml").read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    without = text.replace(f", {DESNZ}", "").replace(f", {EEIO}", "")
    assert yaml.safe_load(without)["files"] == [f for f in spec["files"] if f not in (DESNZ, EEIO)]
    old = build_factor_set(set_id, without)
    assert old.fingerprint != fs.fingerprint
    assert len(fs.factors) - len(old.factors) == len(_factors(DESNZ)) + len(_factors(EEIO))
    assert {f.factor_id for f in old.factors} <= {f.factor_id for f in fs.factors}


def test_docs_list_every_shipped_subject_key():
    doc = (REPO / "docs" / "scope3-data.md").read_text(encoding="utf-8")
    for f in _factors(DESNZ):
        assert f"`{f.subject}`" in doc, f"docs/scope3-data.md does not document {f.kind} subject {f.subject}"


def test_csv_files_are_plain_utf8_with_unix_newlines():
    for path in [DATA / "factors" / DESNZ, DATA / "factors" / EEIO, ECON / "fx_annual.csv", ECON / "price_index.csv"]:
        raw = path.read_bytes()
        assert b"\r\n" not in raw and not raw.startswith(b"\xef\xbb\xbf")
        list(csv.reader(io.StringIO(raw.decode("utf-8"))))
