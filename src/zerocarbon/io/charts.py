"""Charts people would rather see than read: idle energy by line and shift, site load profile."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def idle_chart(findings, path: Path) -> None:
    df = pd.DataFrame([f.__dict__ for f in findings]).pivot(index="line", columns="shift", values="idle_kwh").fillna(0)
    ax = (df / 1000).plot.barh(stacked=True, figsize=(8, 4), color=["#f28e2b", "#4e79a7"])
    ax.set_xlabel("idle energy [MWh/yr] (line on, producing nothing)")
    ax.set_title("Idle running by line and shift")
    ax.figure.tight_layout()
    ax.figure.savefig(path, dpi=110)
    plt.close(ax.figure)


def profile_chart(site_kwh: pd.Series, path: Path, tz: str = "Asia/Shanghai") -> None:
    local = site_kwh.copy()
    local.index = local.index.tz_localize("UTC").tz_convert(tz)
    kw = local * 4
    frame = pd.DataFrame({"kw": kw, "hour": kw.index.hour + kw.index.minute / 60,
                          "day": ["Sunday" if d == 6 else "Mon-Sat" for d in kw.index.day_of_week]})
    fig, ax = plt.subplots(figsize=(8, 4))
    for day, g in frame.groupby("day"):
        prof = g.groupby("hour")["kw"]
        ax.plot(prof.mean().index, prof.mean().values, label=f"{day} mean")
        ax.fill_between(prof.mean().index, prof.quantile(0.1).values, prof.quantile(0.9).values, alpha=0.2)
    ax.set_xlabel("hour of day (local)")
    ax.set_ylabel("grid demand [kW]")
    ax.set_title("Site load profile (10-90 % band)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
