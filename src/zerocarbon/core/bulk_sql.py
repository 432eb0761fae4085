"""The bulk calculations over the interval-data lake, each written once and executed by DuckDB or Apache Spark.

Each definition is one SQL text in DuckDB's dialect. :func:`render` parses it with SQLGlot and writes it in the
dialect of the engine that runs it, so neither engine has a hand-kept copy. SQLGlot transpiles grammar
(quoting, ``GROUP BY``, ``date_trunc``) faithfully, but not every function keeps its meaning across engines:
local time from a UTC stamp, the minutes between two stamps and timestamp literals are written here as
``ZC_*`` placeholders, and :data:`ENGINE_FUNCTIONS` is the one place that says how each engine spells them
(docs/architecture.md, "One definition, two engines"). The reasons:

* DuckDB's ``timezone(zone, timezone('UTC', ts))`` reads a naive stamp as UTC and gives the zone's wall time;
  SQLGlot turns Spark's ``from_utc_timestamp`` into ``AT TIME ZONE``, which in DuckDB reads the stamp as the
  zone's wall time instead: the opposite shift.
* The lake's ``ts`` is a timestamp without zone (UTC by convention). Spark reads it as ``TIMESTAMP_NTZ``; its
  zone functions take ``TIMESTAMP`` (instant) values, so the Spark spelling casts with the session zone set to
  UTC (``store.engines`` sets it) and casts the wall time back to ``TIMESTAMP_NTZ``.
* The readings import (``core.readings_sql``) works in UTC microseconds: ``ZC_EPOCH_US``/``ZC_FROM_US`` convert,
  ``ZC_UTC_TIME`` places a local wall time in a zone, ``ZC_PARSE_INSTANT`` reads ISO text with a UTC offset
  (Spark's cast wants the seconds before the offset, and no ``Z``) and ``ZC_ROUND_EVEN`` rounds half to even
  (numpy's ``rint``; DuckDB's ``round`` rounds half away from zero); ``ZC_TO_DOUBLE`` reads a number as DuckDB's
  cast does, which takes one ``_`` between digits as a separator (``1_000``).
* Parameters are bound as literals of the engine's naive timestamp type after parsing, never pasted as text:
  every value is a ``datetime`` formatted here.

Every name a query reads is a table the engine provides: ``readings`` (one organisation's lake, with the hive
columns ``site`` and ``month``) and small frames such as ``zones`` (meter, site, timezone).
"""
from __future__ import annotations

from datetime import datetime

import sqlglot
from sqlglot import exp

from zerocarbon.core.ghg.scope3 import FOOTPRINT_STORED, PURCHASE_GIVEN, PURCHASE_NUMBERS, ROUTES

ENGINES = ("duckdb", "spark")

#: how each engine spells the functions whose meaning SQLGlot does not carry across (see the module docstring)
ENGINE_FUNCTIONS: dict[str, dict[str, str]] = {
    "duckdb": {
        "ZC_LOCAL_TIME": "timezone({1}, timezone('UTC', {0}))",
        "ZC_MINUTES_BETWEEN": "datediff('minute', {0}, {1})",
        "ZC_TIMESTAMP": "CAST({0} AS TIMESTAMP)",
        "ZC_EPOCH_US": "epoch_us({0})",
        "ZC_FROM_US": "make_timestamp({0})",
        "ZC_UTC_TIME": "make_timestamp(epoch_us(timezone({1}, {0})))",
        "ZC_PARSE_INSTANT": "TRY_CAST({0} AS TIMESTAMPTZ)",
        "ZC_ROUND_EVEN": "round_even({0}, 0)",
        "ZC_TO_DOUBLE": "TRY_CAST({0} AS DOUBLE)",
    },
    "spark": {
        "ZC_LOCAL_TIME": "CAST(from_utc_timestamp(CAST({0} AS TIMESTAMP), {1}) AS TIMESTAMP_NTZ)",
        "ZC_MINUTES_BETWEEN": "timestampdiff(MINUTE, {0}, {1})",
        "ZC_TIMESTAMP": "CAST({0} AS TIMESTAMP_NTZ)",
        "ZC_EPOCH_US": "unix_micros(CAST({0} AS TIMESTAMP))",
        "ZC_FROM_US": "CAST(timestamp_micros({0}) AS TIMESTAMP_NTZ)",
        "ZC_UTC_TIME": "CAST(to_utc_timestamp(CAST({0} AS TIMESTAMP), {1}) AS TIMESTAMP_NTZ)",
        # Spark's cast wants the seconds before an offset, and no Z: both are written in first
        "ZC_PARSE_INSTANT": "TRY_CAST(regexp_replace(regexp_replace({0}, '([T ][0-9]{{2}}:[0-9]{{2}})(Z|[+-])', "
                            "'$1:00$2'), 'Z$', '+00:00') AS TIMESTAMP)",
        "ZC_ROUND_EVEN": "bround({0}, 0)",
        # DuckDB reads one '_' between digits as a digit separator (1_000); Spark's cast does not
        "ZC_TO_DOUBLE": "TRY_CAST(regexp_replace(CAST({0} AS STRING), '(?<=[0-9])_(?=[0-9])', '') AS DOUBLE)",
    },
}

