"""`zerocarbon supply ...` end to end on a SQLite file: import, spec, campaign and reminder, submission and review,
scorecard, compliance, reductions, and a refused file that names its row and column and stores nothing."""
from __future__ import annotations

import json
import re
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


def test_supply_commands(tmp_path, monkeypatch):
    from zerocarbon.cli.common import console

    monkeypatch.setattr(console, "width", 200)  # a narrow pseudo-terminal would fold the tables' words
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
    # Nobody has answered yet: no scorecard, not a score of 0.
    assert not any(r["scored"] for r in rows)
    listing = run("supply", "list", "--org", "ORG", "--db", db).output
    assert listing.count("no scorecard yet") == 3 and " 0.0 " not in listing
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
    # No --request: the submission answers S1's open request of FY2026, which is then no longer open.
    camps = json.loads(run("supply", "campaign", "list", "--org", "ORG", "--db", db, "--json").output)
    req = next(r for r in camps[0]["requests"] if r["supplier"] == "S1")
    assert sub["request_id"] == req["id"] and req["status"] == "submitted"
    shown = run("supply", "show", "S1", "--org", "ORG", "--db", db).output
    assert re.search(rf"{req['id']}\s*│\s*FY2026\s*│\s*2020-01-31\s*│\s*submitted", shown), shown
    help_text = run("supply", "submit", "--help").output
    assert "code of the supplier" in help_text and "open request due last" in help_text
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
    # On 2026-11-27 the years 2027-2030 are a projection: achieved 5 x 1500 t, projected 9 x 1500 t.
    out = run("supply", "reductions", "progress", "--org", "ORG", "--db", db, "--until", "2030",
              "--as-of", "2026-11-27").output
    assert "Achieved to 2026 (as of 2026-11-27): 7,500 tCO2e, progress 0.8%" in out
    assert "Projection to 2030 (accepted projects, not achieved): 13,500 tCO2e" in out
    assert "2027 (projection)" in out and "2026 (projection)" not in out
    out = run("supply", "spec", "--org", "ORG", "--db", db).output
    assert "iso14001" in out and "pass mark 70" in out


def test_template_round_trips_through_a_submission(tmp_path):
    """The blank answers file has one row per indicator of the spec in force, in the columns a submission reads:
    filled in, it is accepted as it is."""
    import io

    import pandas as pd

    from zerocarbon.services import suppliers
    from zerocarbon.store.db import make_engine, session_factory, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 't.sqlite'}")
    upgrade(engine)
    sessions = session_factory(engine)
    from tests.api_support import load_org

    load_org(sessions, "ORG")
    suppliers.import_suppliers(sessions, "ORG", "s.csv", b"code,name,tier\nS1,Alpha,1\n", actor="t")
    name, media, data = suppliers.answers_template(sessions, "ORG", "xlsx")
    assert name.endswith(".xlsx") and media.endswith("sheet")
    sheet = pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False)
    spec = suppliers.get_spec(sessions, "ORG").spec
    assert list(sheet["indicator"]) == [i.key for i in spec.indicators]
    assert list(sheet.columns) == ["indicator", "value", "unit", "evidence_ref", "evidence_file", "valid_until"]
    values = {"iso14001": ("CN-14001-1", "cert.pdf", "2030-01-01"), "substances": ("yes", "rohs.pdf", ""),
              "sbti": ("validated", "", ""), "renewable_share": ("45", "ppa.pdf", ""),
              "scope12_disclosed": ("600", "ghg.pdf", ""), "env_audit": ("pass", "audit.pdf", "")}
    for k, (value, file, until) in values.items():
        at = sheet["indicator"] == k
        sheet.loc[at, ["value", "evidence_file", "valid_until"]] = [value, file, until]
    evidence = {f: b"evidence" for _, f, _ in values.values() if f}
    import pytest

    from zerocarbon.errors import InputError

    with pytest.raises(InputError, match="row 3, column 'value': the value is empty"):  # iso50001 left blank
        suppliers.submit(sessions, "ORG", "S1", "answers.csv", sheet.to_csv(index=False).encode(), evidence, actor="t")
    answered = sheet[sheet["value"] != ""]
    sub = suppliers.submit(sessions, "ORG", "S1", "answers.csv", answered.to_csv(index=False).encode(), evidence,
                           actor="t")
    assert [a["indicator"] for a in sub["answers"]] == list(values)
    _, _, text = suppliers.answers_template(sessions, "ORG", "csv")
    assert text.decode("utf-8-sig").splitlines()[0] == "indicator,value,unit,evidence_ref,evidence_file,valid_until"
    out = tmp_path / "answers.xlsx"
    r = runner.invoke(app, ["supply", "template", "--org", "ORG", "--out", str(out), "--db",
                            f"sqlite:///{tmp_path / 't.sqlite'}"])
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:2] == b"PK"  # a zip container: an XLSX workbook
    r = runner.invoke(app, ["supply", "template", "--org", "ORG", "--out", str(tmp_path / "a.txt"), "--db",
                            f"sqlite:///{tmp_path / 't.sqlite'}"])
    assert r.exit_code == 2 and ".csv or .xlsx" in r.output
