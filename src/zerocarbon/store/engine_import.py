"""A readings import run by an engine (Apache Spark, or DuckDB for the proof of equality): the definitions of
``core.readings_sql`` over the whole file, the keys resolved here, the rows written into the lake all or nothing.

It accepts what the streaming import accepts (``store.lake_import``), with two exceptions: stamps in a strftime
or day-first layout (the profile's ``timestamp.format``), refused before anything is read, and a quoted CSV field
holding a line break (Spark reads a CSV line by line). Its problems are the streaming path's, to the row and the
word; its lake files hold the same rows (one file per site and UTC month of the import, ``bulk-<batch>.parquet``).

All or nothing: the engine writes the new rows into a staging folder inside the lake, under a name no reader
globs; only when every check has passed are the files moved into their partitions, each by rename.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from zerocarbon.core import readings_sql as rs
from zerocarbon.core.energy.intervals import (DEFAULT_PROFILE, Changed, Meter, MeterFileProfile, changed_reason,
                                              dst_reason, dst_windows, grid_reason, order_reason, spike_interpolate,
                                              spike_ranks, unit_factor)
from zerocarbon.core.sheet_rows import SheetRows
from zerocarbon.errors import InputError, Problem
from zerocarbon.store import lake
from zerocarbon.store.engines import duckdb_literal, interruptible, workspace
from zerocarbon.store.lake_import import MAX_PROBLEMS, TS_MAX, TS_MIN, US_PER_MIN, BulkRejected


def engine_import(root: Path, org: str, meters: dict[str, Meter], path: Path, eng,
                  profile: MeterFileProfile = DEFAULT_PROFILE, sheet: SheetRows = SheetRows()) -> dict:
    """Import ``path`` into organisation ``org``'s part of the lake at ``root`` on engine ``eng``; the same
    contract, summary and row numbers (``sheet``) as ``lake_import.bulk_import``. Raises :class:`BulkRejected`
    having written nothing."""
    root, path = Path(root), Path(path)
    if profile.formats is not None:
        raise InputError([Problem(f"profile {profile.name}", None, "timestamp.format",
                                  f"stamps in the layout {profile.describe_format()} are read by --engine duckdb or "
                                  f"pandas; --engine {eng.name} reads ISO 8601 stamps (and typed timestamps)")])
    lake.org_folder(root, org)
    lake.refuse_legacy(root)
    lake.refuse_days(root, org)
    batch = uuid.uuid4().hex[:12]
    stage, temp = root / f".stage-{batch}", root / f".tmp-{batch}"
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    ws = None
    try:
        temp.mkdir()
        # The engine reads the file through a link of a plain name: Spark skips files named with a leading '.'
        # or '_' (the UTF-8 copy of a GB18030 file is one) and cannot open names holding ':' or glob characters.
        source = temp / f"readings{path.suffix.lower()}"
        source.symlink_to(path.resolve())
        ws = workspace(eng, temp)
        with interruptible(eng):
            try:
                summary, moves = _run(ws, root, org, meters, source, profile, batch, stage, _delimiter(source),
                                      sheet)
            except BulkRejected as exc:
                raise exc.renumbered(sheet) from None
            except eng.errors as exc:
                why = lake.root_cause(str(exc))
                if "TIMESTAMP(NANOS" in why:
                    why += ("; Spark does not read timestamps stored in nanoseconds: write the file with "
                            "microseconds (pyarrow or pandas: coerce_timestamps='us'), or import it with "
                            "--engine duckdb")
                # the caller names the file the user gave
                raise BulkRejected([(None, None, f"{eng.name} could not read the file: {why}")]) from None
        for src, dest in moves:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
        return summary
    finally:
        if ws is not None:
            ws.close()
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(temp, ignore_errors=True)
        if created:  # a refused first import leaves no empty lake folder behind
            try:
                root.rmdir()
            except OSError:
                pass


def _delimiter(path: Path) -> str | None:
    """The delimiter of a CSV as DuckDB's reader (the streaming path's) detects it, for an engine that is told."""
    if path.suffix.lower() == ".parquet":
        return None
    return duckdb.sql(f"SELECT Delimiter FROM sniff_csv({duckdb_literal(path)})").fetchall()[0][0]


def _registry(ids: list[str], meters: dict[str, Meter], profile: MeterFileProfile) -> tuple[pd.DataFrame, list[str]]:
    ms = [meters[i] for i in ids]
    sites = sorted({m.site for m in ms})
    step = [m.interval_min * US_PER_MIN for m in ms]
    stamp = [profile.stamp or m.stamp for m in ms]
    return pd.DataFrame({
        "code": np.arange(len(ms), dtype=np.int64), "meter": ids,
        "site_no": np.array([sites.index(m.site) for m in ms], np.int64),
        "tz": [profile.timezone or m.timezone for m in ms], "zone": [m.timezone for m in ms],
        "step_us": np.array(step, np.int64), "minutes": np.array([m.interval_min for m in ms], np.int64),
        "shift_us": np.array([s if st == "end" and m.register == "interval" else 0
                              for s, st, m in zip(step, stamp, ms)], np.int64),
        "multiplier": np.array([m.multiplier for m in ms], float),
        "cumulative": np.array([m.register == "cumulative" for m in ms], bool),
        "rollover": np.array([np.nan if m.rollover is None else m.scaled_rollover for m in ms], float),
        "unit": [m.unit for m in ms]}), sites


def _run(ws, root: Path, org: str, meters: dict[str, Meter], path: Path, profile: MeterFileProfile, batch: str,
         stage: Path, delimiter: str | None, sheet: SheetRows) -> tuple[dict, list]:
    """The import's steps; problems carry the reader's row numbers, and ``sheet`` gives the file's own where a
    row number is written into a reason's text."""
    col = profile.column
    ids = list(meters)
    first_row = 1 if path.suffix.lower() == ".parquet" else 2
    kinds = ws.source("raw_file", path, first_row, delimiter)
    wanted = [profile.timestamp, profile.value] + ([profile.meter] if profile.meter else []) + list(profile.keep)
    missing = [c for c in dict.fromkeys(wanted) if c not in kinds]
    if missing:
        raise BulkRejected([(1, c, f"required column is missing (profile {profile.name})") for c in missing])
    has_unit = profile.unit is None and profile.unit_column in kinds
    registry, sites = _registry(ids, meters, profile)
    ws.table("registry", registry)
    ws.view("parsed", rs.parsed_sql(profile, kinds[profile.timestamp], has_unit))

    # keys in Python: each (unit, meter)'s factor, each zone's clock changes
    keys = ws.query(rs.UNIT_KEYS)
    factors = []
    for u, c in zip(keys["unit"], keys["code"].astype(int)):
        f, why = (1.0, "") if not has_unit and profile.unit is None else unit_factor(u, meters[ids[c]])
        factors.append((u, c, f, why or None))
    ws.table("factors", pd.DataFrame(factors, columns=["unit", "code", "factor", "reason"]).astype(
        {"code": np.int64, "factor": float}))
    ws.view("checked", rs.checked_sql(profile), keep=True)
    windows = []
    for tz, y0, y1 in ws.query(rs.LOCAL_YEARS).itertuples(index=False):
        for y in range(int(y0), int(y1) + 1):
            windows += [(tz, _us(lo), _us(hi), kind) for lo, hi, kind in dst_windows(tz, f"{y}-01-01", f"{y}-12-31 23:59")]
    ws.table("windows", pd.DataFrame(windows, columns=["tz", "lo_us", "hi_us", "kind"]).astype(
        {"lo_us": np.int64, "hi_us": np.int64}))
    ws.view("problems", rs.problems_sql(first_row, TS_MIN, TS_MAX))
    first = ws.query("SELECT batch, min(tier) AS tier FROM problems GROUP BY batch ORDER BY batch LIMIT 1")
    if len(first):
        b, t = int(first["batch"].iloc[0]), int(first["tier"].iloc[0])
        found = ws.query(f"SELECT * FROM problems WHERE (batch = {b} AND tier = {t}) OR (batch > {b} AND tier = 1) "
                         f"ORDER BY record LIMIT {3 * MAX_PROBLEMS}")
        raise BulkRejected(sorted(_problem(r, col) for r in found.itertuples(index=False))[:MAX_PROBLEMS])

    ws.view("sequence", rs.SEQUENCE, keep=True)
    outcomes = dict(ws.query("SELECT outcome, count(*) AS n FROM sequence GROUP BY outcome").itertuples(index=False))
    if outcomes.get("order"):
        rows = ws.query(rs.OUT_OF_ORDER.format(limit=MAX_PROBLEMS))
        raise BulkRejected([(int(r.record), col("timestamp"),
                             order_reason(r.ts_text, r.prev_text, sheet(int(r.prev)), r.at, r.prev_at))
                            for r in rows.itertuples(index=False)])
    if outcomes.get("clash"):
        rows = ws.query(rs.CLASHES.format(limit=MAX_PROBLEMS))
        raise BulkRejected([(int(r.record), col("value"), f"{ids[int(r.code)]} at {r.ts_text} appears with different "
                                                          "values") for r in rows.itertuples(index=False)])

    ws.view("intervals", rs.INTERVALS, keep=True)
    counts = ws.query(rs.COUNTS).iloc[0]
    per = ws.query(rs.STORED_PER_METER)
    rn, lo, hi = spike_ranks(per["n"].to_numpy(np.int64))
    ws.table("ranks", pd.DataFrame({"code": per["code"].astype(np.int64), "lo": lo, "hi": hi}))
    at = {(int(c), int(k)): v for c, k, v in ws.query(rs.AT_RANKS).itertuples(index=False)}
    q = [spike_interpolate(at[(c, int(a))], at[(c, int(b))], r, a)
         for c, r, a, b in zip(per["code"].astype(int), rn, lo, hi)]
    ws.table("quantiles", pd.DataFrame({"code": per["code"].astype(np.int64), "q": np.array(q, float)}))
    spikes = int(ws.query(rs.SPIKES)["spikes"].iloc[0])
    ws.view("final", rs.FINAL.format(batch=rs._lit(batch)))  # a join of kept intervals: cheap to compute again

    parts = {int(p): int(n) for p, n in ws.query("SELECT part, count(*) AS n FROM final GROUP BY part")
             .itertuples(index=False)}
    held = lake.partitions(root, org)
    where = {p: (sites[rs.part_of(p)[0]], rs.month_text(rs.part_of(p)[1])) for p in parts}
    stored_files = []
    for p in sorted(parts):
        if where[p] in held:
            files = sorted(lake.month_folder(root, org, *where[p]).glob("*.parquet"))
            lake.check_files(files)
            stored_files += [str(f) for f in files]
    if stored_files:
        ws.parquet("stored", stored_files)
        _refuse_changes(ws, meters, ids, registry, profile, sheet)
    else:
        ws.view("stored", "SELECT meter, ts, value FROM final WHERE 1 = 0")
    moves, new = [], 0
    if parts:
        ws.write(rs.NEW_ROWS, stage, "part")
        for folder in sorted(stage.glob("part=*")):
            site, month = where[int(folder.name.removeprefix("part="))]
            files = sorted(folder.glob("*.parquet"))
            for i, f in enumerate(files):
                new += pq.ParquetFile(f).metadata.num_rows
                name = f"bulk-{batch}.parquet" if len(files) == 1 else f"bulk-{batch}-{i}.parquet"
                moves.append((f, lake.month_folder(root, org, site, month) / name))
    rows = int(ws.query("SELECT count(*) AS n FROM raw_file")["n"].iloc[0])
    total = sum(parts.values())
    return ({"rows": rows, "duplicates_dropped": int(counts["duplicates_dropped"]), "resets": int(counts["resets"]),
             "rollovers": int(counts["rollovers"]), "spikes": spikes,
             "missing_intervals": int(counts["missing_intervals"]), "stored": new, "already_stored": total - new},
            moves)


