"""Normalise raw meter readings into interval energy: the data traps, one function each.

Every function takes and returns plain pandas frames; nothing is dropped silently: each row that is
changed, removed or created carries a ``quality`` flag, and every rejection names the file row.

Conventions: readings are stored per (meter, interval start in UTC); ``value`` is the quantity in the
interval (not a register), after the CT/PT multiplier, in the meter's unit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from zerocarbon.errors import RowsRejected, ZerocarbonError
from zerocarbon.units import scale


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

    @property
    def scaled_rollover(self) -> float | None:
        """The rollover in the terms the readings are differenced in: the registry gives the register's own
        maximum, as the meter shows it, and the deltas are taken after the CT/PT multiplier."""
        return None if self.rollover is None else self.rollover * self.multiplier


class Rejected(RowsRejected):
    """Rows that cannot be normalised: ``problems`` name row, column and reason; the caller adds the file."""


# -- how a file is written ---------------------------------------------------------------------------------
#: ``format: dayfirst`` in a profile: day/month/year with the separators plant exports use, minutes or seconds.
DAYFIRST_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S",
                    "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S")
#: ISO 8601 as both import engines read it: date, optional time, optional UTC offset.
ISO_STAMP = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$"
OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


@dataclass(frozen=True)
class MeterFileProfile:
    """How one exporting system writes a readings file (one profile per system, a YAML file beside the
    meter registry). The default profile is the project's own layout: ``meter, timestamp, value[, unit]``.

    ``stamp`` and ``timezone`` describe the file; when given they take precedence over the registry's values
    for the readings of that file. ``midnight="ends_day"`` says the file writes the midnight that closes a
    day as ``00:00`` of that same day (24:00): such a stamp is read as 00:00 of the next day.
    """

    name: str = "default"
    timestamp: str = "timestamp"  # column with the stamps
    value: str = "value"  # column with the quantity per interval (or the register)
    meter: str | None = "meter"  # column with the meter id, or None with ``meter_id``
    meter_id: str | None = None  # fixed meter of a one-meter file
    unit: str | None = None  # fixed unit of every value; else the ``unit_column`` when the file has it
    unit_column: str = "unit"
    keep: tuple[str, ...] = ()  # extra columns carried along with the readings
    date_format: str = "ISO8601"  # ISO8601 | dayfirst | a strftime pattern of local stamps
    stamp: str | None = None  # start | end; None: the registry's
    timezone: str | None = None  # IANA zone of stamps without offset; None: the registry's
    midnight: str = "starts_day"  # starts_day | ends_day
    encoding: str | None = None  # text encoding of a CSV (e.g. gb18030); None: detected (UTF-8, else GB18030)

    def column(self, field: str) -> str:
        """The file's own name for a canonical column (messages speak the user's words)."""
        return {"timestamp": self.timestamp, "value": self.value, "meter": self.meter or "meter",
                "unit": self.unit_column}.get(field, field)

    @property
    def formats(self) -> tuple[str, ...] | None:
        """strptime patterns to try in order, or None for ISO 8601."""
        if self.date_format.upper() == "ISO8601":
            return None
        if self.date_format.lower() == "dayfirst":
            return DAYFIRST_FORMATS
        return (self.date_format,)

    def describe_format(self) -> str:
        f = self.formats
        return "ISO 8601 (YYYY-MM-DD HH:MM[:SS][+HH:MM])" if f is None else " or ".join(f"'{x}'" for x in f)


DEFAULT_PROFILE = MeterFileProfile()


class Stamps(NamedTuple):
    ts: pd.Series  # naive datetime64: UTC where ``exact``, else the local wall time
    exact: pd.Series  # bool: the text carried a UTC offset
    problem: pd.Series  # "" or why the stamp cannot be read


def _nanoseconds(parsed: pd.Series) -> pd.Series:
    """``parsed`` as nanosecond datetimes; a stamp outside their range (years 1677-2262), which pandas parses at
    a coarser unit, becomes unreadable (NaT) rather than overflowing."""
    if parsed.dt.unit == "ns":
        return parsed
    held = (parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max)
    return parsed.where(held).astype("datetime64[ns]")


def parse_stamps(text: pd.Series, profile: MeterFileProfile = DEFAULT_PROFILE) -> Stamps:
    """Read stamps as written. Blank and unreadable stamps get a reason; nothing is dropped.

    The same rules are written in SQL for the out-of-core import (``store.lake_import``); tests prove both
    read the same files alike.
    """
    idx = text.index
    s = text.astype("string").str.strip()
    blank = (s.isna() | (s == "")).fillna(True).astype(bool)
    s = s.fillna("")
    out = pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]")
    problem = pd.Series("", index=idx, dtype=object)
    formats = profile.formats
    if formats is None:
        iso = s.str.match(ISO_STAMP).fillna(False).astype(bool) & ~blank
        exact = iso & s.str.contains(OFFSET, regex=True).fillna(False).astype(bool)
        if exact.any():
            out[exact] = _nanoseconds(pd.to_datetime(s[exact], utc=True, format="ISO8601", errors="coerce")
                                      .dt.tz_localize(None))
        local = iso & ~exact
        if local.any():
            out[local] = _nanoseconds(pd.to_datetime(s[local], format="ISO8601", errors="coerce"))
    else:
        exact = pd.Series(False, index=idx)
        for f in formats:
            todo = out.isna() & ~blank
            if not todo.any():
                break
            out[todo] = _nanoseconds(pd.to_datetime(s[todo], format=f, errors="coerce"))
    bad = out.isna() & ~blank
    problem[blank] = "timestamp is blank"
    problem[bad] = [f"'{t}' is not a timestamp in {profile.describe_format()}" for t in s[bad]]
    if profile.midnight == "ends_day":
        midnight = ~exact & out.notna() & (out == out.dt.normalize())
        out[midnight] = out[midnight] + pd.Timedelta(days=1)
    return Stamps(out, exact.astype(bool), problem)


def dst_windows(tz: str, start, end) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
    """Local wall-time windows ``[from, to)`` around the clock changes of ``tz`` near two local times:
    ``gap`` (those times do not exist: clocks go forward) or ``repeat`` (they happen twice: clocks go back)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    lo = pd.Timestamp(start).tz_localize("UTC") - pd.Timedelta(days=2)
    hi = pd.Timestamp(end).tz_localize("UTC") + pd.Timedelta(days=2)
    hours = pd.date_range(lo.floor("h"), hi.ceil("h"), freq="h")

    def offset(t):
        return t.to_pydatetime().astimezone(zone).utcoffset()

    offsets = [offset(t) for t in hours]
    out = []
    for i in range(1, len(hours)):
        if offsets[i] == offsets[i - 1]:
            continue
        a, b = hours[i - 1], hours[i]  # the change happened in (a, b]: find its minute
        while b - a > pd.Timedelta(minutes=1):
            mid = a + (b - a) / 2
            a, b = (mid, b) if offset(mid) == offsets[i - 1] else (a, mid)
        before, after = offsets[i - 1], offsets[i]
        at = b.tz_localize(None)
        out.append((at + before, at + after, "gap") if after > before else (at + after, at + before, "repeat"))
    return out


