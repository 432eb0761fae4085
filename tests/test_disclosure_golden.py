"""Acceptance tests of disclosure on the small company of tests/disclosure_fixture.py.

- One golden test per framework: the key data points of each report against figures computed here by hand from
  the fixture's activity files and the published factors (arithmetic written out), and its missing lines with
  reasons in English and Chinese and no value.
- Every number of every report traces to the ledger (``disclosure.verify``), and a stored emission row changed
  after the reports were built makes exactly the points that depend on it fail.
- The HKEX report as PDF (English and Chinese), rasterised to PNG, its text carrying the key figures.
- A company without an inventory: GHG lines missing with reasons, never zero; error checks name the points.

The database tests run on SQLite and, where it answers, PostgreSQL.
"""
from __future__ import annotations

from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from tests.conftest import BACKENDS, blank_engine
from tests.disclosure_fixture import (BASE_YEAR, GAS_CO2_KG_PER_TJ, GRID_LOCATION, GRID_RESIDUAL, GWP_HFC134A_AR5,
                                      KGCE_PER_KWH, KGCE_PER_MJ, NCV_GJ_PER_WAN_NM3, ORG, YEAR, make_company)
from zerocarbon.core.disclosure.model import MANDATORY, MISSING, REPORTED, Report
from zerocarbon.services import accounting, disclosure
from zerocarbon.store.db import session_factory, upgrade

# --- published Scope 3 factors the inventory applies (UK DESNZ 2024 v1.1, in CN-2025.1) --------------------------
WTT_NATURAL_GAS = 0.03347          # kgCO2e/kWh NCV, DESNZ2024.fuel_wtt.natural_gas.per_kWh_NCV (category 3a)
WASTE_PAPER_CLOSED_LOOP = 6.41061  # kgCO2e/t, DESNZ2024.waste.paper_board.recycling_closed_loop (category 5)
WASTE_CI_LANDFILL = 520.3342       # kgCO2e/t, DESNZ2024.waste.commercial_industrial_waste.landfill (category 5)

# --- what the ESG team enters (a disclosure inputs file) -----------------------------------------------------------
INPUTS_YAML = f"""organisation: {ORG}
year: {YEAR}
inputs:
  - key: input.air.nox
    value: 0.12
    unit: t
    source: stack tests 2025 (test data)
  - key: input.water.consumption
    value: 2.5
    unit: megaliter
    source: water bills 2025 (test data)
  - key: input.grid.fossil_share
    value: 0.6
    unit: fraction
    source: grid mix yearbook (test data)
  - key: input.grid.nuclear_share
    value: 0.05
    unit: fraction
    source: grid mix yearbook (test data)
  - key: input.ghg.reductions
    value: 3.5
    unit: tCO2e
    source: project register 2025 (test data)
  - key: input.finance.climate_capex
    value: 800000
    unit: CNY
    source: capital spending 2025 (test data)
  - key: input.finance.transition_risk_share
    value: 0.15
    unit: fraction
    source: risk register 2025 (test data)
  - key: text.governance
    en: The board reviews climate risks twice a year.
    zh: 董事会每年两次审阅气候相关风险。
    source: board charter (test data)
"""


