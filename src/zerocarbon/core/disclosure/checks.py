"""The checks a report passes before it is published, each with a message in English and Chinese that names the
data point and says what to do.

- completeness: a mandatory data point missing is an error (publishing is refused); a comply-or-explain point
  missing is a warning (disclose it or explain why not); a voluntary one is information.
- consistency: breakdowns add up to their total (relative 1e-6); Scope 1 + Scope 2 = Scope 1 and 2; Scope 1 + 2
  + 3 = total; both Scope 2 methods are present (GHG Protocol Scope 2 Guidance, ch. 7.1: dual reporting); an
  intensity has its denominator reported, and equals numerator / denominator.
- change: a year-on-year change above 10 % asks for an explanation; a restated prior year is shown with its
  reason.

A consistency check runs when the report uses one of the facts it relates: a framework that does not ask for
Scope 3 is not held to the Scope 3 sum.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

from zerocarbon.core.disclosure.model import (COMPLY_OR_EXPLAIN, MANDATORY, MISSING, NOT_APPLICABLE, Check, Fact,
                                              Report, ReportLine)
from zerocarbon.core.disclosure.report import converter

ERROR, WARNING, INFO = "error", "warning", "info"
LEVELS = (ERROR, WARNING, INFO)
COMPLETENESS, CONSISTENCY, CHANGE = "completeness", "consistency", "change"
TOLERANCE = 1e-6            # relative: a breakdown or a sum that misses its total by more is inconsistent
CHANGE_THRESHOLD = 0.10     # a year-on-year change above this asks for an explanation

# total -> the facts it is the sum of (GHG Protocol Corporate Standard ch. 9; ISSB S2 29(a)(i))
SUMS: dict[str, tuple[str, ...]] = {
    "ghg.scope12_location": ("ghg.scope1", "ghg.scope2_location"),
    "ghg.scope12_market": ("ghg.scope1", "ghg.scope2_market"),
    "ghg.total_location": ("ghg.scope1", "ghg.scope2_location", "ghg.scope3"),
    "ghg.total_market": ("ghg.scope1", "ghg.scope2_market", "ghg.scope3"),
}

# intensity -> (numerator, denominator)
INTENSITIES: dict[str, tuple[str, str]] = {
    "ghg.intensity.scope12_location_per_unit": ("ghg.scope12_location", "production.units"),
    "ghg.intensity.scope12_market_per_unit": ("ghg.scope12_market", "production.units"),
    "ghg.intensity.scope12_location_per_revenue": ("ghg.scope12_location", "finance.revenue"),
    "ghg.intensity.scope12_market_per_revenue": ("ghg.scope12_market", "finance.revenue"),
    "ghg.intensity.total_location_per_revenue": ("ghg.total_location", "finance.revenue"),
    "ghg.intensity.total_market_per_revenue": ("ghg.total_market", "finance.revenue"),
    "energy.intensity.per_unit": ("energy.total", "production.units"),
    "energy.intensity.per_revenue": ("energy.total", "finance.revenue"),
    "waste.hazardous_per_unit": ("waste.hazardous", "production.units"),
    "waste.non_hazardous_per_unit": ("waste.non_hazardous", "production.units"),
    "packaging.per_unit": ("packaging.total", "production.units"),
}

SCOPE2 = ("ghg.scope2_location", "ghg.scope2_market")

_DENOMINATOR_HELP = {
    "production.units": ("store the units produced: `zerocarbon targets output set --metric units`",
                         "请录入产品产量:`zerocarbon targets output set --metric units`"),
    "finance.revenue": ("store the revenue: `zerocarbon targets output set --metric revenue`",
                        "请录入营业收入:`zerocarbon targets output set --metric revenue`"),
}


def fmt(value, unit: str = "") -> str:
    """A figure for a message: thousands separated, a few significant digits, with its unit."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = str(value)
    elif value == 0 or abs(value) >= 1000:
        text = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 1000 else f"{value:,.2f}"
    elif abs(value) >= 1:
        text = f"{value:,.2f}"
    else:
        text = f"{value:.4g}"
    return f"{text} {unit}".strip()


