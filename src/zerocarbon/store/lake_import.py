"""Out-of-core bulk import into the lake: one streaming pass over the file, bounded memory, large files.

Accepted input: Parquet or CSV laid out as a meter-file profile says (by default ``meter, timestamp,
value[, unit]``). Stamps are read as ``core.energy.intervals.parse_stamps`` reads them: ISO 8601 with or
without a UTC offset, or the profile's day-first or strftime pattern; local stamps are placed in the
profile's or the meter's zone. A local stamp inside a clock change is refused here, the repeated autumn
hour included: resolving it needs each meter's whole series, which the careful (pandas) path holds.

How the pass works. DuckDB reads the file in order and, per row, parses the stamp (UTC, or local wall time
placed in the meter's zone), the value, and the meter's index in the registry (an ENUM cast), and names the
first reason a row cannot be used; rows stream out as Arrow batches. Python then runs the interval rules of
``core.energy.intervals`` on each batch, with each meter's last reading carried from batch to batch: unit
factor and multiplier, interval-end stamps to interval starts, interval starts on the meter's grid in its
local time (``off_grid``), duplicates (an identical repeat is dropped, a
different value is a conflict), stamps out of time order, cumulative registers to intervals (rollover, reset,
spread), missing intervals. Intervals are appended to one Parquet file per site and UTC month of the import
(row groups of up to 128 Ki rows; sorted by meter and ts when the file is) in a staging folder, written on
worker threads. Memory, whatever the size of the input: one batch, each meter's carried state, one meter's
intervals (for its spike flags, at most HELD_ROWS), at most BUFFERED rows waiting for their row group over all
open files and four row groups queued for the writers; DuckDB's own within ``memory_limit``.

Spike flags are set in the stream while the file comes meter by meter (one meter's intervals held until the
next meter starts; see ``_Spikes``); for other files they are set after the pass from the staged files (a
bounded top-k per meter gives each meter's quantile). Staged files of a month the lake already holds are
checked against it (a different stored value is a conflict: nothing is written; an identical one is not
written again). Only files that overlap the lake, or need flags set after the pass, are rewritten; the others
move into the lake as they are. Nothing is moved before every check has passed.

A row that goes back in time for its meter (rare: files are exported in time order) is set aside and judged
after the pass against the whole file, as the careful path judges it: a repeat of a stamp seen before is a
duplicate (identical) or a conflict (different value), anything else is out of order.
"""
from __future__ import annotations

import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from zerocarbon.core.energy.intervals import (DEFAULT_PROFILE, ISO_STAMP, Changed, changed_reason, OFFSET, OK, QUALITY, RESET, ROLLOVER, SPIKE,
                                              SPIKE_FACTOR, Meter, MeterFileProfile, dst_reason, dst_windows,
                                              grid_reason, missing_between, off_grid, order_reason, register_deltas,
                                              spike_interpolate,
                                              spike_quantile, spike_ranks, spike_sql, spread, unit_factor)
from zerocarbon.core.sheet_rows import SheetRows
from zerocarbon.core.readings_sql import BATCH_ROWS  # rows per batch of the stream: where its problems stop
from zerocarbon.errors import RowsRejected
from zerocarbon.store import lake
from zerocarbon.store.engines import duckdb_file, duckdb_literal, ordered_duckdb

ROW_GROUP = 1 << 17  # rows per Parquet row group written, at most
BUFFERED = 1 << 22  # rows waiting for their row group, over all open files: the memory bound of the writer
HELD_ROWS = 1 << 23  # intervals of one meter held for its spike flags before they are written
MAX_PROBLEMS = 50
#: the month (counted from MONTH0, months since 1970-01) of every UTC day from DAY0: places intervals in month files
DAY0 = int(np.datetime64("1900-01-01", "D").astype(np.int64))
MONTH0 = int(np.datetime64("1900-01", "M").astype(np.int64))
MONTH_OF_DAY = (np.arange("1900-01-01", "2200-01-01", dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)
                - MONTH0).astype(np.int32)
US_PER_DAY = 86_400_000_000
TS_MIN = DAY0 * US_PER_DAY + 2 * US_PER_DAY  # a margin for interval-end stamps and register spreads
TS_MAX = (DAY0 + len(MONTH_OF_DAY)) * US_PER_DAY - 2 * US_PER_DAY
US_PER_MIN = 60_000_000