def hand() -> dict[str, float]:
    """Every figure the golden tests assert, by hand from the fixture's files (2025, factor set CN-2025.1)."""
    h: dict[str, float] = {}
    # Scope 1: natural gas 1 万Nm3 x NCV 389.31 GJ/万Nm3 = 0.38931 TJ x 55 539 kgCO2/TJ = 21.621 888 09 tCO2 (SZ01);
    # no CH4/N2O factor for stationary natural gas in the set, so CO2 only
    h["s1.co2"] = 1 * NCV_GJ_PER_WAN_NM3 / 1000 * GAS_CO2_KG_PER_TJ / 1000
    # HFC-134a (SH02): 100 kg charge x 2 %/yr = 2 kg x GWP 1 300 = 2.6 tCO2e
    h["s1.hfc"] = 100 * 0.02 * GWP_HFC134A_AR5 / 1000
    h["s1.SZ01"], h["s1.SH02"] = h["s1.co2"], h["s1.hfc"]
    h["s1"] = h["s1.co2"] + h["s1.hfc"]                                   # 24.221 888 09 t
    # Scope 2 location-based: grid kWh x the grid's published factor
    h["s2l.SZ01"] = 100_000 * GRID_LOCATION["SZ01"] / 1000               # 100 000 kWh x 0.4042 = 40.42 t
    h["s2l.SH02"] = 50_000 * GRID_LOCATION["SH02"] / 1000                # 50 000 kWh x 0.5500 = 27.5 t
    h["s2l"] = h["s2l.SZ01"] + h["s2l.SH02"]                             # 67.92 t
    # Scope 2 market-based: 30 000 of SZ01's kWh covered by a 0 kg/kWh certificate, the rest at the residual proxy
    h["s2m.SZ01"] = (100_000 - 30_000) * GRID_RESIDUAL / 1000            # 70 000 x 0.6096 = 42.672 t
    h["s2m.SH02"] = 50_000 * GRID_RESIDUAL / 1000                        # 30.48 t
    h["s2m"] = h["s2m.SZ01"] + h["s2m.SH02"]                             # 73.152 t
    # Scope 3: cat 1 the supplier's 1 200 kgCO2e; cat 3a well-to-tank of the gas (389.31 GJ / 3.6 = 108 141.67 kWh
    # x 0.03347); cat 5 waste: 10 t closed-loop board x 6.41061 + (5 + 1) t landfill x 520.3342
    gas_mwh = NCV_GJ_PER_WAN_NM3 / 3.6                                   # 108.141 667 MWh
    h["s3.1"] = 1200 / 1000
    h["s3.3"] = gas_mwh * 1000 * WTT_NATURAL_GAS / 1000                  # 3.619 501 58 t
    h["s3.5"] = (10 * WASTE_PAPER_CLOSED_LOOP + 6 * WASTE_CI_LANDFILL) / 1000   # 3.186 111 3 t
    h["s3"] = h["s3.1"] + h["s3.3"] + h["s3.5"]                          # 8.005 612 88 t
    h["s12l"], h["s12m"] = h["s1"] + h["s2l"], h["s1"] + h["s2m"]
    h["total_l"] = h["s1"] + h["s2l"] + h["s3"]                          # ESRS E1-6 ¶44: S1 + S2 location + S3
    h["total_m"] = h["s1"] + h["s2m"] + h["s3"]                          # ESRS E1-6 ¶52(b): S1 + S2 market + S3
    # 2024 (base year): the same gas + 80 000 kWh at SZ01 (no instrument: all at the residual proxy)
    h["base.s12l"] = h["s1.co2"] + 80_000 * GRID_LOCATION["SZ01"] / 1000  # 53.957 888 09 t
    h["base.s12m"] = h["s1.co2"] + 80_000 * GRID_RESIDUAL / 1000          # 70.389 888 09 t
    h["progress"] = (h["base.s12m"] - h["s12m"]) / h["base.s12m"]         # negative: emissions rose
    # energy [MWh]
    h["fuels"] = gas_mwh
    h["grid"] = (100_000 + 50_000) / 1000                                # 150 MWh
    h["self"] = 20 - 2                                                   # PV 20 generated - 2 exported
    h["electricity"] = h["grid"] + h["self"]                             # 168 MWh
    h["energy"] = h["fuels"] + h["electricity"]                          # 276.141 667 MWh
    h["renewable"] = h["self"] + 30                                      # PV + 30 MWh of certificates = 48 MWh
    # grid mix entered: fossil 0.6, nuclear 0.05 of the grid electricity not covered by certificates (150 - 30)
    h["fossil"] = h["fuels"] + (h["grid"] - 30) * 0.6                    # 108.14 + 72 = 180.141 667 MWh
    h["nuclear"] = (h["grid"] - 30) * 0.05                               # 6 MWh
    # GB/T 2589: gas 389 310 MJ / 29.3076 MJ/kgce; electricity 168 000 kWh x 0.1229 kgce/kWh
    h["tce.fuels"] = NCV_GJ_PER_WAN_NM3 * 1000 * KGCE_PER_MJ / 1000      # 13.283 6 tce
    h["tce.electricity"] = 168_000 * KGCE_PER_KWH / 1000                 # 20.647 2 tce
    h["tce"] = h["tce.fuels"] + h["tce.electricity"]
    # denominators: 10 000 laptops (packaging rows), revenue 5 000 万元 = 50 000 000 CNY
    h["units"], h["revenue"] = 10_000.0, 5000 * 10_000.0
    return h


