"""Meter registry (CSV), meter-file profiles (YAML) and reading files (CSV or Parquet, laid out as a profile
says; by default ``meter, timestamp, value[, unit]``).

CSV text is read as UTF-8 (with or without BOM) or, failing that, GB18030 — the superset of GBK, the code
page in which Excel and SCADA exports on Chinese Windows save "CSV" — the same rule as activity files; a
profile's ``encoding`` names it outright.
"""
from __future__ import annotations

import codecs
import mmap
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticUseDefault

from zerocarbon.core import safe_yaml
from zerocarbon.core.energy.intervals import DEFAULT_PROFILE, Meter, MeterFileProfile
from zerocarbon.core.sheet_rows import SheetRows
from zerocarbon.errors import InputError, Problem, ZerocarbonError
from zerocarbon.io.models import finite_number, problems_from, reason
from zerocarbon.units import parse_unit

CSV_ENCODINGS = ("utf-8-sig", "gb18030")
_CHUNK = 1 << 24  # bytes per read while checking or transcoding: large files stream in bounded memory


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def csv_encoding(path: str | Path, declared: str | None = None, hint: str = "") -> str:
    """The text encoding of the CSV at ``path``: ``declared`` (checked against the whole file), else the
    first of UTF-8 (BOM or not) and GB18030 in which the whole file decodes. Raises :class:`InputError`
    naming the file when none fits; ``hint`` is added to that message (where else to declare it)."""
    path = Path(path)
    with path.open("rb") as f:
        head = f.read(2)
    if head in (b"\xff\xfe", b"\xfe\xff") and not (declared and declared.lower().startswith("utf")):
        raise InputError([Problem(path.name, None, None, "file is UTF-16 (Excel 'Unicode text'); save it as "
                                                         f"'CSV UTF-8'{hint}")])
    if declared:
        if not _decodes(path, declared):
            raise InputError([Problem(path.name, None, None, f"text is not valid {declared}, the encoding the "
                                                             "profile declares; fix the profile or re-export "
                                                             "the file")])
        return declared
    for encoding in CSV_ENCODINGS:
        if _decodes(path, encoding):
            return encoding
    raise InputError([Problem(path.name, None, None, f"text is neither UTF-8 nor GB18030/GBK; save it as "
                                                     f"'CSV UTF-8'{hint}")])


def sheet_rows(path: str | Path) -> SheetRows:
    """How the readers' row numbers of the CSV at ``path`` map to its own rows (none for Parquet): from the
    line numbers of its empty lines, which the readers skip. Most files have none; one search of the file,
    at memory speed, tells, and only a file that has some is read line by line."""
    path = Path(path)
    if path.suffix.lower() == ".parquet" or path.stat().st_size == 0:
        return SheetRows()
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        # an empty line is two line ends in a row, written as the file's first line ends
        crlf = m.find(b"\r\n", 0, max(m.find(b"\n") + 1, 0)) >= 0
        if not (m[:1] == b"\n" or m[:2] == b"\r\n" or m.find(b"\n\r\n" if crlf else b"\n\n") >= 0):
            return SheetRows()
    with path.open("rb") as f:
        return SheetRows.from_empty_lines([n for n, line in enumerate(f, 1) if line in (b"\n", b"\r\n")])


PROFILE_HINT = " or name its encoding in the meter-file profile (encoding: ...)"


def transcode_to_utf8(path: str | Path, encoding: str, dest: str | Path) -> Path:
    """Copy the CSV at ``path`` (text in ``encoding``) to ``dest`` as UTF-8, streaming; lines are kept as
    they are, so row numbers stay those of the original file."""
    dest = Path(dest)
    with open(path, encoding=encoding, newline="") as src, open(dest, "w", encoding="utf-8", newline="") as out:
        for chunk in iter(lambda: src.read(_CHUNK), ""):
            out.write(chunk)
    return dest