class BulkRejected(RowsRejected):
    """What the import refused: ``problems`` name record, column and reason; the caller adds the file."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _source(path: Path, numbered: bool = False) -> tuple[str, int]:
    """The file as a relation (with ``file_row_number`` when ``numbered``), and what to add to a 0-based row
    index for the row numbers the pandas path reports (spreadsheet rows for CSV, where the header is row 1;
    records for Parquet)."""
    p = duckdb_literal(path)
    if path.suffix.lower() == ".parquet":
        return f"read_parquet({p}{', file_row_number = true' if numbered else ''})", 1
    csv = f"read_csv({p}, all_varchar = true, header = true)"
    return (f"(SELECT *, row_number() OVER () - 1 AS file_row_number FROM {csv})" if numbered else csv), 2


def _stamp_sql(types: dict, profile: MeterFileProfile) -> tuple[str, str, str, str]:
    """SQL for (text as written, exact UTC, local wall time, exact?) of the stamp column: the rules of
    ``core.energy.intervals.parse_stamps``."""
    col = f"s.{_q(profile.timestamp)}"
    typed = types.get(profile.timestamp, "VARCHAR")
    if typed == "TIMESTAMP WITH TIME ZONE":
        # UTC from the instant's microseconds: `AT TIME ZONE 'UTC'` goes through the time-zone library for every
        # row, which cost more than the rest of the pass together
        return (f"CAST({col} AS VARCHAR)", f"make_timestamp(epoch_us({col}))", "CAST(NULL AS TIMESTAMP)",
                f"{col} IS NOT NULL")
    if typed.startswith("TIMESTAMP"):
        text, exact, local = f"CAST({col} AS VARCHAR)", "false", f"CAST({col} AS TIMESTAMP)"
    else:
        text = f"trim(CAST({col} AS VARCHAR))"
        formats = profile.formats
        if formats is None:
            iso = f"regexp_full_match({text}, {_lit(ISO_STAMP)})"
            exact = f"coalesce({iso} AND regexp_matches({text}, {_lit(OFFSET)}), false)"
            local = f"CASE WHEN {iso} AND NOT {exact} THEN TRY_CAST({text} AS TIMESTAMP) END"
        else:
            exact = "false"
            local = f"try_strptime({text}, [{', '.join(_lit(f) for f in formats)}])"
    if profile.midnight == "ends_day":
        local = f"(CASE WHEN CAST({local} AS TIME) = TIME '00:00:00' THEN {local} + INTERVAL 1 DAY ELSE {local} END)"
    utc = f"CASE WHEN {exact} THEN make_timestamp(epoch_us(TRY_CAST({text} AS TIMESTAMPTZ))) END"
    return text, utc, local, exact


class _Plan:
    """The registry as arrays by meter index, and the SQL that reads the file into rows of that index."""

    def __init__(self, con, meters: dict[str, Meter], path: Path, profile: MeterFileProfile, sheet: SheetRows):
        self.sheet = sheet  # the reader's row numbers to the file's, for row numbers written into a reason's text
        self.ids = list(meters)
        ms = [meters[i] for i in self.ids]
        self.meters, self.profile = ms, profile
        self.multiplier = np.array([m.multiplier for m in ms], float)
        self.cumulative = np.array([m.register == "cumulative" for m in ms], bool)
        self.any_cumulative = bool(self.cumulative.any())
        self.rollover = np.array([np.nan if m.rollover is None else m.scaled_rollover for m in ms], float)
        self.step = np.array([m.interval_min * US_PER_MIN for m in ms], np.int64)
        stamp = [profile.stamp or m.stamp for m in ms]
        self.shift = np.where([s == "end" and m.register == "interval" for s, m in zip(stamp, ms)], self.step, 0)
        self.any_shift = bool(self.shift.any())
        self.tz = [profile.timezone or m.timezone for m in ms]
        self.zone = np.array([m.timezone for m in ms], object)  # the meter's grid is in its own local time
        self.minutes = np.array([m.interval_min for m in ms], np.int64)
        self.sites = sorted({m.site for m in ms})
        self.site = np.array([self.sites.index(m.site) for m in ms], np.int32)
        self.units = sorted({m.unit for m in ms})
        self.unit = np.array([self.units.index(m.unit) for m in ms], np.int32)
        con.execute("CREATE TYPE meter_id AS ENUM (" + ", ".join(_lit(i) for i in self.ids) + ")")
        source, self.first_row = _source(path)
        types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        wanted = [profile.timestamp, profile.value] + ([profile.meter] if profile.meter else []) + list(profile.keep)
        missing = [c for c in dict.fromkeys(wanted) if c not in types]
        if missing:
            raise BulkRejected([(1, c, f"required column is missing (profile {profile.name})") for c in missing])
        meter = f"CAST(s.{_q(profile.meter)} AS VARCHAR)" if profile.meter else _lit(profile.meter_id)
        self.fixed_unit = profile.unit
        self.has_unit = profile.unit is None and profile.unit_column in types
        unit = f", trim(CAST(s.{_q(profile.unit_column)} AS VARCHAR)) AS unit" if self.has_unit else ""
        text, exact_utc, local, exact = _stamp_sql(types, profile)
        self.may_be_local = types.get(profile.timestamp) != "TIMESTAMP WITH TIME ZONE"
        zones = sorted(set(self.tz))
        tz = _lit(zones[0]) if len(zones) == 1 else "[" + ", ".join(_lit(z) for z in self.tz) + "][code + 1]"
        described = profile.describe_format().replace("'", "''")
        value = f"s.{_q(profile.value)}"
        # The first reason a row cannot be used, in the order the careful path checks them. A usable row is
        # recognised by the first test; the texts of a message are built only for the others.
        col = f"s.{_q(profile.timestamp)}"
        ts_text = text.replace(col, "ts_raw")
        self.ts_text = ts_text
        self.inner = f"""
            SELECT CAST(enum_code(TRY_CAST({meter} AS meter_id)) AS INTEGER) AS code, {meter} AS meter_raw,
                   {col} AS ts_raw, {exact_utc} AS exact_utc, {local} AS local, {exact} AS exact,
                   TRY_CAST({value} AS DOUBLE) AS value, {value} AS value_raw{unit}
            FROM @SOURCE@ s"""
        self.select = f"""
            SELECT code,
                   CASE WHEN exact THEN exact_utc ELSE make_timestamp(epoch_us(timezone({tz}, local))) END AS ts,
                   value, exact, local{', unit' if self.has_unit else ''},
                   CASE WHEN code IS NOT NULL AND value >= 0 AND isfinite(value)
                             AND CASE WHEN exact THEN exact_utc IS NOT NULL ELSE local IS NOT NULL END THEN NULL
                        WHEN code IS NULL AND coalesce(trim(meter_raw), '') = '' THEN 'meter|meter is blank'
                        WHEN code IS NULL THEN 'meter|unknown meter ''' || meter_raw || ''' (not in the meter registry)'
                        WHEN value_raw IS NULL OR trim(CAST(value_raw AS VARCHAR)) = '' THEN 'value|value is blank'
                        WHEN value IS NULL THEN 'value|''' || CAST(value_raw AS VARCHAR) || ''' is not a number'
                        WHEN NOT isfinite(value) THEN 'value|''' || CAST(value_raw AS VARCHAR) || ''' is not a finite number'
                        WHEN value < 0 THEN 'value|negative reading ' || CAST(value_raw AS VARCHAR)
                        WHEN {ts_text} IS NULL OR {ts_text} = '' THEN 'timestamp|timestamp is blank'
                        ELSE 'timestamp|''' || {ts_text} || ''' is not a timestamp in {described}' END AS problem
            FROM (@INNER@)"""
        self.path = path
        self._factors: dict[tuple[str, int], tuple[float, str]] = {}
        self._windows: dict[tuple[str, int], list] = {}

    def stream_sql(self) -> str:
        source, _ = _source(self.path)
        return self.select.replace("@INNER@", self.inner.replace("@SOURCE@", source))

    def numbered_sql(self) -> str:
        """Every row with its record number and stamp text: the slow lookups of rare problems."""
        source, first = _source(self.path, numbered=True)
        inner = self.inner.replace("SELECT ", f"SELECT s.file_row_number + {first} AS record, ", 1)
        return (self.select.replace("SELECT code,", f"SELECT record, {self.ts_text} AS ts_text, code,", 1)
                .replace("@INNER@", inner.replace("@SOURCE@", source)))

    def factor(self, units: pa.Array | None, code: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, list]:
        """Unit factor per row (1 without a unit) and the rows whose unit cannot be converted (index, reason):
        ``core.energy.intervals.unit_factor`` once per (unit, meter)."""
        out = np.ones(len(code))
        if units is None and self.fixed_unit is None:
            return out, []
        if units is None:
            names, idx = [self.fixed_unit], np.zeros(len(code), np.int64)
        else:
            enc = pc.dictionary_encode(pc.fill_null(units, ""))
            names, idx = enc.dictionary.to_pylist(), enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        keys = idx * len(self.ids) + np.where(ok, code, 0)
        uniq, inverse = np.unique(keys, return_inverse=True)
        factors, reasons = np.ones(len(uniq)), [""] * len(uniq)
        for j, key in enumerate(uniq.tolist()):
            u, c = names[key // len(self.ids)], key % len(self.ids)
            f, why = self._factors.get((u, c)) or self._factors.setdefault((u, c), unit_factor(u, self.meters[c]))
            factors[j], reasons[j] = (np.nan, why) if f is None else (f, "")
        out = factors[inverse]
        bad = [(i, reasons[inverse[i]]) for i in np.flatnonzero(ok & np.isnan(out))]
        return np.where(ok, out, 1.0), bad

    def dst_hits(self, code: np.ndarray, local: np.ndarray) -> list[tuple[int, str]]:
        """Rows (index, reason) whose local stamp falls into a clock change of its meter's zone."""
        out = []
        for tz in set(self.tz[c] for c in np.unique(code)):
            rows = np.flatnonzero(np.array([self.tz[c] == tz for c in range(len(self.ids))])[code])
            t = local[rows]
            years = range(int(t.min().astype("datetime64[Y]").astype(int)) + 1970,
                          int(t.max().astype("datetime64[Y]").astype(int)) + 1971)
            for y in years:
                key = (tz, y)
                if key not in self._windows:
                    self._windows[key] = dst_windows(tz, f"{y}-01-01", f"{y}-12-31 23:59")
                for lo, hi, kind in self._windows[key]:
                    hit = (t >= lo.to_datetime64()) & (t < hi.to_datetime64())
                    later = "; or import with --engine pandas, which resolves a repeated hour by file order"
                    out += [(int(rows[i]), dst_reason(pd.Timestamp(t[i]), tz, kind) + (later if kind == "repeat" else ""))
                            for i in np.flatnonzero(hit)]
        return out


class _Sequence:
    """Each meter's last reading, carried across batches, and the interval rules applied to the stream."""

    def __init__(self, plan: _Plan):
        n = len(plan.ids)
        self.plan = plan
        self.seen = np.zeros(n, bool)
        self.last_ts = np.zeros(n, np.int64)
        self.last_val = np.zeros(n)
        self.last_rec = np.zeros(n, np.int64)
        self.out_seen = np.zeros(n, bool)
        self.out_n = np.zeros(n, np.int64)  # intervals stored per meter: where its spike quantile lies
        self.out_last = np.zeros(n, np.int64)
        self.missing = 0
        self.duplicates = self.resets = self.rollovers = 0
        self.clashes: list[tuple[int, int, int]] = []  # record, meter index, ts
        self.back: list[tuple[int, int, int, float, int]] = []  # record, meter index, ts, value, previous record

    def feed(self, rec: np.ndarray, code: np.ndarray, ts: np.ndarray, value: np.ndarray):
        """One batch in file order → its intervals (meter index, start, value, quality code). The common case
        (a file exported meter by meter, in time order, no repeats, interval meters) takes no reordering and
        no selection."""
        if _sorted(code):
            c, t, v, r = code, ts, value, rec
        else:
            o = np.argsort(code, kind="stable")
            c, t, v, r = code[o], ts[o], value[o], rec[o]
        first = _starts(c)
        pt, pv = _shift(t), _shift(v)
        pt[first], pv[first] = self.last_ts[c[first]], self.last_val[c[first]]
        has = ~first | self.seen[c]
        keep = None
        if np.any(has & (t < pt)):
            keep = np.ones(len(c), bool)
            self._go_back(c, t, v, r, pt, pv, has, keep)
        dup = has & (t == pt)
        if keep is not None:
            dup &= keep
        repeats = bool(dup.any())
        if repeats:
            clash = dup & (v != pv)
            self.clashes += list(zip(r[clash].tolist(), c[clash].tolist(), t[clash].tolist()))
            self.duplicates += int(np.count_nonzero(dup & ~clash))
        k = np.flatnonzero(keep) if keep is not None else None
        last = k[_ends(c[k])] if k is not None else np.flatnonzero(_ends(c))
        self.seen[c[last]] = True
        self.last_ts[c[last]], self.last_val[c[last]], self.last_rec[c[last]] = t[last], v[last], r[last]
        emit = None if keep is None and not repeats else (keep if keep is not None else True) & ~dup
        if not self.plan.any_cumulative:
            plain, reg = emit, None
        else:
            cum = self.plan.cumulative[c]
            plain = (emit if emit is not None else True) & ~cum
            reg = np.flatnonzero((emit if emit is not None else True) & cum & has)
        if plain is None:
            oc, ot, ov = c, t, v
        else:
            oc, ot, ov = c[plain], t[plain], v[plain]
        if self.plan.any_shift:
            ot = ot - self.plan.shift[oc]
        oq = np.zeros(len(oc), np.int8)
        if reg is not None and len(reg):
            rc = c[reg]
            delta, q = register_deltas(v[reg], pv[reg], self.plan.rollover[rc])
            st, sv, sq, src = spread(t[reg], pt[reg], delta, q, self.plan.step[rc])
            self.resets += int(np.count_nonzero(sq == RESET))
            self.rollovers += int(np.count_nonzero(sq == ROLLOVER))
            oc, ot = np.concatenate([oc, rc[src]]), np.concatenate([ot, st])
            ov, oq = np.concatenate([ov, sv]), np.concatenate([oq, sq])
            stored = ~np.isnan(ov)
            o = np.argsort(oc[stored], kind="stable")  # interval and register meters back in meter order
            oc, ot, ov, oq = oc[stored][o], ot[stored][o], ov[stored][o], oq[stored][o]
        self._gaps(oc, ot)
        return oc, ot, ov, oq

    def _go_back(self, c, t, v, r, pt, pv, has, keep) -> None:
        """Meters whose stamps step back in this batch: walk their rows, set the backward ones aside and point
        every other row at the last row kept before it."""
        for m in np.unique(c[has & (t < pt)]):
            rows = np.flatnonzero(c == m)
            seen = bool(self.seen[m])
            cur = (int(self.last_ts[m]), float(self.last_val[m]), int(self.last_rec[m]))
            for i in rows:
                if seen and t[i] < cur[0]:
                    keep[i] = False
                    self.back.append((int(r[i]), int(m), int(t[i]), float(v[i]), cur[2]))
                    continue
                if seen:
                    pt[i], pv[i], has[i] = cur[0], cur[1], True
                cur, seen = (int(t[i]), float(v[i]), int(r[i])), True

    def _gaps(self, c: np.ndarray, t: np.ndarray) -> None:
        if not len(c):
            return
        self.out_n += np.bincount(c, minlength=len(self.out_n))
        if not _sorted(c):
            o = np.argsort(c, kind="stable")
            c, t = c[o], t[o]
        first = _starts(c)
        prev = _shift(t)
        prev[first] = self.out_last[c[first]]
        has = ~first | self.out_seen[c]
        diff = t - prev
        step = self.plan.step[c]
        jump = has & (diff > step)  # most intervals follow their predecessor: only jumps are counted
        self.missing += int(missing_between(diff[jump], step[jump]).sum())
        last = _ends(c)
        self.out_seen[c[last]] = True
        self.out_last[c[last]] = t[last]


def _sorted(a: np.ndarray) -> bool:
    return bool(len(a) < 2 or (a[1:] >= a[:-1]).all())


def _starts(c: np.ndarray) -> np.ndarray:
    out = np.empty(len(c), bool)
    out[:1] = True
    np.not_equal(c[1:], c[:-1], out=out[1:])
    return out


def _ends(c: np.ndarray) -> np.ndarray:
    out = np.empty(len(c), bool)
    out[-1:] = True
    np.not_equal(c[1:], c[:-1], out=out[:-1])
    return out


def _shift(a: np.ndarray) -> np.ndarray:
    out = np.empty_like(a)
    out[:1] = 0
    out[1:] = a[:-1]
    return out


class _Spikes:
    """Spike flags set in the stream while the file comes meter by meter: a meter's intervals are held until
    the next meter starts, then its quantile settles their flags before they are written. A meter whose values
    cannot hold a spike is settled without sorting: when at least as many values as lie above the quantile's
    lower rank reach max / SPIKE_FACTOR (with a margin for rounding), the quantile is at least that, so no value
    exceeds SPIKE_FACTOR x quantile (its quantile is left NaN: no spike). Any other meter gets
    ``spike_quantile``, the careful path's function. A file not grouped by meter, or a meter of more than
    HELD_ROWS intervals, turns this off: the flags are then set from the staged files after the pass (``redo``
    when some were already set here)."""

    def __init__(self, n: int):
        self.q = np.full(n, np.nan)
        self.done = np.zeros(n, bool)
        self.grouped = True
        self.redo = False
        self.count = 0
        self.open = -1
        self.held: list[tuple] = []
        self.held_rows = 0

    def take(self, c, t, v, q) -> list[tuple]:
        """One batch of intervals in meter order → the chunks that may be written now (flags set)."""
        if not self.grouped:
            return [(c, t, v, q)]
        if not len(c):
            return []
        if not _sorted(c) or c[0] < self.open or self.done[c[0]]:
            return self._give_up() + [(c, t, v, q)]
        starts = np.flatnonzero(_starts(c))
        ends = np.r_[starts[1:], len(c)]
        out, first = [], 0
        if int(c[0]) == self.open:  # the open meter goes on
            self._hold(c, t, v, q, 0, ends[0])
            if len(starts) == 1:
                return self._give_up() if self.held_rows > HELD_ROWS else []
            first = 1
        out += self._close()
        if len(starts) - 1 > first:  # every run but the last is a whole meter
            a, b = starts[first], ends[len(starts) - 2]
            out.append(self._settle(c[a:b], t[a:b], v[a:b], q[a:b]))
        self.open = int(c[starts[-1]])
        self._hold(c, t, v, q, starts[-1], len(c))
        return out

    def _hold(self, c, t, v, q, a, b) -> None:
        self.held.append((c[a:b].copy(), t[a:b].copy(), v[a:b].copy(), q[a:b].copy()))
        self.held_rows += int(b - a)

    def _settle(self, c, t, v, q) -> tuple:
        """Whole meters (rows grouped by meter): their quantiles, then their flags."""
        at = np.flatnonzero(_starts(c))
        n = np.diff(np.r_[at, len(c)])
        codes = c[at]
        top = np.maximum.reduceat(v, at)
        floor = top / SPIKE_FACTOR * (1 + 1e-9)
        _, lo_rank, _ = spike_ranks(n)
        above = np.add.reduceat((v >= np.repeat(floor, n)).astype(np.int64), at)
        self.done[codes] = True
        maybe = np.flatnonzero(above < n - lo_rank)
        if not len(maybe):
            return c, t, v, q
        for i in maybe:  # may hold a spike: the exact quantile
            self.q[codes[i]] = spike_quantile(v[at[i]:at[i] + n[i]])
        qrow = self.q[c]
        spike = (v > SPIKE_FACTOR * qrow) & (qrow > 0)  # the careful path's test, NaN: none
        self.count += int(np.count_nonzero(spike))
        return c, t, v, np.where(spike & (q == OK), np.int8(SPIKE), q).astype(np.int8)

    def _close(self) -> list[tuple]:
        if not self.held:
            return []
        c, t, v, q = (np.concatenate(x) for x in zip(*self.held))
        self.held, self.held_rows = [], 0
        return [self._settle(c, t, v, q)]

    def _give_up(self) -> list[tuple]:
        out = self.held
        self.held, self.held_rows = [], 0
        self.grouped = False
        self.redo = bool(self.done.any())
        self.done[:] = False
        self.q[:] = np.nan
        self.count = 0
        return out

    def close(self) -> list[tuple]:
        return self._close() if self.grouped else []


class _Files:
    """One staged Parquet file per (site, UTC month), appended to a row group at a time."""

    def __init__(self, stage: Path, plan: _Plan, batch: str):
        self.stage, self.plan = stage, plan
        self.meter = pa.array(plan.ids, pa.string())
        self.unit = pa.array(plan.units, pa.string())
        self.quality = pa.array(QUALITY, pa.string())
        self.batch = pa.array([batch], pa.string())
        # Dictionary columns are written as Parquet dictionary pages of plain strings (no Arrow schema is
        # stored), so every reader sees the strings the careful path writes, without building them here.
        d = pa.dictionary(pa.int32(), pa.string())
        self.schema = pa.schema([("meter", d), ("ts", pa.timestamp("us")), ("value", pa.float64()),
                                 ("unit", d), ("quality", pa.dictionary(pa.int8(), pa.string())),
                                 ("batch", pa.dictionary(pa.int8(), pa.string()))])
        # Parquet encoding releases the GIL: two threads write (one file's row groups in order, different files
        # at once) while the next batch is checked.
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.pending: list = []
        self.last: dict = {}  # (site, month) -> the future writing its latest row group
        self.buffers: dict[tuple[int, int], list] = {}
        self.sizes: dict[tuple[int, int], int] = {}
        self.buffered = 0
        self.writers: dict[tuple[int, int], pq.ParquetWriter] = {}
        self.peak = {}  # (site, month) -> per-meter highest unflagged value: which files may hold a spike
        self.top = np.full(len(plan.ids), -np.inf)  # per-meter highest value: which meters may count spikes
        self.rows = 0

    def add(self, c, t, v, q) -> None:
        if not len(c):
            return
        month = MONTH_OF_DAY[t // US_PER_DAY - DAY0]
        key = self.plan.site[c].astype(np.int64) * 100_000 + month
        if not _sorted(key):
            o = np.argsort(key, kind="stable")
            key, c, t, v, q = key[o], c[o], t[o], v[o], q[o]
        # highest value per (file, meter) run: which meters may count spikes, which files may hold one
        runs = np.flatnonzero(_starts(key) | _starts(c))
        rc = c[runs]
        np.maximum.at(self.top, rc, np.maximum.reduceat(v, runs))
        top_ok = np.maximum.reduceat(np.where(q == OK, v, -np.inf), runs)
        cut = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
        for a, b in zip(cut[:-1], cut[1:]):
            part = (int(key[a] // 100_000), int(key[a] % 100_000) + MONTH0)
            # copies, so the batch's arrays are freed while its rows wait for their row group
            self.buffers.setdefault(part, []).append((c[a:b].copy(), t[a:b].copy(), v[a:b].copy(), q[a:b].copy()))
            self.sizes[part] = self.sizes.get(part, 0) + int(b - a)
            self.buffered += int(b - a)
            peak = self.peak.setdefault(part, np.full(len(self.plan.ids), -np.inf))
            ra, rb = np.searchsorted(runs, [a, b])
            peak[rc[ra:rb]] = np.maximum(peak[rc[ra:rb]], top_ok[ra:rb])  # one run per meter in a file's rows
            if self.sizes[part] >= ROW_GROUP:
                self._flush(part)
        # many files open at once (a year of many sites): write the fullest buffers early, in smaller row groups
        while self.buffered > BUFFERED:
            self._flush(max(self.sizes, key=self.sizes.get))

    def _flush(self, part) -> None:
        buf = self.buffers.pop(part, [])
        self.buffered -= self.sizes.pop(part, 0)
        if not buf:
            return
        c, t, v, q = (np.concatenate(x) for x in zip(*buf))
        table = pa.Table.from_arrays([
            pa.DictionaryArray.from_arrays(pa.array(c.astype(np.int32)), self.meter),
            pa.array(t.view("datetime64[us]")), pa.array(v, pa.float64()),
            pa.DictionaryArray.from_arrays(pa.array(self.plan.unit[c]), self.unit),
            pa.DictionaryArray.from_arrays(pa.array(q), self.quality),
            pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(c), np.int8)), self.batch)],
            schema=self.schema)
        if part not in self.writers:
            path = self.path(part)
            path.parent.mkdir(exist_ok=True)
            self.writers[part] = pq.ParquetWriter(path, self.schema, compression="snappy", store_schema=False)
        while len(self.pending) >= 4:  # at most a few row groups wait in memory
            self.pending.pop(0).result()
        self.last[part] = self.pool.submit(_write_after, self.last.get(part), self.writers[part], table)
        self.pending.append(self.last[part])
        self.rows += len(c)

    def path(self, part) -> Path:
        site, month = part
        return self.stage / f"part-{site}-{month}.parquet"  # one folder: fewer directories to make and remove

    @staticmethod
    def month(m: int) -> str:
        return str(np.datetime64(m, "M"))

    def close(self) -> None:
        try:
            for part in list(self.buffers):
                self._flush(part)
            for f in self.pending:
                f.result()
        finally:
            self.pool.shutdown(wait=True)
            for w in self.writers.values():
                w.close()


def _write_after(before, writer: pq.ParquetWriter, table: pa.Table) -> None:
    if before is not None:  # the file's previous row group, submitted earlier, so already running or done
        before.result()
    writer.write_table(table, row_group_size=ROW_GROUP)


def bulk_import(root: Path, org: str, meters: dict[str, Meter], path: Path, profile: MeterFileProfile = DEFAULT_PROFILE,
                memory_limit: str = "1GB", threads: int | None = None, sheet: SheetRows = SheetRows()) -> dict:
    """Import ``path`` into organisation ``org``'s part of the lake at ``root`` for its registry ``meters``, the file
    laid out as ``profile`` says. Raises :class:`BulkRejected` with the problems found (up to 50), having written
    nothing; ``sheet`` gives the file's own row numbers in them (its empty lines, which the reader skips). DuckDB
    runs within ``memory_limit`` on ``threads`` threads (default: every core)."""
    root, path = Path(root), Path(path)
    lake.org_folder(root, org)
    lake.refuse_legacy(root)
    lake.refuse_days(root, org)
    batch = uuid.uuid4().hex[:12]
    # Staged inside the lake folder (under a name no reader globs): a lake on its own disk or mount then takes
    # the finished files by rename, which a move across file systems could not do in one step.
    stage = root / f".stage-{batch}"
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    con = ordered_duckdb(root / ".duckdb-tmp", memory_limit, threads)
    try:
        plan = _Plan(con, meters, path, profile, sheet)
        seq, files, spikes = _Sequence(plan), _Files(stage, plan, batch), _Spikes(len(plan.ids))
        try:
            rows, problems = _stream(con, plan, seq, spikes, files)
            for chunk in spikes.close():
                files.add(*chunk)
        finally:
            files.close()
        if problems:
            raise BulkRejected(problems[:MAX_PROBLEMS])
        if seq.back:
            _judge_back(con, plan, seq)
        if seq.clashes:
            clashes = sorted(seq.clashes)[:MAX_PROBLEMS]
            text = _texts(con, plan, [r for r, _, _ in clashes])
            raise BulkRejected([(r, profile.column("value"), f"{plan.ids[c]} at {text[r][0]} appears with different values")
                                for r, c, _ in clashes])
        n_spikes, moves, stored, already = _finish(con, root, org, plan, files, seq.out_n, spikes, profile)
        for src, dest in moves:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
    except BulkRejected as exc:
        raise exc.renumbered(sheet) from None
    except (OSError, duckdb.Error) as exc:
        if lake.no_space(exc):
            raise lake.disk_full(root) from None
        raise
    finally:
        con.close()
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(root / ".duckdb-tmp", ignore_errors=True)
        if created:  # a refused first import leaves no empty lake folder behind
            try:
                root.rmdir()
            except OSError:
                pass
    return {"rows": rows, "duplicates_dropped": seq.duplicates, "resets": seq.resets, "rollovers": seq.rollovers,
            "spikes": n_spikes, "missing_intervals": seq.missing, "stored": stored, "already_stored": already}


def _stream(con, plan: _Plan, seq: _Sequence, spikes: _Spikes, files: _Files) -> tuple[int, list]:
    """The one pass over the file. Returns the rows read and the problems of the first rows refused."""
    col = plan.profile.column
    problems: list[tuple[int, str, str]] = []
    offset = 0
    for rb in _exact_batches(con.sql(plan.stream_sql()).to_arrow_reader(BATCH_ROWS), BATCH_ROWS):
        n = rb.num_rows
        rec = np.arange(offset, offset + n, dtype=np.int64) + plan.first_row
        offset += n
        problem = rb.column("problem")
        ok = np.ones(n, bool) if problem.null_count == n else pc.is_null(problem).to_numpy(zero_copy_only=False)
        found = [(int(rec[i]), *problem[i].as_py().split("|", 1)) for i in np.flatnonzero(~ok)[:MAX_PROBLEMS]]
        code = rb.column("code").fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        factor, bad_units = plan.factor(rb.column("unit") if plan.has_unit else None, code, ok)
        found += [(int(rec[i]), "unit", why) for i, why in bad_units]
        if plan.may_be_local:
            local = ~rb.column("exact").fill_null(True).to_numpy(zero_copy_only=False) & ok
            if local.any():
                at = rb.column("local").cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
                hits = plan.dst_hits(code[local], at[local])
                where = np.flatnonzero(local)
                found += [(int(rec[where[i]]), "timestamp", why) for i, why in hits]
        if found or problems:
            problems = sorted(problems + [(r, col(c), why) for r, c, why in found])[:MAX_PROBLEMS]
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        ts = rb.column("ts").to_numpy(zero_copy_only=False).astype("datetime64[us]").view(np.int64)
        outside = (ts < TS_MIN) | (ts >= TS_MAX)
        if outside.any():
            problems = sorted(problems + [(int(rec[i]), col("timestamp"), f"{pd.Timestamp(ts[i], unit='us')} UTC is "
                                           "outside the years 1900 to 2199") for i in np.flatnonzero(outside)])
            problems = problems[:MAX_PROBLEMS]
            continue
        one_zone, one_step = len(set(plan.zone)) == 1, len(set(plan.minutes.tolist())) == 1
        bad, local = off_grid((ts - plan.shift[code] if plan.any_shift else ts).view("datetime64[us]"),
                              plan.zone[0] if one_zone else plan.zone[code],
                              int(plan.minutes[0]) if one_step else plan.minutes[code])
        if bad.any():
            problems = sorted(problems + [(int(rec[i]), col("timestamp"),
                                           grid_reason(local[i], int(plan.minutes[code[i]]), plan.zone[code[i]]))
                                          for i in np.flatnonzero(bad)[:MAX_PROBLEMS]])[:MAX_PROBLEMS]
            continue
        value = rb.column("value").to_numpy(zero_copy_only=False) * factor * plan.multiplier[code]
        for chunk in spikes.take(*seq.feed(rec, code, ts, value)):
            files.add(*chunk)
    return offset, problems


def _exact_batches(reader, n: int):
    """The stream in batches of exactly ``n`` rows (the last one shorter): DuckDB hands back batches of its own
    sizes, and which problems a file's refusal lists depends on where batches end (``core.readings_sql`` says
    the same for the engines)."""
    held, size = [], 0
    for rb in reader:
        held.append(rb)
        size += rb.num_rows
        while size >= n:
            table = pa.Table.from_batches(held)
            yield _one_batch(table.slice(0, n))
            rest = table.slice(n)
            held, size = rest.to_batches(), rest.num_rows
    if size:
        yield _one_batch(pa.Table.from_batches(held))


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    return table.combine_chunks().to_batches()[0]


def _judge_back(con, plan: _Plan, seq: _Sequence) -> None:
    """Rows that stepped back in time for their meter, judged against the whole file as the careful path does:
    the first row of a (meter, time) must come in time order; a later repeat is a duplicate or a conflict."""
    held = pd.DataFrame(seq.back, columns=["record", "code", "ts", "value", "prev"])
    con.register("held_df", held)
    unit = ", f.unit" if plan.has_unit else ""
    first = con.execute(f"""
        WITH f AS (SELECT * FROM ({plan.numbered_sql()})
                   WHERE code IN (SELECT DISTINCT code FROM held_df) AND problem IS NULL),
             m AS (SELECT h.record AS held, min(f.record) AS record FROM held_df h JOIN f
                   ON f.code = h.code AND epoch_us(f.ts) = h.ts AND f.record < h.record GROUP BY h.record)
        SELECT m.held, f.code, f.value{unit} FROM m JOIN f USING (record) ORDER BY m.held""").df()
    if len(first):
        code = first["code"].to_numpy(np.int64)
        factor, _ = plan.factor(pa.array(first["unit"]) if plan.has_unit else None, code, np.ones(len(code), bool))
        # the first row's value in the meter's terms, as the stream computed the held one's
        values = dict(zip(first["held"], first["value"].to_numpy(float) * factor * plan.multiplier[code]))
    else:
        values = {}
    order = []
    for h in held.itertuples():
        if h.record not in values:
            order.append(h)
        elif values[h.record] == h.value:
            seq.duplicates += 1
        else:
            seq.clashes.append((h.record, h.code, h.ts))
    if order:
        text = _texts(con, plan, [h.record for h in order] + [h.prev for h in order])
        raise BulkRejected([(h.record, plan.profile.column("timestamp"),
                             order_reason(text[h.record][0], text[h.prev][0], plan.sheet(h.prev), text[h.record][1],
                                          text[h.prev][1]))
                            for h in sorted(order, key=lambda h: h.record)[:MAX_PROBLEMS]])


def _texts(con, plan: _Plan, records: list[int]) -> dict[int, tuple[str, object]]:
    """The stamp of some records as written, and as wall time: for messages about rare rows (one more scan)."""
    con.register("recs_df", pd.DataFrame({"record": sorted(set(records))}, dtype="int64"))
    return {r: (t, lt) for r, t, lt in con.execute(f"""
        SELECT record, ts_text, coalesce(local, ts) FROM ({plan.numbered_sql()})
        WHERE record IN (SELECT record FROM recs_df)""").fetchall()}


def _changed(con, plan: _Plan, clash: pd.DataFrame) -> tuple:
    """A conflict with the lake as the careful path words it: the first few intervals by the file's rows (an
    interval meter's row is the one whose stamp gives that interval start)."""
    index = {m: i for i, m in enumerate(plan.ids)}
    head = clash.head(5).copy()
    head["code"] = [index[m] for m in head["meter"]]
    head["start"] = head["ts"].to_numpy("datetime64[us]").astype(np.int64)
    head["shift"] = plan.shift[head["code"].to_numpy()]
    own = ~plan.cumulative[head["code"].to_numpy()]
    found = {}
    if own.any():
        con.register("clash_df", head.loc[own, ["code", "start", "shift"]])
        unit = "f.unit" if plan.has_unit else "NULL"
        found = {(c, t): (r, w, v, u) for r, w, v, u, c, t in con.execute(f"""
            SELECT min(f.record), first(f.ts_text ORDER BY f.record), first(f.value ORDER BY f.record),
                   first({unit} ORDER BY f.record), c.code, c.start
            FROM ({plan.numbered_sql()}) f JOIN clash_df c ON f.code = c.code AND epoch_us(f.ts) - c.shift = c.start
            WHERE f.problem IS NULL GROUP BY c.code, c.start""").fetchall()}
    out, records = [], []
    for h in head.itertuples():
        r, w, v, u = found.get((h.code, h.start), (None, None, None, None))
        records.append(r)
        out.append(Changed(plan.meters[h.code], h.ts, float(h.value_old), float(h.value), plan.sheet(r), w, v,
                           u if u is not None else plan.fixed_unit))
    # the problem's own row is renumbered with the others (bulk_import); the text's rows are the file's already
    return (records[0] if len(clash) == 1 else None, plan.profile.column("value"), changed_reason(out, len(clash)))


def _finish(con, root: Path, org: str, plan: _Plan, files: _Files, counts: np.ndarray, flags: _Spikes,
            profile: MeterFileProfile):
    """Spike flags, conflicts with and rows already in the lake; returns the spike count, the (staged, final)
    moves, and the rows new and already stored."""
    staged = {part: files.path(part) for part in files.writers}
    if not staged:
        return 0, [], 0, 0
    # The spike quantile of each meter from the two values around its rank: the top (1 - quantile) share of
    # its intervals, kept by a bounded heap per meter (DuckDB's max(value, k)), site by site.
    # Meters the stream settled are skipped.
    qs = flags.q.copy()
    todo = (counts > 0) & ~flags.done
    rn, lo_rank, hi_rank = spike_ranks(counts)
    k = int(np.max(np.where(todo, counts - lo_rank, 0)))
    index = {m: i for i, m in enumerate(plan.ids)}
    for site in sorted({s for s, _ in staged} & set(plan.site[todo].tolist())):
        paths = [duckdb_file(p) for (s, _), p in staged.items() if s == site]
        for meter, top in con.execute(f"SELECT meter, max(value, {k}) FROM read_parquet($paths) GROUP BY meter",
                                      {"paths": paths}).fetchall():
            i = index[meter]
            if not todo[i]:
                continue
            n = int(counts[i])
            qs[i] = spike_interpolate(top[n - 1 - lo_rank[i]], top[n - 1 - hi_rank[i]], rn[i], lo_rank[i])
    limit = np.where(qs > 0, qs * SPIKE_FACTOR, np.inf)  # to pick files; the flags come from the SQL rule below
    con.register("quant_df", pd.DataFrame({"meter": plan.ids, "q": pd.array(qs, dtype="Float64")}))  # NaN: NULL
    held = lake.partitions(root, org)
    moves, stored, already = [], 0, 0
    total = files.rows
    name = f"bulk-{files.batch[0].as_py()}.parquet"
    for (site, month), path in sorted(staged.items()):
        site_code, month_text = plan.sites[site], files.month(month)
        dest = lake.month_folder(root, org, site_code, month_text) / name
        overlap = (site_code, month_text) in held
        flagged = flags.redo or bool(np.any(files.peak[(site, month)] > limit))
        if not overlap and not flagged:
            moves.append((path, dest))
            continue
        rel = "read_parquet($staged)"
        params = {"staged": duckdb_file(path)}
        if overlap:
            stored_files = sorted(lake.month_folder(root, org, site_code, month_text).glob("*.parquet"))
            lake.check_files(stored_files)
            params["stored"] = [duckdb_file(f) for f in stored_files]
            clash = con.execute(f"""SELECT s.meter, s.ts, s.value, l.value AS value_old
                                    FROM {rel} s JOIN read_parquet($stored) l USING (meter, ts)
                                    WHERE abs(l.value - s.value) > 1e-9 ORDER BY s.meter, s.ts""", params).df()
            if len(clash):
                raise BulkRejected([_changed(con, plan, clash)])
            rel = f"(SELECT s.* FROM {rel} s ANTI JOIN read_parquet($stored) l USING (meter, ts))"
        out = path.with_name(path.stem + "-final.parquet")
        n = con.execute(f"""
            COPY (SELECT s.meter, s.ts, s.value, s.unit,
                         CASE WHEN s.quality NOT IN ('', 'spike') THEN s.quality
                              WHEN {spike_sql('s.value', 'q.q')} THEN 'spike' ELSE '' END AS quality,
                         s.batch
                  FROM {rel} s JOIN quant_df q USING (meter) ORDER BY s.meter, s.ts)
            TO '{str(out).replace("'", "''")}' (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP})""", params).fetchall()[0][0]
        already += con.execute("SELECT count(*) FROM read_parquet($staged)", {"staged": duckdb_file(path)}).fetchall()[0][0] - n
        if n:
            moves.append((out, dest))
    # every interval above its meter's limit, whatever its flag, as the careful path counts them; only the
    # files of meters whose highest value passes the limit are read
    spikes = flags.count  # those of the meters the stream settled
    over = np.flatnonzero((files.top > limit) & todo)
    if len(over):
        con.register("over_df", pd.DataFrame({"meter": [plan.ids[i] for i in over]}))
        paths = [duckdb_file(p) for (s, _), p in staged.items() if s in set(plan.site[over].tolist())]
        spikes += con.execute(f"""SELECT count(*) FROM read_parquet($paths) s JOIN quant_df q USING (meter)
                                 WHERE s.meter IN (SELECT meter FROM over_df) AND {spike_sql('s.value', 'q.q')}""",
                             {"paths": paths}).fetchall()[0][0]
    stored = total - already
    return int(spikes), moves, int(stored), int(already)
