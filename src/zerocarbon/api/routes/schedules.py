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
from zerocarbon.errors import InputError, Problem as Issue
from zerocarbon.services import schedule_runs

router = APIRouter(prefix="/orgs/{org}/schedules", tags=["schedules"], responses=RESPONSES)

RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]
OperatingDays = Annotated[float, Form(ge=schedule_runs.MIN_OPERATING_DAYS, le=schedule_runs.MAX_OPERATING_DAYS,
                                      description="operating days a year: savings over the horizon are annualised "
                                                  "x operating days / operating days in the horizon")]
CarbonSeries = Annotated[str | None, Form(max_length=128, description="a shipped grid carbon-intensity series "
                                                                      "(``GET /schedules/series``) replacing the "
                                                                      "problem's carbon series")]
CarbonSeriesFile = Annotated[UploadFile | None, File(description="a grid carbon-intensity series CSV (timestamp, "
                                                                 "value, unit, source, method) instead")]


def series_spec(stack: ExitStack, name: str | None, upload: UploadFile | None) -> str | None:
    """What ``run_plan`` plans on: ``shipped:<name>``, the spooled upload's path, or None; both is refused."""
    with_file = upload is not None and bool(upload.filename)
    if name and with_file:
        raise InputError([Issue("settings", None, "carbon_series", "give a shipped series or upload a series "
                                                                   "file, not both")])
    if with_file:
        return str(stack.enter_context(spooled(upload)))
    return schedule_runs.shipped_spec(name) if name else None


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


class CarbonSeriesOut(BaseModel):
    name: str
    spec: str = Field(description="the value for ``carbon_series`` (``shipped:<name>``)")
    start: str = Field(description="start of the first interval, ISO 8601 with offset")
    end: str = Field(description="end of the last interval (exclusive)")
    step_min: int
    rows: int
    unit: str = Field(description="unit of the statistics, converted from ``source_unit``")
    source_unit: str
    source: str = Field(description="who published the values")
    method: str = Field(description="what the values are, e.g. average, operational, generation-based")
    mean: float
    min: float
    max: float
    daily_swing_mean: float = Field(description="mean of (max - min) over whole days")


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
                                                                    "(default: the first)")] = None,
        operating_days: OperatingDays = schedule_runs.OPERATING_DAYS,
        carbon_series: CarbonSeries = None,
        carbon_series_file: CarbonSeriesFile = None) -> ScheduleRunOut:
    """Plan the week on time first, then by cost, carbon or idle energy; compare it with the conventional plans and
    store the run. Synchronous, for scripts: the answer comes when the solve is done (about 4/3 of ``time_limit``
    or more); ``POST /jobs/schedule`` runs the same in the background and answers at once. Savings are
    annualised x ``operating_days`` / operating days in the horizon. A shipped ``carbon_series``
    (``GET /schedules/series``) or an
    uploaded ``carbon_series_file`` replaces the problem's grid carbon intensity; the run's result names it. A
    malformed file is refused with its problems (file, row, column, reason) and nothing is stored."""
    with ExitStack() as stack:
        problem_path = stack.enter_context(spooled(problem))
        orders_path = stack.enter_context(spooled(orders)) if orders is not None and orders.filename else None
        series = series_spec(stack, carbon_series, carbon_series_file)
        info = schedule_runs.run_plan(acting.sessions, acting.org, problem_path, orders_path, actor=acting.actor,
                                      time_limit=time_limit, objective=objective, name=name or None,
                                      site=site or None, operating_days=operating_days, carbon_series=series)
    return ScheduleRunOut.model_validate(info)


@router.get("/series", response_model=list[CarbonSeriesOut])
def list_series(acting: Annotated[Acting, requires("schedule.read")]) -> list[CarbonSeriesOut]:
    """The shipped grid carbon-intensity series a run may plan on (``carbon_series``), with their publisher,
    method, period, step and value statistics [kg per kWh]; licences and retrieval in docs/carbon-intensity.md."""
    return [CarbonSeriesOut.model_validate(r) for r in schedule_runs.shipped_series()]


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
