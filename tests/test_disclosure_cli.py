"""`zerocarbon disclose ...` on the stand-ins of tests/test_disclosure_api.py: help for every command, the frameworks
and catalogue tables, inputs import (a refused file names its row and column, exit 2) and list, the facts (table
and JSON), check (every check with its level, exit 1 on an error), build (the files written, Inline XBRL only where
a taxonomy exists), publish (refused while an error check, exit 2), publications and verify (exit 1 on a
difference)."""
from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from tests.test_disclosure_api import SERVICE, YEAR, install
from zerocarbon.cli import disclose
from zerocarbon.cli.common import ErrorHandlingGroup

runner = CliRunner()
app = typer.Typer(cls=ErrorHandlingGroup)
app.add_typer(disclose.app, name="disclose")  # as `zerocarbon disclose` registers it

COMMANDS = (("frameworks",), ("catalogue",), ("inputs", "import"), ("inputs", "list"), ("facts",), ("check",),
            ("build",), ("publish",), ("publications",), ("verify",))


@pytest.fixture
def fakes(monkeypatch, tmp_path):
    from zerocarbon.cli.common import console

    monkeypatch.setattr(console, "width", 250)
    state = install(monkeypatch)
    # The stand-in service needs no database; the commands still open the one named (an empty SQLite file).
    monkeypatch.setattr("zerocarbon.cli.common.open_db", lambda db, create=False: "sessions")
    return state


def run(*args: str, code: int = 0) -> str:
    r = runner.invoke(app, ["disclose", *args])
    assert r.exit_code == code, r.output
    return r.output


O = ("--org", "ACME", "--year", str(YEAR))


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help(command):
    out = run(*command, "--help")
    assert "Usage" in out and "--json" in out


def test_every_option_has_help():
    command = typer.main.get_command(disclose.app)

    def options(cmd, path=()):
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                yield from options(sub, (*path, name))
            return
        for p in cmd.params:
            if p.param_type_name == "option":
                yield " ".join(path), p

    assert [(c, p.opts) for c, p in options(command) if not p.help] == []


def test_frameworks_and_catalogue(fakes):
    out = run("frameworks")
    assert "hkex" in out and "HKEX ESG Reporting Code / 香港交易所" in out and "issb_s2" in out
    fws = json.loads(run("frameworks", "--json"))
    assert fws[1]["prefix"] == "ifrs-sds"
    out = run("catalogue", "--framework", "hkex")
    assert "KPI A1.2a" in out and "Scope 1 emissions / 范围一排放" in out and "29(a)(i)" not in out
    assert len(json.loads(run("catalogue", "--json"))) == 5
    assert "no framework 'nope'" in run("catalogue", "--framework", "nope", code=2)


def test_inputs(fakes, tmp_path):
    good = tmp_path / "acme_2025_inputs.yaml"
    good.write_text("inputs: []\n", encoding="utf-8")
    out = run("inputs", "import", str(good), *O, "--actor", "alice")
    assert "2 input(s) stored for ACME 2025" in out and "replaced / 已替换: text.emissions_policy" in out
    assert ("import_inputs", "ACME", YEAR, "acme_2025_inputs.yaml", "cli:alice") in fakes.calls
    bad = tmp_path / "bad.yaml"
    bad.write_text("bad: yes\n", encoding="utf-8")
    out = run("inputs", "import", str(bad), *O, code=2)
    assert "nothing was written" in out and "bad.yaml" in out and "row 2" in out and "unit" in out
    out = run("inputs", "list", *O)
    assert "text.emissions_policy" in out and "ESG policy 2025.pdf" in out and "我们每年降低能耗。" in out
    assert json.loads(run("inputs", "list", *O, "--json"))[0]["entered_by"] == "user:data_entry@acme.cn"


def test_facts(fakes):
    out = run("facts", *O)
    assert "ghg.scope1" in out and "1,234.5" in out and "ledger" in out
    assert "missing" in out and "请录入 input.water.consumption" in out and "1 of 2 facts reported" in out
    # The inputs in force are handed to the fact builder.
    assert ("build_facts", "ACME", YEAR, ["text.emissions_policy"]) in fakes.calls
    facts = json.loads(run("facts", *O, "--json"))
    assert facts["ghg.scope1"]["value"] == 1234.5 and facts["ghg.scope1"]["lineage"]["filter"]["site"] == "TJ01"
    assert facts["input.water.consumption"]["value"] is None and facts["input.water.consumption"]["status"] == "missing"


