"""Normalise raw meter readings into interval energy: the data traps, one function each.

Every function takes and returns plain pandas frames; nothing is dropped silently: each row that is
changed, removed or created carries a ``quality`` flag, and every rejection names the file row.

Conventions: readings are stored per (meter, interval start in UTC); ``value`` is the quantity in the
interval (not a register), after the CT/PT multiplier, in the meter's unit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Meter:
    id: str
    site: str
    area: str = ""
    line: str = ""
    asset: str = ""
    medium: str = "electricity"  # electricity | gas | water | air | pv
    unit: str = "kWh"
    multiplier: float = 1.0  # CT ratio x PT ratio
    register: str = "interval"  # interval | cumulative
    stamp: str = "start"  # start | end: what the timestamp marks
    interval_min: int = 15
    timezone: str = "Asia/Shanghai"
    rollover: float | None = None  # register maximum (e.g. 999999.9) for cumulative meters
    revenue: bool = False  # the utility's billing meter: it, not sub-meters, feeds Scope 2


class Rejected(ValueError):
    """Rows that cannot be normalised: ``problems`` is a list of (row number, column, reason)."""

    def __init__(self, problems: list[tuple[int, str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"row {r}, column '{c}': {m}" for r, c, m in problems[:20]))


def to_utc(local: pd.Series, tz: str, rows: pd.Series) -> pd.Series:
    """Timestamps to naive UTC. Text with an offset is exact; local text is localised in ``tz``.

    Local times in a repeated DST hour are resolved by order (``ambiguous='infer'``, valid for a meter's
    chronological export); times that do not exist (spring-forward gap) are rejected with their rows.
    """
    text = local.astype(str)
    has_offset = text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True)
    out = pd.Series(pd.NaT, index=local.index, dtype="datetime64[ns]")
    if has_offset.any():
        out[has_offset] = pd.to_datetime(text[has_offset], utc=True, format="ISO8601").dt.tz_localize(None)
    loc = ~has_offset
    if loc.any():
        naive = pd.to_datetime(text[loc], format="ISO8601")
        try:
            aware = naive.dt.tz_localize(tz, ambiguous="infer", nonexistent="raise")
        except Exception as exc:  # pytz/zoneinfo raise different types; the message names the time
            bad = []
            for i, t in naive.items():
                try:
                    pd.Series([t]).dt.tz_localize(tz, ambiguous="raise", nonexistent="raise")
                except Exception:
                    bad.append((int(rows[i]), "timestamp", f"local time {t} does not exist or is ambiguous in {tz} "
                                                           f"(DST change); give the UTC offset ({exc.__class__.__name__})"))
            raise Rejected(bad or [(0, "timestamp", str(exc))]) from None
        out[loc] = aware.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def interval_start(ts: pd.Series, stamp: str, interval_min: int) -> pd.Series:
    """An interval-end stamp of 08:15 for a 15-minute interval is the interval starting at 08:00."""
    return ts - pd.Timedelta(minutes=interval_min) if stamp == "end" else ts


def register_to_intervals(df: pd.DataFrame, meter: Meter) -> pd.DataFrame:
    """Cumulative register readings (sorted by time) to interval deltas.

    A drop in the register is a **rollover** when the meter has a rollover value and the previous reading
    was in its top 10 % (delta = value + rollover - previous), otherwise a **reset** (meter exchange): that
    interval's energy is unknown and is left as a gap, flagged. The delta between two readings more than
    one interval apart is spread evenly over the intervals in between (flag ``spread``).
    """
    df = df.sort_values("ts").reset_index(drop=True)
    prev = df["value"].shift(1)
    delta = df["value"] - prev
    quality = pd.Series("", index=df.index, dtype=object)
    drop = delta < 0
    if meter.rollover:
        roll = drop & (prev >= 0.9 * meter.rollover)
        delta[roll] = df["value"][roll] + meter.rollover - prev[roll]
        quality[roll] = "rollover"
        drop &= ~roll
    quality[drop] = "reset"
    delta[drop] = np.nan
    step = pd.Timedelta(minutes=meter.interval_min)
    gap_steps = ((df["ts"] - df["ts"].shift(1)) / step).round()
    rows = []
    for i in range(1, len(df)):
        k = int(gap_steps[i]) if gap_steps[i] == gap_steps[i] else 1
        end = df["ts"][i]
        if k <= 1:
            rows.append((end - step, delta[i], quality[i], df["row"][i]))
        else:
            share = delta[i] / k if delta[i] == delta[i] else np.nan
            for j in range(k, 0, -1):
                rows.append((end - j * step, share, quality[i] or "spread", df["row"][i]))
    # A register reading at time t closes the interval [t - step, t): stamps are interval ends.
    return pd.DataFrame(rows, columns=["ts", "value", "quality", "row"])


def flag_spikes(df: pd.DataFrame, factor: float = 3.0, quantile: float = 0.99) -> pd.Series:
    """True where a value exceeds ``factor`` x the meter's 99th percentile in this import. Spikes are
    flagged, never changed. A high quantile, not a median: lines that switch between standby and full
    load are not spikes."""
    q = df["value"].quantile(quantile)
    return (df["value"] > factor * q) & (q > 0)


def gaps(df: pd.DataFrame, interval_min: int) -> pd.DataFrame:
    """Missing intervals between the first and last reading of a meter: (start, count)."""
    step = pd.Timedelta(minutes=interval_min)
    ts = df["ts"].sort_values()
    jumps = ts.diff() / step
    where = jumps[jumps > 1]
    return pd.DataFrame({"after": ts.shift(1)[where.index], "missing": (where - 1).astype(int)})


def fill_linear(df: pd.DataFrame, interval_min: int, max_gap: int = 4) -> pd.DataFrame:
    """Fill gaps of at most ``max_gap`` intervals by linear interpolation of the interval values (flag
    ``filled``). Longer gaps stay missing. Applied only when the import asks for it."""
    step = pd.Timedelta(minutes=interval_min)
    full = pd.date_range(df["ts"].min(), df["ts"].max(), freq=step)
    s = df.set_index("ts")["value"].reindex(full)
    missing = s.isna()
    runs = (missing != missing.shift()).cumsum()
    run_len = missing.groupby(runs).transform("sum")
    fillable = missing & (run_len <= max_gap)
    filled = s.interpolate(limit_area="inside")
    s[fillable] = filled[fillable]
    out = df.set_index("ts").reindex(full)
    out["value"] = s
    out["quality"] = out["quality"].where(~fillable, "filled").fillna("")
    out = out[out["value"].notna() | ~missing]
    return out.rename_axis("ts").reset_index()
