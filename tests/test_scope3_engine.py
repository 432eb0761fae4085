"""Scope 3 engine: worked examples with published inputs (GHG Protocol Scope 3 Standard and its Technical
Guidance for Calculating Scope 3 Emissions; factors as shipped with their sources)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from zerocarbon.core.factors import load_factor_set, parse_economics
from zerocarbon.core.ghg.inventory import ActivityData, compute_inventory
from zerocarbon.core.ghg.scope3 import CATEGORIES, dq_score
from zerocarbon.core.model import Organisation, Site
from zerocarbon.errors import InputError

ORG = Organisation("ACME", "Acme", (Site("TJ01", "Tianjin plant", country="CN", province="天津"),))
YEAR = 2024
# Published reference numbers (the same rows as data/reference/economics/ of the factor data owner):
#   CNY per USD, 2020 annual average: 6.9042 (US Federal Reserve Board, G.5A Foreign Exchange Rates (Annual),
#   release of 2024-02-01); US CPI-U annual averages (BLS series CUUR0000SA0): 2020 258.811, 2022 292.655.
FX = ("currency,year,value,unit,source,edition\n"
      "CNY,2020,6.9042,CNY/USD,US Federal Reserve Board G.5A,2024-02-01\n"
      "EUR,2020,1.1422,USD/EUR,US Federal Reserve Board G.5A,2024-02-01\n")
CPI = ("index,year,value,unit,source,edition\n"
       "US_CPI_U,2020,258.811,index 1982-84=100,BLS CPI-U CUUR0000SA0 annual average,BLS\n"
       "US_CPI_U,2022,292.655,index 1982-84=100,BLS CPI-U CUUR0000SA0 annual average,BLS\n"
       "US_CPI_U,2025,321.943,index 1982-84=100,BLS CPI-U CUUR0000SA0 annual average,BLS\n")
ECON = parse_economics(FX, CPI)


@pytest.fixture(scope="module")
def fs():
    return load_factor_set("CN-2025.1")


def _common(n=1):
    return {"site": ["TJ01"] * n, "period_start": [pd.Timestamp(f"{YEAR}-01-01")] * n,
            "period_end": [pd.Timestamp(f"{YEAR}-12-31")] * n}


def purchase(**cells) -> dict:
    row = {"activity_id": "purchases.csv:2", "category": "1", "item": "laptop", "supplier": "", "spend": np.nan,
           "currency": "", "price_year": np.nan, "eeio_code": "", "quantity": np.nan, "unit": "", "material": "",
           "supplier_co2e": np.nan, "supplier_co2e_unit": "", "supplier_scope12_co2e": np.nan, "pcf_id": "",
           "evidence": ""}
    return row | cells


def run(fs, frames: dict[str, list[dict]], **kw):
    data = {k: pd.DataFrame([_row_common() | r for r in rows]) for k, rows in frames.items()}
    return compute_inventory(ORG, ActivityData(data), fs, YEAR, economics=ECON, **kw)


def _row_common():
    return {"site": "TJ01", "period_start": pd.Timestamp(f"{YEAR}-01-01"), "period_end": pd.Timestamp(f"{YEAR}-12-31")}


def scope3(result):
    return result.ledger[result.ledger["scope"] == "3"].reset_index(drop=True)


def test_spend_based_cny_of_2020_becomes_2022_usd_then_eeio(fs):
    """CNY 1,000,000 spent in 2020 on electronic computers (NAICS 334111). US EPA Supply Chain GHG Emission Factors
    v1.3.0: 0.058 kg CO2e per 2022 USD (with margins). 1,000,000 / 6.9042 = USD(2020) 144,839.37; x CPI-U
    292.655 / 258.811 = USD(2022) 163,779.62; x 0.058 = 9,499.22 kg CO2e."""
    r = run(fs, {"purchase": [purchase(spend=1_000_000.0, currency="CNY", price_year=2020.0, eeio_code="334111")]})
    row = scope3(r).iloc[0]
    usd_2020 = 1_000_000 / 6.9042
    usd_2022 = usd_2020 * 292.655 / 258.811
    assert usd_2022 == pytest.approx(163_779.62, abs=0.01)
    assert row["gas_kg"] == pytest.approx(usd_2022 * 0.058, rel=1e-12)
    assert row["co2e_t"] == pytest.approx(9.49922, abs=1e-5)
    assert (row["category"], row["calc_method"], row["gas"], row["gwp"]) == ("c1_purchased_goods", "spend_based",
                                                                               "CO2e", 1.0)
    assert "USEPA_SCv13.eeio.334111.with_margins" in row["factor_ids"] and "fx:CNY:2020" in row["factor_ids"]
    for step in ("6.9042 CNY per USD (2020 annual average)", "US_CPI_U 2022/2020 = 292.655/258.811",
                 "EEIO 334111 0.058 kg/USD"):
        assert step in row["formula"], row["formula"]
    # Spend-based: technological 4, completeness 3, reliability 4; factor year 2022 vs 2024 -> temporal 1;
    # a US factor for a Chinese site -> geographical 4.
    assert row["dq"] == pytest.approx((4 + 3 + 4 + 1 + 4) / 5)


def test_a_booked_exchange_rate_replaces_the_annual_average_and_a_missing_year_says_how(fs):
    """A 2025 purchase: the shipped G.5A rates stop at 2024, so the row names the rate it was booked at. CNY
    1,000,000 / 7.18 = USD(2025) 139,275.77; x CPI-U 2022/2025 = 292.655/321.943; x 0.058 kg/USD = 7,343.2 kg."""
    row = scope3(run(fs, {"purchase": [purchase(spend=1_000_000.0, currency="CNY", price_year=2025.0,
                                                eeio_code="334111", exchange_rate=7.18)]})).iloc[0]
    assert row["gas_kg"] == pytest.approx(1_000_000 / 7.18 * 292.655 / 321.943 * 0.058, rel=1e-12)
    assert row["gas_kg"] == pytest.approx(7343.2, abs=0.1)
    assert "7.18 CNY per USD (booked rate given in the row)" in row["formula"] and "fx:CNY:booked" in row["factor_ids"]
    with pytest.raises(InputError, match="no 2025 annual average exchange rate for CNY .*exchange_rate column"):
        run(fs, {"purchase": [purchase(spend=1_000_000.0, currency="CNY", price_year=2025.0, eeio_code="334111")]})


def test_spend_in_wan_yuan_and_a_currency_stated_in_usd_per_unit(fs):
    wan = run(fs, {"purchase": [purchase(spend=100.0, currency="万元", price_year=2020.0, eeio_code="334111")]})
    cny = run(fs, {"purchase": [purchase(spend=1_000_000.0, currency="CNY", price_year=2020.0, eeio_code="334111")]})
    assert scope3(wan)["gas_kg"].iloc[0] == pytest.approx(scope3(cny)["gas_kg"].iloc[0])
    eur = run(fs, {"purchase": [purchase(spend=1000.0, currency="EUR", price_year=2020.0, eeio_code="334111")]})
    # G.5A states EUR in USD per EUR: 1000 EUR = 1142.2 USD of 2020.
    assert scope3(eur)["gas_kg"].iloc[0] == pytest.approx(1142.2 * 292.655 / 258.811 * 0.058)


def test_method_hierarchy_picks_the_best_data_of_each_row(fs):
    alu = fs.material("aluminium_cans_foil", "primary")  # DESNZ 2024 material use, primary production [kg/t]
    spend = {"spend": 50_000.0, "currency": "CNY", "price_year": 2020.0, "eeio_code": "331313"}
    material = {"quantity": 1200.0, "unit": "kg", "material": "aluminium_cans_foil"}
    rows = [
        purchase(activity_id="p.csv:2", **spend, **material, supplier_co2e=2100.0, supplier_co2e_unit="kgCO2e",
                 evidence="EPD S-P-01234"),
        purchase(activity_id="p.csv:3", **spend, **material),
        purchase(activity_id="p.csv:4", **spend),
        purchase(activity_id="p.csv:5", **spend, **material, supplier_scope12_co2e=640.0, supplier_co2e_unit="kgCO2e",
                 evidence="supplier CDP response 2024"),
        purchase(activity_id="p.csv:6", **spend, **material, pcf_id="pf-1", supplier_co2e=9.0,
                 supplier_co2e_unit="kgCO2e", evidence="x"),
        purchase(activity_id="p.csv:7", **spend, **material, supplier_co2e=1.5, supplier_co2e_unit="kgCO2e/kg",
                 evidence="EPD S-P-01234", category="2"),
    ]
    pcf = pd.DataFrame([{"pf_id": "pf-1", "company_name": "Alu Co", "product_id": "urn:alu", "declared_unit": "kilogram",
                         "pcf_kg_per_unit": 1.9, "primary_data_share": 80.0, "dqr": 1.6,
                         "period_start": pd.Timestamp("2024-01-01"), "period_end": pd.Timestamp("2024-12-31")}])
    data = ActivityData({"purchase": pd.DataFrame([_row_common() | r for r in rows]), "pcf": pcf})
    led = scope3(compute_inventory(ORG, data, fs, YEAR, economics=ECON)).set_index("activity_id")
    assert led["calc_method"].to_dict() == {"p.csv:2": "supplier_specific", "p.csv:3": "average_data",
                                            "p.csv:4": "spend_based", "p.csv:5": "hybrid", "p.csv:6": "supplier_specific",
                                            "p.csv:7": "supplier_specific"}
    assert led.at["p.csv:2", "gas_kg"] == pytest.approx(2100.0)
    assert led.at["p.csv:3", "gas_kg"] == pytest.approx(1.2 * alu.value)
    assert led.at["p.csv:5", "gas_kg"] == pytest.approx(640.0 + 1.2 * alu.value)
    assert led.at["p.csv:6", "gas_kg"] == pytest.approx(1200 * 1.9)  # the stored PACT footprint beats the figure
    assert led.at["p.csv:6", "factor_ids"] == "pcf:pf-1"
    assert led.at["p.csv:7", "gas_kg"] == pytest.approx(1.5 * 1200) and led.at["p.csv:7", "category"] == \
        "c2_capital_goods"
    assert "(no supplier figure)" in led.at["p.csv:3", "formula"]
    assert "(no supplier figure, no quantity with material)" in led.at["p.csv:4", "formula"]
    # Better data, better score.
    assert led.at["p.csv:2", "dq"] < led.at["p.csv:5", "dq"] < led.at["p.csv:3", "dq"] < led.at["p.csv:4", "dq"]


def test_every_category_appears_and_one_without_data_says_so(fs):
    r = run(fs, {"purchase": [purchase(spend=1000.0, currency="CNY", price_year=2020.0, eeio_code="334111")]})
    table = r.scope3_by_category().set_index("category")
    assert list(table.index) == list(CATEGORIES)
    assert table.at["c1_purchased_goods", "status"] == "reported"
    assert table.at["c1_purchased_goods", "methods"] == {"spend_based": 1.0}
    others = table.drop(index="c1_purchased_goods")
    assert set(others["status"]) == {"no data"} and others["co2e_t"].isna().all()
    assert r.totals()["scope3_t"] == pytest.approx(table.at["c1_purchased_goods", "co2e_t"])


def test_scope3_stays_beside_scope1_and_2(fs):
    fuel = {"activity_id": "fuel.csv:2", "fuel": "gas_diesel_oil", "use": "stationary", "quantity": 10.0, "unit": "t",
            "basis": "", "biogenic": False}
    without = run(fs, {"fuel": [fuel]})
    with_s3 = run(fs, {"fuel": [fuel], "purchase": [purchase(spend=1e6, currency="CNY", price_year=2020.0,
                                                             eeio_code="334111")]})
    a, b = without.totals(), with_s3.totals()
    for key in ("scope1_t", "scope2_location_t", "scope2_market_t", "total_location_t", "total_market_t"):
        assert a[key] == b[key]
    assert b["scope3_t"] > a["scope3_t"] > 0  # the fuel's own well-to-tank is category 3
    s12 = with_s3.ledger[with_s3.ledger["scope"] != "3"]
    assert (s12["calc_method"] == "").all() and s12["dq"].isna().all()
    assert set(with_s3.by("category")["category"]) == {"stationary_combustion"}


def test_category3_well_to_tank_of_a_fuel_row(fs):
    """10 t of gas/diesel oil: DESNZ 2024 'WTT- fuels', gas oil, per tonne 743.83524 kg CO2e -> 7,438.35 kg."""
    fuel = {"activity_id": "fuel.csv:2", "fuel": "gas_diesel_oil", "use": "stationary", "quantity": 10.0, "unit": "t",
            "basis": "", "biogenic": False}
    row = scope3(run(fs, {"fuel": [fuel]})).iloc[0]
    assert (row["category"], row["activity_id"]) == ("c3_fuel_energy", "fuel.csv:2")
    assert row["gas_kg"] == pytest.approx(7438.3524)
    assert row["factor_ids"].startswith("DESNZ2024.fuel_wtt.gas_diesel_oil.per_t@")


def test_category3_electricity_names_what_the_set_lacks(fs):
    el = {"activity_id": "el.csv:2", "meter": "M1", "quantity": 1000.0, "unit": "kWh"}
    r = run(fs, {"electricity": [el]})
    assert scope3(r).empty
    assert any("3b well-to-tank of generation" in e and "CN" in e for e in r.exclusions)
    gb = Organisation("UK", "UK", (Site("LON", "London", country="GB"),))
    uk = compute_inventory(gb, ActivityData({"electricity": pd.DataFrame([_row_common() | el | {"site": "LON"}])}),
                           load_factor_set("UK-DESNZ-2025.1"), YEAR)
    # DESNZ 2024 UK electricity: WTT generation 0.0459, T&D 0.0183, WTT of T&D 0.00397 kg CO2e/kWh.
    assert scope3(uk)["gas_kg"].sum() == pytest.approx(1000 * (0.0459 + 0.0183 + 0.00397))


def test_category11_laptop_use_phase(fs):
    """Dell Latitude 7430 (product carbon footprint data sheet, March 2022): yearly typical energy consumption 17.25
    kWh, 4 years of use. Sold in China, location-based grid factor of the set for CN (MEE/NBS 2023 national
    average 0.5306 kg CO2/kWh, the latest year published): 17.25 x 4 x 0.5306 = 36.6114 kg CO2 per laptop."""
    row = {"activity_id": "sold.csv:2", "product": "Dell Latitude 7430", "units_sold": 1000.0, "market": "CN",
           "lifetime_years": 4.0, "energy_per_year": 17.25, "energy_unit": "kWh", "energy_source": "Dell PCF sheet"}
    r = run(fs, {"product_use": [row]})
    line = scope3(r).iloc[0]
    assert (line["category"], line["gas"], line["calc_method"]) == ("c11_use_of_sold_products", "CO2", "use_phase_energy")
    assert line["co2e_t"] == pytest.approx(1000 * 36.6114 / 1000)
    assert line["factor_ids"].startswith("CN_MEE_NBS.grid.location.CN.2023@")


def test_waste_end_of_life_travel_and_commuting(fs):
    pb = fs.waste("paper_board", "landfill")
    air = (fs.travel("air.long_haul.economy", "ttw").value, fs.travel("air.long_haul.economy", "wtt").value)
    bus = (fs.travel("bus.average", "ttw").value, fs.travel("bus.average", "wtt").value)
    hotel = fs.travel("hotel.GB", "ttw").value
    r = run(fs, {
        "waste": [{"activity_id": "w.csv:2", "material": "paper_board", "treatment": "landfill", "quantity": 3.2,
                   "unit": "t"}],
        "product_eol": [{"activity_id": "eol.csv:2", "product": "laptop", "units_sold": 1000.0,
                         "material": "paper_board", "mass_per_unit": 0.5, "unit": "kg", "treatment": "landfill"}],
        "travel": [{"activity_id": "t.csv:2", "mode": "air.long_haul.economy", "distance": 9200.0,
                    "distance_unit": "km", "travellers": 2.0, "hotel": "GB", "nights": 3.0, "spend": np.nan,
                    "currency": "", "price_year": np.nan, "eeio_code": ""}],
        "commute": [{"activity_id": "c.csv:2", "mode": "bus.average", "one_way_distance": 12.0, "distance_unit": "km",
                     "employees": 180.0, "days": 230.0}],
    })
    led = scope3(r)
    kg = led.groupby("category", observed=True)["gas_kg"].sum()
    assert kg["c5_waste"] == pytest.approx(3.2 * pb.value)
    assert kg["c12_end_of_life"] == pytest.approx(0.5 * pb.value)  # 1000 x 0.5 kg = 0.5 t
    assert kg["c6_business_travel"] == pytest.approx(9200 * 2 * sum(air) + 3 * hotel)
    assert kg["c7_commuting"] == pytest.approx(2 * 12 * 180 * 230 * sum(bus))
    assert set(led["calc_method"]) == {"waste_type", "distance_based", "average_data"}


def test_unknown_material_is_refused_with_its_row(fs):
    with pytest.raises(InputError) as exc:
        run(fs, {"waste": [{"activity_id": "w.csv:7", "material": "unobtainium", "treatment": "landfill",
                            "quantity": 1.0, "unit": "t"}]})
    p = exc.value.problems[0]
    assert (p.source, p.row, p.column) == ("w.csv", 7, "material") and "paper_board" in p.reason


def test_dq_rule_table():
    # supplier-specific, this year's data, same country: (1 + 2 + 2 + 1 + 1) / 5
    assert dq_score("supplier_specific", [2024], ["CN"], ["CN"], 2024)[0] == pytest.approx(1.4)
    # average-data, factor 12 years old, no region stated: (3 + 3 + 3 + 4 + 3) / 5
    assert dq_score("average_data", [2012], [""], ["CN"], 2024)[0] == pytest.approx(3.2)
    assert math.isclose(dq_score("spend_based", [np.nan], ["US"], ["CN"], 2024)[0], (4 + 3 + 4 + 5 + 4) / 5)


def test_spend_based_with_the_shipped_economics_reference(fs):
    """The same worked example with the shipped data/reference/economics files (G.5A rates, BLS CPI-U)."""
    from zerocarbon.core.factors import load_economics

    shipped = load_economics()
    if shipped is None:
        pytest.skip("data/reference/economics/ is not shipped in this checkout")
    assert shipped.units_per_usd("CNY", 2020).value == 6.9042
    row = purchase(spend=1_000_000.0, currency="CNY", price_year=2020.0, eeio_code="334111")
    data = ActivityData({"purchase": pd.DataFrame([_row_common() | row])})
    line = scope3(compute_inventory(ORG, data, fs, YEAR)).iloc[0]
    assert line["co2e_t"] == pytest.approx(9.49922, abs=1e-5)


def test_category3_losses_from_an_official_line_loss_rate(fs):
    """Where the set has no T&D factor but a line-loss rate for the country: kWh x loss rate x grid factor. The rate
    here is a user's own factor row (the arithmetic is what is tested); the grid factor is MEE/NBS 2023, 0.5306."""
    from zerocarbon.core.factors import DATA, build_factor_set

    own = ("factor_id,kind,subject,use,gas,value,unit,basis,region,year,issuer,document,edition,licence,confidence,"
           "source_key,notes\nOWN.loss.CN,grid_loss_rate,line_loss,,,0.05,kWh/kWh,,CN,2023,Own,own statistic,1,own,"
           "own,own:loss,a user's own row\n")
    text = (DATA / "factor_sets" / "CN-2025.1.yaml").read_text(encoding="utf-8").replace("id: CN-2025.1", "id: CN-own")
    own_set = build_factor_set("CN-own", text, [("own.csv", own)], "stored")
    el = {"activity_id": "el.csv:2", "meter": "M1", "quantity": 1000.0, "unit": "kWh"}
    r = compute_inventory(ORG, ActivityData({"electricity": pd.DataFrame([_row_common() | el])}), own_set, YEAR)
    line = scope3(r).iloc[0]
    assert line["gas_kg"] == pytest.approx(1000 * 0.05 * 0.5306)
    assert "OWN.loss.CN" in line["factor_ids"] and "line loss rate 0.05" in line["formula"]
    assert not any("3c transmission" in e for e in r.exclusions)
    assert any("3b well-to-tank" in e for e in r.exclusions)


