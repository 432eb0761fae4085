"""Write CSV and XLSX files that spreadsheet programs open safely and legibly.

Every CSV/XLSX the product writes goes through here:

- **Formula injection** (OWASP "CSV Injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return is run as a formula by Excel, LibreOffice and WPS. Such cells are written
  with a leading single quote, which those programs show as text. Numbers are not text: numeric
  columns, and text cells that are a plain decimal number such as ``-12.5``, are written unchanged.
- **Encoding**: CSV is written as UTF-8 with a byte-order mark, so Excel in Chinese shows 站点 and
  not mojibake (without a BOM it assumes the system code page, GBK).
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_ENCODING = "utf-8-sig"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_RISKY = r"[=+\-@\t\r]"


def neutralise(value):
    """``value`` with a leading quote if a spreadsheet would run it as a formula; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _risky(s: pd.Series) -> pd.Series:
    try:  # non-string cells of an object column give NaN, hence na=False
        starts = s.str.match(_RISKY, na=False)
    except AttributeError:  # an object column with no strings at all (dates, numbers)
        return pd.Series(False, index=s.index)
    return starts.astype(bool) & ~s.str.fullmatch(_PLAIN_NUMBER.pattern, na=False).astype(bool)


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (plain, Arrow-string or categorical) are neutralised.

    Vectorised per column, and per category for categoricals, so a million-row ledger costs little.
    """
    out = df.copy(deep=False)
    out.columns = [neutralise(c) if isinstance(c, str) else c for c in out.columns]
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = list(s.cat.categories)
            safe = [neutralise(c) for c in cats]
            if safe != cats:
                out.isetitem(i, s.cat.rename_categories(safe) if len(set(safe)) == len(safe)
                             else s.astype(object).map(neutralise))
        elif s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            risky = _risky(s)
            if risky.any():
                s = s.astype(object).copy()
                s[risky] = "'" + s[risky].astype(str)
                out.isetitem(i, s)
    return out


def write_csv(df: pd.DataFrame, path: str | Path, **to_csv) -> Path:
    """``df`` as CSV (UTF-8 with BOM, no index), text cells neutralised."""
    path = Path(path)
    neutralise_frame(df).to_csv(path, index=False, encoding=CSV_ENCODING, **to_csv)
    return path


def write_rows(path: str | Path, header: Iterable, rows: Iterable[Iterable]) -> Path:
    """Rows of plain values as CSV (UTF-8 with BOM), text cells neutralised; streams, no frame is built."""
    path = Path(path)
    with open(path, "w", newline="", encoding=CSV_ENCODING) as f:
        w = csv.writer(f)
        w.writerow([neutralise(h) for h in header])
        w.writerows([neutralise(v) for v in row] for row in rows)
    return path


def write_xlsx(df: pd.DataFrame, path: str | Path, sheet: str = "data") -> Path:
    """``df`` as a one-sheet XLSX workbook, text cells neutralised."""
    path = Path(path)
    neutralise_frame(df).to_excel(path, sheet_name=sheet, index=False, engine="openpyxl")
    return path


def table_bytes(df: pd.DataFrame, fmt: str, sheet: str = "data") -> bytes:
    """``df`` as the bytes of a CSV file (UTF-8 with BOM, so spreadsheet programs read Chinese right) or of a
    one-sheet XLSX workbook, text cells neutralised."""
    import io

    if fmt == "csv":
        return neutralise_frame(df).to_csv(index=False).encode(CSV_ENCODING)
    buffer = io.BytesIO()
    neutralise_frame(df).to_excel(buffer, sheet_name=sheet, index=False, engine="openpyxl")
    return buffer.getvalue()


__all__ = ["CSV_ENCODING", "FORMULA_START", "neutralise", "neutralise_frame", "table_bytes", "write_csv", "write_rows",
           "write_xlsx"]
