"""`zerocarbon supply ...` end to end on a SQLite file: import, spec, campaign and reminder, submission and review,
scorecard, compliance, reductions, and a refused file that names its row and column and stores nothing."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.test_suppliers import EVIDENCE, GOOD, PROJECTS, SUPPLIERS
from zerocarbon.cli import app

runner = CliRunner()
DATA = Path(__file__).parent / "data"


def run(*args: str):
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r


def test_supply_commands(tmp_path):
    db = f"sqlite:///{tmp_path / 'z.sqlite'}"
    run("org", "load", str(DATA / "organisation.yaml"), "--db", db)
    (tmp_path / "suppliers.csv").write_bytes(SUPPLIERS)
    out = run("supply", "import-suppliers", str(tmp_path / "suppliers.csv"), "--org", "ORG", "--db", db).output
    assert "3 new, 0 updated" in out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(SUPPLIERS + b"S4,X,7,c,CN,r,s,1,CNY,p,1,reported,x\n")
    r = runner.invoke(app, ["supply", "import-suppliers", str(bad), "--org", "ORG", "--db", db])
    assert r.exit_code == 2 and "row 5" in r.output and "tier" in r.output
    rows = json.loads(run("supply", "list", "--org", "ORG", "--db", db, "--json").output)
    assert [r["code"] for r in rows] == ["S1", "S2", "S3"] and not any(r["passed"] for r in rows)
    run("supply", "campaign", "create", "--org", "ORG", "--db", db, "--name", "FY2026", "--due", "2020-01-31")
    out = run("supply", "campaign", "remind", "--org", "ORG", "--db", db).output
    assert "3 reminder(s) recorded; no e-mail was sent" in out
    (tmp_path / "answers.csv").write_bytes(GOOD)
    evidence = []
    for name, blob in EVIDENCE.items():
        (tmp_path / name).write_bytes(blob)
        evidence += ["--evidence", str(tmp_path / name)]
    sub = json.loads(run("supply", "submit", str(tmp_path / "answers.csv"), "--org", "ORG", "--db", db,
                         "--supplier", "S1", "--json", *evidence).output)
    run("supply", "review", str(sub["id"]), "--org", "ORG", "--db", db, "--accept")
    card = json.loads(run("supply", "scorecard", "S1", "--org", "ORG", "--db", db, "--json").output)
    assert card["passed"] and card["score"] == 100
    rep = json.loads(run("supply", "compliance", "--org", "ORG", "--db", db, "--json").output)
    assert rep["passing"] == 1 and abs(rep["share_by_spend"] - 0.6) < 1e-9
    (tmp_path / "projects.csv").write_bytes(PROJECTS)
    (tmp_path / "pv.pdf").write_bytes(b"pv")
    rows = json.loads(run("supply", "reductions", "submit", str(tmp_path / "projects.csv"), "--org", "ORG", "--db",
                          db, "--supplier", "S1", "--evidence", str(tmp_path / "pv.pdf"), "--json").output)
    run("supply", "reductions", "review", str(rows[0]["id"]), "--org", "ORG", "--db", db, "--accept")
    out = run("supply", "reductions", "progress", "--org", "ORG", "--db", db, "--until", "2023").output
    assert "3,000" in out  # 1500 t/a in 2022 and 2023
    out = run("supply", "spec", "--org", "ORG", "--db", db).output
    assert "iso14001" in out and "pass mark 70" in out
