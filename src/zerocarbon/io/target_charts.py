"""Target progress as a PNG: per target, the trajectory from base to target year, the actual values of the years
with a stored inventory (green on track, red off track) and the target value."""
from __future__ import annotations

from pathlib import Path

from zerocarbon.io.charts import _save, plt


def progress_chart(items: list[dict], path: Path) -> Path:
    """``items``: what ``services.targets.progress`` returns. One panel per target."""
    n = max(len(items), 1)
    fig, axes = plt.subplots(n, 1, figsize=(8, 3.2 * n), squeeze=False)
    for ax, item in zip(axes[:, 0], items):
        t = item["target"]
        scale = 100.0 if t["unit"] == "fraction" else 1.0
        unit = "%" if t["unit"] == "fraction" else t["unit"]
        line = item["trajectory"]
        ax.plot([p["year"] for p in line], [p["value"] * scale for p in line], "--", color="#555",
                label="trajectory")
        ax.plot([t["target_year"]], [t["target_value"] * scale], "*", ms=14, color="#1f77b4", label="target")
        for ok in (True, False):
            pts = [p for p in item["points"] if p["on_track"] is ok]
            if pts:
                ax.plot([p["year"] for p in pts], [p["actual"] * scale for p in pts], "o", ms=8,
                        color="#2ca02c" if ok else "#d62728", label="on track" if ok else "off track")
        what = t["kind"].replace("_", " ")
        ax.set_title(f"{t['id']}: {what} {t['scopes']} ({t['boundary']}), {t['base_year']}->{t['target_year']}")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    if not items:
        axes[0, 0].text(0.5, 0.5, "no targets", ha="center", va="center")
    fig.tight_layout()
    return _save(fig, path)
