"""Reduction targets: set, list, delete; progress against the stored inventories; the science-based check; the
output figures (production units, revenue) intensity targets divide by (services.targets, docs/targets.md)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, UploadFile
from pydantic import BaseModel, Field

from zerocarbon.api.deps import Acting, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.uploads import spooled
from zerocarbon.services import targets

router = APIRouter(prefix="/orgs/{org}/targets", tags=["targets"], responses=RESPONSES)

Code = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="target id")]


class TargetIn(BaseModel):
    kind: Literal["absolute", "intensity", "renewable_electricity", "net_zero"]
    scopes: Literal["s1s2", "s3", "s1s2s3"] = "s1s2"
    scope2_method: Literal["market", "location"] = "market"
    boundary: str = Field("org", max_length=64, description="'org' or a site code")
    base_year: int = Field(ge=1990, le=2100)
    target_year: int = Field(ge=1990, le=2100)
    reduction: float | None = Field(None, description="fraction of the base value to cut (0, 1]")
    re_share: float | None = Field(None, description="renewable share of electricity to reach (0, 1]")
    denominator: Literal["units", "revenue"] | None = None
    projected_output: float | None = Field(None, description="intensity: output of the target year")
    submitted: date | None = Field(None, description="date set or submitted (timeframe rule)")
    id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    note: str = Field("", max_length=2000)


class OutputIn(BaseModel):
    site: str = Field("", max_length=64, description="site code; empty for the whole organisation")
    year: int = Field(ge=1990, le=2100)
    metric: Literal["units", "revenue"]
    value: float
    unit: str = Field(max_length=32)
    source: str = Field("", max_length=2000)


@router.get("")
def list_targets(acting: Annotated[Acting, requires("assess.read")]) -> list[dict[str, Any]]:
    """The organisation's targets with their base and target values."""
    return targets.list_targets(acting.sessions, acting.org)


@router.post("", status_code=201)
def set_target(body: TargetIn, acting: Annotated[Acting, requires("assess.manage")]) -> dict[str, Any]:
    """Set a target; the base value is read from the stored inventory of the base year. Impossible targets (target
    year not after the base year, reduction outside (0, 1], no base-year inventory...) are refused with reasons."""
    fields = body.model_dump()
    return targets.set_target(acting.sessions, acting.org, code=fields.pop("id"), actor=acting.actor, **fields)


@router.get("/progress")
def progress(acting: Annotated[Acting, requires("assess.read")]) -> list[dict[str, Any]]:
    """Per target: base value used (recalculated base year shown), trajectory, actual vs expected per year."""
    return targets.progress(acting.sessions, acting.org)


@router.get("/pathway")
def pathway(acting: Annotated[Acting, requires("assess.read")]) -> list[dict[str, Any]]:
    """Per year: the most Scope 1+2 tCO2e and the least renewable share the organisation's targets allow."""
    return targets.pathway_targets(acting.sessions, acting.org)


@router.get("/outputs")
def list_outputs(acting: Annotated[Acting, requires("assess.read")]) -> list[dict[str, Any]]:
    """The stored output figures (production units, revenue) per site and year."""
    return targets.list_outputs(acting.sessions, acting.org)


@router.put("/outputs")
def put_output(body: OutputIn, acting: Annotated[Acting, requires("assess.manage")]) -> dict[str, Any]:
    """Create or replace one output figure."""
    return targets.set_output(acting.sessions, acting.org, actor=acting.actor, **body.model_dump())


@router.post("/outputs", status_code=201)
def import_outputs(acting: Annotated[Acting, requires("assess.manage")],
                   file: Annotated[UploadFile, File(description="CSV/XLSX: site, year, metric, value, unit, source")]
                   ) -> list[dict[str, Any]]:
    """Store the output figures of a file, all or nothing (problems by row and column)."""
    with spooled(file) as path:
        return targets.import_outputs(acting.sessions, acting.org, path, actor=acting.actor)


@router.get("/{code}")
def get_target(code: Code, acting: Annotated[Acting, requires("assess.read")]) -> dict[str, Any]:
    """One target with its progress."""
    [item] = targets.progress(acting.sessions, acting.org, code)
    return item


@router.get("/{code}/check")
def check(code: Code, acting: Annotated[Acting, requires("assess.read")]) -> dict[str, Any]:
    """The science-based check: ambition with the linear annual rate, and every rule's finding with its reason."""
    return targets.check(acting.sessions, acting.org, code)


@router.delete("/{code}", status_code=204)
def delete_target(code: Code, acting: Annotated[Acting, requires("assess.manage")]) -> None:
    """Delete a target (recorded in the audit trail)."""
    targets.delete_target(acting.sessions, acting.org, code, actor=acting.actor)
