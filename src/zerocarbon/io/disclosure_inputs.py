"""The disclosure inputs file: the figures and narratives a person enters for a year because no store holds
them (water withdrawn, NOx, revenue, the board's oversight of climate risks).

A YAML file, UTF-8::

    organisation: ACME
    year: 2025
    inputs:
      - key: input.water.withdrawal        # a figure: value and unit (a pint unit, e.g. m**3, t, kg, CNY)
        value: 48200
        unit: m**3
        source: Water bills 2025, Tianjin Water Group, 12 invoices
      - key: text.climate.governance       # a narrative: English and/or Chinese
        en: The board's ESG committee reviews climate risks twice a year.
        zh: 董事会ESG委员会每年两次审阅气候相关风险。
        source: Board ESG committee charter, 2024 edition

``key`` starts with ``input.`` (a figure) or ``text.`` (a narrative); the name after it is free (the catalogue,
``zerocarbon disclose catalogue``, says which keys a framework reads). Every item names its ``source``. A figure
takes a unit pint knows (cubic metres are ``m**3``), ``fraction`` for a share (0.42, never 42), ``year``,
``bool`` (a yes/no answer: true or false) or a coal equivalent (``tce``, ``tce/unit``).

Every problem is reported at once with the file, the item's position in ``inputs`` (row, counted from 1) and the
field (column); nothing is stored while one remains.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from zerocarbon.core.disclosure.model import BOOL, FRACTION, TEXT, YEAR, DisclosureInput
from zerocarbon.errors import InputError, Problem, UnitError
from zerocarbon.units import parse_unit
from zerocarbon.core import safe_yaml

KEY = re.compile(r"^(text|input)\.[a-z0-9](?:[a-z0-9_.\-]*[a-z0-9])?$")
FIGURE_FIELDS = {"key", "value", "unit", "source"}
NARRATIVE_FIELDS = {"key", "en", "zh", "source"}
TOP_FIELDS = {"organisation", "year", "inputs"}
MAX_TEXT = 20_000


@dataclass(frozen=True)
class InputsFile:
    """A disclosure inputs file as read: its organisation, year and items (``entered_by`` left empty)."""

    organisation: str
    year: int
    inputs: list[DisclosureInput]
    source: str


def _unit_problem(unit: str) -> str | None:
    if unit in (FRACTION, YEAR, BOOL) or unit.startswith("tce"):
        return None if unit in (FRACTION, YEAR, BOOL) or re.fullmatch(r"tce(/\S+)?", unit) else \
            f"'{unit}' is not a coal-equivalent unit (tce, tce/unit, tce/CNY)"
    if unit == TEXT:
        return "a figure cannot be in 'text': enter a narrative under a text.<name> key with en and zh"
    try:
        parse_unit(unit)
    except UnitError as exc:
        hint = " (write cubic metres as m**3, square metres as m**2)" if re.search(r"[a-z]+[23]$", unit) else ""
        return f"{exc}{hint}; give a unit pint knows, e.g. m**3, t, kg, MWh, CNY"
    return None


def _number(value, unit: str) -> tuple[float | int | bool | None, str | None]:
    if unit == BOOL:
        return (value, None) if isinstance(value, bool) else (None, f"'{value}' is not true or false")
    if isinstance(value, bool):
        return None, f"'{value}' is a yes/no answer: give the unit 'bool', or a number"
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None, (f"'{value}' is not a number; write digits without thousands separators or units "
                          "(e.g. 48200 or 4.82e4)")
    if not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        return None, f"'{value}' is not a finite number"
    if unit == YEAR:
        if float(value) != int(value):
            return None, f"'{value}' is not a year"
        return int(value), None
    if unit == FRACTION and not 0 <= float(value) <= 1:
        return None, f"{value} is not a share between 0 and 1 (write 42 % as 0.42)"
    return float(value), None


def _text(value) -> tuple[str, str | None]:
    if value is None:
        return "", None
    if not isinstance(value, str):
        return "", f"'{value}' is not text"
    text = value.strip()
    if len(text) > MAX_TEXT:
        return "", f"longer than {MAX_TEXT} characters"
    return text, None


def _item(item, row: int, name: str, problems: list[Problem]) -> DisclosureInput | None:
    def bad(column: str | None, reason: str) -> None:
        problems.append(Problem(name, row, column, reason))

    if not isinstance(item, dict):
        bad(None, "an input is a mapping with key, value, unit and source (or key, en, zh and source)")
        return None
    key = item.get("key")
    if not isinstance(key, str) or not key.strip():
        bad("key", "required: input.<name> for a figure, text.<name> for a narrative")
        return None
    key = key.strip()
    if not KEY.match(key):
        bad("key", f"'{key}' is not a disclosure input key: it starts with 'input.' (a figure with its unit) or "
                   "'text.' (a narrative), followed by a lower-case name (letters, digits, '_', '.', '-'); see "
                   "`zerocarbon disclose catalogue` for the keys the frameworks read")
        return None
    narrative = key.startswith("text.")
    allowed = NARRATIVE_FIELDS if narrative else FIGURE_FIELDS
    for field in sorted(set(item) - allowed):
        bad(field, f"unknown field for a {'narrative' if narrative else 'figure'}; a "
                   f"{'text.' if narrative else 'input.'} key takes {', '.join(sorted(allowed - {'key'}))}")
    source, why = _text(item.get("source"))
    if why:
        bad("source", why)
    elif not source:
        bad("source", "required: where the figure or text comes from (document, meter, system, and its date)")
    if narrative:
        en, why_en = _text(item.get("en"))
        zh, why_zh = _text(item.get("zh"))
        if why_en:
            bad("en", why_en)
        if why_zh:
            bad("zh", why_zh)
        if not why_en and not why_zh and not en and not zh:
            bad("en", "a narrative needs its text: give en (English), zh (Chinese) or both")
        return DisclosureInput(key, en or zh, TEXT, source, value_zh=zh)
    unit = item.get("unit")
    value = item.get("value")
    unit_text = str(unit).strip() if unit is not None else ""
    if value is None or (isinstance(value, str) and not value.strip()):
        bad("value", "required: the figure, as a number")
    if not unit_text:
        bad("unit", "required: a figure without its unit cannot be reported (e.g. m**3, t, kg, MWh, CNY)")
        return None
    why = _unit_problem(unit_text)
    if why:
        bad("unit", why)
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number, why = _number(value, unit_text)
    if why:
        bad("value", why)
        return None
    return DisclosureInput(key, number, unit_text, source)


def read_inputs(path: str | Path, *, organisation: str | None = None, year: int | None = None,
                source: str | None = None) -> InputsFile:
    """Read and check a disclosure inputs file; :class:`InputError` listing every problem.

    ``organisation``/``year``: what the file must declare (the import's target); ``source``: the name shown in
    problems (an upload's own file name rather than its temporary path).
    """
    path = Path(path)
    name = source or path.name
    try:
        doc = safe_yaml.load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError([Problem(name, None, None, "file not found")]) from None
    except UnicodeDecodeError:
        raise InputError([Problem(name, None, None, "not UTF-8 text; save the file as UTF-8")]) from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: a date like 2025-13-01
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InputError([Problem(name, None, None, f"not valid YAML{where}: "
                                                     f"{getattr(exc, 'problem', None) or exc}")]) from None
    if not isinstance(doc, dict):
        raise InputError([Problem(name, None, None, "expected a mapping with organisation, year and inputs")])
    problems: list[Problem] = []
    for field in sorted(set(doc) - TOP_FIELDS, key=str):
        problems.append(Problem(name, None, str(field), "unknown field; the file has organisation, year, inputs"))
    org = doc.get("organisation")
    org = str(org).strip() if org is not None else ""
    if not org:
        problems.append(Problem(name, None, "organisation", "required: the organisation code, e.g. ACME"))
    elif organisation is not None and org != organisation:
        problems.append(Problem(name, None, "organisation", f"the file is for '{org}', not '{organisation}'; "
                                                            "import it for its own organisation"))
    file_year = doc.get("year")
    if isinstance(file_year, bool) or not isinstance(file_year, int):
        problems.append(Problem(name, None, "year", f"required: the reporting year as a number (not "
                                                    f"'{file_year}')"))
        file_year = None
    elif year is not None and file_year != year:
        problems.append(Problem(name, None, "year", f"the file is for {file_year}, not {year}; import it for "
                                                    "its own year"))
    items = doc.get("inputs")
    if not isinstance(items, list) or not items:
        problems.append(Problem(name, None, "inputs", "required: a list of inputs (key, value, unit, source; or "
                                                      "key, en, zh, source)"))
        items = []
    read: list[DisclosureInput] = []
    first_row: dict[str, int] = {}
    for row, item in enumerate(items, start=1):
        found = _item(item, row, name, problems)
        if found is None:
            continue
        if found.key in first_row:
            problems.append(Problem(name, row, "key", f"'{found.key}' is entered twice (first at row "
                                                      f"{first_row[found.key]}); keep one"))
            continue
        first_row[found.key] = row
        read.append(found)
    if problems:
        raise InputError(problems)
    return InputsFile(org, file_year, read, name)
