"""Scope 3 of a stored inventory: by category with its method mix and data quality, beside Scope 1 and 2.

What the GHG Protocol Corporate Value Chain (Scope 3) Standard (2011) asks a report to show, read from the
stored ledger (scope "3" rows, computed by ``core.ghg.inventory``) without loading it:

- total Scope 3 emissions and emissions of each category (ch. 11.1), in tCO2e; a category without rows says
  "no data", never a zero; the categories the platform does not compute (8, 10, 13, 14, 15) are listed as
  "not evaluated" with the reason;
- for each category the calculation methods used (ch. 11.1: "a description of the types and sources of data,
  including activity data, emission factors ..., and the methodologies ... used") as tCO2e per method;
- the percentage of emissions calculated using data obtained from suppliers or other value-chain partners
  (ch. 11.1), here the methods ``SUPPLIER_DATA_METHODS``;
- data quality (ch. 7.3, Table 7.6 indicators, scored 1 very good .. 5 very poor per ledger row), summarised as
  the emission-weighted mean score: sum(tCO2e x score) / sum(tCO2e) over rows with a score;
- memo items (avoided emissions of recycling) reported separately and never added to any total (ch. 9.5).

Scope 3 is never inside the Scope 1+2 totals (``totals["total_location_t"]`` ...); it is shown beside them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.orm import sessionmaker

from zerocarbon.core.model import Boundary
from zerocarbon.errors import NotFoundError
from zerocarbon.services import accounting
from zerocarbon.services.accounting import SCOPE3_CATEGORIES
from zerocarbon.store import repos

CATEGORIES = SCOPE3_CATEGORIES
# The other categories of the Standard's 15 (Table 5.4), with why the platform does not compute them.
NOT_EVALUATED = {
    "c8_upstream_leased_assets": "not computed: assets leased by the organisation are in Scope 1 and 2 when it "
                                 "has operational or financial control of them (the sites of the boundary); "
                                 "others are not modelled",
    "c10_processing_of_sold_products": "not computed: no activity kind for the processing of intermediate "
                                       "products by customers",
    "c13_downstream_leased_assets": "not computed: no activity kind for assets the organisation leases to others",
    "c14_franchises": "not computed: no activity kind for franchises",
    "c15_investments": "not computed: no activity kind for investments (financed emissions)",
}
ALL_CATEGORIES = tuple(sorted((*CATEGORIES, *NOT_EVALUATED), key=lambda c: int(c[1:].split("_")[0])))
# Methods whose figures rest on data from suppliers or other value-chain partners (Scope 3 Standard ch. 11.1):
# a supplier's product footprint, a supplier's own Scope 1+2 allocated (hybrid), a carrier's reported emissions
# or its fuel data.
SUPPLIER_DATA_METHODS = ("supplier_specific", "hybrid", "carrier_reported", "fuel_based")
# Display order, best data first (the method hierarchy of the Scope 3 Technical Guidance); others follow A-Z.
METHOD_ORDER = ("supplier_specific", "hybrid", "carrier_reported", "fuel_based", "average_data", "distance_based",
                "waste_type", "use_phase_energy", "spend_based")
NO_DATA, REPORTED, NOT_EVALUATED_STATUS = "no data", "reported", "not evaluated"


def number(category: str) -> int:
    """The Standard's number of a ledger category: ``c4_upstream_transport`` -> 4."""
    return int(category[1:].split("_")[0])


def _ordered(methods) -> list[str]:
    known = [m for m in METHOD_ORDER if m in methods]
    return known + sorted(m for m in methods if m not in METHOD_ORDER)


@dataclass(frozen=True)
class Figure:
    """Scope 3 tCO2e of a group of ledger rows with how it was computed and how good its data are.

    ``methods``: tCO2e per calculation method (best data first); ``dq``: emission-weighted data-quality score
    (1 very good .. 5 very poor; weights |tCO2e|, or equal when every row is zero; None when no row has a score);
    ``supplier_data_share``:
    share of the tCO2e from ``SUPPLIER_DATA_METHODS`` (None when the rows sum to zero); ``rows``: ledger rows.
    """

    co2e_t: float
    dq: float | None
    methods: dict[str, float]
    supplier_data_share: float | None
    rows: int


