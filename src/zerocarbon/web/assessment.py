"""Zero-carbon pages: the hub (``/web/orgs/{org}/zero-carbon``: assessments, targets, claims, pathway, shown per
permission), the assessment list with the form to start one (a site or a workshop) and to add an own index system,
and one assessment: score and grade, a radar of the dimensions (ECharts), gates, indicators marked computed (with
their lineage) or manual (evidence, review state, a sign-off form for reviewers), the gap list linking each gap's
measures to the pathway page, and the form to enter a manual value with its evidence.

The pages check the same actions as the API: ``assess.read`` to read, ``assess.manage`` to run, recompute, enter
values and store a system, ``assess.review`` to accept or return a value (never one's own: the service refuses).
"""
from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from zerocarbon.api.uploads import safe_name
from zerocarbon.errors import ZerocarbonError
from zerocarbon.services import assessment
from zerocarbon.web import formatting
from zerocarbon.web.routes import PREFIX, STATIC, Page, PageRoute, _csrf, refusal, templates

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
templates.env.globals.setdefault("num", formatting.num)
# The static route serves only listed files; the radar script of these pages joins the list.
STATIC.setdefault("assessment.js", "text/javascript")


# The fixed phrases the scoring and the metrics start a note with, and their message keys; the rest of a note
# (a file name, a meter id) is data and stays as it is.
NOTE_PHRASES = (("not available: ", "zc.note.not_available"), ("no value", "zc.note.no_value"),
                ("entered but not yet reviewed", "zc.note.awaiting_review"), ("returned: ", "zc.note.returned"))


def note(t, text: str | None) -> str:
    """A note with its leading product phrase in the page's language."""
    text = text or ""
    for phrase, key in NOTE_PHRASES:
        if text.startswith(phrase):
            return t(key) + text[len(phrase):]
    return text


templates.env.globals.setdefault("zc_note", note)


def _split(text: str) -> list[str]:
    return [x.strip() for x in text.replace(";", ",").replace("\n", ",").split(",") if x.strip()]


# --- the hub --------------------------------------------------------------------------------------------------

@router.get("/orgs/{org}/zero-carbon")
def hub(request: Request, org: str) -> Response:
    page = Page(request, org)
    latest = assessment.list_assessments(page.sessions, org)[:3] if page.may("assess.read") else []
    return page.render("assessment/hub.html", latest=latest)


# --- the list and the forms -------------------------------------------------------------------------------------

def _list_page(page: Page, status: int = 200, **context) -> Response:
    context.setdefault("problems", [])
    context.setdefault("message", None)
    context.setdefault("form", {})
    return page.render("assessment/list.html", status, rows=assessment.list_assessments(page.sessions, page.org),
                       systems=assessment.list_systems(page.sessions, page.org),
                       options=assessment.boundary_options(page.sessions, page.org), **context)


@router.get("/orgs/{org}/assessments")
def list_page(request: Request, org: str) -> Response:
    return _list_page(Page(request, org, "assess.read"))


