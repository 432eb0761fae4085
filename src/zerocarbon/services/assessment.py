"""The zero-carbon factory assessment: index systems (shipped and an organisation's own), assessments of a site or
a workshop for a year, their computed metrics, manual entries with evidence and their review, the score, grade,
gates and gap list, and finalisation (docs/assessment.md).

Who may do what is checked by the shells (``assess.read``, ``assess.manage``, ``assess.review``); the one rule
that depends on the data is checked here: nobody reviews an entry they made themselves. A manual value counts
in the score only once accepted by a reviewer; before that it scores 0 (``awaiting_review``). A final
assessment is not changed any more. Every change writes an audit entry in the same transaction.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from zerocarbon.core.assessment.index import IndexSystem, parse_index_system, shipped_index_systems
from zerocarbon.core.assessment.scoring import MetricValue, ScoreResult, entry_problem, score
from zerocarbon.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError, Problem, StateError
from zerocarbon.services import assessment_metrics as metrics
from zerocarbon.services.assessment_metrics import SITE, WORKSHOP, Boundary
from zerocarbon.services.suppliers import MAX_EVIDENCE_BYTES
from zerocarbon.store import assessments as store
from zerocarbon.store import repos

MAX_SYSTEM_BYTES = 1 * 2**20
DRAFT, FINAL = "draft", "final"
PENDING, ACCEPTED, RETURNED = "pending", "accepted", "returned"
Progress = Callable[[str, int, int], None]


def now() -> datetime:
    return datetime.now(timezone.utc)


def _org_id(s, org: str) -> int:
    return repos.organisation_id(s, org)


# --- index systems -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SystemInfo:
    id: str
    version: str
    name_en: str
    name_zh: str
    origin: str  # shipped | own
    sha256: str
    boundaries: list[str]
    indicators: int
    manual: int
    created_by: str | None = None
    created_at: datetime | None = None


def _info(system: IndexSystem, origin: str, row: store.IndexSystemRow | None = None) -> SystemInfo:
    inds = system.indicators()
    return SystemInfo(system.id, system.version, system.name.en, system.name.zh, origin, system.sha256,
                      list(system.boundaries), len(inds), sum(1 for i in inds if i.manual),
                      row.created_by if row else None, row.created_at if row else None)


def _decode(source: str, data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_SYSTEM_BYTES:
        raise InputError([Problem(source, None, None, f"is larger than {MAX_SYSTEM_BYTES // 2**20} MB")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(source, None, None, f"is not UTF-8 text: {exc}")]) from None


def _check_measures(system: IndexSystem, source: str) -> IndexSystem:
    """Refuse measure ids the shipped abatement catalogue does not hold (a gap would link to no measure)."""
    from zerocarbon.core.pathway.measures import shipped_catalogue

    known = {m.id for m in shipped_catalogue().measures}
    problems = [Problem(source, None, f"dimensions[{d}].indicators[{i}].measures[{k}]",
                        f"'{m}' is not a measure of the shipped abatement catalogue")
                for d, dim in enumerate(system.dimensions) for i, ind in enumerate(dim.indicators)
                for k, m in enumerate(ind.measures) if m not in known]
    if problems:
        raise InputError(problems)
    return system


def validate_system(source: str, data: bytes | str) -> IndexSystem:
    """The parsed index system, or InputError naming every problem with its JSON path (column)."""
    return _check_measures(parse_index_system(_decode(source, data), source), source)


def list_systems(sessions: sessionmaker | None = None, org: str | None = None) -> list[SystemInfo]:
    """The shipped systems and, with an organisation, its own."""
    out = [_info(s, "shipped") for s in shipped_index_systems().values()]
    if sessions is not None and org is not None:
        with sessions.begin() as s:
            for row in store.systems(s, _org_id(s, org)):
                out.append(_info(parse_index_system(row.yaml_text, f"stored system {row.system_id}"), "own", row))
    return out


@dataclass(frozen=True)
class LoadedSystem:
    system: IndexSystem
    origin: str
    text: str | None  # own systems: the stored YAML


def _system(s, org_id: int | None, system_id: str, version: str | None = None) -> LoadedSystem:
    if org_id is not None:
        row = store.system(s, org_id, system_id, version)
        if row is not None:
            return LoadedSystem(parse_index_system(row.yaml_text, f"stored system {system_id}"), "own", row.yaml_text)
    shipped = shipped_index_systems()
    if system_id in shipped and version in (None, shipped[system_id].version):
        return LoadedSystem(shipped[system_id], "shipped", None)
    known = sorted(shipped) + ([] if org_id is None else sorted({r.system_id for r in store.systems(s, org_id)}))
    raise NotFoundError(f"no index system '{system_id}'{f' version {version}' if version else ''}; known: "
                        f"{', '.join(known) or 'none'}")


def get_system(sessions: sessionmaker | None, org: str | None, system_id: str, version: str | None = None
               ) -> LoadedSystem:
    """An index system by id: the organisation's own (newest version unless ``version``), else a shipped one."""
    if sessions is None or org is None:
        return _system(None, None, system_id, version)
    with sessions.begin() as s:
        return _system(s, _org_id(s, org), system_id, version)


