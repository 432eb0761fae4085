"""The facts the platform computes for a year, each with the unit it is delivered in.

The catalogue (``data/disclosure/catalogue.csv``) answers every data point with one of these keys, or with a key
of the disclosure inputs a person enters: ``text.<name>`` (a narrative, unit TEXT) or ``input.<name>`` (a figure
with its unit, e.g. ``input.water.withdrawal`` in m3). Units are pint units of :mod:`zerocarbon.units`, a pseudo
unit of :mod:`zerocarbon.core.disclosure.model`, or ``tce`` (tonnes of standard coal equivalent, GB/T 2589,
reported by name: not converted).

Boundary: every GHG and energy fact is of the organisation's inventory boundary (operational control unless
another was computed); ``consolidated``/``investees`` split it by the sites' financial control.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FactSpec:
    unit: str
    label_en: str
    label_zh: str


def _f(unit: str, en: str, zh: str) -> FactSpec:
    return FactSpec(unit, en, zh)


T = "tCO2e"
MWH = "MWh"

FACTS: dict[str, FactSpec] = {
    # --- greenhouse gases, from the stored inventory ledger (gross: credits never netted) -----------------------
    "ghg.scope1": _f(T, "Gross Scope 1 emissions", "范围一温室气体排放总量"),
    "ghg.scope1.by_gas": _f(T, "Scope 1 by gas (CO2, CH4, N2O, HFCs, PFCs, SF6, NF3)", "范围一按气体"),
    "ghg.scope1.by_site": _f(T, "Scope 1 by site", "范围一按厂区"),
    "ghg.scope1.by_source": _f(T, "Scope 1 by source type (stationary, mobile, fugitive, process)", "范围一按排放源类型"),
    "ghg.scope1.consolidated": _f(T, "Scope 1 of the consolidated accounting group", "范围一(合并报表范围内)"),
    "ghg.scope1.investees": _f(T, "Scope 1 of other investees", "范围一(其他被投资方)"),
    "ghg.scope2_location": _f(T, "Gross Scope 2 emissions, location-based", "范围二排放(基于位置)"),
    "ghg.scope2_location.by_site": _f(T, "Scope 2 location-based by site", "范围二(基于位置)按厂区"),
    "ghg.scope2_location.consolidated": _f(T, "Scope 2 location-based, consolidated group", "范围二基于位置(合并范围内)"),
    "ghg.scope2_location.investees": _f(T, "Scope 2 location-based, other investees", "范围二基于位置(其他被投资方)"),
    "ghg.scope2_market": _f(T, "Gross Scope 2 emissions, market-based", "范围二排放(基于市场)"),
    "ghg.scope2_market.by_site": _f(T, "Scope 2 market-based by site", "范围二(基于市场)按厂区"),
    "ghg.scope2_market.consolidated": _f(T, "Scope 2 market-based, consolidated group", "范围二基于市场(合并范围内)"),
    "ghg.scope2_market.investees": _f(T, "Scope 2 market-based, other investees", "范围二基于市场(其他被投资方)"),
    "ghg.scope2.contractual_mwh": _f(MWH, "Electricity covered by contractual instruments (green certificates, "
                                          "green-power contracts), by instrument type",
                                     "合同工具(绿证、绿电交易)覆盖的电量,按工具类型"),
    "ghg.scope2.contractual_share": _f("fraction", "Share of purchased electricity covered by contractual instruments",
                                       "合同工具覆盖的外购电力占比"),
    "ghg.scope12_location": _f(T, "Scope 1 and 2 (location-based)", "范围一和范围二(基于位置)"),
    "ghg.scope12_market": _f(T, "Scope 1 and 2 (market-based)", "范围一和范围二(基于市场)"),
    "ghg.scope3": _f(T, "Gross Scope 3 emissions (categories evaluated)", "范围三排放总量(已评估类别)"),
    "ghg.scope3.by_category": _f(T, "Scope 3 by category (1-15)", "范围三按类别"),
    **{f"ghg.scope3.cat{n}": _f(T, f"Scope 3 category {n}", f"范围三类别{n}") for n in range(1, 16)},
    "ghg.total_location": _f(T, "Total GHG emissions, Scope 1 + 2 (location-based) + 3", "温室气体排放总量(基于位置)"),
    "ghg.total_market": _f(T, "Total GHG emissions, Scope 1 + 2 (market-based) + 3", "温室气体排放总量(基于市场)"),
    "ghg.biogenic_co2": _f("t", "Biogenic CO2, outside the scopes (tonnes of CO2)", "生物质CO2(范围外,吨)"),
    "ghg.intensity.scope12_location_per_unit": _f("tCO2e/unit", "Scope 1+2 (location) per unit produced",
                                                  "单位产品范围一和二排放(基于位置)"),
    "ghg.intensity.scope12_market_per_unit": _f("tCO2e/unit", "Scope 1+2 (market) per unit produced",
                                                "单位产品范围一和二排放(基于市场)"),
    "ghg.intensity.scope12_location_per_revenue": _f("tCO2e/CNY", "Scope 1+2 (location) per revenue",
                                                     "单位营业收入范围一和二排放(基于位置)"),
    "ghg.intensity.scope12_market_per_revenue": _f("tCO2e/CNY", "Scope 1+2 (market) per revenue",
                                                   "单位营业收入范围一和二排放(基于市场)"),
    "ghg.intensity.total_location_per_revenue": _f("tCO2e/CNY", "Total GHG (location) per net revenue",
                                                   "单位营业收入温室气体排放总量(基于位置)"),
    "ghg.intensity.total_market_per_revenue": _f("tCO2e/CNY", "Total GHG (market) per net revenue",
                                                 "单位营业收入温室气体排放总量(基于市场)"),
    "ghg.base_year": _f("year", "Base year", "基准年"),
    "ghg.base_year.scope12_location": _f(T, "Base-year Scope 1+2 (location), as recalculated",
                                         "基准年范围一和二排放(基于位置,经重新计算)"),
    "ghg.base_year.scope12_market": _f(T, "Base-year Scope 1+2 (market), as recalculated",
                                       "基准年范围一和二排放(基于市场,经重新计算)"),
    "ghg.base_year.recalculations": _f("text", "Base-year recalculations and their reasons", "基准年重新计算及原因"),
    "ghg.credits_retired": _f(T, "Carbon credits retired for the year (outside the gross figures)",
                              "本年度注销的碳信用(不抵扣总排放)"),
    # --- how the inventory was made ---------------------------------------------------------------------------
    "meta.period": _f("text", "Reporting period", "报告期"),
    "meta.entities": _f("text", "Sites in the boundary, with equity share and control", "边界内厂区(股权比例与控制权)"),
    "meta.consolidation_approach": _f("text", "Consolidation approach", "合并方法"),
    "meta.standard": _f("text", "Standards and methods used", "所用标准与方法"),
    "meta.gwp_set": _f("text", "GWP values (IPCC assessment report, 100-year)", "全球变暖潜势值来源"),
    "meta.factor_sources": _f("text", "Emission-factor sources and editions", "排放因子来源与版本"),
    "meta.gases": _f("text", "Gases included", "包含的温室气体"),
    "meta.exclusions": _f("text", "Sources, facilities or operations excluded", "排除的排放源、设施或业务"),
    "meta.scope3_categories": _f("text", "Scope 3 categories evaluated, and those not", "已评估与未评估的范围三类别"),
    # --- energy, from the activity rows (fuels at net calorific value) -----------------------------------------
    "energy.total": _f(MWH, "Total energy consumption within the organisation", "组织内能源消耗总量"),
    "energy.by_carrier": _f(MWH, "Energy consumption by carrier", "能源消耗按能源品种"),
    "energy.fuels": _f(MWH, "Fuel consumption (net calorific value), by fuel", "燃料消耗(低位发热量),按燃料"),
    "energy.fuels.fossil": _f(MWH, "Fossil fuel consumption", "化石燃料消耗"),
    "energy.fuels.renewable": _f(MWH, "Renewable fuel consumption (biomass)", "可再生燃料消耗(生物质)"),
    "energy.electricity": _f(MWH, "Electricity consumption (grid and self-generated)", "电力消耗(电网与自发)"),
    "energy.electricity.grid": _f(MWH, "Purchased grid electricity", "外购电网电力"),
    "energy.electricity.self_generated": _f(MWH, "Self-generated renewable electricity consumed (PV)",
                                            "自发自用可再生电力(光伏)"),
    "energy.heat": _f(MWH, "Purchased heat and steam", "外购热力与蒸汽"),
    "energy.renewable": _f(MWH, "Renewable energy consumption", "可再生能源消耗"),
    "energy.renewable.purchased": _f(MWH, "Purchased renewable electricity (contractual instruments)",
                                     "外购可再生电力(合同工具)"),
    "energy.renewable_share": _f("fraction", "Renewable share of energy consumption", "可再生能源消耗占比"),
    "energy.electricity.renewable_share": _f("fraction", "Renewable share of electricity consumption",
                                             "可再生电力占比"),
    "energy.fossil": _f(MWH, "Energy consumption from fossil sources", "化石能源消耗"),
    "energy.nuclear": _f(MWH, "Energy consumption from nuclear sources", "核能消耗"),
    "energy.produced.renewable": _f(MWH, "Renewable energy produced (PV generation)", "可再生能源生产量(光伏发电)"),
    "energy.sold": _f(MWH, "Energy sold (electricity exported)", "售出能源(上网电量)"),
    "energy.total_tce": _f("tce", "Comprehensive energy consumption (GB/T 2589, electricity at its calorific "
                                  "equivalent)", "综合能源消费量(GB/T 2589,电力按当量值)"),
    "energy.intensity.per_unit": _f("MWh/unit", "Energy per unit produced", "单位产品能耗"),
    "energy.intensity.per_revenue": _f("MWh/CNY", "Energy per revenue", "单位营业收入能耗"),
    # --- denominators ---------------------------------------------------------------------------------------------
    "production.units": _f("unit", "Units produced", "产品产量"),
    "finance.revenue": _f("CNY", "Revenue", "营业收入"),
    # --- waste and packaging, from the activity rows -------------------------------------------------------------
    "waste.total": _f("t", "Waste generated", "废弃物产生总量"),
    "waste.hazardous": _f("t", "Hazardous waste produced", "有害废弃物总量"),
    "waste.non_hazardous": _f("t", "Non-hazardous waste produced", "无害废弃物总量"),
    "waste.hazardous_per_unit": _f("kg/unit", "Hazardous waste per unit produced", "单位产品有害废弃物"),
    "waste.non_hazardous_per_unit": _f("kg/unit", "Non-hazardous waste per unit produced", "单位产品无害废弃物"),
    "waste.recycled_share": _f("fraction", "Share of waste recycled or composted", "废弃物回收利用率"),
    "packaging.total": _f("t", "Packaging material used for finished products", "制成品所用包装材料总量"),
    "packaging.per_unit": _f("kg/unit", "Packaging material per unit produced", "单位产品包装材料"),
    # --- targets and claims -----------------------------------------------------------------------------------------
    "targets.summary": _f("text", "Emission and energy targets: scope, base year, target year, reduction, progress",
                          "减排与能源目标:范围、基准年、目标年、降幅、进展"),
    "targets.scope12_progress": _f("fraction", "Scope 1+2 reduction achieved against the base year",
                                   "范围一和二相对基准年的已实现降幅"),
    "claims.summary": _f("text", "Carbon-neutrality claims and the credits behind them", "碳中和声明及所用碳信用"),
}


def unit_of(key: str) -> str | None:
    """The unit a computed fact is delivered in; None for an input key (its unit is the one entered)."""
    spec = FACTS.get(key)
    return None if spec is None else spec.unit


def is_input_key(key: str) -> bool:
    return key.startswith(("text.", "input."))
