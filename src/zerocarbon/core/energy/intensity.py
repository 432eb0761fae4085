"""Grid carbon-intensity time series and their fit to a scheduling window.

A series is regular (15, 30 or 60 min), gap-free, in kg per kWh (CO2 or CO2e, said by ``unit``).
:func:`cut` puts it onto a problem's window and step: the time-weighted mean of the series over each
target interval, which is the plain mean when coarsening (60 min from 15 min) and a repeat when
refining (15 min from 60 min).

When the window is not inside the series (a 2026 plan against a 2023 series), ``match_year`` moves the
window to the same month, day and clock time in a year the series covers — a whole number of days, so
the time of day (in the series' UTC offset) is kept and the weekday generally is not. The returned
:class:`Window` says which series dates were used, so a plan never silently prices one year's hours
with another year's data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from zerocarbon.errors import ZerocarbonError

STEPS_MIN = (15, 30, 60)


class SeriesWindowError(ZerocarbonError, ValueError):
    """A series cannot be put on the window: no usable start, or the series does not cover it."""

    column = "start"


@dataclass(frozen=True)
class IntensitySeries:
    """Values [``unit``, kg per kWh] per interval of ``step_min`` minutes from ``start`` (aware)."""

    values: tuple[float, ...]
    step_min: int
    start: datetime
    unit: str = "kgCO2/kWh"  # or kgCO2e/kWh
    source: str = ""
    method: str = ""
    name: str = ""
    source_unit: str = ""  # the unit written in the file, before conversion

    @property
    def end(self) -> datetime:
        """End of the last interval (exclusive)."""
        return self.start + timedelta(minutes=self.step_min * len(self.values))


@dataclass(frozen=True)
class Window:
    """Series values on a problem's window, with the series interval actually used."""

    values: tuple[float, ...]
    step_min: int
    unit: str
    used_from: datetime  # series time of the window start
    used_to: datetime  # series time of the window end (exclusive)
    shift_days: int  # series time = problem time + shift_days (0: the same instants)
    note: str


def parse_start(text: str) -> datetime:
    """An ISO 8601 start with a UTC offset (``Problem.start``); :class:`SeriesWindowError` if it is not one."""
    if not text or not str(text).strip():
        raise SeriesWindowError("the problem has no start date and time; give 'start' (ISO 8601 with offset, e.g. "
                         "2026-08-03T00:00:00+08:00) in the problem file")
    try:
        dt = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise SeriesWindowError(f"problem start '{text}' is not an ISO 8601 date and time") from None
    if dt.tzinfo is None:
        raise SeriesWindowError(f"problem start '{text}' has no UTC offset (e.g. +08:00); the series cannot be aligned")
    return dt


def _covers(series: IntensitySeries, start: datetime, end: datetime) -> bool:
    return series.start <= start and end <= series.end


def _same_date_in(year: int, start: datetime, tz) -> datetime | None:
    local = start.astimezone(tz)
    try:
        return local.replace(year=year)
    except ValueError:  # 29 February in a year without it
        return None


def cut(series: IntensitySeries, start: datetime | str, horizon_min: int, step_min: int,
        match_year: bool = True) -> Window:
    """``ceil(horizon_min / step_min)`` values of ``series`` from ``start``, each the time-weighted mean of
    the series over its interval. Raises :class:`SeriesWindowError` when the series does not cover the
    window (after moving it to the series' years when ``match_year``)."""
    if step_min <= 0 or horizon_min <= 0:
        raise SeriesWindowError(f"step ({step_min} min) and horizon ({horizon_min} min) must be positive")
    t0 = parse_start(start) if isinstance(start, str) else start
    if t0.tzinfo is None:
        raise SeriesWindowError("the window start has no UTC offset")
    n = math.ceil(horizon_min / step_min)
    span = timedelta(minutes=n * step_min)
    shift = timedelta(0)
    if not _covers(series, t0, t0 + span):
        moved = None
        if match_year:
            tz = series.start.tzinfo
            for year in range(series.start.year, series.end.year + 1):
                cand = _same_date_in(year, t0, tz)
                if cand is not None and _covers(series, cand, cand + span):
                    moved = cand
                    break
        if moved is None:
            how = " (nor on the same dates in the series' years)" if match_year else ""
            raise SeriesWindowError(
                f"series {series.name or ''} covers {series.start.isoformat()} to {series.end.isoformat()}; "
                f"the window {t0.isoformat()} to {(t0 + span).isoformat()} is not inside it{how}".replace("  ", " "))
        shift = moved - t0
    used_from = t0 + shift
    offset_min = (used_from - series.start) / timedelta(minutes=1)
    first = math.floor(offset_min / series.step_min)
    last = math.ceil((offset_min + n * step_min) / series.step_min)
    per_minute = np.repeat(np.asarray(series.values[first:last], dtype=float), series.step_min)
    lead = int(round(offset_min - first * series.step_min))
    minutes = per_minute[lead: lead + n * step_min]
    values = tuple(float(f"{v:.12g}") for v in minutes.reshape(n, step_min).mean(axis=1))  # no float dust
    days = round(shift / timedelta(days=1))
    used_from = used_from.astimezone(series.start.tzinfo)  # say it in the series' own clock
    used_to = used_from + span
    if days:
        note = (f"{series.name or 'series'}: the problem window {t0.isoformat()} to {(t0 + span).isoformat()} is "
                f"outside the series; used the same dates and clock times of {used_from.year}: "
                f"{used_from.isoformat()} to {used_to.isoformat()} ({days:+d} days"
                f"{', weekday differs' if used_from.weekday() != t0.weekday() else ''})")
    else:
        note = (f"{series.name or 'series'}: used {used_from.isoformat()} to {used_to.isoformat()}, "
                "the problem's own window")
    how = "mean" if step_min > series.step_min else "repeat" if step_min < series.step_min else "as is"
    note += f"; {series.step_min}-min values to {step_min}-min steps ({how})"
    return Window(values, step_min, series.unit, used_from, used_to, days, note)
