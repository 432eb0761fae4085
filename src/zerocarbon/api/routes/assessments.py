"""Zero-carbon factory assessments: index systems (shipped, and an organisation's own), assessments of a site or a
workshop with their score, grade, gates, indicators with lineage and gap list, manual values with evidence and
their review. Reading needs ``assess.read``; creating, recomputing, entering values and storing a system
``assess.manage``; accepting or returning a value ``assess.review`` (never a value one entered oneself).
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from zerocarbon.api.deps import Acting, CurrentPrincipal, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.uploads import safe_name
from zerocarbon.services import assessment

router = APIRouter(tags=["assessments"], responses=RESPONSES)

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
SystemId = Annotated[str, Path(max_length=128, description="index system id")]
Metric = Annotated[str, Path(max_length=128, description="metric key, e.g. manual.plan_items")]
ORG = "/orgs/{org}"


def _read(upload: UploadFile, limit: int) -> tuple[str, bytes]:
    return safe_name(upload.filename), upload.file.read(limit + 1)


def _system_out(loaded: assessment.LoadedSystem) -> dict[str, Any]:
    return {**assessment.system_dict(loaded.system), "origin": loaded.origin, "yaml": loaded.text}


class AssessmentIn(BaseModel):
    system: str = Field(max_length=128, description="index system id (shipped or the organisation's own)")
    year: int = Field(ge=1990, le=2100)
    site: str = Field(max_length=64)
    workshop: str | None = Field(default=None, max_length=128, description="a workshop boundary: its name")
    lines: list[str] = Field(default_factory=list, max_length=200, description="the workshop's lines")
    meters: list[str] = Field(default_factory=list, max_length=200, description="further meters of the workshop")
    base_year: int | None = Field(default=None, ge=1990, le=2100)
    factor_set: str | None = Field(default=None, max_length=128, description="default: the inventory's")


class ReviewIn(BaseModel):
    accept: bool
    comment: str | None = Field(default=None, max_length=4000, description="required when returning")


@router.get("/index-systems")
def shipped_systems(principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """The index systems shipped with zerocarbon."""
    return [s.__dict__ for s in assessment.list_systems()]


@router.get("/index-systems/{system_id}")
def shipped_system(system_id: SystemId, principal: CurrentPrincipal) -> dict[str, Any]:
    """A shipped index system: gates, dimensions, indicators (metric, rule, points, basis, measures), grades."""
    return _system_out(assessment.get_system(None, None, system_id))


@router.post("/index-systems/validate")
def validate_system(principal: CurrentPrincipal,
                    file: Annotated[UploadFile, File(description="index-system YAML")]) -> dict[str, Any]:
    """Check an index-system file without storing it: its summary, or 400 with every problem and its JSON path."""
    name, data = _read(file, assessment.MAX_SYSTEM_BYTES)
    return {"valid": True, **assessment.system_dict(assessment.validate_system(name, data))}


@router.get(ORG + "/index-systems")
def org_systems(acting: Annotated[Acting, requires("assess.read")]) -> list[dict[str, Any]]:
    """The shipped index systems and the organisation's own."""
    return [s.__dict__ for s in assessment.list_systems(acting.sessions, acting.org)]


