"""Index systems as data: the indicators, gates and grades a factory is assessed against.

An index system is a YAML file (``data/index/*.yaml`` ships two; an organisation may load its own). It is checked
twice: against the JSON Schema ``data/index/index_system.schema.json`` (shape, types, enumerations) and by the
cross-field rules below (ids, ordering, references, units). Every problem is collected and raised at once as an
:class:`~zerocarbon.errors.InputError` whose problems name the JSON path of the bad field, e.g.
``dimensions[2].indicators[0].rule.leading``. docs/index-systems.md describes every field.

Units. An indicator's ``unit`` is the unit its metric is expressed in and the unit of its rule's thresholds.

- Physical units (``kWh/unit``, ``kgCO2e/unit``, ``MWh``) must parse with the package's pint registry
  (:mod:`zerocarbon.units`, where ``unit`` is the counting unit of products); a value in another unit of the same
  dimension is converted before scoring.
- ``fraction``: a dimensionless share written as a fraction, never as a percentage (0.8, not 80); thresholds of
  a fraction indicator must lie in [-1, 1], which catches a share written as a percentage.
- ``count``: a number of checklist items met (the unit of every ``checklist`` rule).
- ``bool``: 0 or 1 (the unit of every ``boolean`` rule).
- Coal-equivalent units (``kgce/unit``, ``tce/unit``, ``tce/wan_CNY``, ``tCO2/tce``, ``kgCO2/kgce``): the
  registry has no coal-equivalent unit (1 kgce = 29.3076 MJ by GB/T 2589 is a convention for one energy
  statistic, not a physical unit to convert freely), so these are accepted by name and a value must arrive in
  exactly the indicator's spelling.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import yaml

from zerocarbon.errors import InputError, Problem, UnitError
from zerocarbon.units import parse_unit
from zerocarbon.core import safe_yaml

RULE_KINDS = ("linear", "threshold", "checklist", "boolean")
DIRECTIONS = ("higher", "lower")
OPS = (">=", ">", "<=", "<", "==", "!=")
STATUSES = ("sourced", "proposed")
BOUNDARIES = ("site", "workshop")
TOTAL_POINTS = 100.0
POINTS_TOLERANCE = 1e-9

PSEUDO_UNITS = ("fraction", "count", "bool")
COAL_EQUIVALENT_UNITS = ("kgce/unit", "tce/unit", "tce/wan_CNY", "tCO2/tce", "kgCO2/kgce")

ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
METRIC = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MEASURE = re.compile(r"^[a-z][a-z0-9_]*$")

# The metrics zerocarbon computes (services/assessment_metrics.py and, for targets.* and claim.*, the targets
# and claims services), each in the unit it is delivered in. An index system may refer to these or to a
# ``manual.<name>`` key (a value a person enters with evidence and another person reviews).
KNOWN_METRICS: dict[str, str] = {
    "energy.kwh_per_unit": "kWh/unit",
    "energy.kgce_per_unit": "kgce/unit",
    "ghg.scope12_kg_per_unit": "kgCO2e/unit",
    "ghg.scope12_change_vs_base": "fraction",
    "ghg.tco2_per_tce": "tCO2/tce",
    "energy.renewable_electricity_share": "fraction",
    "energy.non_fossil_share": "fraction",
    "energy.electrification_share": "fraction",
    "energy.idle_share": "fraction",
    "energy.metered_share": "fraction",
    "energy.auto_acquisition_share": "fraction",
    "mv.verified_savings_share": "fraction",
    "ghg.refrigerant_leak_rate": "fraction",
    "ghg.traceability_share": "fraction",
    "ghg.inventory_completeness": "count",
    "supply.compliance_share": "fraction",
    "supply.pcf_share": "fraction",
    "recycling.waste_recycling_rate": "fraction",
    "packaging.recycled_share": "fraction",
    "targets.defined": "bool",
    "targets.scope12_on_track": "bool",
    "claim.offset_coverage": "fraction",
    "claim.credit_quality_share": "fraction",
}

# The abatement measures the pathway catalogue is required to hold; systems may name others (checked against
# the catalogue where both are loaded), but must spell them as MEASURE ids.
MEASURE_IDS = (
    "rooftop_pv", "green_power_contract", "green_certificates", "led_lighting", "compressed_air_leaks",
    "air_compressor_vsd", "heat_pump_hot_water", "efficient_motors_drives", "energy_aware_scheduling",
    "electrified_canteen_heat", "chiller_upgrade", "low_gwp_refrigerant", "ev_forklifts",
    "energy_management_system", "supplier_engagement",
)


@dataclass(frozen=True)
class Text:
    en: str
    zh: str

    def get(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True)
class Rule:
    """How a value becomes points. ``linear``: 0 at ``baseline``, full at ``leading`` (either direction),
    clamped; ``threshold``: the fraction of the highest step reached; ``checklist``: points x items met / items;
    ``boolean``: full points when the value is 1."""

    kind: str
    direction: str = "higher"
    baseline: float | None = None
    leading: float | None = None
    steps: tuple[tuple[float, float], ...] = ()
    items: tuple[Text, ...] = ()


@dataclass(frozen=True)
class Indicator:
    id: str
    name: Text
    metric: str
    unit: str
    rule: Rule
    points: float
    mandatory: bool
    status: str
    basis: tuple[str, ...]
    measures: tuple[str, ...]
    boundaries: tuple[str, ...]
    rationale: str = ""  # where the thresholds come from, or why they are a proposal

    @property
    def manual(self) -> bool:
        return self.metric.startswith("manual.")


@dataclass(frozen=True)
class Gate:
    id: str
    name: Text
    metric: str
    op: str
    value: float
    status: str
    basis: tuple[str, ...]
    boundaries: tuple[str, ...] = BOUNDARIES
    rationale: str = ""


@dataclass(frozen=True)
class Dimension:
    id: str
    name: Text
    indicators: tuple[Indicator, ...]

    @property
    def weight(self) -> float:
        return sum(i.points for i in self.indicators)


@dataclass(frozen=True)
class Condition:
    """``ref`` is an indicator id (compared: the share of that indicator's points scored, 0..1) or a metric
    key (compared: the metric's value, in its indicator's unit)."""

    ref: str
    op: str
    value: float

    def text(self) -> str:
        return f"{self.ref} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Grade:
    id: str
    name: Text
    min_score: float
    requires: tuple[Condition, ...]
    status: str = "proposed"
    rationale: str = ""


@dataclass(frozen=True)
class IndexSystem:
    id: str
    version: str
    name: Text
    description: Text
    sources: tuple[dict, ...]
    boundaries: tuple[str, ...]
    gates: tuple[Gate, ...]
    dimensions: tuple[Dimension, ...]
    grades: tuple[Grade, ...]  # lowest first
    sha256: str

    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for d in self.dimensions for i in d.indicators)

    def metrics(self) -> set[str]:
        """Every metric key the system reads: indicators, gates and grade conditions."""
        ids = {i.id for i in self.indicators()}
        return ({i.metric for i in self.indicators()} | {g.metric for g in self.gates}
                | {c.ref for g in self.grades for c in g.requires if c.ref not in ids})

    def indicator(self, indicator_id: str) -> Indicator | None:
        return next((i for i in self.indicators() if i.id == indicator_id), None)

    def unit_of(self, metric: str) -> str | None:
        """The unit the system reads ``metric`` in (from its indicator, else the computed metric's unit)."""
        found = next((i.unit for i in self.indicators() if i.metric == metric), None)
        return found or KNOWN_METRICS.get(metric) or ("bool" if metric.startswith("manual.") else None)


def compare(value: float, op: str, target: float, tol: float = 1e-9) -> bool:
    """``value op target`` with a small tolerance, so a share computed as 0.29999999999 meets ``>= 0.3``."""
    if op == ">=":
        return value >= target - tol
    if op == ">":
        return value > target + tol
    if op == "<=":
        return value <= target + tol
    if op == "<":
        return value < target - tol
    if op == "==":
        return abs(value - target) <= tol
    return abs(value - target) > tol


def unit_kind(unit: str) -> str:
    """``pseudo`` (fraction, count, bool), ``coal`` (coal-equivalent, compared by name) or ``physical``
    (pint); :class:`UnitError` for a unit that is none of them."""
    if unit in PSEUDO_UNITS:
        return "pseudo"
    if unit in COAL_EQUIVALENT_UNITS:
        return "coal"
    parse_unit(unit)
    return "physical"


def units_compatible(a: str, b: str) -> bool:
    try:
        ka, kb = unit_kind(a), unit_kind(b)
    except UnitError:
        return False
    if ka != "physical" or kb != "physical":
        return a == b
    return parse_unit(a).dimensionality == parse_unit(b).dimensionality


# ---------------------------------------------------------------------------------------------------- parsing

@cache
def schema() -> dict:
    """The JSON Schema of an index-system file (data/index/index_system.schema.json)."""
    return json.loads(files("zerocarbon").joinpath("data", "index", "index_system.schema.json")
                      .read_text(encoding="utf-8"))


@cache
def _validator():
    from jsonschema import Draft202012Validator
    return Draft202012Validator(schema())


def _path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "$"


def _schema_problems(e) -> list[tuple[str, str]]:
    if e.validator == "additionalProperties":  # one problem per unknown field
        extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
        return [(_path(list(e.absolute_path) + [x]), f"unknown field '{x}' (a misspelling?)") for x in extra]
    return [_schema_problem(e)]


def _schema_problem(e) -> tuple[str, str]:
    parts = list(e.absolute_path)
    shown = json.dumps(e.instance, ensure_ascii=False, default=str)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    if e.validator == "required":
        m = re.match(r"'(.+)' is a required property", e.message)
        return _path(parts + [m.group(1) if m else "?"]), "required field is missing"
    if e.validator == "enum":
        return _path(parts), f"{shown} is not one of {', '.join(map(str, e.validator_value))}"
    if e.validator == "type":
        return _path(parts), f"{shown} must be of type {e.validator_value}"
    if e.validator == "pattern":
        desc = e.schema.get("description", f"matching {e.validator_value}")
        return _path(parts), f"{shown} is not {desc}"
    if e.validator in ("minimum", "exclusiveMinimum"):
        word = "at least" if e.validator == "minimum" else "above"
        return _path(parts), f"{shown} must be {word} {e.validator_value}"
    if e.validator == "uniqueItems":
        return _path(parts), "has duplicate values"
    if e.validator in ("minItems", "minLength"):
        return _path(parts), "must not be empty"
    return _path(parts), e.message


def _non_finite(node, parts) -> list[str]:
    """Paths of the infinite or NaN numbers in a document (JSON Schema's "number" lets them through)."""
    if isinstance(node, float) and not math.isfinite(node):
        return [_path(parts)]
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _non_finite(v, parts + [k])]
    if isinstance(node, list):
        return [p for k, v in enumerate(node) for p in _non_finite(v, parts + [k])]
    return []


def _num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _dicts(seq):
    """(index, item) for the dict items of a list; anything else the schema reports already."""
    return [(k, x) for k, x in enumerate(seq) if isinstance(x, dict)] if isinstance(seq, list) else []


def _check_unit(unit, where: str, out: list) -> str | None:
    if not isinstance(unit, str):
        return None
    try:
        return unit_kind(unit)
    except UnitError:
        out.append((where, f"unknown unit '{unit}': use a pint unit (kWh/unit, kgCO2e/unit), one of "
                           f"{', '.join(PSEUDO_UNITS)}, or one of {', '.join(COAL_EQUIVALENT_UNITS)}"))
        return None


def _check_rule(rule: dict, unit, where: str, out: list) -> None:
    kind, direction = rule.get("kind"), rule.get("direction", "higher")
    used = {"linear": {"baseline", "leading"}, "threshold": {"steps"}, "checklist": {"items"}, "boolean": set()}
    if kind not in used:
        return
    for field in sorted(({"baseline", "leading", "steps", "items"} - used[kind]) & set(rule)):
        out.append((f"{where}.{field}", f"a {kind} rule does not use '{field}'"))
    if kind in ("checklist", "boolean") and direction != "higher":
        out.append((f"{where}.direction", f"a {kind} rule scores items met: its direction is always 'higher'"))
    values = []
    if kind == "linear":
        b, lead = rule.get("baseline"), rule.get("leading")
        if _num(b) and _num(lead):
            values = [b, lead]
            if b == lead:
                out.append((f"{where}.leading", f"leading value equals the baseline ({b:g}): no range to score in"))
            elif (lead > b) != (direction == "higher"):
                out.append((f"{where}.leading", f"direction is '{direction}' but the leading value {lead:g} is "
                                                f"{'below' if lead < b else 'above'} the baseline {b:g}"))
    elif kind == "threshold":
        steps = [s for s in rule.get("steps", []) if isinstance(s, dict)]
        prev_v = prev_f = None
        for k, s in _dicts(rule.get("steps")):
            v, f = s.get("value"), s.get("fraction")
            if not (_num(v) and _num(f)):
                continue
            values.append(v)
            if not 0 < f <= 1:
                out.append((f"{where}.steps[{k}].fraction", f"fraction {f:g} is not in (0, 1]"))
            if prev_v is not None:
                better = v > prev_v if direction == "higher" else v < prev_v
                if not better:
                    out.append((f"{where}.steps[{k}].value",
                                f"steps must go from easiest to hardest: {v:g} is not "
                                f"{'above' if direction == 'higher' else 'below'} the previous step {prev_v:g}"))
                if f <= prev_f:
                    out.append((f"{where}.steps[{k}].fraction",
                                f"fraction {f:g} does not rise above the previous step's {prev_f:g}"))
            prev_v, prev_f = v, f
        if steps and _num(prev_f) and prev_f < 1 - 1e-12:
            out.append((f"{where}.steps[{len(steps) - 1}].fraction",
                        "the last step must give the full points (fraction 1)"))
    elif kind == "checklist" and unit != "count":
        out.append((f"{where[:-len('.rule')]}.unit", "a checklist rule counts items met: its unit must be 'count'"))
    elif kind == "boolean" and unit != "bool":
        out.append((f"{where[:-len('.rule')]}.unit", "a boolean rule reads 0 or 1: its unit must be 'bool'"))
    if unit == "fraction":
        for v in values:
            if abs(v) > 1:
                out.append((where, f"threshold {v:g} of a fraction indicator is outside [-1, 1]: write 0.8 for 80 %"))
                break


def _check_metric(metric, unit, where: str, out: list) -> None:
    if not isinstance(metric, str) or not METRIC.match(metric):
        return  # the schema pattern reports it
    if metric.startswith("manual."):
        return
    if metric not in KNOWN_METRICS:
        out.append((f"{where}.metric", f"metric '{metric}' is not computed by zerocarbon: use one of the computed "
                                       "metrics (docs/index-systems.md) or a manual.<name> key"))
    elif isinstance(unit, str) and not units_compatible(unit, KNOWN_METRICS[metric]):
        out.append((f"{where}.unit", f"metric '{metric}' is delivered in '{KNOWN_METRICS[metric]}', "
                                     f"which cannot be read as '{unit}'"))


def _cross_field(doc: dict) -> list[tuple[str, str]]:
    """Rules across fields; tolerant of a document the schema already refused (skips what is malformed)."""
    out: list[tuple[str, str]] = []
    seen: dict[str, str] = {}

    def unique(value, where):
        if isinstance(value, str):
            if value in seen:
                out.append((where, f"id '{value}' is already used at {seen[value]}"))
            else:
                seen[value] = where

    source_ids = set()
    for k, s in _dicts(doc.get("sources")):
        unique(s.get("id"), f"sources[{k}].id")
        source_ids.add(s.get("id"))
    system_bounds = set(doc.get("boundaries") or []) if isinstance(doc.get("boundaries"), list) else set()

    def check_basis(item, where):
        for b, tag in enumerate(item.get("basis") or []):
            if isinstance(tag, str) and tag not in source_ids:
                out.append((f"{where}.basis[{b}]", f"basis '{tag}' is not the id of an entry in 'sources'"))

    def check_bounds(item, where):
        for b, tag in enumerate(item.get("boundaries") or []):
            if isinstance(tag, str) and system_bounds and tag not in system_bounds:
                out.append((f"{where}.boundaries[{b}]", f"boundary '{tag}' is not one of the system's "
                                                        f"boundaries ({', '.join(sorted(system_bounds))})"))

    for k, g in _dicts(doc.get("gates")):
        where = f"gates[{k}]"
        unique(g.get("id"), f"{where}.id")
        check_basis(g, where)
        check_bounds(g, where)
        _check_metric(g.get("metric"), KNOWN_METRICS.get(g.get("metric")), where, out)

    indicator_ids, metrics, total, all_numeric = set(), set(), 0.0, True
    for d, dim in _dicts(doc.get("dimensions")):
        unique(dim.get("id"), f"dimensions[{d}].id")
        for i, ind in _dicts(dim.get("indicators")):
            where = f"dimensions[{d}].indicators[{i}]"
            unique(ind.get("id"), f"{where}.id")
            indicator_ids.add(ind.get("id"))
            metrics.add(ind.get("metric"))
            unit = ind.get("unit")
            readable = _check_unit(unit, f"{where}.unit", out)
            _check_metric(ind.get("metric"), unit if readable else None, where, out)
            if isinstance(ind.get("rule"), dict):
                _check_rule(ind["rule"], unit, f"{where}.rule", out)
            check_basis(ind, where)
            check_bounds(ind, where)
            if _num(ind.get("points")):
                total += ind["points"]
            else:
                all_numeric = False
    for k, g in _dicts(doc.get("gates")):
        metrics.add(g.get("metric"))
    if all_numeric and indicator_ids and abs(total - TOTAL_POINTS) > POINTS_TOLERANCE:
        out.append(("dimensions", f"indicator points add up to {total:g}; they must add up to {TOTAL_POINTS:g} "
                                  "so that scores and grade thresholds read as percentages"))

    prev = None
    for k, g in _dicts(doc.get("grades")):
        unique(g.get("id"), f"grades[{k}].id")
        m = g.get("min_score")
        if _num(m):
            if m > TOTAL_POINTS:
                out.append((f"grades[{k}].min_score", f"{m:g} is above the maximum score {TOTAL_POINTS:g}"))
            if prev is not None and m <= prev:
                out.append((f"grades[{k}].min_score", f"grades go from lowest to highest: {m:g} is not above "
                                                      f"the previous grade's {prev:g}"))
            prev = m
        for c, cond in _dicts(g.get("requires")):
            ref = cond.get("ref")
            if not isinstance(ref, str):
                continue
            where = f"grades[{k}].requires[{c}].ref"
            if "." not in ref:
                if ref not in indicator_ids:
                    out.append((where, f"'{ref}' is not the id of an indicator of this system"))
            elif not METRIC.match(ref):
                out.append((where, f"'{ref}' is not a metric key (lowercase words joined by dots)"))
            elif ref not in metrics and ref not in KNOWN_METRICS and not ref.startswith("manual."):
                out.append((where, f"metric '{ref}' is neither read by an indicator or gate of this system nor "
                                   "computed by zerocarbon"))
    return out


def _text(d: dict) -> Text:
    return Text(en=str(d["en"]), zh=str(d["zh"]))


def _rule(d: dict) -> Rule:
    return Rule(kind=d["kind"], direction=d.get("direction", "higher"),
                baseline=float(d["baseline"]) if "baseline" in d else None,
                leading=float(d["leading"]) if "leading" in d else None,
                steps=tuple((float(s["value"]), float(s["fraction"])) for s in d.get("steps", [])),
                items=tuple(_text(t) for t in d.get("items", [])))


def _build(doc: dict, sha: str) -> IndexSystem:
    bounds = tuple(doc.get("boundaries", ["site"]))
    dims = tuple(
        Dimension(id=dim["id"], name=_text(dim["name"]), indicators=tuple(
            Indicator(id=i["id"], name=_text(i["name"]), metric=i["metric"], unit=i["unit"], rule=_rule(i["rule"]),
                      points=float(i["points"]), mandatory=bool(i.get("mandatory", False)), status=i["status"],
                      basis=tuple(i.get("basis", [])), measures=tuple(i.get("measures", [])),
                      boundaries=tuple(i.get("boundaries", bounds)), rationale=i.get("rationale", ""))
            for i in dim["indicators"]))
        for dim in doc["dimensions"])
    gates = tuple(Gate(id=g["id"], name=_text(g["name"]), metric=g["metric"], op=g["op"], value=float(g["value"]),
                       status=g["status"], basis=tuple(g.get("basis", [])),
                       boundaries=tuple(g.get("boundaries", bounds)), rationale=g.get("rationale", ""))
                  for g in doc.get("gates", []))
    grades = tuple(Grade(id=g["id"], name=_text(g["name"]), min_score=float(g["min_score"]),
                         requires=tuple(Condition(c["ref"], c["op"], float(c["value"])) for c in g.get("requires", [])),
                         status=g.get("status", "proposed"), rationale=g.get("rationale", ""))
                   for g in doc.get("grades", []))
    return IndexSystem(id=doc["id"], version=str(doc["version"]), name=_text(doc["name"]),
                       description=_text(doc["description"]), sources=tuple(doc.get("sources", [])),
                       boundaries=bounds, gates=gates, dimensions=dims, grades=grades, sha256=sha)


def parse_index_system(text: str, origin: str) -> IndexSystem:
    """Read and check an index-system YAML text; ``origin`` (a file name) is named in every problem.

    Raises :class:`InputError` with one :class:`Problem` per bad field (``column`` = its JSON path)."""
    def refuse(items):
        raise InputError([Problem(source=origin, row=row, column=col, reason=why) for row, col, why in items])

    try:
        doc = safe_yaml.load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: a date like 2025-13-01
        mark = getattr(exc, "problem_mark", None)
        refuse([(mark.line + 1 if mark else None, None, f"not valid YAML: {getattr(exc, 'problem', exc)}")])
    if not isinstance(doc, dict):
        refuse([(None, "$", "an index system must be a YAML mapping (id, version, name, dimensions, ...)")])
    found = {}
    for e in _validator().iter_errors(doc):
        for col, why in _schema_problems(e):
            found.setdefault((col, why), None)
    for col in _non_finite(doc, []):
        found.setdefault((col, "must be a finite number (not .inf or .nan)"), None)
    for col, why in _cross_field(doc):
        found.setdefault((col, why), None)
    if found:
        refuse([(None, col, why) for col, why in found])
    return _build(doc, hashlib.sha256(text.encode("utf-8")).hexdigest())


def shipped_index_systems() -> dict[str, IndexSystem]:
    """The index systems shipped in data/index/, by id."""
    return dict(_shipped())


@cache
def _shipped() -> tuple[tuple[str, IndexSystem], ...]:
    folder = files("zerocarbon").joinpath("data", "index")
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            system = parse_index_system(entry.read_text(encoding="utf-8"), f"data/index/{entry.name}")
            out.append((system.id, system))
    return tuple(out)
