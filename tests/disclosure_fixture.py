"""A tiny company for the disclosure tests, built through the public services: ``make_company(tmp_path)``.

Organisation DISC (fictitious), two sites:
- SZ01 Shenzhen (广东, south grid): 100 % owned, operational and financial control -> consolidated group;
- SH02 Shanghai (上海, east grid): 40 % equity, operational control, no financial control -> an investee inside
  the operational-control boundary.

2025 activity files (factor set CN-2025.1, GWP AR5), with the arithmetic of every figure below:
- fuel, SZ01: natural gas 1 万Nm3 (stationary). NCV 389.31 GJ/万Nm3 (GB/T 32151.x default, CN-2025.1) =
  389.31 GJ = 108.141 667 MWh.
- electricity: SZ01 100 000 kWh, SH02 50 000 kWh (grid) -> 150 MWh.
- generation, SZ01: PV 20 MWh generated, 2 MWh exported -> 18 MWh self-consumed.
- instrument: green electricity certificate GEC-1, 30 MWh, wind, 0 kg/kWh, retired for SZ01 2025 -> covers
  30 000 of SZ01's 100 000 grid kWh (fraction 0.3).
- refrigerant, SH02: HFC-134a screening, charge 100 kg x 2 %/yr x 365/365 = 2 kg; GWP AR5 HFC-134a 1 300
  (IPCC AR5 WG1 Table 8.A.1) -> 2.6 tCO2e.
- waste: SZ01 paper_board recycled (closed loop) 10 t, non-hazardous; SZ01 commercial & industrial waste
  landfilled 5 t, non-hazardous; SH02 commercial & industrial waste landfilled 1 t, hazardous -> total 16 t,
  hazardous 1 t, non-hazardous 15 t, recycled share 10/16.
- packaging, SZ01: LAPTOP-A 10 000 units x 0.8 kg paper board -> 8 t; 10 000 units produced.
- purchase, SZ01: 500 kg chassis with the supplier's footprint 1 200 kgCO2e -> Scope 3 category 1 = 1.2 tCO2e.
- revenue (stored output, whole organisation): 5 000 万元 = 50 000 000 CNY.
2024: natural gas 1 万Nm3 and 80 000 kWh at SZ01 (the base year of target T1, absolute Scope 1+2 market-based
-42 % by 2030).

The emission factors are written below with their ids and sources (``GRID_LOCATION`` ...); a test checks them
against the factor set, so every expected figure is a published factor times a quantity of the files above.
"""
from __future__ import annotations

from pathlib import Path

ORG = "DISC"
YEAR, BASE_YEAR = 2025, 2024
FACTOR_SET = "CN-2025.1"

ORG_YAML = """code: DISC
name: Disclosure test company
sites:
  - {code: SZ01, name: Shenzhen, province: 广东, grid_region: south}
  - {code: SH02, name: Shanghai, province: 上海, grid_region: east, equity_share: 0.4, operational_control: true,
     financial_control: false}
"""

FILES_2025 = {
    "fuel": "site,period_start,period_end,fuel,use,quantity,unit,basis,biogenic\n"
            "SZ01,2025-01-01,2025-12-31,natural_gas,stationary,1,万Nm3,,false\n",
    "electricity": "site,meter,period_start,period_end,quantity,unit\n"
                   "SZ01,SZ01-M1,2025-01-01,2025-12-31,100000,kWh\n"
                   "SH02,SH02-M1,2025-01-01,2025-12-31,50000,kWh\n",
    "generation": "site,period_start,period_end,technology,generated,exported,unit\n"
                  "SZ01,2025-01-01,2025-12-31,pv,20,2,MWh\n",
    "instrument": "instrument_id,type,registry,market,volume,unit,vintage_start,vintage_end,serial_start,serial_end,"
                  "retired_for_site,retired_for_year,emission_factor,technology\n"
                  "GEC-1,GEC,CN-GEC,CN,30,MWh,2025-01-01,2025-12-31,1,30,SZ01,2025,0,wind\n",
    "refrigerant": "site,period_start,period_end,gas,method,unit,inventory_start,inventory_end,purchased,"
                   "recovered_or_sold,capacity_change,charge,annual_leak_rate,parameter_source\n"
                   "SH02,2025-01-01,2025-12-31,HFC-134a,screening,kg,,,,,,100,0.02,service log\n",
    "waste": "site,period_start,period_end,material,treatment,quantity,unit,hazardous\n"
             "SZ01,2025-01-01,2025-12-31,paper_board,recycling_closed_loop,10,t,false\n"
             "SZ01,2025-01-01,2025-12-31,commercial_industrial_waste,landfill,5000,kg,false\n"
             "SH02,2025-01-01,2025-12-31,commercial_industrial_waste,landfill,1,t,true\n",
    "packaging": "site,period_start,period_end,product,units,material,mass_per_unit,unit,recycled_share,plastic\n"
                 "SZ01,2025-01-01,2025-12-31,LAPTOP-A,10000,paper_board,0.80,kg,0.5,false\n",
    "purchase": "site,period_start,period_end,category,item,supplier,quantity,unit,material,supplier_co2e,"
                "supplier_co2e_unit,evidence\n"
                "SZ01,2025-01-01,2025-12-31,1,chassis,S-1,500,kg,,1200,kgCO2e,EPD-1\n",
}
FILES_2024 = {
    "fuel": "site,period_start,period_end,fuel,use,quantity,unit,basis,biogenic\n"
            "SZ01,2024-01-01,2024-12-31,natural_gas,stationary,1,万Nm3,,false\n",
    "electricity": "site,meter,period_start,period_end,quantity,unit\n"
                   "SZ01,SZ01-M1,2024-01-01,2024-12-31,80000,kWh\n",
}