@dataclass(frozen=True)
class CategoryFigure:
    """One of the 15 categories: ``status`` "reported" (rows in the ledger, even if they sum to zero), "no
    data" (none: its figure is absent, not zero) or "not evaluated" (the platform does not compute it;
    ``reason`` says why). ``share``: of total Scope 3. ``memo``: tCO2e of memo items by kind, outside every total."""

    category: str
    number: int
    status: str
    figure: Figure | None
    share: float | None
    memo: dict[str, float]
    reason: str


@dataclass(frozen=True)
class SiteFigure:
    site: str
    scope1: float
    scope2_location: float
    scope2_market: float
    scope3: Figure | None


@dataclass(frozen=True)
class SupplierFigure:
    """Scope 3 of the purchases (categories 1 and 2) of one supplier code ("" for purchases naming none)."""

    supplier: str
    figure: Figure


@dataclass
class Scope3Report:
    organisation: str
    year: int
    boundary: str
    status: str
    factor_set: str
    fingerprint: str
    gwp_set: str
    scope2_method: str  # the Scope 2 method under which rows that depend on it (category 3) are counted
    total: Figure | None  # None: no Scope 3 row at all
    categories: list[CategoryFigure]
    scope12: dict[str, float]  # the inventory's Scope 1+2 totals, as stored
    sites: list[SiteFigure]
    suppliers: list[SupplierFigure]
    memo: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    exclusions: list[str] = field(default_factory=list)


def _figure(lines: pd.DataFrame) -> Figure | None:
    """The figure of some stored lines (columns co2e_t, rows, calc_method, dq); None when they have no rows."""
    lines = lines[lines["rows"] > 0]
    if lines.empty:
        return None
    t = float(lines["co2e_t"].sum())
    by_method = lines.groupby("calc_method", sort=False)["co2e_t"].sum()
    methods = {m or "unspecified": float(by_method[m]) for m in _ordered(list(by_method.index))}
    scored = lines[lines["dq"].notna()]
    # Weighted by the size of each row's emissions (as core.ghg.inventory's summary); rows that all sum to zero
    # (a supplier declaring zero) count equally instead.
    weight = scored["co2e_t"].abs()
    dq = (float((weight * scored["dq"]).sum() / weight.sum()) if weight.sum() > 0
          else float((scored["rows"] * scored["dq"]).sum() / scored["rows"].sum()) if len(scored) else None)
    supplier = float(lines.loc[lines["calc_method"].isin(SUPPLIER_DATA_METHODS), "co2e_t"].sum())
    return Figure(t, dq, methods, supplier / t if t > 0 else None, int(lines["rows"].sum()))


def _counted(lines: pd.DataFrame, scope2_method: str) -> pd.DataFrame:
    """Lines counted under a Scope 2 method: those of both methods (and of none) and that method's own."""
    other = "market" if scope2_method == "location" else "location"
    return lines[lines["method"] != other]


def _stored(s, org_code: str, year: int, boundary: Boundary):
    org_id, org, row = repos.organisation_and_inventory(s, org_code, year, boundary.value)
    if row is None:
        raise NotFoundError(f"no inventory for {org_code} {year}; compute it first "
                            f"(`zerocarbon inventory compute --org {org_code} --year {year}`)")
    return org_id, org, row