def _rule_dict(rule) -> dict:
    return {"kind": rule.kind, "direction": rule.direction, "baseline": rule.baseline, "leading": rule.leading,
            "steps": [list(x) for x in rule.steps], "items": [_text(x) for x in rule.items]}


def system_dict(system: IndexSystem) -> dict:
    """An index system as plain JSON: gates, dimensions with their indicators, grades, sources."""
    return {
        "id": system.id, "version": system.version, "name": _text(system.name),
        "description": _text(system.description), "sha256": system.sha256, "boundaries": list(system.boundaries),
        "sources": [dict(x) for x in system.sources],
        "gates": [{"id": g.id, "name": _text(g.name), "metric": g.metric, "op": g.op, "value": g.value,
                   "status": g.status, "basis": list(g.basis)} for g in system.gates],
        "dimensions": [{"id": d.id, "name": _text(d.name), "weight": d.weight, "indicators": [
            {"id": i.id, "name": _text(i.name), "metric": i.metric, "unit": i.unit, "rule": _rule_dict(i.rule),
             "points": i.points, "mandatory": i.mandatory, "status": i.status, "basis": list(i.basis),
             "measures": list(i.measures), "boundaries": list(i.boundaries), "manual": i.manual}
            for i in d.indicators]} for d in system.dimensions],
        "grades": [{"id": g.id, "name": _text(g.name), "min_score": g.min_score,
                    "requires": [{"ref": c.ref, "op": c.op, "value": c.value} for c in g.requires]}
                   for g in system.grades],
    }


def add_system(sessions: sessionmaker, org: str, source: str, data: bytes | str, *, actor: str) -> SystemInfo:
    """Store an organisation's own index system (refused with every problem and its JSON path; nothing stored).
    The same id and version again with other text is a conflict: a new text needs a new version."""
    text = _decode(source, data)
    system = _check_measures(parse_index_system(text, source), source)
    if system.id in shipped_index_systems():
        raise ConflictError(f"'{system.id}' is the id of a shipped index system; give your own system its own id")
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        old = store.system(s, org_id, system.id, system.version)
        if old is not None:
            if old.sha256 == system.sha256:
                return _info(system, "own", old)
            raise ConflictError(f"{system.id} version {system.version} is already stored with other content; "
                                "raise the version to store a changed system")
        row = store.IndexSystemRow(organisation_id=org_id, system_id=system.id, version=system.version,
                                   name=system.name.en[:512], yaml_text=text, sha256=system.sha256,
                                   source=Path(source).name[:256], created_at=now(), created_by=actor)
        store.add(s, row)
        repos.audit(s, actor, "assess.system", f"index-system:{system.id}@{system.version}", org_id=org_id,
                    sha256=system.sha256, source=row.source, indicators=len(system.indicators()))
        return _info(system, "own", row)


# --- metric values as stored ---------------------------------------------------------------------------------------

def _to_json(v: MetricValue) -> dict:
    return {"value": v.value, "unit": v.unit, "source": v.source, "reviewed": v.reviewed,
            "lineage": metrics._plain(v.lineage), "note": v.note}


def _from_json(d: dict) -> MetricValue:
    return MetricValue(d["value"], d["unit"], d["source"], d.get("reviewed", True), d.get("lineage", {}),
                       d.get("note", ""))


