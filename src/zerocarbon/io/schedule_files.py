"""Scheduling files: plant problems (JSON, orders CSV/XLSX), standard benchmarks (Taillard, .fjs),
and schedule outputs (CSV, JSON, Gantt chart as HTML and PNG).

Plant problem JSON (all times in minutes from ``start``; power in kW; energy in kWh):

    {"name": "...", "start": "2025-03-03T00:00+08:00", "horizon_min": 10080,
     "stages": ["SMT", "ASSY", "TEST", "PACK"], "transfer_min": 30, "power_cap_kw": 900,
     "lines": [{"id": "SMT1", "stage": "SMT", "run_kw": 120, "idle_kw": 80, "standby_kw": 8,
                "warmup_min": 30, "warmup_kwh": 40, "rates": {"consumer": 240, "commercial": 200},
                "calendar": [[480, 1440], ...],
                "changeover": [{"from": "consumer", "to": "commercial", "minutes": 45, "kwh": 30}]}],
     "orders": [{"id": "O1", "family": "consumer", "quantity": 1200, "release_min": 0, "due_min": 2880,
                 "weight": 1, "power_kw": [95, 60, 60, 40]}],
     "start_on_grid": false,
     "series": {"step_min": 60, "currency": "CNY", "price": [...per slot...], "carbon": [...], "pv_kw": [...]}}

An operation's duration on a line is ceil(quantity / rate [units/h] x 60) minutes. The series hold one value per
slot of ``step_min`` minutes (15, 30 or 60; default 60), exactly ceil(horizon_min / step_min) values each (or
none). An order's ``power_kw`` is its power [kW] per slot from the start of each of its operations (a list: every
operation, on every line; an object: per line id or stage name); past the list's end its last value holds; lines
run at ``run_kw`` otherwise. ``start_on_grid`` makes every operation start on a slot boundary.
"""
from __future__ import annotations

import csv
import json
import math
import re
from html import escape
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticUseDefault

from zerocarbon.core.schedule.model import STEPS_MIN, Line, Operation, Order, Problem, Schedule, Series
from zerocarbon.errors import InputError, Problem as Issue
from zerocarbon.io.models import finite_number, problems_from, reason
from zerocarbon.io.spreadsheet import write_rows


def _amount(value) -> float:
    """A finite number >= 0, given as a number or as text ("1200")."""
    number = finite_number(value)
    if number < 0:
        raise reason("nonneg", f"{number} must not be negative")
    return number


