"""The report's charts as inline SVG: Scope 1, 2 and 3 this year against the prior year, and energy by carrier.

Text is drawn as paths (``svg.fonttype`` ``path``), so a Chinese label needs a CJK font only where the chart is
drawn, not where it is read; the ids inside each SVG are prefixed with the chart's name so that two charts in one
page never share an id.
"""
from __future__ import annotations

import re
from io import StringIO

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from zerocarbon.core.disclosure.model import REPORTED, Report, ReportLine  # noqa: E402
from zerocarbon.io.disclosure.text import is_number, number_text, part_label, t  # noqa: E402

THIS_YEAR, PRIOR_YEAR = "#2f6f9f", "#a9c4dc"
MIX = ["#2f6f9f", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
             "SimHei")
SCOPES = (("ghg.scope1", "scope1"), ("ghg.scope2_location", "scope2_location"),
          ("ghg.scope2_market", "scope2_market"), ("ghg.scope3", "scope3"))
ENERGY_FACTS = ("energy.by_carrier", "energy.total")


def _fonts() -> list[str]:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [name for name in CJK_FONTS if name in installed] + ["DejaVu Sans"]


def _svg(fig, name: str) -> str:
    buf = StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    # Prefix every id and every reference to one, so that charts sharing a page share no id.
    text = re.sub(r'id="([^"]+)"', rf'id="{name}-\1"', text)
    text = re.sub(r'(xlink:href|href)="#([^"]+)"', rf'\1="#{name}-\2"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", text)
    return text.strip()


def _style():
    return plt.rc_context({"font.family": "sans-serif", "font.sans-serif": _fonts(), "svg.fonttype": "path",
                           "svg.hashsalt": "zerocarbon", "axes.spines.top": False, "axes.spines.right": False,
                           "font.size": 9})


def _first(report: Report, fact: str) -> ReportLine | None:
    return next((line for line in report.lines if line.point.fact == fact), None)


def scopes_chart(report: Report, lang: str) -> tuple[str | None, list[str]]:
    """Grouped bars [the points' unit, e.g. tCO2e]: each scope this year and prior year. Returns the SVG (None
    when no scope has a figure) and the labels of the scopes left out for want of a figure this year."""
    bars, left_out = [], []
    for fact, key in SCOPES:
        line = _first(report, fact)
        if line is None:
            continue
        if line.status == REPORTED and is_number(line.value):
            bars.append((t(key, lang), line.value, line.prior if is_number(line.prior) else None, line.point.unit))
        else:
            left_out.append(t(key, lang))
    if not bars:
        return None, left_out
    unit = bars[0][3]
    bars = [b for b in bars if b[3] == unit]
    with _style():
        fig, ax = plt.subplots(figsize=(6.4, 2.8))
        xs = range(len(bars))
        width = 0.38
        this = ax.bar([x - width / 2 for x in xs], [b[1] for b in bars], width, color=THIS_YEAR,
                      label=f"{report.year} ({t('this_year', lang)})")
        prior = ax.bar([x + width / 2 for x in xs], [b[2] or 0 for b in bars], width, color=PRIOR_YEAR,
                       label=f"{report.year - 1} ({t('prior_year', lang)})")
        for rect, b in zip(this, bars):
            ax.annotate(number_text(b[1], unit), (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                        ha="center", va="bottom", fontsize=7)
        for rect, b in zip(prior, bars):
            # A missing prior is drawn as no bar and said in words, never as a zero-height bar read as zero.
            text = number_text(b[2], unit) if b[2] is not None else t("no_prior", lang)
            ax.annotate(text, (rect.get_x() + rect.get_width() / 2, rect.get_height()), ha="center", va="bottom",
                        fontsize=7)
        ax.set_xticks(list(xs), [b[0] for b in bars])
        ax.set_ylabel(unit)
        ax.legend(frameon=False, fontsize=8)
        ax.margins(y=0.15)
        fig.tight_layout()
        return _svg(fig, "scopes"), left_out


def energy_chart(report: Report, lang: str) -> str | None:
    """Horizontal bars [the point's unit, e.g. MWh] of the energy consumed by carrier, with each carrier's share;
    from the first reported energy line that has a breakdown. None when there is none."""
    line = next((line for fact in ENERGY_FACTS for line in report.lines
                 if line.point.fact == fact and line.status == REPORTED and line.breakdown), None)
    if line is None:
        return None
    parts = sorted(line.breakdown, key=lambda p: p.value)
    total = sum(p.value for p in parts) or 1.0
    with _style():
        fig, ax = plt.subplots(figsize=(6.4, 0.8 + 0.4 * len(parts)))
        bars = ax.barh([part_label(p, lang) for p in parts], [p.value for p in parts],
                       color=[MIX[i % len(MIX)] for i in range(len(parts))])
        for rect, p in zip(bars, parts):
            ax.annotate(f" {number_text(p.value, line.point.unit)} ({p.value / total * 100:.1f} %)",
                        (rect.get_width(), rect.get_y() + rect.get_height() / 2), va="center", fontsize=7)
        ax.set_xlabel(line.point.unit)
        ax.margins(x=0.3)
        fig.tight_layout()
        return _svg(fig, "energy")
