"""Scope 3 (GHG Protocol Corporate Value Chain (Scope 3) Standard, 2011, and its Technical Guidance for
Calculating Scope 3 Emissions, 2013): categories 1-7, 9, 11, 12 from the supply-chain activity kinds.

Every function takes validated activity frames (``core.ghg.inventory.KIND_COLUMNS``) and returns one
:class:`Part` per kind: per-row emissions [kg] of one gas (CO2e unless the factor is per gas) with the method,
factor ids, formula and data-quality score of each row. Work is vectorised: factors and conversions are
resolved once per distinct key (NAICS code and currency and price year; material and unit; mode and vehicle;
...) and applied to all rows with numpy. See docs/scope3.md for every formula, the method hierarchy and the
data-quality rule table.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from zerocarbon.core.factors import Economics, Factor, FactorSet
from zerocarbon.core.model import Organisation
from zerocarbon.errors import FactorNotFoundError, InputError, Problem, ZerocarbonError
from zerocarbon.units import parse_unit, scale, scales

# Ledger categories of Scope 3, in the Standard's order, with their names.
CATEGORIES = {
    "c1_purchased_goods": "1 Purchased goods and services",
    "c2_capital_goods": "2 Capital goods",
    "c3_fuel_energy": "3 Fuel- and energy-related activities",
    "c4_upstream_transport": "4 Upstream transportation and distribution",
    "c5_waste": "5 Waste generated in operations",
    "c6_business_travel": "6 Business travel",
    "c7_commuting": "7 Employee commuting",
    "c9_downstream_transport": "9 Downstream transportation and distribution",
    "c11_use_of_sold_products": "11 Use of sold products",
    "c12_end_of_life": "12 End-of-life treatment of sold products",
}
CURRENCY_CODES = ("CNY", "USD", "HKD", "EUR", "GBP")
# PACT declared units (Pathfinder Framework v2) as pint units.
PACT_UNITS = {"kilogram": "kg", "liter": "L", "litre": "L", "piece": "unit", "kilowatt hour": "kWh",
              "cubic meter": "m**3", "megajoule": "MJ", "square meter": "m**2", "ton kilometer": "tkm"}

# -- data quality ---------------------------------------------------------------------------------------------
# GHG Protocol Scope 3 Standard ch. 7 (data quality indicators, example scoring table): five indicators, each scored very good (1), good (2), fair (3),
# poor (4); 5 where nothing is known. Technological, completeness and reliability follow from the method;
# temporal and geographical from the factor's year and region against the inventory year and the site.
#                     technological, completeness, reliability
METHOD_DQ = {
    "supplier_specific": (1, 2, 2),
    "carrier_reported": (1, 2, 2),
    "hybrid": (2, 2, 2),
    "fuel_based": (2, 2, 2),
    "use_phase_energy": (2, 3, 2),
    "average_data": (3, 3, 3),
    "distance_based": (3, 3, 3),
    "waste_type": (3, 3, 3),
    "spend_based": (4, 3, 4),
}


def temporal_score(factor_year, year: int) -> np.ndarray:
    """Temporal indicator: < 3 years between the data and the inventory year 1, < 6 2, < 10 3, more 4; unknown 5."""
    fy = np.asarray(factor_year, dtype=float)
    diff = np.abs(year - fy)
    return np.select([np.isnan(fy), diff < 3, diff < 6, diff < 10], [5, 1, 2, 3], 4).astype(float)


def geographical_score(factor_region, site_country) -> np.ndarray:
    """Geographical indicator: the factor's country is the site's 1; no region stated 3; another country 4."""
    fr = np.asarray(factor_region, dtype=object)
    sc = np.asarray(site_country, dtype=object)
    return np.where(fr == sc, 1.0, np.where(fr == "", 3.0, 4.0))


def dq_score(method: str, factor_year, factor_region, site_country, year: int) -> np.ndarray:
    """Mean of the five indicators (1 very good .. 5 very poor) for rows computed with ``method``."""
    tech, completeness, reliability = METHOD_DQ[method]
    t = temporal_score(factor_year, year)
    g = geographical_score(factor_region, site_country)
    return (tech + completeness + reliability + t + g) / 5.0


def factor_region(f: Factor) -> str:
    """Where a factor is representative: its region, else the issuer's country (DESNZ: GB, US EPA: US)."""
    if f.region:
        return f.region
    prefix = f.issuer_prefix.upper()
    return "GB" if prefix.startswith("DESNZ") else "US" if prefix.startswith(("EPA", "USEPA")) else ""


# A text column as (integer code per row, the values the codes point to).
Coded = tuple[np.ndarray, list]


@dataclass
class Part:
    """Emissions of the rows of one kind (or one calculation of it): arrays of equal length. A text column is an
    array, or a ``Coded`` pair (integer code per row, the values the codes point to) when the values were resolved
    per distinct key."""

    category: np.ndarray | Coded  # ledger category per row
    activity_id: pd.Series
    site: np.ndarray | Coded
    kg: np.ndarray  # gas mass [kg] (CO2e mass for CO2e)
    gas: np.ndarray | Coded
    calc_method: np.ndarray | Coded
    factor_ids: np.ndarray | Coded
    formula: np.ndarray | Coded
    dq: np.ndarray


def coded(values) -> Coded:
    """(codes, distinct values in order of first appearance) of a column (array or Series; fast on Arrow text)."""
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64), list(uniq)


def decoded(column) -> np.ndarray:
    """A Part column as one value per row."""
    if isinstance(column, tuple):
        codes, values = column
        return np.array(values, dtype=object)[codes] if len(values) else np.empty(len(codes), dtype=object)
    return np.asarray(column, dtype=object)


@dataclass
class Context:
    org: Organisation
    fs: FactorSet
    year: int
    economics: Economics | None
    pcf: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    exclusions: list[str] = field(default_factory=list)

    @cached_property
    def stored_footprints(self) -> dict:
        """The stored supplier product footprints (``pcf``) by id."""
        pcf = self.pcf
        return {} if pcf is None or pcf.empty else {str(r.pf_id): r for r in pcf.itertuples(index=False)}

    def country(self, sites) -> np.ndarray:
        codes, uniq = pd.factorize(pd.Series(sites, dtype=object))
        return np.array([(self.org.site(s).country or "") for s in uniq] or [""], dtype=object)[codes]


def _ref(f: Factor) -> str:
    return f"{f.factor_id}@{f.edition}"


def _kg_per(f: Factor, unit: str) -> float:
    num, den = f.unit.split("/", 1)
    return f.value * scale(num, "kgCO2e" if "CO2e" in num else "kg") * scale(unit, den)


def _problems(df: pd.DataFrame, mask, column: str, reason: str) -> list[Problem]:
    out = []
    for aid in df.loc[np.asarray(mask), "activity_id"].astype(str).head(20):
        source, _, row = aid.rpartition(":")
        out.append(Problem(source or aid, int(row) if row.isdigit() else None, column, reason))
    return out


