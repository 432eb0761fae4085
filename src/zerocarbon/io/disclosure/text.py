"""What every format says the same way: the fixed labels in English and Chinese, how a value is written in the
point's unit, and the lineage of a line laid out as rows.

Numbers are rounded for display only (the XLSX cell and the iXBRL fact keep the full value or state the
precision shown): 1 decimal from 100 up, 2 from 1 up, below that 3 significant digits; a fraction is a percentage
with 1 decimal.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from zerocarbon.core.disclosure.model import (
    BOOL, FRACTION, MISSING, NOT_APPLICABLE, REPORTED, TEXT, YEAR, Report, ReportLine,
)

LANGS = ("en", "zh")

LABELS: dict[str, tuple[str, str]] = {
    "report": ("Disclosure report", "信息披露报告"),
    "organisation": ("Organisation", "组织"),
    "org_code": ("Organisation code", "组织代码"),
    "year": ("Reporting year", "报告年度"),
    "framework": ("Framework", "披露框架"),
    "edition": ("Edition", "版本"),
    "generated_at": ("Generated at (UTC)", "生成时间(UTC)"),
    "fingerprint": ("Fingerprint of the facts (SHA-256)", "数据指纹(SHA-256)"),
    "basis": ("Basis of preparation", "编制基础"),
    "contents": ("Contents", "目录"),
    "id": ("ID", "编号"),
    "datum": ("Data point", "披露项"),
    "datum_en": ("Data point (English)", "披露项(英文)"),
    "datum_zh": ("Data point (Chinese)", "披露项(中文)"),
    "value": ("Value", "数值"),
    "unit": ("Unit", "单位"),
    "prior": ("Prior year", "上一年度"),
    "change": ("Change", "变动"),
    "restated": ("Restated", "已重述"),
    "restatement": ("Restatement", "重述说明"),
    "status": ("Status", "状态"),
    "reason": ("Reason", "原因"),
    "reason_en": ("Reason (English)", "原因(英文)"),
    "reason_zh": ("Reason (Chinese)", "原因(中文)"),
    "requirement": ("Requirement", "披露要求"),
    "published_prior": ("As published last year", "上年已披露数"),
    "breakdown": ("Breakdown", "细分"),
    "checks": ("Checks before publication", "发布前检查"),
    "no_checks": ("No check raised anything.", "所有检查均已通过。"),
    "level": ("Level", "级别"),
    "kind": ("Check", "检查类型"),
    "point": ("Data point", "披露项"),
    "message": ("Message", "说明"),
    "lineage": ("Lineage of the figures", "数据溯源"),
    "lineage_intro": ("Where each figure comes from: the fact, the stored-ledger filter or the input source, the "
                      "files with their SHA-256, and the emission factors.",
                      "每项数据的来源:事实键、台账筛选条件或录入来源、源文件及其SHA-256、排放因子。"),
    "fact": ("Fact key", "事实键"),
    "source": ("Source", "来源"),
    "filter": ("Ledger filter", "台账筛选条件"),
    "inventory": ("Inventory", "排放清单"),
    "files": ("Files (SHA-256)", "源文件(SHA-256)"),
    "factors": ("Emission factors", "排放因子"),
    "derived_from": ("Derived from", "计算依据"),
    "other": ("Other", "其他"),
    "back": ("back to the table", "返回表格"),
    "charts": ("Charts", "图表"),
    "chart_scopes": ("Scope 1, 2 and 3 emissions, this year and prior year", "范围一、二、三排放:本年度与上一年度"),
    "chart_energy": ("Energy consumption by carrier", "能源消耗按能源品种"),
    "this_year": ("this year", "本年度"),
    "prior_year": ("prior year", "上一年度"),
    "scope1": ("Scope 1", "范围一"),
    "scope2_location": ("Scope 2 (location)", "范围二(基于位置)"),
    "scope2_market": ("Scope 2 (market)", "范围二(基于市场)"),
    "scope3": ("Scope 3", "范围三"),
    "no_chart_data": ("No figure reported for this chart.", "本图无已披露数据。"),
    "not_in_chart": ("Not drawn (no figure): ", "未绘制(无数据):"),
    "no_prior": ("no prior-year figure", "无上年数据"),
    "prior_same_text": ("as this year", "与本年相同"),
    "prior_other_text": ("worded differently", "表述与本年不同"),
    "yes": ("Yes", "是"),
    "no": ("No", "否"),
    "page": ("Page", "第"),
    "checks_summary": ("{errors} errors, {warnings} warnings, {infos} notes",
                       "{errors} 项错误,{warnings} 项警告,{infos} 项提示"),
    "untagged_note": ("Figures without an XBRL element, and data points not reported, are shown untagged.",
                      "无XBRL元素的数据及未披露的披露项不作标记。"),
    # status, level and requirement words
    REPORTED: ("Reported", "已披露"),
    MISSING: ("Missing", "缺失"),
    NOT_APPLICABLE: ("Not applicable", "不适用"),
    "error": ("Error", "错误"),
    "warning": ("Warning", "警告"),
    "info": ("Note", "提示"),
    "completeness": ("Completeness", "完整性"),
    "consistency": ("Consistency", "一致性"),
    "mandatory": ("Mandatory", "强制披露"),
    "comply_or_explain": ("Comply or explain", "不遵守就解释"),
    "voluntary": ("Voluntary", "自愿披露"),
}


# The catalogue's section headings in Chinese, in the frameworks' own Chinese wording where one is published:
# HKEX 《环境、社会及管治报告守则》, the GRI standards' Chinese edition, the exchanges' 《上市公司可持续发展报告指引》,
# the Chinese translation of IFRS S2.
SECTION_ZH: dict[str, str] = {
    # CDP climate change questionnaire
    "Biogenic carbon": "生物源碳",
    "Consolidated group and other entities": "合并集团及其他实体",
    "Emission reduction initiatives": "减排举措",
    "Emissions intensity": "排放强度",
    "Energy": "能源",
    "Scope 1 breakdown": "范围一排放细分",
    "Scope 1 emissions": "范围一排放",
    "Scope 2 breakdown": "范围二排放细分",
    "Scope 2 emissions": "范围二排放",
    "Scope 3 emissions": "范围三排放",
    "Targets": "目标",
    # Shanghai, Shenzhen and Beijing stock exchanges
    "Climate: carbon markets": "应对气候变化:碳排放权交易",
    "Climate: governance": "应对气候变化:治理",
    "Climate: metrics": "应对气候变化:指标",
    "Climate: reductions": "应对气候变化:温室气体减排",
    "Climate: risk management": "应对气候变化:影响、风险和机遇管理",
    "Climate: strategy": "应对气候变化:战略",
    "Climate: targets": "应对气候变化:目标",
    "Pollution: air": "污染防治:大气污染物",
    "Pollution: waste": "污染防治:废弃物",
    "Resources: circular economy": "资源利用:循环经济",
    "Resources: energy": "资源利用:能源利用",
    "Resources: water": "资源利用:水资源利用",
    # ESRS E1
    "E1-5 Energy consumption and mix": "E1-5 能源消耗及结构",
    "E1-5 Energy intensity": "E1-5 能源强度",
    "E1-6 GHG intensity": "E1-6 温室气体排放强度",
    "E1-6 Gross Scopes 1, 2, 3 and total GHG emissions": "E1-6 范围一、二、三温室气体排放总量及温室气体排放合计",
    "E1-6 application requirements": "E1-6 应用要求",
    # GHG Protocol Corporate Standard and Scope 2 Guidance
    "Optional information": "可选报告信息",
    "Required: company and inventory boundary": "必须报告:公司及清单边界",
    "Required: information on emissions": "必须报告:排放信息",
    "Scope 2 Guidance: dual reporting": "范围二指南:双重报告",
    # GRI 302 and 305
    "302-1 Energy consumption within the organization": "302-1 组织内部的能源消耗量",
    "302-3 Energy intensity": "302-3 能源强度",
    "305-1 Direct (Scope 1) GHG emissions": "305-1 直接(范围1)温室气体排放",
    "305-2 Energy indirect (Scope 2) GHG emissions": "305-2 能源间接(范围2)温室气体排放",
    "305-3 Other indirect (Scope 3) GHG emissions": "305-3 其他间接(范围3)温室气体排放",
    "305-4 GHG emissions intensity": "305-4 温室气体排放强度",
    "305-5 Reduction of GHG emissions": "305-5 温室气体减排量",
    "305-6 Emissions of ozone-depleting substances (ODS)": "305-6 臭氧消耗物质(ODS)的排放",
    "305-7 NOx, SOx and other significant air emissions": "305-7 氮氧化物(NOx)、硫氧化物(SOx)和其他重大气体排放",
    # HKEX Environmental, Social and Governance Reporting Code
    "A1 Emissions": "A1 排放物",
    "A2 Use of resources": "A2 资源使用",
    "A3 Environment and natural resources": "A3 环境及天然资源",
    "Part B Reporting boundary": "B部分 汇报范围",
    "Part B Reporting principles": "B部分 汇报原则",
    "Part D Governance": "D部分 管治",
    "Part D Metrics and targets": "D部分 指标及目标",
    "Part D Metrics: GHG emissions": "D部分 指标:温室气体排放",
    "Part D Metrics: cross-industry": "D部分 指标:跨行业指标",
    "Part D Risk management": "D部分 风险管理",
    "Part D Strategy": "D部分 策略",
    # IFRS S2
    "Climate-related targets": "气候相关目标",
    "Metrics: GHG emissions": "指标:温室气体排放",
    "Metrics: cross-industry": "指标:跨行业指标",
}


def section_label(section: str, lang: str) -> str:
    """The section heading in ``lang``; a section without a Chinese heading keeps its English one."""
    if lang == "zh":
        return SECTION_ZH.get(section, section)
    return section


def t(key: str, lang: str) -> str:
    """The fixed label ``key`` in ``lang`` (en or zh); an unknown key is returned as it is."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "zh" else pair[0]


