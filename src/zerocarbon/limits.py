"""How much one request or one imported file may hold, from the environment of the server or command.

Two limits guard the importers against a file that would exhaust memory or a worker for minutes:

- ``ZEROCARBON_MAX_UPLOAD_MB`` (default 200): the largest request body the API and the pages accept, files and
  form fields together; a larger one is refused with 413 before it is read further.
- ``ZEROCARBON_MAX_ROWS`` (default 1,000,000): the most data rows one CSV/XLSX activity, target or register file
  may hold; a longer file is refused, naming the file and the limit, and nothing of it is written.

Smaller per-kind limits stay where the kind is read (a factor file 20 MB, a supplier register 5 MB, a plan
256 KB); they are all below the request limit.
"""
from __future__ import annotations

import os

from zerocarbon.errors import SettingError

MAX_UPLOAD_ENV = "ZEROCARBON_MAX_UPLOAD_MB"
MAX_ROWS_ENV = "ZEROCARBON_MAX_ROWS"
DEFAULT_MAX_UPLOAD_MB = 200
DEFAULT_MAX_ROWS = 1_000_000


def _positive(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingError(f"{name}={text!r} is not a whole number; set it to a positive number or unset it "
                         f"(default {default})") from None
    if value <= 0:
        raise SettingError(f"{name}={value} must be positive; unset it for the default {default}")
    return value


def max_upload_mb() -> int:
    """The largest request body accepted [MB]."""
    return _positive(MAX_UPLOAD_ENV, DEFAULT_MAX_UPLOAD_MB)


def max_upload_bytes() -> int:
    """The largest request body accepted [bytes]."""
    return max_upload_mb() * 2**20


def check() -> None:
    """Raise :class:`SettingError` now when a limit is set to something unusable, rather than on the first
    request or import."""
    max_upload_mb()
    max_rows()


def max_rows() -> int:
    """The most data rows (not counting the header) one imported table file may hold."""
    return _positive(MAX_ROWS_ENV, DEFAULT_MAX_ROWS)


__all__ = ["check", "DEFAULT_MAX_ROWS", "DEFAULT_MAX_UPLOAD_MB", "MAX_ROWS_ENV", "MAX_UPLOAD_ENV", "max_rows",
           "max_upload_bytes", "max_upload_mb"]
