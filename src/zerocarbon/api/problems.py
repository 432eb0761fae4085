"""Every error leaves the API once, here, as RFC 9457 problem details (``application/problem+json``).

The exception tree of ``zerocarbon.errors`` decides the status; an input error lists each problem as
``{file, row, column, reason}``. Anything unexpected is a 500 whose body carries only an id to quote: the
trace goes to the server log.
"""
from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.status import HTTP_500_INTERNAL_SERVER_ERROR

from zerocarbon.errors import (AuthenticationError, ClosedInventoryError, ConflictError, StateError, FactorNotFoundError, InputError,
                               NotFoundError, PermissionDeniedError, RateLimitedError, StorageError, ZerocarbonError)

log = logging.getLogger("zerocarbon.api")

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:zerocarbon:problem:"

# First match wins, so subclasses come before their bases.
STATUS: list[tuple[type[ZerocarbonError], int, str, str]] = [
    (InputError, 400, "input", "Input rejected"),
    (AuthenticationError, 401, "unauthenticated", "Not authenticated"),
    (PermissionDeniedError, 403, "forbidden", "Not allowed"),
    (FactorNotFoundError, 404, "factor-not-found", "Factor not found"),
    (NotFoundError, 404, "not-found", "Not found"),
    (ClosedInventoryError, 409, "closed-inventory", "Inventory closed"),
    (StateError, 409, "conflict", "Not possible in the current state"),
    (ConflictError, 409, "conflict-with-stored", "Differs from what is stored"),
    (RateLimitedError, 429, "rate-limited", "Too many attempts"),
    (StorageError, 503, "storage-unavailable", "Database unavailable"),
    (ZerocarbonError, 400, "rejected", "Request rejected"),  # unit, basis, double claim: the caller can fix it
]


class ProblemItem(BaseModel):
    file: str
    row: int | None = None
    column: str | None = None
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    problems: list[ProblemItem] | None = None


def problem(status: int, kind: str, title: str, detail: str, request: Request | None = None,
            problems: list[dict] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail}
    if request is not None:
        body["instance"] = request.url.path
    if problems is not None:
        body["problems"] = problems
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _from_error(request: Request, exc: ZerocarbonError) -> JSONResponse:
    status, kind, title = next((s, k, t) for cls, s, k, t in STATUS if isinstance(exc, cls))
    headers = None
    if isinstance(exc, AuthenticationError):
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, InputError):
        items = [{"file": p.source, "row": p.row, "column": p.column, "reason": p.reason} for p in exc.problems]
        return problem(status, kind, title, f"{len(items)} problem(s) in the input; nothing was written", request,
                       items)
    return problem(status, kind, title, str(exc), request, headers=headers)


def _from_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    items = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ())]
        items.append({"file": loc[0] if loc else "request", "row": None,
                      "column": ".".join(loc[1:]) or None, "reason": e.get("msg", "invalid")})
    return problem(400, "input", "Input rejected", f"{len(items)} problem(s) in the request; nothing was written",
                   request, items)


def _from_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    from http import HTTPStatus

    title = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "Error"
    return problem(exc.status_code, "http", title, str(exc.detail), request, headers=getattr(exc, "headers", None))


def _from_anything(request: Request, exc: Exception) -> JSONResponse:
    ref = secrets.token_hex(6)
    log.error("internal error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "internal", "Internal error",
                   f"the server failed to answer; the error is logged under reference {ref}", request)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ZerocarbonError, _from_error)
    app.add_exception_handler(RequestValidationError, _from_validation)
    app.add_exception_handler(StarletteHTTPException, _from_http)
    app.add_exception_handler(Exception, _from_anything)


RESPONSES = {status: {"description": title, "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
             for status, title in ((400, "Input rejected"), (401, "Not authenticated"), (403, "Not allowed"),
                                   (404, "Not found"), (409, "Conflict: the year is closed, or the batch is not active"),
                                   (429, "Too many attempts"), (503, "Database unavailable"))}


def document(openapi: dict) -> dict:
    """Put the Problem schema in the OpenAPI document and drop FastAPI's 422 answers: a request that does not
    validate is answered 400 with problem details here."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    return openapi
