"""Supplier pages: the suppliers list with compliance status and filters, a supplier's scorecard, compliance by count
and by spend (ECharts), campaigns (create, overdue and reminders, review: accept or return with a comment), the
reduction programme with progress towards its goal, and the supplier portal (``/web/orgs/{org}/portal``).

The pages check the same actions as the API (``supply.read`` to read, ``supply.manage`` to change, and
``supply.submit_own`` for the portal) and read through ``services.suppliers`` with the caller's view: a supplier's
user sees only the supplier its membership is tied to; any other supplier's page is "not found".
"""
from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from zerocarbon.api.uploads import safe_name
from zerocarbon.errors import PermissionDeniedError, ZerocarbonError
from zerocarbon.services import suppliers
from zerocarbon.web import formatting, i18n
from zerocarbon.web.routes import PREFIX, Page, PageRoute, Refused, _csrf, refusal, templates

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
# The supplier templates call num() as a function (a percentage built inline reads better than a filter chain).
templates.env.globals.setdefault("num", formatting.num)


def _viewer(page: Page) -> suppliers.Viewer:
    return suppliers.viewer(page.sessions, page.org, page.principal.actor, page.access.actions)


def _read(upload: UploadFile | None, limit: int) -> tuple[str, bytes] | None:
    if upload is None or not upload.filename:
        return None
    return safe_name(upload.filename), upload.file.read(limit + 1)


def _evidence(files: list[UploadFile] | None) -> dict[str, bytes]:
    return dict(x for x in (_read(f, suppliers.MAX_EVIDENCE_BYTES) for f in files or []) if x)


# --- suppliers ------------------------------------------------------------------------------------------------

def _suppliers_page(page: Page, status: int = 200, tier: int | None = None, category: str | None = None,
                    state: str | None = None, q: str | None = None, **context) -> Response:
    v = _viewer(page)
    rows = suppliers.list_suppliers(page.sessions, page.org, v, tier=tier, category=category, status=state, search=q)
    everyone = suppliers.list_suppliers(page.sessions, page.org, v)
    report = suppliers.compliance_report(page.sessions, page.org)
    context.setdefault("problems", [])
    context.setdefault("message", None)
    context.setdefault("result", None)
    return page.render("supply/suppliers.html", status, rows=rows, report=report,
                       spec=suppliers.get_spec(page.sessions, page.org),
                       categories=sorted({r["category"] for r in everyone if r["category"]}),
                       filters={"tier": tier or "", "category": category or "", "status": state or "", "q": q or ""},
                       **context)


@router.get("/orgs/{org}/supply/suppliers")
def suppliers_page(request: Request, org: str, tier: Annotated[int | None, Query(ge=1, le=3)] = None,
                   category: Annotated[str | None, Query(max_length=128)] = None,
                   status: Annotated[str | None, Query(pattern="^(passing|failing)?$")] = None,
                   q: Annotated[str | None, Query(max_length=128)] = None) -> Response:
    return _suppliers_page(Page(request, org, "supply.read"), tier=tier, category=category or None,
                           state=status or None, q=q or None)


@router.post("/orgs/{org}/supply/suppliers/import")
def suppliers_import(request: Request, org: str, file: Annotated[UploadFile, File()],
                     csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "supply.manage")
    _csrf(request, page.principal, csrf)
    try:
        got = _read(file, suppliers.MAX_FILE_BYTES) or ("file", b"")
        result = suppliers.import_suppliers(page.sessions, org, got[0], got[1], actor=page.principal.actor)
    except ZerocarbonError as exc:
        return _suppliers_page(page, 400, **refusal(exc))
    return _suppliers_page(page, result=result)


