"""Out-of-core bulk import into the lake with DuckDB: the same rules as ``services.meter_import``'s
pandas path, expressed in SQL so a file of any size streams through bounded memory.

Accepted input: Parquet or CSV laid out as a meter-file profile says (by default ``meter, timestamp,
value[, unit]``). Stamps are read as ``core.energy.intervals.parse_stamps`` reads them: ISO 8601 with or
without a UTC offset, or the profile's day-first or strftime pattern; local stamps are placed in the
profile's or the meter's zone. A local stamp inside a clock change is refused here, the repeated autumn
hour included: resolving it needs the file order, which the careful (pandas) path uses.

Steps, each a SQL stage over the file: reject unknown meters, blank, non-numeric, non-finite or negative
values, blank or unreadable stamps and unconvertible units (listed by row); refuse stamps out of time order
per meter; convert to UTC and to interval start by the stamp convention; apply the multiplier and unit
factor; difference cumulative registers per meter (rollover when the previous reading was in the top 10 %
of the rollover value, else reset → unknown); drop identical duplicates and reject conflicting ones; flag
spikes (> 3 × the meter's 99th percentile); count missing intervals; then anti-join against the lake
(idempotent), reject values that differ from stored ones, and write the new rows as Parquet partitioned by
site and date into a staging folder that is moved under the organisation's folder of the lake only at the end.
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import duckdb
import pandas as pd

from zerocarbon.core.energy.intervals import (DEFAULT_PROFILE, ISO_STAMP, OFFSET, Meter, MeterFileProfile,
                                              dst_reason, dst_windows, order_reason, unit_factor)
from zerocarbon.errors import RowsRejected
from zerocarbon.store import lake


class BulkRejected(RowsRejected):
    """What the SQL stages refused: ``problems`` name record, column and reason; the caller adds the file."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _source(path: Path) -> tuple[str, int]:
    """The file as a relation with ``file_row_number``, and what to add to it for the row numbers the pandas
    path reports (spreadsheet rows for CSV, where the header is row 1; records for Parquet)."""
    p = str(path).replace("'", "''")
    if path.suffix.lower() == ".parquet":
        return f"read_parquet('{p}', file_row_number = true)", 1
    return (f"(SELECT *, row_number() OVER () - 1 AS file_row_number "
            f"FROM read_csv('{p}', all_varchar = true, header = true))", 2)