def dst_reason(t, tz: str, kind: str) -> str:
    if kind == "gap":
        return f"local time {t} does not exist in {tz} (clocks go forward); give the UTC offset"
    return (f"local time {t} happens twice in {tz} (clocks go back) and the file order does not say which; "
            f"give the UTC offset")


def localise(stamps: Stamps, tz: str, rows: pd.Series) -> pd.Series:
    """Stamps to naive UTC. Exact stamps stay; local ones are localised in ``tz``.

    Local times in a repeated DST hour are resolved by order (``ambiguous='infer'``, valid for a meter's
    chronological export); times that do not exist (spring-forward gap) are rejected with their rows.
    """
    out = stamps.ts.copy()
    loc = ~stamps.exact & stamps.ts.notna()
    if loc.any():
        naive = stamps.ts[loc]
        try:
            aware = naive.dt.tz_localize(tz, ambiguous="infer", nonexistent="raise")
        except Exception:  # pytz/zoneinfo raise different types; the windows below name the rows
            bad = []
            for lo, hi, kind in dst_windows(tz, naive.min(), naive.max()):
                hit = (naive >= lo) & (naive < hi)
                bad += [(int(rows[i]), "timestamp", dst_reason(t, tz, kind)) for i, t in naive[hit].items()]
            raise Rejected(bad or [(int(rows[naive.index[0]]), "timestamp",
                                    f"local times cannot be placed in {tz}; give the UTC offset")]) from None
        out[loc] = aware.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def to_utc(local: pd.Series, tz: str, rows: pd.Series, profile: MeterFileProfile = DEFAULT_PROFILE) -> pd.Series:
    """Text stamps to naive UTC (:func:`parse_stamps` then :func:`localise`); unreadable ones are rejected."""
    stamps = parse_stamps(local, profile)
    bad = stamps.problem != ""
    if bad.any():
        raise Rejected([(int(rows[i]), "timestamp", p) for i, p in stamps.problem[bad].items()])
    return localise(stamps, tz, rows)


