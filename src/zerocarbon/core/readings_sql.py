"""The interval rules of a readings import as SQL over the whole file, executed by DuckDB or Apache Spark.

The streaming import (``store.lake_import``) applies the rules of ``core.energy.intervals`` batch by batch with
each meter's last reading carried across batches. Here the same rules are written once over the whole file, as
window functions by meter in file order, so an engine that cannot stream through one process (Spark) runs them;
``bulk_sql.render`` writes each text in the engine's dialect. The order in which the rules speak is the
streaming path's, to the row: the file's rows are numbered (``record``, as messages count them) and fall into
the streaming path's batches of ``BATCH_ROWS``, and the problems reported are those the stream reports.

What stays in Python, once per distinct key (as in the inventory, "keys in Python, rows in SQL"): each (unit,
meter)'s conversion factor (``unit_factor``), each zone's clock changes of the years present (``dst_windows``),
each meter's spike quantile from the two values around its rank (``spike_ranks``, ``spike_interpolate``), and
every message's wording. The tables an engine provides:

* ``raw_file``: the file's own columns and ``record``;
* ``registry``: code, meter, site_no, tz (the zone of local stamps: the profile's, else the meter's), zone (the
  meter's own: its grid), step_us, minutes, shift_us (an interval-end stamp's step), multiplier, cumulative,
  rollover, unit;
* ``factors``: unit, code, factor (NULL: refused), reason; ``windows``: tz, lo_us, hi_us (local wall time), kind; ``quantiles``: code, q.
"""
from __future__ import annotations

from zerocarbon.core.energy.intervals import ISO_STAMP, OFFSET, QUALITY, ROLLOVER_SHARE, SPIKE_FACTOR, spike_sql

#: the rows per batch of the streaming path (``store.lake_import`` takes it from here): a refusal lists the
#: problems of the first batch that has any, so where batches end is part of the rules
BATCH_ROWS = 1 << 19


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def parsed_sql(profile, stamp_kind: str, has_unit: bool) -> str:
    """Each row of ``raw_file`` read as the streaming path reads it: the meter's code, the stamp (as written, exact
    UTC microseconds or local wall time), the value, the unit; ``stamp_kind`` is the stamp column's type: text,
    instant (a timestamp with zone) or naive (a timestamp without)."""
    col = f"r.{_q(profile.timestamp)}"
    if stamp_kind == "instant":
        text, exact_us, local, exact = (f"CAST({col} AS VARCHAR)", f"ZC_EPOCH_US({col})", "CAST(NULL AS TIMESTAMP)",
                                        f"{col} IS NOT NULL")
    elif stamp_kind == "naive":
        text, exact_us, local, exact = f"CAST({col} AS VARCHAR)", "CAST(NULL AS BIGINT)", f"CAST({col} AS TIMESTAMP)", "false"
    else:
        text = f"trim(CAST({col} AS VARCHAR))"
        iso = f"regexp_matches({text}, {_lit(ISO_STAMP)})"
        exact = f"coalesce({iso} AND regexp_matches({text}, {_lit(OFFSET)}), false)"
        local = f"CASE WHEN {iso} AND NOT {exact} THEN TRY_CAST({text} AS TIMESTAMP) END"
        exact_us = f"CASE WHEN {exact} THEN ZC_EPOCH_US(ZC_PARSE_INSTANT({text})) END"
    if profile.midnight == "ends_day":
        local = f"(CASE WHEN {local} = date_trunc('day', {local}) THEN {local} + INTERVAL 1 DAY ELSE {local} END)"
    meter = f"CAST(r.{_q(profile.meter)} AS VARCHAR)" if profile.meter else _lit(profile.meter_id)
    if has_unit:
        unit = f"trim(CAST(r.{_q(profile.unit_column)} AS VARCHAR))"
        unit_key = f"coalesce({unit}, '')"
    else:
        unit, unit_key = "CAST(NULL AS VARCHAR)", _lit(profile.unit) if profile.unit is not None else "''"
    value = f"r.{_q(profile.value)}"
    return f"""
SELECT r.record, g.code, {meter} AS meter_raw, {text} AS ts_text, {exact_us} AS exact_us, {local} AS local,
       {exact} AS exact, ZC_TO_DOUBLE({value}) AS value, CAST({value} AS VARCHAR) AS value_raw,
       {unit} AS unit, {unit_key} AS unit_key, g.tz, g.zone, g.step_us, g.minutes, g.shift_us, g.multiplier,
       g.cumulative
FROM raw_file AS r LEFT JOIN registry AS g ON {meter} = g.meter
"""