H = hand()


# --- the company, on each backend, built once per module --------------------------------------------------------

@dataclass
class Company:
    kind: str
    sessions: object
    reports: dict[str, Report]


@pytest.fixture(scope="module")
def companies(tmp_path_factory):
    """``get(kind)``: the fixture company with its inputs imported and its seven 2025 reports, on ``kind``."""
    made: dict[str, Company] = {}
    with ExitStack() as stack:
        def get(kind: str) -> Company:
            if kind not in made:
                tmp = tmp_path_factory.mktemp(f"golden-{kind}")
                engine = stack.enter_context(blank_engine(kind, tmp))
                upgrade(engine)
                sessions, org, _ = make_company(tmp, session_factory(engine))
                path = tmp / "inputs.yaml"
                path.write_text(INPUTS_YAML, encoding="utf-8")
                disclosure.import_inputs(sessions, org, YEAR, path, actor="test")
                reports = disclosure.build(sessions, org, YEAR)
                made[kind] = Company(kind, sessions, {r.framework.id: r for r in reports})
            return made[kind]

        yield get


@pytest.fixture(scope="module", params=BACKENDS)
def company(request, companies) -> Company:
    return companies(request.param)


def lines(report: Report) -> dict:
    return {line.point.id: line for line in report.lines}


def parts(line) -> dict[str, float]:
    return {p.label: p.value for p in line.breakdown}


def assert_values(report: Report, expected: dict[str, float]) -> None:
    got = lines(report)
    for point, value in expected.items():
        line = got[point]
        assert line.status == REPORTED, (point, line.reason)
        assert line.value == pytest.approx(value, rel=1e-9, abs=1e-15), point


def assert_missing(report: Report, points: list[str]) -> None:
    """Missing lines: no value (never 0), a reason in English and in Chinese."""
    got = lines(report)
    for point in points:
        line = got[point]
        assert line.status == MISSING, point
        assert line.value is None, point
        assert line.reason.strip() and line.reason_zh.strip(), point
        assert any("\u4e00" <= ch <= "\u9fff" for ch in line.reason_zh), point


def assert_no_silent_zero(report: Report) -> None:
    for line in report.lines:
        if line.status != REPORTED:
            assert line.value is None and line.reason and line.reason_zh, line.point.id


# --- golden reports, one per framework -----------------------------------------------------------------------

def test_hkex(company):
    report = company.reports["hkex"]
    assert_values(report, {
        "A1.1.nox": 0.12 * 1000,                       # entered 0.12 t, reported in kg
        "A1.2.scope1": H["s1"],                        # 21.621 888 09 + 2.6
        "A1.2.scope2": H["s2l"],                       # 40.42 + 27.5 (location-based)
        "A1.2.intensity": H["s12l"] / H["units"],      # (24.22 + 67.92) t / 10 000 laptops
        "A1.3.total": 1.0,                             # SH02 1 t hazardous
        "A1.3.intensity": 1.0 * 1000 / H["units"],     # kg per laptop
        "A1.4.total": 10 + 5,                          # SZ01 board 10 t + landfill 5 000 kg
        "A1.4.intensity": 15 * 1000 / H["units"],
        "A2.1.total": H["energy"],
        "A2.1.intensity": H["energy"] / H["units"],
        "A2.2.total": 2.5 * 1000,                      # 2.5 megalitres = 2 500 m**3
        "A2.2.intensity": 2.5 * 1000 / H["units"],     # derived: no per-unit figure entered; 0.25 m**3 a laptop
        "A2.5.total": 10_000 * 0.8 / 1000,             # 10 000 units x 0.8 kg board = 8 t
        "A2.5.per_unit": 0.8,
        "D.GHG.scope1": H["s1"], "D.GHG.scope2": H["s2l"], "D.GHG.instruments": H["s2m"], "D.GHG.scope3": H["s3"],
        "D.metrics.capital": 800_000.0, "D.metrics.transition_risk": 0.15,
    })
    got = lines(report)
    assert parts(got["A2.1.by_type"]) == pytest.approx(
        {"fuels": H["fuels"], "grid electricity": H["grid"], "self-generated electricity": H["self"]}, rel=1e-9)
    assert got["D.governance"].value == "The board reviews climate risks twice a year."
    assert got["D.governance"].lineage["value_zh"] == "董事会每年两次审阅气候相关风险。"
    assert_missing(report, ["A1.1.sox", "A1.1.pm", "D.metrics.carbon_price", "A3.1"])
    assert "input.air.sox" in got["A1.1.sox"].reason
    assert_no_silent_zero(report)
    assert not report.errors   # Scope 1 and 2 (mandatory from FY2025) are reported


