"""Out-of-core bulk import into the lake with DuckDB: the same rules as ``services.meter_import``'s
pandas path, expressed in SQL so a file of any size streams through bounded memory.

Accepted input: Parquet or CSV with ``meter, timestamp, value[, unit]`` where every timestamp carries a
UTC offset (``2026-03-01T08:15:00+08:00`` or ``...Z``). Local timestamps need DST judgement row by row and
go through the pandas path instead; this path refuses them (it never guesses an offset).

Steps, each a SQL stage over the file: reject unknown meters, non-numeric, negative or offset-less rows
(listed by record number); convert to UTC and to interval start by the meter's stamp convention; apply the
multiplier and unit factor; difference cumulative registers per meter (rollover when the previous reading
was in the top 10 % of the rollover value, else reset → unknown); drop identical duplicates and reject
conflicting ones; flag spikes (> 3 × the meter's 99th percentile); count missing intervals; then anti-join
against the lake (idempotent), reject values that differ from stored ones, and write the new rows as
Parquet partitioned by site and date into a staging folder that is moved into the lake only at the end.
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import duckdb
import pandas as pd

from zerocarbon.store.lake import glob


class BulkRejected(ValueError):
    def __init__(self, problems: list[tuple[int | None, str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"record {r}, column '{c}': {m}" for r, c, m in problems[:20]))


def _source(path: Path) -> str:
    p = str(path).replace("'", "''")
    if path.suffix.lower() == ".parquet":
        return f"read_parquet('{p}', file_row_number = true)"
    return f"(SELECT *, row_number() OVER () - 1 AS file_row_number FROM read_csv('{p}', all_varchar = true, header = true))"


def bulk_import(root: Path, registry: pd.DataFrame, unit_factors: pd.DataFrame, path: Path,
                memory_limit: str = "4GB", threads: int | None = None) -> dict:
    """Import ``path`` into the lake at ``root``. ``registry``: one row per meter (id, site, unit, multiplier,
    register, stamp, interval_min, rollover); ``unit_factors``: (from_unit, to_unit, factor)."""
    root = Path(root)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.register("registry_df", registry)
    con.register("units_df", unit_factors)
    con.execute("CREATE TEMP TABLE registry AS SELECT * FROM registry_df")
    con.execute("CREATE TEMP TABLE units AS SELECT * FROM units_df")
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {_source(path)}").fetchall()}
    unit_expr = "CAST(s.unit AS VARCHAR)" if "unit" in types else "NULL"
    # A timestamp column typed with a time zone is exact already; text must carry an offset.
    typed_ts = types.get("timestamp") == "TIMESTAMP WITH TIME ZONE"
    ts_utc = ("s.timestamp AT TIME ZONE 'UTC'" if typed_ts
              else "TRY_CAST(CAST(s.timestamp AS VARCHAR) AS TIMESTAMPTZ) AT TIME ZONE 'UTC'")
    ts_text = "'typed'" if typed_ts else "CAST(s.timestamp AS VARCHAR)"
    con.execute(f"""
        CREATE TEMP VIEW raw AS
        SELECT s.file_row_number + 1 AS record, CAST(s.meter AS VARCHAR) AS meter,
               {ts_text} AS ts_text, {ts_utc} AS ts_utc, TRY_CAST(s.value AS DOUBLE) AS value,
               CAST(s.value AS VARCHAR) AS value_text, {unit_expr} AS unit_in
        FROM {_source(path)} s""")
    # One pass over the file: every row gets its value in the meter's terms and, if it cannot be used,
    # the first reason why; checks, duplicates and intervals then read this table, not the file again.
    con.execute(f"SET temp_directory = '{(root.parent / '.duckdb-tmp').as_posix()}'")
    con.execute("""
        CREATE TEMP TABLE checked AS
        SELECT r.record, r.meter, g.site, g.unit, g.register, g.interval_min, g.rollover,
               r.ts_utc - CASE WHEN g.stamp = 'end' AND g.register = 'interval'
                               THEN to_minutes(CAST(g.interval_min AS BIGINT)) ELSE INTERVAL 0 MINUTE END AS ts,
               r.value * g.multiplier * coalesce(u.factor, 1.0) AS value,
               CASE WHEN g.id IS NULL THEN 'meter|unknown meter ''' || r.meter || ''' (not in the meter registry)'
                    WHEN r.value IS NULL THEN 'value|''' || r.value_text || ''' is not a number'
                    WHEN r.value < 0 THEN 'value|negative reading ' || r.value_text
                    WHEN r.ts_text <> 'typed' AND NOT regexp_matches(r.ts_text, '([+-][0-9][0-9]:?[0-9][0-9]|Z)$')
                      THEN 'timestamp|timestamp ' || r.ts_text || ' has no UTC offset; use the careful import for local times'
                    WHEN r.ts_utc IS NULL THEN 'timestamp|''' || r.ts_text || ''' is not a timestamp'
                    WHEN r.unit_in IS NOT NULL AND u.factor IS NULL
                      THEN 'unit|unit ' || r.unit_in || ' cannot be converted to the meter''s unit' END AS problem
        FROM raw r LEFT JOIN registry g ON g.id = r.meter
        LEFT JOIN units u ON u.from_unit = r.unit_in AND u.to_unit = g.unit""")
    problems = [(int(rec), p.split("|", 1)[0], p.split("|", 1)[1]) for rec, p in con.execute(
        "SELECT record, problem FROM checked WHERE problem IS NOT NULL ORDER BY record LIMIT 50").fetchall()]
    if problems:
        raise BulkRejected(problems)
    con.execute("""
        CREATE TEMP TABLE dedup AS
        SELECT meter, any_value(site) AS site, any_value(unit) AS unit, any_value(register) AS register,
               any_value(interval_min) AS interval_min, any_value(rollover) AS rollover, ts,
               min(value) AS value, max(value) AS vmax, count(*) AS n, min(record) AS record
        FROM checked GROUP BY meter, ts""")
    # min <> max is "more than one value", without the cost of counting distinct values
    clash = con.execute("SELECT record, meter, ts FROM dedup WHERE vmax > value ORDER BY record LIMIT 50").fetchall()
    if clash:
        raise BulkRejected([(int(r), "value", f"{m} at {t} appears with different values") for r, m, t in clash])
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
    existing = list(root.glob("site=*/date=*/*.parquet")) if root.exists() else []
    if existing:
        con.execute(f"CREATE TEMP VIEW lake AS SELECT meter, ts, value FROM read_parquet('{glob(root)}', hive_partitioning = true)")
        bad = con.execute("""
            SELECT f.meter, f.ts, l.value, f.value FROM flagged f JOIN lake l USING (meter, ts)
            WHERE abs(l.value - f.value) > 1e-9 LIMIT 20""").fetchall()
        if bad:
            raise BulkRejected([(None, "value", f"{m} {t}: stored {a} vs new {b}; nothing was written")
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
                dest = root / f.relative_to(stage)
                dest.parent.mkdir(parents=True, exist_ok=True)
                f.replace(dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(root.parent / ".duckdb-tmp", ignore_errors=True)
    total = con.execute("SELECT count(*) FROM flagged").fetchone()[0]
    return {"rows": int(stats[0]), "duplicates_dropped": int(stats[1] or 0), "resets": int(stats[2]),
            "rollovers": int(stats[3]), "spikes": int(spikes), "missing_intervals": int(missing),
            "stored": int(new), "already_stored": int(total - new)}
