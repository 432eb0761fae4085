"""The schedule pages: stored scheduler runs with an upload form for a plant week, and a run's Gantt chart on the
site's local dates (run, changeover, idle, standby and off per line, price and carbon bands) with its savings
against the conventional plan."""
from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from zerocarbon.api.uploads import spooled
from zerocarbon.errors import InputError
from zerocarbon.services import schedule_runs
from zerocarbon.web import i18n
from zerocarbon.web.routes import PREFIX, Page, PageRoute, _csrf, _problems

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 20
PLAN_KEYS = ("edd_always_on", "fifo_always_on", "makespan_always_on", "energy_aware")


def _script_json(value) -> str:
    # File and order names reach the page inside <script>: "<" escaped so no name can close the element.
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _list_page(page: Page, offset: int = 0, status: int = 200, problems=None, message=None,
               form=None) -> Response:
    runs = schedule_runs.list_runs(page.sessions, page.org, PAGE_SIZE, offset)
    return page.render("schedules.html", status, runs=runs, offset=offset, size=PAGE_SIZE, problems=problems or [],
                       message=message, form=form or {"time_limit": 10, "objective": "cost"},
                       objectives=schedule_runs.OBJECTIVES, min_limit=schedule_runs.MIN_TIME_LIMIT,
                       max_limit=schedule_runs.MAX_TIME_LIMIT)


@router.get("/orgs/{org}/schedules")
def schedules(request: Request, org: str, offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    return _list_page(Page(request, org, "schedule.read"), offset)


@router.post("/orgs/{org}/schedules")
def run_schedule(request: Request, org: str, problem: Annotated[UploadFile, File()],
                 orders: Annotated[UploadFile | None, File()] = None,
                 time_limit: Annotated[float, Form(ge=schedule_runs.MIN_TIME_LIMIT,
                                                   le=schedule_runs.MAX_TIME_LIMIT)] = 10.0,
                 objective: Annotated[str, Form(max_length=16)] = "cost",
                 csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "schedule.run")
    _csrf(request, page.principal, csrf)
    try:
        with ExitStack() as stack:
            problem_path = stack.enter_context(spooled(problem))
            orders_path = stack.enter_context(spooled(orders)) if orders is not None and orders.filename else None
            info = schedule_runs.run_plan(page.sessions, org, problem_path, orders_path, actor=page.principal.actor,
                                          time_limit=time_limit, objective=objective)
    except InputError as exc:
        return _list_page(page, status=400, problems=_problems(exc),
                          form={"time_limit": time_limit, "objective": objective})
    return RedirectResponse(f"{PREFIX}/orgs/{org}/schedules/{info.id}", status_code=303)


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
    return page.render("schedule.html", run=run, result=result, plans=plans,
                       saving=result["savings"].get(result["optimised"], {}), chart=_script_json(_chart(result, t)))