def _optional(value):
    """A blank cell of an orders table (or null in JSON) leaves the field at its default."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PydanticUseDefault()
    return value


def _text(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        raise reason("required", "value is required")
    return value


def _rate(value) -> float:
    number = _amount(value)
    if number <= 0:
        raise reason("positive", "rate must be positive [units/h]")
    return number


Amount = Annotated[float, BeforeValidator(_amount)]
Text = Annotated[str, BeforeValidator(_text)]
Minutes = Annotated[int, BeforeValidator(lambda v: int(_amount(v)))]  # whole minutes, as the solvers count


class _Spec(BaseModel):
    # A misspelt field would otherwise be ignored and its default used without a word.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)


class ChangeoverSpec(_Spec):
    from_: str = Field(alias="from", description="family last run on the line")
    to: str = Field(description="family run next")
    minutes: Minutes = Field(0, description="changeover time [min]")
    kwh: Amount = Field(0.0, description="changeover energy [kWh]")


class LineSpec(_Spec):
    id: Text
    stage: str = Field(description="one of the problem's stages")
    run_kw: Amount = Field(0.0, description="power while producing [kW]")
    idle_kw: Amount = Field(0.0, description="power while on and waiting [kW]")
    standby_kw: Amount = Field(0.0, description="power while off/standby [kW]")
    warmup_min: Minutes = Field(0, description="time from standby to on [min]")
    warmup_kwh: Amount = Field(0.0, description="energy from standby to on [kWh]")
    rates: dict[str, Annotated[float, BeforeValidator(_rate)]] = Field(description="family -> units per hour")
    calendar: list[tuple[int, int]] = Field([], description="working windows [start_min, end_min); none: always")
    changeover: list[ChangeoverSpec] = []


class OrderSpec(_Spec):
    id: Text
    family: Text
    quantity: Amount = Field(description="units to make")
    release_min: Annotated[Minutes, BeforeValidator(_optional)] = Field(0, description="earliest start [min]")
    due_min: Annotated[Minutes | None, BeforeValidator(_optional)] = Field(None, description="due time [min]")
    weight: Annotated[Amount, BeforeValidator(_optional)] = Field(1.0, description="weight of its lateness")
    power_kw: list[Amount] | dict[str, list[Amount]] | None = Field(
        None, description="power per slot of the series step from each operation's start [kW]; a list for every "
                          "operation, or per line id / stage name; the last value holds past the list's end")


class SeriesSpec(_Spec):
    step_min: int = Field(60, description="minutes per value: 15, 30 or 60")
    currency: Text = Field("CNY", description="currency of the price series (ISO 4217 code)")
    price: list[float] = Field([], description="electricity price per slot [currency/kWh]")
    carbon: list[float] = Field([], description="grid carbon intensity per slot [kgCO2/kWh]")
    pv_kw: list[float] = Field([], description="on-site PV power per slot, mean over the slot [kW]")


class PlantProblemSpec(_Spec):
    """A plant problem file (JSON); times in minutes from ``start``."""

    name: str | None = None
    start: str = Field("", description="wall-clock time of minute 0, ISO 8601 with offset")
    horizon_min: Minutes
    stages: list[str]
    transfer_min: Minutes = Field(0, description="time between the steps of an order [min]")
    power_cap_kw: Annotated[Amount | None, BeforeValidator(_optional)] = Field(None, description="site cap [kW]")
    lines: list[LineSpec]
    orders: list[OrderSpec] | None = Field(None, description="required unless the orders come from a table")
    series: SeriesSpec = SeriesSpec()
    start_on_grid: bool = Field(False, description="operations start on slot boundaries of the series step")
    sources: dict[str, str] = Field({}, description="where each series comes from")


def read_plant_problem(path: str | Path, orders_path: str | Path | None = None) -> Problem:
    path = Path(path)
    src = path.name
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: not UTF-8 (JSONDecodeError is one too)
        raise InputError([Issue(src, None, None, f"cannot read JSON: {exc}")]) from None
    return plant_problem_from_dict(spec, src, read_orders_table(orders_path) if orders_path else None)


def read_orders_table(path: str | Path) -> list[OrderSpec]:
    """Orders from CSV (UTF-8 or GB18030/GBK) or XLSX with columns id, family, quantity, release_min,
    due_min[, weight]."""
    import pandas as pd

    from zerocarbon.io.meter_files import csv_encoding

    path = Path(path)
    if not path.is_file():
        raise InputError([Issue(str(path), None, None, "orders file not found")])
    from zipfile import BadZipFile

    from openpyxl.utils.exceptions import InvalidFileException

    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            df = pd.read_excel(path, dtype=str, keep_default_na=False)
        else:
            df = pd.read_csv(path, dtype=str, encoding=csv_encoding(path), keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise InputError([Issue(path.name, None, None, "orders file is empty")]) from None
    except (pd.errors.ParserError, ValueError, OSError, KeyError, BadZipFile, InvalidFileException) as exc:
        raise InputError([Issue(path.name, None, None, f"orders file cannot be read: {exc}")]) from None
    problems = []
    for col in ("id", "family", "quantity", "release_min", "due_min"):
        if col not in df.columns:
            problems.append(Issue(path.name, 1, col, "required column is missing"))
    if problems:
        raise InputError(problems)
    rows = []
    # Other columns of an ERP export (customer, notes) are left out, not refused.
    known = df[[c for c in df.columns if c in OrderSpec.model_fields and c != "power_kw"]]
    for i, r in enumerate(known.to_dict(orient="records"), start=2):
        try:
            rows.append(OrderSpec.model_validate(r))
        except ValidationError as exc:
            problems += problems_from(exc, path.name, i)
    if problems:
        raise InputError(problems)
    return rows


def plant_problem_from_dict(spec: dict, src: str = "problem", orders: list[OrderSpec] | None = None) -> Problem:
    """The plant problem of a parsed problem file; ``orders`` (from :func:`read_orders_table`) replace its own.
    Every problem is reported at once, with the field's path (``orders[2].quantity``)."""
    if not isinstance(spec, dict):
        raise InputError([Issue(src, None, None, "a plant problem is a JSON object (see docs/scheduling.md)")])
    try:
        p = PlantProblemSpec.model_validate(spec)
    except ValidationError as exc:
        raise InputError(problems_from(exc, src)) from None
    problems: list[Issue] = []
    if orders is None and p.orders is None:
        problems.append(Issue(src, None, "orders", "required field is missing"))
    lines, rates, calendars = [], {}, {}
    for i, ln in enumerate(p.lines):
        if ln.stage not in p.stages:
            problems.append(Issue(src, None, f"lines[{i}].stage", f"'{ln.stage}' is not one of the stages {p.stages}"))
        co = {(c.from_, c.to): (c.minutes, c.kwh) for c in ln.changeover}
        lines.append(Line(ln.id, ln.stage, ln.run_kw, ln.idle_kw, ln.standby_kw, ln.warmup_min, ln.warmup_kwh, co))
        rates[ln.id] = ln.rates
        if ln.calendar:
            calendars[ln.id] = tuple(ln.calendar)
    out_orders, seen = [], set()
    for i, o in enumerate(orders if orders is not None else p.orders or []):
        where = f"orders[{i}]"
        if o.id in seen:
            problems.append(Issue(src, None, f"{where}.id", f"order id '{o.id}' appears twice"))
        seen.add(o.id)
        if isinstance(o.power_kw, dict):
            unknown = sorted(set(o.power_kw) - {ln.id for ln in lines} - set(p.stages))
            if unknown:
                problems.append(Issue(src, None, f"{where}.power_kw", f"{', '.join(unknown)} is neither a line id "
                                                                      f"nor a stage {p.stages}"))
            empty = sorted(k for k, vals in o.power_kw.items() if not vals)
            if empty:
                problems.append(Issue(src, None, f"{where}.power_kw", f"empty profile for {', '.join(empty)}"))
        ops = []
        for k, stage in enumerate(p.stages):
            options = {ln.id: int(math.ceil(o.quantity / rates[ln.id][o.family] * 60)) for ln in lines
                       if ln.stage == stage and o.family in rates[ln.id]}
            if not options:
                problems.append(Issue(src, None, f"{where}.family",
                                      f"no line of stage {stage} can make family '{o.family}'"))
            ops.append(Operation(o.id, k, options, p.transfer_min if k else 0,
                                 _profiles(o.power_kw, options, stage, src, where, problems)))
        out_orders.append(Order(o.id, o.family, o.quantity, o.release_min, o.due_min, o.weight or 1, tuple(ops)))
    step = p.series.step_min
    if step not in STEPS_MIN:
        problems.append(Issue(src, None, "series.step_min", f"{step} min is not one of {list(STEPS_MIN)}"))
    else:
        expected = -(-p.horizon_min // step)
        for key in ("price", "carbon", "pv_kw"):
            values = getattr(p.series, key)
            if values and len(values) != expected:
                # without step_min a file of 15- or 30-min values reads as hours: name the step that fits
                fits = [] if "step_min" in p.series.model_fields_set else \
                    [s for s in STEPS_MIN if s != step and -(-p.horizon_min // s) == len(values)]
                hint = f'; did you mean "step_min": {fits[0]}?' if fits else ""
                problems.append(Issue(src, None, f"series.{key}",
                                      f"{len(values)} values, expected {expected}: one per {step} min over the "
                                      f"{p.horizon_min} min horizon (ceil({p.horizon_min} / {step})){hint}"))
    if problems:
        raise InputError(problems)
    series = Series(tuple(p.series.price), tuple(p.series.carbon), tuple(p.series.pv_kw), step, p.series.currency)
    return Problem(p.name if p.name is not None else src, tuple(lines), tuple(out_orders), p.horizon_min, calendars,
                   series, p.power_cap_kw, p.start, p.start_on_grid)


def _profiles(power_kw, options: dict[str, int], stage: str, src: str, where: str,
              problems: list[Issue]) -> dict[str, tuple[float, ...]]:
    """An order's ``power_kw`` as the profile per eligible line of one stage's operation."""
    if power_kw is None:
        return {}
    if isinstance(power_kw, list):
        if not power_kw:
            problems.append(Issue(src, None, f"{where}.power_kw", "a power profile needs at least one value"))
            return {}
        return {ln: tuple(power_kw) for ln in options}
    out = {}
    for ln in options:
        values = power_kw.get(ln, power_kw.get(stage))
        if values:
            out[ln] = tuple(values)
    return out


# -- standard benchmark formats ------------------------------------------------------------------------
def _numbers(text: str) -> list[list[int]]:
    rows = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append(line.split())
    return rows


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Issue(path.name, None, None, f"cannot be read as UTF-8 text: {exc}")]) from None


def read_taillard(path: str | Path) -> Problem:
    """Job shop in Taillard's original layout (``Times`` then ``Machines``, 1-based machines) or the
    OR-Library/JSPLIB layout (``n m`` then per job ``machine time`` pairs, 0-based machines)."""
    path = Path(path)
    rows = _numbers(_read_text(path))
    try:
        if any(r[0].lower().startswith("times") for r in rows):
            lines = [r for r in rows if r[0].lstrip("-").isdigit()]
            n, m = int(lines[0][0]), int(lines[0][1])
            times = [list(map(int, r)) for r in lines[1:1 + n]]
            machines = [[int(x) - 1 for x in r] for r in lines[1 + n:1 + 2 * n]]
        else:
            n, m = int(rows[0][0]), int(rows[0][1])
            times, machines = [], []
            for r in rows[1:1 + n]:
                vals = list(map(int, r))
                machines.append(vals[0::2])
                times.append(vals[1::2])
        jobs = [list(zip(machines[j], times[j])) for j in range(n)]
    except (IndexError, ValueError) as exc:
        raise InputError([Issue(path.name, None, None, f"not a Taillard/OR-Library job-shop file: {exc}")]) from None
    return _shop(path.stem, m, [[{f"M{mc}": t} for mc, t in job] for job in jobs])


def read_fjs(path: str | Path) -> Problem:
    """Flexible job shop in Brandimarte's .fjs layout (1-based machines)."""
    path = Path(path)
    rows = _numbers(_read_text(path))
    try:
        n, m = int(rows[0][0]), int(float(rows[0][1]))
        jobs = []
        for r in rows[1:1 + n]:
            vals = list(map(int, r))
            k, pos, ops = vals[0], 1, []
            for _ in range(k):
                cnt = vals[pos]
                pairs = vals[pos + 1: pos + 1 + 2 * cnt]
                ops.append({f"M{pairs[i] - 1}": pairs[i + 1] for i in range(0, len(pairs), 2)})
                pos += 1 + 2 * cnt
            jobs.append(ops)
        if any(not o for ops in jobs for o in ops):
            raise ValueError("an operation lists no machine that can run it")
    except (IndexError, ValueError) as exc:
        raise InputError([Issue(path.name, None, None, f"not a .fjs flexible job-shop file: {exc}")]) from None
    return _shop(path.stem, m, jobs)


# -- shipped benchmark instances ---------------------------------------------------------------------
# Taillard ta01-ta40 and Brandimarte mk01-mk10 ship in bench/instances of the source tree (sources,
# terms and bounds in bench/instances/README.md).
INSTANCES = Path(__file__).resolve().parents[3] / "bench" / "instances"
INSTANCE_FORMATS = {"taillard": read_taillard, "fjs": read_fjs}
_SHIPPED = {"taillard": ("taillard", "*.txt"), "brandimarte": ("fjs", "*.fjs")}


def shipped_instances(root: Path = INSTANCES) -> dict[str, tuple[Path, str]]:
    """Instance name (``ta01``, ``mk03``) -> (file, format) for every instance shipped under ``root``."""
    found = {}
    for folder, (fmt, pattern) in _SHIPPED.items():
        for path in sorted((root / folder).glob(pattern)):
            found[path.stem.lower()] = (path, fmt)
    return found


def _ranges(names: list[str]) -> str:
    """['ta01', 'ta02', 'ta03', 'mk01'] -> 'ta01-ta03, mk01': runs of one prefix with consecutive numbers."""
    runs: list[list] = []  # [prefix, number of the last name, first name, last name]
    for name in names:
        m = re.fullmatch(r"(\D*)(\d+)", name)
        prefix, num = (m[1], int(m[2])) if m else (name, None)
        if runs and num is not None and runs[-1][0] == prefix and runs[-1][1] == num - 1:
            runs[-1][1], runs[-1][3] = num, name
        else:
            runs.append([prefix, num, name, name])
    return ", ".join(first if first == last else f"{first}-{last}" for _, _, first, last in runs)


def find_instance(name_or_path: str | Path, format: str | None = None,
                  root: Path = INSTANCES) -> tuple[Path, str]:
    """Resolve a benchmark instance given as a file path or as the name of a shipped instance.

    Parameters
    ----------
    name_or_path : an existing file, or a shipped instance name such as ``ta01`` or ``mk03`` (any case)
    format : ``taillard`` or ``fjs``; for a file it defaults to ``fjs`` when the suffix is ``.fjs``,
        else ``taillard``; for a shipped name it must match the instance's format when given
    root : folder holding ``taillard/*.txt`` and ``brandimarte/*.fjs``

    Returns
    -------
    (path, format)
    """
    if format is not None and format not in INSTANCE_FORMATS:
        raise InputError([Issue(str(name_or_path), None, "format",
                                f"'{format}' is not one of {sorted(INSTANCE_FORMATS)}")])
    path = Path(name_or_path)
    if path.is_file():
        return path, format or ("fjs" if path.suffix.lower() == ".fjs" else "taillard")
    shipped = shipped_instances(root)
    key = str(name_or_path).strip().lower()
    if key in shipped:
        found, fmt = shipped[key]
        if format is not None and format != fmt:
            raise InputError([Issue(key, None, "format", f"shipped instance {key} is in the {fmt} format, "
                                                         f"not {format}; leave the format out")])
        return found, fmt
    listing = _ranges(sorted(shipped, key=lambda n: (n.rstrip("0123456789") != "ta", n)))
    what = f"shipped instances: {listing} (in {root})" if shipped else \
        f"no instances found in {root}; give the path of a Taillard/OR-Library or .fjs file"
    raise InputError([Issue(str(name_or_path), None, None, f"no such file and no shipped instance of that name; {what}")])


def read_instance(name_or_path: str | Path, format: str | None = None, root: Path = INSTANCES) -> Problem:
    """The job-shop problem of a file or shipped instance (see :func:`find_instance`)."""
    path, fmt = find_instance(name_or_path, format, root)
    return INSTANCE_FORMATS[fmt](path)


def instance_bounds(root: Path = INSTANCES) -> dict[str, dict]:
    """Best-known makespan and lower bound of each shipped instance, with sources (``bks.csv``)."""
    path = root / "bks.csv"
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {r["instance"]: {"bks": int(r["bks"]), "bks_source": r["bks_source"],
                                "lower_bound": int(r["lower_bound"]), "lower_bound_source": r["lower_bound_source"]}
                for r in csv.DictReader(f)}


def _shop(name: str, machines: int, jobs: list[list[dict[str, int]]]) -> Problem:
    orders = tuple(Order(f"J{j}", operations=tuple(Operation(f"J{j}", i, opts) for i, opts in enumerate(ops)))
                   for j, ops in enumerate(jobs))
    horizon = sum(max(o.values()) for ops in jobs for o in ops)
    return Problem(name, tuple(Line(f"M{i}") for i in range(machines)), orders, horizon)


# -- outputs ---------------------------------------------------------------------------------------------
def write_schedule_csv(schedule: Schedule, problem: Problem, path: Path) -> None:
    fam = {o.id: o.family for o in problem.orders}
    write_rows(path, ["order", "operation", "line", "start_min", "end_min", "family"],
               ([a.order, a.index, a.line, a.start, a.end, fam.get(a.order, "")]
                for a in sorted(schedule.assignments, key=lambda a: (a.line, a.start))))


def schedule_json(schedule: Schedule) -> dict:
    return {"problem": schedule.problem, "method": schedule.method, "policy": schedule.policy,
            "makespan": schedule.makespan, "lower_bound": schedule.lower_bound,
            "operations": [{"job": a.order, "operation": a.index, "machine": a.line, "start": a.start, "end": a.end}
                           for a in sorted(schedule.assignments, key=lambda a: (a.order, a.index))]}


PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"]


def _colours(problem: Problem) -> dict[str, str]:
    """One colour per product family (or per job when there are no families)."""
    keys = sorted({o.family or o.id for o in problem.orders})
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(keys)}


