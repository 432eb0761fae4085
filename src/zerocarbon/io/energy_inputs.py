"""Inputs of the energy analyses besides meter readings: production counts and outdoor temperature (CSV).

Production (``--production``), one row per line and interval::

    timestamp,line,units
    2025-03-03 08:00:00,SMT1,212
    2025-03-03 08:15:00,SMT1,205

``timestamp`` is the start of the counting interval: local time of the site (the meter registry's zone) or
ISO 8601 with an offset; ``line`` is a ``line`` of the meter registry; ``units`` is the count of good units
made in the interval (a number >= 0). A wide file (``timestamp`` and one column per line) is read as well.
Counts are added up into the meters' intervals; an interval with no row counts as zero output.

Temperature (``--temperature``), outdoor dry-bulb air temperature::

    timestamp,temperature[,unit]
    2025-03-03 08:00:00,11.5

in ``degC`` unless the ``unit`` column says ``degF`` or ``K`` (converted with pint); any interval
(hourly weather data is typical); it is averaged over each model interval.

Both are read as UTF-8 (with or without BOM) or GB18030/GBK, like every CSV the product reads.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zerocarbon.core.energy.intervals import Rejected, to_utc
from zerocarbon.errors import InputError, Problem, UnitError
from zerocarbon.io.meter_files import csv_encoding
from zerocarbon.units import Q_


def _read(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "file not found")])
    encoding = csv_encoding(path)
    try:
        df = pd.read_csv(path, dtype={"timestamp": str, "line": str, "unit": str}, encoding=encoding)
    except Exception as exc:  # pandas raises several parser errors; the message names the cause
        raise InputError([Problem(path.name, None, None, f"cannot be read as CSV: {exc}")]) from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError([Problem(path.name, 1, c, "required column is missing") for c in missing])
    if df.empty:
        raise InputError([Problem(path.name, None, None, "file has no rows")])
    df["row"] = range(2, len(df) + 2)
    return df


def _utc(df: pd.DataFrame, tz: str, source: str) -> pd.Series:
    bad = df["timestamp"].isna() | (df["timestamp"].astype(str).str.strip() == "")
    if bad.any():
        raise InputError([Problem(source, int(r), "timestamp", "empty") for r in df.loc[bad, "row"].head(50)])
    try:
        return to_utc(df["timestamp"], tz, df["row"])
    except Rejected as exc:
        raise exc.in_file(source) from None
    except ValueError as exc:
        raise InputError([Problem(source, None, "timestamp", f"not a date and time: {exc}")]) from None


def _numbers(df: pd.DataFrame, column: str, source: str, minimum: float | None) -> tuple[pd.Series, list[Problem]]:
    value = pd.to_numeric(df[column], errors="coerce")
    probs = [Problem(source, int(r), column, f"'{v}' is not a number")
             for r, v in df.loc[value.isna() | ~np.isfinite(value.fillna(0)), ["row", column]].head(50).itertuples(index=False)]
    if minimum is not None:
        probs += [Problem(source, int(r), column, f"{v} is below {minimum:g}")
                  for r, v in df.loc[value < minimum, ["row", column]].head(50).itertuples(index=False)]
    return value.astype(float), probs


def read_production(path: str | Path, tz: str, lines: set[str]) -> pd.DataFrame:
    """Production counts as a long frame ``ts`` (naive UTC interval start), ``line``, ``units``, ``product``.

    The long layout (timestamp,line,units) may name the product of each count in a ``product`` column; a count of
    units needs its product there. Without the column (and in the wide layout) ``product`` is ""."""
    path = Path(path)
    df = _read(path, ("timestamp",))
    long_layout = bool({"line", "units", "product"} & set(df.columns) - set(lines))
    if long_layout:
        # A misspelt column would otherwise be read as nothing: every column must be one of the layout's.
        probs = [Problem(path.name, 1, c, "required column is missing") for c in ("line", "units")
                 if c not in df.columns]
        probs += [Problem(path.name, 1, c, "not a column of production counts (timestamp, line, product, units)")
                  for c in df.columns if c not in ("timestamp", "line", "units", "product", "row")]
        if probs:
            raise InputError(probs)
    named = long_layout and "product" in df.columns
    product = (df["product"].fillna("").astype(str).str.strip() if named else pd.Series("", index=df.index))
    if not long_layout:
        # wide: one column per line
        unknown = [c for c in df.columns if c not in ("timestamp", "row") and c not in lines]
        if unknown:
            raise InputError([Problem(path.name, 1, c, "not a line of the meter registry (expected columns "
                                                       "timestamp,line,units or one column per line)")
                              for c in unknown])
        df = df.melt(id_vars=["timestamp", "row"], var_name="line", value_name="units")
    probs = [Problem(path.name, int(r), "line", f"'{v}' is not a line of the meter registry "
                                                f"({', '.join(sorted(lines)) or 'it lists no lines'})")
             for r, v in df.loc[~df["line"].isin(lines), ["row", "line"]].head(50).itertuples(index=False)]
    units, more = _numbers(df, "units", path.name, 0.0)
    probs += more
    if named:
        probs += [Problem(path.name, int(r), "product", f"empty, but the line made {u:g} units in this interval; "
                                                        "name the product")
                  for r, u in zip(df.loc[(product == "") & (units > 0), "row"].head(50),
                                  units[(product == "") & (units > 0)].head(50))]
    if probs:
        raise InputError(probs)
    ts = _utc(df.drop_duplicates("row"), tz, path.name)
    ts = df["row"].map(pd.Series(ts.to_numpy(), index=df.drop_duplicates("row")["row"].to_numpy()))
    return pd.DataFrame({"ts": ts.to_numpy(), "line": df["line"].to_numpy(), "units": units.to_numpy(),
                         "product": product.reindex(df.index, fill_value="").to_numpy()})


def read_temperature(path: str | Path, tz: str) -> pd.Series:
    """Outdoor temperature [degC] indexed by naive UTC time."""
    path = Path(path)
    df = _read(path, ("timestamp", "temperature"))
    value, probs = _numbers(df, "temperature", path.name, None)
    if probs:
        raise InputError(probs)
    if "unit" in df.columns:
        for unit in pd.unique(df["unit"].fillna("degC")):
            mask = (df["unit"].fillna("degC") == unit).to_numpy()
            try:
                value[mask] = Q_(value[mask].to_numpy(), str(unit)).to("degC").magnitude
            except (UnitError, Exception) as exc:  # pint: undefined unit or wrong dimension
                raise InputError([Problem(path.name, int(df["row"][mask].iloc[0]), "unit",
                                          f"'{unit}' is not a temperature unit (degC, degF, K): {exc}")]) from None
    ts = _utc(df, tz, path.name)
    return pd.Series(value.to_numpy(), index=pd.DatetimeIndex(ts.to_numpy(), name="ts"), name="temperature").sort_index()


__all__ = ["read_production", "read_temperature"]