@router.get(ORG + "/index-systems/{system_id}")
def org_system(system_id: SystemId, acting: Annotated[Acting, requires("assess.read")],
               version: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
    """An index system the organisation may assess against (its own first, then the shipped ones)."""
    return _system_out(assessment.get_system(acting.sessions, acting.org, system_id, version))


@router.post(ORG + "/index-systems", status_code=201)
def add_system(acting: Annotated[Acting, requires("assess.manage")],
               file: Annotated[UploadFile, File(description="your own index-system YAML (as data/index/*.yaml)")]
               ) -> dict[str, Any]:
    """Store the organisation's own index system; refused with every problem and its JSON path, nothing stored."""
    name, data = _read(file, assessment.MAX_SYSTEM_BYTES)
    return assessment.add_system(acting.sessions, acting.org, name, data, actor=acting.actor).__dict__


@router.get(ORG + "/assessments")
def list_assessments(acting: Annotated[Acting, requires("assess.read")],
                     year: Annotated[int | None, Query(ge=1990, le=2100)] = None) -> list[dict[str, Any]]:
    """The organisation's assessments, newest first, with score and grade."""
    return assessment.list_assessments(acting.sessions, acting.org, year)


@router.post(ORG + "/assessments", status_code=201)
def create_assessment(body: AssessmentIn, acting: Annotated[Acting, requires("assess.manage")]) -> dict[str, Any]:
    """Assess a site (or a workshop: its lines and meters) for a year against an index system: every computed
    metric from the stored inventory and the server's meter data, then the score."""
    return assessment.create(acting.sessions, acting.org, body.system, body.year, body.site, workshop=body.workshop,
                             lines=body.lines, meters=body.meters, base_year=body.base_year,
                             factor_set=body.factor_set, actor=acting.actor)


@router.get(ORG + "/assessments/{assessment_id}")
def get_assessment(assessment_id: Id, acting: Annotated[Acting, requires("assess.read")]) -> dict[str, Any]:
    """An assessment with its score, grade, dimensions, gates, indicators, gaps and manual entries."""
    return assessment.get(acting.sessions, acting.org, assessment_id)


@router.post(ORG + "/assessments/{assessment_id}/recompute")
def recompute(assessment_id: Id, acting: Annotated[Acting, requires("assess.manage")]) -> dict[str, Any]:
    """Compute the metrics of a draft assessment again from the current data and score it."""
    return assessment.recompute(acting.sessions, acting.org, assessment_id, actor=acting.actor)


@router.get(ORG + "/assessments/{assessment_id}/gaps")
def gaps(assessment_id: Id, acting: Annotated[Acting, requires("assess.read")]) -> list[dict[str, Any]]:
    """Points short per indicator, biggest gain first, with the value needed and the linked measure ids."""
    return assessment.gaps(acting.sessions, acting.org, assessment_id)


@router.get(ORG + "/assessments/{assessment_id}/indicators")
def indicators(assessment_id: Id, acting: Annotated[Acting, requires("assess.read")]) -> list[dict[str, Any]]:
    """Each indicator's value (computed with its lineage, or manual with its review state) and points."""
    return (assessment.get(acting.sessions, acting.org, assessment_id)["result"] or {}).get("indicators", [])


@router.post(ORG + "/assessments/{assessment_id}/entries", status_code=201)
def enter(assessment_id: Id, acting: Annotated[Acting, requires("assess.manage")],
          metric: Annotated[str, Form(max_length=128)], value: Annotated[float, Form()],
          evidence: Annotated[UploadFile, File(description="the evidence of the value")],
          note: Annotated[str | None, Form(max_length=4000)] = None) -> dict[str, Any]:
    """Enter a manual metric's value with its evidence file; it counts once another person accepts it."""
    name, data = _read(evidence, assessment.MAX_EVIDENCE_BYTES)
    return assessment.enter(acting.sessions, acting.org, assessment_id, metric, value, evidence_name=name,
                            evidence=data, note=note, actor=acting.actor)


@router.post(ORG + "/assessments/{assessment_id}/entries/{metric}/review")
def review(assessment_id: Id, metric: Metric, body: ReviewIn,
           acting: Annotated[Acting, requires("assess.review")]) -> dict[str, Any]:
    """Accept or return (with a comment) the current value of a manual metric; not one's own entry (403)."""
    return assessment.review(acting.sessions, acting.org, assessment_id, metric, body.accept, body.comment,
                             actor=acting.actor)


@router.get(ORG + "/assessments/{assessment_id}/entries/{entry_id}/evidence", response_class=Response)
def evidence(assessment_id: Id, entry_id: Id, acting: Annotated[Acting, requires("assess.read")]) -> Response:
    """An entry's evidence file as uploaded, its SHA-256 in ``X-Content-SHA256``."""
    name, sha, content = assessment.evidence_file(acting.sessions, acting.org, assessment_id, entry_id)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"', "X-Content-SHA256": sha})


@router.post(ORG + "/assessments/{assessment_id}/finalise")
def finalise(assessment_id: Id, acting: Annotated[Acting, requires("assess.manage")]) -> dict[str, Any]:
    """Freeze the assessment (refused while a value awaits review)."""
    return assessment.finalise(acting.sessions, acting.org, assessment_id, actor=acting.actor)