def _us(t) -> int:
    return int(np.datetime64(pd.Timestamp(t), "us").astype(np.int64))


def _problem(r, col) -> tuple[int, str, str]:
    """One row of ``problems`` as (record, the file's column, reason) in the streaming path's words."""
    kind, _, why = r.what.partition("|")
    if kind == "dst":
        later = "; or import with --engine pandas, which resolves a repeated hour by file order"
        return int(r.record), col("timestamp"), dst_reason(pd.Timestamp(r.at), r.zone, why) + (
            later if why == "repeat" else "")
    if kind == "outside":
        return int(r.record), col("timestamp"), f"{pd.Timestamp(int(r.ts_us), unit='us')} UTC is outside the years 1900 to 2199"
    if kind == "grid":
        return int(r.record), col("timestamp"), grid_reason(r.at, int(r.minutes), r.zone)
    return int(r.record), col(kind), why


def _refuse_changes(ws, meters: dict[str, Meter], ids: list[str], registry: pd.DataFrame,
                    profile: MeterFileProfile, sheet: SheetRows) -> None:
    """Readings the lake holds with another value: refused as the streaming path words it, for the first
    partition (site, month) that has any, its first intervals by meter and time."""
    ws.view("conflicts", rs.CONFLICTS)
    part = ws.query("SELECT min(part) AS part FROM conflicts")["part"].iloc[0]
    if pd.isna(part):
        return
    part = int(part)
    n = int(ws.query(f"SELECT count(*) AS n FROM conflicts WHERE part = {part}")["n"].iloc[0])
    head = ws.query(f"SELECT meter, ts, value, value_old FROM conflicts WHERE part = {part} ORDER BY meter, ts LIMIT 5")
    index = {m: i for i, m in enumerate(ids)}
    head["code"] = [index[m] for m in head["meter"]]
    head["start_us"] = head["ts"].to_numpy("datetime64[us]").astype(np.int64)
    own = ~registry["cumulative"].to_numpy()[head["code"].to_numpy()]
    found = {}
    if own.any():
        ws.table("clash", head.loc[own, ["code", "start_us"]].astype(np.int64))
        found = {(int(r.code), int(r.start_us)): (int(r.record), r.ts_text, float(r.value), r.unit)
                 for r in ws.query(rs.CLASH_ROWS).itertuples(index=False)}
    out, records = [], []
    for h in head.itertuples(index=False):
        row, written, raw, unit = found.get((h.code, h.start_us), (None, None, None, None))
        records.append(row)
        out.append(Changed(meters[h.meter], h.ts, float(h.value_old), float(h.value), sheet(row), written, raw,
                           unit if isinstance(unit, str) else profile.unit))
    # the problem's own row is renumbered with the others (engine_import); the text's rows are the file's already
    raise BulkRejected([(records[0] if n == 1 else None, profile.column("value"), changed_reason(out, n))])