def order_problems(ts: pd.Series, local: pd.Series, text: pd.Series, rows: pd.Series) -> list[tuple[int, str]]:
    """One meter's stamps in file order: a stamp earlier than the one before it is a problem.

    Repeats of a stamp already seen are left to the duplicate rule. ``ts`` is UTC (so a DST fall-back,
    where local time steps back, is in order); ``local`` is the wall time as written, used to explain the
    common case of an export that writes the midnight closing a day as 00:00 of that same day.
    """
    first = ~ts.duplicated(keep="first")
    t = ts[first]
    back = t < t.shift(1)
    out = []
    for i in back[back].index:
        j = t.index[t.index.get_loc(i) - 1]
        out.append((int(rows[i]), order_reason(text[i], text[j], int(rows[j]), local[i], local[j])))
    return out


def order_reason(text, prev_text, prev_row: int, local, prev_local) -> str:
    """Why a stamp is out of order, naming the likely cause (both import engines give this text)."""
    why = f"'{text}' comes after '{prev_text}' (row {prev_row}): stamps are out of time order"
    local, prev_local = pd.Timestamp(local), pd.Timestamp(prev_local)
    if local == local.normalize() and prev_local.normalize() == local:
        return why + ("; the file seems to write the midnight that closes a day as 00:00 of that same day: if "
                      "so, declare `midnight: ends_day` in the file's profile, else sort the file by time")
    return why + "; sort the file by time, or check the date format (day-first or month-first)"


#: what a meter's quantity is, by a unit of it: names a unit's dimension in messages
DIMENSIONS = (("energy", "kWh"), ("power", "kW"), ("volume", "m**3"), ("normal volume of gas", "Nm3"),
              ("mass", "kg"), ("time", "h"), ("length", "m"), ("area", "m**2"))
#: units of plant exports, offered when a unit is written in the wrong case
COMMON_UNITS = ("kWh", "MWh", "Wh", "GWh", "kVArh", "kW", "MW", "GJ", "MJ", "kJ", "Nm3", "kg", "t", "L")


def _dimension(unit: str) -> str | None:
    from zerocarbon.units import parse_unit

    try:
        dim = parse_unit(unit).dimensionality
    except ZerocarbonError:
        return None
    for name, ref in DIMENSIONS:
        try:
            if parse_unit(ref).dimensionality == dim:
                return name
        except ZerocarbonError:
            continue
    return None