def checked_sql(profile) -> str:
    """``parsed`` with each row's interval stamp in UTC microseconds, the first reason it cannot be used (as
    ``column|reason``, in the order the streaming path checks them; NULL: usable) and its unit factor: only what
    the rules read, as an engine keeps this table (the texts of messages are read again from ``parsed`` for the
    rows named). A finite value is one whose difference with itself is zero: Spark orders NaN above every
    number."""
    described = profile.describe_format().replace("'", "''")
    return f"""
SELECT p.record, p.code, p.local, p.exact, p.value, f.factor AS unit_factor, f.reason AS unit_reason,
       CASE WHEN p.exact THEN p.exact_us ELSE ZC_EPOCH_US(ZC_UTC_TIME(p.local, p.tz)) END AS ts_us,
       CASE WHEN p.code IS NOT NULL AND p.value - p.value = 0 AND p.value >= 0
                 AND CASE WHEN p.exact THEN p.exact_us IS NOT NULL ELSE p.local IS NOT NULL END THEN NULL
            WHEN p.code IS NULL AND coalesce(trim(p.meter_raw), '') = '' THEN 'meter|meter is blank'
            WHEN p.code IS NULL THEN 'meter|unknown meter ''' || p.meter_raw || ''' (not in the meter registry)'
            WHEN p.value_raw IS NULL OR trim(p.value_raw) = '' THEN 'value|value is blank'
            WHEN p.value IS NULL THEN 'value|''' || p.value_raw || ''' is not a number'
            WHEN NOT p.value - p.value = 0 THEN 'value|''' || p.value_raw || ''' is not a finite number'
            WHEN p.value < 0 THEN 'value|negative reading ' || p.value_raw
            WHEN p.ts_text IS NULL OR p.ts_text = '' THEN 'timestamp|timestamp is blank'
            ELSE 'timestamp|''' || p.ts_text || ''' is not a timestamp in {described}' END AS problem
FROM parsed AS p LEFT JOIN factors AS f ON p.unit_key = f.unit AND p.code = f.code
"""


#: the keys resolved in Python: each (unit, meter) of the usable rows, and each zone's years of local stamps
UNIT_KEYS = "SELECT DISTINCT unit_key AS unit, code FROM parsed WHERE code IS NOT NULL"
LOCAL_YEARS = """
SELECT g.tz, min(year(c.local)) AS first_year, max(year(c.local)) AS last_year
FROM checked AS c JOIN registry AS g ON c.code = g.code WHERE c.problem IS NULL AND NOT c.exact GROUP BY g.tz
"""


