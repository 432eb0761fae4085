"""`zerocarbon pathway ...` end to end on a SQLite file: the catalogue, optimise with charts and several scenarios
side by side, the MACC (default: the latest run's scenario), runs and show; a bad scenario exits 2 naming its
fields, an infeasible one names the target, and `--help` loads no solver."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
import yaml
from typer.testing import CliRunner

from zerocarbon.cli import accounting
from zerocarbon.cli import pathway as pathway_cli
from zerocarbon.cli.common import ErrorHandlingGroup
from zerocarbon.services import pathway as svc

DATA = Path(__file__).parent / "data"
SCENARIOS = Path(svc.__file__).parent.parent / "data" / "measures" / "scenarios"
root = typer.Typer(cls=ErrorHandlingGroup, pretty_exceptions_enable=False)
root.add_typer(accounting.org_app, name="org")
root.add_typer(pathway_cli.app, name="pathway")
runner = CliRunner()


def run(*args: str):
    r = runner.invoke(root, list(args))
    assert r.exit_code == 0, r.output
    return r


def test_pathway_commands(tmp_path, monkeypatch):
    from zerocarbon.cli.common import console

    monkeypatch.setattr(console, "width", 200)
    db = f"sqlite:///{tmp_path / 'z.sqlite'}"
    run("org", "load", str(DATA / "organisation.yaml"), "--db", db)
    measures = json.loads(run("pathway", "measures", "--json").output)
    assert len(measures["measures"]) >= 15
    assert "illustrative" in run("pathway", "measures").output
    demo = SCENARIOS / "demo_2030.yaml"
    out = run("pathway", "optimise", "--org", "ORG", "--year", "2025", "--scenario", str(demo), "--scenario",
              str(SCENARIOS / "demo_2030_no_certificates.yaml"), "--chart", str(tmp_path / "charts"), "--db", db).output
    assert "Scenarios side by side" in out and "net present cost" in out
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == [
        "pathway_1.png", "pathway_1_macc.png", "pathway_2.png", "pathway_2_macc.png"]
    macc = json.loads(run("pathway", "macc", "--org", "ORG", "--year", "2027", "--db", db, "--json").output)
    assert macc["scenario"] == "demo-2030-no-certificates" and macc["year"] == 2027
    run("pathway", "macc", "--org", "ORG", "--scenario", str(demo), "--chart", str(tmp_path / "m.png"), "--db", db)
    assert (tmp_path / "m.png").stat().st_size > 10_000
    runs = json.loads(run("pathway", "runs", "--org", "ORG", "--db", db, "--json").output)
    assert runs["total"] == 2
    shown = json.loads(run("pathway", "show", "1", "--org", "ORG", "--db", db, "--json").output)
    assert shown["result"]["years"][-1]["re_share"] >= 0.9 - 1e-9
    side = json.loads(run("pathway", "compare", "--scenario", str(demo), "--scenario",
                          str(SCENARIOS / "demo_2030_carbon_price.yaml"), "--json").output)
    assert [s["feasible"] for s in side] == [True, True]


def test_bad_and_infeasible_scenarios_exit_2(tmp_path):
    db = f"sqlite:///{tmp_path / 'z.sqlite'}"
    run("org", "load", str(DATA / "organisation.yaml"), "--db", db)
    sc = yaml.safe_load((SCENARIOS / "demo_2030.yaml").read_text(encoding="utf-8"))
    sc["growth"] = "fast"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(sc), encoding="utf-8")
    r = runner.invoke(root, ["pathway", "optimise", "--org", "ORG", "--scenario", str(bad), "--db", db])
    assert r.exit_code == 2 and "bad.yaml" in r.output and "growth" in r.output
    r = runner.invoke(root, ["pathway", "optimise", "--org", "ORG", "--year", "2024", "--scenario",
                             str(SCENARIOS / "demo_2030.yaml"), "--db", db])
    assert r.exit_code == 2 and "base.year" in r.output
    sc = yaml.safe_load((SCENARIOS / "demo_2030.yaml").read_text(encoding="utf-8"))
    sc["targets"] = [{"year": 2030, "max_scope12_t": 5}]
    tight = tmp_path / "tight.yaml"
    tight.write_text(yaml.safe_dump(sc), encoding="utf-8")
    r = runner.invoke(root, ["pathway", "optimise", "--org", "ORG", "--scenario", str(tight), "--db", db])
    assert r.exit_code == 2 and "Scope 1+2 <= 5.0 tCO2e in 2030" in r.output
    r = runner.invoke(root, ["pathway", "macc", "--org", "ORG", "--db", db])
    assert r.exit_code == 2 and "no stored pathway run" in r.output


def test_help_loads_no_solver():
    code = ("import sys; import zerocarbon.cli.pathway as p; "
            "print(sorted(m for m in ('scipy', 'sqlalchemy', 'pandas', 'zerocarbon.solvers.pathway') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_option_and_argument_has_help():
    group = typer.main.get_command(pathway_cli.app)
    missing = [f"{name} {p.name}" for name, cmd in group.commands.items() for p in cmd.params
               if not getattr(p, "help", None) and p.name not in ("help",)]
    assert len(group.commands) >= 6 and missing == []


def test_plan_table_names_sizes_with_units_constraints_and_the_bau_step(tmp_path, monkeypatch):
    from zerocarbon.cli.common import console

    monkeypatch.setattr(console, "width", 250)
    db = f"sqlite:///{tmp_path / 'z.sqlite'}"
    run("org", "load", str(DATA / "organisation.yaml"), "--db", db)
    out = run("pathway", "optimise", "--org", "ORG", "--year", "2025", "--scenario",
              str(SCENARIOS / "demo_2030.yaml"), "--db", db).output
    assert "rooftop_pv 15,000 kW" in out and "green_certificates" in out and " MWh" in out
    assert "constrained 2030:" in out
    shown = json.loads(run("pathway", "show", "1", "--org", "ORG", "--db", db, "--json").output)["result"]
    last = shown["years"][-1]
    assert {"rooftop_pv", "green_certificates"} <= set(svc.in_service(last)) and last["active"]