def test_issb_s2(company):
    report = company.reports["issb_s2"]
    assert_values(report, {
        "29(a)(i)(1)": H["s1"], "29(a)(i)(2)": H["s2l"], "29(a)(i)(3)": H["s3"],
        # consolidated group = SZ01 (financial control); investees = SH02 (40 %, operational control only)
        "29(a)(iv).scope1_consolidated": H["s1.SZ01"], "29(a)(iv).scope1_investees": H["s1.SH02"],
        "29(a)(iv).scope2_consolidated": H["s2l.SZ01"], "29(a)(iv).scope2_investees": H["s2l.SH02"],
        "29(a)(v).location": H["s2l"], "29(a)(v).instruments": 30.0, "29(a)(v).market": H["s2m"],
        "29(e)": 800_000.0, "29(b).share": 0.15,
        "35": H["progress"],
    })
    got = lines(report)
    assert parts(got["29(a)(vi).by_category"]) == pytest.approx({"1": H["s3.1"], "3": H["s3.3"], "5": H["s3.5"]},
                                                                rel=1e-9)
    assert "AR5" in got["29(a)(iii).gwp"].value
    missing_points = ["29(b).amount", "29(c).amount", "29(c).share", "29(f).price", "29(g).share", "34"]
    assert_missing(report, missing_points)
    assert_no_silent_zero(report)
    # the mandatory points not entered are errors that name them
    assert set(missing_points) <= {c.point for c in report.errors}
    assert "29(e)" not in {c.point for c in report.errors}


def test_ghgp(company):
    report = company.reports["ghgp"]
    assert_values(report, {
        "9.scope1": H["s1"], "9.scope2": H["s2l"], "9.per_gas": H["s1"], "9.base_year": BASE_YEAR,
        "9.base_year.emissions": H["base.s12l"], "9.opt.scope3": H["s3"], "9.opt.by_site": H["s1"],
        "9.opt.intensity": H["s12l"] / H["units"], "9.opt.reductions": 3.5,
        "S2G.location": H["s2l"], "S2G.market": H["s2m"],             # both Scope 2 methods
        "S2G.instruments": 30.0, "S2G.instruments_share": 30.0 / 150.0,
        "9.biogenic": 0.0,   # a reported zero: the inventory holds no biogenic CO2 row (no biomass fuel)
    })
    got = lines(report)
    # per gas: CO2 from the gas, HFCs from HFC-134a; the other Kyoto gases have no source (0 inside Scope 1)
    assert parts(got["9.per_gas"]) == pytest.approx(
        {"CO2": H["s1.co2"], "CH4": 0.0, "N2O": 0.0, "HFCs": H["s1.hfc"], "PFCs": 0.0, "SF6": 0.0, "NF3": 0.0},
        rel=1e-9)
    assert list(parts(got["9.per_gas"])) == ["CO2", "CH4", "N2O", "HFCs", "PFCs", "SF6", "NF3"]
    assert parts(got["9.opt.by_source"]) == pytest.approx(
        {"stationary": H["s1.co2"], "mobile": 0.0, "fugitive": H["s1.hfc"], "process": 0.0}, rel=1e-9)
    assert parts(got["9.opt.by_site"]) == pytest.approx({"SZ01": H["s1.SZ01"], "SH02": H["s1.SH02"]}, rel=1e-9)
    assert_missing(report, ["9.opt.credits"])
    assert_no_silent_zero(report)
    assert not report.errors


