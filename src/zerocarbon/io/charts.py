"""Charts people would rather see than read: idle energy by line and shift, the site's load profile, a
baseline against what was used, and a forecast against recent days. Times are drawn on the site's clock."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1"]


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def _local(series: pd.Series, tz: str) -> pd.Series:
    return series.set_axis(series.index.tz_localize("UTC").tz_convert(tz))


def idle_chart(findings, path: Path, period: str = "") -> Path:
    """Stacked bars: idle energy [MWh] per line, one colour per shift. ``findings`` are idle findings or
    dicts with ``line``, ``shift`` and ``idle_kwh``."""
    df = pd.DataFrame([f if isinstance(f, dict) else f.__dict__ for f in findings])
    df = df.pivot_table(index="line", columns="shift", values="idle_kwh", aggfunc="sum", sort=False).fillna(0)
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.4 * len(df)))
    (df / 1000).plot.barh(stacked=True, ax=ax, color=COLORS[:len(df.columns)])
    ax.set_xlabel(f"idle energy [MWh]{' ' + period if period else ''} (line on, producing nothing)")
    ax.set_title("Idle running by line and shift")
    return _save(fig, path)


def profile_chart(site_kwh: pd.Series, path: Path, tz: str, interval_min: int = 15, title: str = "Site") -> Path:
    """Mean demand [kW] by local time of day, working days against Sundays, with the 10-90 % band."""
    kw = _local(site_kwh.dropna(), tz) * 60.0 / interval_min
    frame = pd.DataFrame({"kw": kw.to_numpy(), "hour": kw.index.hour + kw.index.minute / 60,
                          "day": ["Sunday" if d == 6 else "Mon-Sat" for d in kw.index.day_of_week]})
    fig, ax = plt.subplots(figsize=(8, 4))
    for (day, g), color in zip(frame.groupby("day"), COLORS):
        prof = g.groupby("hour")["kw"]
        mean = prof.mean()
        ax.plot(mean.index, mean.values, label=f"{day} mean", color=color)
        ax.fill_between(mean.index, prof.quantile(0.1).values, prof.quantile(0.9).values, alpha=0.2, color=color)
    ax.set_xlabel(f"hour of day ({tz})")
    ax.set_ylabel("demand [kW]")
    ax.set_title(f"{title} load profile (10-90 % band)")
    ax.legend()
    return _save(fig, path)


def baseline_chart(frame: pd.DataFrame, path: Path, unit: str = "kWh", title: str = "Baseline") -> Path:
    """``frame`` indexed by local period with columns ``actual``, ``baseline`` and ``period``
    (baseline | reporting): what was used against what the baseline model says would have been used."""
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(frame.index, frame["actual"], color=COLORS[0], lw=1, label="actual")
    ax.plot(frame.index, frame["baseline"], color=COLORS[1], lw=1, label="baseline model")
    rep = frame[frame["period"] == "reporting"]
    if len(rep):
        ax.axvspan(rep.index.min(), rep.index.max(), color="#dddddd", alpha=0.5, label="reporting period")
    ax.set_ylabel(f"energy [{unit} per {frame.attrs.get('granularity', 'interval')}]")
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def forecast_chart(history: pd.Series, future: pd.DataFrame, path: Path, tz: str, unit: str = "kWh",
                   title: str = "Forecast") -> Path:
    """The last two weeks of actuals and the forecast with its seasonal-naive comparison."""
    fig, ax = plt.subplots(figsize=(10, 4))
    recent = history[history.index >= history.index[-1] - pd.Timedelta(days=14)]
    ax.plot(_local(recent, tz).index, recent.to_numpy(), color=COLORS[0], lw=0.8, label="actual")
    ax.plot(_local(future["forecast"], tz).index, future["forecast"].to_numpy(), color=COLORS[1], lw=1.2,
            label="forecast")
    ax.plot(_local(future["seasonal_naive"], tz).index, future["seasonal_naive"].to_numpy(), color="#999999",
            lw=0.8, ls="--", label="seasonal naive (a week earlier)")
    ax.set_ylabel(f"energy [{unit} per interval]")
    ax.set_xlabel(f"local time ({tz})")
    ax.set_title(title)
    ax.legend()
    fig.autofmt_xdate()
    return _save(fig, path)


__all__ = ["idle_chart", "profile_chart", "baseline_chart", "forecast_chart"]


def scope3_chart(categories: list[dict], path: Path, year: int) -> Path:
    """Horizontal bars: Scope 3 [tCO2e] per category, stacked by calculation method, each bar labelled with its
    emission-weighted data-quality score (1 very good .. 5 very poor); a category without data is drawn empty
    and labelled "no data", never as a zero bar. ``categories``: dicts with ``category``, ``number``,
    ``status``, ``co2e_t``, ``dq`` and ``methods`` ({method: tCO2e})."""
    shown = [c for c in categories if c["status"] in ("reported", "no data")]
    methods = sorted({m for c in shown for m in (c.get("methods") or {})})
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(shown) + 1.6))
    labels = [f"C{c['number']} {c['category'].split('_', 1)[1].replace('_', ' ')}" for c in shown]
    left = [0.0] * len(shown)
    for k, m in enumerate(methods):
        values = [(c.get("methods") or {}).get(m, 0.0) for c in shown]
        ax.barh(labels, values, left=left, color=COLORS[k % len(COLORS)], label=m.replace("_", " "))
        left = [a + b for a, b in zip(left, values)]
    top = max(left) if left and max(left) > 0 else 1.0
    for i, c in enumerate(shown):
        text = "no data" if c["status"] == "no data" else f"{c['co2e_t']:,.0f} t · DQ {c['dq']:.1f}"
        ax.text(left[i] + top * 0.01, i, text, va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.3)
    ax.set_xlabel("tCO2e")
    ax.set_title(f"Scope 3 {year} by category and method (DQ: 1 very good .. 5 very poor)")
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)
