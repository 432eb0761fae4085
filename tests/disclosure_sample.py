"""A small report built by hand from the nouns of ``core.disclosure.model``, for the renderers' tests.

The figures are those of a laptop maker's two Chinese plants (Kunshan, Chongqing): Scope 1 by gas, both Scope 2
methods, energy in MWh and in GJ, a narrative, a data point that cannot be answered (with its reasons in English
and Chinese), a prior year that was restated, and one check of each level.
"""
from __future__ import annotations

from zerocarbon.core.disclosure.model import (
    BOOL, COMPLY_OR_EXPLAIN, FRACTION, MANDATORY, MISSING, REPORTED, TEXT, VOLUNTARY, Check, DataPoint,
    Framework, Part, Report, ReportLine,
)

INVENTORY = {"year": 2025, "boundary": "operational_control", "factor_set": "CN-2025.1",
             "fingerprint": "9f2c4d1e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d",
             "computed_at": "2026-02-03T08:15:00Z"}
FUEL_BATCH = {"b-0007": {"source": "fuel_2025_kunshan.xlsx", "kind": "fuel", "rows": 412,
                         "sha256": "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"}}
POWER_BATCH = {"b-0009": {"source": "电费_2025.csv", "kind": "electricity", "rows": 24,
                          "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}

SCOPE1 = 12345.6
SCOPE1_GASES = (Part("CO2", 11800.2), Part("CH4", 12.4), Part("N2O", 33.0), Part("HFCs", 500.0))

FRAMEWORKS = {
    "hkex": Framework("hkex", "HKEX ESG Reporting Code (Appendix C2)", "香港交易所《环境、社会及管治报告守则》(附录C2)",
                      "2025", "HKEX Main Board Listing Rules, Appendix C2 (2025)"),
    "issb_s2": Framework("issb_s2", "IFRS S2 Climate-related Disclosures", "国际财务报告可持续披露准则第2号——气候相关披露",
                         "2023", "IFRS S2 (June 2023)",
                         taxonomy="https://xbrl.ifrs.org/taxonomy/2024-04-26/ifrs_sds_entry_point_2024-04-26.xsd",
                         namespace="https://xbrl.ifrs.org/taxonomy/2024-04-26/ifrs-sds", prefix="ifrs-sds"),
    "esrs_e1": Framework("esrs_e1", "ESRS E1 Climate change", "欧洲可持续发展报告准则E1 气候变化", "Set 1 (2023)",
                         "Commission Delegated Regulation (EU) 2023/2772",
                         taxonomy="https://xbrl.efrag.org/taxonomy/esrs/2023-12-22/esrs_all.xsd",
                         namespace="https://xbrl.efrag.org/taxonomy/esrs/2023-12-22", prefix="esrs"),
}

# Element names per framework for the numeric points (the catalogue's xbrl column); hkex has no taxonomy.
ELEMENTS = {
    "esrs_e1": {"s1": "esrs:GrossScope1GreenhouseGasEmissions",
                "s2l": "esrs:GrossLocationBasedScope2GreenhouseGasEmissions",
                "s2m": "esrs:GrossMarketBasedScope2GreenhouseGasEmissions",
                "s3": "esrs:GrossScope3GreenhouseGasEmissions",
                "energy": "esrs:TotalEnergyConsumptionRelatedToOwnOperations",
                "share": "esrs:PercentageOfRenewableSourcesInTotalEnergyConsumption",
                "text": "esrs:DisclosureOfTransitionPlanForClimateChangeMitigationExplanatory"},
    "issb_s2": {"s1": "ifrs-sds:GrossScope1GreenhouseGasEmissions",
                "s2l": "ifrs-sds:GrossLocationbasedScope2GreenhouseGasEmissions",
                "s3": "ifrs-sds:GrossScope3GreenhouseGasEmissions",
                "text": "ifrs-sds:DescriptionOfClimaterelatedTransitionPlanExplanatory"},
}


def _point(fw: str, id: str, section: str, en: str, zh: str, unit: str, fact: str, requirement: str = MANDATORY,
           element: str = "") -> DataPoint:
    return DataPoint(fw, id, section, en, zh, unit, fact, requirement, xbrl=ELEMENTS.get(fw, {}).get(element, ""),
                     confidence="verified", source="sample")


def sample_report(framework: str = "hkex") -> Report:
    """A report of framework ``framework`` (hkex, issb_s2 or esrs_e1) for 2025 with the prior year 2024."""
    fw = FRAMEWORKS[framework]
    ghg, energy, gov = ("A1 排放物 Emissions", "A2 资源使用 Use of resources", "Governance 管治")
    p = lambda *a, **k: _point(framework, *a, **k)  # noqa: E731
    lines = [
        ReportLine(p("A1.2-s1", ghg, "Gross Scope 1 emissions", "范围一温室气体排放总量", "tCO2e", "ghg.scope1",
                     element="s1"),
                   SCOPE1, REPORTED, breakdown=SCOPE1_GASES,
                   lineage={"source": "ledger", "filter": {"scope": 1}, "inventory": INVENTORY, "batches": FUEL_BATCH,
                            "factors": ["CN-2025.1:natural_gas_ncv", "CN-2025.1:diesel_ncv", "IPCC-AR5:HFC-134a"],
                            "rows": 412},
                   prior=13010.4, published_prior=13010.4, change=(SCOPE1 - 13010.4) / 13010.4),
        ReportLine(p("A1.2-s2l", ghg, "Gross Scope 2 emissions, location-based", "范围二排放(基于位置)", "tCO2e",
                     "ghg.scope2_location", element="s2l"),
                   45210.75, REPORTED,
                   lineage={"source": "ledger", "filter": {"scope": 2, "method": "location"}, "inventory": INVENTORY,
                            "batches": POWER_BATCH, "factors": ["CN-2025.1:grid_east_china_2023"], "rows": 24},
                   prior=47002.1, published_prior=46500.0, restated=True,
                   restatement="The 2024 grid factor was replaced by the 2023 national average published in 2025.",
                   change=(45210.75 - 47002.1) / 47002.1),
        ReportLine(p("A1.2-s2m", ghg, "Gross Scope 2 emissions, market-based", "范围二排放(基于市场)", "tCO2e",
                     "ghg.scope2_market", element="s2m"),
                   30100.0, REPORTED,
                   lineage={"source": "ledger", "filter": {"scope": 2, "method": "market"}, "inventory": INVENTORY,
                            "batches": POWER_BATCH, "factors": ["CN-2025.1:residual_mix_2023"]},
                   prior=None, change=None),
        ReportLine(p("A1.2-s3", ghg, "Gross Scope 3 emissions (categories evaluated)", "范围三排放总量(已评估类别)",
                     "tCO2e", "ghg.scope3", COMPLY_OR_EXPLAIN, element="s3"),
                   None, MISSING,
                   reason="No Scope 3 category has been evaluated for 2025: import purchased goods or logistics "
                          "activities first.",
                   reason_zh="2025年尚未评估任何范围三类别:请先导入采购商品或物流活动数据。",
                   lineage={"source": "ledger", "filter": {"scope": 3}}),
        ReportLine(p("A2.1-mwh", energy, "Total energy consumption", "能源消耗总量", "MWh", "energy.total",
                     element="energy"),
                   88640.25, REPORTED,
                   breakdown=(Part("electricity", 70200.0, "电力"), Part("natural_gas", 16940.25, "天然气"),
                              Part("diesel", 1500.0, "柴油")),
                   lineage={"source": "activities", "batches": {**FUEL_BATCH, **POWER_BATCH},
                            "derived_from": ["energy.electricity", "energy.fuels"],
                            "formula": "energy.electricity + energy.fuels"},
                   prior=90120.0, change=(88640.25 - 90120.0) / 90120.0),
        ReportLine(p("A2.1-gj", energy, "Total energy consumption (GJ)", "能源消耗总量(吉焦)", "GJ", "energy.total",
                     VOLUNTARY),
                   319104.9, REPORTED, lineage={"source": "activities", "batches": {**FUEL_BATCH, **POWER_BATCH}},
                   prior=324432.0, change=(319104.9 - 324432.0) / 324432.0),
        ReportLine(p("A2.1-re", energy, "Renewable share of energy consumption", "可再生能源消耗占比", FRACTION,
                     "energy.renewable_share", VOLUNTARY, element="share"),
                   0.184, REPORTED, lineage={"source": "derived", "derived_from": ["energy.renewable", "energy.total"],
                                             "formula": "energy.renewable / energy.total"},
                   prior=0.121, change=(0.184 - 0.121) / 0.121),
        ReportLine(p("B-plan", gov, "Climate transition plan", "气候转型计划", TEXT, "text.transition_plan",
                     COMPLY_OR_EXPLAIN, element="text"),
                   "Both plants move to green-power contracts by 2030 & replace gas boilers with heat pumps <2028>.",
                   REPORTED, lineage={"source": "inputs", "entered_by": "esg@example.cn",
                                      "document": "Board minutes 2025-11-20"}),
        ReportLine(p("B-lca", gov, "Product carbon footprints published", "是否发布产品碳足迹", BOOL, "input.pcf",
                     VOLUNTARY),
                   True, REPORTED, lineage={"source": "inputs", "document": "PCF register"}),
    ]
    checks = [
        Check("completeness", "error", "A1.2-s3", "Mandatory point A1.2-s3 is missing.",
              "强制披露项 A1.2-s3 缺失。"),
        Check("change", "warning", "A2.1-re", "Renewable share changed by +52.1 % from 2024: explain the change.",
              "可再生能源占比较2024年变化 +52.1%:请说明原因。"),
        Check("change", "info", "A1.2-s2l", "2024 restated: the grid factor was replaced.",
              "2024年数据已重述:电网排放因子已更换。"),
    ]
    return Report(fw, "LAPTOPCO", "华科电脑股份有限公司 Huake Computer Ltd.", 2025, lines, checks,
                  generated_at="2026-03-01T09:30:00Z",
                  fingerprint="c0ffee00d15c105e0123456789abcdef0123456789abcdef0123456789abcdef",
                  meta={"consolidation_approach": "operational control", "factor_set": "CN-2025.1",
                        "gwp_set": "IPCC AR5", "period": "2025-01-01/2025-12-31", "base_year": 2021})