@router.post("/orgs/{org}/assessments")
def start(request: Request, org: str, system: Annotated[str, Form(max_length=128)],
          year: Annotated[int, Form(ge=1990, le=2100)], site: Annotated[str, Form(max_length=64)],
          workshop: Annotated[str, Form(max_length=128)] = "", lines: Annotated[str, Form(max_length=4000)] = "",
          meters: Annotated[str, Form(max_length=4000)] = "", base_year: Annotated[str, Form(max_length=4)] = "",
          csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "assess.manage")
    _csrf(request, page.principal, csrf)
    form = {"system": system, "year": year, "site": site, "workshop": workshop, "lines": lines, "meters": meters,
            "base_year": base_year}
    try:
        got = assessment.create(page.sessions, org, system, year, site, workshop=workshop.strip() or None,
                                lines=_split(lines), meters=_split(meters),
                                base_year=int(base_year) if base_year.strip().isdigit() else None,
                                actor=page.principal.actor)
    except ZerocarbonError as exc:
        return _list_page(page, 400, form=form, **refusal(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/assessments/{got['id']}", status_code=303)


@router.post("/orgs/{org}/assessments/systems")
def add_system(request: Request, org: str, file: Annotated[UploadFile, File()],
               csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "assess.manage")
    _csrf(request, page.principal, csrf)
    try:
        name = safe_name(file.filename)
        info = assessment.add_system(page.sessions, org, name, file.file.read(assessment.MAX_SYSTEM_BYTES + 1),
                                     actor=page.principal.actor)
    except ZerocarbonError as exc:
        return _list_page(page, 400, **refusal(exc))
    return _list_page(page, added=info)


# --- one assessment ---------------------------------------------------------------------------------------------

def _chart(got: dict, lang: str) -> str:
    res = got["result"] or {}
    key = "zh" if lang.startswith("zh") else "en"
    dims = res.get("dimensions", [])
    return json.dumps({"names": [d["name"][key] for d in dims], "max": [d["max"] for d in dims],
                       "score": [round(d["score"], 2) for d in dims]}, ensure_ascii=False)


def _detail(page: Page, assessment_id: int, status: int = 200, **context) -> Response:
    got = assessment.get(page.sessions, page.org, assessment_id)
    context.setdefault("problems", [])
    context.setdefault("message", None)
    return page.render("assessment/detail.html", status, a=got, r=got["result"] or {},
                       entries=got["current_entries"], chart=_chart(got, page.lang),
                       key="zh" if page.lang.startswith("zh") else "en", me=page.principal.actor, **context)


@router.get("/orgs/{org}/assessments/{assessment_id}")
def detail(request: Request, org: str, assessment_id: int) -> Response:
    return _detail(Page(request, org, "assess.read"), assessment_id)


def _act(request: Request, org: str, assessment_id: int, action: str, csrf: str | None, do) -> Response:
    """A change on the assessment page: ``do(page)`` makes it; a refusal re-renders the page with the reason."""
    page = Page(request, org, action)
    _csrf(request, page.principal, csrf)
    try:
        do(page)
    except ZerocarbonError as exc:
        return _detail(page, assessment_id, 400, **refusal(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/assessments/{assessment_id}", status_code=303)


@router.post("/orgs/{org}/assessments/{assessment_id}/entries")
def enter(request: Request, org: str, assessment_id: int, metric: Annotated[str, Form(max_length=128)],
          value: Annotated[float, Form()], evidence: Annotated[UploadFile, File()],
          note: Annotated[str, Form(max_length=4000)] = "", csrf: Annotated[str | None, Form()] = None) -> Response:
    def do(page: Page) -> None:
        name = safe_name(evidence.filename) if evidence.filename else "evidence"
        assessment.enter(page.sessions, org, assessment_id, metric, value, evidence_name=name,
                         evidence=evidence.file.read(assessment.MAX_EVIDENCE_BYTES + 1), note=note,
                         actor=page.principal.actor)

    return _act(request, org, assessment_id, "assess.manage", csrf, do)


@router.post("/orgs/{org}/assessments/{assessment_id}/entries/{metric}/review")
def review(request: Request, org: str, assessment_id: int, metric: str, decision: Annotated[str, Form()],
           comment: Annotated[str, Form(max_length=4000)] = "", csrf: Annotated[str | None, Form()] = None
           ) -> Response:
    return _act(request, org, assessment_id, "assess.review", csrf, lambda page: assessment.review(
        page.sessions, org, assessment_id, metric, decision == "accept", comment, actor=page.principal.actor))


@router.post("/orgs/{org}/assessments/{assessment_id}/recompute")
def recompute(request: Request, org: str, assessment_id: int, csrf: Annotated[str | None, Form()] = None
              ) -> Response:
    return _act(request, org, assessment_id, "assess.manage", csrf, lambda page: assessment.recompute(
        page.sessions, org, assessment_id, actor=page.principal.actor))


@router.post("/orgs/{org}/assessments/{assessment_id}/finalise")
def finalise(request: Request, org: str, assessment_id: int, csrf: Annotated[str | None, Form()] = None
             ) -> Response:
    return _act(request, org, assessment_id, "assess.manage", csrf, lambda page: assessment.finalise(
        page.sessions, org, assessment_id, actor=page.principal.actor))


@router.get("/orgs/{org}/assessments/{assessment_id}/entries/{entry_id}/evidence")
def evidence(request: Request, org: str, assessment_id: int, entry_id: int) -> Response:
    page = Page(request, org, "assess.read")
    name, sha, content = assessment.evidence_file(page.sessions, org, assessment_id, entry_id)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"', "X-Content-SHA256": sha})
