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


def macc_chart(entries: list[dict], path: Path, currency: str = "CNY", title: str = "MACC") -> Path:
    """Bars left to right, cheapest tonne first; a measure with an illustrative figure is hatched and marked *."""
    shown = [e for e in entries if e["cost_per_t"] is not None and e["abatement_t"] > 0]
    fig, ax = plt.subplots(figsize=(10, 5))
    x = 0.0
    for i, e in enumerate(shown):
        ax.bar(x, e["cost_per_t"], width=e["abatement_t"], align="edge", color=_color(i),
               edgecolor="black", linewidth=0.4, hatch="//" if e["illustrative"] else None)
        label = e["measure"] + (" *" if e["illustrative"] else "")
        # labels stand above the bar, or above the zero line for a bar that saves money
        ax.text(x + e["abatement_t"] / 2, max(e["cost_per_t"], 0.0), label, rotation=90, fontsize=7,
                ha="center", va="bottom")
        x += e["abatement_t"]
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel("abatement [tCO2e/year] (Scope 3 measures included at their own tonnes)")
    ax.set_ylabel(f"cost [{currency}/tCO2e]")
    ax.set_title(f"{title} (* hatched: uses illustrative figures)")
    return _save(fig, path)


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
        ax.scatter([c[0] for c in caps], [c[1] for c in caps], color="red", marker="_", s=900, linewidths=3,
                   label="target", zorder=5)
    ax.set_ylabel("Scope 1+2 (market-based) [tCO2e]")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, path)
