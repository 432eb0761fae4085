"""A seeded, documented generator of a laptop-making group's year of activity data.

Anchors (see ``data/reference/factory``): Lenovo Tianjin park planned 3 M units/yr and >5 GWh/yr of
rooftop PV on 30,000 m2 (2023 reports); LCFC Hefei is several times larger. Everything else is a
generator parameter, chosen to be plausible and stated here, not data: the demo is a fictitious
company, and its numbers are not any real plant's.

Parameters (annual, per site):
- grid electricity split by end use (shares): SMT 0.25, final assembly 0.08, test/burn-in 0.12,
  packing 0.03, HVAC 0.35, compressed air 0.10 (US DOE: ~10 % of manufacturing electricity),
  nitrogen 0.05, offices 0.02; monthly shape = production seasonality x HVAC weather term;
- natural gas for canteen and hot water (stationary), diesel for standby generators (stationary),
  diesel and gasoline for forklifts and shuttle buses (mobile);
- refrigerants: chillers on R-134a (screening), split AC on R-410A (mass balance), SF6 in
  switchgear (screening), one legacy R-22 unit (memo item);
- green electricity certificates and a green-power contract retired for 2025, plus one certificate
  batch of 2024 vintage that the quality criteria reject (shown as a warning).

Prior year (``generate_prior``, 2023, the base year of the demo's targets): the plants before their measures,
again generator parameters, not data: no certificates and no green-power contract, less rooftop PV (TJ01 2 GWh,
HF01 1 GWh: the later extensions not yet built), and more grid electricity (TJ01 21.7 GWh, HF01 66.5 GWh: the PV
shortfall plus compressed-air leaks and fixed-speed drives fixed since); same output, fuels and refrigerants.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

END_USES = {"SMT": 0.25, "ASSY": 0.08, "TEST": 0.12, "PACK": 0.03, "HVAC": 0.35, "AIR": 0.10, "N2": 0.05,
            "OFFICE": 0.02}


@dataclass(frozen=True)
class DemoSite:
    code: str
    name: str
    province: str
    grid_region: str
    grid_mwh: float  # annual grid electricity
    pv_mwh: float  # annual rooftop PV generation
    gas_wan_nm3: float  # natural gas, 10^4 Nm3 (0 degC, 101.325 kPa)
    units_per_year: float


SITES = (
    DemoSite("TJ01", "Tianjin laptop plant 天津笔记本工厂", "天津", "north", 18_000, 5_000, 35, 3_000_000),
    DemoSite("HF01", "Hefei laptop plant 合肥笔记本工厂", "安徽", "east", 62_000, 3_000, 20, 20_000_000),
)
YEAR = 2025
PRIOR_YEAR = 2023
PRIOR_SITES = (replace(SITES[0], grid_mwh=21_700, pv_mwh=2_000), replace(SITES[1], grid_mwh=66_500, pv_mwh=1_000))


def _months(year: int) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    start = pd.date_range(f"{year}-01-01", periods=12, freq="MS")
    return start, start + pd.offsets.MonthEnd(0)


def generate_prior(out: Path, seed: int = PRIOR_YEAR) -> dict[str, Path]:
    """The prior year (``PRIOR_YEAR``) of the plants before their measures: no instrument file."""
    return generate(out, seed, PRIOR_YEAR, sites=PRIOR_SITES, instruments=False)


def generate(out: Path, seed: int = 2025, year: int = YEAR, *, sites: tuple[DemoSite, ...] = SITES,
             instruments: bool = True, serial: int = 100_000_001) -> dict[str, Path]:
    """Write organisation.yaml and one CSV per activity kind into ``out``; return their paths. ``serial``: the
    first certificate serial number (another year's certificates need their own range)."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    starts, ends = _months(year)
    m = np.arange(12)
    production = 1 + 0.12 * np.sin((m - 2) / 12 * 2 * np.pi)  # back-to-school and year-end peaks
    weather = 1 + 0.45 * np.cos((m - 6.5) / 12 * 2 * np.pi) ** 2  # cooling in summer, heating in winter
    org = {"code": "DEMO-LAPTOP", "name": "Demo Laptop Group 演示笔记本集团", "sites": [
        {"code": s.code, "name": s.name, "country": "CN", "province": s.province, "grid_region": s.grid_region,
         "timezone": "Asia/Shanghai", "equity_share": 1.0 if s.code == "TJ01" else 0.51,
         "operational_control": True, "financial_control": True,
         "methodology": "ghg_protocol" if s.code == "TJ01" else "gbt32150"} for s in sites]}
    paths = {"organisation": out / "organisation.yaml"}
    paths["organisation"].write_text(yaml.safe_dump(org, allow_unicode=True, sort_keys=False), encoding="utf-8")
    elec, gen, fuel, refr, inst = [], [], [], [], []
    for s in sites:
        for use, share in END_USES.items():
            shape = weather if use == "HVAC" else (production if use in ("SMT", "ASSY", "TEST", "PACK") else np.ones(12))
            noise = rng.normal(1, 0.03, 12)
            kwh = s.grid_mwh * 1000 * share * shape * noise / (shape * noise).sum()
            for i in range(12):
                elec.append({"site": s.code, "meter": f"{s.code}-M-{use}", "period_start": starts[i].date(),
                             "period_end": ends[i].date(), "quantity": round(kwh[i], 1), "unit": "kWh"})
        sun = 1 + 0.35 * np.sin((m - 2.5) / 12 * 2 * np.pi)
        pv = s.pv_mwh * sun / sun.sum()
        for i in range(12):
            gen.append({"site": s.code, "period_start": starts[i].date(), "period_end": ends[i].date(),
                        "technology": "pv", "generated": round(pv[i], 3), "exported": round(pv[i] * 0.03, 3),
                        "unit": "MWh"})
            gas = s.gas_wan_nm3 * weather[i] / weather.sum()
            fuel.append({"site": s.code, "period_start": starts[i].date(), "period_end": ends[i].date(),
                         "fuel": "natural_gas", "use": "stationary", "quantity": round(gas, 4), "unit": "万Nm3",
                         "basis": "", "biogenic": "false"})
        for fuel_key, use, tonnes in (("gas_diesel_oil", "stationary", 6.0), ("gas_diesel_oil", "mobile", 22.0),
                                      ("motor_gasoline", "mobile", 9.0)):
            for q in range(4):
                qs = pd.Timestamp(year=year, month=3 * q + 1, day=1)
                qe = qs + pd.offsets.QuarterEnd(0)
                fuel.append({"site": s.code, "period_start": qs.date(), "period_end": qe.date(), "fuel": fuel_key,
                             "use": use, "quantity": round(tonnes / 4 * rng.normal(1, 0.05), 3), "unit": "t",
                             "basis": "", "biogenic": "false"})
        ys, ye = f"{year}-01-01", f"{year}-12-31"
        refr += [
            {"site": s.code, "period_start": ys, "period_end": ye, "gas": "HFC-134a", "method": "screening",
             "unit": "kg", "charge": 1800, "annual_leak_rate": 0.02,
             "parameter_source": "demo assumption: chiller service records"},
            {"site": s.code, "period_start": ys, "period_end": ye, "gas": "R-410A", "method": "mass_balance",
             "unit": "kg", "inventory_start": 200, "inventory_end": 170, "purchased": 60, "recovered_or_sold": 5,
             "capacity_change": 10, "parameter_source": "demo refrigerant log"},
            {"site": s.code, "period_start": ys, "period_end": ye, "gas": "SF6", "method": "screening", "unit": "kg",
             "charge": 45, "annual_leak_rate": 0.005, "parameter_source": "demo assumption: switchgear nameplate"},
            {"site": s.code, "period_start": ys, "period_end": ye, "gas": "R-22", "method": "screening", "unit": "kg",
             "charge": 60, "annual_leak_rate": 0.05, "parameter_source": "demo assumption: legacy unit"},
        ]
    for sid, itype, mwh, vs, ve in (("TJ01", "GEC", 8_000, f"{year}-01-01", f"{year}-06-30"),
                                    ("TJ01", "green_power_contract", 6_000, f"{year}-01-01", f"{year}-12-31"),
                                    ("HF01", "GEC", 20_000, f"{year}-01-01", f"{year}-12-31"),
                                    ("HF01", "GEC", 2_000, f"{year - 1}-01-01", f"{year - 1}-12-31")):
        inst.append({"instrument_id": f"{itype}-{sid}-{serial}", "type": itype,
                     "registry": "CN-GEC" if itype == "GEC" else "CN-GreenPowerTrading", "market": "CN",
                     "volume": mwh, "unit": "MWh", "vintage_start": vs, "vintage_end": ve,
                     "serial_start": serial, "serial_end": serial + mwh - 1, "retired_for_site": sid,
                     "retired_for_year": year, "emission_factor": 0, "technology": "wind"})
        serial += mwh
    kinds = (("electricity", elec), ("generation", gen), ("fuel", fuel), ("refrigerant", refr), ("instrument", inst))
    for kind, rows in kinds if instruments else kinds[:-1]:
        paths[kind] = out / f"{kind}_{year}.csv"
        pd.DataFrame(rows).to_csv(paths[kind], index=False)
    return paths
