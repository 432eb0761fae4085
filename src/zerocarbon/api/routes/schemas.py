"""The activity file formats as JSON Schema: what one row of each kind must hold.

Public, like docs/data-formats.md: a format says nothing about any organisation's data, and a client (or a
spreadsheet template) can check its rows before it logs in and uploads them.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from zerocarbon.api.problems import RESPONSES
from zerocarbon.api.schemas import ActivitySchemaOut
from zerocarbon.services import formats

router = APIRouter(prefix="/schemas", tags=["schemas"], responses={404: RESPONSES[404]})



class SchemaResponse(JSONResponse):
    media_type = "application/schema+json"


@router.get("", response_model=list[ActivitySchemaOut])
def list_schemas(request: Request) -> list[ActivitySchemaOut]:
    """Every activity kind with its columns, the required ones, their Chinese headers and the address of its
    row's JSON Schema. No login needed."""
    return [ActivitySchemaOut(**entry, href=request.url_for("activity_schema", kind=entry["kind"]).path)
            for entry in formats.activity_schema_index()]


@router.get("/{kind}", response_class=SchemaResponse,
            responses={200: {"description": "JSON Schema (draft 2020-12) of one row",
                             "content": {SchemaResponse.media_type: {"schema": {"type": "object"}}}}})
def activity_schema(kind: Annotated[str, Path(max_length=32, description="activity kind: " +
                                               ", ".join(formats.ACTIVITY_KINDS))]) -> SchemaResponse:
    """JSON Schema (draft 2020-12) of one row of an activity file of ``kind``, the one the importer checks
    files against: columns, types, required ones, bounds, ceilings per row (``x-ceilings``) and Chinese
    headers (``x-aliases``). No login needed."""
    return SchemaResponse(formats.activity_json_schema(kind))
