"""Background jobs: start an inventory run, an import or a schedule run as a job, follow its progress, cancel it,
retry it once it failed.

A job is answered at once (202) while it runs on the server's executor; poll ``GET /orgs/{org}/jobs/{id}``
until its ``status`` is succeeded, failed (``error`` lists the problems: file, row, column, reason) or cancelled.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from pydantic import BaseModel, Field

from zerocarbon.api.deps import Acting, CurrentPrincipal, Offset, OrgPath, Sessions, member, requires, requires_any
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.routes.schedules import CarbonSeries, CarbonSeriesFile, OperatingDays
from zerocarbon.api.schemas import Out
from zerocarbon.api.uploads import safe_name
from zerocarbon.core.model import Boundary
from zerocarbon.services import auth, jobs, schedule_runs

router = APIRouter(prefix="/orgs/{org}/jobs", tags=["jobs"], responses=RESPONSES)

JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class JobProblem(BaseModel):
    file: str | None = None
    row: int | None = None
    column: str | None = None
    reason: str


class JobOut(Out):
    id: int
    organisation: str
    kind: str
    params: dict[str, Any]
    status: Status
    done: int = Field(description="units of work done (rows, steps), of ``total``")
    total: int = Field(description="units of work in all; 0 while unknown")
    percent: float | None
    message: str = Field(description="the step the job is at")
    cancel_requested: bool
    cancel_requested_by: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None
    error: list[JobProblem] | None


class JobPageOut(BaseModel):
    total: int
    limit: int
    offset: int
    jobs: list[JobOut]


class InventoryJobIn(BaseModel):
    year: int = Field(ge=1990, le=2100)
    factor_set: str = Field("CN-2025.1", max_length=128)
    gwp_set: str = Field("AR5", max_length=16)
    boundary: Boundary = Boundary.OPERATIONAL_CONTROL
    recalculation_reason: str | None = Field(None, max_length=2000,
                                             description="needed when a closed year's numbers would change")


def _out(info: jobs.JobInfo) -> JobOut:
    return JobOut(id=info.id, organisation=info.organisation, kind=info.kind, params=info.params, status=info.status,
                  done=info.done, total=info.total, percent=info.percent, message=info.message,
                  cancel_requested=info.cancel_requested, cancel_requested_by=info.cancel_requested_by,
                  created_by=info.created_by, created_at=info.created_at, started_at=info.started_at,
                  finished_at=info.finished_at, result=info.result,
                  error=[JobProblem(**p) for p in info.error] if info.error else None)


def cancel_permission():
    """Dependency: a member of the organisation; cancelling another's job also needs ``jobs.cancel``, which the
    service checks once it knows whose job it is."""

    def dependency(org: OrgPath, principal: CurrentPrincipal, sessions: Sessions) -> Acting:
        return Acting(sessions, principal, auth.access(sessions, principal, org))

    dependency.action = "jobs.cancel"  # read by the tests and the documentation of each endpoint
    return Depends(dependency)


@router.post("/inventory", response_model=JobOut, status_code=202)
def start_inventory(body: InventoryJobIn, acting: Annotated[Acting, requires("inventory.compute")]) -> JobOut:
    """Compute and store an inventory in the background (as ``POST /inventories/{year}/compute``)."""
    return _out(jobs.submit(acting.sessions, acting.org, "inventory.compute", body.model_dump(mode="json"),
                            actor=acting.actor))


@router.post("/import", response_model=JobOut, status_code=202)
def start_import(file: Annotated[UploadFile, File(description="CSV or XLSX activity file")],
                 kind: Annotated[str, Form(max_length=32, description="activity kind (docs/data-formats.md)")],
                 year: Annotated[int, Form(ge=1990, le=2100)],
                 acting: Annotated[Acting, requires("import.write")],
                 factor_set: Annotated[str, Form(max_length=128)] = "CN-2025.1") -> JobOut:
    """Import one file in the background: every row or none, as ``POST /batches``; a refused file ends the job
    ``failed`` with its problems (file, row, column, reason)."""
    name = safe_name(file.filename)
    return _out(jobs.submit_import(acting.sessions, acting.org, kind, year, factor_set, file.file, name,
                                   actor=acting.actor))


@router.post("/schedule", response_model=JobOut, status_code=202)
def start_schedule(acting: Annotated[Acting, requires("schedule.run")],
                   problem: Annotated[UploadFile, File(description="plant problem JSON (`zerocarbon schedule "
                                                                   "example`)")],
                   orders: Annotated[UploadFile | None, File(description="orders CSV/XLSX replacing the problem's "
                                                                         "orders")] = None,
                   time_limit: Annotated[float, Form(ge=schedule_runs.MIN_TIME_LIMIT,
                                                     le=schedule_runs.MAX_TIME_LIMIT,
                                                     description="CP-SAT search time [s] for the energy-aware "
                                                                 "plan")] = 10.0,
                   objective: Annotated[Literal["cost", "carbon", "idle"],
                                        Form(description="lowered once every order is on time")] = "cost",
                   name: Annotated[str | None, Form(max_length=256)] = None,
                   site: Annotated[str | None, Form(max_length=64, description="site whose time zone dates are "
                                                                               "shown in (default: the first)")] = None,
                   operating_days: OperatingDays = schedule_runs.OPERATING_DAYS,
                   carbon_series: CarbonSeries = None,
                   carbon_series_file: CarbonSeriesFile = None) -> JobOut:
    """Plan a week in the background (as ``POST /schedules``). The files are read and checked before the job is
    queued: a malformed file is refused at once (400, its problems: file, row, column, reason). The job reports
    the phases read, plan energy-aware, plan conventional, compare, store; once it succeeded ``result.run_id`` is
    the stored run (``GET /schedules/{run_id}``). Cancelling takes effect between phases: a solve under way
    finishes its phase, then the job ends ``cancelled`` and stores nothing. ``operating_days``, ``carbon_series``
    and ``carbon_series_file`` as for ``POST /schedules``."""
    with_orders = orders is not None and bool(orders.filename)
    with_series = carbon_series_file is not None and bool(carbon_series_file.filename)
    return _out(jobs.submit_schedule(acting.sessions, acting.org, problem.file, safe_name(problem.filename),
                                     orders.file if with_orders else None,
                                     safe_name(orders.filename) if with_orders else None, actor=acting.actor,
                                     time_limit=time_limit, objective=objective, name=name or None,
                                     site=site or None, operating_days=operating_days,
                                     carbon_series=carbon_series or None,
                                     carbon_series_file=carbon_series_file.file if with_series else None,
                                     carbon_series_name=safe_name(carbon_series_file.filename) if with_series
                                     else None))


@router.get("", response_model=JobPageOut)
def list_jobs(acting: Annotated[Acting, Depends(member)], status: Status | None = None,
              kind: Annotated[str | None, Query(max_length=64)] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 50,
              offset: Offset = 0) -> JobPageOut:
    """The organisation's jobs the caller may see (kinds whose action their role allows), newest first."""
    page = jobs.list_jobs(acting.sessions, acting.org, actor=acting.actor, actions=acting.access.actions,
                          status=status, kind=kind, limit=limit, offset=offset)
    return JobPageOut(total=page.total, limit=page.limit, offset=page.offset, jobs=[_out(j) for j in page.jobs])


