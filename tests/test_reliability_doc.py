"""RELIABILITY.md: every row names a command that re-creates it, and that command points at tests that exist.

A row whose test was renamed or removed would otherwise go on claiming a guarantee nothing checks.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "RELIABILITY.md"
# The ids of the replayed fuzz cases (tests/test_fuzz_importers.py::test_found_cases_stay_fixed), which -k selects.
CORPUS_IDS = [f"{p.parent.name}/{p.name}" for p in (ROOT / "tests" / "data" / "fuzz").glob("*/*")]
COLUMNS = ["area", "fault or hostile input", "what happened", "lost / duplicated / half-written", "reproduce"]


def rows() -> list[list[str]]:
    found, header = [], None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if header is None:
            header = cells
            assert header == COLUMNS, f"a table of RELIABILITY.md has columns {header}"
        elif not set(line) <= set("|- "):
            found.append(cells)
    return found


def commands(cell: str) -> list[list[str]]:
    """The pytest and python commands of a cell, without leading ``NAME=value`` settings."""
    out = []
    for code in re.findall(r"`([^`]+)`", cell):
        words = shlex.split(code)
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
            words = words[1:]
        if words and words[0] in ("pytest", "python"):
            out.append(words)
    return out


def test_every_row_has_five_cells_and_a_command_that_recreates_it():
    table = rows()
    assert len(table) >= 40
    for cells in table:
        assert len(cells) == len(COLUMNS), cells
        assert commands(cells[-1]), f"no pytest or python command in: {cells}"


def _k_words(expr: str) -> list[str]:
    return [w for w in re.split(r"[\s()]+", expr) if w and w not in ("and", "or", "not")]


def test_every_command_names_tests_and_scripts_that_exist():
    for cells in rows():
        for cmd in commands(cells[-1]):
            if cmd[0] == "python":
                assert cmd[1:3] == ["-m", "zerocarbon"] or (ROOT / cmd[1]).is_file(), cmd
                continue
            targets = [a for a in cmd[1:] if a.startswith("tests/")]
            assert targets, cmd
            texts = []
            for target in targets:
                path, _, name = target.partition("::")
                assert (ROOT / path).is_file(), f"{path} (row: {cells[1]})"
                text = (ROOT / path).read_text(encoding="utf-8")
                texts.append(text)
                if name:
                    assert re.search(rf"^def {re.escape(name.split('[')[0])}\(", text, re.M), target
            if "-k" in cmd:
                for word in _k_words(cmd[cmd.index("-k") + 1]):
                    assert any(word in t for t in texts + CORPUS_IDS), f"-k {word!r} matches nothing in {targets}"
