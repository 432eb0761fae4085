"""The interval-data lake: Parquet files partitioned by organisation, site and UTC month, queried with DuckDB
(or Apache Spark: the bulk definitions of ``core.bulk_sql`` run on either engine, ``store.engines``).

Layout: ``<root>/org=<organisation>/site=<site>/month=<YYYY-MM>/<file>.parquet`` (UTC months; every calendar
roll-up is cut in the site's local time, see :func:`rollup`) with columns
``meter, ts (interval start, UTC), value, unit, quality, batch``, rows sorted by meter and ts. A month folder
holds two kinds of file: ``day-<YYYY-MM-DD>.parquet``, the day file that :func:`write` (the careful import and
live readings) merges small frames into, and ``bulk-<batch>.parquet``, one per bulk import
(``store.lake_import``), so a year of readings is a few large files per site rather than one per day. Readers
glob every file of the month folders.

Site codes and meter ids are unique only within an organisation, so every function takes the organisation and
reads or writes only under its ``org=`` folder: one tenant's query cannot see another's readings. Writes are
idempotent on (meter, ts): an identical reading already stored (in any file of its month) is not written
again; a different value for a stored (meter, ts) is a conflict and nothing is written. All files of one
import are prepared first and swapped in only when every one of them is ready.

Older layouts are read and written only after their one-off move (:func:`migrate`,
``zerocarbon meters migrate-lake``): a lake without organisations (``<root>/site=...``) and one with a
folder per day (``org=/site=/date=<YYYY-MM-DD>/readings.parquet``).
"""
from __future__ import annotations

import errno
import os
import re
import uuid
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from zerocarbon.core.bulk_sql import HOLDINGS, METERS_HELD, kpis_sql, rollup_sql
from zerocarbon.store.engines import duckdb_file
from zerocarbon.errors import ConflictError, InputError, NotFoundError, Problem, StateError, StorageError

COLUMNS = ["meter", "ts", "value", "unit", "quality", "batch"]


class LakeConflict(ConflictError):
    """Readings that differ from the stored ones for the same (meter, ts): ``rows`` holds them (columns meter,
    ts, value, value_old), ``column`` is the value column and ``reason`` the sentence for the user."""

    def __init__(self, rows: pd.DataFrame):
        self.rows = rows
        sample = "; ".join(f"{r.meter} {r.ts:%Y-%m-%d %H:%M} stored {r.value_old} vs new {r.value}"
                           for r in rows.head(5).itertuples())
        self.reason = (f"{len(rows)} reading(s) differ from what the lake holds for the same meter and time "
                       f"({sample}); nothing was written")
        super().__init__(self.reason, column="value")