def _obj(n: int, value="") -> np.ndarray:
    return np.full(n, value, dtype=object)


def _key_codes(cols: list, rows: np.ndarray | None = None) -> tuple[np.ndarray, list[tuple]]:
    """Integer code per row of the distinct tuples of ``cols`` (Series or arrays of equal length) among ``rows``
    (all rows if None), -1 elsewhere, and the distinct tuples in order of first appearance. Each column is factorised
    once, so a factor lookup per distinct key is applied to all rows by integer indexing instead of comparing whole
    text columns once per key."""
    n = len(cols[0])
    idx = np.arange(n) if rows is None else np.flatnonzero(rows)
    sub = [c.iloc[idx] if isinstance(c, pd.Series) else np.asarray(c)[idx] for c in cols] if rows is not None else cols
    comb = np.zeros(len(idx), dtype=np.int64)
    span = 1
    for c in sub:
        codes, uniq = pd.factorize(c, use_na_sentinel=False)
        comb = comb * max(len(uniq), 1) + codes.astype(np.int64)
        span *= max(len(uniq), 1)
        if span > 2 ** 31:  # keep the combined code far from overflowing
            comb = pd.factorize(comb)[0].astype(np.int64)
            span = len(idx) + 1
    out = np.full(n, -1, dtype=np.int64)
    codes, _ = pd.factorize(comb)
    out[idx] = codes
    first = _firsts(codes)
    keys = [tuple(_item(c, int(f)) for c in sub) for f in first]
    return out, keys


def _firsts(codes: np.ndarray) -> np.ndarray:
    """Position of the first row of each code 0..k-1 of factorised ``codes`` (numbered by first appearance)."""
    return pd.Series(codes).drop_duplicates().index.to_numpy()


def _item(col, i: int):
    return col.iat[i] if isinstance(col, pd.Series) else col[i]


def _groups(codes: np.ndarray, k: int) -> list[np.ndarray]:
    """Row positions of each code 0..k-1 (ascending within a group; other codes are left out), from one sort."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(k + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(k)]


def _text(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col].fillna("").astype(str) if col in df else pd.Series("", index=df.index)


def _given(df: pd.DataFrame, col: str) -> np.ndarray:
    """Rows where ``col`` holds a value (text not blank, number not NaN)."""
    if col not in df:
        return np.zeros(len(df), bool)
    s = df[col]
    if pd.api.types.is_numeric_dtype(s):
        return s.notna().to_numpy()
    return (s.fillna("").astype(str) != "").to_numpy()


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float) if col in df else np.full(len(df), np.nan)


def _currency_code(text: str) -> tuple[str, float]:
    """(ISO code, units of it per one ``text``): 万元 -> (CNY, 10000)."""
    for code in CURRENCY_CODES:
        try:
            return code, scale(text, code)
        except ZerocarbonError:
            continue
    raise FactorNotFoundError(f"'{text}' is not a currency with an exchange rate ({', '.join(CURRENCY_CODES)})")


# -- spend-based (EEIO) ---------------------------------------------------------------------------------------
def _price_index_name(ctx: Context) -> str:
    rules = ctx.fs.rules.get("scope3", {}) if isinstance(ctx.fs.rules.get("scope3"), dict) else {}
    name = rules.get("price_index")
    names = ctx.economics.index_names() if ctx.economics else []
    if name:
        return name
    if len(names) == 1:
        return names[0]
    raise FactorNotFoundError("the spend-based method needs one price index; the economics reference has "
                              + (", ".join(names) if names else "none") + " (name one in the factor set rules: "
                              "scope3: {price_index: NAME})")


def spend_route(ctx: Context, currency: str, price_year: int, naics: str, booked_rate: float | None = None
                ) -> tuple[float, Factor, str, list[str]]:
    """kg CO2e per one unit of ``currency`` of ``price_year`` money spent on NAICS ``naics``: the currency to USD at
    the year's average rate (or at ``booked_rate`` [currency per USD], the rate the spend was booked at), USD of
    ``price_year`` to USD of the EEIO factor's price year by the price index, x the factor. Returns (k, EEIO
    factor, formula, reference notes)."""
    if ctx.economics is None:
        raise FactorNotFoundError("the spend-based method needs exchange rates and a price index "
                                  "(data/reference/economics/); none is shipped or given")
    f = ctx.fs.eeio(naics)
    if f.year is None:
        raise FactorNotFoundError(f"EEIO factor {f.factor_id} states no price year")
    code, per = _currency_code(currency)
    if booked_rate is None:
        rate, rate_text, rate_ref = ctx.economics.units_per_usd(code, price_year).value, f"{price_year} annual average", \
            f"fx:{code}:{price_year}"
    else:
        rate, rate_text, rate_ref = booked_rate, "booked rate given in the row", f"fx:{code}:booked"
    name = _price_index_name(ctx)
    p_from, p_to = ctx.economics.price_index(name, price_year), ctx.economics.price_index(name, f.year)
    usd = per / rate
    inflate = p_to.value / p_from.value
    k = usd * inflate * _kg_per(f, "USD")
    in_code = f"spend [{currency}]" + (f" x {per:g} {code}/{currency}" if per != 1 else "")
    formula = (f"spend-based: {in_code} / {rate:g} {code} per USD ({rate_text}) = USD of {price_year}; "
               f"x price index {name} {f.year}/{price_year} = {p_to.value:g}/{p_from.value:g} = USD of {f.year}; "
               f"x EEIO {naics} {f.value:g} {f.unit} ({f.use}, {f.year} USD)")
    refs = [rate_ref, f"price_index:{name}:{price_year}", f"price_index:{name}:{f.year}"]
    return k, f, formula, refs


def _spend(ctx: Context, df: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """Spend-based kg, factor ids, formulas, factor years and regions of ``rows`` (NaN elsewhere)."""
    n = len(df)
    kg, fids, forms, fyear, freg = np.full(n, np.nan), _obj(n), _obj(n), np.full(n, np.nan), _obj(n)
    if not rows.any():
        return kg, fids, forms, fyear, freg
    spend = _num(df, "spend")
    cur, code = _text(df, "currency"), _text(df, "eeio_code")
    py = _num(df, "price_year")
    booked = _num(df, "exchange_rate") if "exchange_rate" in df else np.full(n, np.nan)
    key, keys = _key_codes([cur, py, code, booked], rows)
    nk = len(keys)
    k_k, k_ids, k_forms, k_year, k_reg = np.full(nk, np.nan), _obj(nk), _obj(nk), np.full(nk, np.nan), _obj(nk)
    problems: list[Problem] = []
    for i, key_i in enumerate(keys):
        try:
            found = spend_key_route(ctx, *key_i)
        except Refused as exc:
            problems += _problems(df, key == i, exc.column, str(exc))
            continue
        k_k[i], k_ids[i], k_forms[i], k_year[i], k_reg[i] = found.k, found.factor_ids, found.formula, found.year, \
            found.region
    if problems:
        raise InputError(problems)
    at = np.flatnonzero(rows)
    ki = key[at]
    kg[at] = spend[at] * k_k[ki]
    fids[at], forms[at], fyear[at], freg[at] = k_ids[ki], k_forms[ki], k_year[ki], k_reg[ki]
    return kg, fids, forms, fyear, freg


# -- purchases (categories 1 and 2) ---------------------------------------------------------------------------
# A supplier's figure and its evidence are the purchase row's own: the ledger row's activity id leads to it (the
# evidence is not copied into the ledger line, so supplier rows of one site and category share a line).
SUPPLIER_EVIDENCE = "supplier:evidence@activity"
BETTER_DATA_LACKED = {"supplier_specific": "", "hybrid": " (no supplier-specific figure)",
                      "average_data": " (no supplier figure)",
                      "spend_based": " (no supplier figure, no quantity with material)"}

#: the columns whose presence decides a purchase row's method: bit i of a row's presence mask is set when
#: PURCHASE_GIVEN[i] holds a value (text not blank, number not missing)
PURCHASE_GIVEN = ("spend", "currency", "price_year", "eeio_code", "quantity", "unit", "material", "supplier_co2e",
                  "supplier_co2e_unit", "supplier_scope12_co2e", "pcf_id", "evidence")
#: the numbers among them (the rest are text)
PURCHASE_NUMBERS = ("spend", "price_year", "quantity", "supplier_co2e", "supplier_scope12_co2e", "exchange_rate")
#: the mask's last bit: the row's pcf_id names a stored supplier footprint
FOOTPRINT_STORED = 1 << len(PURCHASE_GIVEN)
#: the routes a purchase row can take, best data first; the number of a route is its place here
ROUTES = ("footprint", "supplier", "hybrid_material", "hybrid_spend", "material", "spend", "none")
ROUTE_METHOD = {"footprint": "supplier_specific", "supplier": "supplier_specific", "hybrid_material": "hybrid",
                "hybrid_spend": "hybrid", "material": "average_data", "spend": "spend_based"}
#: per family of route keys: its key columns and the routes that use it
ROUTE_KEYS = {"footprint": (("pcf_id", "unit"), ("footprint",)),
              "material": (("material", "unit"), ("material", "hybrid_material")),
              "spend": (("currency", "price_year", "eeio_code", "exchange_rate"), ("spend", "hybrid_spend")),
              "supplier_unit": (("supplier_co2e_unit", "unit"), ("supplier", "hybrid_material", "hybrid_spend"))}


def purchase_routes(mask: np.ndarray) -> np.ndarray:
    """The route number (:data:`ROUTES`) of purchase rows with presence masks ``mask``: the method hierarchy of
    the Scope 3 Technical Guidance. A stored PACT footprint, then the supplier's own figure with evidence
    (supplier-specific); the supplier's Scope 1+2 share with evidence plus its inputs by material or spend
    (hybrid); quantity x material factor (average-data); spend x EEIO factor (spend-based). Each row takes the
    best route its data allow. The one statement of the hierarchy: every engine looks its rows' masks up here."""
    mask = np.asarray(mask, dtype=np.int64)
    g = {c: (mask >> i) & 1 == 1 for i, c in enumerate(PURCHASE_GIVEN)}
    stored = mask & FOOTPRINT_STORED != 0
    spend_ok = g["spend"] & g["currency"] & g["price_year"] & g["eeio_code"]
    avg_ok = g["quantity"] & g["unit"] & g["material"]
    footprint = g["pcf_id"] & g["quantity"] & stored
    supplier = g["supplier_co2e"] & g["supplier_co2e_unit"] & g["evidence"] & ~footprint
    hybrid = (g["supplier_scope12_co2e"] & g["supplier_co2e_unit"] & g["evidence"] & (avg_ok | spend_ok)
              & ~footprint & ~supplier)
    return np.select([footprint, supplier, hybrid & avg_ok, hybrid, avg_ok, spend_ok], range(6),
                     ROUTES.index("none")).astype(np.int64)


