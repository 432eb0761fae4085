"""Energy flows of a site (site -> area -> line -> asset, the Sankey of the energy page and the API) and
roll-ups per area or line, from each meter's local-calendar roll-up in the lake and the registry's hierarchy.

The rule that keeps a main meter and its sub-meters from being counted twice is
:mod:`zerocarbon.core.energy.flows`; this module reads the numbers it works on.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from zerocarbon.core.energy.flows import EXPORT, GENERATION, Flows, MeterTotal, flows, place, role
from zerocarbon.core.energy.intervals import Meter
from zerocarbon.errors import InputError, NotFoundError, Problem, UnitError
from zerocarbon.services.energy_data import kpis, product_totals, rollup, site_of
from zerocarbon.services.energy_report import EnergySource, period, registry
from zerocarbon.units import scale

DEPTHS = {"area": 1, "line": 2, "asset": 3}


def medium_unit(meters: list[Meter], medium: str) -> str:
    """The unit flows of a medium are given in: kWh for electricity and PV, else the unit most of its
    meters use."""
    if medium in ("electricity", "pv"):
        return "kWh"
    units = pd.Series([m.unit for m in meters])
    return str(units.mode().sort_values().iloc[0])


def _site_meters(meters: dict[str, Meter], site: str | None, medium: str) -> tuple[str, str, list[Meter]]:
    """The site's meters of the medium; for electricity also its PV meters, the site's generation and export
    (:func:`zerocarbon.core.energy.flows.role`)."""
    site, tz = site_of(meters, site)
    chosen = sorted((m for m in meters.values() if m.site == site
                     and (m.medium == medium or role(m, medium) in (GENERATION, EXPORT))),
                    key=lambda m: m.id)
    if not any(m.medium == medium for m in chosen):
        media = sorted({m.medium for m in meters.values() if m.site == site})
        raise InputError([Problem("medium", None, None, f"site {site} has no {medium} meter; its meters measure "
                                                        f"{', '.join(media)}")])
    return site, tz, chosen


def _by_period(frame: pd.DataFrame, chosen: list[Meter], unit: str, medium: str) -> dict[str, list[MeterTotal]]:
    """Per period of a by-meter roll-up: each chosen meter's energy in ``unit`` and the minutes its readings
    cover (0 and 0 for a meter without readings in the period)."""
    interval = {m.id: m.interval_min for m in chosen}
    factors = {}
    for u in frame["unit"].unique():
        try:
            factors[u] = scale(str(u), unit)
        except UnitError as exc:
            bad = sorted(set(frame.loc[frame["unit"] == u, "meter"]))
            raise InputError([Problem("meter registry", None, "unit", f"meter {m}: {exc}") for m in bad]) from None
    found: dict[str, dict[str, list[float]]] = {}
    for when, meter, value, u, n in zip(frame["period"], frame["meter"], frame["value"], frame["unit"],
                                        frame["intervals"]):
        acc = found.setdefault(str(when), {}).setdefault(meter, [0.0, 0.0])
        acc[0] += float(value) * factors[u]
        acc[1] += float(n) * interval[meter]
    return {when: [MeterTotal(m.id, place(m), *got.get(m.id, (0.0, 0.0)), role=role(m, medium)) for m in chosen]
            for when, got in found.items()}


def _totals(frame: pd.DataFrame, chosen: list[Meter], unit: str, medium: str) -> list[MeterTotal]:
    """The whole frame's energy per meter (all its periods added up)."""
    return _by_period(frame.assign(period=""), chosen, unit, medium)[""]


def site_flows(src: EnergySource, org: str, site: str | None, start: date | str | None = None, end: date | str | None = None,
               medium: str = "electricity", level: str = "line") -> Flows:
    """The flows of one site and medium between local dates ``start`` and ``end`` (both included), drawn down
    to ``level`` (area, line or asset)."""
    if level not in DEPTHS:
        raise InputError([Problem("level", None, None, f"'{level}' is not area, line or asset")])
    meters = registry(src)
    first, last = period(start, end)
    site, _, chosen = _site_meters(meters, site, medium)
    frame = rollup(src.lake, org, meters, by="meter", freq="month", site=site, start=first, end=last,
                   engine=src.engine)
    frame = frame[frame["meter"].isin([m.id for m in chosen])]
    if frame.empty:
        raise NotFoundError(f"no {medium} readings of site {site} between {first or 'the start'} and "
                            f"{last or 'the end'} (local dates)")
    unit = medium_unit(chosen, medium)
    return flows(site, _totals(frame, chosen, unit, medium), medium, unit, DEPTHS[level])


@dataclass(frozen=True)
class RollupRow:
    site: str
    medium: str
    node: str  # the node's id: the names from the site down, joined by " › "
    name: str
    period: str  # local start of the period (hours with their UTC offset)
    unit: str
    value: float
    basis: str  # site: "revenue meters" | "all meters"; area, line: "own meters" | "sum of the parts"