#: energy per ``{by}`` (meter | site) and local hour, day or month (``{freq}``): one row per period and UTC
#: offset, so the two 01:00 hours of a fall-back stay apart; ``first`` orders the rows in time.
ROLLUP = """
WITH local AS (
  SELECT r.meter, z.site, z.timezone, r.unit, r.value, r.ts, ZC_LOCAL_TIME(r.ts, z.timezone) AS lt
  FROM readings AS r JOIN zones AS z ON r.meter = z.meter)
SELECT {by}, timezone, date_trunc('{freq}', lt) AS period, ZC_MINUTES_BETWEEN(ts, lt) AS utc_offset_min, unit,
       sum(value) AS value, count(*) AS intervals, min(ts) AS first
FROM local
WHERE {where}
GROUP BY {by}, timezone, date_trunc('{freq}', lt), ZC_MINUTES_BETWEEN(ts, lt), unit
"""

#: what the lake holds: per site and meter, the first and last interval start (UTC) and the count
HOLDINGS = """
SELECT site, meter, min(ts) AS first, max(ts) AS last, count(*) AS readings
FROM readings GROUP BY site, meter
"""


#: the shift of a local time ``{t}`` and the day the shift started: a shift that wraps midnight (night 20-8)
#: belongs, after midnight, to the day it began. ``shifts`` has name, start, end (local whole hours, as text).
_SHIFT_OF = "(s.a < s.b AND hour({t}) >= s.a AND hour({t}) < s.b) OR (s.a > s.b AND (hour({t}) >= s.a OR hour({t}) < s.b))"
_SHIFT_DAY = "CASE WHEN s.a > s.b AND hour({t}) < s.b THEN {t} - INTERVAL 1 DAY ELSE {t} END"

#: energy and units produced per site, line, shift and local day or month (``{freq}``) of the day the shift
#: began, with a row per product made (product "" where the counts name none); bounds select shifts by that day.
#: ``zones``: meter, site, timezone, line (metered lines only); ``production``: line, site, timezone, ts (naive UTC
#: interval start, ISO text), units, product; both sides are cut by the same shift rule. A named product that made
#: nothing in a shift has no row.
KPIS = """
WITH shifts_n AS (SELECT name, CAST(a AS INT) AS a, CAST(b AS INT) AS b FROM shifts),
energy AS (
  SELECT z.site, z.line, r.unit, r.value, ZC_LOCAL_TIME(r.ts, z.timezone) AS lt
  FROM readings AS r JOIN zones AS z ON r.meter = z.meter),
made AS (
  SELECT p.site, p.line, p.product, CAST(p.units AS DOUBLE) AS units,
         ZC_LOCAL_TIME(ZC_TIMESTAMP(p.ts), p.timezone) AS lt
  FROM production AS p),
e AS (
  SELECT site, line, s.name AS shift, date_trunc('{freq}', {e_day}) AS period, unit, sum(value) AS value,
         count(*) AS intervals
  FROM energy JOIN shifts_n AS s ON {e_shift}
  WHERE {where}
  GROUP BY site, line, s.name, date_trunc('{freq}', {e_day}), unit),
u AS (
  SELECT site, line, s.name AS shift, date_trunc('{freq}', {u_day}) AS period, product, sum(units) AS units
  FROM made JOIN shifts_n AS s ON {u_shift}
  WHERE {where}
  GROUP BY site, line, s.name, date_trunc('{freq}', {u_day}), product
  HAVING sum(units) > 0 OR product = '')
SELECT e.site, e.line, e.shift, e.period, e.unit, e.value, e.intervals, u.units, u.product
FROM e LEFT JOIN u ON e.site = u.site AND e.line = u.line AND e.shift = u.shift AND e.period = u.period
"""