@router.post("/orgs/{org}/supply/spec")
def spec_upload(request: Request, org: str, file: Annotated[UploadFile, File()],
                csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "supply.manage")
    _csrf(request, page.principal, csrf)
    try:
        got = _read(file, suppliers.MAX_FILE_BYTES) or ("file", b"")
        suppliers.set_spec(page.sessions, org, got[0], got[1], actor=page.principal.actor)
    except ZerocarbonError as exc:
        return _suppliers_page(page, 400, **refusal(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/supply/suppliers#spec", status_code=303)


@router.get("/orgs/{org}/supply/suppliers/{code}")
def supplier_page(request: Request, org: str, code: str) -> Response:
    page = Page(request, org)
    if not (page.may("supply.read") or page.may("supply.submit_own")):
        raise PermissionDeniedError(f"role {page.access.role} may not supply.read in {org}")
    detail = suppliers.get_supplier(page.sessions, org, code, _viewer(page))  # another supplier's: 404
    return page.render("supply/supplier.html", s=detail, card=detail["scorecard"])


# --- compliance -----------------------------------------------------------------------------------------------

@router.get("/orgs/{org}/supply/compliance")
def compliance_page(request: Request, org: str,
                    by: Annotated[str, Query(pattern="^(quarter|year)$")] = "quarter") -> Response:
    page = Page(request, org, "supply.read")
    report = suppliers.compliance_report(page.sessions, org, by=by)
    t = i18n.translator(page.lang)
    chart = {"labels": {"count": t("suppliers.by_count"), "spend": t("suppliers.by_spend"),
                        "passing": t("suppliers.passing"), "failing": t("suppliers.failing")},
             "now": {"count": report["share_by_count"], "spend": report["share_by_spend"]},
             "periods": [x["period"] for x in report["trend"]],
             "count": [x["share_by_count"] for x in report["trend"]],
             "spend": [x["share_by_spend"] for x in report["trend"]]}
    return page.render("supply/compliance.html", report=report, by=by, chart=json.dumps(chart))


# --- campaigns ------------------------------------------------------------------------------------------------

def _campaigns_page(page: Page, status: int = 200, **context) -> Response:
    v = _viewer(page)
    context.setdefault("problems", [])
    context.setdefault("message", None)
    context.setdefault("reminded", None)
    return page.render("supply/campaigns.html", status, campaigns=suppliers.list_campaigns(page.sessions, page.org, v),
                       waiting=suppliers.list_submissions(page.sessions, page.org, v, "submitted"),
                       recent=suppliers.list_submissions(page.sessions, page.org, v)[:20],
                       spec=suppliers.get_spec(page.sessions, page.org).spec,
                       codes=[r["code"] for r in suppliers.list_suppliers(page.sessions, page.org, v)], **context)


@router.get("/orgs/{org}/supply/campaigns")
def campaigns_page(request: Request, org: str) -> Response:
    return _campaigns_page(Page(request, org, "supply.read"))


@router.post("/orgs/{org}/supply/campaigns")
def campaign_create(request: Request, org: str, name: Annotated[str, Form(max_length=256)],
                    due: Annotated[date, Form()], indicators: Annotated[list[str] | None, Form()] = None,
                    supplier_codes: Annotated[str, Form(max_length=100000)] = "",
                    csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "supply.manage")
    _csrf(request, page.principal, csrf)
    codes = [c.strip() for c in supplier_codes.replace(";", ",").replace("\n", ",").split(",") if c.strip()]
    try:
        suppliers.create_campaign(page.sessions, org, name, indicators or [], due, codes or None,
                                  actor=page.principal.actor)
    except ZerocarbonError as exc:
        return _campaigns_page(page, 400, **refusal(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/supply/campaigns", status_code=303)


@router.post("/orgs/{org}/supply/campaigns/{campaign_id}/remind")
def campaign_remind(request: Request, org: str, campaign_id: int, csrf: Annotated[str | None, Form()] = None
                    ) -> Response:
    page = Page(request, org, "supply.manage")
    _csrf(request, page.principal, csrf)
    reminded = suppliers.remind(page.sessions, org, campaign_id, actor=page.principal.actor)
    return _campaigns_page(page, reminded=reminded)


@router.post("/orgs/{org}/supply/submissions/{submission_id}/review")
def submission_review(request: Request, org: str, submission_id: int, decision: Annotated[str, Form()],
                      comment: Annotated[str, Form(max_length=4000)] = "",
                      csrf: Annotated[str | None, Form()] = None) -> Response:
    return _review(request, org, csrf, lambda page: suppliers.review(
        page.sessions, org, submission_id, decision == "accept", comment, actor=page.principal.actor),
        _campaigns_page, "campaigns")


@router.get("/orgs/{org}/supply/submissions/{submission_id}")
def submission_page(request: Request, org: str, submission_id: int) -> Response:
    page = Page(request, org)
    if not (page.may("supply.read") or page.may("supply.submit_own")):
        raise PermissionDeniedError(f"role {page.access.role} may not supply.read in {org}")
    sub = suppliers.get_submission(page.sessions, org, submission_id, _viewer(page))
    return page.render("supply/submission.html", sub=sub)


@router.get("/orgs/{org}/supply/evidence/{evidence_id}")
def evidence(request: Request, org: str, evidence_id: int) -> Response:
    page = Page(request, org)
    if not (page.may("supply.read") or page.may("supply.submit_own")):
        raise PermissionDeniedError(f"role {page.access.role} may not supply.read in {org}")
    name, sha, content = suppliers.evidence_file(page.sessions, org, evidence_id, _viewer(page))
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"', "X-Content-SHA256": sha})


# --- reductions -----------------------------------------------------------------------------------------------

def _reductions_page(page: Page, status: int = 200, **context) -> Response:
    prog = suppliers.programme(page.sessions, page.org, _viewer(page))
    p = prog["progress"]
    t = i18n.translator(page.lang)
    # Achieved years are bars; later years are a separately labelled projection, never part of "achieved".
    chart = {"years": [y["year"] for y in p["years"]],
             "cumulative": [None if y["projected"] else y["cumulative_t"] for y in p["years"]],
             "projection": [y["cumulative_t"] if y["projected"] else None for y in p["years"]],
             "pipeline": [y["cumulative_t"] + y["pipeline_cumulative_t"] for y in p["years"]], "goal": p["goal_t"],
             "labels": {"cumulative": t("suppliers.cumulative"), "pipeline": t("suppliers.with_pipeline"),
                        "projection": t("suppliers.projection_series"), "goal": t("suppliers.goal")}}
    context.setdefault("problems", [])
    context.setdefault("message", None)
    return page.render("supply/reductions.html", status, prog=prog, p=p, chart=json.dumps(chart), **context)


@router.get("/orgs/{org}/supply/reductions")
def reductions_page(request: Request, org: str) -> Response:
    return _reductions_page(Page(request, org, "supply.read"))


@router.post("/orgs/{org}/supply/reductions/{project_id}/review")
def project_review(request: Request, org: str, project_id: int, decision: Annotated[str, Form()],
                   comment: Annotated[str, Form(max_length=4000)] = "",
                   csrf: Annotated[str | None, Form()] = None) -> Response:
    return _review(request, org, csrf, lambda page: suppliers.review_project(
        page.sessions, org, project_id, decision == "accept", comment, actor=page.principal.actor),
        _reductions_page, "reductions")


def _review(request: Request, org: str, csrf: str | None, decide, on_refusal, back: str) -> Response:
    """An energy manager's accept/return: ``decide(page)`` records it; a refusal re-renders ``on_refusal``'s page
    with the reason, success goes back to the ``back`` page."""
    page = Page(request, org, "supply.manage")
    _csrf(request, page.principal, csrf)
    try:
        decide(page)
    except ZerocarbonError as exc:
        return on_refusal(page, 400, **refusal(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/supply/{back}", status_code=303)


# --- the supplier portal --------------------------------------------------------------------------------------

def _portal_code(page: Page, v: suppliers.Viewer, asked: str | None) -> str | None:
    if v.limited:
        if asked and asked != v.only:
            raise Refused(404, f"no supplier {asked} in {page.org}")
        return None if v.only == suppliers._NOBODY else v.only
    return asked


def _portal(page: Page, asked: str | None, status: int = 200, **context) -> Response:
    v = _viewer(page)
    code = _portal_code(page, v, asked)
    detail = suppliers.get_supplier(page.sessions, page.org, code, v) if code else None
    context.setdefault("problems", [])
    context.setdefault("message", None)
    context.setdefault("done", None)
    return page.render("supply/portal.html", status, s=detail, card=detail["scorecard"] if detail else None,
                       code=code, spec=suppliers.get_spec(page.sessions, page.org).spec, **context)


@router.get("/orgs/{org}/portal")
def portal(request: Request, org: str, supplier: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    return _portal(Page(request, org, "supply.submit_own"), supplier or None)


@router.get("/orgs/{org}/portal/template")
def portal_template(request: Request, org: str, format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv"  # noqa: A002
                    ) -> Response:
    page = Page(request, org)
    if not (page.may("supply.read") or page.may("supply.submit_own")):
        raise PermissionDeniedError(f"role {page.access.role} may not supply.read in {org}")
    name, media, data = suppliers.answers_template(page.sessions, org, format)
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/orgs/{org}/portal/submit")
def portal_submit(request: Request, org: str, file: Annotated[UploadFile, File()],
                  evidence: Annotated[list[UploadFile] | None, File()] = None,
                  request_id: Annotated[str, Form(max_length=12)] = "",
                  supplier: Annotated[str, Form(max_length=64)] = "",
                  csrf: Annotated[str | None, Form()] = None) -> Response:
    rid = int(request_id) if request_id.strip().isdigit() else None
    got = _portal_upload(request, org, file, evidence, supplier, csrf, lambda page, v, code, name, data, ev:
                         suppliers.submit(page.sessions, org, code, name, data, ev, v, rid, actor=page.principal.actor))
    if isinstance(got, Response):
        return got
    page, _, code, sub = got
    return _portal(page, code, done=sub)


def _portal_upload(request: Request, org: str, file: UploadFile, evidence: list[UploadFile] | None, supplier: str,
                   csrf: str | None, save):
    """A portal upload for the caller's supplier: ``save(page, viewer, code, name, data, evidence)`` stores it.
    Returns (page, viewer, code, what ``save`` gave), or the portal page with the refusal's reasons."""
    page = Page(request, org, "supply.submit_own")
    _csrf(request, page.principal, csrf)
    v = _viewer(page)
    code = _portal_code(page, v, supplier or None)
    if code is None:
        raise Refused(404, "you are tied to no supplier of this organisation; ask its administrator")
    try:
        name, data = _read(file, suppliers.MAX_FILE_BYTES) or ("file", b"")
        return page, v, code, save(page, v, code, name, data, _evidence(evidence))
    except ZerocarbonError as exc:
        return _portal(page, code, 400, **refusal(exc))


@router.post("/orgs/{org}/portal/projects")
def portal_projects(request: Request, org: str, file: Annotated[UploadFile, File()],
                    evidence: Annotated[list[UploadFile] | None, File()] = None,
                    supplier: Annotated[str, Form(max_length=64)] = "",
                    csrf: Annotated[str | None, Form()] = None) -> Response:
    got = _portal_upload(request, org, file, evidence, supplier, csrf, lambda page, v, code, name, data, ev:
                         suppliers.submit_projects(page.sessions, org, code, name, data, ev, v,
                                                   actor=page.principal.actor))
    if isinstance(got, Response):
        return got
    _, v, code, _ = got
    return RedirectResponse(f"{PREFIX}/orgs/{org}/portal" + (f"?supplier={code}" if not v.limited else ""),
                            status_code=303)
