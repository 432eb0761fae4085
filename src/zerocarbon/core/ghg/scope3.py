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

from dataclasses import dataclass, field

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
    for i, (c, p, e, r) in enumerate(keys):
        try:
            k, f, formula, refs = spend_route(ctx, c, int(p), e, None if np.isnan(r) else float(r))
        except ZerocarbonError as exc:
            text = str(exc)
            column = ("eeio_code" if text.startswith("no eeio") or "EEIO" in text else
                      "price_year" if "price index" in text or "exchange rate" in text else "currency")
            problems += _problems(df, key == i, column, text)
            continue
        k_k[i], k_ids[i], k_forms[i] = k, ";".join([_ref(f), *refs]), formula
        k_year[i], k_reg[i] = f.year, factor_region(f)
    if problems:
        raise InputError(problems)
    at = np.flatnonzero(rows)
    ki = key[at]
    kg[at] = spend[at] * k_k[ki]
    fids[at], forms[at], fyear[at], freg[at] = k_ids[ki], k_forms[ki], k_year[ki], k_reg[ki]
    return kg, fids, forms, fyear, freg


# -- purchases (categories 1 and 2) ---------------------------------------------------------------------------
def _material(ctx: Context, df: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    n = len(df)
    kg, fids, forms, fyear, freg = np.full(n, np.nan), _obj(n), _obj(n), np.full(n, np.nan), _obj(n)
    qty = _num(df, "quantity")
    mat, unit = _text(df, "material"), _text(df, "unit")
    problems: list[Problem] = []
    key, keys = _key_codes([mat, unit], rows)
    nk = len(keys)
    k_k, k_ids, k_forms, k_year, k_reg = np.full(nk, np.nan), _obj(nk), _obj(nk), np.full(nk, np.nan), _obj(nk)
    for i, (m, u) in enumerate(keys):
        try:
            f = ctx.fs.material(m, "primary", ctx.year)
            k = _kg_per(f, u)
        except FactorNotFoundError as exc:
            problems += _problems(df, key == i, "material", str(exc))
            continue
        except ZerocarbonError:
            problems += _problems(df, key == i, "unit", f"material factors are per {f.unit.split('/')[1]}; give "
                                                        f"quantity in a unit of that dimension, not '{u}'")
            continue
        k_k[i], k_ids[i] = k, _ref(f)
        k_forms[i] = f"average-data: quantity[{u}] x material {m} ({f.use}) {f.value:g} {f.unit}"
        k_year[i] = f.year if f.year is not None else np.nan
        k_reg[i] = factor_region(f)
    if problems:
        raise InputError(problems)
    at = np.flatnonzero(rows)
    ki = key[at]
    kg[at] = qty[at] * k_k[ki]
    fids[at], forms[at], fyear[at], freg[at] = k_ids[ki], k_forms[ki], k_year[ki], k_reg[ki]
    return kg, fids, forms, fyear, freg


# A supplier's figure and its evidence are the purchase row's own: the ledger row's activity id leads to it (the
# evidence is not copied into the ledger line, so supplier rows of one site and category share a line).
SUPPLIER_EVIDENCE = "supplier:evidence@activity"
BETTER_DATA_LACKED = {"supplier_specific": "", "hybrid": " (no supplier-specific figure)",
                      "average_data": " (no supplier figure)",
                      "spend_based": " (no supplier figure, no quantity with material)"}


def _supplier_kg(df: pd.DataFrame, col: str, rows: np.ndarray) -> np.ndarray:
    """A supplier figure in kg CO2e: a CO2e mass for the row, or per unit of quantity."""
    out = np.full(len(df), np.nan)
    v, qty = _num(df, col), _num(df, "quantity")
    cu, unit = _text(df, "supplier_co2e_unit"), _text(df, "unit")
    key, keys = _key_codes([cu, unit], rows)
    for i, (c, u) in enumerate(keys):
        at = np.flatnonzero(key == i)
        if "/" in c:
            num, den = c.split("/", 1)
            out[at] = v[at] * scale(num, "kgCO2e") * qty[at] * scale(u, den)
        else:
            out[at] = v[at] * scale(c, "kgCO2e")
    return out


def _pcf(ctx: Context, df: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    n = len(df)
    kg, fids, forms, dq = np.full(n, np.nan), _obj(n), _obj(n), np.full(n, np.nan)
    pcf = ctx.pcf
    if not rows.any():
        return kg, fids, forms, dq
    ids = _text(df, "pcf_id")
    known = {} if pcf is None or pcf.empty else {str(r.pf_id): r for r in pcf.itertuples(index=False)}
    qty, unit = _num(df, "quantity"), _text(df, "unit")
    key, keys = _key_codes([ids], rows)
    ucode = pd.factorize(unit, use_na_sentinel=False)[0]
    for i, at in enumerate(_groups(key, len(keys))):
        pid = keys[i][0]
        r = known.get(pid)
        if r is None:
            ctx.warnings.append(f"purchase rows with pcf_id {pid}: no stored supplier product footprint of that id; "
                                "the next method of the hierarchy is used")
            continue
        declared = PACT_UNITS.get(str(r.declared_unit), str(r.declared_unit))
        for uc in pd.unique(ucode[at]):
            sub = at[ucode[at] == uc]
            u = unit.iat[int(sub[0])]
            try:
                k = scale(u or declared, declared) * float(r.pcf_kg_per_unit)
            except ZerocarbonError:
                mask = np.zeros(n, bool)
                mask[sub] = True
                raise InputError(_problems(df, mask, "unit", f"footprint {pid} is per {r.declared_unit}; quantity in "
                                                             f"'{u}' cannot be converted")) from None
            kg[sub] = qty[sub] * k
        fids[at] = f"pcf:{pid}"
        forms[at] = (f"supplier-specific: quantity x PACT footprint {pid} ({r.company_name}, {r.product_id}) "
                     f"{float(r.pcf_kg_per_unit):g} kg CO2e/{r.declared_unit} (pCfExcludingBiogenic)")
        end = getattr(r, "period_end", None)
        fy = pd.Timestamp(end).year if end is not None and not pd.isna(end) else np.nan
        share = getattr(r, "primary_data_share", np.nan)
        dqr = getattr(r, "dqr", np.nan)
        completeness = 2.0 if share is not None and not pd.isna(share) and float(share) >= 50 else 3.0
        reliability = float(np.clip(np.round(float(dqr)), 1, 5)) if dqr is not None and not pd.isna(dqr) else 2.0
        dq[at] = (1.0 + completeness + reliability + temporal_score(fy, ctx.year) + 1.0) / 5.0
    return kg, fids, forms, dq


def purchases(ctx: Context, df: pd.DataFrame) -> Part | None:
    """Categories 1 and 2 with the method hierarchy: supplier-specific (a stored PACT footprint, then the supplier's
    figure with evidence) > hybrid (supplier Scope 1+2 + inputs) > average-data (quantity x material factor) >
    spend-based (spend x EEIO). Each row uses the best method its data allow; the formula says which and why."""
    if df.empty:
        return None
    df = df.reset_index(drop=True)
    n = len(df)
    has = {c: _given(df, c) for c in ("spend", "currency", "price_year", "eeio_code", "quantity", "unit", "material",
                                      "supplier_co2e", "supplier_co2e_unit", "supplier_scope12_co2e", "pcf_id",
                                      "evidence")}
    spend_ok = has["spend"] & has["currency"] & has["price_year"] & has["eeio_code"]
    avg_ok = has["quantity"] & has["unit"] & has["material"]
    sup_ok = has["supplier_co2e"] & has["supplier_co2e_unit"] & has["evidence"]
    hyb_ok = has["supplier_scope12_co2e"] & has["supplier_co2e_unit"] & has["evidence"] & (avg_ok | spend_ok)
    pcf_kg, pcf_ids, pcf_forms, pcf_dq = _pcf(ctx, df, has["pcf_id"] & has["quantity"])
    pcf_ok = ~np.isnan(pcf_kg)
    sup_ok &= ~pcf_ok
    hyb_ok &= ~pcf_ok & ~sup_ok
    avg_rows = avg_ok & ~pcf_ok & ~sup_ok
    spend_rows = spend_ok & ~pcf_ok & ~sup_ok & ~avg_ok  # spend-based, or the inputs of a hybrid row
    m_kg, m_ids, m_forms, m_year, m_reg = _material(ctx, df, avg_rows)
    s_kg, s_ids, s_forms, s_year, s_reg = _spend(ctx, df, spend_rows)
    sup_kg = _supplier_kg(df, "supplier_co2e", sup_ok)
    s12_kg = _supplier_kg(df, "supplier_scope12_co2e", hyb_ok)
    country = ctx.country(df["site"])
    kg, fids, forms, method, dq = np.full(n, np.nan), _obj(n), _obj(n), _obj(n), np.full(n, np.nan)
    # Lowest first, so a better method overwrites.
    at = spend_rows & ~hyb_ok
    kg[at], fids[at], forms[at], method[at] = s_kg[at], s_ids[at], s_forms[at], "spend_based"
    dq[at] = dq_score("spend_based", s_year[at], s_reg[at], country[at], ctx.year)
    at = avg_rows & ~hyb_ok
    kg[at], fids[at], forms[at], method[at] = m_kg[at], m_ids[at], m_forms[at], "average_data"
    dq[at] = dq_score("average_data", m_year[at], m_reg[at], country[at], ctx.year)
    if hyb_ok.any():
        inputs_kg = np.where(avg_rows, m_kg, s_kg)
        inputs_ids = np.where(avg_rows, m_ids, s_ids)
        inputs_forms = np.where(avg_rows, m_forms, s_forms)
        at = hyb_ok
        kg[at] = s12_kg[at] + inputs_kg[at]
        fids[at] = SUPPLIER_EVIDENCE + ";" + inputs_ids[at]
        forms[at] = ("hybrid (supplier Scope 1+2 allocated to the purchase, evidence in the purchase row) + inputs: "
                     + inputs_forms[at])
        method[at] = "hybrid"
        dq[at] = dq_score("hybrid", np.where(avg_rows, m_year, s_year), np.where(avg_rows, m_reg, s_reg), country,
                          ctx.year)[at]
    at = sup_ok
    kg[at], method[at] = sup_kg[at], "supplier_specific"
    fids[at] = SUPPLIER_EVIDENCE
    forms[at] = ("supplier-specific: supplier's cradle-to-gate figure for the purchase (evidence in the purchase row) "
                 "in kg CO2e")
    dq[at] = dq_score("supplier_specific", np.full(int(at.sum()), ctx.year), country[at], country[at], ctx.year)
    at = pcf_ok
    kg[at], fids[at], forms[at], method[at], dq[at] = pcf_kg[at], pcf_ids[at], pcf_forms[at], "supplier_specific", \
        pcf_dq[at]
    lost = np.isnan(kg)
    if lost.any():
        raise InputError(_problems(df, lost, "pcf_id", "no method left for this purchase: its pcf_id is not a stored "
                                                       "supplier footprint and it gives no other complete method"))
    # Why this method: the better data the row lacked (added once per distinct formula, which names its method).
    code, uniq = pd.factorize(forms)
    first = _firsts(code)
    forms = (code.astype(np.int64), [f + BETTER_DATA_LACKED[method[r]] for f, r in zip(uniq, first)])
    c_code, c_uniq = coded((_text(df, "category") == "2").to_numpy())
    category = (c_code, ["c2_capital_goods" if c else "c1_purchased_goods" for c in c_uniq])
    return Part(category, df["activity_id"], coded(df["site"]), kg, (np.zeros(n, dtype=np.int64), ["CO2e"]), method,
                fids,
                forms, dq)


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


def scope3_parts(ctx: Context, frames: dict[str, pd.DataFrame]) -> list[Part]:
    """Every Scope 3 calculation of the activity frames (missing kinds are empty)."""
    def get(kind):
        return frames.get(kind, pd.DataFrame())

    parts: list[Part | None] = [purchases(ctx, get("purchase")), shipments(ctx, get("shipment")),
                                waste(ctx, get("waste")), commuting(ctx, get("commute")),
                                use_of_products(ctx, get("product_use")), end_of_life(ctx, get("product_eol"))]
    parts += travel(ctx, get("travel"))
    parts += fuel_energy(ctx, get("fuel"), get("electricity"))
    return [p for p in parts if p is not None and len(p.kg)]


__all__ = ["CATEGORIES", "METHOD_DQ", "Coded", "Context", "Part", "coded", "decoded", "dq_score", "geographical_score", "scope3_parts",
           "spend_route", "temporal_score"]