def _unit_hint(text: str, meter: Meter) -> str:
    """What a unit the registry cannot read was probably meant to be: a known unit in other letter case, or a
    unit whose power is written without ``**`` (``m3``) -- then of which dimension."""
    import re

    from zerocarbon.units import parse_unit

    for cand in dict.fromkeys((meter.unit, *COMMON_UNITS)):
        if cand.lower() == text.lower() and cand != text:
            return f"; did you mean {cand}?"
    power = re.sub(r"([A-Za-z])([23])$", r"\1**\2", text)
    if power != text:
        try:
            parse_unit(power)
        except ZerocarbonError:
            return ""
        dim, want = _dimension(power), _dimension(meter.unit)
        if dim == want:
            return f"; did you mean {power}?"
        if dim and want:
            return f"; written {power} it is a {dim} unit: the wrong dimension ({dim}, not {want})"
    return ""


def unit_factor(from_unit: str, meter: Meter) -> tuple[float | None, str]:
    """Multiplier from a reading's unit into ``meter``'s unit, or (None, why not) -- with a hint at the likely
    intent (letter case, wrong dimension). Files and the live feed both go through it."""
    if from_unit is None or not str(from_unit).strip():
        return None, f"unit is blank (meter {meter.id} is in {meter.unit})"
    text = str(from_unit).strip()
    try:
        return scale(text, meter.unit), ""
    except ZerocarbonError as exc:
        dim, want = _dimension(text), _dimension(meter.unit)
        if dim and want and dim != want:
            why = f"'{text}' cannot be converted to '{meter.unit}': the wrong dimension ({dim}, not {want})"
        else:
            why = f"{exc}{_unit_hint(text, meter) if dim is None and want else ''}"
        return None, f"{why} (meter {meter.id} is in {meter.unit})"


def reading_problems(frame: pd.DataFrame, meters: dict[str, Meter]) -> tuple[pd.Series, list[tuple[object, str, str]]]:
    """The rules every reading obeys, from a file or from the live feed: a registered meter; a finite,
    non-negative number; a known unit of the meter's dimension.

    ``frame`` has ``meter``, ``value`` (as read: text or number) and optionally ``unit`` (else the meter's).
    Returns each row's value in the meter's unit, before the CT/PT multiplier (NaN where refused), and the
    problems as (index, column, reason).
    """
    probs: list[tuple[object, str, str]] = []
    # a blank cell is said as such: ``astype(str)`` would name it meter 'nan'
    blank_meter = frame["meter"].isna() | (frame["meter"].astype("string").str.strip() == "").fillna(True)
    meter = frame["meter"].astype(str)
    unknown = ~meter.isin(list(meters)) | blank_meter.to_numpy(bool)
    probs += [(i, "meter", "meter is blank") for i in frame.index[blank_meter.to_numpy(bool)]]
    probs += [(i, "meter", f"unknown meter '{m}' (not in the meter registry)")
              for i, m in meter[unknown & ~blank_meter.to_numpy(bool)].items()]
    raw = frame["value"]
    text = raw.astype("string").str.strip()
    value = pd.to_numeric(raw, errors="coerce").astype(float)
    blank = (raw.isna() | (text == "")).fillna(True).astype(bool)
    probs += [(i, "value", "value is blank") for i in raw[blank].index]
    for i, v in raw[value.isna() & ~blank].items():
        try:
            float(v)
            probs.append((i, "value", f"'{v}' is not a finite number"))
        except (TypeError, ValueError):
            probs.append((i, "value", f"'{v}' is not a number"))
    probs += [(i, "value", f"'{v}' is not a finite number") for i, v in raw[np.isinf(value)].items()]
    probs += [(i, "value", f"negative reading {v}") for i, v in raw[value < 0].items()]
    factor = np.ones(len(frame))
    if "unit" in frame:
        # one pint conversion per distinct (unit, meter unit); the rows then take theirs by code
        known = ~unknown.to_numpy()
        to_unit = meter.map({k: m.unit for k, m in meters.items()}).fillna("")
        units = frame["unit"].astype("string").str.strip().fillna("")
        codes, pairs = pd.MultiIndex.from_arrays([units.to_numpy(object), to_unit.to_numpy(object)]).factorize()
        for c, (u, _) in enumerate(pairs):
            rows = known & (codes == c)
            if not rows.any():
                continue
            first = meters[meter[rows].iloc[0]]
            f, _ = unit_factor(u, first)
            if f is None:
                probs += [(i, "unit", unit_factor(u, meters[mid])[1]) for i, mid in meter[rows].items()]
            else:
                factor[rows] = f
    refused = frame.index.isin([i for i, _, _ in probs])
    return (value * factor).where(~refused), probs


