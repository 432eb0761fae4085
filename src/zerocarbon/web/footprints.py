"""The product footprints page: suppliers' PACT footprints in use, and an upload form whose refusals list every
problem (file, footprint, JSON path, reason). A supplier's user sees and uploads only its own footprints."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from zerocarbon.api.uploads import spooled
from zerocarbon.errors import InputError, ZerocarbonError
from zerocarbon.services import footprints
from zerocarbon.web.routes import PREFIX, Page, PageRoute, Refused, _csrf

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)


def _own(page: Page) -> str | None:
    return None if page.may("supply.read") else footprints.owner_key(page.sessions, page.org, page.principal.actor)


def _page(page: Page, status: int = 200, **context) -> Response:
    if not (page.may("supply.read") or page.may("supply.submit_own")):
        raise Refused(403, f"role {page.access.role} may not supply.read or supply.submit_own in {page.org}")
    rows = footprints.list_footprints(page.sessions, page.org, own=_own(page))
    context.setdefault("problems", [])
    context.setdefault("message", None)
    context.setdefault("stored", None)
    return page.render("footprints/list.html", status, rows=rows, **context)


@router.get("/orgs/{org}/supply/footprints")
def footprints_page(request: Request, org: str) -> Response:
    return _page(Page(request, org))


@router.post("/orgs/{org}/supply/footprints")
def upload(request: Request, org: str, file: Annotated[UploadFile, File()],
           csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "import.write")
    _csrf(request, page.principal, csrf)
    try:
        with spooled(file) as path:
            rep = footprints.import_file(page.sessions, org, path, actor=page.principal.actor,
                                         source=f"upload:{path.name}", own=_own(page))
    except InputError as exc:
        problems = [{"file": p.source, "row": p.row, "column": p.column, "reason": p.reason} for p in exc.problems]
        return _page(page, 400, problems=problems)
    except ZerocarbonError as exc:
        return _page(page, 400, message=str(exc))
    if request.headers.get("HX-Request") == "true":
        return _page(page, stored=rep.stored)
    return RedirectResponse(f"{PREFIX}/orgs/{org}/supply/footprints", status_code=303)
