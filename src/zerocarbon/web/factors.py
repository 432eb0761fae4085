"""The factors browser: the factor sets an organisation may use (shipped ones and its own), each set's factors
with their provenance (searchable, filtered, a page at a time), and the upload of an own set.

The pages check the same actions as the API: ``factors.read`` to browse, ``factors.import`` to store a set.
Another organisation's stored sets are neither listed nor opened (``services.factor_sets`` resolves every name
for the organisation of the URL).
"""
from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from zerocarbon.api.uploads import safe_name
from zerocarbon.api.deps import MAX_OFFSET
from zerocarbon.errors import FactorNotFoundError, InputError, ZerocarbonError
from zerocarbon.services import factor_sets
from zerocarbon.web.routes import PREFIX, Page, PageRoute, Refused, _csrf, _problems

PAGE_SIZE = 50

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)


def _sets_page(page: Page, status: int = 200, **context) -> Response:
    sets = factor_sets.list_sets(page.sessions, page.org)
    context.setdefault("result", None)
    context.setdefault("problems", [])
    context.setdefault("message", None)
    context.setdefault("form", {"name": ""})
    return page.render("factors.html", status, shipped=[s for s in sets if s.origin == "shipped"],
                       own=[s for s in sets if s.origin == "stored"], **context)


@router.get("/orgs/{org}/factors")
def factor_sets_page(request: Request, org: str) -> Response:
    return _sets_page(Page(request, org, "factors.read"))


def _read(upload: UploadFile | None) -> tuple[str | None, bytes | None]:
    if upload is None or not upload.filename:
        return None, None
    return safe_name(upload.filename), upload.file.read(factor_sets.MAX_UPLOAD_BYTES + 1)


@router.post("/orgs/{org}/factors/upload")
def upload(request: Request, org: str, file: Annotated[UploadFile, File()],
           name: Annotated[str, Form(max_length=128)], rules: Annotated[UploadFile | None, File()] = None,
           csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "factors.import")
    _csrf(request, page.principal, csrf)
    htmx = request.headers.get("HX-Request") == "true"
    try:
        file_name, data = _read(file)
        rules_name, rules_data = _read(rules)
        info = factor_sets.import_upload(page.sessions, org, name.strip(), file_name or "file", data or b"",
                                         rules_name, rules_data, actor=page.principal.actor)
    except ZerocarbonError as exc:
        problems = _problems(exc) if isinstance(exc, InputError) else []
        message = None if problems else str(exc)
        if htmx:
            # htmx swaps only 2xx answers by default; the outcome is in the fragment itself.
            return page.render("factors_upload_result.html", result=None, problems=problems, message=message,
                               own=None)
        return _sets_page(page, 400, problems=problems, message=message, form={"name": name})
    if htmx:
        own = [s for s in factor_sets.list_sets(page.sessions, org) if s.origin == "stored"]
        return page.render("factors_upload_result.html", result=info, problems=[], message=None, own=own)
    return RedirectResponse(f"{PREFIX}/orgs/{org}/factors/{info.name}", status_code=303)


@router.get("/orgs/{org}/factors/{name}")
def factor_set_page(request: Request, org: str, name: str,
                    kind: Annotated[str | None, Query(max_length=64)] = None,
                    region: Annotated[str | None, Query(max_length=64)] = None,
                    gas: Annotated[str | None, Query(max_length=32)] = None,
                    q: Annotated[str | None, Query(max_length=128)] = None,
                    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> Response:
    page = Page(request, org, "factors.read")
    filters = {"kind": kind or "", "region": region or "", "gas": gas or "", "q": q or ""}
    try:
        p = factor_sets.factor_page(page.sessions, name, org, kind=kind or None, region=region or None,
                                    gas=gas or None, search=q or None, limit=PAGE_SIZE, offset=offset)
    except FactorNotFoundError as exc:
        # As the API answers: a set this organisation cannot see does not exist for it.
        raise Refused(404, str(exc)) from None
    context = dict(info=p.set, factors=p.factors, total=p.total, offset=offset, size=PAGE_SIZE, filters=filters,
                   kinds=p.kinds, regions=p.regions, gases=p.gases, links=factor_sets.source_links,
                   query=lambda **kw: urlencode({**filters, **kw}))
    template = "factor_rows.html" if request.headers.get("HX-Request") == "true" else "factor_set.html"
    return page.render(template, **context)
