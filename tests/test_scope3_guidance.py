"""Worked examples of the GHG Protocol *Technical Guidance for Calculating Scope 3 Emissions* v1.0 (2013), with the
guidance's own illustrative factors loaded as a user's factor file (the guidance's numbers, not shipped data)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zerocarbon.core.factors import DATA, build_factor_set, parse_economics
from zerocarbon.core.ghg.inventory import ActivityData, compute_inventory
from zerocarbon.core.model import Organisation, Site
from zerocarbon.core.supply.logistics import leg_emissions

HEADER = ("factor_id,kind,subject,use,gas,value,unit,basis,region,year,issuer,document,edition,licence,confidence,"
          "source_key,notes\n")
GUIDANCE = "GHG Protocol Technical Guidance for Calculating Scope 3 Emissions v1.0 (2013)"


def own_set(rows: list[tuple]) -> object:
    """A set = the shipped UK rules and files (its residual mix is the grid average) + the guidance's example factors as the user's own file."""
    text = HEADER + "".join(
        f"TG.{kind}.{subject}.{use},{kind},{subject},{use},CO2e,{value},{unit},,{region},2020,GHG Protocol,"
        f"\"{GUIDANCE}, {where}\",2013,illustrative,illustrative,tg:{kind}:{subject},worked example\n"
        for kind, subject, use, value, unit, region, where in rows)
    spec = (DATA / "factor_sets" / "UK-DESNZ-2025.1.yaml").read_text(encoding="utf-8")
    spec = spec.replace("id: UK-DESNZ-2025.1", "id: TG")
    return build_factor_set("TG", spec, [("guidance.csv", text)], "stored")


# The year of the money equals the factors' year: the price-index ratio is 1 (CPI-U 2020, BLS).
ECON = parse_economics("currency,year,value,unit,source\n",
                       "index,year,value,source\nUS_CPI_U,2020,258.811,BLS CPI-U CUUR0000SA0 annual average\n")


def test_example_1_4_spend_and_average_data_for_purchased_goods():
    """Example [1.4], pp. 34-35: raw materials by value x EEIO factor plus components by mass x cradle-to-gate
    factor: 11,700 + 42,400 = 54,100 kg CO2e."""
    by_value = [("ps", 5000, 0.3), ("abs", 3000, 0.3), ("pet_film", 4000, 0.3), ("aluminium", 6000, 0.5),
                ("steel", 1500, 0.2), ("cyclohexane", 5000, 0.2), ("epoxy", 5000, 0.3), ("copper", 1000, 0.3),
                ("glass", 5000, 0.4)]
    by_mass = [("hard_drive", 400, 20), ("ics", 200, 10), ("lcd", 500, 40), ("semiconductors", 100, 70),
               ("battery", 1500, 3), ("keyboard", 300, 3)]
    codes = {name: f"{900001 + i}" for i, (name, _, _) in enumerate(by_value)}  # the guidance names no NAICS codes
    fs = own_set([("eeio", codes[n], "with_margins", k, "kg/USD", "US", "Example [1.4]") for n, _, k in by_value]
                 + [("material", n, "primary", k, "kg/kg", "", "Example [1.4]") for n, _, k in by_mass])
    rows = []
    for i, (name, usd, _) in enumerate(by_value):
        rows.append({"activity_id": f"tg.csv:{i + 2}", "item": name, "spend": float(usd), "currency": "USD",
                     "price_year": 2020.0, "eeio_code": codes[name]})
    for j, (name, kg, _) in enumerate(by_mass):
        rows.append({"activity_id": f"tg.csv:{len(by_value) + j + 2}", "item": name, "quantity": float(kg),
                     "unit": "kg", "material": name})
    frame = pd.DataFrame([{"site": "TJ01", "period_start": pd.Timestamp("2020-01-01"),
                           "period_end": pd.Timestamp("2020-12-31"), "category": "1", "supplier": "",
                           "supplier_co2e": np.nan, "supplier_co2e_unit": "", "supplier_scope12_co2e": np.nan,
                           "pcf_id": "", "evidence": "", "spend": np.nan, "currency": "", "price_year": np.nan,
                           "eeio_code": "", "quantity": np.nan, "unit": "", "material": ""} | r for r in rows])
    org = Organisation("O", "O", (Site("TJ01", "T", country="CN", province="天津"),))
    r = compute_inventory(org, ActivityData({"purchase": frame}), fs, 2020, economics=ECON)
    led = r.ledger[r.ledger["scope"] == "3"]
    by_method = led.groupby("calc_method", observed=True)["gas_kg"].sum()
    assert by_method["spend_based"] == pytest.approx(11_700)
    assert by_method["average_data"] == pytest.approx(42_400)
    assert r.totals()["scope3_t"] == pytest.approx(54.1)


def test_example_4_2_and_9_1_distance_based_transport():
    """Example [4.2], p. 62: 2 t x 2,000 km x 0.2 (truck) + 1 t x 3,000 km x 1.0 (air long haul) + 6 t x 4,000 km x
    0.05 (container ship) = 5,000 kg CO2e; Example [9.1], p. 105: 4 t x 2,000 km x 0.2 = 1,600 kg CO2e. The
    guidance's factors are single (well-to-wheel) intensities: no TTW/WTT split."""
    fs = own_set([("freight", "road.rigid_3_5_7_5t", "wtw", 0.2, "kg/tkm", "", "Example [4.2]"),
                  ("freight", "air.long_haul_example", "wtw", 1.0, "kg/tkm", "", "Example [4.2]"),
                  ("freight", "sea.container_2000_2999_teu", "wtw", 0.05, "kg/tkm", "", "Example [4.2]")])
    legs = pd.DataFrame({"mode": ["road", "air", "sea"],
                         "vehicle": ["rigid_3_5_7_5t", "long_haul_example", "container_2000_2999_teu"],
                         "mass_t": [2.0, 1.0, 6.0], "distance_km": [2000.0, 3000.0, 4000.0]})
    out = leg_emissions(legs, fs)
    assert out["co2e_kg"].tolist() == pytest.approx([800, 3000, 1200]) and out["co2e_kg"].sum() == pytest.approx(5000)
    assert out["ttw_kg"].isna().all()
    downstream = leg_emissions(legs.iloc[[0]].assign(mass_t=4.0), fs)
    assert downstream["co2e_kg"].iloc[0] == pytest.approx(1600)


