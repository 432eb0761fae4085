"""Interval data out of the lake, in the site's local calendar: roll-ups, the Scope 2 activity file, and the
per-meter series every energy analysis starts from.

Every function reads one organisation's part of the lake (``org``, its code): site codes and meter ids are
unique only within an organisation.

One rule everywhere: days, months and years are those of the site's clock (the meter registry's
``timezone``), never UTC. A reading at 2025-12-31 17:00 UTC is New Year's Day 01:00 in Shanghai and
counts towards January 2026.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from zerocarbon.core.energy.intervals import Meter
from zerocarbon.errors import InputError, NotFoundError, Problem
from zerocarbon.io.spreadsheet import write_csv
from zerocarbon.store import engines, lake
from zerocarbon.units import scale

REGISTRY = "meter registry"


@dataclass(frozen=True)
class Selection:
    """The meters one analysis reads, the site they belong to and that site's clock."""

    site: str
    timezone: str
    meters: tuple[Meter, ...]

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.meters]


def site_of(meters: dict[str, Meter], site: str | None = None) -> tuple[str, str]:
    """The site to analyse (the only one in the registry when ``site`` is None) and its time zone."""
    sites = sorted({m.site for m in meters.values()})
    if site is None:
        if len(sites) != 1:
            raise InputError([Problem(REGISTRY, None, "site", f"the registry lists sites {', '.join(sites)}; "
                                                              "choose one with --site")])
        site = sites[0]
    if site not in sites:
        raise InputError([Problem(REGISTRY, None, "site", f"no meter of site '{site}' in the registry "
                                                          f"(it lists {', '.join(sites) or 'no sites'})")])
    zones = sorted({m.timezone for m in meters.values() if m.site == site})
    if len(zones) > 1:
        raise InputError([Problem(REGISTRY, None, "timezone", f"meters of site {site} give different time zones "
                                                              f"({', '.join(zones)}); a site keeps one clock")])
    return site, zones[0]


def select(meters: dict[str, Meter], site: str | None = None, meter_ids: list[str] | None = None) -> Selection:
    """Meters named by id (all of one site), or a site's revenue electricity meters (its grid supply)."""
    if meter_ids:
        unknown = [m for m in meter_ids if m not in meters]
        if unknown:
            raise InputError([Problem(REGISTRY, None, "id", f"meter '{m}' is not in the registry") for m in unknown])
        sites = {meters[m].site for m in meter_ids}
        if len(sites) > 1 or (site and site not in sites):
            raise InputError([Problem(REGISTRY, None, "site", f"meters {', '.join(meter_ids)} are not all of one "
                                                              f"site{' ' + site if site else ''}")])
        site, tz = site_of(meters, sites.pop())
        return Selection(site, tz, tuple(meters[m] for m in meter_ids))
    site, tz = site_of(meters, site)
    revenue = tuple(m for m in meters.values() if m.site == site and m.revenue and m.medium == "electricity")
    if not revenue:
        raise InputError([Problem(REGISTRY, None, "revenue", f"site {site} has no revenue electricity meter "
                                                             "(revenue=true); name the meters with --meter")])
    return Selection(site, tz, revenue)


def parse_day(text: str | date | None, what: str) -> date | None:
    """A local calendar date from ``YYYY-MM-DD`` text (``what`` names the option in the error)."""
    if text is None or isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError([Problem(what, None, None, f"'{text}' is not a date (YYYY-MM-DD)")]) from None


