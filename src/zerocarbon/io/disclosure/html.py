"""A report as one self-contained HTML page in English or Chinese: cover, charts, the table of each section,
the checks, and a lineage appendix that every figure links to.

Everything the page needs is inside it (inline CSS, charts as inline SVG), so it can be mailed, archived or
turned into the PDF. Every value from the report is escaped (Jinja2 autoescape); the only markup inserted as is
is the SVG the charts module draws.
"""
from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from zerocarbon.core.disclosure.model import MISSING, NOT_APPLICABLE, Report
from zerocarbon.io.disclosure import charts
from zerocarbon.io.disclosure.text import (
    LABELS, anchor, change_text, check_lang, has_lineage, is_number, label, lineage_rows, part_label, prior_text,
    reason, section_label, sections, t, unit_text, value_text,
)


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=PackageLoader("zerocarbon.io.disclosure", "templates"),
                       autoescape=select_autoescape(["html", "xhtml", "xml"], default_for_string=True),
                       trim_blocks=True, lstrip_blocks=True)


def _rows(report: Report, lang: str):
    index = {id(line): i for i, line in enumerate(report.lines)}
    out = []
    for section, lines in sections(report):
        rows = []
        for line in lines:
            unit = line.point.unit
            missing = line.status in (MISSING, NOT_APPLICABLE) or line.value is None
            rows.append({
                "id": line.point.id, "label": label(line, lang), "anchor": anchor(line, index[id(line)]),
                "requirement": t(line.point.requirement, lang), "status": line.status,
                "status_label": t(line.status, lang), "missing": missing,
                "reason": reason(line, lang), "value": "" if missing else value_text(line.value_in(lang), unit, lang),
                "numeric": is_number(line.value), "unit": unit_text(unit, lang),
                "prior": prior_text(line, lang), "change": change_text(line.change),
                "restated": line.restated,
                "restatement": (line.restatement_zh or line.restatement) if lang == "zh" else line.restatement,
                "published_prior": value_text(line.published_prior, unit, lang)
                if line.published_prior is not None else "",
                "has_lineage": has_lineage(line),
                "breakdown": [{"label": part_label(p, lang), "value": value_text(p.value, unit, lang)}
                              for p in line.breakdown],
            })
        out.append((section_label(section, lang), rows))
    return out


def _lineage(report: Report, lang: str):
    return [{"anchor": anchor(line, i), "id": line.point.id, "label": label(line, lang), "rows": lineage_rows(line)}
            for i, line in enumerate(report.lines) if has_lineage(line)]


def _checks(report: Report, lang: str):
    order = {"error": 0, "warning": 1, "info": 2}
    return [{"level": c.level, "level_label": t(c.level, lang), "kind_label": t(c.kind, lang), "point": c.point,
             "message": (c.message_zh or c.message) if lang == "zh" else (c.message or c.message_zh)}
            for c in sorted(report.checks, key=lambda c: order.get(c.level, 3))]


def _charts(report: Report, lang: str):
    scopes, left_out = charts.scopes_chart(report, lang)
    energy = charts.energy_chart(report, lang)
    out = []
    if scopes or left_out:
        out.append({"title": t("chart_scopes", lang), "svg": Markup(scopes) if scopes else None,
                    "left_out": left_out})
    if energy:
        out.append({"title": t("chart_energy", lang), "svg": Markup(energy), "left_out": []})
    return out


def render_html(report: Report, lang: str = "en", *, with_charts: bool = True) -> str:
    """The report as an HTML page in ``lang`` (en or zh)."""
    check_lang(lang)
    fw = report.framework
    counts = {level: sum(1 for c in report.checks if c.level == level) for level in ("error", "warning", "info")}
    meta = [(t(k, lang) if k in LABELS else k.replace("_", " "), v) for k, v in sorted(report.meta.items())]
    return _env().get_template("report.html").render(
        report=report, lang=lang, t=lambda key: t(key, lang),
        fw_name=fw.name_zh if lang == "zh" and fw.name_zh else fw.name_en,
        fw_other=fw.name_en if lang == "zh" else fw.name_zh,
        meta=meta, sections=_rows(report, lang), checks=_checks(report, lang), lineage=_lineage(report, lang),
        charts=_charts(report, lang) if with_charts else [],
        checks_summary=t("checks_summary", lang).format(errors=counts["error"], warnings=counts["warning"],
                                                       infos=counts["info"]))
