"""The interval-data lake: Parquet files partitioned by site and UTC date, queried with DuckDB.

Layout: ``<root>/site=<site>/date=<YYYY-MM-DD>/readings.parquet`` with columns
``meter, ts (interval start, UTC), value, unit, quality, batch``. Writes are idempotent on (meter, ts):
an identical reading already stored is not written again; a different value for a stored (meter, ts)
is a conflict and nothing is written. All partitions of one import are prepared first and swapped in
only when every one of them is ready.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb
import pandas as pd

COLUMNS = ["meter", "ts", "value", "unit", "quality", "batch"]


class LakeConflict(ValueError):
    def __init__(self, rows: pd.DataFrame):
        self.rows = rows
        sample = "; ".join(f"{r.meter} {r.ts:%Y-%m-%d %H:%M} stored {r.value_old} vs new {r.value}"
                           for r in rows.head(5).itertuples())
        super().__init__(f"{len(rows)} reading(s) differ from what the lake holds for the same meter and time "
                         f"({sample}); nothing was written")


def partition_path(root: Path, site: str, date: str) -> Path:
    return root / f"site={site}" / f"date={date}" / "readings.parquet"


def write(root: Path, frame: pd.DataFrame) -> dict[str, int]:
    """Merge ``frame`` (columns COLUMNS + site) into the lake. Returns counts: new, already_stored."""
    root = Path(root)
    # Microsecond timestamps: the resolution DuckDB writes, so both import paths store the same type.
    frame = frame.assign(ts=frame["ts"].astype("datetime64[us]"), date=frame["ts"].dt.strftime("%Y-%m-%d"))
    staged: list[tuple[Path, Path]] = []
    new = same = 0
    try:
        for (site, date), part in frame.groupby(["site", "date"], sort=True):
            path = partition_path(root, site, date)
            part = part[COLUMNS]
            if path.exists():
                old = pd.read_parquet(path)
                merged = part.merge(old[["meter", "ts", "value"]], on=["meter", "ts"], how="left",
                                    suffixes=("", "_old"))
                clash = merged[merged["value_old"].notna() & ((merged["value"] - merged["value_old"]).abs() > 1e-9)]
                if len(clash):
                    raise LakeConflict(clash)
                fresh = part[merged["value_old"].isna().to_numpy()]
                same += len(part) - len(fresh)
                if fresh.empty:
                    continue
                out = pd.concat([old, fresh], ignore_index=True).sort_values(["meter", "ts"])
            else:
                fresh, out = part, part.sort_values(["meter", "ts"])
            new += len(fresh)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
            out.to_parquet(tmp, index=False)
            staged.append((tmp, path))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    return {"new": new, "already_stored": same}


def glob(root: Path) -> str:
    return str(Path(root) / "site=*" / "date=*" / "*.parquet")


def query(root: Path, sql: str, **params) -> pd.DataFrame:
    """Run SQL where ``readings`` is the whole lake (hive partitions site and date as columns)."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW readings AS SELECT * FROM read_parquet('{glob(root)}', hive_partitioning = true)")
    return con.execute(sql, params or None).df()


def rollup(root: Path, by: str = "meter", freq: str = "day") -> pd.DataFrame:
    """Energy per ``by`` (meter | site) and calendar ``freq`` (hour | day | month) in UTC."""
    assert by in ("meter", "site") and freq in ("hour", "day", "month")
    return query(root, f"SELECT {by}, date_trunc('{freq}', ts) AS period, unit, sum(value) AS value, "
                       f"count(*) AS intervals FROM readings GROUP BY ALL ORDER BY ALL")