def _given(value):
    """A blank cell takes the column's default."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PydanticUseDefault()
    return value.strip() if isinstance(value, str) else value


def _required(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        raise reason("required", "value is required")
    return value.strip() if isinstance(value, str) else value


def _one_of(*allowed: str):
    def check(value):
        if value not in allowed:
            raise reason("choice", f"'{value}' is not {' or '.join(allowed)}")
        return value
    return AfterValidator(check)


def _positive(what: str):
    def check(value):
        if not value > 0:
            raise reason("positive", what)
        return value
    return AfterValidator(check)


def _whole(value):
    number = finite_number(value)
    if number % 1:
        raise reason("whole_number", f"'{value}' is not a whole number")
    return int(number)


def _unit(value):
    try:
        parse_unit(value)
    except ZerocarbonError as exc:
        raise reason("unit", str(exc)) from None
    return value


def _zone(value):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise reason("timezone", f"'{value}' is not an IANA time zone (e.g. Asia/Shanghai)") from None
    return value


Cell = BeforeValidator(_given)


class MeterRow(BaseModel):
    """One row of the meter registry CSV; a blank optional cell takes the default."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, BeforeValidator(_required)] = Field(description="meter id, as the reading files name it")
    site: Annotated[str, BeforeValidator(_required)] = Field(description="site code of the organisation file")
    area: Annotated[str, Cell] = ""
    line: Annotated[str, Cell] = Field("", description="production line; production counts refer to it")
    asset: Annotated[str, Cell] = ""
    medium: Annotated[str, Cell] = Field("electricity", description="electricity | gas | water | air | pv")
    unit: Annotated[str, AfterValidator(_unit), BeforeValidator(_required)] = Field(description="unit of the values")
    multiplier: Annotated[float, _positive("must be positive"), BeforeValidator(finite_number), Cell] = Field(
        1.0, description="CT ratio x PT ratio")
    register_: Annotated[str, _one_of("interval", "cumulative"), Cell] = Field(  # BaseModel has a "register"
        "interval", alias="register", description="interval (consumption per interval) | cumulative (meter index)")
    stamp: Annotated[str, _one_of("start", "end"), Cell] = Field("start", description="what a timestamp marks")
    interval_min: Annotated[int, _positive("must be a positive number of minutes"), BeforeValidator(_whole), Cell] = 15
    timezone: Annotated[str, AfterValidator(_zone), Cell] = "Asia/Shanghai"
    rollover: Annotated[float | None, BeforeValidator(finite_number), Cell] = Field(
        None, description="register maximum of a cumulative meter")
    revenue: Annotated[bool, BeforeValidator(lambda v: str(v).strip().lower() in ("true", "1", "yes")), Cell] = Field(
        False, description="the utility's billing meter: it, not sub-meters, feeds Scope 2")

    def meter(self) -> Meter:
        return Meter(**self.model_dump(by_alias=True))


REGISTRY_COLUMNS = [f.alias or name for name, f in MeterRow.model_fields.items()]


def read_registry(path: str | Path) -> dict[str, Meter]:
    """The meter registry CSV (UTF-8 or GB18030/GBK) as meters by id; every bad row is reported."""
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "meter registry file not found")])
    encoding = csv_encoding(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError([Problem(path.name, None, None, f"cannot be read as CSV: {exc}")]) from None
    probs = [Problem(path.name, 1, c, "required column is missing") for c in ("id", "site", "unit") if c not in df]
    if probs:
        raise InputError(probs)
    out = {}
    # Columns other than the registry's (an asset database's own) are left out, not refused.
    known = df[[c for c in df.columns if c in REGISTRY_COLUMNS]]
    for i, r in enumerate(known.to_dict(orient="records"), start=2):
        try:
            m = MeterRow.model_validate(r).meter()
        except ValidationError as exc:
            probs += problems_from(exc, path.name, i)
            continue
        if m.id in out:
            probs.append(Problem(path.name, i, "id", f"meter '{m.id}' appears twice"))
        out[m.id] = m
    if probs:
        raise InputError(probs)
    return out


PROFILE_KEYS = {
    "version": None,
    "name": None,
    "timestamp": {"column", "format", "marks", "timezone", "midnight"},
    "value": {"column", "unit", "unit_column"},
    "meter": {"column", "id"},
    "keep": None,
    "encoding": None,
}


def read_profile(path: str | Path | None) -> MeterFileProfile:
    """A meter-file profile (YAML; see docs/ingest.md). ``None`` gives the default layout
    ``meter, timestamp, value[, unit]`` with ISO 8601 stamps."""
    if path is None:
        return DEFAULT_PROFILE
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "profile file not found")])
    try:
        doc = safe_yaml.load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError([Problem(path.name, None, None, f"is not UTF-8 text (byte {exc.start}); save the "
                                                         "profile as UTF-8")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(path.name, None, None, f"not valid YAML: {exc}")]) from None
    if not isinstance(doc, dict):
        raise InputError([Problem(path.name, None, None, "a profile is a YAML mapping (see docs/ingest.md)")])
    probs = []

    def bad(key: str, reason: str) -> None:
        probs.append(Problem(path.name, None, key, reason))

    for k, v in doc.items():
        if k not in PROFILE_KEYS:
            bad(k, f"unknown key; expected one of {', '.join(PROFILE_KEYS)}")
        elif PROFILE_KEYS[k] is not None:
            if not isinstance(v, dict):
                bad(k, "must be a mapping")
                continue
            for sub in v:
                if sub not in PROFILE_KEYS[k]:
                    bad(f"{k}.{sub}", f"unknown key; expected one of {', '.join(sorted(PROFILE_KEYS[k]))}")
    if doc.get("version", 1) != 1:
        bad("version", f"profile version {doc.get('version')!r} is not supported (1)")
    ts = doc.get("timestamp") if isinstance(doc.get("timestamp"), dict) else {}
    val = doc.get("value") if isinstance(doc.get("value"), dict) else {}
    met = doc.get("meter") if isinstance(doc.get("meter"), dict) else {}
    keep = doc.get("keep") or []
    if not isinstance(keep, list) or not all(isinstance(c, str) for c in keep):
        bad("keep", "must be a list of column names")
        keep = []
    fmt = str(ts.get("format", "ISO8601"))
    if fmt.upper() != "ISO8601" and fmt.lower() != "dayfirst":
        if "%" not in fmt:
            bad("timestamp.format", f"'{fmt}' is not ISO8601, dayfirst or a strftime pattern such as '%d/%m/%Y %H:%M'")
        elif "%z" in fmt or "%Z" in fmt:
            bad("timestamp.format", "a pattern describes local stamps; stamps with a UTC offset are read as ISO8601")
    marks = ts.get("marks")
    if marks is not None and marks not in ("start", "end"):
        bad("timestamp.marks", f"'{marks}' is not start or end")
    tz = ts.get("timezone")
    if tz is not None:
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            bad("timestamp.timezone", f"'{tz}' is not an IANA time zone (e.g. Asia/Shanghai)")
    midnight = ts.get("midnight", "starts_day")
    if midnight not in ("starts_day", "ends_day"):
        bad("timestamp.midnight", f"'{midnight}' is not starts_day or ends_day")
    if "column" in met and "id" in met:
        bad("meter", "give either column (the file names the meter) or id (one meter per file), not both")
    if "unit" in val and "unit_column" in val:
        bad("value", "give either unit (fixed) or unit_column, not both")
    unit = val.get("unit")
    if unit is not None:
        try:
            parse_unit(str(unit))
        except ZerocarbonError as exc:
            bad("value.unit", str(exc))
    encoding = doc.get("encoding")
    if encoding is not None:
        try:
            encoding = codecs.lookup(str(encoding)).name
        except LookupError:
            bad("encoding", f"'{doc['encoding']}' is not a text encoding Python knows (e.g. utf-8, gb18030, gbk)")
    if probs:
        raise InputError(probs)
    return MeterFileProfile(
        name=str(doc.get("name") or path.stem), timestamp=str(ts.get("column", "timestamp")),
        value=str(val.get("column", "value")), meter=None if "id" in met else str(met.get("column", "meter")),
        meter_id=str(met["id"]) if "id" in met else None, unit=str(unit) if unit is not None else None,
        unit_column=str(val.get("unit_column", "unit")), keep=tuple(keep), date_format=fmt, stamp=marks,
        timezone=str(tz) if tz is not None else None, midnight=midnight, encoding=encoding)