def route_table() -> pd.DataFrame:
    """Every presence mask with its route number: the table an engine joins its rows' masks to."""
    mask = np.arange(2 * FOOTPRINT_STORED, dtype=np.int64)
    return pd.DataFrame({"mask": mask, "route": purchase_routes(mask)})


@dataclass(frozen=True)
class Route:
    """How the purchase rows of one distinct key become kg CO2e: the row's amount x ``k``; the factor ids and
    formula of their ledger rows; the factor's year and region (data quality). A footprint's score is its own."""

    k: float
    factor_ids: str
    formula: str
    year: float = np.nan
    region: str = ""
    dq: float = np.nan


class Refused(ZerocarbonError):
    """A route key the factor set or the stored footprints cannot price: the column to blame and why."""

    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column = column


def material_route(ctx: Context, material: str, unit: str) -> Route:
    """Average-data: kg CO2e per ``unit`` of ``material`` (its primary-production factor of the year)."""
    try:
        f = ctx.fs.material(material, "primary", ctx.year)
    except FactorNotFoundError as exc:
        raise Refused("material", str(exc)) from None
    try:
        k = _kg_per(f, unit)
    except ZerocarbonError:
        raise Refused("unit", f"material factors are per {f.unit.split('/')[1]}; give quantity in a unit of that "
                              f"dimension, not '{unit}'") from None
    return Route(k, _ref(f), f"average-data: quantity[{unit}] x material {material} ({f.use}) {f.value:g} {f.unit}",
                 f.year if f.year is not None else np.nan, factor_region(f))


def spend_key_route(ctx: Context, currency: str, price_year: float, naics: str, booked_rate: float) -> Route:
    """Spend-based: kg CO2e per unit of ``currency`` (see :func:`spend_route`); a NaN ``booked_rate`` is none."""
    try:
        k, f, formula, refs = spend_route(ctx, currency, int(price_year), naics,
                                          None if np.isnan(booked_rate) else float(booked_rate))
    except ZerocarbonError as exc:
        text = str(exc)
        raise Refused("eeio_code" if text.startswith("no eeio") or "EEIO" in text else
                      "price_year" if "price index" in text or "exchange rate" in text else "currency", text) from None
    return Route(k, ";".join([_ref(f), *refs]), formula, f.year, factor_region(f))


