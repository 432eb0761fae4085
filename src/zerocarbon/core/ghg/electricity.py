"""Scope 2: purchased electricity, location- and market-based (GHG Protocol Scope 2 Guidance, 2015).

Location-based (Guidance §6.2): E = kWh x grid average factor for the site's province/grid region
and the data year, picked by the factor set's rules.

Market-based (Guidance §6.3 and the Scope 2 Quality Criteria, Table 7.1): contractual instruments
retired for a site and reporting year cover consumption first; what they do not cover uses the
residual-mix proxy of the factor set (China: the MEE/NBS national factor excluding market-traded
non-fossil power), flagged as a proxy. An instrument counts only if
  - its market boundary (country) equals the site's country (criterion 6),
  - its vintage overlaps the reporting year (criterion 5, "as close as possible" read as same year),
  - it is retired for that site and year, and no MWh of it is claimed twice (criterion 3).
Cover is applied pro rata over the site's rows of the year: f = min(1, MWh_instruments / MWh_grid).

Renewable share counts only the cover of instruments whose technology is renewable (declared in
``data/instruments/technologies.csv``) *and* whose emission factor is zero: a zero-factor nuclear
contract or a renewable-labelled supply with a non-zero factor lowers the market-based figure as its
factor says, but is not renewable electricity.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zerocarbon.core.instruments import instrument_technologies
from zerocarbon.errors import DoubleClaimError, InputError, Problem


def counts_as_renewable(technology, emission_factor_kg_per_kwh) -> bool:
    """True if an instrument's cover is renewable electricity: renewable technology and a zero factor."""
    return (isinstance(technology, str) and instrument_technologies().get(technology, False)
            and emission_factor_kg_per_kwh == 0)


@dataclass(frozen=True)
class Claim:
    """Cover granted to one site-year by its eligible instruments."""

    site: str
    grid_kwh: float
    instrument_kwh: float  # eligible and retired for this site-year
    covered_kwh: float
    unused_kwh: float  # retired but not needed (not carried anywhere)
    instrument_ids: tuple[str, ...]
    weighted_ef_kg_per_kwh: float  # of the covering instruments (0 for renewable)
    renewable_kwh: float = 0.0  # the part of covered_kwh from renewable, zero-factor instruments

    @property
    def fraction(self) -> float:
        return self.covered_kwh / self.grid_kwh if self.grid_kwh > 0 else 0.0


def _row_text(activity_id) -> str:
    """``b<batch>:<file>:<row>`` or ``<file>:<row>`` as "file row N, batch B"; "" for anything else."""
    text = str(activity_id)
    head, _, row = text.rpartition(":")
    if not head or not row.isdigit():
        return ""
    batch, _, name = head.partition(":")
    if name and batch[:1] == "b" and batch[1:].isdigit():
        return f"{name} row {row}, batch {batch[1:]}"
    return f"{head} row {row}"


def _serial(value) -> str:
    # Serials are read as floats (exact up to 2**53, the column's ceiling); print them as the integers they are.
    return f"{value:.0f}"


def double_claims(instruments: pd.DataFrame) -> list[tuple[object, object, str]]:
    """Pairs (index, other index, reason) of instruments that claim the same MWh: a repeated id, or serial
    ranges of one registry that overlap. Of each pair, ``index`` is the later row of the frame; the reason
    names the other, by file and row when the frame has an ``activity_id`` column.
    """
    pairs: list[tuple[object, object]] = []
    if instruments.empty:
        return []
    dup = instruments["instrument_id"].duplicated(keep="first")
    first = {v: i for i, v in instruments["instrument_id"][~dup].items()}
    for i in instruments.index[dup]:
        pairs.append((i, first[instruments.at[i, "instrument_id"]]))
    has_serial = instruments["serial_start"].notna() & instruments["serial_end"].notna()
    df = instruments[has_serial & ~dup]
    position = {label: n for n, label in enumerate(instruments.index)}
    for _, g in df.groupby("registry", dropna=False):
        g = g.sort_values("serial_start", kind="stable")
        prev_end, prev = None, None
        for i, row in g.iterrows():
            if prev_end is not None and row["serial_start"] <= prev_end:
                pairs.append((i, prev) if position[i] > position[prev] else (prev, i))
            if prev_end is None or row["serial_end"] > prev_end:
                prev_end, prev = row["serial_end"], i
    return [(i, j, claim_reason(instruments, i, j)) for i, j in pairs]