def _header(path: Path, encoding: str) -> list[str]:
    try:
        return list(pd.read_csv(path, nrows=0, encoding=encoding).columns)
    except Exception as exc:
        raise InputError([Problem(path.name, None, None, f"cannot be read as CSV: {exc}")]) from None


def read_readings(path: str | Path, profile: MeterFileProfile = DEFAULT_PROFILE) -> pd.DataFrame:
    """Raw readings in the canonical columns ``meter, timestamp, value[, unit]`` plus the profile's kept
    columns, with a ``row`` column (spreadsheet row numbers for CSV, 1-based record for Parquet). Values and
    stamps are left as read; :mod:`zerocarbon.core.energy.intervals` judges them."""
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "file not found")])
    parquet = path.suffix.lower() == ".parquet"
    if parquet:
        try:
            df = pd.read_parquet(path)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError([Problem(path.name, None, None, f"cannot be read as Parquet ({exc}); export the "
                                                             "readings again, or as CSV")]) from None
    else:
        encoding = csv_encoding(path, profile.encoding, PROFILE_HINT)
        header = _header(path, encoding)
        # Values as text too: the checks then see what the file says ('nan', '1e309', 'NA'), not a reader's guess.
        text = {c: str for c in (profile.meter, profile.timestamp, profile.unit_column, profile.value) if c in header}
        try:
            df = pd.read_csv(path, dtype=text, engine="pyarrow", encoding=encoding, keep_default_na=False,
                             na_values=[""])
        except Exception as exc:
            raise InputError([Problem(path.name, None, None, f"cannot be read as CSV: {exc}")]) from None
    rows = sheet_rows(path)
    df["row"] = np.arange(1, len(df) + 1) if parquet else rows.array(np.arange(2, len(df) + 2))
    wanted = [profile.timestamp, profile.value] + ([profile.meter] if profile.meter else []) + list(profile.keep)
    missing = [c for c in dict.fromkeys(wanted) if c not in df.columns]
    if missing:
        hint = f" (profile {profile.name})" if profile is not DEFAULT_PROFILE else ""
        raise InputError([Problem(path.name, rows(1), c, f"required column is missing{hint}") for c in missing])
    if df.empty:
        raise InputError([Problem(path.name, None, None, "file has no readings")])
    out = pd.DataFrame({"meter": df[profile.meter] if profile.meter else profile.meter_id,
                        "timestamp": df[profile.timestamp], "value": df[profile.value], "row": df["row"]},
                       index=df.index)
    if profile.unit is not None:
        out["unit"] = profile.unit
    elif profile.unit_column in df.columns:
        out["unit"] = df[profile.unit_column]
    for c in profile.keep:
        out[c] = df[c]
    return out
