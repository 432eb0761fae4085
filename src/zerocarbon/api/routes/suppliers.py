"""Suppliers and the supplier disclosure platform: the registry, scorecards, compliance, campaigns, submissions with
evidence and their review, the reduction programme.

Readers with ``supply.read`` see every supplier; a supplier's user (``supply.submit_own``) sees only the supplier
its membership is tied to. A code or id of another supplier answers 404, as one that does not exist: nobody learns
which other suppliers are there.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from zerocarbon.api.deps import Acting, requires, requires_any
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.uploads import safe_name
from zerocarbon.services import suppliers

router = APIRouter(prefix="/orgs/{org}", tags=["suppliers"], responses=RESPONSES)

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Code = Annotated[str, Path(max_length=64, description="supplier code")]
READ = ("supply.read", "supply.submit_own")


def _viewer(acting: Acting) -> suppliers.Viewer:
    return suppliers.viewer(acting.sessions, acting.org, acting.actor, acting.access.actions)


def _read(upload: UploadFile | None, limit: int) -> tuple[str, bytes]:
    return safe_name(upload.filename), upload.file.read(limit + 1)


def _evidence(files: list[UploadFile] | None) -> dict[str, bytes]:
    return dict(_read(f, suppliers.MAX_EVIDENCE_BYTES) for f in files or [] if f.filename)


class CampaignIn(BaseModel):
    name: str = Field(max_length=256)
    due: date
    indicators: list[str] = Field(default_factory=list, max_length=100,
                                  description="indicator keys of the specification; empty: all")
    suppliers: list[str] = Field(default_factory=list, max_length=10000, description="supplier codes; empty: all")


class ReviewIn(BaseModel):
    accept: bool
    comment: str | None = Field(default=None, max_length=4000, description="required when returning")


@router.get("/suppliers")
def list_suppliers(acting: Annotated[Acting, requires_any(*READ)],
                   tier: Annotated[int | None, Query(ge=1, le=3)] = None,
                   category: Annotated[str | None, Query(max_length=128)] = None,
                   status: Annotated[Literal["passing", "failing"] | None, Query()] = None,
                   q: Annotated[str | None, Query(max_length=128)] = None,
                   as_of: Annotated[date | None, Query(description="evaluation date (default today, UTC)")] = None
                   ) -> list[dict[str, Any]]:
    """Suppliers with their green-specification score and pass/fail (a supplier's user: its own only)."""
    return suppliers.list_suppliers(acting.sessions, acting.org, _viewer(acting), as_of=as_of, tier=tier,
                                    category=category, status=status, search=q)


@router.post("/suppliers", status_code=201)
def import_suppliers(acting: Annotated[Acting, requires("supply.manage")],
                     file: Annotated[UploadFile, File(description="suppliers CSV/XLSX (docs/suppliers.md)")]
                     ) -> dict[str, Any]:
    """Create or update suppliers by code from a file; refused whole with every problem (file, row, column)."""
    name, data = _read(file, suppliers.MAX_FILE_BYTES)
    return suppliers.import_suppliers(acting.sessions, acting.org, name, data, actor=acting.actor).__dict__


@router.get("/suppliers/{code}")
def get_supplier(code: Code, acting: Annotated[Acting, requires_any(*READ)],
                 as_of: Annotated[date | None, Query()] = None) -> dict[str, Any]:
    """A supplier with its scorecard (reason per indicator), requests, submissions with review comments, projects."""
    return suppliers.get_supplier(acting.sessions, acting.org, code, _viewer(acting), as_of)


@router.post("/suppliers/{code}/submissions", status_code=201)
def submit(code: Code, acting: Annotated[Acting, requires("supply.submit_own")],
           file: Annotated[UploadFile, File(description="answers CSV/XLSX: indicator, value, unit, evidence_ref, "
                                                        "evidence_file, valid_until (optional supplier)")],
           evidence: Annotated[list[UploadFile] | None, File(description="evidence files named in "
                                                                         "evidence_file")] = None,
           request_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None) -> dict[str, Any]:
    """Submit answers with evidence; checked row by row and stored whole (waiting for review) or not at all."""
    name, data = _read(file, suppliers.MAX_FILE_BYTES)
    return suppliers.submit(acting.sessions, acting.org, code, name, data, _evidence(evidence), _viewer(acting),
                            request_id, actor=acting.actor)


@router.post("/suppliers/{code}/projects", status_code=201)
def submit_projects(code: Code, acting: Annotated[Acting, requires("supply.submit_own")],
                    file: Annotated[UploadFile, File(description="projects CSV/XLSX")],
                    evidence: Annotated[list[UploadFile] | None, File()] = None) -> list[dict[str, Any]]:
    """Submit reduction projects; a project or evidence file claimed before (by anyone) is refused with reasons."""
    name, data = _read(file, suppliers.MAX_FILE_BYTES)
    return suppliers.submit_projects(acting.sessions, acting.org, code, name, data, _evidence(evidence),
                                     _viewer(acting), actor=acting.actor)


@router.get("/supply/spec")
def get_spec(acting: Annotated[Acting, requires_any(*READ)]) -> dict[str, Any]:
    """The green specification in force: the shipped one or the organisation's own."""
    info = suppliers.get_spec(acting.sessions, acting.org)
    return {"origin": info.origin, "sha256": info.sha256, "name": info.spec.name, "edition": info.spec.edition,
            "pass_mark": info.spec.pass_mark, "indicators": [i.__dict__ for i in info.spec.indicators],
            "engagement": info.spec.engagement, "programme": info.spec.programme, "yaml": info.text}


@router.get("/supply/template", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument."
                                                           "spreadsheetml.sheet": {}}}})