def test_gri(company):
    report = company.reports["gri"]
    assert_values(report, {
        "305-1.a": H["s1"], "305-2.a": H["s2l"], "305-2.b": H["s2m"], "305-3.a": H["s3"],
        "305-4.a": H["s12l"] / H["units"], "305-4.b": H["units"], "305-5.a": 3.5,
        "305-7.a.i": 120.0,                                      # 0.12 t NOx entered, GRI reports kg
        # GRI 302-1 in GJ = MWh x 3.6
        "302-1.a": H["fuels"] * 3.6,                             # = 389.31 GJ, the gas's NCV
        "302-1.b": 0.0,                                          # no biogenic fuel rows among the fuel rows
        "302-1.c.i": H["electricity"] * 3.6,                     # 168 MWh = 604.8 GJ
        "302-1.d": 2 * 3.6,                                      # 2 MWh of PV exported = 7.2 GJ
        "302-1.e": H["energy"] * 3.6,                            # 994.11 GJ
        "302-3.a": H["energy"] * 3.6 / H["units"],
    })
    got = lines(report)
    assert got["302-1.a"].value == pytest.approx(NCV_GJ_PER_WAN_NM3, rel=1e-12)
    assert parts(got["302-1.c.i"]) == pytest.approx({"grid electricity": 150 * 3.6,
                                                     "self-generated electricity": 18 * 3.6}, rel=1e-9)
    # no purchased heat rows: missing with the command that imports them
    assert_missing(report, ["302-1.c.ii-iv", "305-7.a.ii", "305-7.a.vi", "305-6.a"])
    assert "import" in got["302-1.c.ii-iv"].reason
    assert_no_silent_zero(report)


def test_cdp(company):
    report = company.reports["cdp"]
    assert_values(report, {
        "7.6": H["s1"],                                          # C7.6 gross Scope 1
        "7.7.location": H["s2l"], "7.7.market": H["s2m"],       # C7.7 both Scope 2 methods
        "7.8": H["s3"],
        "7.22.scope1_consolidated": H["s1.SZ01"], "7.22.scope1_investees": H["s1.SH02"],
        "7.22.scope2_market_consolidated": H["s2m.SZ01"], "7.22.scope2_market_investees": H["s2m.SH02"],
        "7.30.1.total": H["energy"], "7.30.1.fuel": H["fuels"], "7.30.1.electricity": H["grid"],
        "7.30.1.self_generated": H["self"], "7.30.1.renewable": H["renewable"], "7.30.14": 30.0,
        "7.45.location": H["s12l"] / H["revenue"], "7.45.market": H["s12m"] / H["revenue"],
        "7.45.unit": H["s12m"] / H["units"],
        "7.53.progress": H["progress"], "7.55": 3.5,
    })
    got = lines(report)
    assert parts(got["7.20.market"]) == pytest.approx({"SZ01": H["s2m.SZ01"], "SH02": H["s2m.SH02"]}, rel=1e-9)
    assert parts(got["7.20.location"]) == pytest.approx({"SZ01": H["s2l.SZ01"], "SH02": H["s2l.SH02"]}, rel=1e-9)
    assert parts(got["7.8"]) == pytest.approx({"1": H["s3.1"], "3": H["s3.3"], "5": H["s3.5"]}, rel=1e-9)
    assert_missing(report, ["7.30.1.heat"])
    assert_no_silent_zero(report)