def _stamp_sql(types: dict, profile: MeterFileProfile) -> tuple[str, str, str, str]:
    """SQL for (text as written, exact UTC, local wall time, exact?) of the stamp column: the rules of
    ``core.energy.intervals.parse_stamps``."""
    col = f"s.{_q(profile.timestamp)}"
    typed = types.get(profile.timestamp, "VARCHAR")
    if typed == "TIMESTAMP WITH TIME ZONE":
        return (f"CAST({col} AS VARCHAR)", f"{col} AT TIME ZONE 'UTC'", "CAST(NULL AS TIMESTAMP)",
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
    utc = f"CASE WHEN {exact} THEN TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' END"
    return text, utc, local, exact


def bulk_import(root: Path, org: str, meters: dict[str, Meter], path: Path, profile: MeterFileProfile = DEFAULT_PROFILE,
                memory_limit: str = "4GB", threads: int | None = None) -> dict:
    """Import ``path`` into organisation ``org``'s part of the lake at ``root`` for its registry ``meters``, the file laid out as ``profile``
    says. Raises :class:`BulkRejected` with the problems found (up to 50), having written nothing."""
    root, path = Path(root), Path(path)
    folder = lake.org_folder(root, org)
    lake.refuse_legacy(root)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET TimeZone = 'UTC'")
    # A CSV's row numbers come from the scan order, which must then be kept; Parquet has file_row_number.
    con.execute(f"SET preserve_insertion_order = {str(path.suffix.lower() != '.parquet').lower()}")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    registry = pd.DataFrame([{"id": m.id, "site": m.site, "unit": m.unit, "multiplier": m.multiplier,
                              "register": m.register, "stamp": profile.stamp or m.stamp,
                              "interval_min": m.interval_min, "rollover": m.rollover,
                              "tz": profile.timezone or m.timezone} for m in meters.values()])
    registry["rollover"] = registry["rollover"].astype(float)
    con.register("registry_df", registry)
    con.execute("CREATE TEMP TABLE registry AS SELECT * FROM registry_df")
    source, first_row = _source(path)
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    wanted = [profile.timestamp, profile.value] + ([profile.meter] if profile.meter else []) + list(profile.keep)
    missing = [c for c in dict.fromkeys(wanted) if c not in types]
    if missing:
        raise BulkRejected([(1, c, f"required column is missing (profile {profile.name})") for c in missing])
    meter_expr = f"CAST(s.{_q(profile.meter)} AS VARCHAR)" if profile.meter else _lit(profile.meter_id)
    if profile.unit is not None:
        unit_expr = _lit(profile.unit)
    elif profile.unit_column in types:
        unit_expr = f"trim(CAST(s.{_q(profile.unit_column)} AS VARCHAR))"
    else:
        unit_expr = "NULL"
    ts_text, ts_exact_utc, ts_local, ts_exact = _stamp_sql(types, profile)
    value = f"s.{_q(profile.value)}"
    con.execute(f"""
        CREATE TEMP VIEW raw AS
        SELECT s.file_row_number + {first_row} AS record, {meter_expr} AS meter,
               {ts_text} AS ts_text, {ts_exact_utc} AS exact_utc, {ts_local} AS local, {ts_exact} AS exact,
               TRY_CAST({value} AS DOUBLE) AS value, CAST({value} AS VARCHAR) AS value_text, {unit_expr} AS unit_in
        FROM {source} s""")
    # Unit factors and refusals come from the function the pandas path uses, once per (unit, meter).
    units = []
    if unit_expr != "NULL":
        pairs = con.execute("SELECT DISTINCT coalesce(unit_in, ''), meter FROM raw").fetchall()
        units = [(u, mid, *unit_factor(u, meters[mid])) for u, mid in pairs if mid in meters]
    con.register("units_df", pd.DataFrame(units, columns=["unit_in", "meter", "factor", "reason"]).astype(
        {"unit_in": str, "meter": str, "factor": float, "reason": str}))
    con.execute("CREATE TEMP TABLE units AS SELECT * FROM units_df")
    # One pass over the file: every row gets its value in the meter's terms and, if it cannot be used,
    # the first reason why; checks, duplicates and intervals then read this table, not the file again.
    con.execute(f"SET temp_directory = '{(root.parent / '.duckdb-tmp').as_posix()}'")
    described = profile.describe_format().replace("'", "''")
    con.execute(f"""
        CREATE TEMP TABLE checked AS
        SELECT *, ts_utc - CASE WHEN stamp = 'end' AND register = 'interval'
                                THEN to_minutes(CAST(interval_min AS BIGINT)) ELSE INTERVAL 0 MINUTE END AS ts
        FROM (
          SELECT r.record, r.meter, g.site, g.unit, g.register, g.interval_min, g.rollover, g.tz, g.stamp,
                 r.exact, r.local,
                 CASE WHEN r.exact THEN r.exact_utc ELSE timezone(g.tz, r.local) AT TIME ZONE 'UTC' END AS ts_utc,
                 r.value * g.multiplier * coalesce(u.factor, 1.0) AS value,
                 CASE WHEN g.id IS NULL THEN 'meter|unknown meter ''' || r.meter || ''' (not in the meter registry)'
                      WHEN r.value_text IS NULL OR trim(r.value_text) = '' THEN 'value|value is blank'
                      WHEN r.value IS NULL THEN 'value|''' || r.value_text || ''' is not a number'
                      WHEN NOT isfinite(r.value) THEN 'value|''' || r.value_text || ''' is not a finite number'
                      WHEN r.value < 0 THEN 'value|negative reading ' || r.value_text
                      WHEN r.ts_text IS NULL OR r.ts_text = '' THEN 'timestamp|timestamp is blank'
                      WHEN (r.exact AND r.exact_utc IS NULL) OR (NOT r.exact AND r.local IS NULL)
                        THEN 'timestamp|''' || r.ts_text || ''' is not a timestamp in {described}'
                      WHEN u.reason <> '' THEN 'unit|' || u.reason END AS problem
          FROM raw r LEFT JOIN registry g ON g.id = r.meter
          LEFT JOIN units u ON u.unit_in = coalesce(r.unit_in, '') AND u.meter = r.meter)""")
    col = profile.column
    problems = [(int(rec), col(p.split("|", 1)[0]), p.split("|", 1)[1]) for rec, p in con.execute(
        "SELECT record, problem FROM checked WHERE problem IS NOT NULL ORDER BY record LIMIT 50").fetchall()]
    problems += _dst_problems(con, col("timestamp"))
    if problems:
        raise BulkRejected(sorted(problems, key=lambda p: p[0] or 0)[:50])
    con.execute("""
        CREATE TEMP TABLE dedup AS
        SELECT meter, any_value(site) AS site, any_value(unit) AS unit, any_value(register) AS register,
               any_value(interval_min) AS interval_min, any_value(rollover) AS rollover, ts,
               min(value) AS value, max(value) AS vmax, count(*) AS n, min(record) AS record
        FROM checked GROUP BY meter, ts""")
    # min <> max is "more than one value", without the cost of counting distinct values
    clash = con.execute("SELECT record, meter, ts FROM dedup WHERE vmax > value ORDER BY record LIMIT 50").fetchall()
    if clash:
        raise BulkRejected([(int(r), col("value"), f"{m} at {t} appears with different values") for r, m, t in clash])
    # Stamps out of file order, per meter, repeats left to the duplicate rule: the first row of each
    # (meter, ts) must come in the order of ts. A cheap test over the deduplicated table first; the rows
    # and their texts only when it finds something.
    if con.execute("""SELECT count(*) FROM (SELECT record < lag(record) OVER (PARTITION BY meter ORDER BY ts) AS back
                      FROM dedup) WHERE back""").fetchone()[0]:
        order = con.execute("""
            WITH o AS (
              SELECT d.record, d.ts, lag(d.ts) OVER w AS p_ts, lag(d.record) OVER w AS p_record
              FROM dedup d WINDOW w AS (PARTITION BY d.meter ORDER BY d.record))
            SELECT o.record, r.ts_text, p.ts_text, o.p_record, coalesce(r.local, r.exact_utc), coalesce(p.local, p.exact_utc)
            FROM o JOIN raw r ON r.record = o.record JOIN raw p ON p.record = o.p_record
            WHERE o.ts < o.p_ts ORDER BY o.record LIMIT 50""").fetchall()
        raise BulkRejected([(int(r), col("timestamp"), order_reason(t, pt, int(pr), lo, plo))
                            for r, t, pt, pr, lo, plo in order])
    # Registers: a reading at t closes the interval [t - step, t); a delta across k missing steps is spread
    # evenly over them (flag 'spread'), as the pandas path does.
    con.execute("""
        CREATE TEMP TABLE intervals AS
        WITH reg AS (
          SELECT *, lag(value) OVER (PARTITION BY meter ORDER BY ts) AS prev,
                    lag(ts) OVER (PARTITION BY meter ORDER BY ts) AS prev_ts
          FROM dedup WHERE register = 'cumulative'),
        d AS (
          SELECT meter, site, unit, ts, interval_min,
                 greatest(1, CAST(round((epoch(ts) - epoch(prev_ts)) / 60.0 / interval_min) AS BIGINT)) AS k,
                 CASE WHEN value >= prev THEN value - prev
                      WHEN rollover IS NOT NULL AND prev >= 0.9 * rollover THEN value + rollover - prev END AS delta,
                 CASE WHEN value >= prev THEN '' WHEN rollover IS NOT NULL AND prev >= 0.9 * rollover THEN 'rollover'
                      ELSE 'reset' END AS q
          FROM reg WHERE prev IS NOT NULL)
        SELECT meter, site, unit, ts - to_minutes(CAST(j * interval_min AS BIGINT)) AS ts, delta / k AS value,
               CASE WHEN q = '' AND k > 1 THEN 'spread' ELSE q END AS quality
        FROM d, unnest(range(1, k + 1)) AS t(j)
        UNION ALL
        SELECT meter, site, unit, ts, value, '' AS quality FROM dedup WHERE register = 'interval'""")
    stats = con.execute("""
        SELECT (SELECT count(*) FROM checked), (SELECT sum(n - 1) FROM dedup),
               count(*) FILTER (WHERE quality = 'reset'), count(*) FILTER (WHERE quality = 'rollover')
        FROM intervals""").fetchone()
    con.execute("""
        CREATE TEMP TABLE flagged AS
        SELECT i.meter, i.site, i.unit, i.ts, i.value,
               CASE WHEN i.quality = '' AND q.q99 > 0 AND i.value > 3 * q.q99 THEN 'spike' ELSE i.quality END AS quality
        FROM intervals i JOIN (SELECT meter, quantile_cont(value, 0.99) AS q99 FROM intervals GROUP BY meter) q
          USING (meter)
        WHERE i.value IS NOT NULL""")
    missing = con.execute("""
        SELECT coalesce(sum(expected - n), 0) FROM (
          SELECT f.meter, count(*) AS n,
                 (epoch(max(ts)) - epoch(min(ts))) / 60 / any_value(g.interval_min) + 1 AS expected
          FROM flagged f JOIN registry g ON g.id = f.meter GROUP BY f.meter)""").fetchone()[0]
    spikes = con.execute("SELECT count(*) FROM flagged WHERE quality = 'spike'").fetchone()[0]
    if lake.has_readings(root, org):
        pattern = lake.glob(root, org).replace("'", "''")
        con.execute(f"CREATE TEMP VIEW lake AS SELECT meter, ts, value FROM read_parquet('{pattern}', hive_partitioning = true)")
        bad = con.execute("""
            SELECT f.meter, f.ts, l.value, f.value FROM flagged f JOIN lake l USING (meter, ts)
            WHERE abs(l.value - f.value) > 1e-9 LIMIT 20""").fetchall()
        if bad:
            raise BulkRejected([(None, col("value"), f"{m} {t}: stored {a} vs new {b}; nothing was written")
                                for m, t, a, b in bad])
        con.execute("CREATE TEMP TABLE fresh AS SELECT f.* FROM flagged f ANTI JOIN lake l USING (meter, ts)")
    else:
        con.execute("CREATE TEMP TABLE fresh AS SELECT * FROM flagged")
    new = con.execute("SELECT count(*) FROM fresh").fetchone()[0]
    batch = uuid.uuid4().hex[:12]
    stage = root.parent / f".stage-{batch}"
    try:
        if new:
            con.execute(f"""
                COPY (SELECT meter, ts, value, unit, quality, '{batch}' AS batch, site, strftime(ts, '%Y-%m-%d') AS date
                      FROM fresh)
                TO '{stage}' (FORMAT parquet, PARTITION_BY (site, date), FILENAME_PATTERN 'bulk_{batch}_{{i}}')""")
            for f in stage.rglob("*.parquet"):
                dest = folder / f.relative_to(stage)
                dest.parent.mkdir(parents=True, exist_ok=True)
                f.replace(dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(root.parent / ".duckdb-tmp", ignore_errors=True)
    total = con.execute("SELECT count(*) FROM flagged").fetchone()[0]
    return {"rows": int(stats[0]), "duplicates_dropped": int(stats[1] or 0), "resets": int(stats[2]),
            "rollovers": int(stats[3]), "spikes": int(spikes), "missing_intervals": int(missing),
            "stored": int(new), "already_stored": int(total - new)}


def _dst_problems(con, column: str) -> list[tuple[int, str, str]]:
    """Local stamps inside a clock change. This path refuses a repeated hour too: resolving it needs each
    meter's file order, which the careful (pandas) path uses."""
    spans = con.execute("""SELECT tz, min(local), max(local) FROM checked
                           WHERE problem IS NULL AND NOT exact AND local IS NOT NULL GROUP BY tz""").fetchall()
    windows = [(tz, lo, hi, kind) for tz, a, b in spans for lo, hi, kind in dst_windows(tz, a, b)]
    if not windows:
        return []
    con.register("dst_df", pd.DataFrame(windows, columns=["tz", "lo", "hi", "kind"]))
    hits = con.execute("""SELECT c.record, c.local, c.tz, d.kind FROM checked c JOIN dst_df d
                          ON c.tz = d.tz AND c.local >= d.lo AND c.local < d.hi
                          WHERE c.problem IS NULL AND NOT c.exact ORDER BY c.record LIMIT 50""").fetchall()
    later = "; or import with --engine pandas, which resolves a repeated hour by file order"
    return [(int(r), column, dst_reason(pd.Timestamp(t), tz, kind) + (later if kind == "repeat" else ""))
            for r, t, tz, kind in hits]
