"""The README's "Using it" commands run as written on a fresh clone (against examples/ and bench/instances/)."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def using_it_commands(readme: Path = ROOT / "README.md") -> list[list[str]]:
    """Each command of the first code block under '## Using it', with `a && b` split into two."""
    text = readme.read_text(encoding="utf-8")
    section = text.split("## Using it", 1)[1]
    block = re.search(r"```[^\n]*\n(.*?)```", section, re.S)
    assert block, "README.md has no code block under '## Using it'"
    commands = []
    for line in block.group(1).splitlines():
        for part in line.split("&&"):
            if part.strip():
                commands.append(shlex.split(part))
    return commands


def test_using_it_block_is_found():
    commands = using_it_commands()
    assert commands and all(c[0] == "zerocarbon" for c in commands)
    assert ["zerocarbon", "org", "load", "examples/organisation.yaml"] in commands


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path):
    """On a fresh clone `org load organisation.yaml` found no file, ACME existed nowhere, and
    `schedule bench ta01` found no instance; every command must now exit 0 from a clean folder."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "bench" / "instances", tmp_path / "bench" / "instances")
    env = {**os.environ, "ZEROCARBON_DB": f"sqlite:///{tmp_path / 'readme.sqlite'}",
           "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for cmd in using_it_commands():
        run = subprocess.run([sys.executable, "-m", "zerocarbon.cli", *cmd[1:]], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"`{shlex.join(cmd)}` exited {run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
