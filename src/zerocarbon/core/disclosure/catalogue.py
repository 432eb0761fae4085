"""The disclosure catalogue: what each framework asks for, as data, and its loader.

Two files ship with zerocarbon:

- ``data/disclosure/frameworks.yaml``: the seven frameworks (names in English and Chinese, edition, source, and the
  XBRL taxonomy where one is public);
- ``data/disclosure/catalogue.csv``: one row per data point (a framework datum that needs several facts has several
  rows, numbered as the framework numbers them: ``305-1.a``, ``305-1.b``). Columns, in order: ``framework, id,
  section, label_en, label_zh, unit, fact, requirement, note, xbrl, confidence, source``.

A row is answered by ``fact``: a key of :data:`zerocarbon.core.disclosure.keys.FACTS` (computed), or a key of the
disclosure inputs a person enters (``text.<name>``: a narrative; ``input.<name>``: a figure with its unit). The
row's ``unit`` is what the framework reports in: a pint unit of the same dimension as the fact's unit (the report
converts), or, for pseudo units (``fraction``, ``text``, ``year``, ``bool``) and coal equivalents (``tce``,
``tce/unit``, ``tce/CNY``, reported by name, GB/T 2589), exactly the fact's unit. Rows answered by the same input
key must agree on its unit the same way, since a person enters it once.

Everything here is pure: the shipped files are read through :mod:`importlib.resources`, and a text given by the
caller is parsed as it is. Every problem of a file is reported at once, in one :class:`~zerocarbon.errors.InputError`
naming file, row (spreadsheet numbering: the header is row 1) and column.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from functools import lru_cache
from importlib.resources import files

import yaml

from zerocarbon.core.disclosure import keys as fact_keys
from zerocarbon.core.disclosure.model import PSEUDO_UNITS, REQUIREMENTS, DataPoint, Framework
from zerocarbon.errors import InputError, NotFoundError, Problem, UnitError
from zerocarbon.units import dimension_of

CATALOGUE_FILE = "data/disclosure/catalogue.csv"
FRAMEWORKS_FILE = "data/disclosure/frameworks.yaml"

FRAMEWORK_IDS = ("hkex", "issb_s2", "ghgp", "gri", "cdp", "esrs_e1", "cn_exchange")
COLUMNS = ("framework", "id", "section", "label_en", "label_zh", "unit", "fact", "requirement", "note", "xbrl",
           "confidence", "source")
REQUIRED_COLUMNS = ("framework", "id", "label_en", "label_zh", "unit", "fact", "requirement", "confidence")
CONFIDENCES = ("verified", "secondary")
# Tonnes of standard coal equivalent are not converted to or from joules: GB/T 2589 fixes the coefficients per
# carrier, so a tce figure is only ever compared with another tce figure.
COAL_UNITS = ("tce", "tce/unit", "tce/CNY")
XBRL_PREFIXES = {"issb_s2": "ifrs-sds", "esrs_e1": "esrs"}
FRAMEWORK_FIELDS = ("name_en", "name_zh", "edition", "source")


def _shipped(name: str) -> str:
    return files("zerocarbon").joinpath(name).read_text(encoding="utf-8")


# --- frameworks -------------------------------------------------------------------------------------------------

def load_frameworks(text: str | None = None, *, origin: str | None = None) -> dict[str, Framework]:
    """The frameworks of ``text`` (YAML; None = the shipped ``frameworks.yaml``), by id, in file order.

    Every one of :data:`FRAMEWORK_IDS` must be there, each with ``name_en``, ``name_zh``, ``edition`` and
    ``source``; ``taxonomy``, ``namespace`` and ``prefix`` go together (all three or none).
    """
    if text is None:
        return dict(_shipped_frameworks())
    return _parse_frameworks(text, origin or "frameworks.yaml")


@lru_cache(maxsize=1)
def _shipped_frameworks() -> tuple[tuple[str, Framework], ...]:
    return tuple(_parse_frameworks(_shipped(FRAMEWORKS_FILE), FRAMEWORKS_FILE).items())


def _parse_frameworks(text: str, origin: str) -> dict[str, Framework]:
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: a date like 2025-13-01
        raise InputError([Problem(origin, None, None, f"not valid YAML: {exc}")]) from exc
    raw = data.get("frameworks") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise InputError([Problem(origin, None, "frameworks", "a list of frameworks is required")])
    problems: list[Problem] = []
    out: dict[str, Framework] = {}
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(origin, n, None, "a framework is a mapping of its fields"))
            continue
        fid = str(item.get("id") or "").strip()
        if fid not in FRAMEWORK_IDS:
            problems.append(Problem(origin, n, "id", f"unknown framework '{fid}'; known: {', '.join(FRAMEWORK_IDS)}"))
            continue
        if fid in out:
            problems.append(Problem(origin, n, "id", f"framework '{fid}' appears twice"))
            continue
        for f in FRAMEWORK_FIELDS:
            if not str(item.get(f) or "").strip():
                problems.append(Problem(origin, n, f, f"'{f}' is required"))
        tax = {f: str(item.get(f) or "").strip() for f in ("taxonomy", "namespace", "prefix")}
        if any(tax.values()) and not all(tax.values()):
            problems.append(Problem(origin, n, "taxonomy", "taxonomy, namespace and prefix go together"))
        out[fid] = Framework(fid, *(str(item.get(f) or "").strip() for f in FRAMEWORK_FIELDS), **tax)
    for fid in FRAMEWORK_IDS:
        if fid not in out and not any(p.column == "id" and f"'{fid}'" in p.reason for p in problems):
            problems.append(Problem(origin, None, "id", f"framework '{fid}' is missing"))
    if problems:
        raise InputError(problems)
    return out


# --- the catalogue --------------------------------------------------------------------------------------------

def load_catalogue(text: str | None = None, *, known: Mapping[str, str] | None = None,
                   origin: str | None = None) -> list[DataPoint]:
    """The data points of ``text`` (CSV; None = the shipped ``catalogue.csv``), in file order.

    ``known``: fact key -> unit of the computed facts (default: :data:`~zerocarbon.core.disclosure.keys.FACTS`).
    Raises :class:`InputError` listing every problem (file, row, column, reason).
    """
    if text is None and known is None:
        return list(_shipped_catalogue())
    if text is None:
        text, origin = _shipped(CATALOGUE_FILE), origin or CATALOGUE_FILE
    return _parse_catalogue(text, origin or "catalogue.csv", known)


@lru_cache(maxsize=1)
def _shipped_catalogue() -> tuple[DataPoint, ...]:
    return tuple(_parse_catalogue(_shipped(CATALOGUE_FILE), CATALOGUE_FILE, None))


def points_of(framework: str) -> list[DataPoint]:
    """The shipped data points of ``framework``, in catalogue order; NotFoundError for an unknown framework."""
    if framework not in FRAMEWORK_IDS:
        raise NotFoundError(f"unknown framework '{framework}'; known: {', '.join(FRAMEWORK_IDS)}")
    return [p for p in _shipped_catalogue() if p.framework == framework]


def input_keys(points: list[DataPoint] | None = None) -> dict[str, str]:
    """Every input key (``text.*``, ``input.*``) the catalogue uses, with the unit it is entered in, sorted."""
    found: dict[str, str] = {}
    for p in _shipped_catalogue() if points is None else points:
        if fact_keys.is_input_key(p.fact):
            found.setdefault(p.fact, p.unit)
    return dict(sorted(found.items()))


def _unit_kind(unit: str) -> tuple[str, str] | None:
    """("name", unit) for pseudo and coal units (matched by name), ("dim", dimensionality) for pint units, None
    when the unit is unknown."""
    if unit in PSEUDO_UNITS or unit in COAL_UNITS:
        return ("name", unit)
    try:
        return ("dim", dimension_of(unit))
    except UnitError:
        return None


def _compatible(a: str, b: str) -> bool:
    ka, kb = _unit_kind(a), _unit_kind(b)
    return ka is not None and ka == kb


def _parse_catalogue(text: str, origin: str, known: Mapping[str, str] | None) -> list[DataPoint]:
    if known is None:
        known = {k: spec.unit for k, spec in fact_keys.FACTS.items()}
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        raise InputError([Problem(origin, None, None, "the file is empty; a header row is required")])
    header = [h.strip() for h in header]
    problems: list[Problem] = []
    missing = [c for c in COLUMNS if c not in header]
    for c in missing:
        problems.append(Problem(origin, 1, c, f"column '{c}' is missing; the columns are {', '.join(COLUMNS)}"))
    unknown = [h for h in header if h not in COLUMNS]
    for h in unknown:
        problems.append(Problem(origin, 1, h, f"unknown column '{h}'; the columns are {', '.join(COLUMNS)}"))
    if not missing and not unknown and tuple(header) != COLUMNS:
        problems.append(Problem(origin, 1, None, f"the columns must be in this order: {', '.join(COLUMNS)}"))
    if missing:
        raise InputError(problems)
    at = {c: header.index(c) for c in COLUMNS}
    points: list[DataPoint] = []
    seen: dict[tuple[str, str], int] = {}
    input_units: dict[str, tuple[str, int]] = {}
    for row, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(Problem(origin, row, None,
                                    f"{len(cells)} cells where the header has {len(header)}"))
            continue
        r = {c: cells[at[c]].strip() for c in COLUMNS}
        bad = len(problems)
        for c in REQUIRED_COLUMNS:
            if not r[c]:
                problems.append(Problem(origin, row, c, f"'{c}' is required"))
        fw = r["framework"]
        if fw and fw not in FRAMEWORK_IDS:
            problems.append(Problem(origin, row, "framework",
                                    f"unknown framework '{fw}'; known: {', '.join(FRAMEWORK_IDS)}"))
        if r["requirement"] and r["requirement"] not in REQUIREMENTS:
            problems.append(Problem(origin, row, "requirement",
                                    f"unknown requirement '{r['requirement']}'; known: {', '.join(REQUIREMENTS)}"))
        if r["confidence"] and r["confidence"] not in CONFIDENCES:
            problems.append(Problem(origin, row, "confidence",
                                    f"unknown confidence '{r['confidence']}'; known: {', '.join(CONFIDENCES)}"))
        if r["confidence"] == "verified" and not r["source"]:
            problems.append(Problem(origin, row, "source", "a verified row names the official text it was checked in"))
        unit, fact = r["unit"], r["fact"]
        unit_ok = bool(unit) and _unit_kind(unit) is not None
        if unit and not unit_ok:
            problems.append(Problem(origin, row, "unit",
                                    f"unknown unit '{unit}' (a pint unit, one of {', '.join(PSEUDO_UNITS)}, "
                                    f"or {', '.join(COAL_UNITS)})"))
        if fact:
            if fact_keys.is_input_key(fact):
                name = fact.split(".", 1)[1]
                if not name or any(not part for part in name.split(".")):
                    problems.append(Problem(origin, row, "fact", f"input key '{fact}' has no name"))
                elif fact.startswith("text.") and unit and unit != "text":
                    problems.append(Problem(origin, row, "unit", f"'{fact}' is a narrative: its unit is 'text'"))
                elif unit_ok:
                    first = input_units.setdefault(fact, (unit, row))
                    if not _compatible(first[0], unit):
                        problems.append(Problem(origin, row, "unit",
                                                f"'{unit}' cannot hold input '{fact}', entered in '{first[0]}' "
                                                f"(row {first[1]})"))
            elif fact not in known:
                problems.append(Problem(origin, row, "fact",
                                        f"unknown fact '{fact}': use a computed fact key or an input key "
                                        "(text.<name>, input.<name>)"))
            elif unit_ok and not _compatible(known[fact], unit):
                problems.append(Problem(origin, row, "unit",
                                        f"'{unit}' is not compatible with '{fact}' in '{known[fact]}'"))
        xbrl = r["xbrl"]
        if xbrl:
            prefix = XBRL_PREFIXES.get(fw)
            if prefix is None:
                problems.append(Problem(origin, row, "xbrl", f"framework '{fw}' has no XBRL taxonomy here"))
            elif not xbrl.startswith(prefix + ":") or not xbrl[len(prefix) + 1:].isidentifier():
                problems.append(Problem(origin, row, "xbrl", f"an element is written '{prefix}:Name', not '{xbrl}'"))
        if fw and r["id"]:
            key = (fw, r["id"])
            if key in seen:
                problems.append(Problem(origin, row, "id",
                                        f"'{r['id']}' of '{fw}' appears twice (first at row {seen[key]})"))
            else:
                seen[key] = row
        if len(problems) == bad:
            points.append(DataPoint(**r))
    if problems:
        raise InputError(problems)
    return points


# --- documentation ----------------------------------------------------------------------------------------------

def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def catalogue_markdown(points: list[DataPoint] | None = None,
                       frameworks: Mapping[str, Framework] | None = None) -> str:
    """The catalogue as Markdown tables, one section per framework (the generated part of
    ``docs/disclosure-catalogue.md``)."""
    points = load_catalogue() if points is None else points
    frameworks = load_frameworks() if frameworks is None else frameworks
    out: list[str] = []
    for fid, fw in frameworks.items():
        mine = [p for p in points if p.framework == fid]
        out.append(f"### {fw.name_en} (`{fid}`)\n")
        out.append(f"{fw.name_zh}. Edition: {fw.edition}. Source: <{fw.source}>.")
        if fw.taxonomy:
            out.append(f" XBRL: prefix `{fw.prefix}`, namespace `{fw.namespace}`, entry point <{fw.taxonomy}>.")
        out.append(f"\n\n{len(mine)} data points.\n\n")
        out.append("| id | data point | 数据点 | unit | fact | requirement | confidence | XBRL |\n")
        out.append("|---|---|---|---|---|---|---|---|\n")
        for p in mine:
            out.append(f"| {_cell(p.id)} | {_cell(p.label_en)} | {_cell(p.label_zh)} | {_cell(p.unit)} | "
                       f"`{p.fact}` | {p.requirement} | {p.confidence} | {_cell(p.xbrl)} |\n")
        out.append("\n")
    keys = input_keys(points)
    out.append("### Input keys\n\n")
    out.append("| key | unit | used by |\n|---|---|---|\n")
    for key, unit in keys.items():
        users = ", ".join(f"{p.framework} {p.id}" for p in points if p.fact == key)
        out.append(f"| `{key}` | {unit} | {_cell(users)} |\n")
    return "".join(out)
