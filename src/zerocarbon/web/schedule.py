"""The schedule pages: stored scheduler runs with an upload form for a plant week, and a run's Gantt chart on the
site's local dates (run, changeover, idle, standby and off per line, price and carbon bands) with its savings
against the conventional plan.

The form checks the files at once (problems are listed under it) and queues the run as a background job; the page
then shows the job's row with its live progress (the jobs page's row, polling itself) and, once it succeeded, the
link to the stored run."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from zerocarbon.api.deps import MAX_OFFSET
from zerocarbon.api.uploads import safe_name
from zerocarbon.errors import InputError, NotFoundError
from zerocarbon.services import jobs, schedule_runs
from zerocarbon.web import i18n
from zerocarbon.web.jobs import _context as _job_context
from zerocarbon.web.routes import PREFIX, Page, PageRoute, _csrf, _problems

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 20
KIND = "schedule.run"
PLAN_KEYS = ("edd_always_on", "fifo_always_on", "makespan_always_on", "energy_aware")


def _script_json(value) -> str:
    # File and order names reach the page inside <script>: "<" escaped so no name can close the element.
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def week(start: str, end: str) -> str:
    """A run's period on the site's local dates with its last day included: the stored end is exclusive, so a
    week from Monday 00:00 to the next Monday 00:00 reads "2026-08-03 – 2026-08-09"; an end within a day keeps
    its time ("2026-08-03 – 08-10 06:00")."""
    try:
        first, stop = datetime.fromisoformat(start), datetime.fromisoformat(end)
    except (TypeError, ValueError):
        return f"{start[:10]} – {end[:10]}"
    if (stop.hour, stop.minute, stop.second) == (0, 0, 0):
        last = max(first.date(), (stop - timedelta(days=1)).date())
        return first.date().isoformat() if last == first.date() else f"{first.date()} – {last}"
    return f"{first.date()} – {stop:%m-%d %H:%M}"


def utc(stamp: str) -> str:
    """An ISO 8601 instant as "YYYY-MM-DD HH:MM UTC": the carbon series interval a run used is shown in UTC
    whatever offset the series file gave it, and says so."""
    try:
        t = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return str(stamp)
    if t.tzinfo is not None:
        t = t.astimezone(timezone.utc)
    return f"{t:%Y-%m-%d %H:%M} UTC"


def _schedule_jobs(page: Page, job: int | None) -> list[jobs.JobInfo]:
    """The schedule runs still queued or running that the caller may see, and the job ``job`` whatever its state
    (the one the form just started)."""
    if not page.may("schedule.run"):
        return []
    listing = jobs.list_jobs(page.sessions, page.org, actor=page.principal.actor, actions=page.access.actions,
                             kind=KIND, limit=20)
    shown = [j for j in listing.jobs if not j.finished]
    if job is not None and job not in {j.id for j in shown}:
        try:
            found = jobs.get(page.sessions, page.org, job, actor=page.principal.actor, actions=page.access.actions)
        except NotFoundError:
            found = None
        if found is not None and found.kind == KIND:
            shown.insert(0, found)
    return shown


def _list_page(page: Page, offset: int = 0, status: int = 200, problems=None, message=None,
               form=None, job: int | None = None) -> Response:
    runs = schedule_runs.list_runs(page.sessions, page.org, PAGE_SIZE, offset)
    return page.render("schedules.html", status, runs=runs, offset=offset, size=PAGE_SIZE, problems=problems or [],
                       message=message, form=form or {"time_limit": 10, "objective": "cost",
                                                      "operating_days": schedule_runs.OPERATING_DAYS,
                                                      "carbon_series": ""},
                       series=schedule_runs.shipped_series() if page.may("schedule.run") else [],
                       min_days=schedule_runs.MIN_OPERATING_DAYS, max_days=schedule_runs.MAX_OPERATING_DAYS,
                       objectives=schedule_runs.OBJECTIVES, min_limit=schedule_runs.MIN_TIME_LIMIT,
                       max_limit=schedule_runs.MAX_TIME_LIMIT, running=_schedule_jobs(page, job), week=week,
                       **_job_context(page))


@router.get("/orgs/{org}/schedules")
def schedules(request: Request, org: str, offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
              job: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Response:
    return _list_page(Page(request, org, "schedule.read"), offset, job=job)


@router.post("/orgs/{org}/schedules")
def run_schedule(request: Request, org: str, problem: Annotated[UploadFile, File()],
                 orders: Annotated[UploadFile | None, File()] = None,
                 time_limit: Annotated[float, Form(ge=schedule_runs.MIN_TIME_LIMIT,
                                                   le=schedule_runs.MAX_TIME_LIMIT)] = 10.0,
                 objective: Annotated[str, Form(max_length=16)] = "cost",
                 operating_days: Annotated[float, Form(ge=schedule_runs.MIN_OPERATING_DAYS,
                                                       le=schedule_runs.MAX_OPERATING_DAYS)]
                 = schedule_runs.OPERATING_DAYS,
                 carbon_series: Annotated[str | None, Form(max_length=128)] = None,
                 carbon_series_file: Annotated[UploadFile | None, File()] = None,
                 csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "schedule.run")
    _csrf(request, page.principal, csrf)
    with_orders = orders is not None and bool(orders.filename)
    with_series = carbon_series_file is not None and bool(carbon_series_file.filename)
    try:
        job = jobs.submit_schedule(page.sessions, org, problem.file, safe_name(problem.filename),
                                   orders.file if with_orders else None,
                                   safe_name(orders.filename) if with_orders else None, actor=page.principal.actor,
                                   time_limit=time_limit, objective=objective, operating_days=operating_days,
                                   carbon_series=carbon_series or None,
                                   carbon_series_file=carbon_series_file.file if with_series else None,
                                   carbon_series_name=safe_name(carbon_series_file.filename) if with_series
                                   else None)
    except InputError as exc:
        return _list_page(page, status=400, problems=_problems(exc),
                          form={"time_limit": time_limit, "objective": objective, "operating_days": operating_days,
                                "carbon_series": carbon_series or ""})
    return RedirectResponse(f"{PREFIX}/orgs/{org}/schedules?job={job.id}#job-{job.id}", status_code=303)


def _chart(result: dict, t) -> dict:
    """What schedule.js draws: the stored result's lines, segments and bands, with the page's labels."""
    return {"lines": [ln["id"] for ln in result["lines"]], "fields": result["segment_fields"],
            "states": result["segment_states"], "segments": result["segments"], "bands": result["bands"],
            "baseline": result["baseline"], "optimised": result["optimised"],
            "labels": {"states": {s: t("schedule.state." + s) for s in result["segment_states"]},
                       "plans": {k: t("schedule.plan." + k) for k in PLAN_KEYS},
                       "order": t("schedule.order"), "operation": t("schedule.operation"),
                       "start": t("schedule.start"), "end": t("schedule.end"), "price": t("schedule.price"),
                       "carbon": t("schedule.carbon"), "peak_price": t("schedule.peak_price")}}


@router.get("/orgs/{org}/schedules/{run_id}")
def schedule_run(request: Request, org: str, run_id: int) -> Response:
    page = Page(request, org, "schedule.read")
    run = schedule_runs.get_run(page.sessions, org, run_id)
    result = run.result
    t = i18n.translator(page.lang)
    plans = [dict(key=k, **result["plans"][k], saving=result["savings"].get(k)) for k in PLAN_KEYS
             if k in result["plans"]]
    return page.render("schedule.html", run=run, result=result, plans=plans, utc=utc,
                       gas=result.get("gas") or schedule_runs.gas(result.get("carbon_series")),
                       saving=result["savings"].get(result["optimised"], {}), chart=_script_json(_chart(result, t)))