def both(key: str) -> str:
    """``English / 中文`` for bilingual headers (XLSX, iXBRL)."""
    en, zh = LABELS[key]
    return f"{en} / {zh}"


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: choose one of {', '.join(LANGS)}")
    return lang


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def decimals(value: float, unit: str) -> int:
    """Decimal places shown for ``value`` [in ``unit``]; for a fraction, of the fraction itself (0.184 shown as
    18.4 % has 3)."""
    if unit == FRACTION:
        return 3
    if unit == YEAR or isinstance(value, int):
        return 0
    size = abs(value)
    if size >= 100 or size == 0:
        return 1
    if size >= 1:
        return 2
    return max(2, 2 - math.floor(math.log10(size)))


def number_text(value: float, unit: str) -> str:
    """The number as shown (thousands separated, dot decimal); fractions as a percentage without the sign."""
    if unit == YEAR:
        return str(int(value))
    places = decimals(value, unit)
    if unit == FRACTION:
        return f"{value * 100:,.{max(places - 2, 0)}f}"
    return f"{value:,.{places}f}"


def unit_text(unit: str, lang: str = "en") -> str:
    """The unit as printed beside a number: ``%`` for a fraction, nothing for text, year and yes/no."""
    if unit == FRACTION:
        return "%"
    if unit in (TEXT, YEAR, BOOL):
        return ""
    # pint's spelling of powers (m**3, m^3) as a reader writes them
    return unit.replace("**3", "³").replace("^3", "³").replace("**2", "²").replace("^2", "²")


