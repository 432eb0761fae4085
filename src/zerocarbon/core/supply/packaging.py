"""Green packaging: packaging material used for finished products, in total and per unit produced.

HKEX ESG Reporting Guide (Appendix C2 of the Main Board Listing Rules), KPI A2.5: "Total packaging material
used for finished products (in tonnes) and, if applicable, with reference to per unit produced." The report
gives the total in tonnes by material and per product, the mass per unit produced [kg/unit], the
recycled-content share and the plastic-free share, and the change against a base year (another year's
packaging rows), per product and in total.

Input: the rows of the ``packaging`` activity kind, one row per product, packaging component and period:
``product``, ``units`` (units produced in the period), ``material``, ``mass_per_unit`` in ``unit`` (a mass
unit), ``recycled_share`` (0..1, mass share of recycled content) and ``plastic`` (bool). Rows of one product
and period are components of the same packaging, so they must state the same number of units produced;
a product's units produced are the sum over its periods and sites.

Packaging emissions are not computed here: they are in Scope 3 category 1 through the purchases of the
packaging (the KPI is a mass, not an emission).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from zerocarbon.errors import InputError, Problem, UnitError
from zerocarbon.units import scales

KPI = "HKEX ESG Reporting Guide KPI A2.5"
KPI_TEXT = ("Total packaging material used for finished products (in tonnes) and, if applicable, with reference "
            "to per unit produced.")
COLUMNS = ("product", "units", "material", "mass_per_unit", "unit", "recycled_share", "plastic")


@dataclass(frozen=True)
class MaterialTotal:
    material: str
    mass_t: float  # [t]
    recycled_t: float  # [t] recycled content
    plastic: bool  # any row of this material is declared plastic


@dataclass(frozen=True)
class ProductPackaging:
    product: str
    units_produced: float  # [unit]
    mass_t: float  # [t]
    kg_per_unit: float  # [kg/unit]
    recycled_share: float  # [-] recycled content / packaging mass
    plastic_t: float  # [t]
    plastic_free: bool  # no plastic component in the product's packaging
    materials: dict[str, float] = field(default_factory=dict)  # material -> [kg/unit]


@dataclass(frozen=True)
class PackagingReport:
    """Packaging of one reporting year (all sites)."""

    year: int | None
    total_t: float  # [t]
    units_produced: float  # [unit], all products
    kg_per_unit: float | None  # [kg/unit] total mass / total units produced; None without units
    recycled_share: float | None  # [-] by mass; None when no packaging
    plastic_t: float  # [t]
    plastic_free_share: float | None  # [-] non-plastic mass / total mass
    plastic_free_units_share: float | None  # [-] units of products whose packaging holds no plastic
    by_material: list[MaterialTotal]
    by_product: list[ProductPackaging]
    kpi: str = KPI
    kpi_text: str = KPI_TEXT

    def as_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


class RowsUnusable(InputError):
    """Stored rows a report cannot use. A report only reads, so unlike an import's :class:`InputError` it does not
    say "nothing was written": it says which rows to correct (by importing a corrected file)."""

    read_only = True

    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        self.args = (f"{self.headline()}:\n{shown}{more}",)

    def headline(self) -> str:
        return (f"{len(self.problems)} problem(s) in the stored rows the report reads (correct them by importing a "
                "corrected file)")


def _day(value) -> str:
    """A period bound as a date (2022-01-01), never with a time of day."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "?"
    try:
        return pd.Timestamp(value).date().isoformat()
    except (TypeError, ValueError):
        return str(value)


def _ref(frame: pd.DataFrame, i: int) -> str:
    """How a row is named: its activity id (``b<batch>:<file>:<row>``) when it has one, else ``row N``."""
    if "activity_id" in frame and frame["activity_id"].iloc[i] is not None:
        return str(frame["activity_id"].iloc[i])
    return f"row {i + 2}"


def row_problem(source: str, frame: pd.DataFrame, i: int, column: str, reason: str) -> Problem:
    """A problem of row ``i``: a stored row is named by its activity id (batch, file and row), others by line."""
    ref = frame["activity_id"].iloc[i] if "activity_id" in frame else None
    if ref is None:
        return Problem(source, i + 2, column, reason)  # header is line 1
    return Problem(f"{source}, {ref}" if source else str(ref), None, column, reason)


