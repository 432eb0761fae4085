"""Bulk import of interval meter data into the lake: validate and normalise a whole file, then write.

Nothing partial is stored: every problem of the file is collected first (file, row, column, reason); the
lake write itself is all-or-nothing and idempotent on (meter, interval start).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from zerocarbon.core.energy.intervals import (Meter, Rejected, fill_linear, flag_spikes, gaps, interval_start,
                                              register_to_intervals, to_utc)
from zerocarbon.errors import InputError, Problem, ZerocarbonError
from zerocarbon.io.meter_files import read_readings
from zerocarbon.store import lake, lake_import, repos
from zerocarbon.units import scale


@dataclass
class ImportSummary:
    source: str
    rows: int = 0
    stored: int = 0
    already_stored: int = 0
    duplicates_dropped: int = 0
    missing_intervals: int = 0
    filled: int = 0
    spikes: int = 0
    resets: int = 0
    rollovers: int = 0
    meters: list[str] = field(default_factory=list)

    @property
    def filled_share(self) -> float:
        return self.filled / self.stored if self.stored else 0.0


def normalise(raw: pd.DataFrame, meters: dict[str, Meter], source: str, fill: bool = False,
              progress: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, ImportSummary]:
    summary = ImportSummary(source, rows=len(raw))
    probs: list[Problem] = []
    raw = raw.copy()
    raw["meter"] = raw["meter"].astype(str)
    unknown = ~raw["meter"].isin(list(meters))
    for r in raw.loc[unknown, ["row", "meter"]].head(50).itertuples():
        probs.append(Problem(source, int(r.row), "meter", f"unknown meter '{r.meter}' (not in the meter registry)"))
    value = pd.to_numeric(raw["value"], errors="coerce")
    for r in raw.loc[value.isna(), ["row", "value"]].head(50).itertuples():
        probs.append(Problem(source, int(r.row), "value", f"'{r.value}' is not a number"))
    for r in raw.loc[value < 0, ["row", "value"]].head(50).itertuples():
        probs.append(Problem(source, int(r.row), "value", f"negative reading {r.value}"))
    raw["value"] = value.astype(float)
    if probs:
        raise InputError(probs)
    parts = []
    for n, (mid, g) in enumerate(raw.groupby("meter", sort=True)):
        m = meters[mid]
        try:
            ts = to_utc(g["timestamp"], m.timezone, g["row"])
        except Rejected as exc:
            probs += [Problem(source, r, c, msg) for r, c, msg in exc.problems]
            continue
        k = m.multiplier
        if "unit" in g.columns:
            for u in pd.unique(g["unit"]):
                try:
                    f = scale(str(u), m.unit)
                except ZerocarbonError as exc:
                    probs += [Problem(source, int(r), "unit", f"{exc} (meter {mid} is in {m.unit})")
                              for r in g.loc[g["unit"] == u, "row"].head(20)]
                    continue
                g.loc[g["unit"] == u, "value"] = g.loc[g["unit"] == u, "value"] * f
        df = pd.DataFrame({"ts": ts.to_numpy(), "value": g["value"].to_numpy() * k, "row": g["row"].to_numpy()})
        # Duplicates are judged in UTC: two local "02:00" rows in a DST fall-back are different hours.
        same_time = df.duplicated("ts", keep=False)
        exact = df.duplicated(["ts", "value"], keep="first")
        clash = same_time & ~df.duplicated(["ts", "value"], keep=False)
        for r in df.loc[clash, "row"].head(50):
            probs.append(Problem(source, int(r), "value",
                                 f"{mid} at {g.loc[g['row'] == r, 'timestamp'].iloc[0]} appears with different values"))
        summary.duplicates_dropped += int(exact.sum())
        df = df[~exact]
        if m.register == "cumulative":
            df = register_to_intervals(df, m)
            summary.resets += int((df["quality"] == "reset").sum())
            summary.rollovers += int((df["quality"] == "rollover").sum())
            df = df[df["value"].notna()]
        else:
            df["ts"] = interval_start(df["ts"], m.stamp, m.interval_min)
            df["quality"] = ""
        df = df.sort_values("ts").reset_index(drop=True)
        summary.missing_intervals += int(gaps(df, m.interval_min)["missing"].sum())
        if fill:
            before = len(df)
            df = fill_linear(df, m.interval_min)
            summary.filled += int((df["quality"] == "filled").sum())
            assert len(df) >= before
        spikes = flag_spikes(df).to_numpy()
        df.loc[spikes & (df["quality"] == ""), "quality"] = "spike"
        summary.spikes += int(spikes.sum())
        df["meter"], df["site"], df["unit"] = mid, m.site, m.unit
        parts.append(df)
        summary.meters.append(mid)
        if progress:
            progress(n + 1)
    if probs:
        raise InputError(probs)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["meter", "ts", "value"])
    return out, summary


def register_meters(sessions, meters: dict[str, Meter], actor: str = "cli") -> None:
    """Store the registry in the application database (metadata beside the lake)."""
    with sessions.begin() as s:
        repos.save_meters(s, meters.values())
        repos.audit(s, actor, "meters.register", "meters", count=len(meters))


BULK_BYTES = 200 * 2**20  # files above this go through the out-of-core DuckDB path by default


def import_file(root: Path, meters: dict[str, Meter], path: str | Path, fill: bool = False,
                progress: Callable[[int], None] | None = None, engine: str = "auto") -> ImportSummary:
    """``engine``: ``pandas`` (careful path: local times with DST judgement, optional gap filling),
    ``duckdb`` (out-of-core, timestamps must carry offsets), or ``auto`` (duckdb for large files)."""
    path = Path(path)
    if engine == "auto":
        engine = "duckdb" if path.is_file() and path.stat().st_size > BULK_BYTES and not fill else "pandas"
    if engine == "duckdb":
        return _bulk(root, meters, path)
    raw = read_readings(path)
    frame, summary = normalise(raw, meters, path.name, fill, progress)
    frame["batch"] = uuid.uuid4().hex[:12]
    frame["quality"] = frame["quality"].fillna("")
    try:
        counts = lake.write(root, frame[["meter", "ts", "value", "unit", "quality", "batch", "site"]])
    except lake.LakeConflict as exc:
        raise InputError([Problem(path.name, None, "value", str(exc))]) from None
    summary.stored, summary.already_stored = counts["new"], counts["already_stored"]
    return summary


def _bulk(root: Path, meters: dict[str, Meter], path: Path) -> ImportSummary:
    registry = pd.DataFrame([{"id": m.id, "site": m.site, "unit": m.unit, "multiplier": m.multiplier,
                              "register": m.register, "stamp": m.stamp, "interval_min": m.interval_min,
                              "rollover": m.rollover} for m in meters.values()])
    registry["rollover"] = registry["rollover"].astype(float)
    units = sorted({m.unit for m in meters.values()})
    # Every unit pint can convert into a meter unit, from the common energy/volume/mass units.
    candidates = ["Wh", "kWh", "MWh", "GWh", "MJ", "GJ", "Nm3", "Sm3", "m**3", "L", "kg", "t", "scf", "万Nm3"]
    rows = []
    for to in units:
        for fr in set(candidates) | {to}:
            try:
                rows.append({"from_unit": fr, "to_unit": to, "factor": scale(fr, to)})
            except ZerocarbonError:
                pass
    try:
        res = lake_import.bulk_import(root, registry, pd.DataFrame(rows), path)
    except lake_import.BulkRejected as exc:
        raise InputError([Problem(path.name, r, c, m) for r, c, m in exc.problems]) from None
    s = ImportSummary(path.name, rows=res["rows"], stored=res["stored"], already_stored=res["already_stored"],
                      duplicates_dropped=res["duplicates_dropped"], missing_intervals=res["missing_intervals"],
                      spikes=res["spikes"], resets=res["resets"], rollovers=res["rollovers"], meters=sorted(meters))
    return s


def electricity_activity(root: Path, meters: dict[str, Meter], year: int, out: Path) -> Path:
    """Monthly kWh of the revenue meters (local months) as an electricity activity file: see
    :func:`zerocarbon.services.energy_data.electricity_activity`."""
    from zerocarbon.services import energy_data

    return energy_data.electricity_activity(root, meters, year, out)


def rollup(root: Path, meters: dict[str, Meter], by: str = "site", freq: str = "month") -> pd.DataFrame:
    """Energy per meter or site and local period: see :func:`zerocarbon.services.energy_data.rollup`."""
    from zerocarbon.services import energy_data

    return energy_data.rollup(root, meters, by, freq)


__all__ = ["import_file", "normalise", "electricity_activity", "rollup", "register_meters", "ImportSummary"]