def gantt_html(schedule: Schedule, problem: Problem, title: str) -> str:
    """A self-contained SVG Gantt chart (no JavaScript, no network), coloured by product family."""
    fam = {o.id: o.family or o.id for o in problem.orders}
    colour = _colours(problem)
    lines = [ln.id for ln in problem.lines]
    span = max(1, schedule.makespan)
    width, row, left = 1200, 22, 90
    scale = (width - left - 10) / span
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row * len(lines) + 40}">']
    for d in range(0, span + 1, 1440):
        x = left + d * scale
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{row * len(lines)}" stroke="#ddd"/>'
                     f'<text x="{x + 2:.1f}" y="{row * len(lines) + 14}" font-size="10">day {d // 1440}</text>')
    for i, ln in enumerate(lines):
        parts.append(f'<text x="2" y="{i * row + 15}" font-size="11">{escape(ln)}</text>')
        for windows in [problem.calendars.get(ln, ())]:
            for ws, we in windows:
                parts.append(f'<rect x="{left + ws * scale:.1f}" y="{i * row + 2}" width="{(we - ws) * scale:.1f}" '
                             f'height="{row - 4}" fill="#f4f4f4"/>')
    for a in schedule.assignments:
        i = lines.index(a.line)
        parts.append(f'<rect x="{left + a.start * scale:.1f}" y="{i * row + 3}" width="{max(0.5, (a.end - a.start) * scale):.1f}" '
                     f'height="{row - 6}" fill="{colour[fam[a.order]]}"><title>{escape(a.order)} step {a.index} '
                     f'{a.start}-{a.end} min ({escape(fam[a.order])})</title></rect>')
    parts.append("</svg>")
    return (f"<!doctype html><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<h3 style='font-family:sans-serif'>{escape(title)}</h3>" + "".join(parts))


def gantt_png(schedule: Schedule, problem: Problem, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fam = {o.id: o.family or o.id for o in problem.orders}
    colour = _colours(problem)
    lines = [ln.id for ln in problem.lines]
    fig, ax = plt.subplots(figsize=(12, 0.35 * len(lines) + 1.8))
    price, step = problem.series.price, problem.series.step_min
    if price:  # shade the slots dearer than the median price (TOU peaks)
        median = sorted(price)[len(price) // 2]
        for h, p in enumerate(price[: schedule.makespan // step + 1]):
            if p > median:
                ax.axvspan(h * step, h * step + step, color="#fde0dd", lw=0)
    for a in schedule.assignments:
        ax.barh(lines.index(a.line), a.end - a.start, left=a.start, color=colour[fam[a.order]], height=0.7)
    ax.set_yticks(range(len(lines)), lines)
    ax.invert_yaxis()
    if len(colour) <= len(PALETTE):
        from matplotlib.patches import Patch
        ax.legend(handles=[Patch(color=c, label=k) for k, c in colour.items()] +
                  ([Patch(color="#fde0dd", label="peak-price slots")] if price else []),
                  loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=len(colour) + 1, frameon=False)
    ax.set_xlabel("minutes from horizon start")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