def _clean(rows: pd.DataFrame, source: str) -> pd.DataFrame:
    """Rows with ``mass_kg`` per unit as float; InputError naming row and column for anything unusable."""
    missing = [c for c in COLUMNS if c not in rows]
    if missing:
        raise RowsUnusable([Problem(source, None, c, "column is missing") for c in missing])
    df = rows.reset_index(drop=True).copy()
    problems: list[Problem] = []
    units = pd.to_numeric(df["units"], errors="coerce")
    mass = pd.to_numeric(df["mass_per_unit"], errors="coerce")
    share = pd.to_numeric(df["recycled_share"], errors="coerce").fillna(0.0)
    for i in range(len(df)):
        if not (units.iloc[i] > 0 and math.isfinite(units.iloc[i])):
            problems.append(row_problem(source, df, i, "units", f"units produced must be a positive number, got "
                                                           f"{df['units'].iloc[i]!r}"))
        if not (mass.iloc[i] >= 0 and math.isfinite(mass.iloc[i])):
            problems.append(row_problem(source, df, i, "mass_per_unit", "mass per unit must be a number >= 0, got "
                                                                     f"{df['mass_per_unit'].iloc[i]!r}"))
        if not 0.0 <= share.iloc[i] <= 1.0:
            problems.append(row_problem(source, df, i, "recycled_share",
                                     f"recycled share is a fraction 0..1, got {share.iloc[i]!r}"))
    to_kg = np.zeros(len(df))
    for u in df["unit"].astype(str).unique():
        try:
            factor = scales(pd.Series([u]), "kg")[0]
        except UnitError as exc:
            for i in np.flatnonzero(df["unit"].astype(str).to_numpy() == u)[:5]:
                problems.append(row_problem(source, df, int(i), "unit", f"{exc}; the packaging mass needs a mass unit "
                                                                     "(g, kg, t)"))
            continue
        to_kg[df["unit"].astype(str).to_numpy() == u] = factor
    df["units"] = units.astype(float)
    df["mass_kg"] = mass.astype(float) * to_kg
    df["recycled_share"] = share.astype(float)
    df["plastic"] = df["plastic"].map(_as_bool)
    df["product"] = df["product"].astype(str)
    df["material"] = df["material"].astype(str)
    for c in ("site", "period_start", "period_end"):
        if c not in df:
            df[c] = ""
    # Components of one product's packaging in one period state the same units produced.
    key = ["product", "site", "period_start", "period_end"]
    group = df.groupby(key, dropna=False, sort=False).ngroup()
    lo, hi = df["units"].groupby(group).transform("min"), df["units"].groupby(group).transform("max")
    for g in pd.unique(group[lo != hi]):
        rows_of = [int(i) for i in np.flatnonzero(group.to_numpy() == g)]
        r = df.iloc[rows_of[0]]
        stated = [f"{_ref(df, i)} has {df['units'].iloc[i]:g}" for i in rows_of]
        problems.append(Problem(source, None, "units",
                                f"product {r['product']} at {r['site']} for {_day(r['period_start'])}.."
                                f"{_day(r['period_end'])}: its packaging rows state different units produced "
                                f"({', '.join(stated)}); rows of one product and period are components of one "
                                "packaging and share its units produced"))
    if problems:
        raise RowsUnusable(problems)
    return df


def _as_bool(v) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return False
    return str(v).strip().lower() in ("1", "true", "yes", "y", "是")