def _between(expr: str, start: bool, end: bool) -> str:
    """``expr`` from ``:start`` (included) to ``:end`` (excluded), for the bounds that are given."""
    return " AND ".join(w for w in (f"{expr} >= :start" if start else "", f"{expr} < :end" if end else "") if w) or "TRUE"


def kpis_sql(freq: str, start: bool, end: bool) -> str:
    """The :data:`KPIS` definition per local ``freq`` (day | month), with optional bounds on local time."""
    if freq not in ("day", "month"):
        raise ValueError(f"KPIs per {freq!r} are not offered")
    # Bounds select shifts by the day they began, so the first and last nights of a period are whole.
    where = _between(_SHIFT_DAY.format(t="lt"), start, end)
    return KPIS.format(freq=freq, where=where, e_day=_SHIFT_DAY.format(t="lt"), u_day=_SHIFT_DAY.format(t="lt"),
                       e_shift=_SHIFT_OF.format(t="lt"), u_shift=_SHIFT_OF.format(t="lt"))


#: the meters with readings, per site: one column of each file is read
METERS_HELD = """
SELECT DISTINCT site, meter FROM readings
"""


def rollup_sql(by: str, freq: str, start: bool, end: bool) -> str:
    """The :data:`ROLLUP` definition for one choice of grouping, calendar unit and bounds on local time."""
    if by not in ("meter", "site") or freq not in ("hour", "day", "month"):
        raise ValueError(f"rollup by {by!r} per {freq!r} is not offered")
    where = _between("lt", start, end)
    return ROLLUP.format(by=by, freq=freq, where=where)


#: grid electricity per site in kWh: ``electricity`` (activity rows: site_no, quantity, unit) and ``units``
#: (unit, to_kwh: the factor each unit is multiplied by)
ELECTRICITY_KWH = """
SELECT e.site_no, sum(e.quantity * u.to_kwh) AS kwh
FROM electricity AS e JOIN units AS u ON e.unit = u.unit
GROUP BY e.site_no
"""

#: the ledger rows of fuel combustion (Scope 1) and grid electricity (Scope 2, location- and market-based): one
#: per activity row, gas and method. Factors come in small tables resolved once per distinct key by
#: ``core.ghg.inventory``, the same code the in-process path uses. Each row names its activity row
#: (``source_row``), its ``lineage`` (the route or grid entry whose factor ids and formula apply), its site and
#: its origin (``fossil``) by number, and carries the numbers: the driver turns the numbers back into text from
#: the same small tables, so no text is repeated per row on its way back. Tables: ``fuel`` (source_row,
#: site_no, fuel, fuel_use, unit, basis: text, "" when missing; quantity; biogenic), ``fuel_routes`` (lineage,
#: fuel, fuel_use, unit, basis, gas, kg_per_unit; ``fuel_use`` for ``use``, a word Spark reserves),
#: ``electricity`` (source_row, site_no, quantity, unit), ``units``, ``grid_sites`` (site_no; loc_ and mkt_
#: ef [kg/kWh], gas, lineage), ``gwp`` (gas, fossil, gwp) and ``inclusion`` (site_no, share inside the boundary).
INVENTORY_SCOPE12 = """
WITH fuel_rows AS (
  SELECT a.source_row, r.lineage, a.site_no, NOT a.biogenic AS fossil, r.gas, a.quantity * r.kg_per_unit AS gas_kg
  FROM fuel AS a JOIN fuel_routes AS r
    ON a.fuel = r.fuel AND a.fuel_use = r.fuel_use AND a.unit = r.unit AND a.basis = r.basis),
kwh AS (
  SELECT e.source_row, e.site_no, e.quantity * u.to_kwh AS kwh
  FROM electricity AS e JOIN units AS u ON e.unit = u.unit),
power_rows AS (
  SELECT k.source_row, g.loc_lineage AS lineage, k.site_no, TRUE AS fossil, g.loc_gas AS gas,
         k.kwh * g.loc_ef AS gas_kg
  FROM kwh AS k JOIN grid_sites AS g ON k.site_no = g.site_no
  UNION ALL
  SELECT k.source_row, g.mkt_lineage AS lineage, k.site_no, TRUE AS fossil, g.mkt_gas AS gas,
         k.kwh * g.mkt_ef AS gas_kg
  FROM kwh AS k JOIN grid_sites AS g ON k.site_no = g.site_no),
ledger AS (SELECT * FROM fuel_rows UNION ALL SELECT * FROM power_rows)
SELECT l.source_row, l.lineage, l.site_no, l.fossil, l.gas_kg, l.gas_kg * w.gwp * i.inclusion / 1000.0 AS co2e_t
FROM ledger AS l
JOIN gwp AS w ON l.gas = w.gas AND l.fossil = w.fossil
JOIN inclusion AS i ON l.site_no = i.site_no
"""


