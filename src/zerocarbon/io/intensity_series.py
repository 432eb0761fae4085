"""Read a grid carbon-intensity series from CSV.

Columns (header names exact, extra columns ignored):
- ``timestamp``: start of the interval, ISO 8601 with a UTC offset (``2023-08-03T00:00:00+00:00``,
  ``2026-08-03T08:00+08:00``, ``...Z``); rows in time order, one step apart, no gaps, no repeats;
- ``value``: intensity in ``unit``, finite and not negative;
- ``unit``: mass of CO2 or CO2e per energy, e.g. ``gCO2/kWh``, ``kgCO2/kWh``, ``tCO2/MWh``,
  ``gCO2e/kWh``, ``kg/kWh`` (CO2); converted to kgCO2/kWh (kgCO2e/kWh for CO2e units) with the
  package's pint registry;
- ``source``: who published the values; ``method``: what they are (e.g. "average, operational,
  generation-based" or "marginal"). Both required on every row.

The step (15, 30 or 60 min) is read from the timestamps. Every problem found is reported at once, each
with file, row (the header is row 1) and column; nothing is returned from a file with problems.
"""
from __future__ import annotations

import csv
import math
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from zerocarbon.core.energy.intensity import STEPS_MIN, IntensitySeries
from zerocarbon.errors import InputError, Problem, UnitError
from zerocarbon.io.meter_files import csv_encoding
from zerocarbon.units import scale

REQUIRED = ("timestamp", "value", "unit", "source", "method")
SHIPPED_PREFIX = "shipped:"


def shipped_dir() -> Path:
    return Path(str(resources.files("zerocarbon") / "data" / "series"))


def shipped_series() -> dict[str, Path]:
    """Shipped series by name (file stem), e.g. ``gb_national_2023``."""
    return {p.stem: p for p in sorted(shipped_dir().glob("*.csv"))}


def resolve(spec: str | Path) -> Path:
    """A file path, or ``shipped:<name>`` for a shipped series; :class:`InputError` if neither exists."""
    text = str(spec)
    if text.startswith(SHIPPED_PREFIX):
        name = text[len(SHIPPED_PREFIX):].strip()
        found = shipped_series()
        if name.removesuffix(".csv") not in found:
            raise InputError([Problem(text, None, None, f"no shipped series '{name}'; shipped: "
                                                        f"{', '.join(found) or 'none'}")])
        return found[name.removesuffix(".csv")]
    return Path(text)


def intensity_unit(unit: str) -> tuple[float, str]:
    """(multiplier to kg per kWh, converted unit name) for an intensity unit; :class:`UnitError` if the
    unit is unknown or not a mass per energy.

    ``CO2`` in a unit names the gas (``gCO2/kWh`` is grams of CO2 per kWh); ``CO2e`` units are the
    registry's own CO2-equivalent dimension and stay CO2e.
    """
    text = (unit or "").strip()
    if not text:
        raise UnitError("a unit is required; the value has none")
    if "CO2e" in text:
        return scale(text, "kgCO2e/kWh"), "kgCO2e/kWh"
    try:
        return scale(text.replace("CO2", ""), "kg/kWh"), "kgCO2/kWh"
    except UnitError as exc:
        raise UnitError(f"unknown intensity unit '{text}' (use e.g. gCO2/kWh, kgCO2/kWh, tCO2/MWh, "
                        f"gCO2e/kWh): {exc}") from None


def _timestamp(text: str) -> datetime:
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    return datetime.fromisoformat(t)


