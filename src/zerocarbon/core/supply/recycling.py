"""Green recycling: take-back and recycling rates, and avoided emissions reported as a memo.

Input: the rows of the ``takeback`` activity kind: ``product``, ``material``, ``collected`` and ``recycled``
(masses in ``unit``), ``treatment`` and optionally ``placed_on_market`` (the mass of the product put on the
market in the period, same unit).

- recycling rate = recycled / collected (the share of what was taken back that was recycled);
- take-back rate = collected / placed on market, only where the placed-on-market mass is given (otherwise the
  rate is None, never 0);
- avoided emissions [tCO2e] = recycled [t] x (primary material factor - recycled-material factor) [kgCO2e/t]
  / 1000, with the factor set's ``material`` factors (subject = the material key, use ``primary`` and
  ``closed_loop``; ``open_loop`` for rows whose treatment is open-loop recycling). These are the UK DESNZ
  "Material use" factors: "Primary material production" against "Closed-loop source".

Avoided emissions are a memo: the GHG Protocol (Corporate Standard ch. 9, Scope 3 Standard ch. 9) has them
reported separately from the scopes, never deducted from an inventory total. A material the factor set has
no factors for is listed by name with no avoided figure, never counted as zero.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from zerocarbon.core.supply.packaging import RowsUnusable, row_problem
from zerocarbon.errors import Problem, UnitError
from zerocarbon.units import scale

COLUMNS = ("product", "material", "collected", "recycled", "unit", "treatment", "placed_on_market")
MEMO = ("avoided emissions are a memo item: reported separately, not deducted from Scope 1, 2 or 3 or any "
        "inventory total (GHG Protocol)")


@dataclass(frozen=True)
class RecyclingLine:
    """Collected and recycled mass of one product and material, with its rates and avoided emissions."""

    product: str
    material: str
    collected_t: float  # [t]
    recycled_t: float  # [t]
    placed_on_market_t: float | None  # [t]; None when not given
    recycling_rate: float | None  # [-] recycled / collected
    takeback_rate: float | None  # [-] collected / placed on market
    avoided_tco2e: float | None  # [tCO2e] memo; None when the material has no factors
    factor_ids: tuple[str, ...] = ()  # primary and recycled-material factors used
    formula: str = ""
    lacking: tuple[str, ...] = ()  # factor uses the set lacks for this material ("primary", "closed_loop", ...)


@dataclass(frozen=True)
class Group:
    """Totals of a product or a material."""

    name: str
    collected_t: float
    recycled_t: float
    placed_on_market_t: float | None
    recycling_rate: float | None
    takeback_rate: float | None
    avoided_tco2e: float | None  # None when no line of it has factors; a partial sum names what is left out
    without_factors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RecyclingReport:
    year: int | None
    collected_t: float
    recycled_t: float
    recycling_rate: float | None
    placed_on_market_t: float | None  # sum over the lines that give it
    takeback_rate: float | None  # over the lines that give a placed-on-market mass
    avoided_tco2e_memo: float  # [tCO2e] over the materials with factors
    without_factors: list[str]  # materials with recycled mass but no factors in the set: no avoided figure
    lines: list[RecyclingLine]
    by_product: list[Group]
    by_material: list[Group]
    factor_set: str | None = None
    memo: str = MEMO

    def as_dict(self) -> dict:
        return asdict(self)


def co2e_per_tonne(factor) -> float:
    """A ``material`` factor's value in kgCO2e per tonne of material (``kg/t`` of gas CO2e, or ``kgCO2e/t``)."""
    try:
        return factor.value * scale(factor.unit, "kgCO2e/t")
    except UnitError:
        if factor.gas != "CO2e":
            raise UnitError(f"factor {factor.factor_id}: a material factor must be CO2e, not {factor.gas}") from None
        return factor.value * scale(factor.unit, "kg/t")


def _factor_index(factors: Iterable) -> dict[tuple[str, str], object]:
    out = {}
    for f in factors:
        if f.kind == "material" and f.gas == "CO2e":
            out.setdefault((f.subject, f.use), f)
    return out


def recycled_use(treatment: str) -> str:
    """The ``material`` factor use standing for recycled material of a take-back treatment."""
    return "open_loop" if "open_loop" in str(treatment or "").lower() else "closed_loop"


def _rate(num: float, den: float | None) -> float | None:
    return num / den if den else None