def footprint_route(ctx: Context, pcf_id: str, unit: str) -> Route | None:
    """Supplier-specific: kg CO2e per ``unit`` of the stored PACT footprint ``pcf_id``; None when none is stored."""
    known = ctx.stored_footprints
    r = known.get(pcf_id)
    if r is None:
        return None
    declared = PACT_UNITS.get(str(r.declared_unit), str(r.declared_unit))
    try:
        k = scale(unit or declared, declared) * float(r.pcf_kg_per_unit)
    except ZerocarbonError:
        raise Refused("unit", f"footprint {pcf_id} is per {r.declared_unit}; quantity in '{unit}' cannot be "
                              "converted") from None
    end = getattr(r, "period_end", None)
    fy = pd.Timestamp(end).year if end is not None and not pd.isna(end) else np.nan
    share = getattr(r, "primary_data_share", np.nan)
    dqr = getattr(r, "dqr", np.nan)
    completeness = 2.0 if share is not None and not pd.isna(share) and float(share) >= 50 else 3.0
    reliability = float(np.clip(np.round(float(dqr)), 1, 5)) if dqr is not None and not pd.isna(dqr) else 2.0
    dq = float((1.0 + completeness + reliability + temporal_score(fy, ctx.year) + 1.0) / 5.0)
    return Route(k, f"pcf:{pcf_id}", f"supplier-specific: quantity x PACT footprint {pcf_id} ({r.company_name}, "
                                     f"{r.product_id}) {float(r.pcf_kg_per_unit):g} kg CO2e/{r.declared_unit} "
                                     "(pCfExcludingBiogenic)", dq=dq)


def supplier_unit_mismatch(unit: str, co2e_unit: str) -> str:
    """Why a purchase row's quantity unit does not fit its per-unit supplier figure (the import and the
    computation say it alike)."""
    return (f"quantity in '{unit}' cannot be used with supplier_co2e_unit '{co2e_unit}', which is per "
            f"{co2e_unit.split('/', 1)[-1]}; give the quantity in a unit of that dimension")


def supplier_unit(co2e_unit: str, unit: str) -> tuple[float, float, bool]:
    """A supplier figure in ``co2e_unit`` as kg CO2e: (a, b, per quantity). A figure for the row is value x a; one
    per unit of quantity (``kgCO2e/kg``) is value x a x quantity x b, quantity being in ``unit``."""
    if "/" in co2e_unit:
        num, den = co2e_unit.split("/", 1)
        return scale(num, "kgCO2e"), scale(unit, den), True
    return scale(co2e_unit, "kgCO2e"), 1.0, False


@dataclass
class PurchasePlan:
    """The route keys of a year's purchase rows resolved once each: per family (:data:`ROUTE_KEYS`) a table of
    its keys per route (``route``; ``key``, its place in the route's key list; the key columns; ``k``, or for
    supplier units ``a``, ``b``, ``per_quantity``; the ``lineage`` entry of the ledger rows it gives); the lineage
    entries (calc_method, factor_ids, formula) and their data-quality score per site country
    (``dq[entry, country]``)."""

    tables: dict[str, pd.DataFrame]
    lineage: pd.DataFrame
    dq: np.ndarray
    supplier_lineage: int
    refused: list[tuple[str, str, int, str, str]]  # (family, route, key number, column, reason)


SUPPLIER_FORMULA = ("supplier-specific: supplier's cradle-to-gate figure for the purchase (evidence in the purchase "
                    "row) in kg CO2e")


def purchase_plan(ctx: Context, keys: dict[tuple[str, str], list[tuple]], unknown_footprints: list[str],
                  countries: list[str]) -> PurchasePlan:
    """Resolve the route keys of purchase rows: ``keys[family, route]`` lists the distinct keys of the rows of
    ``route`` in order of first appearance; ``unknown_footprints`` the pcf ids rows named but no stored footprint
    has (each a warning, in that order); ``countries`` the site countries dq is scored against. A key that
    cannot be priced is listed in ``refused``, its rows to be named by the caller."""
    for pid in unknown_footprints:
        ctx.warnings.append(f"purchase rows with pcf_id {pid}: no stored supplier product footprint of that id; "
                            "the next method of the hierarchy is used")
    entries: list[tuple[str, str, str]] = []
    kinds: list[tuple[str, Route]] = []
    refused: list[tuple[str, str, int, str, str]] = []
    tables: dict[str, pd.DataFrame] = {}
    resolve = {"footprint": footprint_route, "material": material_route, "spend": spend_key_route}
    for family, (columns, routes) in ROUTE_KEYS.items():
        rows = []
        seen: dict[tuple, object] = {}
        for route in routes:
            for i, key in enumerate(keys.get((family, route), [])):
                if family == "supplier_unit":
                    try:
                        rows.append((ROUTES.index(route), i, *key, *supplier_unit(*key), -1))
                    except ZerocarbonError:
                        refused.append((family, route, i, "unit", supplier_unit_mismatch(key[1], key[0])))
                    continue
                if key not in seen:
                    try:
                        seen[key] = resolve[family](ctx, *key)
                    except Refused as exc:
                        seen[key] = exc
                found = seen[key]
                if isinstance(found, Refused):
                    refused.append((family, route, i, found.column, str(found)))
                    continue
                if found is None:  # an unknown footprint id: those rows took another route
                    continue
                method = ROUTE_METHOD[route]
                if method == "hybrid":
                    text = (f"{SUPPLIER_EVIDENCE};{found.factor_ids}",
                            "hybrid (supplier Scope 1+2 allocated to the purchase, evidence in the purchase row) + "
                            f"inputs: {found.formula}")
                else:
                    text = (found.factor_ids, found.formula)
                entries.append((method, text[0], text[1] + BETTER_DATA_LACKED[method]))
                kinds.append((route, found))
                rows.append((ROUTES.index(route), i, *key, found.k, len(entries) - 1))
        extra = ["a", "b", "per_quantity"] if family == "supplier_unit" else ["k"]
        types = {"route": np.int64, "key": np.int64, "lineage": np.int64, "per_quantity": bool} | {
            c: float for c in (*columns, *extra) if c in PURCHASE_NUMBERS or c in ("k", "a", "b")}
        table = pd.DataFrame(rows, columns=["route", "key", *columns, *extra, "lineage"])
        tables[family] = table.astype({c: types.get(c, object) for c in table.columns})  # typed even when empty
    supplier_lineage = len(entries)
    entries.append(("supplier_specific", SUPPLIER_EVIDENCE, SUPPLIER_FORMULA))
    kinds.append(("supplier", Route(1.0, SUPPLIER_EVIDENCE, SUPPLIER_FORMULA, ctx.year)))
    c = np.asarray(countries or [""], dtype=object)
    dq = np.empty((len(entries), len(c)))
    for e, (route, found) in enumerate(kinds):
        if route == "footprint":
            dq[e] = found.dq
        elif route == "supplier":  # the supplier's own data: this year, this site
            dq[e] = dq_score("supplier_specific", np.full(len(c), ctx.year), c, c, ctx.year)
        else:
            dq[e] = dq_score(ROUTE_METHOD[route], np.full(len(c), found.year), np.full(len(c), found.region,
                                                                                         dtype=object), c, ctx.year)
    lineage = pd.DataFrame(entries, columns=["calc_method", "factor_ids", "formula"])
    return PurchasePlan(tables, lineage, dq, supplier_lineage, refused)


def _purchase_masks(ctx: Context, df: pd.DataFrame) -> np.ndarray:
    mask = np.zeros(len(df), dtype=np.int64)
    for i, c in enumerate(PURCHASE_GIVEN):
        mask |= _given(df, c).astype(np.int64) << i
    stored = _text(df, "pcf_id").isin(list(ctx.stored_footprints)).to_numpy()
    return mask | stored.astype(np.int64) * FOOTPRINT_STORED