ORG_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: a lake named by a URI (s3a://bucket/lake, hdfs://namenode/lake, file:///data/lake, or Hadoop's file:/data/lake):
#: Spark reads it through its own file systems; this process does not. A scheme has two letters or more, so a
#: Windows drive (C:/lake) stays a folder.
LAKE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/\S+")


def is_uri(root) -> bool:
    return isinstance(root, str) and bool(LAKE_URI.fullmatch(root))


def _org_code(org: str) -> str:
    if not isinstance(org, str) or not ORG_CODE.fullmatch(org) or ".." in org:
        raise InputError([Problem("--org", None, None, f"{org!r} is not an organisation code the lake can hold "
                                                       "(letters, digits, '_', '.', '-')")])
    return org


def org_folder(root: Path, org: str) -> Path:
    """The folder of one organisation's partitions; the code must be a plain folder name."""
    return Path(root) / f"org={_org_code(org)}"


def month_folder(root: Path, org: str, site: str, month: str) -> Path:
    return org_folder(root, org) / f"site={site}" / f"month={month}"


def partitions(root: Path, org: str) -> set[tuple[str, str]]:
    """(site, month) folders of ``org`` that hold at least one file."""
    folder = org_folder(root, org)
    if not folder.is_dir():
        return set()
    return {(m.parent.name.removeprefix("site="), m.name.removeprefix("month="))
            for m in folder.glob("site=*/month=*") if next(m.glob("*.parquet"), None) is not None}


def legacy_sites(root: Path) -> list[Path]:
    """Site folders of the layout without organisation (``<root>/site=...``)."""
    root = Path(root)
    return sorted(p for p in root.glob("site=*") if p.is_dir()) if root.is_dir() else []


def refuse_legacy(root: Path) -> None:
    if legacy_sites(root):
        raise StateError(f"the lake at {root} holds readings by site only (site=/date=), the layout before "
                         "partitions carried the organisation; move them once under their organisation: "
                         f"zerocarbon meters migrate-lake --org CODE {root}")


def day_folders(root: Path, org: str) -> list[Path]:
    """Folders of the layout with one folder per day (``org=/site=/date=``)."""
    folder = org_folder(root, org)
    return sorted(p for p in folder.glob("site=*/date=*") if p.is_dir()) if folder.is_dir() else []


def refuse_days(root: Path, org: str) -> None:
    if day_folders(root, org):
        raise StateError(f"the lake at {root} holds readings of organisation {org} in one folder per day "
                         "(org=/site=/date=), the layout before month folders; move them once: "
                         f"zerocarbon meters migrate-lake --org {org} {root}")


def move_days_into_months(root: Path, org: str) -> list[str]:
    """Move every ``site=/date=<day>/readings.parquet`` of ``org`` to ``site=/month=<month>/day-<day>.parquet``
    (renames, no rewrite); returns the sites touched. An interrupted move is completed by running it again."""
    sites = []
    for day in day_folders(root, org):
        date = day.name.removeprefix("date=")
        site = day.parent.name.removeprefix("site=")
        target = month_folder(root, org, site, date[:7])
        target.mkdir(parents=True, exist_ok=True)
        for f in sorted(day.glob("*.parquet")):
            name = f"day-{date}.parquet" if f.name == "readings.parquet" else f"day-{date}-{f.name}"
            if (target / name).exists():
                raise ConflictError(f"{target / name} already exists; nothing more was moved")
            os.replace(f, target / name)
        for leftover in day.iterdir():
            leftover.unlink()
        day.rmdir()
        if site not in sites:
            sites.append(site)
    return sites


def migrate(root: Path, org: str) -> list[str]:
    """Bring the lake at ``root`` to the current layout for ``org`` (see the module docstring); returns the
    sites moved. Refuses (:class:`NotFoundError`) a lake that needs no move."""
    root = Path(root)
    moved = move_under_organisation(root, org) if legacy_sites(root) else []
    days = move_days_into_months(root, org)
    if not moved and not days:
        raise NotFoundError(f"the lake at {root} has no site= folders outside an organisation and no day folders "
                            f"of organisation {org}; nothing to move")
    return list(dict.fromkeys(moved + days))


def move_under_organisation(root: Path, org: str) -> list[str]:
    """Move every ``site=`` folder of a lake without organisation under ``org=<org>``; returns the sites moved.

    Refuses (nothing moved) when the organisation already has a folder of one of those sites, which a merge
    could double count. Each site moves by one rename, so an interrupted move is completed by running it again.
    """
    root = Path(root)
    target = org_folder(root, org)
    sites = legacy_sites(root)
    if not sites:
        raise NotFoundError(f"the lake at {root} has no site= folders outside an organisation; nothing to move")
    clash = [p.name for p in sites if (target / p.name).exists()]
    if clash:
        raise ConflictError(f"{target} already holds {', '.join(clash)}; nothing was moved (merge by re-importing "
                            "the files instead)")
    target.mkdir(parents=True, exist_ok=True)
    for p in sites:
        os.replace(p, target / p.name)
    return [p.name.removeprefix("site=") for p in sites]


def write(root: Path, org: str, frame: pd.DataFrame) -> dict[str, int]:
    """Merge ``frame`` (columns COLUMNS + site) into organisation ``org``'s part of the lake. Returns counts:
    new, already_stored."""
    root = Path(root)
    org_folder(root, org)
    refuse_legacy(root)
    refuse_days(root, org)
    if isinstance(frame["ts"].dtype, pd.DatetimeTZDtype):  # the lake holds UTC wall time
        frame = frame.assign(ts=frame["ts"].dt.tz_convert("UTC").dt.tz_localize(None))
    # Microsecond timestamps: the resolution DuckDB writes, so both import paths store the same type.
    frame = frame.assign(ts=frame["ts"].astype("datetime64[us]"), date=frame["ts"].dt.strftime("%Y-%m-%d"))
    frame["month"] = frame["date"].str[:7]
    staged: list[tuple[Path, Path]] = []
    new = same = 0
    try:
        for (site, month), part in frame.groupby(["site", "month"], sort=True):
            folder = month_folder(root, org, site, month)
            check_files(sorted(folder.glob("*.parquet")) if folder.is_dir() else [])
            stored = _stored(folder, part)
            if stored is not None:
                merged = part.merge(stored, on=["meter", "ts"], how="left", suffixes=("", "_old"))
                clash = merged[merged["value_old"].notna() & ((merged["value"] - merged["value_old"]).abs() > 1e-9)]
                if len(clash):
                    raise LakeConflict(clash)
                fresh = part[merged["value_old"].isna().to_numpy()]
                same += len(part) - len(fresh)
            else:
                fresh = part
            new += len(fresh)
            for date, rows in fresh.groupby("date", sort=True):
                path = folder / f"day-{date}.parquet"
                out = rows[COLUMNS]
                if path.exists():
                    out = pd.concat([pd.read_parquet(path)[COLUMNS], out], ignore_index=True)
                path.parent.mkdir(parents=True, exist_ok=True)
                # A file appears under its own name only when it is whole: readers glob *.parquet, never
                # the temporary name, so a write cut short (full disk, killed process) leaves nothing half-written.
                tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
                staged.append((tmp, path))
                _to_parquet(out.sort_values(["meter", "ts"]), tmp)
    except BaseException as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        if no_space(exc):
            raise disk_full(root) from None
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    return {"new": new, "already_stored": same}


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)