def problems_sql(first_row: int, ts_min: int, ts_max: int) -> str:
    """Every problem with its tier, as the streaming path checks a batch: (1) the row's own reason, a unit that
    cannot be converted, a local stamp in a clock change; if its batch has none, (2) a stamp outside the years
    the lake holds; if none, (3) an interval start off the meter's grid in its local time."""
    batch = f"CAST(floor((c.record - {first_row}) / {BATCH_ROWS}) AS BIGINT)"
    clean = "c.problem IS NULL AND c.unit_factor IS NOT NULL"
    start = "ZC_LOCAL_TIME(ZC_FROM_US(c.ts_us - c.shift_us), c.zone)"
    return f"""
WITH k AS (SELECT c.*, r.tz, r.zone, r.shift_us, r.step_us, r.minutes
           FROM checked AS c JOIN registry AS r ON c.code = r.code),
g AS (SELECT c.*, {start} AS local_start FROM k AS c WHERE {clean} AND c.ts_us >= {ts_min} AND c.ts_us < {ts_max})
SELECT c.record, {batch} AS batch, 1 AS tier, c.problem AS what, CAST(NULL AS TIMESTAMP) AS at,
       CAST(NULL AS VARCHAR) AS zone, CAST(NULL AS BIGINT) AS ts_us, CAST(NULL AS BIGINT) AS minutes
FROM checked AS c WHERE c.problem IS NOT NULL
UNION ALL
SELECT c.record, {batch}, 1, 'unit|' || c.unit_reason, NULL, NULL, NULL, NULL
FROM checked AS c WHERE c.problem IS NULL AND c.unit_factor IS NULL
UNION ALL
SELECT c.record, {batch}, 1, 'dst|' || w.kind, c.local, c.tz, NULL, NULL
FROM k AS c JOIN windows AS w ON c.tz = w.tz AND ZC_EPOCH_US(c.local) >= w.lo_us AND ZC_EPOCH_US(c.local) < w.hi_us
WHERE c.problem IS NULL AND NOT c.exact
UNION ALL
SELECT c.record, {batch}, 2, 'outside|', NULL, NULL, c.ts_us, NULL
FROM checked AS c WHERE {clean} AND (c.ts_us < {ts_min} OR c.ts_us >= {ts_max})
UNION ALL
SELECT c.record, {batch}, 3, 'grid|', c.local_start, c.zone, NULL, c.minutes
FROM g AS c
WHERE (ZC_EPOCH_US(c.local_start) - ZC_EPOCH_US(date_trunc('day', c.local_start))) % c.step_us <> 0
"""


#: each usable row in the meter's terms (unit factor, then multiplier, in the streaming path's order) and what the
#: sequence rules make of it, by meter in file order: ``new`` (its first stamp), ``dup`` (a repeat of a stamp with
#: the same value), ``clash`` (a repeat with another value), ``order`` (an earlier stamp never seen before). A repeat
#: right after its stamp is compared with the row before it; one after a later stamp, with the stamp's first row.
SEQUENCE = """
WITH v AS (
  SELECT c.record, c.code, c.ts_us, (c.value * c.unit_factor) * g.multiplier AS v
  FROM checked AS c JOIN registry AS g ON c.code = g.code),
w AS (
  SELECT record, code, ts_us, v,
         max(ts_us) OVER (PARTITION BY code ORDER BY record ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS pm,
         lag(v) OVER (PARTITION BY code, ts_us ORDER BY record) AS pv,
         first_value(v) OVER (PARTITION BY code, ts_us ORDER BY record) AS v1,
         row_number() OVER (PARTITION BY code, ts_us ORDER BY record) AS nth
  FROM v)
SELECT record, code, ts_us, v, pm,
       CASE WHEN nth = 1 AND pm IS NOT NULL AND ts_us < pm THEN 'order'
            WHEN nth = 1 THEN 'new'
            WHEN ts_us = pm AND v = pv THEN 'dup'
            WHEN ts_us = pm THEN 'clash'
            WHEN v = v1 THEN 'dup'
            ELSE 'clash' END AS outcome
FROM w
"""

#: the rows out of order, each with the last row before it that kept time order (the messages name both)
OUT_OF_ORDER = """
WITH k AS (
  SELECT record, outcome, max(CASE WHEN pm IS NULL OR ts_us >= pm THEN record END)
           OVER (PARTITION BY code ORDER BY record ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
  FROM sequence)
SELECT k.record, k.prev, pa.ts_text, coalesce(a.local, ZC_FROM_US(a.ts_us)) AS at, pb.ts_text AS prev_text,
       coalesce(b.local, ZC_FROM_US(b.ts_us)) AS prev_at
FROM k JOIN checked AS a ON k.record = a.record JOIN checked AS b ON k.prev = b.record
JOIN parsed AS pa ON k.record = pa.record JOIN parsed AS pb ON k.prev = pb.record
WHERE k.outcome = 'order' ORDER BY k.record LIMIT {limit}
"""