def claim_reason(instruments: pd.DataFrame, i, j) -> str:
    """Why row ``i`` claims again what row ``j`` claims."""
    a, b = instruments.loc[i], instruments.loc[j]
    where = _row_text(b["activity_id"]) if "activity_id" in instruments else ""
    other = f"instrument '{b['instrument_id']}'" + (f" ({where})" if where else "")
    if a["instrument_id"] == b["instrument_id"]:
        return f"instrument '{a['instrument_id']}' is claimed twice: {other} has the same id"
    return (f"serial range {_serial(a['serial_start'])}-{_serial(a['serial_end'])} overlaps "
            f"{_serial(b['serial_start'])}-{_serial(b['serial_end'])} of {other}, registry {a['registry']}: those "
            "certificates would be claimed twice")


def check_no_double_claims(instruments: pd.DataFrame) -> list[tuple[int, str]]:
    """Return (row index, reason) for every instrument that repeats an id or overlaps a serial range.

    Certificates of one registry are identified by serial numbers; two rows whose ranges overlap claim
    the same MWh twice.
    """
    return [(i, reason) for i, _, reason in double_claims(instruments)]


def _refuse_impossible_instruments(instruments: pd.DataFrame) -> None:
    """A missing or non-finite factor or volume would turn the market-based total into NaN or inf."""
    if instruments.empty:
        return
    problems = []
    for col, what in (("emission_factor_kg_per_kwh", "emission factor"), ("volume_kwh", "volume")):
        v = pd.to_numeric(instruments[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v < 0)
        for aid, value in zip(instruments["activity_id"][bad], v[bad]):
            source, _, row = str(aid).rpartition(":")
            problems.append(Problem(source or str(aid), int(row) if row.isdigit() else None, col,
                                    f"instrument {what} {value} is missing, negative or not finite"))
    if problems:
        raise InputError(problems)


def allocate_instruments(grid_kwh_by_site: dict[str, float], instruments: pd.DataFrame, year: int,
                         site_country: dict[str, str]) -> tuple[dict[str, Claim], list[str]]:
    """Grant each site-year the cover of its eligible instruments. Returns claims and warnings."""
    _refuse_impossible_instruments(instruments)
    problems = double_claims(instruments)
    if problems:
        where = [_row_text(instruments.at[i, "activity_id"]) if "activity_id" in instruments else ""
                 for i, _, _ in problems]
        raise DoubleClaimError("; ".join(f"{w}: {reason}" if w else reason
                                         for w, (_, _, reason) in zip(where, problems)))
    warnings: list[str] = []
    claims: dict[str, Claim] = {}
    inst = instruments[instruments["retired_for_year"] == year] if not instruments.empty else instruments
    for site, grid_kwh in grid_kwh_by_site.items():
        mine = inst[inst["retired_for_site"] == site] if not inst.empty else inst
        eligible_rows = []
        for _, r in mine.iterrows():
            if r["market"] != site_country[site]:
                warnings.append(f"instrument {r['instrument_id']}: market {r['market']} is outside the "
                                f"site's market {site_country[site]}; not counted")
                continue
            if not (r["vintage_start"].year <= year <= r["vintage_end"].year):
                warnings.append(f"instrument {r['instrument_id']}: vintage {r['vintage_start']:%Y-%m}.."
                                f"{r['vintage_end']:%Y-%m} is outside reporting year {year}; not counted")
                continue
            eligible_rows.append(r)
        kwh = float(sum(r["volume_kwh"] for r in eligible_rows))
        covered = min(kwh, grid_kwh)
        renewable_rows = []
        for r in eligible_rows:
            if counts_as_renewable(r.get("technology"), r["emission_factor_kg_per_kwh"]):
                renewable_rows.append(r)
            else:
                tech = r.get("technology")
                tech = f"technology '{tech}'" if isinstance(tech, str) and tech else "no technology given"
                warnings.append(f"instrument {r['instrument_id']}: {tech}, {r['emission_factor_kg_per_kwh']:g} "
                                "kg/kWh; it covers consumption at that factor but is not counted as renewable "
                                "electricity")
        renewable_kwh = float(sum(r["volume_kwh"] for r in renewable_rows))
        # Cover is pro rata, so the renewable part of it is too.
        # (Exactly ``covered`` when every instrument is renewable: a ratio of equal sums may round above 1.)
        renewable_covered = (covered if renewable_kwh == kwh else
                             min(covered, covered * renewable_kwh / kwh) if kwh > 0 else 0.0)
        ef = (float(np.average([r["emission_factor_kg_per_kwh"] for r in eligible_rows],
                               weights=[r["volume_kwh"] for r in eligible_rows])) if eligible_rows else 0.0)
        if kwh > grid_kwh:
            warnings.append(f"site {site}: {kwh - grid_kwh:,.0f} kWh of retired instruments exceed grid "
                            "consumption; the excess is not counted and not carried over")
        claims[site] = Claim(site, grid_kwh, kwh, covered, max(0.0, kwh - grid_kwh),
                             tuple(r["instrument_id"] for r in eligible_rows), ef, renewable_covered)
    return claims, warnings
