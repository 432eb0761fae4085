"""The activity file formats the accounting imports accept, for shells to list, print and publish.

Light on purpose (no pandas, no database): the CLI builds its `import <kind>` commands from it at start-up; the
row models (pydantic) are loaded only when a JSON Schema is asked for.
"""
from __future__ import annotations

from zerocarbon.errors import NotFoundError
from zerocarbon.io.schemas import SCHEMAS, json_schema_file, schema_markdown

ACTIVITY_KINDS: tuple[str, ...] = tuple(SCHEMAS)


def _known(kind: str) -> str:
    if kind not in SCHEMAS:
        raise NotFoundError(f"no activity kind '{kind}'; the kinds are {', '.join(SCHEMAS)}")
    return kind


def activity_json_schema(kind: str) -> dict:
    """JSON Schema (2020-12) of one row of an activity file of ``kind``; NotFoundError for an unknown kind."""
    from zerocarbon.io.models import row_json_schema

    return row_json_schema(_known(kind))


def schema_json_text(kind: str) -> str:
    """The JSON Schema of ``kind`` as published in docs/schemas/KIND.schema.json (indented, UTF-8 text)."""
    import json

    return json.dumps(activity_json_schema(kind), ensure_ascii=False, indent=2) + "\n"


def activity_schema_index() -> list[dict]:
    """Each kind with its row model's title, description and columns (required first in file order)."""
    out = []
    for kind in ACTIVITY_KINDS:
        schema = activity_json_schema(kind)
        out.append({"kind": kind, "title": schema["title"], "description": schema["description"],
                    "columns": list(schema["properties"]), "required": schema["required"],
                    "aliases": {name: p["x-aliases"] for name, p in schema["properties"].items()},
                    "doc": f"docs/{json_schema_file(kind)}"})
    return out


def activity_row_components() -> dict[str, dict]:
    """The row schemas as OpenAPI components, by model title (``FuelRow``...)."""
    out = {}
    for kind in ACTIVITY_KINDS:
        schema = {k: v for k, v in activity_json_schema(kind).items() if k not in ("$schema", "$id")}
        out[schema["title"]] = schema
    return out


__all__ = ["ACTIVITY_KINDS", "activity_json_schema", "activity_row_components", "activity_schema_index",
           "schema_json_text", "schema_markdown"]
