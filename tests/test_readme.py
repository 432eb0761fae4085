"""The README's "Using it" commands run as written on a fresh clone (against examples/ and bench/instances/),
and the example data they use are what examples/README.md says they are."""
from __future__ import annotations

import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


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


def test_using_it_lines_are_single_commands():
    """A pipe, redirection or `;` would not run through the test (it runs each command without a shell)."""
    for cmd in using_it_commands():
        assert not {"|", ">", "<", ";"} & set(cmd), shlex.join(cmd)


def test_example_meter_files_are_the_generator_output(tmp_path):
    """The committed meter files could drift from make_example.py (edited by hand, or generated with other
    parameters); regenerating them with the fixed seed must give the same bytes."""
    subprocess.run([sys.executable, str(EXAMPLES / "meters" / "make_example.py"), str(tmp_path)], check=True)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["production_2026-06.csv", "production_daily_2026.csv", "readings_2026-06.csv",
                       "utility_TJ01-M-MAIN_2026.csv"]
    for name in written:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / "meters" / name).read_bytes(), name


def test_example_factor_set_rows_are_copied_from_the_shipped_library():
    """The example factor set must hold real, sourced values: each of its rows is a verbatim line of the
    shipped MEE/NBS file, provenance columns included, and no value was typed in."""
    shipped = (ROOT / "src" / "zerocarbon" / "data" / "factors" / "grid_china.csv").read_text(encoding="utf-8")
    example = (EXAMPLES / "factors" / "supplier_grid.csv").read_text(encoding="utf-8")
    shipped_lines = set(shipped.splitlines())
    lines = example.splitlines()
    assert lines[0] == shipped.splitlines()[0]
    assert len(lines) > 1
    for line in lines[1:]:
        assert line in shipped_lines, line
    provinces = {r["region"] for r in csv.DictReader(example.splitlines())}
    assert {"CN-天津", "CN-四川", "CN"} <= provinces  # both ACME sites and the national fallback


def test_corrected_electricity_file_changes_one_month_only():
    original = (EXAMPLES / "electricity_2025.csv").read_text(encoding="utf-8").splitlines()
    corrected = (EXAMPLES / "electricity_2025_corrected.csv").read_text(encoding="utf-8").splitlines()
    assert len(original) == len(corrected)
    changed = [(a, b) for a, b in zip(original, corrected) if a != b]
    assert len(changed) == 1 and changed[0][0].split(",")[:4] == changed[0][1].split(",")[:4]


def test_supplier_registry_spend_is_the_purchase_rows():
    """examples/README.md says each supplier's annual_spend (CNY) is what the purchase file books to it: CNY rows as
    they are, USD rows at ACME's booked rate of 7.18 CNY per USD."""
    supply = EXAMPLES / "supply"
    booked: dict[str, float] = {}
    for row in csv.DictReader((supply / "purchase_2025.csv").read_text(encoding="utf-8").splitlines()):
        if row["spend"]:
            rate = {"CNY": 1.0, "USD": 7.18}[row["currency"]]
            booked[row["supplier"]] = booked.get(row["supplier"], 0.0) + float(row["spend"]) * rate
        elif row["supplier"] == "S004":  # the supplier-specific battery row: 3,000,000 packs at CNY 150
            booked["S004"] = booked.get("S004", 0.0) + 450_000_000
        elif row["material"] or row["pcf_id"]:  # rows by mass: CNY per laptop x laptops, as the README states
            per_unit = {"S005": 70, "S006": 120, "S008": 18}[row["supplier"]]
            units = {"TJ01": 3_000_000, "CD01": 1_500_000}[row["site"]]
            booked[row["supplier"]] = booked.get(row["supplier"], 0.0) + per_unit * units
    registry = {r["supplier code"]: r for r in csv.DictReader((supply / "suppliers.csv").read_text(
        encoding="utf-8").splitlines())}
    for code, amount in booked.items():
        if code:
            assert float(registry[code]["annual_spend"]) == pytest.approx(amount, rel=1e-9), code


def test_supply_submit_commands_upload_every_evidence_file_named():
    """`supply submit` refuses an answers file whose evidence_file was not uploaded: the README's command must pass
    every file the answers name, and each must exist."""
    commands = [c for c in using_it_commands() if c[1:3] == ["supply", "submit"]]
    assert commands
    for cmd in commands:
        answers = csv.DictReader((ROOT / cmd[3]).read_text(encoding="utf-8").splitlines())
        named = {r["evidence_file"] for r in answers if r["evidence_file"]}
        given = {Path(cmd[i + 1]).name for i, a in enumerate(cmd) if a == "--evidence"}
        assert named == given
        assert all((EXAMPLES / "supply" / name).is_file() for name in named)


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path):
    """On a fresh clone `org load organisation.yaml` found no file, ACME existed nowhere, and
    `schedule bench ta01` found no instance; every command must now exit 0 from a clean folder, with the
    default database (./zerocarbon.sqlite) that `--db sqlite:///zerocarbon.sqlite` in the README names.
    Batch ids in the README are literal: `import undo N` must withdraw the refrigerant batch it is meant to."""
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    shutil.copytree(ROOT / "bench" / "instances", tmp_path / "bench" / "instances")
    env = {k: v for k, v in os.environ.items() if k != "ZEROCARBON_DB"}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")

    def zerocarbon(cmd: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "zerocarbon.cli", *cmd[1:]], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)

    commands = using_it_commands()
    if any("spark" in cmd for cmd in commands):
        from tests.spark_cluster import java_or_fail
        java_or_fail()  # the Spark roll-up needs Java: a skip on a laptop without it, a failure under CI=true
    for cmd in commands:
        run = zerocarbon(cmd)
        assert run.returncode == 0, f"`{shlex.join(cmd)}` exited {run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    batches = {b["id"]: b for b in json.loads(zerocarbon(["zerocarbon", "import", "list", "--org", "ACME",
                                                          "--json"]).stdout)}
    undone = [int(c[3]) for c in commands if c[1:3] == ["import", "undo"]]
    assert undone and all(batches[b]["path"] == "examples/refrigerant_2025.csv" and
                          batches[b]["status"] == "withdrawn" for b in undone)
    # The README's prose shows this refusal; the file must go on repeating serials of the stored credits.
    repeat = zerocarbon(["zerocarbon", "claim", "credits", "import", "examples/claims/credits_2025_repeat.csv",
                         "--org", "ACME"])
    assert repeat.returncode == 2 and "double counting" in repeat.stdout + repeat.stderr, repeat.stderr
