"""Imported batches: list and show them, upload a file as a new batch, replace or withdraw one, approve or reject
one waiting for approval.

An upload or replacement by a caller without ``import.approve`` waits for approval (status ``pending``); a caller
with ``import.read_own`` but not ``import.read`` lists and shows only the batches it imported itself, and any
other id is 404 as if it did not exist."""
from __future__ import annotations

import inspect
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile

from zerocarbon.api.deps import Acting, requires, requires_any
from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.schemas import BatchDetailOut, BatchOut, ImportOut, UndoIn
from zerocarbon.api.uploads import spooled
from zerocarbon.services import accounting, formats

router = APIRouter(prefix="/orgs/{org}/batches", tags=["batches"], responses=RESPONSES)

BatchId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Status = Literal["active", "pending", "superseded", "withdrawn", "rejected"]
Reader = Annotated[Acting, requires_any("import.read", "import.read_own")]


# What an uploaded file must contain: one row model per kind, the schemas of GET /api/v1/schemas/{kind}, put in
# the document's components (``document_rows``) and named by the upload operations.
ROW_SCHEMAS = {"x-row-schemas": {kind: {"$ref": f"#/components/schemas/{formats.activity_json_schema(kind)['title']}"}
                                 for kind in formats.ACTIVITY_KINDS}}
FILE_CONTENT = ("Each data row of the file must satisfy the row schema of its kind (`x-row-schemas` of this "
                "operation, the same as `GET /api/v1/schemas/{kind}`): its columns, under their names or Chinese "
                "headers, with the types, bounds and ceilings per row given there.")


def _names_row_schemas(endpoint):
    endpoint.__doc__ = f"{inspect.cleandoc(endpoint.__doc__)}\n\n{FILE_CONTENT}"
    return endpoint


def document_rows(openapi: dict) -> dict:
    """Put the row schemas of every activity kind into the OpenAPI components, where the upload operations'
    ``x-row-schemas`` point."""
    openapi.setdefault("components", {}).setdefault("schemas", {}).update(formats.activity_row_components())
    return openapi


def _report(rep) -> ImportOut:
    return ImportOut(batch_id=rep.batch_id, kind=rep.kind, rows=rep.rows, source=rep.source, sha256=rep.sha256,
                     replaces=rep.replaces, status=rep.status)


def _own(acting: Acting) -> str | None:
    """The actor whose batches alone the caller may read, or None when it may read every batch."""
    return None if "import.read" in acting.access.actions else acting.actor


def _needs_approval(acting: Acting) -> bool:
    return "import.approve" not in acting.access.actions


@router.get("", response_model=list[BatchOut])
def list_batches(acting: Reader,
                 year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
                 kind: Annotated[str | None, Query(max_length=32)] = None,
                 status: Status | None = None) -> list[BatchOut]:
    """Every imported batch (every version, active or not), oldest first; with only ``import.read_own``, the
    batches the caller imported."""
    return [BatchOut.model_validate(b) for b in accounting.list_batches(acting.sessions, acting.org, year, kind,
                                                                        status, imported_by=_own(acting))]


@router.get("/{batch_id}", response_model=BatchDetailOut)
def show_batch(batch_id: BatchId, acting: Reader) -> BatchDetailOut:
    """A batch, the versions it replaced or was replaced by, and their audit entries; with only
    ``import.read_own``, 404 unless the caller imported it."""
    d = accounting.show_batch(acting.sessions, acting.org, batch_id, imported_by=_own(acting))
    return BatchDetailOut.model_validate(d)


@router.post("", response_model=ImportOut, status_code=201, openapi_extra=ROW_SCHEMAS)
@_names_row_schemas
def upload(file: Annotated[UploadFile, File(description="CSV or XLSX activity file")],
           kind: Annotated[str, Form(max_length=32, description="activity kind (docs/data-formats.md)")],
           year: Annotated[int, Form(ge=1990, le=2100)],
           acting: Annotated[Acting, requires("import.write")],
           factor_set: Annotated[str, Form(max_length=128)] = "CN-2025.1") -> ImportOut:
    """Import one file as a new batch: every row or none. A wrong cell, a repeated file or a row that counts again
    what an active or pending batch counts is refused with the problems (file, row, column, reason) and nothing is
    stored. Without ``import.approve`` the batch is stored ``pending`` and counts only once approved."""
    with spooled(file) as path:
        rep = accounting.import_file(acting.sessions, acting.org, kind, path, year, factor_set, actor=acting.actor,
                                     source=f"upload:{path.name}", needs_approval=_needs_approval(acting),
                                     sees_only_own=_own(acting) is not None)
    return _report(rep)


@router.post("/{batch_id}/replace", response_model=ImportOut, status_code=201, openapi_extra=ROW_SCHEMAS)
@_names_row_schemas
def replace(batch_id: BatchId, file: Annotated[UploadFile, File(description="the corrected file")],
            acting: Annotated[Acting, requires("import.replace")],
            reason: Annotated[str | None, Form(max_length=2000)] = None,
            factor_set: Annotated[str, Form(max_length=128)] = "CN-2025.1") -> ImportOut:
    """Swap an active batch for a corrected file in one step; the old version is kept, marked superseded. Without
    ``import.approve`` the new batch is stored ``pending`` and the old one stays active until it is approved."""
    with spooled(file) as path:
        rep = accounting.replace_batch(acting.sessions, acting.org, batch_id, path, factor_set, actor=acting.actor,
                                       reason=reason, source=f"upload:{path.name}",
                                       needs_approval=_needs_approval(acting))
    return _report(rep)


@router.post("/{batch_id}/undo", response_model=BatchOut)
def undo(batch_id: BatchId, body: UndoIn, acting: Annotated[Acting, requires("batch.undo")]) -> BatchOut:
    """Withdraw an active batch: kept, marked withdrawn with the reason, no longer used by inventories."""
    return BatchOut.model_validate(accounting.undo_batch(acting.sessions, acting.org, batch_id, body.reason,
                                                         actor=acting.actor))


@router.post("/{batch_id}/approve", response_model=BatchOut)
def approve(batch_id: BatchId, acting: Annotated[Acting, requires("import.approve")]) -> BatchOut:
    """Approve a batch waiting for approval: it becomes active, and the batch it replaces superseded. Refused with
    the rows (400) when an active batch counts them already, 409 when the year is closed or the batch is not
    pending."""
    return BatchOut.model_validate(accounting.approve_batch(acting.sessions, acting.org, batch_id, actor=acting.actor))


@router.post("/{batch_id}/reject", response_model=BatchOut)
def reject(batch_id: BatchId, body: UndoIn, acting: Annotated[Acting, requires("import.approve")]) -> BatchOut:
    """Reject a batch waiting for approval with the reason: kept, marked rejected, never used by inventories."""
    return BatchOut.model_validate(accounting.reject_batch(acting.sessions, acting.org, batch_id, body.reason,
                                                           actor=acting.actor))