NCV_GJ_PER_WAN_NM3 = 389.31      # natural gas, CN-2025.1 heating value (GB/T 32151 default)
GWP_HFC134A_AR5 = 1300.0          # IPCC AR5 WG1 Table 8.A.1
KGCE_PER_MJ = 1000 / 29307.6      # GB/T 2589-2020: 1 kgce = 29 307.6 kJ
KGCE_PER_KWH = 0.1229             # GB/T 2589-2020, electricity at its calorific equivalent


def published_factors(fs) -> dict:
    """The factors of ``fs`` the expected figures use [kgCO2/kWh, kg/TJ], as the inventory picks them for 2025."""
    from zerocarbon.core.model import Site
    from zerocarbon.units import scale

    sites = {"SZ01": Site("SZ01", "Shenzhen", province="广东", grid_region="south"),
             "SH02": Site("SH02", "Shanghai", province="上海", grid_region="east")}
    out = {}
    for code, site in sites.items():
        for series in ("location", "residual"):
            f = fs.grid_factor(series, YEAR, site).factor
            num, den = f.unit.split("/")
            out[f"{code}.{series}"] = (f.value * scale(num, "kg") / scale(den, "kWh"), f.factor_id)
    for gas in ("CO2", "CH4", "N2O"):
        found = fs.combustion_factors("natural_gas", gas, "stationary")
        if found:
            num, den = found[0].unit.split("/")
            out[f"natural_gas.{gas}"] = (found[0].value * scale(num, "kg") / scale(den, "TJ"), found[0].factor_id)
    return out


# Published factors used (CN-2025.1; the set has no 2025 grid factors, so the latest earlier year is used, as the
# inventory warns). ``test_the_fixture_factors_are_the_published_ones`` checks each against the factor set.
GRID_LOCATION = {"SZ01": 0.4042,   # kgCO2/kWh, CN_MEE_NBS.grid.location.CN-grid-south.2023 (MEE & NBS, 2023 data)
                 "SH02": 0.5500}   # kgCO2/kWh, CN_MEE_NBS.grid.location.CN-grid-east.2023 (MEE & NBS, 2023 data)
GRID_RESIDUAL = 0.6096              # kgCO2/kWh, CN_MEE_NBS.grid.excl_market_nonfossil.CN.2023 (national, excluding
#                                     market-traded non-fossil electricity: the residual-mix proxy)
GAS_CO2_KG_PER_TJ = 55539.0         # GBT32151.natural_gas.CO2.computed (carbon content x oxidation x 44/12);
#                                     the set has no stationary CH4/N2O factor for natural gas (CH4, N2O = 0 rows)


