"""Meter registry (CSV) and reading files (CSV or Parquet: meter, timestamp, value[, unit])."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from zerocarbon.core.energy.intervals import Meter
from zerocarbon.errors import InputError, Problem

REGISTRY_COLUMNS = ["id", "site", "area", "line", "asset", "medium", "unit", "multiplier", "register", "stamp",
                    "interval_min", "timezone", "rollover", "revenue"]


def read_registry(path: str | Path) -> dict[str, Meter]:
    path = Path(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    probs = [Problem(path.name, 1, c, "required column is missing") for c in ("id", "site", "unit") if c not in df]
    if probs:
        raise InputError(probs)
    out = {}
    for i, r in enumerate(df.to_dict(orient="records"), start=2):
        try:
            m = Meter(id=r["id"], site=r["site"], area=r.get("area", ""), line=r.get("line", ""),
                      asset=r.get("asset", ""), medium=r.get("medium") or "electricity", unit=r["unit"],
                      multiplier=float(r.get("multiplier") or 1), register=r.get("register") or "interval",
                      stamp=r.get("stamp") or "start", interval_min=int(r.get("interval_min") or 15),
                      timezone=r.get("timezone") or "Asia/Shanghai",
                      rollover=float(r["rollover"]) if r.get("rollover") else None,
                      revenue=str(r.get("revenue", "")).lower() in ("true", "1", "yes"))
        except ValueError as exc:
            probs.append(Problem(path.name, i, None, f"bad value: {exc}"))
            continue
        if m.register not in ("interval", "cumulative"):
            probs.append(Problem(path.name, i, "register", f"'{m.register}' is not interval or cumulative"))
        if m.stamp not in ("start", "end"):
            probs.append(Problem(path.name, i, "stamp", f"'{m.stamp}' is not start or end"))
        if m.multiplier <= 0:
            probs.append(Problem(path.name, i, "multiplier", "must be positive"))
        if m.id in out:
            probs.append(Problem(path.name, i, "id", f"meter '{m.id}' appears twice"))
        out[m.id] = m
    if probs:
        raise InputError(probs)
    return out


def read_readings(path: str | Path) -> pd.DataFrame:
    """Raw readings with a ``row`` column (spreadsheet row numbers for CSV, 1-based record for Parquet)."""
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "file not found")])
    if path.suffix.lower() == ".parquet":
        df = pd.read_parquet(path)
        df["row"] = range(1, len(df) + 1)
    else:
        try:
            df = pd.read_csv(path, dtype={"meter": str, "timestamp": str}, engine="pyarrow")
        except Exception as exc:
            raise InputError([Problem(path.name, None, None, f"cannot be read as CSV: {exc}")]) from None
        df["row"] = range(2, len(df) + 2)
    missing = [c for c in ("meter", "timestamp", "value") if c not in df.columns]
    if missing:
        raise InputError([Problem(path.name, 1, c, "required column is missing") for c in missing])
    if df.empty:
        raise InputError([Problem(path.name, None, None, "file has no readings")])
    return df