def test_travel_by_spend_and_a_hybrid_with_spend_inputs(fs):
    spend = {"spend": 10_000.0, "currency": "CNY", "price_year": 2020.0, "eeio_code": "481111"}  # scheduled passenger air transportation
    k = fs.eeio("481111").value * 292.655 / 258.811 / 6.9042  # kg CO2e per CNY of 2020
    trip = {"activity_id": "t.csv:2", "mode": "air.long_haul.economy", "distance": np.nan, "distance_unit": "",
            "travellers": np.nan, "hotel": "", "nights": np.nan} | spend
    hybrid = purchase(activity_id="p.csv:2", **(spend | {"eeio_code": "334111"}), supplier_scope12_co2e=0.64,
                      supplier_co2e_unit="tCO2e", evidence="CDP 2024")
    led = scope3(run(fs, {"travel": [trip], "purchase": [hybrid]})).set_index("activity_id")
    assert led.at["t.csv:2", "calc_method"] == "spend_based"
    assert led.at["t.csv:2", "gas_kg"] == pytest.approx(10_000 * k)
    k_pc = fs.eeio("334111").value * 292.655 / 258.811 / 6.9042
    assert led.at["p.csv:2", "calc_method"] == "hybrid"
    assert led.at["p.csv:2", "gas_kg"] == pytest.approx(640 + 10_000 * k_pc)