@dataclass(frozen=True)
class EnergyData:
    """The meter data the metrics read: the lake folder, the meter registry CSV and the production counts."""

    lake: Path | None = None
    meters: Path | None = None
    production: Path | None = None

    @classmethod
    def from_server(cls) -> "EnergyData":
        """What the server is configured with (``services.energy_report.source``)."""
        from zerocarbon.services import energy_report

        src = energy_report.source()
        return cls(src.lake, src.meters, src.production)


def _context(sessions, org: str, row: store.AssessmentRow, energy: EnergyData) -> metrics.MetricContext:
    from zerocarbon.services.meter_import import read_registry

    registry = read_registry(energy.meters) if energy.meters is not None else None
    b = Boundary(row.boundary_kind, row.site, row.workshop, tuple(row.lines), tuple(row.meters))
    return metrics.MetricContext(sessions, org, row.year, b, row.factor_set, row.base_year, energy.lake, registry,
                                 energy.production)


def _computed(system: IndexSystem, ctx: metrics.MetricContext, progress: Progress) -> dict[str, dict]:
    keys = sorted(k for k in system.metrics() if not k.startswith("manual."))
    values = metrics.compute(ctx, keys, progress)
    out = {k: _to_json(v) for k, v in values.items()}
    for k in keys:
        if k not in out:
            out[k] = _to_json(metrics.unavailable(system.unit_of(k) or "", "no provider of this metric is installed"))
    return out


# --- assessments ---------------------------------------------------------------------------------------------------

def _boundary(s, org_id: int, org: str, site: str, workshop: str | None, lines, meters) -> tuple[str, list, list]:
    sites = {x.code for x in repos.load_organisation(s, org)[1].sites}
    problems = []
    if site not in sites:
        problems.append(Problem("boundary", None, "site", f"{org} has no site '{site}'; its sites: "
                                                          f"{', '.join(sorted(sites))}"))
    lines, meters = [x.strip() for x in lines or () if x.strip()], [x.strip() for x in meters or () if x.strip()]
    if workshop is not None and not workshop.strip():
        problems.append(Problem("boundary", None, "workshop", "a workshop needs a name"))
    if workshop and not (lines or meters):
        problems.append(Problem("boundary", None, "lines", "a workshop needs its lines (or meters)"))
    if not workshop and (lines or meters):
        problems.append(Problem("boundary", None, "workshop", "lines or meters are given: name the workshop"))
    if problems:
        raise InputError(problems)
    return (WORKSHOP if workshop else SITE), lines, meters


def _target_base_year(sessions: sessionmaker, org: str, site: str) -> int | None:
    """The base year of the organisation's (or the site's) Scope 1+2 targets when they agree on one: the year the
    change metrics compare with unless the assessment names another."""
    from zerocarbon.services import targets

    years = {t["base_year"] for t in targets.list_targets(sessions, org)
             if t.get("scopes") != "s3" and t.get("boundary") in (None, "", "org", site)}
    return years.pop() if len(years) == 1 else None