def test_esrs_e1(company):
    report = company.reports["esrs_e1"]
    assert_values(report, {
        # E1-5 energy
        "37": H["energy"], "37(a)": H["fossil"], "37(b)": H["nuclear"], "37(c)": H["renewable"],
        "37(c)(i)": 0.0,                                         # no renewable fuels among the fuel rows
        "37(c)(ii)": 30.0,                                       # certificates retired for SZ01
        "37(c)(iii)": H["self"], "38": H["fuels"], "39": 20.0,  # PV generated (incl. exported)
        "AR 34.renewable_share": H["renewable"] / H["energy"],
        "40": H["energy"] / H["revenue"],
        # E1-6 GHG
        "48(a)": H["s1"], "49(a)": H["s2l"], "49(b)": H["s2m"],
        "50.scope1_consolidated": H["s1.SZ01"], "50.scope1_investees": H["s1.SH02"],
        "50.scope2_location_consolidated": H["s2l.SZ01"], "50.scope2_location_investees": H["s2l.SH02"],
        "50.scope2_market_consolidated": H["s2m.SZ01"], "50.scope2_market_investees": H["s2m.SH02"],
        "51": H["s3"], "44": H["total_l"], "52(b)": H["total_m"],
        "53.location": H["total_l"] / H["revenue"], "53.market": H["total_m"] / H["revenue"],
        "55": H["revenue"], "AR 45(d)": 30.0 / 150.0, "AR 47": H["base.s12l"],
    })
    got = lines(report)
    # the totals hold: 44 = 48(a) + 49(a) + 51, 52(b) = 48(a) + 49(b) + 51; E1-5 37 = fossil + nuclear + renewable
    # is not asserted: the renewable part of the grid mix itself is not counted as renewable
    assert got["44"].value == pytest.approx(got["48(a)"].value + got["49(a)"].value + got["51"].value, rel=1e-12)
    assert got["52(b)"].value == pytest.approx(got["48(a)"].value + got["49(b)"].value + got["51"].value, rel=1e-12)
    assert_missing(report, ["48(b)", "42", "43"])
    assert {"48(b)", "42", "43"} <= {c.point for c in report.errors}
    assert_no_silent_zero(report)


def test_cn_exchange(company):
    report = company.reports["cn_exchange"]
    assert_values(report, {
        "climate.ghg.scope1": H["s1"], "climate.ghg.scope2": H["s2l"], "climate.ghg.scope3": H["s3"],
        "climate.reductions": 3.5,
        # GB/T 2589: electricity 0.1229 kgce/kWh, fuels NCV / 29.3076 MJ/kgce
        "energy.total_tce": H["tce"],                            # 13.2836 + 20.6472 = 33.9308 tce
        "energy.total_mwh": H["energy"], "energy.renewable": H["renewable"],
        "energy.intensity": H["energy"] / H["units"],
        "water.consumption": 2500.0,
        "pollution.air.nox": 0.12,
        "waste.hazardous": 1.0, "waste.non_hazardous": 15.0, "waste.recycled_share": 10 / 16,
    })
    got = lines(report)
    tce = parts(got["energy.total_tce"])
    assert tce["fuels"] == pytest.approx(H["tce.fuels"], rel=1e-9)
    assert tce["electricity"] == pytest.approx(H["tce.electricity"], rel=1e-9)
    assert parts(got["climate.ghg.scope2_by_site"]) == pytest.approx({"SZ01": H["s2l.SZ01"], "SH02": H["s2l.SH02"]},
                                                                     rel=1e-9)
    assert got["climate.governance"].value == "The board reviews climate risks twice a year."
    assert_missing(report, ["pollution.air.sox", "pollution.air.pm", "water.withdrawal", "climate.carbon_market"])
    assert_no_silent_zero(report)


# --- every number traces to the ledger ---------------------------------------------------------------------------

def test_every_reported_number_is_computed_again_equal(company):
    checked = disclosure.verify(company.sessions, ORG, YEAR, list(company.reports.values()))
    bad = [v for v in checked if not v.ok]
    assert not bad, bad
    assert len(checked) > 120 and len({v.fact for v in checked}) > 50
    assert {v.framework for v in checked} == set(disclosure.FRAMEWORKS)
    numeric = [(r.framework.id, line.point.id) for r in company.reports.values() for line in r.lines
               if line.status == REPORTED and isinstance(line.value, (int, float)) and not isinstance(line.value, bool)]
    assert {(v.framework, v.point) for v in checked} == set(numeric)   # every reported number, none skipped
    assert all(v.recomputed is not None for v in checked)