def expected() -> dict:
    """Every golden figure of the 2025 facts, from the quantities above and the published factors (by hand)."""
    tj = NCV_GJ_PER_WAN_NM3 / 1000                                 # 1 万Nm3 of natural gas = 0.38931 TJ
    co2 = tj * GAS_CO2_KG_PER_TJ / 1000                            # 0.38931 x 55 539 / 1000 = 21.621 888 09 t
    refrigerant = 2 * GWP_HFC134A_AR5 / 1000                      # 2 kg HFC-134a x 1 300 = 2.6 t
    s1_sz, s1_sh = co2, refrigerant
    s2l_sz = 100_000 * GRID_LOCATION["SZ01"] / 1000                # 40.42 t
    s2l_sh = 50_000 * GRID_LOCATION["SH02"] / 1000                 # 27.5 t
    s2m_sz = 100_000 * (0.7 * GRID_RESIDUAL + 0.3 * 0.0) / 1000   # 30 % covered by a 0 kg/kWh certificate: 42.672 t
    s2m_sh = 50_000 * GRID_RESIDUAL / 1000                         # 30.48 t
    gas_mwh = NCV_GJ_PER_WAN_NM3 / 3.6                             # 108.141 667 MWh
    e = {
        "ghg.scope1": s1_sz + s1_sh, "s1.SZ01": s1_sz, "s1.SH02": s1_sh,
        "s1.CO2": co2, "s1.CH4": 0.0, "s1.N2O": 0.0, "s1.HFCs": refrigerant, "s1.PFCs": 0.0, "s1.SF6": 0.0,
        "s1.NF3": 0.0, "s1.stationary": s1_sz, "s1.mobile": 0.0, "s1.fugitive": refrigerant, "s1.process": 0.0,
        "ghg.scope2_location": s2l_sz + s2l_sh, "s2l.SZ01": s2l_sz, "s2l.SH02": s2l_sh,
        "ghg.scope2_market": s2m_sz + s2m_sh, "s2m.SZ01": s2m_sz, "s2m.SH02": s2m_sh,
        "ghg.scope1.consolidated": s1_sz, "ghg.scope1.investees": s1_sh,
        "ghg.scope2_location.consolidated": s2l_sz, "ghg.scope2_location.investees": s2l_sh,
        "ghg.scope2_market.consolidated": s2m_sz, "ghg.scope2_market.investees": s2m_sh,
        "ghg.scope3.cat1": 1.2,
        "energy.fuels": gas_mwh, "energy.fuels.fossil": gas_mwh, "energy.fuels.renewable": 0.0,
        "energy.electricity.grid": 150.0, "energy.electricity.self_generated": 18.0,
        "energy.electricity": 168.0, "energy.total": gas_mwh + 168.0, "energy.produced.renewable": 20.0,
        "energy.sold": 2.0, "energy.renewable.purchased": 30.0, "energy.renewable": 48.0,
        "ghg.scope2.contractual_mwh": 30.0, "ghg.scope2.contractual_share": 30.0 / 150.0,
        "energy.renewable_share": 48.0 / (gas_mwh + 168.0), "energy.electricity.renewable_share": 48.0 / 168.0,
        # 389 310 MJ / 29.3076 MJ/kgce + 168 000 kWh x 0.1229 kgce/kWh = 13 283.4 + 20 647.2 kgce
        "energy.total_tce": (NCV_GJ_PER_WAN_NM3 * 1000 * KGCE_PER_MJ + 168_000 * KGCE_PER_KWH) / 1000,
        "production.units": 10_000.0, "finance.revenue": 50_000_000.0,
        "waste.total": 16.0, "waste.hazardous": 1.0, "waste.non_hazardous": 15.0, "waste.recycled_share": 10 / 16,
        "waste.hazardous_per_unit": 1000 / 10_000, "waste.non_hazardous_per_unit": 15_000 / 10_000,
        "packaging.total": 8.0, "packaging.per_unit": 0.8,
    }
    e["ghg.scope12_location"] = e["ghg.scope1"] + e["ghg.scope2_location"]
    e["ghg.scope12_market"] = e["ghg.scope1"] + e["ghg.scope2_market"]
    e["ghg.intensity.scope12_location_per_unit"] = e["ghg.scope12_location"] / 10_000
    e["ghg.intensity.scope12_market_per_unit"] = e["ghg.scope12_market"] / 10_000
    e["ghg.intensity.scope12_location_per_revenue"] = e["ghg.scope12_location"] / 50_000_000
    e["ghg.intensity.scope12_market_per_revenue"] = e["ghg.scope12_market"] / 50_000_000
    e["energy.intensity.per_unit"] = e["energy.total"] / 10_000
    e["energy.intensity.per_revenue"] = e["energy.total"] / 50_000_000
    return e


def _import(sessions, tmp_path: Path, kind: str, text: str, year: int) -> None:
    from zerocarbon.services import accounting

    path = tmp_path / f"{kind}_{year}.csv"
    path.write_text(text, encoding="utf-8")
    accounting.import_file(sessions, ORG, kind, path, year, FACTOR_SET, actor="test")


def make_company(tmp_path: Path, sessions=None):
    """Organisation DISC with its 2024 and 2025 files imported and computed, a revenue figure and target T1.
    Returns ``(sessions, org_code, expected)``; ``sessions`` defaults to a new SQLite database in ``tmp_path``."""
    from zerocarbon.services import accounting, targets
    from zerocarbon.store.db import make_engine, session_factory, upgrade

    if sessions is None:
        engine = make_engine(f"sqlite:///{tmp_path / 'disclosure.sqlite'}")
        upgrade(engine)
        sessions = session_factory(engine)
    org_file = tmp_path / "disc.yaml"
    org_file.write_text(ORG_YAML, encoding="utf-8")
    accounting.load_organisation_file(sessions, org_file, actor="test")
    for year, files in ((BASE_YEAR, FILES_2024), (YEAR, FILES_2025)):
        for kind, text in files.items():
            _import(sessions, tmp_path, kind, text, year)
        accounting.compute(sessions, ORG, year, FACTOR_SET, actor="test")
    targets.set_output(sessions, ORG, year=YEAR, metric="revenue", value=5000, unit="万元",
                       source="audited accounts 2025", actor="test")
    targets.set_target(sessions, ORG, kind="absolute", scopes="s1s2", base_year=BASE_YEAR, target_year=2030,
                       reduction=0.42, scope2_method="market", code="T1", actor="test")
    return sessions, ORG, expected()