def energy_rollup(src: EnergySource, org: str, site: str | None, by: str = "site", freq: str = "month",
                  start: date | str | None = None, end: date | str | None = None,
                  medium: str = "electricity") -> list[RollupRow]:
    """Energy of one site per site, area or line and local hour, day or month.

    By site it is ``zerocarbon meters rollup --by site`` (the revenue meters, else all meters of the medium);
    by area or line the flows rule: a node's own meters when it has any, else the sum of the nodes below it.
    """
    if by not in ("site", "area", "line"):
        raise InputError([Problem("by", None, None, f"'{by}' is not site, area or line")])
    if freq not in ("hour", "day", "month"):
        raise InputError([Problem("freq", None, None, f"'{freq}' is not hour, day or month")])
    meters = registry(src)
    first, last = period(start, end)
    site, _, chosen = _site_meters(meters, site, medium)
    unit = medium_unit(chosen, medium)
    if by == "site":
        frame = rollup(src.lake, org, meters, by="site", freq=freq, site=site, start=first, end=last,
                   engine=src.engine)
        frame = frame[frame["medium"] == medium]
        rows: dict[str, RollupRow] = {}
        for when, value, u, basis in zip(frame["period"], frame["value"], frame["unit"], frame["basis"]):
            before = rows[when].value if when in rows else 0.0
            rows[when] = RollupRow(site, medium, site, site, str(when), unit, before + float(value) * scale(u, unit),
                                   str(basis))
        return list(rows.values())
    frame = rollup(src.lake, org, meters, by="meter", freq=freq, site=site, start=first, end=last,
                   engine=src.engine)
    frame = frame[frame["meter"].isin([m.id for m in chosen])]
    out = []
    # by time, not text: the two 02:00 hours of a DST fall-back differ only in their offset
    for when, totals in sorted(_by_period(frame, chosen, unit, medium).items(), key=lambda kv: pd.Timestamp(kv[0])):
        f = flows(site, totals, medium, unit, DEPTHS[by])
        out += [RollupRow(site, medium, n.id, n.name, str(when), unit, n.value,
                          "own meters" if n.metered else "sum of the parts") for n in f.nodes if n.level == by]
    return out


__all__ = ["site_flows", "energy_rollup", "RollupRow", "medium_unit", "DEPTHS"]


@dataclass(frozen=True)
class KpiRow:
    line: str
    shift: str
    period: str
    kwh: float
    intervals: int
    units: float | None
    kwh_per_unit: float | None
    product: str | None = None  # where the counts name products: the line's kWh in the shift shared by units


@dataclass(frozen=True)
class ProductKpiRow:
    product: str
    period: str
    kwh: float
    units: float
    kwh_per_unit: float | None


def _number(v) -> float | None:
    return None if pd.isna(v) else float(v)


def _kpis(src: EnergySource, org: str, site: str | None, start, end, freq: str, shifts, per: str) -> pd.DataFrame:
    if freq not in ("day", "month"):
        raise InputError([Problem("freq", None, None, f"'{freq}' is not day or month")])
    meters = registry(src)
    first, last = period(start, end)
    site, _ = site_of(meters, site)
    return kpis(src.lake, org, meters, src.production, shifts, freq, site, first, last, engine=src.engine, per=per)


def site_kpis(src: EnergySource, org: str, site: str | None, start: date | str | None = None,
              end: date | str | None = None, freq: str = "day", shifts=None) -> list[KpiRow]:
    """``zerocarbon meters kpis`` for one site of the server's registry: kWh per line and shift of each local
    day or month, with units and kWh per unit when the server has production counts."""
    return _line_rows(_kpis(src, org, site, start, end, freq, shifts, "line"))


def _line_rows(df: pd.DataFrame) -> list[KpiRow]:
    return [KpiRow(str(r.line), str(r.shift), str(r.period), float(r.kwh), int(r.intervals), _number(r.units),
                   _number(r.kwh_per_unit), getattr(r, "product", None) or None) for r in df.itertuples(index=False)]


def _product_rows(df: pd.DataFrame) -> list[ProductKpiRow]:
    return [ProductKpiRow(str(r.product), str(r.period), float(r.kwh), float(r.units), _number(r.kwh_per_unit))
            for r in df.itertuples(index=False)]


def site_product_kpis(src: EnergySource, org: str, site: str | None, start: date | str | None = None,
                      end: date | str | None = None, freq: str = "day", shifts=None) -> list[ProductKpiRow]:
    """``zerocarbon meters kpis --per product`` for one site: each product's kWh and units over the lines and
    shifts that made it, per local day or month."""
    return _product_rows(_kpis(src, org, site, start, end, freq, shifts, "product"))


def site_kpis_and_products(src: EnergySource, org: str, site: str | None, start: date | str | None = None,
                           end: date | str | None = None, freq: str = "day", shifts=None
                           ) -> tuple[list[KpiRow], list[ProductKpiRow]]:
    """:func:`site_kpis` and, where the counts name products, :func:`site_product_kpis`, from one query."""
    df = _kpis(src, org, site, start, end, freq, shifts, "line")
    products = _product_rows(product_totals(df)) if "product" in df.columns else []
    return _line_rows(df), products