# Facts that the 2025 SZ01 natural-gas CO2 row (the lowest emission id of the year) feeds.
FED_BY_THE_GAS_ROW = {
    "ghg.scope1", "ghg.scope1.consolidated", "ghg.scope1.by_gas", "ghg.scope1.by_site", "ghg.scope1.by_source",
    "ghg.total_location", "ghg.total_market", "ghg.intensity.scope12_location_per_unit",
    "ghg.intensity.scope12_market_per_unit", "ghg.intensity.scope12_location_per_revenue",
    "ghg.intensity.scope12_market_per_revenue", "ghg.intensity.total_location_per_revenue",
    "ghg.intensity.total_market_per_revenue", "targets.scope12_progress",
}


@contextmanager
def gas_row_raised_by_1_percent(sessions):
    """The year's lowest emission row (SZ01 natural-gas CO2) x 1.01 in the database, put back afterwards."""
    row_sql = ("SELECT min(e.id) FROM emissions e JOIN inventories i ON i.id = e.inventory_id "
               "JOIN organisations o ON o.id = i.organisation_id WHERE o.code = :org AND i.year = :year")
    with sessions.begin() as s:
        row_id = s.execute(text(row_sql), {"org": ORG, "year": YEAR}).scalar_one()
        original = s.execute(text("SELECT co2e_t FROM emissions WHERE id = :id"), {"id": row_id}).scalar_one()
        s.execute(text("UPDATE emissions SET co2e_t = co2e_t * 1.01 WHERE id = :id"), {"id": row_id})
    try:
        assert original == pytest.approx(H["s1.co2"], rel=1e-12)
        yield
    finally:
        with sessions.begin() as s:
            s.execute(text("UPDATE emissions SET co2e_t = :v WHERE id = :id"), {"v": original, "id": row_id})


def test_a_ledger_row_changed_after_the_reports_fails_verify(company):
    sessions, reports = company.sessions, list(company.reports.values())
    with gas_row_raised_by_1_percent(sessions):
        checked = disclosure.verify(sessions, ORG, YEAR, reports)
    bad = [v for v in checked if not v.ok]
    assert {v.fact for v in bad} == FED_BY_THE_GAS_ROW
    # the same difference in every framework that reports Scope 1
    scope1 = {(v.framework, v.point): v for v in bad if v.fact == "ghg.scope1"}
    assert set(scope1) == {("hkex", "A1.2.scope1"), ("hkex", "D.GHG.scope1"), ("issb_s2", "29(a)(i)(1)"),
                           ("ghgp", "9.scope1"), ("gri", "305-1.a"), ("cdp", "7.6"), ("esrs_e1", "48(a)"),
                           ("cn_exchange", "climate.ghg.scope1")}
    for v in scope1.values():
        assert v.reported == pytest.approx(H["s1"], rel=1e-9)
        assert v.recomputed == pytest.approx(H["s1"] + 0.01 * H["s1.co2"], rel=1e-9)
    # what the row does not feed still verifies
    ok = {v.fact for v in checked if v.ok}
    assert {"ghg.scope2_location", "ghg.scope2_market", "ghg.scope1.investees", "ghg.scope3", "energy.total",
            "input.air.nox"} <= ok
    # put back, everything verifies again
    assert all(v.ok for v in disclosure.verify(sessions, ORG, YEAR, reports))


def test_target_progress_is_computed_again_from_the_ledger(companies):
    company = companies("sqlite")
    with gas_row_raised_by_1_percent(company.sessions):
        checked = disclosure.verify(company.sessions, ORG, YEAR, [company.reports["issb_s2"]])
    progress = next(v for v in checked if v.point == "35")
    assert not progress.ok