def answers_template(acting: Annotated[Acting, requires_any(*READ)],
                     format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv") -> Response:  # noqa: A002
    """A blank answers file for the green specification in force (one row per indicator), CSV or XLSX."""
    name, media, data = suppliers.answers_template(acting.sessions, acting.org, format)
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.put("/supply/spec")
def set_spec(acting: Annotated[Acting, requires("supply.manage")],
             file: Annotated[UploadFile, File(description="the specification YAML (as the shipped one)")]
             ) -> dict[str, Any]:
    """Store the organisation's own green specification; refused with every problem."""
    name, data = _read(file, suppliers.MAX_FILE_BYTES)
    info = suppliers.set_spec(acting.sessions, acting.org, name, data, actor=acting.actor)
    return {"origin": info.origin, "sha256": info.sha256, "name": info.spec.name, "pass_mark": info.spec.pass_mark}


@router.get("/supply/compliance")
def compliance(acting: Annotated[Acting, requires("supply.read")],
               as_of: Annotated[date | None, Query()] = None,
               by: Annotated[Literal["quarter", "year"], Query()] = "quarter") -> dict[str, Any]:
    """Share of suppliers and of spend meeting the specification, its trend, the supplier-engagement target."""
    return suppliers.compliance_report(acting.sessions, acting.org, as_of=as_of, by=by)


@router.get("/supply/campaigns")
def campaigns(acting: Annotated[Acting, requires_any(*READ)]) -> list[dict[str, Any]]:
    """Campaigns and their requests (a supplier's user: only its own requests)."""
    return suppliers.list_campaigns(acting.sessions, acting.org, _viewer(acting))


@router.post("/supply/campaigns", status_code=201)
def create_campaign(body: CampaignIn, acting: Annotated[Acting, requires("supply.manage")]) -> dict[str, Any]:
    """A data request: indicators, due date, suppliers."""
    return suppliers.create_campaign(acting.sessions, acting.org, body.name, body.indicators, body.due,
                                     body.suppliers or None, actor=acting.actor)


@router.post("/supply/campaigns/{campaign_id}/remind")
def remind(campaign_id: Id, acting: Annotated[Acting, requires("supply.manage")]) -> list[dict[str, Any]]:
    """Record a reminder to each overdue supplier of the campaign and list them with their contacts. No e-mail is
    sent: the server has no mail relay."""
    return suppliers.remind(acting.sessions, acting.org, campaign_id, actor=acting.actor)


@router.get("/supply/submissions")
def submissions(acting: Annotated[Acting, requires_any(*READ)],
                status: Annotated[Literal["submitted", "accepted", "returned"] | None, Query()] = None
                ) -> list[dict[str, Any]]:
    return suppliers.list_submissions(acting.sessions, acting.org, _viewer(acting), status)


@router.get("/supply/submissions/{submission_id}")
def submission(submission_id: Id, acting: Annotated[Acting, requires_any(*READ)]) -> dict[str, Any]:
    return suppliers.get_submission(acting.sessions, acting.org, submission_id, _viewer(acting))


@router.post("/supply/submissions/{submission_id}/review")
def review(submission_id: Id, body: ReviewIn, acting: Annotated[Acting, requires("supply.manage")]) -> dict[str, Any]:
    """Accept (the answers then feed the scorecard) or return with a comment the supplier sees."""
    return suppliers.review(acting.sessions, acting.org, submission_id, body.accept, body.comment, actor=acting.actor)


@router.get("/supply/evidence/{evidence_id}", response_class=Response)
def evidence(evidence_id: Id, acting: Annotated[Acting, requires_any(*READ)]) -> Response:
    """An evidence file as uploaded; its SHA-256 in the ``Digest``-like header ``X-Content-SHA256``."""
    name, sha, content = suppliers.evidence_file(acting.sessions, acting.org, evidence_id, _viewer(acting))
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"', "X-Content-SHA256": sha})


@router.get("/supply/reductions")
def reductions(acting: Annotated[Acting, requires_any(*READ)],
               until: Annotated[int | None, Query(ge=1990, le=2100)] = None) -> dict[str, Any]:
    """Reduction projects and (for readers of the organisation) cumulative progress towards the programme goal."""
    return suppliers.programme(acting.sessions, acting.org, _viewer(acting), until)


@router.post("/supply/reductions/{project_id}/review")
def review_project(project_id: Id, body: ReviewIn,
                   acting: Annotated[Acting, requires("supply.manage")]) -> dict[str, Any]:
    """Accept a reduction project (it then counts towards the goal) or return it with a comment."""
    return suppliers.review_project(acting.sessions, acting.org, project_id, body.accept, body.comment,
                                    actor=acting.actor)
