"""Carbon-neutrality pages (ISO 14068-1:2023): the carbon-credit register with its upload, the claims list with the
form for a new claim, and a claim's page with its tests (pass/fail with reasons), residual emissions against
credits (ECharts), the statement in Chinese and English, and the review form.

The pages check the same actions as the API: ``assess.read`` to read, ``assess.manage`` to import credits and to
create and check claims, ``assess.review`` to sign off or return (never one's own claim).
"""
from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from zerocarbon.api.uploads import safe_name
from zerocarbon.errors import InputError, PermissionDeniedError, ZerocarbonError
from zerocarbon.services import accounting, claims
from zerocarbon.web import formatting, i18n
from zerocarbon.web.routes import PREFIX, Page, PageRoute, _csrf, refusal, templates

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
# The claim templates call num() as a function, as the supply pages do.
templates.env.globals.setdefault("num", formatting.num)


def _read(upload: UploadFile | None, limit: int) -> tuple[str, bytes]:
    if upload is None or not upload.filename:
        return "file", b""
    return safe_name(upload.filename), upload.file.read(limit + 1)


def _credits_page(page: Page, status: int = 200, **context) -> Response:
    context.setdefault("problems", [])
    context.setdefault("message", None)
    context.setdefault("result", None)
    return page.render("claims/credits.html", status, credits=claims.list_credits(page.sessions, page.org),
                       columns=list(claims.CREDIT_COLUMNS), **context)


@router.get("/orgs/{org}/claims/credits")
def credits_page(request: Request, org: str) -> Response:
    return _credits_page(Page(request, org, "assess.read"))


@router.post("/orgs/{org}/claims/credits")
def credits_upload(request: Request, org: str, file: Annotated[UploadFile, File()],
                   csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "assess.manage")
    _csrf(request, page.principal, csrf)
    try:
        name, data = _read(file, claims.MAX_FILE_BYTES)
        result = claims.import_credits(page.sessions, org, name, data, actor=page.principal.actor)
    except ZerocarbonError as exc:
        return _credits_page(page, 400, **refusal(exc))
    return _credits_page(page, result=result)


def _claims_page(page: Page, status: int = 200, **context) -> Response:
    context.setdefault("problems", [])
    context.setdefault("message", None)
    sites = [s.code for s in accounting.organisation(page.sessions, page.org).sites]
    return page.render("claims/claims.html", status, claims=claims.list_claims(page.sessions, page.org),
                       sites=sites, **context)


@router.get("/orgs/{org}/claims")
def claims_page(request: Request, org: str) -> Response:
    return _claims_page(Page(request, org, "assess.read"))


@router.post("/orgs/{org}/claims")
def claim_create(request: Request, org: str, year: Annotated[int, Form(ge=1990, le=2100)],
                 plan: Annotated[UploadFile, File()], site: Annotated[str, Form(max_length=64)] = "",
                 workshop: Annotated[str, Form(max_length=128)] = "", lines: Annotated[str, Form(max_length=4000)] = "",
                 csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "assess.manage")
    _csrf(request, page.principal, csrf)
    try:
        name, data = _read(plan, claims.MAX_PLAN_BYTES)
        d = claims.create_claim(page.sessions, org, year, name, data, site=site or None, workshop=workshop or None,
                                lines=[x for x in lines.replace(";", ",").split(",")], actor=page.principal.actor)
    except ZerocarbonError as exc:
        return _claims_page(page, 400, **refusal(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/claims/{d['id']}", status_code=303)


def _chart(page: Page, d: dict) -> str:
    t = i18n.translator(page.lang)
    e = d["emissions"]
    failing = {f["credit"] for f in d["findings"] if f["credit"] and not f["passed"]}

    def credits(kind: str | None) -> float:
        """Passing credits of ``kind``; with None, the credits failing a test."""
        if kind is None:
            return sum(c["quantity_t"] for c in d["credits"] if c["ref"] in failing)
        return sum(c["quantity_t"] for c in d["credits"] if c["project_type"] == kind and c["ref"] not in failing)

    return json.dumps({
        "bars": [t("claims.residual"), t("claims.credits")],
        "series": [[t("claims.scope1"), [e["scope1_t"] or 0.0, 0]],
                   [t("claims.scope2m"), [e["scope2_market_t"] or 0.0, 0]],
                   [t("claims.scope3"), [sum((e.get("scope3") or {}).values()), 0]],
                   [t("claims.avoidance"), [0, credits("avoidance")]],
                   [t("claims.removal"), [0, credits("removal")]],
                   [t("claims.failing_credits"), [0, credits(None)]]]})


def _claim_page(page: Page, claim_id: int, status: int = 200, **context) -> Response:
    d = claims.get_claim(page.sessions, page.org, claim_id)
    context.setdefault("problems", [])
    context.setdefault("message", None)
    own = d["created_by"] == page.principal.actor
    return page.render("claims/claim.html", status, c=d, chart=_chart(page, d), own=own,
                       rules={r["id"]: r for r in claims.rules()}, **context)


@router.get("/orgs/{org}/claims/{claim_id}")
def claim_page(request: Request, org: str, claim_id: int) -> Response:
    return _claim_page(Page(request, org, "assess.read"), claim_id)


@router.post("/orgs/{org}/claims/{claim_id}/check")
def claim_check(request: Request, org: str, claim_id: int, csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "assess.manage")
    _csrf(request, page.principal, csrf)
    claims.check(page.sessions, org, claim_id, actor=page.principal.actor)
    return RedirectResponse(f"{PREFIX}/orgs/{org}/claims/{claim_id}#tests", status_code=303)


@router.post("/orgs/{org}/claims/{claim_id}/review")
def claim_review(request: Request, org: str, claim_id: int, decision: Annotated[str, Form(pattern="^(accept|return)$")],
                 comment: Annotated[str, Form(max_length=4000)] = "",
                 csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "assess.review")
    _csrf(request, page.principal, csrf)
    try:
        claims.review(page.sessions, org, claim_id, decision == "accept", comment, actor=page.principal.actor)
    except ZerocarbonError as exc:
        status = 400 if isinstance(exc, InputError) else 403 if isinstance(exc, PermissionDeniedError) else 409
        return _claim_page(page, claim_id, status, **refusal(exc))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/claims/{claim_id}#review", status_code=303)