def no_space(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full: an OSError with that errno, or an error of
    pyarrow or DuckDB that carries only the system's text."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return isinstance(exc, (OSError, duckdb.Error)) and (os.strerror(errno.ENOSPC) in text
                                                          or os.strerror(errno.EDQUOT) in text)


def disk_full(root: Path) -> StorageError:
    return StorageError(f"the disk holding the lake folder {root} is full (no space left on device); nothing was "
                        "written to the lake. Free space on that disk (or give --lake a folder on a larger one) and "
                        "run the command again: readings already stored are recognised and not written twice.")


# --- damaged files -------------------------------------------------------------------------------------------

#: the columns readers use, with the kinds of Arrow type each may have
def _is_text(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


_REQUIRED = {"meter": _is_text, "ts": pa.types.is_timestamp,
             "value": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
             "unit": lambda t: _is_text(t) or pa.types.is_null(t),
             "quality": lambda t: _is_text(t) or pa.types.is_null(t)}
_checked: dict[tuple[str, int, int], None] = {}


def _what_to_do(path: Path) -> str:
    name = path.name
    source = (f"the bulk import of batch {name.removeprefix('bulk-').removesuffix('.parquet')}"
              if name.startswith("bulk-") else "the readings files (or live readings) of that day")
    return (f"restore the file from a backup of the lake, or move it out of the lake and import its source again "
            f"({source}) with `zerocarbon meters import` (or `zerocarbon ingest to-lake`)")


def damaged(path: Path, reason: str) -> StorageError:
    return StorageError(f"the lake file {path} is damaged ({reason}); its readings cannot be read, so nothing was "
                        f"computed from the lake. To repair it: {_what_to_do(path)}.")


def _schema_problem(path: Path) -> str | None:
    """What is wrong with a file's footer and columns (reading only the footer), or None."""
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        return f"not a readable Parquet file: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
    for name, ok in _REQUIRED.items():
        if name not in schema.names:
            return f"column '{name}' is missing; it has {', '.join(schema.names) or 'no columns'}"
        if not ok(schema.field(name).type):
            return f"column '{name}' holds {schema.field(name).type}, not what the lake stores"
    return None


def check_files(paths: list[Path]) -> None:
    """Refuse (:func:`damaged`) the first file whose footer cannot be read or whose columns are not the lake's.
    A file checked once is not read again until its size or time changes."""
    for f in paths:
        try:
            st = f.stat()
        except FileNotFoundError:
            continue
        key = (str(f), st.st_size, st.st_mtime_ns)
        if key in _checked:
            continue
        reason = _schema_problem(f)
        if reason:
            raise damaged(f, reason)
        if len(_checked) > 100_000:
            _checked.clear()
        _checked[key] = None


def _find_damaged(paths: list[Path]) -> StorageError | None:
    """After a failed read: the first file whose data cannot be read whole (a footer may be intact while the
    pages it points to are not), as the error to raise."""
    for f in paths:
        reason = _schema_problem(f)
        if reason is None:
            try:
                pq.read_table(f, columns=list(_REQUIRED))
            except (OSError, pa.ArrowException) as exc:
                reason = f"its data cannot be read: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
        if reason:
            return damaged(f, reason)
    return None


def files(root: Path, org: str, sites: list[str] | None = None, months: list[str] | None = None) -> list[Path]:
    """The Parquet files of ``org``'s part of the lake; only those of ``sites`` and UTC ``months`` when given."""
    folder = org_folder(root, org)
    if not folder.is_dir():
        return []
    every = sorted(folder.glob("site=*/month=*/*.parquet"))
    if sites is not None:
        wanted = {f"site={s}" for s in sites}
        every = [f for f in every if f.parent.parent.name in wanted]
    if months is not None:
        wanted = {f"month={m}" for m in months}
        every = [f for f in every if f.parent.name in wanted]
    return every


def utc_months(start: pd.Timestamp | None, end: pd.Timestamp | None, margin_days: int = 1) -> list[str] | None:
    """The UTC month folders that can hold readings of local times from ``start`` to ``end`` (naive; a zone is
    at most 14 h from UTC, and ``margin_days`` more covers shifts past the end), or None when either is open."""
    if start is None or end is None:
        return None
    lo = pd.Timestamp(start) - pd.Timedelta(days=margin_days)
    hi = pd.Timestamp(end) + pd.Timedelta(days=margin_days)
    return [str(p) for p in pd.period_range(lo, hi, freq="M")]


def _stored(folder: Path, part: pd.DataFrame) -> pd.DataFrame | None:
    """What the files of one month folder hold for the meters and time span of ``part`` (meter, ts, value_old),
    or None for an empty folder. Files are sorted by meter and ts, so the row-group statistics skip most of
    a large bulk file."""
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return None
    con = duckdb.connect()
    try:
        con.register("wanted", pd.DataFrame({"meter": part["meter"].astype(str).unique()}, dtype=object))
        return con.execute("""SELECT meter, ts, value AS value_old FROM read_parquet($files)
                              WHERE ts BETWEEN $lo AND $hi AND meter IN (SELECT meter FROM wanted)""",
                           {"files": [duckdb_file(f) for f in files], "lo": part["ts"].min().to_pydatetime(),
                            "hi": part["ts"].max().to_pydatetime()}).df()
    except duckdb.Error:
        found = _find_damaged(files)
        if found is not None:
            raise found from None
        raise
    finally:
        con.close()


def glob(root: Path, org: str) -> str:
    return str(org_folder(root, org) / "site=*" / "month=*" / "*.parquet")


def has_readings(root: Path, org: str) -> bool:
    folder = org_folder(root, org)
    return folder.is_dir() and next(folder.glob("site=*/month=*/*.parquet"), None) is not None


def require(root: Path | str, org: str) -> Path | str:
    """The lake folder holding readings of ``org``, or a :class:`NotFoundError` that names it and says how to
    fill it (a :class:`StateError` for a lake still laid out without organisation). A URI (text, kept as such: a
    path would fold its ``//``) is returned as it is; Spark lists it when the query runs."""
    if is_uri(root):  # listed and read by Spark, which says what it does not find
        _org_code(org)
        return root.rstrip("/")
    root = Path(root)
    fill = f"import readings first: zerocarbon meters import REGISTRY READINGS --org {org} --lake {root}"
    if not root.is_dir():
        raise NotFoundError(f"no meter-data lake at {root}; {fill}")
    refuse_legacy(root)
    refuse_days(root, org)
    if not has_readings(root, org):
        raise NotFoundError(f"the lake at {root} holds no readings of organisation {org}; {fill}")
    return root


def query(root: Path, org: str, sql: str, frames: dict[str, pd.DataFrame] | None = None, engine=None,
          sites: list[str] | None = None, months: list[str] | None = None, **params) -> pd.DataFrame:
    """Run a ``core.bulk_sql`` definition where ``readings`` is organisation ``org``'s part of the lake (hive
    partitions site and month as columns) and each of ``frames`` is a table of its name (meter lists, time
    zones), so no value is pasted into the SQL. ``engine`` (``store.engines``; DuckDB by default) runs it;
    whichever runs it, a damaged file stops the query with the file's name.

    ``sites`` and ``months`` (UTC) narrow the files read to those partitions: a query of one site and month
    neither reads nor checks the rest of the lake. They only ever leave out files the query cannot use."""
    from zerocarbon.store.engines import DuckDBEngine, Readings

    engine = engine or DuckDBEngine()
    if is_uri(root):
        return _query_uri(root, org, sql, frames, engine, sites, months, params)
    require(root, org)
    every = files(root, org, sites, months)
    if not every:  # nothing in those partitions: the query runs on the whole lake and finds nothing there
        every = files(root, org)
    check_files(every)
    try:
        return engine.run(Readings([str(f) for f in every], str(org_folder(root, org))), sql, frames or {}, params)
    except engine.errors as exc:
        # A damaged file must stop the query with its name: skipping it would report too little energy.
        found = _find_damaged(every)
        if found is not None:
            raise found from None
        if engine.io_error(exc):
            raise StorageError(f"the lake at {root} cannot be read: {exc}") from None
        raise


def _query_uri(root: str, org: str, sql: str, frames, engine, sites, months, params) -> pd.DataFrame:
    """:func:`query` of a lake at a URI: Spark lists the organisation's folder there and keeps the partitions of
    ``sites`` and ``months``. The local checks (layout, damaged files) are Spark's reading errors here."""
    from zerocarbon.store.engines import Readings

    if engine.name != "spark":
        raise InputError([Problem("--lake", None, None, f"{root} is a URI: a lake there is read by Apache Spark "
                                                        "only; add --engine spark, or mount the store and give its "
                                                        "folder")])
    base = f"{root}/org={_org_code(org)}"
    try:
        return engine.run(Readings([base], base, sites, months), sql, frames or {}, params)
    except engine.errors as exc:
        text = str(exc).strip()
        if "PATH_NOT_FOUND" in text or "Path does not exist" in text or "UNABLE_TO_INFER_SCHEMA" in text:
            raise NotFoundError(f"the lake at {root} holds no readings of organisation {org} ({base} is missing "
                                "or empty); import readings into a lake folder and copy it there") from None
        # A damaged file must stop the query with its name (skipping it would report too little energy); Spark
        # names it in the root cause of its Java error.
        raise StorageError(f"the lake at {root} cannot be read: {root_cause(text)}; nothing was written. A damaged "
                           "file there: restore it from a backup of the lake, or remove it and import its source "
                           "again into a lake folder, then copy the partition over") from None


def root_cause(text: str) -> str:
    """The last ``Caused by:`` of a Java error, without the exception's class; else its first line."""
    causes = [line.strip().removeprefix("Caused by:").strip() for line in text.splitlines()
              if line.strip().startswith("Caused by:")]
    if not causes:
        return text.splitlines()[0].rstrip(". ") if text else "unknown error"
    return re.sub(r"^[\w.$]+(Exception|Error):\s*", "", causes[-1]).rstrip(". ")


def meters_held(root: Path, org: str, sites: list[str] | None = None, months: list[str] | None = None,
                engine=None) -> pd.DataFrame:
    """The meters with readings in ``org``'s lake (of ``sites`` and UTC ``months`` when given): site, meter.
    One column is read."""
    return query(root, org, METERS_HELD, engine=engine, sites=sites, months=months).sort_values(
        ["site", "meter"], ignore_index=True)


def holdings(root: Path, org: str, engine=None) -> pd.DataFrame:
    """What the lake holds of ``org``: per site and meter, the first and last interval start (UTC) and the count."""
    return query(root, org, HOLDINGS, engine=engine).sort_values(["site", "meter"], ignore_index=True)


def intervals(root: Path, org: str, meters: list[str], start: pd.Timestamp | None = None,
              end: pd.Timestamp | None = None, engine=None) -> pd.DataFrame:
    """Readings of ``org``'s ``meters`` with ``start <= ts < end`` (naive UTC; either bound may be open):
    columns meter, ts, value, unit, quality."""
    where = ["ts >= :start" if start is not None else "", "ts < :end" if end is not None else ""]
    cond = " AND ".join(["meter IN (SELECT meter FROM wanted)"] + [w for w in where if w])
    params = _bounds(start, end)
    df = query(root, org, f"SELECT meter, ts, value, unit, quality FROM readings WHERE {cond}",
               frames={"wanted": pd.DataFrame({"meter": list(meters)}, dtype=object)}, engine=engine, **params)
    return df.sort_values(["meter", "ts"], ignore_index=True)


def rollup(root: Path, org: str, zones: pd.DataFrame, by: str = "meter", freq: str = "day",
           start: pd.Timestamp | None = None, end: pd.Timestamp | None = None, engine=None,
           sites: list[str] | None = None) -> pd.DataFrame:
    """Energy of ``org``'s meters per ``by`` (meter | site) and ``freq`` (hour | day | month) of each meter's
    local calendar (``core.bulk_sql.ROLLUP``, run by ``engine``: DuckDB unless given).

    ``zones`` has one row per meter to include: ``meter, site, timezone``. Periods are cut in the zone of
    the meter's site, so a reading at 2025-12-31 17:00 UTC belongs to 1 January in Shanghai. Hours keep
    their UTC offset, so the two 02:00 hours of a DST fall-back stay apart. ``start``/``end`` bound the
    interval starts in the meter's local time (naive), so a local year is exactly that year.
    Columns: by, timezone, period (local start, ISO text), unit, value, intervals.
    """
    params = _bounds(start, end)
    df = query(root, org, rollup_sql(by, freq, start is not None, end is not None),
               frames={"zones": zones[["meter", "site", "timezone"]].astype(object)}, engine=engine,
               sites=sorted(set(sites)) if sites is not None else None,
               months=utc_months(start, end), **params)
    df = df.sort_values([by, "first", "unit"], ignore_index=True)
    if freq == "hour":
        # the offset comes from each reading, so it is constant within a local hour; keep it in the text
        df["period"] = [p.isoformat() + _offset(pd.Timedelta(minutes=int(o)))
                        for p, o in zip(df["period"], df["utc_offset_min"])]
    else:
        df = df.groupby([by, "timezone", "period", "unit"], as_index=False, sort=True)[["value", "intervals"]].sum()
        df["period"] = df["period"].dt.strftime("%Y-%m-%d")
    df["intervals"] = df["intervals"].astype("int64")
    return df[[by, "timezone", "period", "unit", "value", "intervals"]]


def kpis(root: Path, org: str, zones: pd.DataFrame, production: pd.DataFrame, shifts, freq: str = "day",
         start: pd.Timestamp | None = None, end: pd.Timestamp | None = None, engine=None) -> pd.DataFrame:
    """Energy and units produced per site, line, shift and local day or month (``core.bulk_sql.KPIS``).

    ``zones``: meter, site, timezone, line; ``production``: site, line, timezone, ts (naive UTC), units and,
    optional, product; ``shifts``: (name, start hour, end hour) of local time. Columns: site, line, shift, period
    (local date of the shift's first day, ISO text), unit, value, intervals, units (NaN where nothing was
    recorded), product ("" where the counts name none; a row per product made, each with the line's energy).
    """
    params = _bounds(start, end)
    made = production.assign(ts=pd.to_datetime(production["ts"]).dt.strftime("%Y-%m-%d %H:%M:%S"))
    if "product" not in made:
        made["product"] = ""
    frames = {"zones": zones[["meter", "site", "timezone", "line"]].astype(object),
              "production": made[["site", "line", "timezone", "ts", "units", "product"]].astype(object).astype(str),
              "shifts": pd.DataFrame([(n, str(a), str(b)) for n, a, b in shifts], columns=["name", "a", "b"])}
    df = query(root, org, kpis_sql(freq, start is not None, end is not None), frames=frames, engine=engine,
               sites=sorted(set(zones["site"])), months=utc_months(start, end, margin_days=2), **params)
    df["units"] = pd.to_numeric(df["units"])
    df["product"] = df["product"].fillna("").astype(str)
    df["intervals"] = df["intervals"].astype("int64")
    df["period"] = pd.to_datetime(df["period"]).dt.strftime("%Y-%m-%d")
    return df.sort_values(["site", "line", "period", "shift", "product", "unit"], ignore_index=True)[
        ["site", "line", "shift", "period", "product", "unit", "value", "intervals", "units"]]


def _bounds(start: pd.Timestamp | None, end: pd.Timestamp | None) -> dict:
    """The ``:start``/``:end`` parameters of a definition, for the bounds that are given."""
    return {k: v.to_pydatetime() for k, v in (("start", start), ("end", end)) if v is not None}


def _offset(delta: pd.Timedelta) -> str:
    minutes = int(pd.Timedelta(delta).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
