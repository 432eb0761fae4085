"""The activity file formats the accounting imports accept, for shells to list and print.

Light on purpose (no pandas, no database): the CLI builds its `import <kind>` commands from it at start-up.
"""
from __future__ import annotations

from zerocarbon.io.schemas import SCHEMAS, schema_markdown

ACTIVITY_KINDS: tuple[str, ...] = tuple(SCHEMAS)

__all__ = ["ACTIVITY_KINDS", "schema_markdown"]