def render(sql: str, engine: str, **params: datetime) -> str:
    """``sql`` (DuckDB dialect, with ``ZC_*`` functions and ``:name`` parameters) as the text ``engine`` runs."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    spelled = ENGINE_FUNCTIONS[engine]
    tree = sqlglot.parse_one(sql, read="duckdb")

    def bind(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name:
            if node.name not in params:
                raise KeyError(f"parameter :{node.name} has no value")
            return exp.Anonymous(this="ZC_TIMESTAMP", expressions=[exp.Literal.string(
                params[node.name].strftime("%Y-%m-%d %H:%M:%S.%f"))])
        return node

    tree = tree.transform(bind)

    def spell(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and str(node.this).upper() in spelled:
            args = [a.transform(spell).sql(dialect=engine) for a in node.expressions]  # inner ones first
            return sqlglot.parse_one(spelled[str(node.this).upper()].format(*args), read=engine)
        return node

    return tree.transform(spell).sql(dialect=engine)


def _purchase_rows() -> str:
    """The purchase rows with their key text ("" when missing), numbers, and presence mask (see
    ``core.ghg.scope3.PURCHASE_GIVEN``: a text column is given when not blank, a number when not missing)."""
    text = ("pcf_id", "unit", "material", "currency", "eeio_code", "supplier_co2e_unit", "evidence")
    bits = " + ".join(
        f"CASE WHEN {'a.' + c + ' IS NOT NULL' if c in PURCHASE_NUMBERS else 'a.' + c + ' <> ' + repr('')} "
        f"THEN {1 << i} ELSE 0 END" for i, c in enumerate(PURCHASE_GIVEN))
    return f"""
a AS (
  SELECT source_row, {', '.join(f"coalesce({c}, '') AS {c}" for c in text)}, {', '.join(PURCHASE_NUMBERS)}
  FROM purchases),
p AS (
  SELECT a.*, {bits} + CASE WHEN f.pcf_id IS NULL THEN 0 ELSE {FOOTPRINT_STORED} END AS mask
  FROM a LEFT JOIN footprints AS f ON a.pcf_id = f.pcf_id),