# --- PDF ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hkex_pdf_rendered_to_png_shows_the_figures(companies, lang, tmp_path):
    pdfium = pytest.importorskip("pypdfium2")
    from PIL import Image

    from zerocarbon.io.disclosure import render
    from zerocarbon.io.disclosure.text import number_text

    report = companies("sqlite").reports["hkex"]
    data = render(report, "pdf", lang)
    assert data.startswith(b"%PDF")
    pdf = pdfium.PdfDocument(data)
    try:
        assert len(pdf) >= 2
        pages = []
        for i in range(len(pdf)):
            png = tmp_path / f"hkex_{lang}_{i + 1}.png"
            pdf[i].render(scale=1).to_pil().save(png)
            with Image.open(png) as image:
                assert image.width > 500 and image.height > 700
                grey = image.convert("L")
                dark = sum(grey.histogram()[:200])              # pixels that are not (near) white
                assert dark > 0.002 * image.width * image.height, png
            pages.append(pdf[i].get_textpage().get_text_range())
    finally:
        pdf.close()
    assert (tmp_path / f"hkex_{lang}_1.png").stat().st_size > 10_000
    content = "".join("".join(page.split()) for page in pages)   # text extraction breaks lines anywhere
    scope1, scope2 = number_text(H["s1"], "tCO2e"), number_text(H["s2l"], "tCO2e")
    assert (scope1, scope2) == ("24.22", "67.92")   # 2 decimals between 1 and 100
    assert scope1 in content and scope2 in content
    assert number_text(H["energy"], "MWh") == "276.1" and "276.1" in content
    point = lines(report)["A1.2.scope1"].point
    if lang == "zh":
        assert "".join(point.label_zh.split()) in content
        assert "范围一" in content or "温室气体" in content
        assert "缺失" in content            # missing lines are shown as such, with their reasons
    else:
        assert "Missing" in content and "input.air.sox" in content


# --- a company without an inventory ------------------------------------------------------------------------------

NOINV_YAML = """code: NOINV
name: A company without an inventory
sites:
  - {code: GZ01, name: Guangzhou, province: 广东, grid_region: south}
"""


def test_no_inventory_gives_missing_lines_never_zero_and_errors_name_the_points(company, tmp_path):
    path = tmp_path / "noinv.yaml"
    path.write_text(NOINV_YAML, encoding="utf-8")
    accounting.load_organisation_file(company.sessions, path, actor="test")
    reports = disclosure.build(company.sessions, "NOINV", YEAR)
    assert [r.framework.id for r in reports] == list(disclosure.FRAMEWORKS)
    for report in reports:
        ghg = [line for line in report.lines if line.point.fact.startswith("ghg.")]
        assert ghg, report.framework.id
        for line in ghg:
            assert line.status == MISSING and line.value is None, (report.framework.id, line.point.id)
            assert line.reason and line.reason_zh, (report.framework.id, line.point.id)
        assert_no_silent_zero(report)
        # nothing is reported as a number: no ledger, no activities, no inputs
        assert not [line for line in report.lines if line.status == REPORTED
                    and isinstance(line.value, (int, float)) and not isinstance(line.value, bool)], \
            report.framework.id
        missing_mandatory = {line.point.id for line in report.lines
                             if line.point.requirement == MANDATORY and line.status == MISSING}
        errors = {c.point: c for c in report.errors}
        assert missing_mandatory <= set(errors), report.framework.id
        for point in missing_mandatory:
            assert errors[point].message_zh, point
    by_id = {r.framework.id: r for r in reports}
    scope1 = lines(by_id["hkex"])["A1.2.scope1"]
    assert "inventory compute" in scope1.reason
    assert {"A1.2.scope1", "A1.2.scope2", "D.GHG.scope1", "D.GHG.scope2"} <= {c.point for c in by_id["hkex"].errors}
    assert {"9.scope1", "9.scope2", "S2G.location", "S2G.market"} <= {c.point for c in by_id["ghgp"].errors}
    assert {"29(a)(i)(1)", "29(a)(i)(2)"} <= {c.point for c in by_id["issb_s2"].errors}
    assert {"48(a)", "49(a)", "49(b)", "44"} <= {c.point for c in by_id["esrs_e1"].errors}
    assert "A1.2.scope1" in errors_text(by_id["hkex"])
    assert disclosure.verify(company.sessions, "NOINV", YEAR, reports) == []   # no number, nothing to trace


def errors_text(report: Report) -> str:
    return "\n".join(f"{c.point} {c.message}" for c in report.errors)
