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

from zerocarbon.core.energy.intervals import (DEFAULT_PROFILE, Changed, Meter, MeterFileProfile, Rejected, Stamps,
                                              fill_linear, flag_spikes, gaps, grid_reason, interval_start, localise,
                                              off_grid, changed_reason,
                                              order_problems, parse_stamps, reading_problems,
                                              register_to_intervals)
from zerocarbon.errors import InputError, Problem
from zerocarbon.io import meter_files
from zerocarbon.io.meter_files import PROFILE_HINT, csv_encoding, read_readings, sheet_rows, transcode_to_utf8
from zerocarbon.store import lake, lake_import, repos


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
    profile: str = "default"

    @property
    def filled_share(self) -> float:
        return self.filled / self.stored if self.stored else 0.0


def normalise(raw: pd.DataFrame, meters: dict[str, Meter], source: str, fill: bool = False,
              progress: Callable[[int], None] | None = None,
              profile: MeterFileProfile = DEFAULT_PROFILE) -> tuple[pd.DataFrame, ImportSummary]:
    """Validate and normalise raw readings (:func:`zerocarbon.io.meter_files.read_readings`) into interval
    energy per (meter, interval start in UTC). Every problem of the file is collected, then raised."""
    summary = ImportSummary(source, rows=len(raw), profile=profile.name)
    col = profile.column
    raw = raw.copy()
    raw["meter"] = raw["meter"].astype(str)
    value, found = reading_problems(raw, meters)
    probs = [Problem(source, int(raw.at[i, "row"]), col(c), why) for i, c, why in found]
    stamps = parse_stamps(raw["timestamp"], profile)
    probs += [Problem(source, int(raw.at[i, "row"]), col("timestamp"), why)
              for i, why in stamps.problem[stamps.problem != ""].items()]
    if probs:
        raise InputError(sorted(probs, key=lambda p: p.row or 0))
    raw["value"] = value
    parts = []
    for n, (mid, g) in enumerate(raw.groupby("meter", sort=True)):
        m = meters[mid]
        tz, stamp = profile.timezone or m.timezone, profile.stamp or m.stamp
        sub = Stamps(stamps.ts[g.index], stamps.exact[g.index], stamps.problem[g.index])
        try:
            ts = localise(sub, tz, g["row"])
        except Rejected as exc:
            probs += exc.in_file(source, col).problems
            continue
        probs += [Problem(source, r, col("timestamp"), why)
                  for r, why in order_problems(ts, sub.ts, g["timestamp"], g["row"])]
        df = pd.DataFrame({"ts": ts.to_numpy(), "value": g["value"].to_numpy() * m.multiplier,
                           "row": g["row"].to_numpy()})
        # a register reading closes its interval, an interval stamp opens or closes one: either way the stamp
        # lies on the grid exactly when the interval start does
        start = interval_start(df["ts"], stamp, m.interval_min) if m.register == "interval" else df["ts"]
        bad, local = off_grid(start.to_numpy(), m.timezone, m.interval_min)
        probs += [Problem(source, int(r), col("timestamp"), grid_reason(t, m.interval_min, m.timezone))
                  for r, t in zip(df["row"].to_numpy()[bad], local[bad])]
        # Duplicates are judged in UTC: two local "02:00" rows in a DST fall-back are different hours.
        same_time = df.duplicated("ts", keep=False)
        exact = df.duplicated(["ts", "value"], keep="first")
        clash = same_time & ~df.duplicated(["ts", "value"], keep=False)
        for r in df.loc[clash, "row"].head(50):
            probs.append(Problem(source, int(r), col("value"),
                                 f"{mid} at {g.loc[g['row'] == r, 'timestamp'].iloc[0]} appears with different values"))
        summary.duplicates_dropped += int(exact.sum())
        df = df[~exact]
        if m.register == "cumulative":
            df = register_to_intervals(df, m)
            summary.resets += int((df["quality"] == "reset").sum())
            summary.rollovers += int((df["quality"] == "rollover").sum())
            df = df[df["value"].notna()]
        else:
            df["ts"] = interval_start(df["ts"], stamp, m.interval_min)
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
        if profile.keep:
            kept = g.set_index("row")[list(profile.keep)]
            df = df.join(kept, on="row")
        parts.append(df)
        summary.meters.append(mid)
        if progress:
            progress(n + 1)
    if probs:
        raise InputError(probs)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["meter", "ts", "value"])
    return out, summary