def recycling_report(rows: pd.DataFrame, factors: Iterable, year: int | None = None, source: str = "takeback",
                     factor_set: str | None = None) -> RecyclingReport:
    """Rates by product and material and avoided emissions (memo) of one year's ``takeback`` rows.

    Parameters
    ----------
    rows : DataFrame
        ``takeback`` rows (``COLUMNS``; ``placed_on_market`` may be empty).
    factors : iterable of Factor
        The factor set's factors; its ``material`` factors are used.
    """
    index = _factor_index(factors)
    if rows is None or len(rows) == 0:
        return RecyclingReport(year, 0.0, 0.0, None, None, None, 0.0, [], [], [], [], factor_set)
    missing = [c for c in COLUMNS if c not in rows and c != "placed_on_market"]
    if missing:
        raise RowsUnusable([Problem(source, None, c, "column is missing") for c in missing])
    df = rows.reset_index(drop=True)
    problems = []
    collected = pd.to_numeric(df["collected"], errors="coerce").to_numpy(dtype=float)
    recycled = pd.to_numeric(df["recycled"], errors="coerce").to_numpy(dtype=float)
    placed = (pd.to_numeric(df["placed_on_market"], errors="coerce").to_numpy(dtype=float)
              if "placed_on_market" in df else np.full(len(df), np.nan))
    to_t = np.zeros(len(df))
    for u in df["unit"].astype(str).unique():
        hit = df["unit"].astype(str).to_numpy() == u
        try:
            to_t[hit] = scale(u, "t")
        except UnitError as exc:
            problems += [row_problem(source, df, int(i), "unit", f"{exc}; collected and recycled are masses "
                                 "(kg, t)") for i in np.flatnonzero(hit)[:5]]
    for i in range(len(df)):
        c, r, p = collected[i], recycled[i], placed[i]
        if not (math.isfinite(c) and c >= 0):
            problems.append(row_problem(source, df, i, "collected",
                                        f"must be a mass >= 0, got {df['collected'].iloc[i]!r}"))
        if not (math.isfinite(r) and r >= 0):
            problems.append(row_problem(source, df, i, "recycled",
                                        f"must be a mass >= 0, got {df['recycled'].iloc[i]!r}"))
        elif math.isfinite(c) and c >= 0 and r > c * (1 + 1e-9):
            problems.append(row_problem(source, df, i, "recycled", f"recycled ({r:g}) exceeds collected ({c:g}): "
                                    "only what was taken back can be recycled"))
        if not math.isnan(p) and p < 0:
            problems.append(row_problem(source, df, i, "placed_on_market", f"must be a mass >= 0, got {p:g}"))
    if problems:
        raise RowsUnusable(problems)
    treatment = df["treatment"].fillna("").astype(str) if "treatment" in df else pd.Series([""] * len(df))
    data = pd.DataFrame({"product": df["product"].astype(str), "material": df["material"].astype(str),
                         "use": [recycled_use(t) for t in treatment],
                         "collected_t": collected * to_t, "recycled_t": recycled * to_t,
                         "placed_t": placed * to_t})
    lines: list[RecyclingLine] = []
    for (product, material, use), g in data.groupby(["product", "material", "use"], sort=True):
        col, rec = float(g["collected_t"].sum()), float(g["recycled_t"].sum())
        placed_t = float(g["placed_t"].sum()) if g["placed_t"].notna().any() else None
        # Take-back rate only over rows that give what was placed on the market.
        given = g[g["placed_t"].notna()]
        takeback = _rate(float(given["collected_t"].sum()), placed_t) if placed_t is not None else None
        primary, secondary = index.get((material, "primary")), index.get((material, use))
        if primary is not None and secondary is not None:
            kp, ks = co2e_per_tonne(primary), co2e_per_tonne(secondary)
            avoided = rec * (kp - ks) / 1000.0
            ids = (primary.factor_id, secondary.factor_id)
            formula = (f"{rec:.6g} t recycled x ({kp:.6g} - {ks:.6g}) kgCO2e/t [{primary.factor_id} - "
                       f"{secondary.factor_id}] / 1000 = {avoided:.6g} tCO2e (memo)")
        else:
            avoided, ids = None, ()
            lacking = tuple(u for u, f in (("primary", primary), (use, secondary)) if f is None)
            formula = f"no {' and '.join(lacking)} material factor for '{material}' in the factor set"
        lines.append(RecyclingLine(product, material, col, rec, placed_t, _rate(rec, col), takeback, avoided,
                                   ids, formula, lacking if avoided is None else ()))

    def group(name: str, items: list[RecyclingLine]) -> Group:
        col = sum(x.collected_t for x in items)
        rec = sum(x.recycled_t for x in items)
        with_placed = [x for x in items if x.placed_on_market_t is not None]
        placed_t = sum(x.placed_on_market_t for x in with_placed) if with_placed else None
        takeback = _rate(sum(x.collected_t for x in with_placed), placed_t) if with_placed else None
        known = [x.avoided_tco2e for x in items if x.avoided_tco2e is not None]
        lacking = sorted({x.material for x in items if x.avoided_tco2e is None and x.recycled_t > 0})
        return Group(name, col, rec, placed_t, _rate(rec, col), takeback, sum(known) if known else None, lacking)

    by_product = [group(p, [x for x in lines if x.product == p]) for p in sorted({x.product for x in lines})]
    by_material = [group(m, [x for x in lines if x.material == m]) for m in sorted({x.material for x in lines})]
    total = group("total", lines)
    return RecyclingReport(year, total.collected_t, total.recycled_t, total.recycling_rate, total.placed_on_market_t,
                           total.takeback_rate, total.avoided_tco2e or 0.0, total.without_factors, lines, by_product,
                           by_material, factor_set)