def value_text(value, unit: str, lang: str) -> str:
    """A value as shown in a table cell (number with its unit symbol for fractions only; words for booleans)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return t("yes" if value else "no", lang)
    if is_number(value):
        text = number_text(value, unit)
        return f"{text} %" if unit == FRACTION else text
    return str(value)


def change_text(change: float | None) -> str:
    if change is None or not is_number(change):
        return ""
    return f"{change * 100:+,.1f} %"


def prior_text(line: ReportLine, lang: str) -> str:
    if line.prior is None:
        return t("no_prior", lang)
    if isinstance(line.prior, str):  # a narrative: whether it changed, not last year's text again
        return t("prior_same_text" if line.prior == line.value else "prior_other_text", lang)
    return value_text(line.prior, line.point.unit, lang)


def reason(line: ReportLine, lang: str) -> str:
    """Why a line has no value, in ``lang`` (falls back to the other language rather than to nothing)."""
    if lang == "zh":
        return line.reason_zh or line.reason
    return line.reason or line.reason_zh


def label(line: ReportLine, lang: str) -> str:
    return line.point.label_zh if lang == "zh" and line.point.label_zh else line.point.label_en


def part_label(part, lang: str) -> str:
    return part.label_zh if lang == "zh" and part.label_zh else part.label


def sections(report: Report) -> list[tuple[str, list[ReportLine]]]:
    """The report's lines grouped by section, in the order the sections first appear."""
    out: dict[str, list[ReportLine]] = {}
    for line in report.lines:
        out.setdefault(line.point.section, []).append(line)
    return list(out.items())


def anchor(line: ReportLine, index: int) -> str:
    """A document-unique id for the lineage entry of ``line`` (the ``index``-th line of the report)."""
    return f"lineage-{index}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", line.point.id).strip("-")


@dataclass(frozen=True)
class LineageRows:
    """The lineage of one line as label/text pairs; ``files`` are (file name, SHA-256, kind, rows)."""

    fact: str
    source: str
    filter: str
    inventory: str
    files: list[tuple[str, str, str, str]]
    factors: list[str]
    derived_from: str
    other: str


_KNOWN = {"source", "rows", "filter", "inventory", "batches", "factors", "derived_from", "formula"}


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def lineage_rows(line: ReportLine) -> LineageRows:
    lin = line.lineage or {}
    flt = lin.get("filter") or {}
    inv = lin.get("inventory") or {}
    inventory = ", ".join(f"{k}={inv[k]}" for k in ("year", "boundary", "factor_set", "fingerprint", "computed_at")
                          if inv.get(k) not in (None, ""))
    files = []
    for batch_id, batch in sorted((lin.get("batches") or {}).items()):
        batch = batch if isinstance(batch, dict) else {"source": str(batch)}
        files.append((f"{batch.get('source', '')} [{batch_id}]", str(batch.get("sha256", "")),
                      str(batch.get("kind", "")), str(batch.get("rows", ""))))
    derived = ", ".join(lin.get("derived_from") or [])
    if lin.get("formula"):
        derived = f"{lin['formula']}" + (f" ({derived})" if derived and derived not in lin["formula"] else "")
    other = {k: v for k, v in lin.items() if k not in _KNOWN}
    return LineageRows(
        fact=line.point.fact,
        source=str(lin.get("source", "")) + (f" ({lin['rows']} rows)" if lin.get("rows") not in (None, "") else ""),
        filter=", ".join(f"{k}={v}" for k, v in sorted(flt.items())) if isinstance(flt, dict) else str(flt),
        inventory=inventory, files=files, factors=[str(f) for f in lin.get("factors") or []],
        derived_from=derived, other=_json(other) if other else "")


def has_lineage(line: ReportLine) -> bool:
    return bool(line.lineage) or line.status == REPORTED