class Changed(NamedTuple):
    """One reading that differs from the value the lake holds for its (meter, interval start)."""

    meter: Meter
    ts: object  # interval start, naive UTC
    stored: float  # in the meter's unit, as stored
    new: float  # in the meter's unit, multiplier applied
    row: int | None = None  # the file's row (None: a register interval, or not found)
    written: str | None = None  # the stamp as the file writes it
    raw: float | None = None  # the file's own number (an interval meter's)
    unit: str | None = None  # the file's unit of it


CORRECTING = ("A changed reading is refused on purpose: the lake keeps the value first stored, so that a report "
              "once made can be made again. There is no correction command; see 'Correcting stored readings' in "
              "docs/ingest.md for the manual path.")


def changed_reason(changed: list[Changed], count: int) -> str:
    """Why an import that changes stored readings is refused, for both import engines: each reading by the
    file's row, its time in UTC and in the meter's local time (as the file has it), and the file's number
    beside the value after unit conversion and multiplier."""
    parts = []
    for c in changed:
        m, t = c.meter, pd.Timestamp(c.ts)
        local = t.tz_localize("UTC").tz_convert(m.timezone)
        at = f"{t:%Y-%m-%d %H:%M} UTC = {local:%Y-%m-%d %H:%M} {m.timezone}"
        if c.written is not None:
            at += f", written '{c.written}'"
        where = f"row {c.row}: " if c.row is not None else ""
        if c.raw is not None:
            unit = c.unit or m.unit
            how = f"file {c.raw:g} {unit}" if unit != m.unit else f"file {c.raw:g}"
            if unit != m.unit:
                how += f" = {c.new / m.multiplier:g} {m.unit}"
            if m.multiplier != 1:
                how += f" x multiplier {m.multiplier:g}"
            new = f"{how} = {c.new:g} {m.unit}"
        else:
            new = f"{c.new:g} {m.unit}" + (" (from the register readings)" if m.register == "cumulative" else "")
        parts.append(f"{where}{m.id} at {at} (interval start): stored {c.stored:g} {m.unit}, new {new}")
    more = f"; and {count - len(changed)} more" if count > len(changed) else ""
    return (f"{count} reading(s) differ from what the lake holds for the same meter and interval ("
            f"{'; '.join(parts)}{more}); nothing was written. {CORRECTING}")


def interval_start(ts: pd.Series, stamp: str, interval_min: int) -> pd.Series:
    """An interval-end stamp of 08:15 for a 15-minute interval is the interval starting at 08:00."""
    return ts - pd.Timedelta(minutes=interval_min) if stamp == "end" else ts


def local_times(ts, tz) -> np.ndarray:
    """Naive UTC instants (numpy/pandas/Arrow array or a list) as naive wall times in ``tz`` (one zone, or one
    per instant): one conversion per distinct zone."""
    t = ts.to_numpy(zero_copy_only=False) if hasattr(ts, "to_numpy") and not isinstance(ts, (pd.Series, pd.Index)) \
        else ts
    t = np.asarray(pd.to_datetime(np.asarray(t)), dtype="datetime64[ns]")
    out = np.empty(len(t), "datetime64[ns]")
    zones = np.broadcast_to(np.asarray(tz, dtype=object), t.shape)
    uniq = [tz] if isinstance(tz, str) else pd.unique(zones)
    for z in uniq:
        rows = slice(None) if len(uniq) == 1 else zones == z
        out[rows] = pd.DatetimeIndex(t[rows]).tz_localize("UTC").tz_convert(str(z)).tz_localize(None).to_numpy()
    return out


