"""Row numbers as a spreadsheet shows a CSV file.

Every CSV reader the imports use (pandas, DuckDB, Spark) skips empty lines, and the imports number the records
they get back: header row 1, the first record row 2. Once an empty line comes before a record, that number
is one short of the row the user finds the record on. :class:`SheetRows` turns the readers' numbers into the
file's rows, from the line numbers of its empty lines.

A quoted field that holds a line break makes one record span two lines; the numbers after it stay those of a
spreadsheet (one row per record) only as long as no empty line follows it.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SheetRows:
    """``after[j]``: the reader's row number of the first record that comes after the j-th empty line."""

    after: tuple[int, ...] = ()

    @classmethod
    def from_empty_lines(cls, lines: list[int]) -> SheetRows:
        """From the 1-based line numbers of the file's empty lines, ascending."""
        return cls(tuple(line - j for j, line in enumerate(lines)))

    def __call__(self, row: int | None) -> int | None:
        """The file's row of the reader's row ``row`` (None stays None: a problem of no one row)."""
        if row is None or not self.after:
            return row
        return int(row) + bisect_right(self.after, int(row))

    def array(self, rows: np.ndarray) -> np.ndarray:
        return rows + np.searchsorted(np.asarray(self.after, dtype=np.int64), rows, side="right") if self.after \
            else rows
