"""Carbon-neutrality claims (ISO 14068-1:2023) and the carbon-credit register (docs/claims.md).

Reading needs ``assess.read``; importing credits, creating, checking and submitting claims ``assess.manage``;
signing off or returning a claim ``assess.review``, and never by the person who created the claim.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from zerocarbon.api.deps import Acting, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.uploads import safe_name
from zerocarbon.services import claims

router = APIRouter(prefix="/orgs/{org}", tags=["claims"], responses=RESPONSES)

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _read(upload: UploadFile, limit: int) -> tuple[str, bytes]:
    return safe_name(upload.filename), upload.file.read(limit + 1)


class ReviewIn(BaseModel):
    accept: bool
    comment: str | None = Field(default=None, max_length=4000, description="required when returning")


@router.get("/credits")
def list_credits(acting: Annotated[Acting, requires("assess.read")]) -> list[dict[str, Any]]:
    """The credit register: each batch with its serials, retirement record and the claims using it."""
    return claims.list_credits(acting.sessions, acting.org)


@router.post("/credits", status_code=201)
def import_credits(acting: Annotated[Acting, requires("assess.manage")],
                   file: Annotated[UploadFile, File(description="credits CSV/XLSX (docs/claims.md)")]
                   ) -> dict[str, Any]:
    """Store the credits of a file; refused whole with every problem (file, row, column), including serials
    already held by a stored credit (double counting)."""
    name, data = _read(file, claims.MAX_FILE_BYTES)
    return claims.import_credits(acting.sessions, acting.org, name, data, actor=acting.actor).__dict__


@router.get("/claims")
def list_claims(acting: Annotated[Acting, requires("assess.read")],
                year: Annotated[int | None, Query(ge=1990, le=2100)] = None) -> list[dict[str, Any]]:
    return claims.list_claims(acting.sessions, acting.org, year)


@router.post("/claims", status_code=201)
def create_claim(acting: Annotated[Acting, requires("assess.manage")],
                 year: Annotated[int, Form(ge=1990, le=2100)],
                 plan: Annotated[UploadFile, File(description="management plan YAML (docs/claims.md)")],
                 site: Annotated[str | None, Form(max_length=64)] = None,
                 workshop: Annotated[str | None, Form(max_length=128)] = None,
                 lines: Annotated[list[str] | None, Form(max_length=200)] = None) -> dict[str, Any]:
    """A draft claim of the organisation (no site), a site or a workshop, emissions from the stored inventory."""
    name, data = _read(plan, claims.MAX_PLAN_BYTES)
    return claims.create_claim(acting.sessions, acting.org, year, name, data, site=site or None,
                               workshop=workshop or None, lines=lines, actor=acting.actor)


@router.get("/claims/rules")
def rules(acting: Annotated[Acting, requires("assess.read")]) -> dict[str, Any]:
    """Every test with its basis (sourced | proposed, with the reason) and sources, and the recognised programmes."""
    return {"rules": claims.rules(), "programmes": claims.programmes()}


@router.get("/claims/{claim_id}")
def get_claim(claim_id: Id, acting: Annotated[Acting, requires("assess.read")]) -> dict[str, Any]:
    """The claim with its tests (pass/fail, reason, basis), credits and statements."""
    return claims.get_claim(acting.sessions, acting.org, claim_id)


@router.post("/claims/{claim_id}/check")
def check(claim_id: Id, acting: Annotated[Acting, requires("assess.manage")]) -> dict[str, Any]:
    """Run every test and store the findings; 200 whether the tests pass or not (see ``passed``)."""
    return claims.check(acting.sessions, acting.org, claim_id, actor=acting.actor)


@router.get("/claims/{claim_id}/statement", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def statement(claim_id: Id, acting: Annotated[Acting, requires("assess.read")],
              lang: Annotated[Literal["en", "zh"], Query()] = "en") -> Response:
    """The statement as text; 400 listing every failing test when the claim does not pass them all."""
    text = claims.statement(acting.sessions, acting.org, claim_id, lang)
    return Response(text, media_type="text/plain; charset=utf-8")


@router.post("/claims/{claim_id}/submit")
def submit(claim_id: Id, acting: Annotated[Acting, requires("assess.manage")]) -> dict[str, Any]:
    return claims.submit(acting.sessions, acting.org, claim_id, actor=acting.actor)


@router.post("/claims/{claim_id}/review")
def review(claim_id: Id, body: ReviewIn, acting: Annotated[Acting, requires("assess.review")]) -> dict[str, Any]:
    """Sign off or return (with a comment) a checked claim; 403 for the claim's own creator."""
    return claims.review(acting.sessions, acting.org, claim_id, body.accept, body.comment, actor=acting.actor)