def read_registry(path: str | Path) -> dict[str, Meter]:
    """The meter registry file (CSV): every meter's site, line, unit, register, stamp and time zone."""
    return meter_files.read_registry(path)


def read_profile(path: str | Path | None) -> MeterFileProfile:
    """A meter-file profile (YAML), or the default layout ``meter, timestamp, value[, unit]`` for None."""
    return meter_files.read_profile(path)


def _check_profile_meter(profile: MeterFileProfile, meters: dict[str, Meter]) -> None:
    if profile.meter_id is not None and profile.meter_id not in meters:
        raise InputError([Problem(f"profile {profile.name}", None, "meter.id",
                                  f"meter '{profile.meter_id}' is not in the meter registry")])


def registry_problems(meters: dict[str, Meter], sites: dict[str, str], org: str,
                      source: str = "meter registry") -> list[Problem]:
    """A registry against its organisation: every meter at one of the organisation's sites (else a lake
    folder for a site nobody reports on), in that site's time zone (else its rollups show the site twice).
    Rows are counted as ``read_registry`` reads them, in file order below the header (row 1)."""
    probs = []
    known = ", ".join(sites) or "none"
    for row, m in enumerate(meters.values(), start=2):
        if m.site not in sites:
            probs.append(Problem(source, row, "site", f"meter {m.id}: site '{m.site}' is not a site of organisation "
                                                      f"{org} (its sites: {known})"))
        elif m.timezone != sites[m.site]:
            probs.append(Problem(source, row, "timezone", f"meter {m.id}: time zone {m.timezone} differs from "
                                                          f"{sites[m.site]}, the time zone of its site {m.site}; "
                                                          f"give the site's zone (or correct the organisation file)"))
    return probs


def register_meters(sessions, org: str, meters: dict[str, Meter], *, actor: str,
                    source: str = "meter registry") -> None:
    """Store organisation ``org``'s registry in the application database (metadata beside the lake), once
    every meter is checked against the organisation's sites (:func:`registry_problems`); nothing is stored
    when one is refused."""
    with sessions.begin() as s:
        org_id = repos.organisation_id(s, org)
        probs = registry_problems(meters, repos.site_zones(s, org_id), org, source)
        if probs:
            raise InputError(probs)
        repos.save_meters(s, org_id, meters.values())
        repos.audit(s, actor, "meters.register", "meters", org_id, count=len(meters))


def organisations(sessions) -> list[str]:
    """Codes of the organisations in the database."""
    with sessions.begin() as s:
        return list(repos.organisation_codes(s))


def migrate_lake(root: Path, org: str) -> list[str]:
    """Bring a lake of an older layout (by site only, ``site=/date=``, or with one folder per day,
    ``org=/site=/date=``) to ``org=/site=/month=``, once; returns the sites moved. See
    :func:`zerocarbon.store.lake.migrate`."""
    return lake.migrate(Path(root), org)


BULK_BYTES = 200 * 2**20  # files above this go through the out-of-core DuckDB path by default


def import_file(root: Path, org: str, meters: dict[str, Meter], path: str | Path, fill: bool = False,
                progress: Callable[[int], None] | None = None, engine: str = "auto",
                profile: MeterFileProfile = DEFAULT_PROFILE, spark_master: str | None = None) -> ImportSummary:
    """Import one readings file of organisation ``org`` into the lake at ``root``, all or nothing.

    ``profile`` says how the file is laid out (:func:`zerocarbon.io.meter_files.read_profile`). ``engine``:
    ``pandas`` (careful path: resolves a repeated DST hour by file order, optional gap filling), ``duckdb``
    (one streaming pass in bounded memory, same rules and lake; refuses local stamps inside a clock change),
    or ``auto`` (duckdb for large files); ``spark`` runs the rules of the duckdb path as one definition over the
    whole file on Apache Spark (``spark_master``: docs/spark.md), with the same problems and the same lake files.
    """
    path = Path(path)
    _check_profile_meter(profile, meters)
    if path.is_file() and path.stat().st_size == 0:  # said plainly, on every engine, not as missing columns
        raise InputError([Problem(path.name, None, None, "file is empty")])
    if spark_master and engine != "spark":
        raise InputError([Problem("--spark-master", None, None, "a Spark master is given but --engine is "
                                                                f"{engine}; add --engine spark")])
    if engine == "auto":
        engine = "duckdb" if path.is_file() and path.stat().st_size > BULK_BYTES and not fill else "pandas"
    if fill and engine != "pandas":
        raise InputError([Problem("--fill", None, None, f"gap filling is done by --engine pandas; --engine {engine} "
                                                        "stores the readings as they are")])
    if engine in ("duckdb", "spark"):
        return _bulk(root, org, meters, path, profile, engine, spark_master)
    raw = read_readings(path, profile)
    frame, summary = normalise(raw, meters, path.name, fill, progress, profile)
    frame["batch"] = uuid.uuid4().hex[:12]
    frame["quality"] = frame["quality"].fillna("")
    try:
        counts = lake.write(root, org, frame[["meter", "ts", "value", "unit", "quality", "batch", "site", "row"]])
    except lake.LakeConflict as exc:
        raise InputError([_changed(exc.rows, raw, meters, path.name, profile)]) from None
    summary.stored, summary.already_stored = counts["new"], counts["already_stored"]
    return summary


