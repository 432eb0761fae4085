"""Charts of an assessment: a radar of the dimension scores (share of each dimension's maximum) with the grade,
and the gap bars (points short by indicator, largest first). Chinese labels need a CJK font; when none is
installed the charts fall back to English labels rather than draw empty boxes."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from zerocarbon.core.assessment.scoring import ScoreResult  # noqa: E402

# Families that cover simplified Chinese, in order of preference (Linux packages, then macOS and Windows).
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
                "Droid Sans Fallback", "PingFang SC", "Microsoft YaHei", "SimHei")
SCORE_COLOR, GAP_COLOR, WITHHELD_COLOR = "#59a14f", "#e15759", "#f28e2b"

WORDS = {
    "en": {"no_grade": "no grade", "grade": "Grade", "score": "score", "points_short": "points short",
           "withheld": "dimension points withheld (mandatory indicator at 0)", "gaps": "Largest gaps",
           "no_gaps": "No gaps: every indicator has full points", "needed": "needed", "missing": "no value",
           "awaiting_review": "awaiting review", "invalid": "invalid value"},
    "zh": {"no_grade": "未达等级", "grade": "等级", "score": "得分", "points_short": "差距分值",
           "withheld": "因必选指标为 0 分而扣除的维度分值", "gaps": "主要差距",
           "no_gaps": "无差距：所有指标均为满分", "needed": "目标值", "missing": "无数据",
           "awaiting_review": "待审核", "invalid": "数值无效"},
}


@cache
def cjk_font() -> str | None:
    """The name of an installed font family that renders Chinese, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FAMILIES if name in installed), None)


def chart_language(lang: str) -> str:
    """``zh`` when Chinese was asked for and a CJK font is installed, else ``en``."""
    return "zh" if lang.startswith("zh") and cjk_font() else "en"


def _rc(lang: str) -> dict:
    font = cjk_font() if lang == "zh" else None
    return {"font.sans-serif": [font, "DejaVu Sans"], "axes.unicode_minus": False} if font else {}


def _save(fig, path: Path, bottom: float = 0.0) -> Path:
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def _grade_text(result: ScoreResult, lang: str) -> str:
    w = WORDS[lang]
    grade = result.grade.name.get(lang) if result.grade else w["no_grade"]
    return f"{w['grade']}: {grade}   {w['score']}: {result.total:.1f} / {result.max_total:.0f}"


def radar_chart(result: ScoreResult, path: Path, lang: str = "zh") -> Path:
    """Radar of each dimension's score as % of its maximum (dimensions with nothing to assess at this boundary
    are left out), titled with the system, the total and the grade."""
    lang = chart_language(lang)
    names = {d.id: d.name.get(lang) for d in result.system.dimensions}
    rows = [(names[d], 100.0 * s / m) for d, s, m in result.dimensions if m > 0]
    with plt.rc_context(_rc(lang)):
        fig = plt.figure(figsize=(6.5, 6))
        ax = fig.add_subplot(projection="polar")
        angles = np.linspace(0, 2 * np.pi, len(rows), endpoint=False)
        values = np.array([v for _, v in rows])
        closed = np.append(angles, angles[:1])
        ax.plot(closed, np.append(values, values[:1]), color=SCORE_COLOR, linewidth=2)
        ax.fill(closed, np.append(values, values[:1]), color=SCORE_COLOR, alpha=0.25)
        ax.set_xticks(angles)
        ax.set_xticklabels([f"{n}\n{v:.0f}%" for n, v in rows], fontsize=9)
        ax.set_ylim(0, 100)
        ax.set_yticks([20, 40, 60, 80, 100])
        ax.set_yticklabels(["20", "40", "60", "80", "100%"], fontsize=7, color="grey")
        ax.set_title(f"{result.system.name.get(lang)}\n{_grade_text(result, lang)}", fontsize=10, pad=24)
        return _save(fig, path)


def _fmt(x: float | None, unit: str) -> str:
    if x is None:
        return ""
    if unit == "fraction":
        return f"{100 * x:.0f}%"
    return f"{x:.3g}" + ("" if unit in ("count", "bool") else f" {unit}")


def gap_chart(result: ScoreResult, path: Path, lang: str = "zh", limit: int = 12) -> Path:
    """Horizontal bars of the ``limit`` largest gaps: points short (red) and, for a mandatory indicator at 0,
    the other points of its dimension withheld (orange); each bar says the value now and the value needed."""
    lang = chart_language(lang)
    w = WORDS[lang]
    gaps = list(result.gaps[:limit])[::-1]
    with plt.rc_context(_rc(lang)):
        fig, ax = plt.subplots(figsize=(9, 1.4 + 0.42 * max(len(gaps), 1)))
        if not gaps:
            ax.text(0.5, 0.5, w["no_gaps"], ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return _save(fig, path)
        y = np.arange(len(gaps))
        short = [g.points_short for g in gaps]
        ax.barh(y, short, color=GAP_COLOR, label=w["points_short"])
        withheld = any(g.withheld for g in gaps)
        if withheld:
            ax.barh(y, [g.withheld for g in gaps], left=short, color=WITHHELD_COLOR, label=w["withheld"])
        for i, g in enumerate(gaps):
            unit = g.indicator.unit
            now = _fmt(g.value, unit) if g.value is not None else w.get(g.status, "")
            ax.text(g.gain + 0.1, i, f"{now} → {w['needed']} {_fmt(g.needed, unit)}", va="center", fontsize=8)
        ax.set_yticks(y)
        ax.set_yticklabels([g.indicator.name.get(lang) for g in gaps], fontsize=8)
        ax.set_xlabel(w["points_short"])
        ax.set_xlim(0, max(g.gain for g in gaps) * 1.45)
        ax.set_title(f"{w['gaps']}: {result.system.name.get(lang)}", fontsize=10)
        if not withheld:  # one colour: the axis label says what the bars are
            return _save(fig, path)
        # below the axes: inside them the legend would cover the bars' labels
        fig.legend(fontsize=8, loc="lower center", ncol=2, frameon=False)
        return _save(fig, path, bottom=0.35 / fig.get_figheight())