def _by_key(table: pd.DataFrame, column: str, n: int) -> np.ndarray:
    """``column`` of a plan table's rows of one route, by key number (NaN for a key it has no row for)."""
    out = np.full(n, np.nan)
    out[table["key"].to_numpy(dtype=np.int64)] = table[column].to_numpy(dtype=float)
    return out


def _entry_column(values: pd.Series, entry: np.ndarray) -> Coded:
    """A lineage column of each row as (codes, distinct values)."""
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64)[entry], list(uniq)


def purchase_part(rows: pd.DataFrame, plan: PurchasePlan, entry: np.ndarray, kg: np.ndarray,
                  country: np.ndarray) -> Part:
    """The Part of purchase ``rows`` (one ledger row each, in their order) given each one's lineage ``entry`` of
    ``plan``, kg and site-country number."""
    c_code, c_uniq = coded((_text(rows, "category") == "2").to_numpy())
    category = (c_code, ["c2_capital_goods" if c else "c1_purchased_goods" for c in c_uniq])
    return Part(category, rows["activity_id"].reset_index(drop=True), coded(rows["site"]), kg,
                (np.zeros(len(rows), dtype=np.int64), ["CO2e"]), _entry_column(plan.lineage["calc_method"], entry),
                _entry_column(plan.lineage["factor_ids"], entry), _entry_column(plan.lineage["formula"], entry),
                plan.dq[entry, country] if len(entry) else np.zeros(0))


def refused_problems(df: pd.DataFrame, plan: PurchasePlan, rows_of) -> list[Problem]:
    """The problems of the keys ``plan`` refused: ``rows_of(family, route, key number)`` gives their rows' mask."""
    order = {"footprint": 0, "material": 1, "spend": 2, "supplier_unit": 3}
    out: list[Problem] = []
    for family, route, i, column, reason in sorted(plan.refused, key=lambda r: order[r[0]]):
        out += _problems(df, rows_of(family, route, i), column, reason)
    return out


NO_ROUTE = ("no method left for this purchase: its pcf_id is not a stored supplier footprint and it gives no "
            "other complete method")


def purchases(ctx: Context, df: pd.DataFrame) -> Part | None:
    """Categories 1 and 2 with the method hierarchy (:func:`purchase_routes`). Each row uses the best method its
    data allow; the formula says which and why."""
    if df.empty:
        return None
    df = df.reset_index(drop=True)
    n = len(df)
    mask = _purchase_masks(ctx, df)
    route = purchase_routes(mask)
    text = {c: _text(df, c) for c in ("pcf_id", "unit", "material", "currency", "eeio_code", "supplier_co2e_unit")}
    num = {c: _num(df, c) for c in PURCHASE_NUMBERS}
    key_codes: dict[tuple[str, str], np.ndarray] = {}
    keys: dict[tuple[str, str], list[tuple]] = {}
    for family, (columns, routes) in ROUTE_KEYS.items():
        for r in routes:
            at = route == ROUTES.index(r)
            if at.any():
                cols = [num[c] if c in PURCHASE_NUMBERS else text[c] for c in columns]
                key_codes[family, r], keys[family, r] = _key_codes(cols, at)
    unknown = (mask >> PURCHASE_GIVEN.index("pcf_id")) & 1 & (mask >> PURCHASE_GIVEN.index("quantity")) & 1 \
        & ~(mask & FOOTPRINT_STORED != 0)
    unknown_ids = list(pd.unique(text["pcf_id"][unknown.astype(bool)])) if unknown.any() else []
    country_code, countries = pd.factorize(pd.Series(ctx.country(df["site"]), dtype=object))
    plan = purchase_plan(ctx, keys, unknown_ids, list(countries))
    if plan.refused:
        raise InputError(refused_problems(df, plan, lambda f, r, i: key_codes[f, r] == i))
    kg, entry = np.full(n, np.nan), np.full(n, plan.supplier_lineage, dtype=np.int64)
    for family, (columns, routes) in ROUTE_KEYS.items():
        table = plan.tables[family]
        for r in routes:
            if (family, r) not in key_codes:
                continue
            at = np.flatnonzero(route == ROUTES.index(r))
            t = table[table["route"] == ROUTES.index(r)]
            ki = key_codes[family, r][at]
            if family == "supplier_unit":
                a, b, per = (_by_key(t, c, len(keys[family, r]))[ki] for c in ("a", "b", "per_quantity"))
                v = num["supplier_co2e" if r == "supplier" else "supplier_scope12_co2e"][at]
                own = np.where(per, v * a * num["quantity"][at] * b, v * a)
                kg[at] = own if r == "supplier" else own + kg[at]  # hybrid: the inputs are already in kg
                continue
            amount = num["spend" if family == "spend" else "quantity"][at]
            kg[at] = amount * _by_key(t, "k", len(keys[family, r]))[ki]
            entry[at] = _by_key(t, "lineage", len(keys[family, r])).astype(np.int64)[ki]
    # No route, or one whose figure needs a number the row lacks (a supplier figure per kg without a quantity).
    lost = np.isnan(kg)
    if lost.any():
        raise InputError(_problems(df, lost, "pcf_id", NO_ROUTE))
    return purchase_part(df, plan, entry, kg, country_code.astype(np.int64))