def off_grid(ts, tz, interval_min) -> tuple[np.ndarray, np.ndarray]:
    """The grid rule, for files and the live feed alike: a reading's interval start (naive UTC) must lie on its
    meter's interval grid **in the meter's local time** -- the minute of the local day divisible by
    ``interval_min``, zero seconds -- so that 60-minute meters in a +05:30 zone start on their local hours.
    ``tz`` and ``interval_min`` are one value or one per reading. Returns a bool array (True: off the grid)
    and the local wall times (for :func:`grid_reason`)."""
    local = local_times(ts, tz)
    since_midnight = (local - local.astype("datetime64[D]")).astype("timedelta64[ns]").astype(np.int64)
    step = np.asarray(interval_min, np.int64) * 60_000_000_000
    return since_midnight % step != 0, local


def grid_reason(local, interval_min: int, tz: str) -> str:
    """Why an interval start is refused by :func:`off_grid` (both import engines and the live feed give this)."""
    t = pd.Timestamp(local)
    at = f"{t:%Y-%m-%d %H:%M}" + (f":{t:%S}" if t.second or t.microsecond else "")
    tail = f":{t:%M}" + (f":{t:%S}" if t.second or t.microsecond else "")
    return (f"not on the meter's {interval_min}-min grid (…{tail}): interval start {at} local time ({tz}); a "
            f"{interval_min}-min meter's intervals start at minutes of the local day divisible by {interval_min}, "
            f"zero seconds")


# -- the interval rules, one definition for both import paths -------------------------------------------
# The careful (pandas) path runs them on one meter's whole series, the bulk path (``store.lake_import``) on
# batches of a stream with each meter's last reading carried over; both call the functions below (and the
# bulk path's SQL for the spike quantile is generated from the same constants), so the two cannot drift.

#: a value above SPIKE_FACTOR x the meter's SPIKE_QUANTILE (of its intervals in the import) is a spike
SPIKE_FACTOR = 3.0
SPIKE_QUANTILE = 0.99
#: a falling register is a rollover when the previous reading was in the top share of the rollover value
ROLLOVER_SHARE = 0.9
#: quality flags as stored, by code
QUALITY = ("", "reset", "rollover", "spread", "spike")
OK, RESET, ROLLOVER, SPREAD, SPIKE = range(5)