def report(sessions: sessionmaker, org_code: str, year: int, boundary: Boundary = Boundary.OPERATIONAL_CONTROL,
           scope2_method: str = "location", suppliers: bool = True) -> Scope3Report:
    """The Scope 3 report of a stored inventory (see the module's text), Scope 1+2 beside it, by site and by
    supplier (``suppliers=False`` skips the latter, which reads the purchases' activity rows)."""
    if scope2_method not in ("location", "market"):
        raise NotFoundError(f"no Scope 2 method '{scope2_method}'; choose location or market")
    with sessions.begin() as s:
        _, org, row = _stored(s, org_code, year, boundary)
        lines = accounting._ledger_aggregate(s, row, ("lines",), lambda: repos.line_sums(s, row.id))
        counted = _counted(lines, scope2_method)
        in_scope3 = counted[(counted["scope"] == "3") & (counted["memo"] == "")]
        by_supplier = None
        if suppliers:
            by_supplier = accounting._ledger_aggregate(
                s, row, ("suppliers",), lambda: repos.sums_by_activity_field(
                    s, row.id, "supplier", "3", ("c1_purchased_goods", "c2_capital_goods")))
    total = _figure(in_scope3)
    memo3 = counted[(counted["scope"] == "3") & (counted["memo"] != "")]
    categories = []
    for c in ALL_CATEGORIES:
        if c in NOT_EVALUATED:
            categories.append(CategoryFigure(c, number(c), NOT_EVALUATED_STATUS, None, None, {}, NOT_EVALUATED[c]))
            continue
        fig = _figure(in_scope3[in_scope3["category"] == c])
        memo = {k: float(v) for k, v in memo3[memo3["category"] == c].groupby("memo")["co2e_t"].sum().items()}
        share = fig.co2e_t / total.co2e_t if fig is not None and total is not None and total.co2e_t > 0 else None
        categories.append(CategoryFigure(c, number(c), REPORTED if fig else NO_DATA, fig, share, memo,
                                         "" if fig else "no ledger rows: no activity data of this category "
                                                        "were imported for the year, or none could be computed"))
    sites = []
    in_totals = lines[lines["memo"] == ""]
    for code in sorted({x.code for x in org.sites} | set(in_totals["site"])):
        here = in_totals[in_totals["site"] == code]
        s1 = float(here.loc[here["scope"] == "1", "co2e_t"].sum())
        s2 = here[here["scope"] == "2"]
        sites.append(SiteFigure(code, s1, float(s2.loc[s2["method"].isin(["location", "both"]), "co2e_t"].sum()),
                                float(s2.loc[s2["method"].isin(["market", "both"]), "co2e_t"].sum()),
                                _figure(in_scope3[in_scope3["site"] == code])))
    supplier_figures = []
    if by_supplier is not None and len(by_supplier):
        meta = in_scope3.set_index("id")[["calc_method", "dq"]]
        joined = by_supplier[by_supplier["line_id"].isin(meta.index)].join(meta, on="line_id")
        for value, part in joined.groupby("value", sort=False):
            supplier_figures.append(SupplierFigure(str(value), _figure(part)))
        supplier_figures.sort(key=lambda f: (-f.figure.co2e_t, f.supplier))
    memo = {k: float(v) for k, v in memo3.groupby("memo")["co2e_t"].sum().items()}
    scope12 = {k: float(row.totals.get(k, 0.0)) for k in ("scope1_t", "scope2_location_t", "scope2_market_t",
                                                          "total_location_t", "total_market_t")}
    return Scope3Report(org_code, year, boundary.value, row.status, row.factor_set, row.factor_set_fingerprint,
                        row.gwp_set, scope2_method, total, categories, scope12, sites, supplier_figures, memo,
                        list(row.warnings or []), list(row.exclusions or []))


def check_category(category: str) -> None:
    if category not in CATEGORIES:
        hint = (f"category {number(category)} is not evaluated: {NOT_EVALUATED[category]}"
                if category in NOT_EVALUATED else f"the categories: {', '.join(CATEGORIES)}")
        raise NotFoundError(f"no Scope 3 category '{category}'; {hint}")


def category_rows(sessions: sessionmaker, org_code: str, year: int, category: str,
                  boundary: Boundary = Boundary.OPERATIONAL_CONTROL, site: str | None = None,
                  limit: int = 100, offset: int = 0) -> accounting.LedgerSlice:
    """The ledger rows behind one Scope 3 category, a page at a time in ledger-row order, each with its lineage
    (activity id, batch, factor ids, formula, calculation method and data-quality score): a page of
    :func:`accounting.ledger_page` filtered on scope 3 and the category."""
    check_category(category)
    page = accounting.ledger_page(sessions, org_code, year, boundary, site=site, scope="3", category=category,
                                  limit=limit, offset=offset)
    for r in page.rows:
        dq = r.get("dq")
        r["dq"] = None if dq is None or (isinstance(dq, float) and math.isnan(dq)) else float(dq)
    return page


def as_dict(rep: Scope3Report) -> dict:
    """The report as plain JSON values (what ``--json`` and the API give)."""
    from dataclasses import asdict

    return asdict(rep)