def create(sessions: sessionmaker, org: str, system_id: str, year: int, site: str, *, workshop: str | None = None,
           lines=(), meters=(), base_year: int | None = None, factor_set: str | None = None,
           energy: EnergyData | None = None, actor: str, progress: Progress = lambda key, i, n: None) -> dict:
    """Create an assessment of ``site`` (or of a workshop of it: its ``lines`` and extra ``meters``), compute every
    computed metric of the system and score it. Returns :func:`get`'s view."""
    energy = energy or EnergyData.from_server()
    base_year = base_year if base_year is not None else _target_base_year(sessions, org, site)
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        loaded = _system(s, org_id, system_id)
        kind, lines, meters = _boundary(s, org_id, org, site, workshop, lines, meters)
        if kind not in loaded.system.boundaries:
            raise InputError([Problem("boundary", None, "workshop", f"index system {system_id} assesses "
                                      f"{', '.join(loaded.system.boundaries)} boundaries, not a {kind}")])
    row = store.AssessmentRow(system_id=loaded.system.id, system_version=loaded.system.version,
                              system_sha256=loaded.system.sha256, system_origin=loaded.origin, year=year,
                              base_year=base_year, factor_set=factor_set, boundary_kind=kind, site=site,
                              workshop=workshop.strip() if workshop else None, lines=lines, meters=meters,
                              status=DRAFT, metrics={}, result=None)
    ctx = _context(sessions, org, row, energy)
    if kind == WORKSHOP and ctx.meters is not None:
        metrics.boundary_meters(ctx.meters, ctx.boundary)  # unknown lines/meters refused before anything is stored
    computed = _computed(loaded.system, ctx, progress)
    with sessions.begin() as s:
        org_id = _org_id(s, org)
        row.organisation_id, row.metrics = org_id, computed
        row.created_at = row.updated_at = now()
        row.created_by = row.updated_by = actor
        store.add(s, row)
        row.result = _result_json(_score(s, org_id, row, loaded.system))
        repos.audit(s, actor, "assess.create", f"assessment:{row.id}", org_id=org_id, system=loaded.system.id,
                    version=loaded.system.version, sha256=loaded.system.sha256, year=year, boundary=kind, site=site,
                    workshop=row.workshop, lines=lines, meters=meters,
                    computed={k: v["value"] for k, v in computed.items()}, total=row.result["total"])
        assessment_id = row.id
    return get(sessions, org, assessment_id)


def recompute(sessions: sessionmaker, org: str, assessment_id: int, *, energy: EnergyData | None = None,
              actor: str, progress: Progress = lambda key, i, n: None) -> dict:
    """Compute the metrics of a draft assessment again (after new data) and score it."""
    energy = energy or EnergyData.from_server()
    with sessions.begin() as s:
        row = _draft(s, org, assessment_id)
        system = _system(s, row.organisation_id, row.system_id, row.system_version).system
    computed = _computed(system, _context(sessions, org, row, energy), progress)
    with sessions.begin() as s:
        row = _draft(s, org, assessment_id)
        row.metrics, row.updated_at, row.updated_by = computed, now(), actor
        row.result = _result_json(_score(s, row.organisation_id, row, system))
        repos.audit(s, actor, "assess.recompute", f"assessment:{row.id}", org_id=row.organisation_id,
                    computed={k: v["value"] for k, v in computed.items()}, total=row.result["total"])
    return get(sessions, org, assessment_id)


def _row(s, org: str, assessment_id: int) -> store.AssessmentRow:
    row = store.assessment(s, _org_id(s, org), assessment_id)
    if row is None:
        raise NotFoundError(f"no assessment {assessment_id} in {org}")
    return row


def _draft(s, org: str, assessment_id: int) -> store.AssessmentRow:
    row = _row(s, org, assessment_id)
    if row.status != DRAFT:
        raise StateError(f"assessment {assessment_id} is final; start a new assessment to change it")
    return row


def manual_metrics(system: IndexSystem) -> dict[str, str]:
    """Every ``manual.*`` metric the system reads (indicators, gates, grade conditions) with its unit."""
    return {m: system.unit_of(m) or "" for m in sorted(system.metrics()) if m.startswith("manual.")}


def _current_entries(s, org_id: int, assessment_id: int) -> dict[str, store.ManualEntryRow]:
    return {e.metric: e for e in store.entries(s, org_id, assessment_id)}  # the newest of a metric wins


def _manual_value(e: store.ManualEntryRow) -> MetricValue:
    lineage = {"entry": e.id, "evidence": e.evidence_name, "sha256": e.evidence_sha256, "entered_by": e.entered_by,
               "review_state": e.review_state, "reviewed_by": e.reviewed_by}
    note = f"returned: {e.review_comment}" if e.review_state == RETURNED else (e.note or "")
    return MetricValue(e.value, e.unit, "manual", e.review_state == ACCEPTED, lineage, note)


def _values(s, org_id: int, row: store.AssessmentRow) -> dict[str, MetricValue]:
    values = {k: _from_json(v) for k, v in (row.metrics or {}).items()}
    values.update({k: _manual_value(e) for k, e in _current_entries(s, org_id, row.id).items()})
    return values


def _score(s, org_id: int, row: store.AssessmentRow, system: IndexSystem) -> ScoreResult:
    return score(system, _values(s, org_id, row), row.boundary_kind)