CLASHES = """
SELECT s.record, s.code, p.ts_text FROM sequence AS s JOIN parsed AS p ON s.record = p.record
WHERE s.outcome = 'clash' ORDER BY s.record LIMIT {limit}
"""

#: the intervals: an interval meter's reading at its interval start (an end stamp moved back one step); a
#: cumulative register's difference between consecutive readings (a drop near its rollover value is a rollover,
#: any other a reset whose energy is unknown), spread evenly over the steps between them (rounded half to even,
#: at least one). ``quality`` is the index of ``core.energy.intervals.QUALITY``; a reset's value is NULL.
INTERVALS = f"""
WITH kept AS (
  SELECT s.code, s.ts_us, s.v, g.shift_us, g.step_us, g.cumulative, g.rollover
  FROM sequence AS s JOIN registry AS g ON s.code = g.code WHERE s.outcome = 'new'),
reg AS (
  SELECT code, ts_us, v, step_us, rollover, lag(ts_us) OVER (PARTITION BY code ORDER BY ts_us) AS pt,
         lag(v) OVER (PARTITION BY code ORDER BY ts_us) AS pv
  FROM kept WHERE cumulative),
deltas AS (
  SELECT code, ts_us, step_us,
         CASE WHEN v - pv < 0 AND rollover > 0 AND pv >= CAST({ROLLOVER_SHARE!r} AS DOUBLE) * rollover
                   THEN (v + rollover) - pv
              WHEN v - pv < 0 THEN NULL ELSE v - pv END AS delta,
         CASE WHEN v - pv < 0 AND rollover > 0 AND pv >= CAST({ROLLOVER_SHARE!r} AS DOUBLE) * rollover THEN 2
              WHEN v - pv < 0 THEN 1 ELSE 0 END AS q,
         CAST(greatest(ZC_ROUND_EVEN(CAST(ts_us - pt AS DOUBLE) / step_us), 1) AS BIGINT) AS k
  FROM reg WHERE pt IS NOT NULL),
spread AS (SELECT code, ts_us, step_us, delta, q, k, unnest(range(1, k + 1)) AS j FROM deltas)
SELECT code, ts_us - shift_us AS start_us, v AS value, 0 AS quality FROM kept WHERE NOT cumulative
UNION ALL
SELECT code, ts_us - j * step_us, CASE WHEN k > 1 THEN delta / k ELSE delta END,
       CASE WHEN q = 0 AND k > 1 THEN 3 ELSE q END
FROM spread
"""

#: the counts of the summary: readings kept, repeats dropped, resets and rollovers (per interval they cover), and
#: the intervals missing between consecutive stored ones of a meter (whole steps)
COUNTS = """
WITH gaps AS (
  SELECT i.start_us - lag(i.start_us) OVER (PARTITION BY i.code ORDER BY i.start_us) AS diff, g.step_us
  FROM intervals AS i JOIN registry AS g ON i.code = g.code WHERE i.value IS NOT NULL)
SELECT (SELECT count(*) FROM sequence WHERE outcome = 'dup') AS duplicates_dropped,
       (SELECT count(*) FROM intervals WHERE quality = 1) AS resets,
       (SELECT count(*) FROM intervals WHERE quality = 2) AS rollovers,
       (SELECT coalesce(sum(CASE WHEN diff > step_us THEN floor(CAST(diff AS DOUBLE) / step_us - 1) ELSE 0 END), 0)
        FROM gaps) AS missing_intervals
"""