def local_bounds(tz: str, start: date | None, end: date | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Local dates ``start``..``end`` (both included) as naive UTC bounds [from, to)."""
    def utc(d: date) -> pd.Timestamp:
        return pd.Timestamp(d).tz_localize(tz).tz_convert("UTC").tz_localize(None)

    if start and end and end < start:
        raise InputError([Problem("period", None, "to", f"{end} is before {start}")])
    return (utc(start) if start else None, utc(pd.Timestamp(end) + pd.Timedelta(days=1)) if end else None)


def _zones(meters: dict[str, Meter], ids) -> pd.DataFrame:
    return pd.DataFrame([{"meter": i, "site": meters[i].site, "timezone": meters[i].timezone} for i in ids],
                        columns=["meter", "site", "timezone"])


def _unregistered(root: Path | str, org: str, meters: dict[str, Meter], site: str | None, engine=None,
                  months: list[str] | None = None) -> None:
    """Refuse a lake holding readings of a meter the registry does not list, in the partitions a query reads:
    its energy would be left out of every total without a word (a revenue meter's, of Scope 2)."""
    held = lake.meters_held(root, org, [site] if site else None, months, engine)
    missing = sorted(set(held["meter"]) - set(meters))
    if missing:
        raise InputError([Problem(REGISTRY, None, "id", f"meter '{m}' has readings in the lake but is not in the "
                                                        "registry; add it (its time zone decides its calendar)")
                          for m in missing])


def rollup(root: Path | str, org: str, meters: dict[str, Meter], by: str = "site", freq: str = "month",
           site: str | None = None, start: date | None = None, end: date | None = None,
           engine: str | None = None, spark_master: str | None = None) -> pd.DataFrame:
    """Energy of organisation ``org`` per meter or site and local hour, day or month; ``meters`` is that
    organisation's registry. ``engine`` (duckdb | spark, see ``store.engines``) runs the roll-up.

    ``by="site"`` adds up, per site and medium, the revenue meters where the site declares any for that
    medium (sub-meters are inside what they measure) and otherwise every meter of the medium; the column
    ``basis`` says which. ``start``/``end`` are local dates, both included.
    """
    # Every argument is checked before the lake is read (on Spark, before a job starts).
    run = engines.engine(engine, spark_master)
    _check_period(start, end)
    chosen = [m for m in meters.values() if site is None or m.site == site]
    if site is not None and not chosen:
        site_of(meters, site)  # raises with the sites the registry does list
    root = lake.require(root, org)
    bounds = _local_days(start, end)
    _unregistered(root, org, meters, site, run, lake.utc_months(*bounds))
    sites = [site] if site else None
    if by == "meter":
        return lake.rollup(root, org, _zones(meters, [m.id for m in chosen]), "meter", freq, *bounds, engine=run,
                           sites=sites)
    # One query for every site and medium (one pass over the lake, one Spark job): each (site, medium) is a
    # group key of its own in the zones frame, so media with the same unit (gas and water in m3) stay apart.
    groups, zones = [], []
    for (s, medium), group in _by_site_medium(chosen).items():
        revenue = [m for m in group if m.revenue]
        use, basis = (revenue, "revenue meters") if revenue else (group, "all meters")
        zones += [{"meter": m.id, "site": str(len(groups)), "timezone": m.timezone} for m in use]
        groups.append((s, medium, basis))
    cols = ["site", "medium", "basis", "timezone", "period", "unit", "value", "intervals"]
    df = lake.rollup(root, org, pd.DataFrame(zones, columns=["meter", "site", "timezone"]), "site", freq, *bounds,
                     engine=run, sites=sites)
    if df.empty:
        return pd.DataFrame(columns=cols)
    key = df["site"].astype(int)
    df = df.assign(site=[groups[k][0] for k in key], medium=[groups[k][1] for k in key],
                   basis=[groups[k][2] for k in key])
    return df[cols].sort_values(["site", "medium", "period"], ignore_index=True, kind="stable")


def kpis(root: Path | str, org: str, meters: dict[str, Meter], production: Path | None = None, shifts=None,
         freq: str = "day", site: str | None = None, start: date | None = None, end: date | None = None,
         engine: str | None = None, spark_master: str | None = None, per: str = "line") -> pd.DataFrame:
    """Energy KPIs of organisation ``org``: kWh per site, line, shift and local day or month, with the units
    produced and kWh per unit when a production file is given (``io.energy_inputs.read_production``: one row
    per line and interval, or one column per line). Every electricity meter the registry puts on a line counts
    for that line; a shift that wraps midnight belongs to the day it began. ``engine`` runs it (duckdb | spark).

    Where the counts name products, each line's energy in a shift is shared among the products it made in that
    shift by their units (a ``product`` column; the energy of a shift that made nothing has no product: null), and
    ``per="product"`` adds each product's kWh and units over the lines and shifts of a site and period. Shares
    are taken per shift and day, before a month adds them up.
    """
    if freq not in ("day", "month"):
        raise InputError([Problem("--freq", None, None, f"{freq!r}: KPIs are per day or month")])
    if per not in ("line", "product"):
        raise InputError([Problem("--per", None, None, f"{per!r}: KPIs are per line or per product")])
    if per == "product" and production is None:
        raise InputError([Problem("--per", None, None, "KPIs per product need production counts that name the "
                                                       "product (--production, columns timestamp,line,product,units)")])
    from zerocarbon.core.energy.analytics import SHIFTS
    from zerocarbon.io.energy_inputs import read_production

    run = engines.engine(engine, spark_master)
    _check_period(start, end)
    if site is not None:
        site_of(meters, site)  # raises with the sites the registry does list
    lined = [m for m in meters.values() if m.line and m.medium == "electricity" and (site is None or m.site == site)]
    if not lined:
        raise InputError([Problem(REGISTRY, None, "line", "no electricity meter of "
                                  + (f"site {site} " if site else "") + "is on a line; give meters a line")])
    root = lake.require(root, org)
    zones = pd.DataFrame([{"meter": m.id, "site": m.site, "timezone": m.timezone, "line": m.line} for m in lined])
    line_site = {m.line: (m.site, m.timezone) for m in lined}
    made = pd.DataFrame(columns=["site", "line", "timezone", "ts", "units"])
    if production is not None:
        zones_of = {tz for _, tz in line_site.values()}
        if len(zones_of) > 1:
            raise InputError([Problem("--production", None, None, "the lines are in sites of several time zones "
                                      f"({', '.join(sorted(zones_of))}); give --site to read the file's local stamps")])
        # The file may hold every line of the registry (one file for the group); those of other sites are left out.
        raw = read_production(production, zones_of.pop(), {m.line for m in meters.values() if m.line})
        raw = raw[raw["line"].isin(line_site)]
        made = raw.assign(site=raw["line"].map(lambda x: line_site[x][0]),
                          timezone=raw["line"].map(lambda x: line_site[x][1]))
    bounds = _local_days(start, end)
    _unregistered(root, org, meters, site, run, lake.utc_months(*bounds, margin_days=2))
    if per == "product" and not (made["product"] != "").any():
        raise InputError([Problem(Path(production).name, 1, "product", "the counts name no product; add a product "
                                  "column (timestamp,line,product,units) for KPIs per product")])
    # Always per shift and day: a line's energy is shared among what each shift made before months add up, so a
    # month's idle shifts stay with no product.
    df = lake.kpis(root, org, zones, made, shifts or SHIFTS, "day", *bounds, engine=run)
    products = bool((df["product"] != "").any()) if len(df) else False
    cols = ["site", "line", "shift", "period", *(["product"] if products else []), "kwh", "intervals", "units",
            "kwh_per_unit"]
    if per == "product":
        cols = ["site", "product", "period", "kwh", "units", "kwh_per_unit"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["kwh"] = df["value"] * df["unit"].map({u: scale(u, "kWh") for u in df["unit"].unique()})
    line_shift = ["site", "line", "shift", "period"]
    out = df.groupby([*line_shift, "product"], as_index=False, sort=True).agg(
        kwh=("kwh", "sum"), intervals=("intervals", "sum"), units=("units", "first"))
    # The line's energy in the shift, shared by units made; a shift without counts keeps it whole.
    made_units = out.groupby(line_shift)["units"].transform("sum")
    out["kwh"] = out["kwh"] * (out["units"] / made_units).where(made_units > 0, 1.0)
    if freq == "month":
        out["period"] = out["period"].str[:7] + "-01"
        out = out.groupby([*line_shift, "product"], as_index=False, sort=True).agg(
            kwh=("kwh", "sum"), intervals=("intervals", "sum"), units=("units", lambda u: u.sum(min_count=1)))
    if per == "product":
        return product_totals(out)
    out["kwh_per_unit"] = out["kwh"] / out["units"].where(out["units"] > 0)
    if products and per == "line":  # a shift that made nothing has no product: null, as "–" on the page
        out["product"] = out["product"].astype(object).where(out["product"] != "", None)
    return out[cols]


def product_totals(lines: pd.DataFrame) -> pd.DataFrame:
    """Each product's kWh and units over the lines and shifts of a site and period, from the line view of
    :func:`kpis` (rows of shifts that made nothing, product "" or null, are in no product)."""
    made = lines[lines["product"].fillna("") != ""]
    out = made.groupby(["site", "product", "period"], as_index=False, sort=True).agg(kwh=("kwh", "sum"),
                                                                                     units=("units", "sum"))
    out["kwh_per_unit"] = out["kwh"] / out["units"].where(out["units"] > 0)
    return out[["site", "product", "period", "kwh", "units", "kwh_per_unit"]]


def _local_days(start: date | None, end: date | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Local dates, both included, as the bounds of local time: from ``start`` 00:00 to the day after ``end``."""
    return (pd.Timestamp(start) if start else None, pd.Timestamp(end) + pd.Timedelta(days=1) if end else None)


def _check_period(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise InputError([Problem("period", None, "to", f"{end} is before the first day {start}")])


def _by_site_medium(chosen: list[Meter]) -> dict[tuple[str, str], list[Meter]]:
    out: dict[tuple[str, str], list[Meter]] = {}
    for m in chosen:
        out.setdefault((m.site, m.medium), []).append(m)
    return out


@dataclass(frozen=True)
class ActivityFile:
    path: Path
    months: int
    partial: list[str]  # months written as measured although intervals are missing (allow_partial)
    without_readings: list[str]  # months of the year with no reading at all (not written)


def electricity_activity(root: Path | str, org: str, meters: dict[str, Meter], year: int, out: Path,
                         allow_partial: bool = False, engine: str | None = None,
                         spark_master: str | None = None) -> ActivityFile:
    """Write the revenue meters' monthly kWh as an electricity activity file (io.schemas "electricity"),
    ready for ``zerocarbon import electricity``: the one path by which interval data reaches Scope 2.
    Months are those of each site's local calendar (a bill's month), like every other roll-up.

    A month whose meter misses intervals would understate Scope 2 while claiming the whole month: it is refused
    (InputError naming meter, month and coverage, nothing written) unless ``allow_partial``, which writes it as
    measured and lists it. Months without any reading are not written and are listed.
    """
    run = engines.engine(engine, spark_master)
    revenue = [m for m in meters.values() if m.revenue and m.medium == "electricity"]
    if not revenue:
        raise InputError([Problem(REGISTRY, None, "revenue", "no revenue electricity meter is declared")])
    root = lake.require(root, org)
    _unregistered(root, org, meters, None, run,
                  lake.utc_months(pd.Timestamp(int(year), 1, 1), pd.Timestamp(int(year) + 1, 1, 1)))
    df = lake.rollup(root, org, _zones(meters, [m.id for m in revenue]), "meter", "month",
                     pd.Timestamp(int(year), 1, 1), pd.Timestamp(int(year) + 1, 1, 1), engine=run)
    if df.empty:
        raise NotFoundError(f"the lake at {root} has no readings of revenue meters "
                            f"{', '.join(m.id for m in revenue)} in {year} (local time)")
    month = pd.to_datetime(df["period"])
    expected = [_intervals_in_month(m, meters[mid]) for m, mid in zip(month, df["meter"])]
    short = [(mid, f"{m:%Y-%m}", n, e) for mid, m, n, e in zip(df["meter"], month, df["intervals"], expected) if n < e]
    if short and not allow_partial:
        raise InputError([Problem(mid, None, "intervals",
                                  f"{ym}: {n:,} of {e:,} intervals ({n / e:.1%}); the month's kWh would understate "
                                  "Scope 2 — import the missing readings, or pass --allow-partial to write it as "
                                  "measured") for mid, ym, n, e in short])
    frame = pd.DataFrame({
        "site": [meters[m].site for m in df["meter"]], "meter": df["meter"],
        "period_start": month.dt.strftime("%Y-%m-%d"),
        "period_end": (month + pd.offsets.MonthEnd(0)).dt.strftime("%Y-%m-%d"),
        "quantity": [round(v * scale(u, "kWh"), 3) for v, u in zip(df["value"], df["unit"])], "unit": "kWh"})
    seen = {(mid, f"{m:%Y-%m}") for mid, m in zip(df["meter"], month)}
    missing = [f"{m.id} {year}-{k:02d}" for m in revenue for k in range(1, 13) if (m.id, f"{year}-{k:02d}") not in seen]
    return ActivityFile(write_csv(frame, out), len(frame), [f"{mid} {ym} ({n / e:.1%})" for mid, ym, n, e in short],
                        missing)


def _intervals_in_month(month_start: pd.Timestamp, meter: Meter) -> int:
    """Intervals of a local calendar month (a DST month has an hour more or less)."""
    start = month_start.tz_localize(meter.timezone)
    end = (month_start + pd.offsets.MonthBegin(1)).tz_localize(meter.timezone)
    return int((end - start) / pd.Timedelta(minutes=meter.interval_min))


def load_kwh(root: Path, org: str, sel: Selection, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Interval energy [kWh] of the selected meters: one column per meter, indexed by interval start in
    naive UTC, on the coarsest interval among them. Raises :class:`NotFoundError` (saying what the lake does
    hold) when the period has no readings."""
    root = lake.require(root, org)
    lo, hi = local_bounds(sel.timezone, start, end)
    raw = lake.intervals(root, org, sel.ids, lo, hi)
    if raw.empty:
        raise NotFoundError(_nothing_for(root, org, sel, start, end))
    for m in sel.meters:
        if m.medium not in ("electricity", "pv"):
            raise InputError([Problem(REGISTRY, None, "medium", f"meter {m.id} measures {m.medium}; energy "
                                                                "analytics read electricity meters")])
    factors = {u: scale(u, "kWh") for u in raw["unit"].unique()}
    raw["kwh"] = raw["value"] * raw["unit"].map(factors)
    wide = raw.pivot_table(index="ts", columns="meter", values="kwh", aggfunc="sum").sort_index()
    steps = {m.interval_min for m in sel.meters}
    step = max(steps)
    if step < 1440:
        # Sub-daily intervals sit on a regular UTC grid; missing intervals become visible rows (NaN).
        full = pd.date_range(wide.index.min().floor(f"{step}min"), wide.index.max().floor(f"{step}min"),
                             freq=f"{step}min")
        if len(steps) > 1:
            # min_count: an interval nobody measured stays missing, not zero.
            wide = wide.resample(f"{step}min").sum(min_count=1)
        wide = wide.reindex(full)
    elif len(steps) > 1:
        raise InputError([Problem(REGISTRY, None, "interval_min", f"meters {', '.join(sel.ids)} mix intervals "
                                                                  f"{sorted(steps)} min; daily meters are analysed "
                                                                  "alone")])
    # Daily (and longer) readings start at local midnights, which move in UTC with DST: kept as stamped.
    wide.index.name = "ts"
    wide = wide.reindex(columns=sel.ids)
    wide.attrs["interval_min"] = step
    return wide


def interval_minutes(frame: pd.DataFrame) -> int:
    """The interval [min] of a frame from :func:`load_kwh`."""
    return int(frame.attrs["interval_min"])


def _nothing_for(root: Path, org: str, sel: Selection, start, end) -> str:
    held = lake.holdings(root, org)
    held = held[held["meter"].isin(sel.ids)]
    period = f" between {start or 'the start'} and {end or 'the end'} (local dates)" if start or end else ""
    if held.empty:
        return (f"the lake at {root} has no readings of meter(s) {', '.join(sel.ids)} of site {sel.site} of "
                f"organisation {org}; "
                f"import them with zerocarbon meters import")
    first = pd.Timestamp(held["first"].min()).tz_localize("UTC").tz_convert(sel.timezone)
    last = pd.Timestamp(held["last"].max()).tz_localize("UTC").tz_convert(sel.timezone)
    return (f"no readings of meter(s) {', '.join(sel.ids)}{period}; the lake holds them from "
            f"{first:%Y-%m-%d} to {last:%Y-%m-%d}")


__all__ = ["Selection", "select", "site_of", "parse_day", "local_bounds", "rollup", "electricity_activity", "load_kwh",
           "interval_minutes"]
