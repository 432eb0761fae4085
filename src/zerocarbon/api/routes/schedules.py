"""Scheduler runs: plan an uploaded plant week against the conventional plan, list and read stored runs."""
from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from pydantic import BaseModel, Field

from zerocarbon.api.deps import Acting, Offset, requires
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.schemas import Out
from zerocarbon.api.uploads import spooled
from zerocarbon.services import schedule_runs

router = APIRouter(prefix="/orgs/{org}/schedules", tags=["schedules"], responses=RESPONSES)

RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class ScheduleRunOut(Out):
    id: int
    name: str
    created_by: str
    created_at: datetime = Field(description="UTC")
    problem_file: str
    problem_sha256: str
    orders_file: str | None
    orders_sha256: str | None
    time_limit_s: float
    objective: str
    status: str
    summary: dict[str, Any] = Field(description="problem, dates, orders, lines, solver status, on-time rate and the "
                                                "energy-aware plan's savings against the conventional plan")


class ScheduleRunDetailOut(ScheduleRunOut):
    result: dict[str, Any] = Field(description="plans with KPIs, savings per plan (annualised by "
                                               "the factor in annualisation), per-line segments with local start and end, "
                                               "price and carbon bands (docs/scheduling.md)")


class ScheduleRunPage(BaseModel):
    total: int
    limit: int
    offset: int
    runs: list[ScheduleRunOut]


@router.post("", response_model=ScheduleRunOut, status_code=201)
def run(acting: Annotated[Acting, requires("schedule.run")],
        problem: Annotated[UploadFile, File(description="plant problem JSON (`zerocarbon schedule example`)")],
        orders: Annotated[UploadFile | None, File(description="orders CSV/XLSX replacing the problem's "
                                                              "orders")] = None,
        time_limit: Annotated[float, Form(ge=schedule_runs.MIN_TIME_LIMIT, le=schedule_runs.MAX_TIME_LIMIT,
                                          description="CP-SAT search time [s] for the energy-aware plan; a run "
                                                      "takes about 4/3 of it or more")] = 10.0,
        objective: Annotated[Literal["cost", "carbon", "idle"], Form(description="lowered once every order is on "
                                                                                 "time")] = "cost",
        name: Annotated[str | None, Form(max_length=256)] = None,
        site: Annotated[str | None, Form(max_length=64, description="site whose time zone dates are shown in "
                                                                    "(default: the first)")] = None
        ) -> ScheduleRunOut:
    """Plan the week on time first, then by cost, carbon or idle energy; compare it with the conventional plans and
    store the run. Synchronous, for scripts: the answer comes when the solve is done (about 4/3 of ``time_limit``
    or more); ``POST /jobs/schedule`` runs the same in the background and answers at once. A malformed file is refused with its problems (file,
    row, column, reason) and nothing is stored."""
    with ExitStack() as stack:
        problem_path = stack.enter_context(spooled(problem))
        orders_path = stack.enter_context(spooled(orders)) if orders is not None and orders.filename else None
        info = schedule_runs.run_plan(acting.sessions, acting.org, problem_path, orders_path, actor=acting.actor,
                                      time_limit=time_limit, objective=objective, name=name or None,
                                      site=site or None)
    return ScheduleRunOut.model_validate(info)


@router.get("", response_model=ScheduleRunPage)
def list_runs(acting: Annotated[Acting, requires("schedule.read")],
              limit: Annotated[int, Query(ge=1, le=200)] = 50,
              offset: Offset = 0) -> ScheduleRunPage:
    """Stored runs, newest first, a page at a time (without their segments)."""
    page = schedule_runs.list_runs(acting.sessions, acting.org, limit, offset)
    return ScheduleRunPage(total=page.total, limit=page.limit, offset=page.offset,
                           runs=[ScheduleRunOut.model_validate(r) for r in page.runs])


@router.get("/{run_id}", response_model=ScheduleRunDetailOut)
def show_run(run_id: RunId, acting: Annotated[Acting, requires("schedule.read")]) -> ScheduleRunDetailOut:
    """One run with its result: every plan's KPIs, savings, the per-line segments on local dates, price and carbon
    bands."""
    return ScheduleRunDetailOut.model_validate(schedule_runs.get_run(acting.sessions, acting.org, run_id))