def test_check_exits_1_on_an_error_check(fakes):
    out = run("check", *O, code=1)
    assert "hkex" in out and "3 reported / 已披露, 1 missing / 缺失" in out
    assert "error" in out and "mandatory data point missing" in out and "强制披露项缺失" in out
    assert "warning" in out and "explain why" in out and "info" in out
    assert "1 error(s)" in out
    out = run("check", *O, "--framework", "issb_s2")
    assert "no errors" in out and "no findings" in out
    assert ("build", "ACME", YEAR, ["issb_s2"]) in fakes.calls
    fakes.errors = False
    run("check", *O)
    checks = json.loads(run("check", *O, "-f", "hkex", "--json"))
    assert checks[0]["missing"] == 1 and [c["level"] for c in checks[0]["checks"]] == ["warning", "info"]
    assert "no framework 'gri'" in run("check", *O, "-f", "gri", code=2)


def test_build_writes_the_files(fakes, tmp_path):
    out_dir = tmp_path / "reports"
    out = run("build", *O, "--out", str(out_dir))
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["hkex_2025.xlsx", "hkex_2025_en.html", "hkex_2025_en.pdf", "hkex_2025_zh.html",
                     "hkex_2025_zh.pdf", "issb_s2_2025.xhtml", "issb_s2_2025.xlsx", "issb_s2_2025_en.html",
                     "issb_s2_2025_en.pdf", "issb_s2_2025_zh.html", "issb_s2_2025_zh.pdf"]
    assert "11 file(s) written" in out and "hkex_2025_zh.pdf" in out and "draft" in out
    # No Inline XBRL is asked of a framework without a taxonomy.
    calls = [c for c in fakes.calls if c[0] == "write_reports"]
    assert ("write_reports", ["hkex"], ("xlsx", "html", "pdf"), ("en", "zh")) in calls
    assert ("write_reports", ["issb_s2"], ("xlsx", "html", "pdf", "ixbrl"), ("en", "zh")) in calls
    other = tmp_path / "pdf"
    got = json.loads(run("build", *O, "-f", "hkex", "--format", "pdf", "--lang", "zh", "--out", str(other), "--json"))
    assert [p.rsplit("/", 1)[1] for p in got["files"]] == ["hkex_2025_zh.pdf"] and got["reports"][0]["errors"] == 1
    assert run("build", *O, "--format", "docx", "--out", str(other), code=2)


def test_publish_and_publications(fakes):
    out = run("publish", *O, code=2)
    assert "error check" in out and fakes.published == []
    out = run("publish", *O, "-f", "issb_s2", "--actor", "bob")
    assert "publication 1: ACME 2025 (issb_s2) published by cli:bob" in out
    out = run("publications", "--org", "ACME")
    assert "issb_s2" in out and "cli:bob" in out
    assert json.loads(run("publications", "--org", "ACME", "--json"))[0]["fingerprint"] == "f" * 64


def test_verify_exits_1_on_a_difference(fakes):
    assert "2 number(s) recomputed from their lineage, no difference" in run("verify", *O)
    fakes.differ = True
    out = run("verify", *O, code=1)
    assert "1 difference(s)" in out and "KPI A1.2a" in out and "1234.5" in out and "1234.6" in out
    got = json.loads(run("verify", *O, "--json", code=1))
    assert got["differences"] == 1 and got["verifications"][0]["ok"] is False


def test_errors_exit_2_with_the_message(fakes, monkeypatch):
    from zerocarbon.errors import NotFoundError

    def unknown(*args, **kwargs):
        raise NotFoundError("organisation 'NOPE' is not in the database; run `zerocarbon org load` first")

    monkeypatch.setattr(SERVICE, "publications", unknown)
    out = run("publications", "--org", "NOPE", code=2)
    assert "organisation 'NOPE' is not in the database" in out and "Traceback" not in out