r AS (SELECT p.*, m.route FROM p JOIN routes AS m ON p.mask = m.mask)"""


def _route(name: str) -> int:
    return ROUTES.index(name)


def _routes(*names: str) -> str:
    return ", ".join(str(_route(n)) for n in names)


#: the distinct route keys of purchase rows (Scope 3 categories 1 and 2), for the driver to resolve once each
#: (``core.ghg.scope3.purchase_plan``): one row per route and distinct combination of the key columns that route
#: uses (the others are blank), with the pcf id a row names that no stored footprint has, and the first row of
#: each. One pass and one grouping, so an engine reads the rows once. Tables: ``purchases`` (source_row, the
#: columns of ``PURCHASE_GIVEN`` and ``exchange_rate``), ``footprints`` (pcf_id of the stored footprints) and
#: ``routes`` (mask, route: ``core.ghg.scope3.route_table``, the method hierarchy).
PURCHASE_KEYS = f"""
WITH {_purchase_rows().strip()},
k AS (
  SELECT route, source_row,
    CASE WHEN route = {_route('footprint')} THEN pcf_id ELSE '' END AS pcf_id,
    CASE WHEN route IN ({_routes('footprint', 'material', 'hybrid_material', 'supplier', 'hybrid_spend')})
         THEN unit ELSE '' END AS unit,
    CASE WHEN route IN ({_routes('material', 'hybrid_material')}) THEN material ELSE '' END AS material,
    CASE WHEN route IN ({_routes('spend', 'hybrid_spend')}) THEN currency ELSE '' END AS currency,
    CASE WHEN route IN ({_routes('spend', 'hybrid_spend')}) THEN eeio_code ELSE '' END AS eeio_code,
    CASE WHEN route IN ({_routes('spend', 'hybrid_spend')}) THEN price_year END AS price_year,
    CASE WHEN route IN ({_routes('spend', 'hybrid_spend')}) THEN exchange_rate END AS exchange_rate,
    CASE WHEN route IN ({_routes('supplier', 'hybrid_material', 'hybrid_spend')}) THEN supplier_co2e_unit
         ELSE '' END AS supplier_co2e_unit,
    CASE WHEN pcf_id <> '' AND quantity IS NOT NULL AND mask < {FOOTPRINT_STORED} THEN pcf_id ELSE '' END
      AS unknown_pcf_id
  FROM r)
SELECT route, pcf_id, unit, material, currency, eeio_code, price_year, exchange_rate, supplier_co2e_unit,
       unknown_pcf_id, min(source_row) AS first
FROM k
GROUP BY route, pcf_id, unit, material, currency, eeio_code, price_year, exchange_rate, supplier_co2e_unit,
         unknown_pcf_id
"""


def _supplier_kg(value: str) -> str:
    # the order of the products is the in-process path's, so the values are the same to the last bit
    return f"CASE WHEN su.per_quantity THEN {value} * su.a * r.quantity * su.b ELSE {value} * su.a END"


#: kg CO2e of each purchase row on its route, and the lineage entry of the route key (-1 for the supplier's own
#: figure, whose entry is one): the tables of ``core.ghg.scope3.PurchasePlan`` (``footprint_routes``,
#: ``material_routes``, ``spend_routes``, ``supplier_units``) joined by key. A row whose figure needs a number it
#: lacks has a null kg.
PURCHASES_SCOPE3 = f"""
WITH {_purchase_rows().strip()}
SELECT r.source_row, r.route,
  CASE WHEN r.route = {_route('footprint')} THEN fp.lineage
       WHEN r.route IN ({_routes('material', 'hybrid_material')}) THEN mr.lineage
       WHEN r.route IN ({_routes('spend', 'hybrid_spend')}) THEN sr.lineage ELSE -1 END AS lineage,
  CASE WHEN r.route = {_route('footprint')} THEN r.quantity * fp.k
       WHEN r.route = {_route('supplier')} THEN {_supplier_kg('r.supplier_co2e')}
       WHEN r.route = {_route('hybrid_material')} THEN {_supplier_kg('r.supplier_scope12_co2e')} + r.quantity * mr.k
       WHEN r.route = {_route('hybrid_spend')} THEN {_supplier_kg('r.supplier_scope12_co2e')} + r.spend * sr.k
       WHEN r.route = {_route('material')} THEN r.quantity * mr.k
       WHEN r.route = {_route('spend')} THEN r.spend * sr.k END AS kg
FROM r
LEFT JOIN footprint_routes AS fp ON r.route = fp.route AND r.pcf_id = fp.pcf_id AND r.unit = fp.unit
LEFT JOIN material_routes AS mr ON r.route = mr.route AND r.material = mr.material AND r.unit = mr.unit
LEFT JOIN spend_routes AS sr ON r.route = sr.route AND r.currency = sr.currency AND r.eeio_code = sr.eeio_code
  AND r.price_year = sr.price_year AND r.exchange_rate IS NOT DISTINCT FROM sr.exchange_rate
LEFT JOIN supplier_units AS su ON r.route = su.route AND r.supplier_co2e_unit = su.supplier_co2e_unit
  AND r.unit = su.unit
"""
