"""YAML for files users upload: ``yaml.safe_load`` with bounds on what a small file may expand to.

A few lines of anchors and aliases can stand for billions of nodes ("billion laughs"); the product would then
walk them while validating, for hours. Documents deeper than ``MAX_DEPTH`` or expanding to more than
``MAX_NODES`` nodes are refused with :class:`TooLargeError`, a ``yaml.YAMLError``, so every reader's existing
"not valid YAML" refusal reports it.
"""
from __future__ import annotations

import yaml

MAX_DEPTH = 200
MAX_NODES = 1_000_000


class TooLargeError(yaml.YAMLError):
    """The document nests too deep or its aliases expand to too many nodes."""


class _Loader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise TooLargeError(f"the document nests deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _expanded_size(node)
        return node


def _expanded_size(root) -> int:
    """Nodes the document stands for once every alias is expanded; counted once per node object."""
    sizes: dict[int, int] = {}

    def size(node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        n = 1
        if isinstance(node, yaml.SequenceNode):
            n += sum(size(v) for v in node.value)
        elif isinstance(node, yaml.MappingNode):
            n += sum(size(k) + size(v) for k, v in node.value)
        if n > MAX_NODES:
            raise TooLargeError(f"the document's aliases expand to more than {MAX_NODES:,} values")
        sizes[id(node)] = n
        return n

    return size(root)


def load(text: str | bytes):
    """``yaml.safe_load`` of ``text``, refusing documents too deep or expanding too far (TooLargeError)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