# -- shipments (categories 4 and 9) ---------------------------------------------------------------------------
def shipments(ctx: Context, df: pd.DataFrame) -> Part | None:
    from zerocarbon.core.supply.logistics import METHODS, leg_arrays, leg_subjects

    if df.empty:
        return None
    df = df.reset_index(drop=True)
    n = len(df)
    legs = pd.DataFrame({
        "mode": _text(df, "mode"), "vehicle": _text(df, "vehicle"),
        "mass_t": _num(df, "mass") * scales(_text(df, "mass_unit"), "t"),
        "origin_lat": _num(df, "origin_lat"), "origin_lon": _num(df, "origin_lon"),
        "destination_lat": _num(df, "destination_lat"), "destination_lon": _num(df, "destination_lon"),
        "fuel": _text(df, "fuel"), "fuel_quantity": _num(df, "fuel_quantity"), "fuel_unit": _text(df, "fuel_unit"),
        "carrier": _text(df, "carrier")})
    dist, du = _num(df, "distance"), _text(df, "distance_unit")
    legs["distance_km"] = np.where(du != "", dist * np.where(du != "", scales(du.replace("", "km"), "km"), 1.0), np.nan)
    cu = _text(df, "carrier_co2e_unit")
    legs["carrier_co2e_kg"] = np.where(cu != "", _num(df, "carrier_co2e") * scales(cu.replace("", "kgCO2e"), "kgCO2e"),
                                       np.nan)
    subjects = leg_subjects(legs)
    _check_legs(ctx, df, legs, subjects)
    r = leg_arrays(legs, ctx.fs, year=ctx.year, subjects=subjects)
    country = ctx.country(df["site"])
    dq = np.full(n, np.nan)
    # Carrier and fuel data are the leg's own (this year, this site); distance-based legs take the freight
    # factor's year and region.
    yr, reg = np.full(n, float(ctx.year)), country.copy()
    by_distance = r.method == METHODS.index("distance_based")
    for i in pd.unique(r.subject[by_distance]):
        s = r.subjects[i]
        try:
            f = ctx.fs.freight(s, "ttw", ctx.year)
        except FactorNotFoundError:
            f = ctx.fs.freight(s, "wtw", ctx.year)
        sel = by_distance & (r.subject == i)
        yr[sel] = f.year if f.year is not None else np.nan
        reg[sel] = factor_region(f)
    for m in ("carrier_reported", "fuel_based", "distance_based"):
        at = r.method == METHODS.index(m)
        if at.any():
            dq[at] = dq_score(m, yr[at], reg[at], country[at], ctx.year)
    c_code, c_uniq = coded((_text(df, "category") == "9").to_numpy())
    category = (c_code, ["c9_downstream_transport" if c else "c4_upstream_transport" for c in c_uniq])
    # Formula per distinct (label, TTW known): the label's formula, noting when TTW and WTT were summed.
    split = ~np.isnan(r.ttw)
    code, uniq = pd.factorize(r.label * 2 + split)
    text = np.array([r.label_formula[c // 2] + (" (TTW and WTT summed; CO2e, GWP 1)" if c % 2 else "")
                     for c in uniq], dtype=object)
    m_code, m_uniq = coded(r.method)
    return Part(category, df["activity_id"], coded(df["site"]), r.co2e, (np.zeros(n, dtype=np.int64), ["CO2e"]),
                (m_code, [METHODS[m] for m in m_uniq]), (r.label, list(r.label_ids)),
                (code.astype(np.int64), list(text)), dq)


def _check_legs(ctx: Context, df: pd.DataFrame, legs: pd.DataFrame, ls=None) -> None:
    """Every factor the legs need is in the set, else an InputError naming the rows (file, row, column). ``ls``: the
    legs' ``logistics.leg_subjects``."""
    from zerocarbon.core.supply.logistics import distance_adjustment, fuel_wtt_route, leg_subjects

    problems: list[Problem] = []
    reported = ~np.isnan(legs["carrier_co2e_kg"].to_numpy(dtype=float))
    fuel = (legs["fuel"] != "").to_numpy() & ~np.isnan(legs["fuel_quantity"].to_numpy(dtype=float)) & ~reported
    ls = ls if ls is not None else leg_subjects(legs)
    subject = ls.subject
    for i, s in enumerate(ls.subjects):
        if any(f.subject == s and f.use == "wtw" for f in ctx.fs._of_kind("freight")):
            continue
        for use in ("ttw", "wtt"):
            try:
                ctx.fs.freight(s, use, ctx.year)
            except FactorNotFoundError as exc:
                problems += _problems(df, subject == i, "vehicle", str(exc))
                break
    no_distance = np.isnan(legs["distance_km"].to_numpy(dtype=float))
    for m in pd.unique(legs["mode"][no_distance]):
        at = no_distance & (legs["mode"] == m).to_numpy()
        try:
            distance_adjustment(ctx.fs, m)
        except FactorNotFoundError as exc:
            problems += _problems(df, at, "distance", str(exc))
    for f_, u in legs.loc[fuel, ["fuel", "fuel_unit"]].drop_duplicates().itertuples(index=False):
        at = fuel & (legs["fuel"] == f_).to_numpy() & (legs["fuel_unit"] == u).to_numpy()
        try:
            from zerocarbon.core.ghg.combustion import fuel_route

            fuel_route(ctx.fs, f_, "mobile", u, "")
            fuel_wtt_route(ctx.fs, f_, u)
        except ZerocarbonError as exc:
            problems += _problems(df, at, "fuel_unit", str(exc))
    if problems:
        raise InputError(problems)


# -- waste (5), end of life (12) ----------------------------------------------------------------------------
def _waste_rows(ctx: Context, df: pd.DataFrame, tonnes: np.ndarray, category: str, what: str) -> Part:
    n = len(df)
    mat, treat = _text(df, "material"), _text(df, "treatment")
    kg, fids, forms, fyear, freg = np.full(n, np.nan), _obj(n), _obj(n), np.full(n, np.nan), _obj(n)
    problems: list[Problem] = []
    for m, t in pd.DataFrame({"m": mat, "t": treat}).drop_duplicates().itertuples(index=False):
        at = (mat == m).to_numpy() & (treat == t).to_numpy()
        try:
            f = ctx.fs.waste(m, t, ctx.year)
        except FactorNotFoundError as exc:
            problems += _problems(df, at, "material", str(exc))
            continue
        kg[at] = tonnes[at] * _kg_per(f, "t")
        fids[at] = _ref(f)
        forms[at] = f"{what} x waste factor {m} {t} {f.value:g} {f.unit} (CO2e, GWP 1)"
        fyear[at] = f.year if f.year is not None else np.nan
        freg[at] = factor_region(f)
    if problems:
        raise InputError(problems)
    dq = dq_score("waste_type", fyear, freg, ctx.country(df["site"]), ctx.year)
    return Part(_obj(n, category), df["activity_id"], df["site"].to_numpy(dtype=object), kg, _obj(n, "CO2e"),
                _obj(n, "waste_type"), fids, forms, dq)


def waste(ctx: Context, df: pd.DataFrame) -> Part | None:
    if df.empty:
        return None
    df = df.reset_index(drop=True)
    tonnes = _num(df, "quantity") * scales(_text(df, "unit"), "t")
    return _waste_rows(ctx, df, tonnes, "c5_waste", "t")


def end_of_life(ctx: Context, df: pd.DataFrame) -> Part | None:
    if df.empty:
        return None
    df = df.reset_index(drop=True)
    tonnes = _num(df, "units_sold") * _num(df, "mass_per_unit") * scales(_text(df, "unit"), "t")
    return _waste_rows(ctx, df, tonnes, "c12_end_of_life", "units sold x mass per unit [t]")


# -- travel (6) and commuting (7) -----------------------------------------------------------------------------
def _travel_factor(ctx: Context, subject: str) -> tuple[float, float, str, str, Factor]:
    """(TTW, WTT) kg CO2e per the factor's unit, its denominator, the factor ids; a missing WTT is 0 with a named
    exclusion."""
    ttw = ctx.fs.travel(subject, "ttw", ctx.year)
    den = ttw.unit.split("/", 1)[1]
    try:
        wtt = ctx.fs.travel(subject, "wtt", ctx.year)
        kw, wid = _kg_per(wtt, den), ";" + _ref(wtt)
    except FactorNotFoundError:
        ctx.exclusions.append(f"Scope 3 well-to-tank of travel by {subject}: no factor in set {ctx.fs.id}; "
                              "not estimated")
        kw, wid = 0.0, ""
    return _kg_per(ttw, den), kw, den, _ref(ttw) + wid, ttw


def travel(ctx: Context, df: pd.DataFrame) -> list[Part]:
    if df.empty:
        return []
    df = df.reset_index(drop=True)
    n = len(df)
    parts: list[Part] = []
    country = ctx.country(df["site"])
    dist = _num(df, "distance")
    du = _text(df, "distance_unit")
    trav = _num(df, "travellers")
    has_dist = ~np.isnan(dist) & (du != "").to_numpy() & ~np.isnan(trav)
    mode = _text(df, "mode")
    kg, fids, forms, fyear, freg = np.full(n, np.nan), _obj(n), _obj(n), np.full(n, np.nan), _obj(n)
    km = np.where(has_dist, dist * scales(du.replace("", "km"), "km"), np.nan)
    problems: list[Problem] = []
    for m in pd.unique(mode[has_dist]):
        at = has_dist & (mode == m).to_numpy()
        try:
            kt, kw, den, ids, f = _travel_factor(ctx, m)
        except FactorNotFoundError as exc:
            problems += _problems(df, at, "mode", str(exc))
            continue
        per_passenger = "passenger" in str(parse_unit(den).dimensionality)
        if per_passenger:
            kg[at] = km[at] * trav[at] * scale("passenger * km", den) * (kt + kw)
            forms[at] = f"distance-based: km x travellers x (TTW {kt:g} + WTT {kw:g}) kg CO2e/{den} [{m}]"
        else:  # per vehicle km: the travellers share the vehicle
            kg[at] = km[at] * scale("km", den) * (kt + kw)
            forms[at] = f"distance-based: vehicle km x (TTW {kt:g} + WTT {kw:g}) kg CO2e/{den} [{m}; one vehicle]"
        fids[at] = ids
        fyear[at] = f.year if f.year is not None else np.nan
        freg[at] = factor_region(f)
    spend_rows = ~has_dist & _given(df, "spend")
    s_kg, s_ids, s_forms, s_year, s_reg = _spend(ctx, df, spend_rows)
    if problems:
        raise InputError(problems)
    method = np.where(has_dist, "distance_based", "spend_based").astype(object)
    kg = np.where(spend_rows, s_kg, kg)
    fids, forms = np.where(spend_rows, s_ids, fids), np.where(spend_rows, s_forms, forms)
    dq = np.where(spend_rows, dq_score("spend_based", s_year, s_reg, country, ctx.year),
                  dq_score("distance_based", fyear, freg, country, ctx.year))
    trip = has_dist | spend_rows
    if trip.any():
        parts.append(Part(_obj(int(trip.sum()), "c6_business_travel"), df["activity_id"][trip],
                          df["site"].to_numpy(dtype=object)[trip], kg[trip], _obj(int(trip.sum()), "CO2e"),
                          method[trip], fids[trip], forms[trip], dq[trip]))
    hotel = (_text(df, "hotel") != "").to_numpy() & ~np.isnan(_num(df, "nights"))
    if hotel.any():
        h = df[hotel].reset_index(drop=True)
        hn = len(h)
        hkg, hids, hforms, hy, hr = np.full(hn, np.nan), _obj(hn), _obj(hn), np.full(hn, np.nan), _obj(hn)
        for c in pd.unique(_text(h, "hotel")):
            at = (_text(h, "hotel") == c).to_numpy()
            try:
                f = ctx.fs.travel(f"hotel.{c}", "ttw", ctx.year)
            except FactorNotFoundError as exc:
                problems += _problems(h, at, "hotel", str(exc))
                continue
            hkg[at] = _num(h, "nights")[at] * _kg_per(f, "room_night")
            hids[at], hforms[at] = _ref(f), f"room nights x hotel stay {c} {f.value:g} {f.unit}"
            hy[at], hr[at] = f.year if f.year is not None else np.nan, factor_region(f)
        if problems:
            raise InputError(problems)
        hc = ctx.country(h["site"])
        parts.append(Part(_obj(hn, "c6_business_travel"), h["activity_id"], h["site"].to_numpy(dtype=object), hkg,
                          _obj(hn, "CO2e"), _obj(hn, "average_data"), hids, hforms,
                          dq_score("average_data", hy, np.where(hr == "", "", hr), hc, ctx.year)))
    return parts


def commuting(ctx: Context, df: pd.DataFrame) -> Part | None:
    """Category 7, distance-based: 2 x one-way distance x employees x working days x (TTW + WTT) factor."""
    if df.empty:
        return None
    df = df.reset_index(drop=True)
    n = len(df)
    km = 2 * _num(df, "one_way_distance") * scales(_text(df, "distance_unit"), "km")
    trips = _num(df, "employees") * _num(df, "days")
    mode = _text(df, "mode")
    kg, fids, forms, fyear, freg = np.full(n, np.nan), _obj(n), _obj(n), np.full(n, np.nan), _obj(n)
    problems: list[Problem] = []
    for m in pd.unique(mode):
        at = (mode == m).to_numpy()
        try:
            kt, kw, den, ids, f = _travel_factor(ctx, m)
        except FactorNotFoundError as exc:
            problems += _problems(df, at, "mode", str(exc))
            continue
        per = scale("passenger * km", den) if "passenger" in str(parse_unit(den).dimensionality) else scale("km", den)
        kg[at] = km[at] * trips[at] * per * (kt + kw)
        who = "passenger km" if "passenger" in str(parse_unit(den).dimensionality) else "vehicle km (one per employee)"
        forms[at] = f"2 x one-way km x employees x days = {who}; x (TTW {kt:g} + WTT {kw:g}) kg CO2e/{den} [{m}]"
        fids[at] = ids
        fyear[at] = f.year if f.year is not None else np.nan
        freg[at] = factor_region(f)
    if problems:
        raise InputError(problems)
    return Part(_obj(n, "c7_commuting"), df["activity_id"], df["site"].to_numpy(dtype=object), kg, _obj(n, "CO2e"),
                _obj(n, "distance_based"), fids, forms,
                dq_score("distance_based", fyear, freg, ctx.country(df["site"]), ctx.year))


# -- use of sold products (11) --------------------------------------------------------------------------------
def use_of_products(ctx: Context, df: pd.DataFrame) -> Part | None:
    """Category 11, direct use-phase emissions of products that use electricity: units sold x lifetime [years] x
    energy per year [kWh] x the location-based grid factor of the market country (inventory year)."""
    if df.empty:
        return None
    df = df.reset_index(drop=True)
    n = len(df)
    kwh = (_num(df, "units_sold") * _num(df, "lifetime_years") * _num(df, "energy_per_year")
           * scales(_text(df, "energy_unit"), "kWh"))
    market = _text(df, "market")
    kg, gas, fids, forms, fyear, freg = np.full(n, np.nan), _obj(n), _obj(n), _obj(n), np.full(n, np.nan), _obj(n)
    problems: list[Problem] = []
    for c in pd.unique(market):
        at = (market == c).to_numpy()
        try:
            sel = ctx.fs.use_phase_grid_factor(ctx.year, c)
        except ZerocarbonError as exc:
            problems += _problems(df, at, "market", str(exc))
            continue
        f = sel.factor
        num, den = f.unit.split("/", 1)
        k = f.value * scale(num, "kgCO2e" if f.gas == "CO2e" else "kg") / scale(den, "kWh")
        kg[at], gas[at], fids[at] = kwh[at] * k, f.gas, _ref(f)
        forms[at] = (f"units sold x lifetime [yr] x energy per year [kWh] x grid {c} {k:g} kg {f.gas}/kWh "
                     f"({f.subject} series, {f.year})")
        fyear[at] = f.year if f.year is not None else np.nan
        freg[at] = c
        if sel.warning:
            ctx.warnings.append(f"category 11 market {c}: {sel.warning}")
    if problems:
        raise InputError(problems)
    return Part(_obj(n, "c11_use_of_sold_products"), df["activity_id"], df["site"].to_numpy(dtype=object), kg, gas,
                _obj(n, "use_phase_energy"), fids, forms,
                dq_score("use_phase_energy", fyear, freg, market.to_numpy(dtype=object), ctx.year))


# -- fuel- and energy-related activities (3) ------------------------------------------------------------------
def fuel_energy(ctx: Context, fuel: pd.DataFrame, electricity: pd.DataFrame) -> list[Part]:
    """Category 3: well-to-tank of the fuels burnt (3a), and of purchased electricity the well-to-tank of its
    generation (3b) and the transmission and distribution losses (3c) with their well-to-tank. What the set lacks
    is a named exclusion."""
    from zerocarbon.core.supply.logistics import fuel_wtt_route

    parts: list[Part] = []
    if not fuel.empty:
        df = fuel.reset_index(drop=True)
        n = len(df)
        kg, fids, forms, fyear, freg = np.full(n, np.nan), _obj(n), _obj(n), np.full(n, np.nan), _obj(n)
        keys = ["fuel", "unit", "basis"]
        tx = {k: _text(df, k) for k in keys}
        qty = _num(df, "quantity")
        for f_, u, b in pd.DataFrame(tx).drop_duplicates().itertuples(index=False):
            at = (tx["fuel"] == f_).to_numpy() & (tx["unit"] == u).to_numpy() & (tx["basis"] == b).to_numpy()
            try:
                k, used, formula = fuel_wtt_route(ctx.fs, f_, u, b)
            except ZerocarbonError as exc:
                ctx.exclusions.append(f"Scope 3 category 3 well-to-tank of {f_} ({u}{' ' + b if b else ''}): {exc}; "
                                      "not estimated")
                continue
            kg[at] = qty[at] * k
            fids[at] = ";".join(_ref(f) for f in used)
            forms[at] = f"3a well-to-tank of fuel: {formula} (CO2e, GWP 1)"
            wtt = used[-1]
            fyear[at] = wtt.year if wtt.year is not None else np.nan
            freg[at] = factor_region(wtt)
        ok = ~np.isnan(kg)
        if ok.any():
            dq = dq_score("average_data", fyear, freg, ctx.country(df["site"]), ctx.year)
            parts.append(Part(_obj(int(ok.sum()), "c3_fuel_energy"), df["activity_id"][ok],
                              df["site"].to_numpy(dtype=object)[ok], kg[ok], _obj(int(ok.sum()), "CO2e"),
                              _obj(int(ok.sum()), "average_data"), fids[ok], forms[ok], dq[ok]))
    if not electricity.empty:
        df = electricity.reset_index(drop=True)
        kwh = _num(df, "quantity") * scales(_text(df, "unit"), "kWh")
        sites = df["site"].astype(str)
        for code in pd.unique(sites):
            at = (sites == code).to_numpy()
            site = ctx.org.site(code)
            region = site.country or ""
            for kind, label in (("electricity_wtt", "3b well-to-tank of generation"),
                                ("electricity_td", "3c transmission and distribution losses"),
                                ("electricity_td_wtt", "3c well-to-tank of the losses")):
                try:
                    f = ctx.fs.electricity_upstream(kind, region, ctx.year)
                    k, fid, formula, fy, fr = _kg_per(f, "kWh"), _ref(f), f"kWh x {f.value:g} {f.unit}", f.year, \
                        factor_region(f)
                except FactorNotFoundError:
                    if kind == "electricity_td" and any(g.region == region for g in ctx.fs._of_kind("grid_loss_rate")):
                        loss = ctx.fs.grid_loss_rate(region, ctx.year)
                        sel = ctx.fs.grid_factor("location", ctx.year, site)
                        g = sel.factor
                        num, den = g.unit.split("/", 1)
                        ef = g.value * scale(num, "kgCO2e" if g.gas == "CO2e" else "kg") / scale(den, "kWh")
                        k = loss.value * ef
                        fid, fy, fr = f"{_ref(loss)};{_ref(g)}", g.year, region
                        formula = (f"kWh x line loss rate {loss.value:g} x grid factor {ef:g} kg {g.gas}/kWh "
                                   f"(location-based, {g.year})")
                    else:
                        ctx.exclusions.append(f"Scope 3 category {label} of electricity at sites in {region or '?'}: "
                                              f"no {kind} factor for {region or '?'} in set {ctx.fs.id}; not estimated")
                        continue
                m = int(at.sum())
                parts.append(Part(_obj(m, "c3_fuel_energy"), df["activity_id"][at], _obj(m, code), kwh[at] * k,
                                  _obj(m, "CO2e"), _obj(m, "average_data"), _obj(m, fid), _obj(m, f"{label}: {formula}"),
                                  dq_score("average_data", np.full(m, fy if fy is not None else np.nan),
                                           _obj(m, fr), _obj(m, region), ctx.year)))
    return parts


#: computes the Part of the purchase rows somewhere else: ``(ctx, purchase rows) -> Part or None``
PurchaseRows = Callable[[Context, pd.DataFrame], "Part | None"]


def scope3_parts(ctx: Context, frames: dict[str, pd.DataFrame], purchase_rows: PurchaseRows | None = None
                 ) -> list[Part]:
    """Every Scope 3 calculation of the activity frames (missing kinds are empty). ``purchase_rows``: where the
    purchase rows are computed (default: :func:`purchases`, here)."""
    def get(kind):
        return frames.get(kind, pd.DataFrame())

    parts: list[Part | None] = [(purchase_rows or purchases)(ctx, get("purchase")), shipments(ctx, get("shipment")),
                                waste(ctx, get("waste")), commuting(ctx, get("commute")),
                                use_of_products(ctx, get("product_use")), end_of_life(ctx, get("product_eol"))]
    parts += travel(ctx, get("travel"))
    parts += fuel_energy(ctx, get("fuel"), get("electricity"))
    return [p for p in parts if p is not None and len(p.kg)]


__all__ = ["CATEGORIES", "METHOD_DQ", "Coded", "Context", "Part", "coded", "decoded", "dq_score", "geographical_score", "scope3_parts",
           "spend_route", "temporal_score"]