#: each meter's number of stored intervals, and the values at the two ranks around its spike quantile
STORED_PER_METER = "SELECT code, count(*) AS n FROM intervals WHERE value IS NOT NULL GROUP BY code"
AT_RANKS = """
WITH r AS (SELECT code, value, row_number() OVER (PARTITION BY code ORDER BY value) - 1 AS rk
           FROM intervals WHERE value IS NOT NULL)
SELECT r.code, r.rk, r.value FROM r JOIN ranks AS k ON r.code = k.code AND (r.rk = k.lo OR r.rk = k.hi)
"""

_QUALITY = "CASE i.quality " + " ".join(f"WHEN {n} THEN {_lit(q)}" for n, q in enumerate(QUALITY)) + " END"

#: the rows the lake receives (the streaming path's columns), each with its partition: site number x 100000 +
#: months since 1900-01 of its UTC start. A spike is a value above SPIKE_FACTOR x its meter's quantile; it is
#: flagged only where no other flag is.
FINAL = f"""
SELECT g.meter, ZC_FROM_US(i.start_us) AS ts, i.value, g.unit,
       CASE WHEN i.quality <> 0 THEN {_QUALITY} WHEN {spike_sql('i.value', 'q.q')} THEN 'spike' ELSE '' END AS quality,
       {{batch}} AS batch,
       g.site_no * 100000 + (year(ZC_FROM_US(i.start_us)) - 1900) * 12 + month(ZC_FROM_US(i.start_us)) - 1 AS part
FROM intervals AS i JOIN registry AS g ON i.code = g.code LEFT JOIN quantiles AS q ON i.code = q.code
WHERE i.value IS NOT NULL
"""

SPIKES = f"""
SELECT count(*) AS spikes FROM intervals AS i JOIN quantiles AS q ON i.code = q.code
WHERE i.value IS NOT NULL AND {spike_sql('i.value', 'q.q')}
"""

#: rows the lake already holds with another value (more than 1e-9 apart), by partition
CONFLICTS = """
SELECT f.part, f.meter, f.ts, f.value, l.value AS value_old
FROM final AS f JOIN stored AS l ON f.meter = l.meter AND f.ts = l.ts
WHERE abs(l.value - f.value) > 1e-9
"""

#: the file's first row of each clashing (meter, interval start) of an interval meter: ``clash`` (code, start_us)
CLASH_ROWS = """
WITH m AS (
  SELECT c.code, c.record, p.ts_text, c.value, p.unit, x.start_us,
         row_number() OVER (PARTITION BY c.code, x.start_us ORDER BY c.record) AS nth
  FROM checked AS c JOIN registry AS g ON c.code = g.code
  JOIN clash AS x ON c.code = x.code AND c.ts_us - g.shift_us = x.start_us
  JOIN parsed AS p ON c.record = p.record
  WHERE c.problem IS NULL)
SELECT code, start_us, record, ts_text, value, unit FROM m WHERE nth = 1
"""

#: the rows new to the lake
NEW_ROWS = """
SELECT f.meter, f.ts, f.value, f.unit, f.quality, f.batch, f.part
FROM final AS f LEFT JOIN stored AS l ON f.meter = l.meter AND f.ts = l.ts
WHERE l.meter IS NULL
"""

#: the partition of a FINAL row as (site number, months since 1900-01)
def part_of(part: int) -> tuple[int, int]:
    return part // 100000, part % 100000


def month_text(months: int) -> str:
    return f"{1900 + months // 12:04d}-{months % 12 + 1:02d}"


__all__ = ["parsed_sql", "checked_sql", "problems_sql", "UNIT_KEYS", "LOCAL_YEARS", "SEQUENCE", "OUT_OF_ORDER",
           "CLASHES", "INTERVALS", "COUNTS", "STORED_PER_METER", "AT_RANKS", "FINAL", "SPIKES", "CONFLICTS",
           "CLASH_ROWS", "NEW_ROWS", "part_of", "month_text", "BATCH_ROWS", "SPIKE_FACTOR"]