def _text(t) -> dict:
    return {"en": t.en, "zh": t.zh}


def _num(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def _result_json(r: ScoreResult) -> dict:
    """The score as plain JSON (what is stored and what the shells show)."""
    dims = {d.id: d for d in r.system.dimensions}
    return {
        "total": r.total, "max_total": r.max_total, "scale": r.scale, "boundary": r.boundary,
        "grade": None if r.grade is None else {"id": r.grade.id, "name": _text(r.grade.name)},
        "next_grade": None if r.next_grade is None else {"id": r.next_grade.id, "name": _text(r.next_grade.name)},
        "missing_for_next": list(r.missing_for_next),
        "dimensions": [{"id": d, "name": _text(dims[d].name), "score": sc, "max": mx} for d, sc, mx in r.dimensions],
        "zeroed": [list(z) for z in r.zeroed],
        "indicators": [{
            "id": x.indicator.id, "name": _text(x.indicator.name), "dimension": x.dimension,
            "metric": x.indicator.metric, "unit": x.indicator.unit, "manual": x.indicator.manual,
            "mandatory": x.indicator.mandatory, "basis_status": x.indicator.status, "basis": list(x.indicator.basis),
            "measures": list(x.indicator.measures), "points": x.points, "max_points": x.max_points,
            "status": x.status, "reason": x.reason, "fraction": x.fraction,
            "value": None if x.value is None else _num(x.value.value),
            "value_unit": None if x.value is None else x.value.unit,
            "source": None if x.value is None else x.value.source,
            "note": "" if x.value is None else x.value.note,
            "lineage": {} if x.value is None else metrics._plain(x.value.lineage)} for x in r.indicators],
        "gates": [{"id": g.gate.id, "name": _text(g.gate.name), "metric": g.gate.metric, "op": g.gate.op,
                   "value": g.gate.value, "passed": g.passed, "reason": g.reason} for g in r.gates],
        "gaps": [{"indicator": g.indicator.id, "name": _text(g.indicator.name), "metric": g.indicator.metric,
                  "unit": g.indicator.unit, "points_short": g.points_short, "gain": g.gain, "value": _num(g.value),
                  "needed": _num(g.needed), "measures": list(g.measures), "status": g.status} for g in r.gaps],
        "shortfalls": [{"kind": x.kind, "ref": x.ref, "op": x.op, "target": x.target, "actual": x.actual,
                        "text": x.text} for x in r.shortfalls],
    }


def _entry_json(e: store.ManualEntryRow) -> dict:
    return {"id": e.id, "metric": e.metric, "value": e.value, "unit": e.unit, "note": e.note,
            "evidence": {"name": e.evidence_name, "sha256": e.evidence_sha256, "size": e.evidence_size},
            "entered_by": e.entered_by, "entered_at": e.entered_at, "review_state": e.review_state,
            "reviewed_by": e.reviewed_by, "reviewed_at": e.reviewed_at, "review_comment": e.review_comment}


def _summary(row: store.AssessmentRow) -> dict:
    res = row.result or {}
    return {"id": row.id, "system": {"id": row.system_id, "version": row.system_version, "sha256": row.system_sha256,
                                     "origin": row.system_origin},
            "year": row.year, "base_year": row.base_year, "factor_set": row.factor_set,
            "boundary": {"kind": row.boundary_kind, "site": row.site, "workshop": row.workshop,
                         "lines": list(row.lines), "meters": list(row.meters)},
            "status": row.status, "total": res.get("total"), "max_total": res.get("max_total"),
            "grade": res.get("grade"), "created_by": row.created_by, "created_at": row.created_at,
            "updated_by": row.updated_by, "updated_at": row.updated_at, "finalised_by": row.finalised_by,
            "finalised_at": row.finalised_at}


def boundary_options(sessions: sessionmaker, org: str) -> dict:
    """What the start form offers: the organisation's sites and, where the server has meter data, each site's
    metered lines and meters (the parts a workshop is made of)."""
    from zerocarbon.services import accounting

    sites = [s.code for s in accounting.organisation(sessions, org).sites]
    energy = EnergyData.from_server()
    lines: dict[str, list[str]] = {}
    meters: dict[str, list[str]] = {}
    if energy.meters is not None and Path(energy.meters).is_file():
        from zerocarbon.services.meter_import import read_registry

        for m in read_registry(energy.meters).values():
            if m.line:
                lines.setdefault(m.site, []).append(m.line)
            meters.setdefault(m.site, []).append(m.id)
    return {"sites": sites, "lines": {k: sorted(set(v)) for k, v in lines.items()},
            "meters": {k: sorted(v) for k, v in meters.items()}, "year": datetime.now(timezone.utc).year - 1}


def list_assessments(sessions: sessionmaker, org: str, year: int | None = None) -> list[dict]:
    with sessions.begin() as s:
        return [_summary(r) for r in store.assessments(s, _org_id(s, org), year)]


def get(sessions: sessionmaker, org: str, assessment_id: int) -> dict:
    """An assessment with its score (grade, dimensions, indicators with lineage, gates, gaps) and its entries."""
    with sessions.begin() as s:
        row = _row(s, org, assessment_id)
        system = _system(s, row.organisation_id, row.system_id, row.system_version).system
        entries = store.entries(s, row.organisation_id, row.id)
        current = _current_entries(s, row.organisation_id, row.id)
        out = _summary(row)
        out["system"].update(name=_text(system.name))
        out["result"] = row.result
        out["entries"] = [_entry_json(e) for e in entries]
        out["current_entries"] = {k: _entry_json(e) for k, e in current.items()}
        out["manual_metrics"] = sorted(manual_metrics(system).items())
        return out


def gaps(sessions: sessionmaker, org: str, assessment_id: int) -> list[dict]:
    """The gap list of the last scoring, biggest gain first, each with its linked measure ids."""
    got = get(sessions, org, assessment_id)
    return sorted((got["result"] or {}).get("gaps", []), key=lambda g: -g["gain"])


# --- manual entries and their review ------------------------------------------------------------------------------

def enter(sessions: sessionmaker, org: str, assessment_id: int, metric: str, value: float, *, evidence_name: str,
          evidence: bytes, note: str | None = None, actor: str) -> dict:
    """Enter the value of a manual metric with its evidence file; it waits for review before it counts."""
    problems = []
    finite = isinstance(value, (int, float)) and math.isfinite(value)
    if not finite:
        problems.append(Problem("entry", None, "value", f"'{value}' is not a finite number"))
    if not evidence:
        problems.append(Problem("entry", None, "evidence", "an evidence file is required (it must not be empty)"))
    elif len(evidence) > MAX_EVIDENCE_BYTES:
        problems.append(Problem(evidence_name, None, "evidence", f"is larger than {MAX_EVIDENCE_BYTES // 2**20} MB"))
    with sessions.begin() as s:
        row = _draft(s, org, assessment_id)
        system = _system(s, row.organisation_id, row.system_id, row.system_version).system
        manual = manual_metrics(system)
        if metric not in manual:
            problems.append(Problem("entry", None, "metric", f"'{metric}' is not a manual metric of {system.id}; "
                                                             f"its manual metrics: {', '.join(sorted(manual))}"))
        elif finite and (why := entry_problem(system, metric, float(value))):
            problems.append(Problem("entry", None, "value", f"{metric}: {why}"))
        if problems:
            raise InputError(problems)
        sha = hashlib.sha256(evidence).hexdigest()
        e = store.ManualEntryRow(organisation_id=row.organisation_id, assessment_id=row.id, metric=metric,
                                 value=float(value), unit=manual[metric] or "", note=(note or "").strip() or None,
                                 evidence_name=Path(evidence_name).name[:256] or "evidence", evidence_sha256=sha,
                                 evidence_size=len(evidence), evidence=evidence, entered_by=actor, entered_at=now(),
                                 review_state=PENDING)
        store.add(s, e)
        row.result = _result_json(_score(s, row.organisation_id, row, system))
        row.updated_at, row.updated_by = now(), actor
        repos.audit(s, actor, "assess.enter", f"assessment:{row.id}", org_id=row.organisation_id, entry=e.id,
                    metric=metric, value=float(value), evidence=e.evidence_name, sha256=sha)
        return _entry_json(e)


def review(sessions: sessionmaker, org: str, assessment_id: int, metric: str, accept: bool,
           comment: str | None = None, *, actor: str) -> dict:
    """Accept or return the current entry of ``metric``. A return needs a comment; the person who entered the
    value may not review it."""
    comment = (comment or "").strip()
    if not accept and not comment:
        raise InputError([Problem("review", None, "comment", "say why the value is returned")])
    with sessions.begin() as s:
        row = _draft(s, org, assessment_id)
        e = _current_entries(s, row.organisation_id, row.id).get(metric)
        if e is None:
            raise NotFoundError(f"assessment {assessment_id} has no entry of {metric}")
        if e.entered_by == actor:
            raise PermissionDeniedError(f"{actor} entered this value and may not review it; another reviewer signs "
                                        "it off")
        if e.review_state != PENDING:
            raise StateError(f"the entry of {metric} is already {e.review_state}; enter it again to have it reviewed")
        e.review_state = ACCEPTED if accept else RETURNED
        e.reviewed_by, e.reviewed_at, e.review_comment = actor, now(), comment or None
        system = _system(s, row.organisation_id, row.system_id, row.system_version).system
        row.result = _result_json(_score(s, row.organisation_id, row, system))
        row.updated_at, row.updated_by = now(), actor
        repos.audit(s, actor, "assess.review", f"assessment:{row.id}", org_id=row.organisation_id, entry=e.id,
                    metric=metric, state=e.review_state, comment=comment)
        return _entry_json(e)


def evidence_file(sessions: sessionmaker, org: str, assessment_id: int, entry_id: int) -> tuple[str, str, bytes]:
    """(file name, SHA-256, content) of an entry's evidence."""
    with sessions.begin() as s:
        row = _row(s, org, assessment_id)
        e = store.entry(s, row.organisation_id, entry_id)
        if e is None or e.assessment_id != row.id:
            raise NotFoundError(f"no entry {entry_id} in assessment {assessment_id}")
        return e.evidence_name, e.evidence_sha256, e.evidence


def finalise(sessions: sessionmaker, org: str, assessment_id: int, *, actor: str) -> dict:
    """Freeze an assessment: no pending entry may remain (review them first)."""
    with sessions.begin() as s:
        row = _draft(s, org, assessment_id)
        pending = sorted(m for m, e in _current_entries(s, row.organisation_id, row.id).items()
                         if e.review_state == PENDING)
        if pending:
            raise StateError(f"entries awaiting review: {', '.join(pending)}; review them before finalising")
        row.status, row.finalised_at, row.finalised_by = FINAL, now(), actor
        repos.audit(s, actor, "assess.finalise", f"assessment:{row.id}", org_id=row.organisation_id,
                    total=(row.result or {}).get("total"), grade=((row.result or {}).get("grade") or {}).get("id"))
    return get(sessions, org, assessment_id)


def score_result(sessions: sessionmaker, org: str, assessment_id: int) -> ScoreResult:
    """The assessment scored now from its stored values (what its charts draw)."""
    with sessions.begin() as s:
        row = _row(s, org, assessment_id)
        system = _system(s, row.organisation_id, row.system_id, row.system_version).system
        return _score(s, row.organisation_id, row, system)


def write_charts(sessions: sessionmaker, org: str, assessment_id: int, out: Path, lang: str = "zh"
                 ) -> dict[str, Path]:
    """The radar of the dimensions and the gap chart of an assessment as PNG files in ``out``."""
    from zerocarbon.io.assessment_charts import gap_chart, radar_chart

    result = score_result(sessions, org, assessment_id)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return {"radar": radar_chart(result, out / f"assessment_{assessment_id}_radar.png", lang),
            "gaps": gap_chart(result, out / f"assessment_{assessment_id}_gaps.png", lang)}


__all__ = ["SystemInfo", "system_dict", "boundary_options", "MAX_EVIDENCE_BYTES", "MAX_SYSTEM_BYTES", "score_result", "write_charts", "LoadedSystem", "EnergyData", "validate_system", "list_systems", "get_system", "add_system",
           "create", "recompute", "list_assessments", "get", "gaps", "enter", "review", "evidence_file", "finalise"]
