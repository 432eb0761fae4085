"""Pathway charts as PNG files: the marginal abatement cost curve (bar width = tonnes a year, height = cost per
tonne) and the pathway (abatement per year stacked by measure, business as usual and the target line)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from zerocarbon.io.charts import _save  # noqa: E402


def _color(i: int):
    return plt.get_cmap("tab20")(i % 20)


MIN_HEIGHT = 0.03  # of the cost span: a bar this thin would vanish on the axis line
MIN_LABEL_WIDTH = 0.04  # of the tonnes: narrower bars are numbered only by their legend entry


def macc_figure(entries: list[dict], currency: str = "CNY", title: str = "MACC"):
    """The MACC figure: bars left to right, cheapest tonne first; a measure with an illustrative figure is hatched
    and marked *. Each bar is numbered, and the legend beside the plot names it with its cost and tonnes, so
    labels never overlap; a bar too low to see is drawn at a minimum height, its true value in the legend."""
    shown = [e for e in entries if e["cost_per_t"] is not None and e["abatement_t"] > 0]
    fig, ax = plt.subplots(figsize=(12, 5))
    costs = [e["cost_per_t"] for e in shown] or [0.0]
    span = max(max(costs), 0.0) - min(min(costs), 0.0) or 1.0
    total = sum(e["abatement_t"] for e in shown) or 1.0
    x = 0.0
    for i, e in enumerate(shown, 1):
        c = e["cost_per_t"]
        height = c if abs(c) >= MIN_HEIGHT * span else (MIN_HEIGHT * span if c >= 0 else -MIN_HEIGHT * span)
        label = (f"{i} {e['measure']}{' *' if e['illustrative'] else ''}: {c:,.1f} {currency}/t, "
                 f"{e['abatement_t']:,.1f} t/yr")
        ax.bar(x, height, width=e["abatement_t"], align="edge", color=_color(i - 1), edgecolor="black",
               linewidth=0.4, hatch="//" if e["illustrative"] else None, label=label)
        if e["abatement_t"] >= MIN_LABEL_WIDTH * total:
            ax.text(x + e["abatement_t"] / 2, max(height, 0.0), str(i), fontsize=8, ha="center", va="bottom")
        x += e["abatement_t"]
    lo, hi = min(min(costs), 0.0), max(max(costs), 0.0)
    ax.set_ylim(lo - 0.05 * span, hi + 0.15 * span)  # room for the numbers below the title
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel("abatement [tCO2e/year] (Scope 3 measures included at their own tonnes)")
    ax.set_ylabel(f"cost [{currency}/tCO2e]")
    ax.set_title(f"{title} (* hatched: uses illustrative figures)", pad=12)
    if shown:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="measure: cost, tonnes",
                  title_fontsize=7)
    return fig, ax


def macc_chart(entries: list[dict], path: Path, currency: str = "CNY", title: str = "MACC") -> Path:
    """:func:`macc_figure` saved as a PNG."""
    return _save(macc_figure(entries, currency, title)[0], path)


def pathway_chart(result: dict, path: Path, title: str = "Pathway") -> Path:
    """Scope 1+2 [tCO2e] per year: business as usual, the plan, abatement stacked by measure, the target caps."""
    years = [a["year"] for a in result["abatement"]]
    fig, ax = plt.subplots(figsize=(10, 5))
    measures = sorted({m for a in result["abatement"] for m in a["by_measure"]})
    bottom = [a["plan_t"] for a in result["abatement"]]
    for i, m in enumerate(measures):
        values = [a["by_measure"].get(m, 0.0) for a in result["abatement"]]
        ax.bar(years, values, bottom=bottom, color=_color(i), label=m, width=0.7)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.bar(years, [a["plan_t"] for a in result["abatement"]], color="#bbbbbb", label="remaining Scope 1+2", width=0.7)
    ax.plot(years, [a["bau_t"] for a in result["abatement"]], color="black", marker="o", label="business as usual")
    caps = [(t["year"], t["cap_t"]) for t in result["scenario"]["targets"] if t["cap_t"] is not None]
    if caps:
        # short horizontal lines: a legend entry the size of the others, inside the legend box
        ax.hlines([c[1] for c in caps], [c[0] - 0.35 for c in caps], [c[0] + 0.35 for c in caps], colors="red",
                  linewidth=3, label="target", zorder=5)
    ax.set_ylabel("Scope 1+2 (market-based) [tCO2e]")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, path)
