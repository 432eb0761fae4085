"""`zerocarbon assess ...` end to end on a SQLite file: validate (exit 2 with every JSON path), own system, run a
site assessment, manual value with evidence, review by self refused, review by another, show, gaps, chart."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.assessment_fixtures import MINI_SYSTEM
from tests.test_assessment_metrics import stored_year
from zerocarbon.cli import assess
from zerocarbon.cli.common import ErrorHandlingGroup

DATA = Path(__file__).parent / "data"
runner = CliRunner()
app = typer.Typer(cls=ErrorHandlingGroup)
app.add_typer(assess.app, name="assess")


@app.command("setup")
def _setup(db: str, folder: Path) -> None:
    """The stored year of tests/test_assessment_metrics.py (organisation ORG)."""
    from zerocarbon.services.database import open_sessions

    stored_year(open_sessions(db, create=True), folder)


def run(*args: str):
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r


def test_validate_prints_every_problem_with_its_path_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINI_SYSTEM.replace("leading: 0.5", "leading: high").replace("points: 40", "points: -1"),
                   encoding="utf-8")
    r = runner.invoke(app, ["assess", "validate", str(bad)])
    assert r.exit_code == 2
    assert "dimensions[0].indicators[0].rule.leading" in r.output and "dimensions[0].indicators[0].points" in r.output
    good = tmp_path / "good.yaml"
    good.write_text(MINI_SYSTEM, encoding="utf-8")
    assert "valid index system mini_factory" in run("assess", "validate", str(good)).output


def test_assess_commands(tmp_path, monkeypatch):
    from zerocarbon.cli.common import console

    monkeypatch.setattr(console, "width", 200)
    for var in ("ZEROCARBON_LAKE", "ZEROCARBON_METERS", "ZEROCARBON_PRODUCTION"):
        monkeypatch.delenv(var, raising=False)
    db = f"sqlite:///{tmp_path / 'z.sqlite'}"
    run("setup", db, str(tmp_path))
    system = tmp_path / "mini.yaml"
    system.write_text(MINI_SYSTEM, encoding="utf-8")
    assert "stored mini_factory version 1" in run("assess", "systems", "add", str(system), "--org", "ORG",
                                                  "--db", db).output
    listed = json.loads(run("assess", "systems", "--org", "ORG", "--db", db, "--json").output)
    assert ("mini_factory", "own") in {(s["id"], s["origin"]) for s in listed}
    got = json.loads(run("assess", "run", "--org", "ORG", "--year", "2025", "--system", "mini_factory", "--site",
                         "TJ01", "--db", db, "--actor", "em", "--json").output)
    aid = str(got["id"])
    evidence = tmp_path / "plan.txt"
    evidence.write_text("board minutes", encoding="utf-8")
    out = run("assess", "manual", aid, "manual.plan_items", "2", "--org", "ORG", "--evidence", str(evidence),
              "--db", db, "--actor", "em").output
    assert "awaiting review" in out
    r = runner.invoke(app, ["assess", "review", aid, "manual.plan_items", "--org", "ORG", "--accept", "--db", db,
                            "--actor", "em"])
    assert r.exit_code == 2 and "may not review" in r.output
    run("assess", "review", aid, "manual.plan_items", "--org", "ORG", "--accept", "--db", db, "--actor", "auditor")
    shown = run("assess", "show", aid, "--org", "ORG", "--db", db).output
    assert "manual (accepted)" in shown and "computed" in shown and "G1" in shown
    total = json.loads(run("assess", "show", aid, "--org", "ORG", "--db", db, "--json").output)["result"]["total"]
    assert total > got["result"]["total"] + 29.9
    assert "rooftop_pv, green_certificates" in run("assess", "gaps", aid, "--org", "ORG", "--db", db).output
    out = run("assess", "chart", aid, "--org", "ORG", "--out", str(tmp_path / "charts"), "--lang", "en",
              "--db", db).output
    assert (tmp_path / "charts" / f"assessment_{aid}_radar.png").stat().st_size > 1000
    assert "gaps:" in out
    entry = json.loads(run("assess", "show", aid, "--org", "ORG", "--db", db, "--json").output)["entries"][0]["id"]
    run("assess", "evidence", aid, str(entry), "--org", "ORG", "--out", str(tmp_path / "back.txt"), "--db", db)
    assert (tmp_path / "back.txt").read_text(encoding="utf-8") == "board minutes"
    again = json.loads(run("assess", "recompute", aid, "--org", "ORG", "--db", db, "--json").output)
    assert again["result"]["total"] == pytest.approx(total)