def _changed(rows: pd.DataFrame, raw: pd.DataFrame, meters: dict[str, Meter], source: str,
             profile: MeterFileProfile) -> Problem:
    """A lake conflict of the careful path, by the file's rows (``rows``: the clashing intervals with the
    ``row`` they come from; ``raw``: the file as read)."""
    by_row = raw.set_index("row")
    out = []
    for r in rows.sort_values("row").head(5).itertuples():
        m = meters[r.meter]
        row = int(r.row)
        own = m.register == "interval"
        out.append(Changed(m, r.ts, float(r.value_old), float(r.value), row if own else None,
                           str(by_row.at[row, "timestamp"]) if own else None,
                           float(by_row.at[row, "value"]) if own else None,
                           str(by_row.at[row, "unit"]) if own and "unit" in by_row else None))
    return Problem(source, out[0].row if len(rows) == 1 else None, profile.column("value"),
                   changed_reason(out, len(rows)))


def _bulk(root: Path, org: str, meters: dict[str, Meter], path: Path, profile: MeterFileProfile, engine: str,
          spark_master: str | None) -> ImportSummary:
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "file not found")])
    source, copy = path, None
    if path.suffix.lower() != ".parquet":
        encoding = csv_encoding(path, profile.encoding, PROFILE_HINT)
        if encoding.replace("_", "-").lower() not in ("utf-8-sig", "utf-8", "utf8"):
            # DuckDB reads CSV as UTF-8 only: a GBK export goes through a UTF-8 copy beside the lake, line for
            # line, so the row numbers in messages stay those of the user's file.
            created = not root.exists()
            root.mkdir(parents=True, exist_ok=True)
            copy = root / f".utf8-{uuid.uuid4().hex[:12]}-{path.stem}.csv"
            try:
                source = transcode_to_utf8(path, encoding, copy)
            except OSError as exc:
                copy.unlink(missing_ok=True)
                if lake.no_space(exc):
                    raise lake.disk_full(root) from None
                raise
    try:
        if engine == "spark":
            from zerocarbon.store import engine_import, engines

            res = engine_import.engine_import(root, org, meters, source, engines.engine("spark", spark_master),
                                              profile, sheet=sheet_rows(path))
        else:
            res = lake_import.bulk_import(root, org, meters, source, profile, sheet=sheet_rows(path))
    except lake_import.BulkRejected as exc:
        raise exc.in_file(path.name) from None
    finally:
        if copy is not None:
            copy.unlink(missing_ok=True)
            if created:  # a refused first import leaves no empty lake folder behind
                try:
                    root.rmdir()
                except OSError:
                    pass
    return ImportSummary(path.name, rows=res["rows"], stored=res["stored"], already_stored=res["already_stored"],
                         duplicates_dropped=res["duplicates_dropped"], missing_intervals=res["missing_intervals"],
                         spikes=res["spikes"], resets=res["resets"], rollovers=res["rollovers"],
                         meters=sorted(meters), profile=profile.name)


__all__ = ["import_file", "normalise", "register_meters", "read_registry", "read_profile", "ImportSummary",
           "organisations", "migrate_lake"]