def test_example_3_1_transmission_and_distribution_losses():
    """Example [3.1], pp. 46-47: T&D losses = kWh x combustion factor x loss rate; Australia 500,000 kWh x 0.8 kg
    CO2e/kWh x 0.10 = 40,000 kg CO2e (the guidance multiplies by the loss rate itself)."""
    fs = own_set([("grid_electricity", "location", "", 0.8, "kgCO2e/kWh", "AU", "Example [3.1]"),
                  ("grid_loss_rate", "line_loss", "", 0.10, "kWh/kWh", "AU", "Example [3.1]")])
    org = Organisation("O", "O", (Site("SYD", "Sydney", country="AU"),))
    el = pd.DataFrame([{"activity_id": "el.csv:2", "site": "SYD", "meter": "M", "period_start": pd.Timestamp("2020-01-01"),
                        "period_end": pd.Timestamp("2020-12-31"), "quantity": 500_000.0, "unit": "kWh"}])
    r = compute_inventory(org, ActivityData({"electricity": el}), fs, 2020)
    losses = r.ledger[(r.ledger["scope"] == "3") & r.ledger["formula"].astype(str).str.contains("losses")]
    assert losses["gas_kg"].sum() == pytest.approx(40_000)
    assert r.totals()["scope2_location_t"] == pytest.approx(400.0)  # Scope 2 itself: 500,000 x 0.8