def register_deltas(value: np.ndarray, prev: np.ndarray, rollover: np.ndarray | float | None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Energy between two cumulative register readings, and its quality code.

    A drop in the register is a **rollover** when the meter has a rollover value and the previous reading
    was in its top ROLLOVER_SHARE (delta = value + rollover - previous), otherwise a **reset** (meter
    exchange): that energy is unknown (NaN), flagged."""
    value, prev = np.asarray(value, float), np.asarray(prev, float)
    roll_at = np.broadcast_to(np.nan if rollover is None else np.asarray(rollover, float), value.shape)
    delta = value - prev
    drop = delta < 0
    roll = drop & (roll_at > 0) & (prev >= ROLLOVER_SHARE * roll_at)
    delta = np.where(roll, value + roll_at - prev, delta)
    reset = drop & ~roll
    delta[reset] = np.nan
    return delta, np.where(roll, ROLLOVER, np.where(reset, RESET, OK)).astype(np.int8)


def spread(end_us: np.ndarray, prev_us: np.ndarray, delta: np.ndarray, quality: np.ndarray, step_us: np.ndarray | int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Register deltas to intervals. A reading at t closes the interval [t - step, t); a delta across k
    steps (k = the gap in steps, rounded half to even, at least 1) is spread evenly over them (flag
    ``spread`` unless already flagged). Times are integer microseconds. Returns interval start, value,
    quality code and the index of the delta each interval comes from."""
    step = np.broadcast_to(np.asarray(step_us, np.int64), np.shape(end_us))
    k = np.maximum(np.rint((end_us - prev_us) / step), 1).astype(np.int64)
    src = np.repeat(np.arange(len(k)), k)
    first = np.cumsum(k) - k
    j = k[src] - (np.arange(len(src)) - first[src])  # k, k-1, ..., 1 within each delta
    value = np.where(k > 1, delta / k, delta)[src]
    q = np.where((quality == OK) & (k > 1), SPREAD, quality).astype(np.int8)[src]
    return end_us[src] - j * step[src], value, q, src


def missing_between(diff_us: np.ndarray, step_us) -> np.ndarray:
    """Intervals missing between consecutive interval starts ``diff_us`` apart (whole steps only)."""
    jumps = np.asarray(diff_us) / step_us
    return np.where(jumps > 1, np.floor(jumps - 1), 0).astype(np.int64)


def spike_ranks(n):
    """Where the meter's SPIKE_QUANTILE lies among its ``n`` sorted values: the fractional rank and the two
    ranks around it (0-based)."""
    rn = (np.asarray(n, np.int64) - 1) * SPIKE_QUANTILE
    return rn, np.floor(rn).astype(np.int64), np.ceil(rn).astype(np.int64)


def spike_interpolate(lo, hi, rn, lo_rank):
    """The quantile between the values at the two ranks around ``rn``, linearly (numpy's and pandas' method;
    written out once so both import paths compute the same bits from the same two values)."""
    return lo + (hi - lo) * (rn - lo_rank)


def spike_quantile(values: np.ndarray) -> float:
    """The meter's SPIKE_QUANTILE of ``values`` (NaN ignored; NaN when none)."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    if not len(v):
        return float("nan")
    rn, lo, hi = spike_ranks(len(v))
    part = np.partition(v, [int(lo), int(hi)])
    return float(spike_interpolate(part[int(lo)], part[int(hi)], rn, lo))


def spike_sql(value: str, quantile: str) -> str:
    """The spike rule as a SQL condition on a value and the meter's quantile."""
    return f"({quantile} > 0 AND {value} > {SPIKE_FACTOR!r} * {quantile})"


def register_to_intervals(df: pd.DataFrame, meter: Meter) -> pd.DataFrame:
    """Cumulative register readings (sorted by time) to interval deltas (:func:`register_deltas`,
    :func:`spread`); a reset leaves its intervals as a flagged gap (value NaN)."""
    df = df.sort_values("ts").reset_index(drop=True)
    ts = df["ts"].to_numpy("datetime64[us]").astype(np.int64)
    v = df["value"].to_numpy(float)
    delta, q = register_deltas(v[1:], v[:-1], meter.scaled_rollover)
    start, value, quality, src = spread(ts[1:], ts[:-1], delta, q, meter.interval_min * 60_000_000)
    return pd.DataFrame({"ts": start.astype("datetime64[us]").astype("datetime64[ns]"), "value": value,
                         "quality": np.asarray(QUALITY, dtype=object)[quality],
                         "row": df["row"].to_numpy()[1:][src]})


def flag_spikes(df: pd.DataFrame) -> pd.Series:
    """True where a value exceeds SPIKE_FACTOR x the meter's SPIKE_QUANTILE in this import
    (:func:`spike_quantile`). Spikes are flagged, never changed. A high quantile, not a median: lines that
    switch between standby and full load are not spikes."""
    q = spike_quantile(df["value"].to_numpy(float))
    return (df["value"] > SPIKE_FACTOR * q) & (q > 0)


def gaps(df: pd.DataFrame, interval_min: int) -> pd.DataFrame:
    """Missing intervals between the first and last reading of a meter: (after, count)."""
    ts = df["ts"].sort_values()
    diff = ts.diff().to_numpy("timedelta64[us]").astype(np.int64)
    missing = pd.Series(missing_between(diff, interval_min * 60_000_000), index=ts.index)
    missing.iloc[:1] = 0
    where = missing > 0
    return pd.DataFrame({"after": ts.shift(1)[where], "missing": missing[where].astype(int)})


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