@router.get("/{job_id}", response_model=JobOut)
def show_job(job_id: JobId, acting: Annotated[Acting, Depends(member)]) -> JobOut:
    """A job's status, progress, result or problems (404 for a job of a kind the caller may not see)."""
    return _out(jobs.get(acting.sessions, acting.org, job_id, actor=acting.actor, actions=acting.access.actions))


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: JobId, acting: Annotated[Acting, cancel_permission()]) -> JobOut:
    """Cancel a queued job, or ask a running one to stop; it ends ``cancelled`` without storing its unfinished
    work. One's own job can always be cancelled; another's needs ``jobs.cancel``. 409 once it has ended."""
    return _out(jobs.cancel(acting.sessions, acting.org, job_id, actor=acting.actor,
                            may_cancel_others="jobs.cancel" in acting.access.actions,
                            actions=acting.access.actions))


@router.post("/{job_id}/retry", response_model=JobOut, status_code=202)
def retry_job(job_id: JobId,
              acting: Annotated[Acting, requires_any(*sorted({k.action for k in jobs.kinds().values()}))]) -> JobOut:
    """Submit a failed or cancelled job again as a new job (same kind and parameters; ``params.retry_of`` names
    the original), e.g. one whose server or worker process stopped while it ran. Needs the action of the job's
    kind. An import or schedule run reuses the files uploaded with the original, so it is retried once (409
    afterwards, and when the original's files are no longer kept: upload them again); 409 for a job not ended."""
    return _out(jobs.retry(acting.sessions, acting.org, job_id, actor=acting.actor, actions=acting.access.actions))
