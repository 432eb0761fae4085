"""An uploaded file on disk, under the name the client gave it, for as long as a service reads it.

The services read files by path and name the file in every problem they report, so the upload keeps its own
name (its last path component only: a name like ``../../x.csv`` cannot leave the private folder).
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath

from fastapi import UploadFile

from zerocarbon.errors import InputError, Problem


def safe_name(filename: str | None) -> str:
    name = PurePosixPath(PureWindowsPath(filename or "").name).name.strip()
    if name in ("", ".", "..") or "\x00" in name or len(name) > 255:
        raise InputError([Problem("file", None, None, "the upload needs a file name such as electricity.csv "
                                                      "(its extension says how to read it)")])
    return name


@contextmanager
def spooled(upload: UploadFile) -> Iterator[Path]:
    name = safe_name(upload.filename)
    folder = Path(tempfile.mkdtemp(prefix="zerocarbon-upload-"))
    try:
        path = folder / name
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out, length=1 << 20)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