def _name(line: ReportLine) -> tuple[str, str]:
    p = line.point
    return f"{p.id} '{p.label_en}'", f"{p.id}「{p.label_zh or p.label_en}」"


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-9)


def _number(fact: Fact | None) -> float | None:
    if fact is None or not fact.reported or isinstance(fact.value, bool) \
            or not isinstance(fact.value, (int, float)) or not math.isfinite(fact.value):
        return None
    return float(fact.value)


def _in(fact: Fact, unit: str) -> float | None:
    """The fact's value in ``unit``; None when it has no number or cannot be converted."""
    value = _number(fact)
    if value is None:
        return None
    k, _, _ = converter(fact.unit, unit)
    return None if k is None else value * k


# --- completeness ----------------------------------------------------------------------------------------------

def completeness(report: Report) -> list[Check]:
    fw_en, fw_zh = report.framework.name_en, report.framework.name_zh or report.framework.name_en
    out: list[Check] = []
    for line in report.lines:
        if line.status not in (MISSING, NOT_APPLICABLE):
            continue
        en, zh = _name(line)
        why, why_zh = line.reason or "no reason recorded", line.reason_zh or line.reason or "未记录原因"
        req = line.point.requirement
        if line.status == NOT_APPLICABLE:
            out.append(Check(COMPLETENESS, INFO, line.point.id,
                             f"{en} is marked not applicable: {why}. State this in the report.",
                             f"{zh}标记为不适用:{why_zh}。请在报告中说明。"))
        elif req == MANDATORY:
            out.append(Check(COMPLETENESS, ERROR, line.point.id,
                             f"{en} is missing, and {fw_en} requires it: {why}. Provide it before publishing.",
                             f"{zh}缺失,{fw_zh}强制要求披露:{why_zh}。请在发布前补齐。"))
        elif req == COMPLY_OR_EXPLAIN:
            out.append(Check(COMPLETENESS, WARNING, line.point.id,
                             f"{en} is missing: {why}. {fw_en} asks you to disclose it or explain why not: provide "
                             "it, or write the explanation into the report's narrative.",
                             f"{zh}缺失:{why_zh}。{fw_zh}要求\u201c不遵守就解释\u201d:请披露该数据,或在报告叙述中"
                             "说明未披露的原因。"))
        else:
            out.append(Check(COMPLETENESS, INFO, line.point.id,
                             f"{en} is not disclosed (voluntary): {why}. Disclose it when the data is available.",
                             f"{zh}未披露(自愿披露项):{why_zh}。数据可得时建议披露。"))
    return out


# --- consistency -----------------------------------------------------------------------------------------------

def _breakdowns(report: Report, facts: Mapping[str, Fact]) -> list[Check]:
    out: list[Check] = []
    seen: set[str] = set()
    for line in report.lines:
        if line.status == MISSING or not line.breakdown or line.point.fact in seen:
            continue
        if isinstance(line.value, bool) or not isinstance(line.value, (int, float)):
            continue
        seen.add(line.point.fact)
        total = sum(p.value for p in line.breakdown)
        if not _close(total, float(line.value)):
            en, zh = _name(line)
            labels = ", ".join(p.label for p in line.breakdown)
            unit = line.point.unit
            out.append(Check(CONSISTENCY, ERROR, line.point.id,
                             f"{en}: the parts ({labels}) add up to {fmt(total, unit)}, not the total "
                             f"{fmt(line.value, unit)}. A part is missing or counted twice: check the data behind "
                             f"'{line.point.fact}' and compute the inventory again.",
                             f"{zh}:各分项({labels})合计{fmt(total, unit)},与总量{fmt(line.value, unit)}不符。"
                             f"可能有分项遗漏或重复计算:请核对'{line.point.fact}'的数据并重新计算清单。"))
        base = line.point.fact.split(".by_")[0] if ".by_" in line.point.fact else None
        if base and base in facts:
            whole = _in(facts[base], line.point.unit)
            if whole is not None and not _close(whole, float(line.value)):
                en, zh = _name(line)
                unit = line.point.unit
                out.append(Check(CONSISTENCY, ERROR, line.point.id,
                                 f"{en} totals {fmt(line.value, unit)}, but '{base}' is {fmt(whole, unit)}. The "
                                 "breakdown and the total must come from the same data: compute the inventory "
                                 "again and rebuild the report.",
                                 f"{zh}合计{fmt(line.value, unit)},而'{base}'为{fmt(whole, unit)}。分项与总量"
                                 "须来自同一数据:请重新计算清单并重新生成报告。"))
    return out