def read_intensity_series(path: str | Path) -> IntensitySeries:
    """The series in ``path`` (or ``shipped:<name>``), values converted to kg per kWh."""
    path = resolve(path)
    name = path.name
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "file not found")])
    encoding = csv_encoding(path)  # UTF-8 (with or without BOM) or GB18030, as spreadsheets save it
    try:
        with path.open(encoding=encoding, newline="") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = list(reader)
    except csv.Error as exc:
        raise InputError([Problem(name, None, None, f"cannot be read as CSV: {exc}")]) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError([Problem(name, 1, c, "required column is missing") for c in missing])
    if not rows:
        raise InputError([Problem(name, None, None, "file has no rows")])

    problems: list[Problem] = []
    times: list[datetime | None] = []
    values: list[float] = []
    kinds: dict[str, int] = {}
    sources: list[str] = []
    methods: list[str] = []
    units: list[str] = []
    for i, r in enumerate(rows, start=2):
        extra = r.pop(None, None)  # csv.DictReader keeps fields past the header's under None
        if extra:
            # an unquoted "average, operational, generation-based" splits the method into three fields
            problems.append(Problem(name, i, None, f"{len(header) + len(extra)} fields, header has {len(header)}; "
                                                   "quote values containing commas"))
        ts = (r.get("timestamp") or "").strip()
        t = None
        if not ts:
            problems.append(Problem(name, i, "timestamp", "empty"))
        else:
            try:
                t = _timestamp(ts)
            except ValueError:
                problems.append(Problem(name, i, "timestamp", f"'{ts}' is not an ISO 8601 date and time"))
            else:
                if t.tzinfo is None:
                    problems.append(Problem(name, i, "timestamp", f"'{ts}' has no UTC offset; write e.g. "
                                                                  f"{ts}+00:00 or {ts}+08:00"))
                    t = None
        times.append(t)
        raw = (r.get("value") or "").strip()
        try:
            v = float(raw)
        except ValueError:
            problems.append(Problem(name, i, "value", f"'{raw}' is not a number" if raw else "empty"))
            v = math.nan
        else:
            if not math.isfinite(v):
                problems.append(Problem(name, i, "value", f"'{raw}' is not a finite number"))
            elif v < 0:
                problems.append(Problem(name, i, "value", f"{raw} is negative; an intensity is 0 or more"))
        unit = (r.get("unit") or "").strip()
        try:
            factor, kind = intensity_unit(unit)
        except UnitError as exc:
            problems.append(Problem(name, i, "unit", str(exc) if unit else "empty"))
        else:
            if kinds and kind not in kinds:
                first_kind, first_row = next(iter(kinds.items()))
                problems.append(Problem(name, i, "unit", f"'{unit}' is {kind.split('/')[0][2:]}, row {first_row} "
                                                         f"is {first_kind.split('/')[0][2:]}; one file holds one kind"))
            kinds.setdefault(kind, i)
            v = float(f"{v * factor:.12g}")  # 123 g -> 0.123 kg, not 0.12300000000000001
            units.append(unit)
        values.append(v)
        for col, acc in (("source", sources), ("method", methods)):
            text = (r.get(col) or "").strip()
            if not text:
                problems.append(Problem(name, i, col, "empty; say who published the values" if col == "source"
                                        else "empty; say what the values are (e.g. 'average, operational, "
                                             "generation-based' or 'marginal')"))
            elif text not in acc:
                acc.append(text)

    step = _check_steps(name, times, problems)
    if problems:
        raise InputError(problems)
    return IntensitySeries(values=tuple(values), step_min=step, start=times[0], unit=next(iter(kinds)),
                           source="; ".join(sources), method="; ".join(methods), name=path.stem,
                           source_unit="; ".join(dict.fromkeys(units)))


def _check_steps(name: str, times: list[datetime | None], problems: list[Problem]) -> int:
    """The file's step [min] from its first two timestamps; a problem for each row that breaks it."""
    known = [(i, t) for i, t in enumerate(times, start=2) if t is not None]
    if len(times) < 2:
        problems.append(Problem(name, None, "timestamp", "one row only: at least two are needed to know the step"))
        return 60
    if len(known) < len(times) or len(known) < 2:
        return 60  # the unreadable timestamps are reported already; steps are checked once they read
    seen: dict[datetime, int] = {}
    first = (known[1][1] - known[0][1]) / timedelta(minutes=1)
    step = int(first) if first in STEPS_MIN else None
    if step is None:
        problems.append(Problem(name, 3, "timestamp", f"step from row 2 is {first:g} min; a series steps by "
                                                      f"{', '.join(map(str, STEPS_MIN))} min"))
    for (ia, a), (ib, b) in zip(known, known[1:]):
        if b in seen or b == a:
            problems.append(Problem(name, ib, "timestamp", f"duplicate of row {seen.get(b, ia)}"))
            continue
        seen.setdefault(a, ia)
        d = (b - a) / timedelta(minutes=1)
        if d < 0:
            problems.append(Problem(name, ib, "timestamp", f"before row {ia}; rows must be in time order"))
        elif step is not None and d != step:
            if d > step and d % step == 0:
                problems.append(Problem(name, ib, "timestamp", f"gap: {int(d // step) - 1} missing "
                                                               f"{step}-min interval(s) after row {ia}"))
            else:
                problems.append(Problem(name, ib, "timestamp", f"{d:g} min after row {ia}; the file's step is "
                                                               f"{step} min"))
    return step or 60