def test_a_leg_the_set_cannot_compute_is_refused_with_its_row(fs):
    leg = {"activity_id": "legs.csv:4", "category": "4", "shipment": "A", "leg": "1", "mode": "road",
           "vehicle": "hovercraft", "mass": 1.0, "mass_unit": "t", "distance": np.nan, "distance_unit": "",
           "origin_lat": 39.0, "origin_lon": 117.0, "destination_lat": 31.0, "destination_lon": 121.0, "fuel": "",
           "fuel_quantity": np.nan, "fuel_unit": "", "carrier_co2e": np.nan, "carrier_co2e_unit": "", "carrier": ""}
    with pytest.raises(InputError) as exc:
        run(fs, {"shipment": [leg]})
    got = {(p.source, p.row, p.column) for p in exc.value.problems}
    assert got == {("legs.csv", 4, "vehicle"), ("legs.csv", 4, "distance")}


def test_spend_without_a_rate_for_its_year_names_the_row_and_column(fs):
    with pytest.raises(InputError) as exc:
        run(fs, {"purchase": [purchase(activity_id="buy.csv:9", spend=10.0, currency="CNY", price_year=2019.0,
                                       eeio_code="334111")]})
    p = exc.value.problems[0]
    assert (p.source, p.row, p.column) == ("buy.csv", 9, "price_year")
    assert "no 2019 annual average exchange rate for CNY" in p.reason and "2020" in p.reason