def _line_of(report: Report, keys) -> str:
    for line in report.lines:
        if line.point.fact in keys:
            return line.point.id
    return ""


def _label(key: str) -> tuple[str, str]:
    from zerocarbon.core.disclosure.keys import FACTS

    spec = FACTS.get(key)
    return (f"{spec.label_en} ({key})", f"{spec.label_zh}({key})") if spec else (key, key)


def _sums(report: Report, facts: Mapping[str, Fact], used: set[str]) -> list[Check]:
    out: list[Check] = []
    for total_key, part_keys in SUMS.items():
        if not used & {total_key, *part_keys}:
            continue
        total = facts.get(total_key)
        if total is None or _number(total) is None:
            continue
        unit = total.unit
        parts = [(k, _in(facts[k], unit) if k in facts else None) for k in part_keys]
        point = _line_of(report, {total_key, *part_keys})
        t_en, t_zh = _label(total_key)
        absent = [k for k, v in parts if v is None]
        if absent:
            if total_key in used:
                names = ", ".join(_label(k)[0] for k in absent)
                names_zh = "、".join(_label(k)[1] for k in absent)
                out.append(Check(CONSISTENCY, WARNING, point,
                                 f"{t_en} is reported but {names} is not, so the sum cannot be checked. Report the "
                                 "missing part, or state what the total includes.",
                                 f"已报告{t_zh},但{names_zh}缺失,无法核对合计。请补充缺失部分,或说明总量的口径。"))
            continue
        expected = sum(v for _, v in parts)
        if not _close(expected, _number(total)):
            formula = " + ".join(k for k, _ in parts)
            out.append(Check(CONSISTENCY, ERROR, point,
                             f"{t_en} is {fmt(_number(total), unit)}, but {formula} = {fmt(expected, unit)}. The "
                             "figures come from different computations: compute the inventory again and rebuild "
                             "the report.",
                             f"{t_zh}为{fmt(_number(total), unit)},而{formula} = {fmt(expected, unit)}。各数据来自"
                             "不同的计算:请重新计算清单并重新生成报告。"))
    return out


def _dual_scope2(report: Report, facts: Mapping[str, Fact], used: set[str]) -> list[Check]:
    if not any(k.startswith(("ghg.scope2", "ghg.scope12", "ghg.total")) for k in used):
        return []
    present = [k for k in SCOPE2 if _number(facts.get(k)) is not None]
    if len(present) != 1:
        return []
    [have] = present
    lacking = SCOPE2[1] if have == SCOPE2[0] else SCOPE2[0]
    why = facts[lacking].reason if lacking in facts else "not computed"
    why_zh = facts[lacking].reason_zh if lacking in facts else "未计算"
    level = ERROR if report.framework.id == "ghgp" else WARNING
    l_en, l_zh = _label(lacking)
    return [Check(CONSISTENCY, level, _line_of(report, set(SCOPE2)),
                  f"Scope 2 is reported by one method only: {l_en} is missing ({why}). The GHG Protocol Scope 2 "
                  "Guidance asks for both the location-based and the market-based figure: import the contractual "
                  "instruments (or confirm there are none) and compute the inventory again.",
                  f"范围二仅按一种方法报告:{l_zh}缺失({why_zh})。《温室气体核算体系范围二指南》要求同时报告基于位置"
                  "和基于市场的排放:请导入合同工具数据(或确认没有)后重新计算清单。")]


