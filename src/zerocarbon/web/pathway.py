"""Pathway pages: the abatement catalogue (an anchor ``#measure-<id>`` per measure, which the assessment's gap list
links to), the MACC (ECharts: bar width = tonnes, height = cost per tonne), the latest pathway against business as
usual and the targets, the stored runs side by side, and a form to solve a scenario.

Reading needs ``assess.read``, solving ``assess.manage``. A scenario is solved in the request, bounded by
``RUN_TIME_LIMIT`` seconds of MILP search (a catalogue of a factory solves in well under a second; the benchmark
of 200 measures x 25 years is in BENCHMARKS.md).
"""
from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from zerocarbon.api.uploads import safe_name
from zerocarbon.errors import InputError, Problem, ZerocarbonError
from zerocarbon.services import pathway
from zerocarbon.web import i18n
from zerocarbon.web.routes import PREFIX, STATIC, Page, PageRoute, _csrf, _problems

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
STATIC.setdefault("pathway.js", "text/javascript")  # served from web/static like the other page scripts
RUN_TIME_LIMIT = 60.0  # [s] of MILP search a page request may spend
NAV = "zero-carbon"


def _words(lang: str) -> dict:
    t = i18n.translator(lang)
    return {k: t(f"pathway.chart.{k}") for k in ("cost_per_t", "tonnes", "bau", "target", "remaining", "scope12",
                                                  "illustrative", "year")}


def _chart(result: dict | None, lang: str) -> str:
    """What pathway.js draws, as JSON in the page."""
    if result is None:
        return "null"
    name = "zh" if lang.startswith("zh") else "en"
    names = {k: v["name"][name] for k, v in result["measures"].items()}
    return json.dumps({
        "macc": [dict(e, label=e["name"][name]) for e in result["macc"]
                 if e["cost_per_t"] is not None and e["abatement_t"] > 0],
        "years": [a["year"] for a in result["abatement"]],
        "bau": [a["bau_t"] for a in result["abatement"]], "plan": [a["plan_t"] for a in result["abatement"]],
        "by_measure": {names.get(m, m): [a["by_measure"].get(m, 0.0) for a in result["abatement"]]
                       for m in sorted({m for a in result["abatement"] for m in a["by_measure"]})},
        "targets": {str(t["year"]): t["cap_t"] for t in result["scenario"]["targets"] if t["cap_t"] is not None},
        "currency": result["scenario"]["currency"], "words": _words(lang)}, ensure_ascii=False)


def _hub(page: Page, status: int = 200, **context) -> Response:
    runs = pathway.list_runs(page.sessions, page.org, limit=20)
    latest = pathway.get_run(page.sessions, page.org, runs["runs"][0].id) if runs["runs"] else None
    context.setdefault("problems", [])
    context.setdefault("message", None)
    return page.render("pathway/hub.html", status, catalogue=pathway.list_measures(), runs=runs, latest=latest,
                       chart=_chart(latest.result if latest else None, page.lang), nav=NAV,
                       scenarios=sorted(pathway.shipped_scenarios()), time_limit=RUN_TIME_LIMIT, **context)


@router.get("/orgs/{org}/pathway")
def hub(request: Request, org: str) -> Response:
    return _hub(Page(request, org, "assess.read"))


@router.post("/orgs/{org}/pathway/run")
def run(request: Request, org: str, file: Annotated[UploadFile | None, File()] = None,
        shipped: Annotated[str | None, Form(max_length=64)] = None,
        name: Annotated[str | None, Form(max_length=256)] = None,
        year: Annotated[str | None, Form(max_length=4)] = None,
        targets: Annotated[str, Form(pattern="^(auto|stored|scenario)$")] = "auto",
        csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "assess.manage")
    _csrf(request, page.principal, csrf)
    try:
        if file is not None and file.filename:
            scenario_name, data = safe_name(file.filename), file.file.read(pathway.MAX_FILE_BYTES + 1)
        elif shipped in pathway.shipped_scenarios():
            scenario_name, data = f"{shipped}.yaml", pathway.shipped_scenarios()[shipped]
        else:
            raise InputError([Problem("scenario", None, "file", "choose a scenario file or a shipped scenario")])
        info = pathway.optimise(page.sessions, org, data, scenario_name, actor=page.principal.actor,
                                time_limit=RUN_TIME_LIMIT, name=name or None,
                                year=int(year) if year and year.isdigit() else None, targets=targets)
    except InputError as exc:
        return _hub(page, 400, problems=_problems(exc))
    except ZerocarbonError as exc:  # an infeasible scenario names the target that cannot be met
        return _hub(page, 400, message=str(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/pathway/runs/{info.id}", status_code=303)


@router.get("/orgs/{org}/pathway/runs/{run_id}")
def run_page(request: Request, org: str, run_id: int) -> Response:
    page = Page(request, org, "assess.read")
    info = pathway.get_run(page.sessions, org, run_id)
    return page.render("pathway/run.html", info=info, r=info.result, chart=_chart(info.result, page.lang), nav=NAV)


@router.get("/orgs/{org}/pathway/compare")
def compare_page(request: Request, org: str,
                 runs: Annotated[list[int], Query(max_length=8)] = []) -> Response:  # noqa: B006 (FastAPI query)
    page = Page(request, org, "assess.read")
    infos = [pathway.get_run(page.sessions, org, i) for i in runs]
    series = {f"#{i.id} {i.name}": {str(y["year"]): y["scope12_t"] for y in i.result["years"]} for i in infos}
    years = sorted({y for s in series.values() for y in s})
    chart = json.dumps({"years": years, "series": {k: [v.get(y) for y in years] for k, v in series.items()},
                        "words": _words(page.lang)}, ensure_ascii=False)
    return page.render("pathway/compare.html", infos=infos, chart=chart, nav=NAV)

