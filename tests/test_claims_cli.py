"""`zerocarbon claim ...` end to end on a SQLite file: import credits (a refused file names its row and column,
exit 2), list them, create a claim with its plan, check it (a table of tests, exit 0 whether they pass or not),
write the statement (refused with the failing tests, exit 2), and review (never one's own claim)."""
from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from tests.test_claims_service import ORG, PLAN, credits_file, inventory
from zerocarbon.cli import claims as claim_cli
from zerocarbon.cli.common import ErrorHandlingGroup
from zerocarbon.services.database import open_sessions

runner = CliRunner()
app = typer.Typer(cls=ErrorHandlingGroup)
app.add_typer(claim_cli.app, name="claim")  # as `zerocarbon claim` registers it


def run(*args: str, code: int = 0):
    r = runner.invoke(app, list(args))
    assert r.exit_code == code, r.output
    return r.output


def test_claim_commands(tmp_path, monkeypatch):
    from zerocarbon.cli.common import console

    monkeypatch.setattr(console, "width", 200)
    db = f"sqlite:///{tmp_path / 'z.sqlite'}"
    monkeypatch.setenv("ZEROCARBON_DB", db)
    inventory(open_sessions(), tmp_path)
    o = ["--org", ORG, "--db", db]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(credits_file("C1").replace(b",2022,1,300,", b",20x2,1,300,"))
    out = run("claim", "credits", "import", str(bad), *o, code=2)
    assert "row 2" in out and "vintage" in out
    good = tmp_path / "credits.csv"
    good.write_bytes(credits_file("C1", "R1", "U1"))
    assert "3 credit batch(es), 450 tCO2e" in run("claim", "credits", "import", str(good), *o)
    listing = run("claim", "credits", "list", *o)
    assert "not retired" in listing and "CCER-1001" in listing
    plan = tmp_path / "plan.yaml"
    plan.write_bytes(PLAN.replace(b"[C1, R1]", b"[C1, R1, U1]"))
    created = json.loads(run("claim", "new", "--year", "2023", "--site", "TJ01", "--plan", str(plan), *o, "--json"))
    out = run("claim", "check", str(created["id"]), *o, "--chart", str(tmp_path / "c.png"), "--actor", "alice")
    assert "FAIL" in out and "U1: not retired" in out and "test(s) fail" in out
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    out = run("claim", "statement", str(created["id"]), *o, code=2)
    assert "credit.retired" in out and "not retired" in out
    run("claim", "review", str(created["id"]), *o, "--return", "--comment", "U1 not retired", "--actor", "bob")
    plan.write_bytes(PLAN)
    ok = json.loads(run("claim", "new", "--year", "2023", "--site", "TJ01", "--plan", str(plan), *o, "--json",
                        "--actor", "alice"))
    assert "every test passes" in run("claim", "check", str(ok["id"]), *o)
    text = tmp_path / "statement_zh.txt"
    run("claim", "statement", str(ok["id"]), *o, "--lang", "zh", "--out", str(text))
    assert "碳中和声明" in text.read_text(encoding="utf-8")
    out = run("claim", "review", str(ok["id"]), *o, "--accept", "--actor", "alice", code=2)
    assert "may not review" in out
    assert "signed_off by cli:bob" in run("claim", "review", str(ok["id"]), *o, "--accept", "--actor", "bob")
    assert "credit.retired_in_time" in run("claim", "rules")


def _options(command, path=()):
    """(command path, option) of every option of every command under ``command``."""
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _options(sub, (*path, name))
        return
    for p in command.params:
        if p.param_type_name == "option":
            yield " ".join(path), p


def test_every_option_has_help_and_statement_defaults_to_english():
    command = typer.main.get_command(claim_cli.app)
    assert [(c, p.opts) for c, p in _options(command) if not p.help] == []
    helps = {(c, p.opts[0]): p for c, p in _options(command)}
    assert "required" in helps["review", "--comment"].help and "--return" in helps["review", "--comment"].help
    assert helps["statement", "--lang"].default == "en"