def _intensities(report: Report, facts: Mapping[str, Fact]) -> list[Check]:
    out: list[Check] = []
    seen: set[str] = set()
    for line in report.lines:
        key = line.point.fact
        if key not in INTENSITIES or key in seen or line.status == MISSING or key not in facts:
            continue
        seen.add(key)
        intensity = facts[key]
        if _number(intensity) is None:
            continue
        numerator, denominator = INTENSITIES[key]
        en, zh = _name(line)
        d_en, d_zh = _label(denominator)
        den = facts.get(denominator)
        if _number(den) is None:
            help_en, help_zh = _DENOMINATOR_HELP.get(denominator, ("report it", "请一并披露"))
            out.append(Check(CONSISTENCY, ERROR, line.point.id,
                             f"{en} is reported but its denominator, {d_en}, is not: a reader cannot check the "
                             f"ratio. {help_en[0].upper() + help_en[1:]} and rebuild the report.",
                             f"{zh}已报告,但其分母{d_zh}缺失,读者无法核对该比率。{help_zh},然后重新生成报告。"))
            continue
        num = facts.get(numerator)
        if _number(num) is None or _number(den) == 0:
            continue
        k, _, _ = converter(f"{num.unit}/{den.unit}", intensity.unit)
        if k is None:
            continue
        expected = _number(num) / _number(den) * k
        if not _close(expected, _number(intensity)):
            out.append(Check(CONSISTENCY, ERROR, line.point.id,
                             f"{en} is {fmt(_number(intensity), intensity.unit)}, but {numerator} / {denominator} "
                             f"= {fmt(expected, intensity.unit)}. Rebuild the report from one computation.",
                             f"{zh}为{fmt(_number(intensity), intensity.unit)},而{numerator} / {denominator} = "
                             f"{fmt(expected, intensity.unit)}。请基于同一次计算重新生成报告。"))
    return out


def consistency(report: Report, facts: Mapping[str, Fact]) -> list[Check]:
    used = {line.point.fact for line in report.lines}
    return (_breakdowns(report, facts) + _sums(report, facts, used) + _dual_scope2(report, facts, used)
            + _intensities(report, facts))


# --- change ----------------------------------------------------------------------------------------------------

def changes(report: Report) -> list[Check]:
    out: list[Check] = []
    prior_year = report.year - 1
    for line in report.lines:
        en, zh = _name(line)
        unit = line.point.unit
        if line.change is not None and abs(line.change) > CHANGE_THRESHOLD:
            out.append(Check(CHANGE, WARNING, line.point.id,
                             f"{en} changed by {line.change:+.1%} against {prior_year} ({fmt(line.prior, unit)} -> "
                             f"{fmt(line.value, unit)}). Explain the change in the report (output, sites, methods "
                             "or data corrections), and check the data if it is not expected.",
                             f"{zh}较{prior_year}年变化{line.change:+.1%}({fmt(line.prior, unit)} → "
                             f"{fmt(line.value, unit)})。请在报告中说明变化原因(产量、厂区、方法或数据更正);"
                             "如属意外,请核对数据。"))
        if line.restated:
            out.append(Check(CHANGE, INFO, line.point.id,
                             f"{en}: the {prior_year} figure is restated, {fmt(line.published_prior, unit)} as "
                             f"published -> {fmt(line.prior, unit)} now. Reason: {line.restatement}. Disclose the "
                             "restatement and its reason in the report.",
                             f"{zh}:{prior_year}年数据已重述,由已发布的{fmt(line.published_prior, unit)}变为"
                             f"{fmt(line.prior, unit)}。原因:{line.restatement}。请在报告中披露重述及其原因。"))
    return out


def run_checks(report: Report, facts: Mapping[str, Fact]) -> list[Check]:
    """Every check of ``report`` (built from ``facts``): completeness, consistency, change, in that order."""
    return completeness(report) + consistency(report, facts) + changes(report)