def packaging_report(rows: pd.DataFrame, year: int | None = None, source: str = "packaging") -> PackagingReport:
    """KPI A2.5 of one year's ``packaging`` rows: tonnes by material and product, kg per unit produced.

    Parameters
    ----------
    rows : DataFrame
        ``packaging`` activity rows (columns ``COLUMNS``; ``site``, ``period_start``, ``period_end`` used to
        tell periods apart).
    year : int, optional
        The reporting year, carried into the report.
    """
    if rows is None or len(rows) == 0:
        return PackagingReport(year, 0.0, 0.0, None, None, 0.0, None, None, [], [])
    df = _clean(rows, source)
    df["total_kg"] = df["mass_kg"] * df["units"]
    df["recycled_kg"] = df["total_kg"] * df["recycled_share"]
    df["plastic_kg"] = np.where(df["plastic"], df["total_kg"], 0.0)
    key = ["product", "site", "period_start", "period_end"]
    units_by_product = df.groupby(key, dropna=False)["units"].first().groupby(level=0).sum()
    products = []
    for product, g in df.groupby("product", sort=True):
        units = float(units_by_product[product])
        mass_kg = float(g["total_kg"].sum())
        per_material = (g.groupby("material")["total_kg"].sum() / units).to_dict()
        products.append(ProductPackaging(
            product=product, units_produced=units, mass_t=mass_kg / 1000.0, kg_per_unit=mass_kg / units,
            recycled_share=float(g["recycled_kg"].sum()) / mass_kg if mass_kg > 0 else 0.0,
            plastic_t=float(g["plastic_kg"].sum()) / 1000.0, plastic_free=not bool(g["plastic"].any()),
            materials={str(k): float(v) for k, v in sorted(per_material.items())}))
    materials = [MaterialTotal(str(m), float(g["total_kg"].sum()) / 1000.0, float(g["recycled_kg"].sum()) / 1000.0,
                               bool(g["plastic"].any()))
                 for m, g in df.groupby("material", sort=True)]
    total_kg = float(df["total_kg"].sum())
    units = float(units_by_product.sum())
    plastic_kg = float(df["plastic_kg"].sum())
    free_units = sum(p.units_produced for p in products if p.plastic_free)
    return PackagingReport(
        year=year, total_t=total_kg / 1000.0, units_produced=units, kg_per_unit=total_kg / units if units else None,
        recycled_share=float(df["recycled_kg"].sum()) / total_kg if total_kg > 0 else None,
        plastic_t=plastic_kg / 1000.0,
        plastic_free_share=(total_kg - plastic_kg) / total_kg if total_kg > 0 else None,
        plastic_free_units_share=free_units / units if units else None,
        by_material=materials, by_product=products)


@dataclass(frozen=True)
class Change:
    """One figure in the reporting year against the base year; None where a year has no value."""

    current: float | None
    base: float | None

    @property
    def change(self) -> float | None:
        return None if self.current is None or self.base is None else self.current - self.base

    @property
    def change_pct(self) -> float | None:
        c = self.change
        return None if c is None or not self.base else 100.0 * c / self.base

    def as_dict(self) -> dict:
        return {"current": self.current, "base": self.base, "change": self.change, "change_pct": self.change_pct}


@dataclass(frozen=True)
class ProductChange:
    product: str
    mass_t: Change  # [t]
    kg_per_unit: Change  # [kg/unit]


@dataclass(frozen=True)
class PackagingComparison:
    """Reporting year against base year: total tonnes, kg per unit produced, by product and in total.

    A product packed in only one of the years is listed with None for the other: no change is computed
    for it, and it is named rather than counted as a zero."""

    year: int | None
    base_year: int | None
    total_t: Change
    kg_per_unit: Change
    recycled_share: Change
    by_product: list[ProductChange]
    only_current: list[str]
    only_base: list[str]

    def as_dict(self) -> dict:
        return {"year": self.year, "base_year": self.base_year, "total_t": self.total_t.as_dict(),
                "kg_per_unit": self.kg_per_unit.as_dict(), "recycled_share": self.recycled_share.as_dict(),
                "by_product": [{"product": p.product, "mass_t": p.mass_t.as_dict(),
                                "kg_per_unit": p.kg_per_unit.as_dict()} for p in self.by_product],
                "only_current": self.only_current, "only_base": self.only_base}


def compare(current: PackagingReport, base: PackagingReport) -> PackagingComparison:
    """Change of packaging from ``base`` (the base year's report) to ``current``: absolute and per unit."""
    now = {p.product: p for p in current.by_product}
    then = {p.product: p for p in base.by_product}
    rows = []
    for product in sorted(set(now) | set(then)):
        a, b = now.get(product), then.get(product)
        rows.append(ProductChange(product, Change(a.mass_t if a else None, b.mass_t if b else None),
                                  Change(a.kg_per_unit if a else None, b.kg_per_unit if b else None)))
    return PackagingComparison(
        year=current.year, base_year=base.year,
        total_t=Change(current.total_t if current.by_product else None, base.total_t if base.by_product else None),
        kg_per_unit=Change(current.kg_per_unit, base.kg_per_unit),
        recycled_share=Change(current.recycled_share, base.recycled_share),
        by_product=rows, only_current=sorted(set(now) - set(then)), only_base=sorted(set(then) - set(now)))
