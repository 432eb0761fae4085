"""Use cases of grid carbon-intensity series: put one on a scheduling problem; list the shipped ones."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from zerocarbon.core.energy.intensity import IntensitySeries, Window, cut
from zerocarbon.core.schedule.model import Problem
from zerocarbon.io.intensity_series import SHIPPED_PREFIX, read_intensity_series, shipped_series


def series_spec(name: str | Path, paths: bool = False) -> str:
    """The spec (``shipped:<name>`` or a CSV path) of a series a user named, the one lookup of the CLI, the API
    and the jobs. ``shipped:<name>`` is kept. With ``paths`` (the command line) an existing file is read as a
    file, and so is a name with a folder or a suffix that names no shipped series; anything else, and every
    name when ``paths`` is false (a form or a request is never read as a server path), is looked up among the
    shipped series, so an unknown one is refused as "no shipped series 'x'; shipped: ..."."""
    text = str(name or "").strip()
    if text.startswith(SHIPPED_PREFIX):
        return text
    if paths:
        path = Path(text)
        bare = path.name == text and not path.suffix
        if path.exists() or (not bare and text.removesuffix(".csv") not in shipped_series()):
            return text
    return SHIPPED_PREFIX + text


@dataclass(frozen=True)
class Applied:
    problem: Problem
    series: IntensitySeries
    window: Window

    @property
    def note(self) -> str:
        s = self.series
        return (f"carbon intensity from {s.name} ({s.source}; {s.method}; converted from {s.source_unit} to "
                f"{s.unit}): "
                f"{self.window.note}")


def with_carbon_series(problem: Problem, spec: str | Path, match_year: bool = True) -> Applied:
    """``problem`` with its carbon series replaced by the series in ``spec`` (a CSV path or
    ``shipped:<name>``; :func:`series_spec` turns what a user typed into one), cut to the problem's window and
    step (the problem series' ``step_min``, 60 when it has none). The other series (price, PV) are kept."""
    series = read_intensity_series(spec)
    step = int(getattr(problem.series, "step_min", 60))
    window = cut(series, problem.start, problem.horizon, step, match_year=match_year)
    return Applied(replace(problem, series=replace(problem.series, carbon=window.values)), series, window)


def shipped_summaries() -> list[dict]:
    """One row per shipped series: name, period, step, unit, source, method and value statistics in the
    series' converted unit (kg per kWh); the daily swing is the mean of (max - min) over whole days counted
    from the series start."""
    return [summary(read_intensity_series(path)) | {"file": str(path)} for path in shipped_series().values()]


def series_summary(spec: str | Path) -> dict:
    """:func:`summary` of one series: a shipped name (with or without ``shipped:``) or a CSV path."""
    return summary(read_intensity_series(series_spec(spec, paths=True)))


def summary(s: IntensitySeries) -> dict:
    import numpy as np

    v = np.asarray(s.values, dtype=float)
    per_day = max(1, 1440 // s.step_min)
    whole = len(v) // per_day * per_day
    days = v[:whole].reshape(-1, per_day) if whole else v.reshape(1, -1)
    swing = days.max(axis=1) - days.min(axis=1)
    return {"name": s.name, "start": s.start.isoformat(), "end": s.end.isoformat(), "step_min": s.step_min,
            "rows": len(v), "unit": s.unit, "source_unit": s.source_unit, "source": s.source, "method": s.method,
            "mean": float(v.mean()), "min": float(v.min()), "max": float(v.max()),
            "daily_swing_mean": float(swing.mean())}
