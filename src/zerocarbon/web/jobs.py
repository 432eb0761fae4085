"""The jobs page: background jobs of the organisation with their live progress, a cancel button, a retry button
for a job that failed or was cancelled, and forms that start an inventory run or a file's import as a job.

A running job's row asks the server for itself again every second (htmx) and stops once the job has ended; the
row comes from the job's database record, so it shows the same whichever server process runs the job.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from zerocarbon.api.deps import CSRF_HEADER, MAX_OFFSET
from zerocarbon.api.uploads import safe_name
from zerocarbon.services import auth, factor_sets, jobs
from zerocarbon.web.routes import KINDS, PREFIX, Page, PageRoute

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50
STATUSES = jobs.STATUSES


def _may_cancel(page: Page, job: jobs.JobInfo) -> bool:
    return not job.finished and (job.created_by == page.principal.actor or page.may("jobs.cancel"))


def _may_retry(page: Page, job: jobs.JobInfo) -> bool:
    kind = jobs.kinds().get(job.kind)
    return job.status in ("failed", "cancelled") and kind is not None and page.may(kind.action)


def _context(page: Page) -> dict:
    return dict(may_cancel=lambda j: _may_cancel(page, j), may_retry=lambda j: _may_retry(page, j), known=_known)


def _known(t, prefix: str, value: str) -> str:
    """The translation of a built-in kind or step; another kind's own name or message as it is."""
    text = t(prefix + value)
    return value if text == prefix + value else text


def _check_csrf(request: Request, page: Page, form_token: str | None) -> None:
    auth.check_csrf(page.principal, request.headers.get(CSRF_HEADER) or form_token)


@router.get("/orgs/{org}/jobs")
def jobs_page(request: Request, org: str, status: Annotated[str | None, Query(max_length=16)] = None,
              offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> Response:
    page = Page(request, org)
    status = status if status in STATUSES else None
    listing = jobs.list_jobs(page.sessions, org, actor=page.principal.actor, actions=page.access.actions,
                             status=status, limit=PAGE_SIZE, offset=offset)
    sets = [s.name for s in factor_sets.list_sets(page.sessions, org)] if page.may("inventory.compute") else []
    return page.render("jobs.html", listing=listing, status_filter=status or "", statuses=STATUSES, offset=offset,
                       size=PAGE_SIZE, factor_sets=sets, kinds=KINDS, year=date.today().year - 1, **_context(page))


@router.get("/orgs/{org}/jobs/{job_id}/row")
def job_row(request: Request, org: str, job_id: int) -> Response:
    page = Page(request, org)
    job = jobs.get(page.sessions, org, job_id, actor=page.principal.actor, actions=page.access.actions)
    return page.render("_job_row.html", j=job, **_context(page))


@router.post("/orgs/{org}/jobs/inventory")
def start_inventory(request: Request, org: str, year: Annotated[int, Form(ge=1990, le=2100)],
                    factor_set: Annotated[str, Form(max_length=128)] = "CN-2025.1",
                    csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "inventory.compute")
    _check_csrf(request, page, csrf)
    jobs.submit(page.sessions, org, "inventory.compute", {"year": year, "factor_set": factor_set},
                actor=page.principal.actor)
    return RedirectResponse(f"{PREFIX}/orgs/{org}/jobs", status_code=303)


@router.post("/orgs/{org}/jobs/import")
def start_import(request: Request, org: str, file: Annotated[UploadFile, File()],
                 kind: Annotated[str, Form(max_length=32)], year: Annotated[int, Form(ge=1990, le=2100)],
                 csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org, "import.write")
    _check_csrf(request, page, csrf)
    jobs.submit_import(page.sessions, org, kind, year, "CN-2025.1", file.file, safe_name(file.filename),
                       actor=page.principal.actor)
    return RedirectResponse(f"{PREFIX}/orgs/{org}/jobs", status_code=303)


@router.post("/orgs/{org}/jobs/{job_id}/cancel")
def cancel(request: Request, org: str, job_id: int, csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org)
    _check_csrf(request, page, csrf)
    job = jobs.cancel(page.sessions, org, job_id, actor=page.principal.actor,
                      may_cancel_others=page.may("jobs.cancel"), actions=page.access.actions)
    if request.headers.get("HX-Request") == "true":
        return page.render("_job_row.html", j=job, **_context(page))
    return RedirectResponse(f"{PREFIX}/orgs/{org}/jobs", status_code=303)


@router.post("/orgs/{org}/jobs/{job_id}/retry")
def retry(request: Request, org: str, job_id: int, csrf: Annotated[str | None, Form()] = None) -> Response:
    page = Page(request, org)
    _check_csrf(request, page, csrf)
    jobs.retry(page.sessions, org, job_id, actor=page.principal.actor, actions=page.access.actions)
    return RedirectResponse(f"{PREFIX}/orgs/{org}/jobs", status_code=303)
