import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zerocarbon.cli import app
from zerocarbon.io.schemas import schema_markdown

runner = CliRunner()
ROOT = Path(__file__).parents[1]


def test_calc_json_prints_gases_and_factor_ids():
    r = runner.invoke(app, ["calc", "5", "GJ", "natural_gas", "--factors", "EPA-2025.1", "--basis", "GCV",
                            "--gwp", "AR5", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    co2 = next(g for g in out["gases"] if g["gas"] == "CO2")
    # 5 GJ / 1.055056 GJ/mmBtu x 53.06 kg/mmBtu (EPA Hub 2025, HHV)
    assert co2["mass_kg"] == pytest.approx(5 / 1.055056 * 53.06)
    assert "EPA2025.natural_gas.CO2.per_energy" in co2["factor_ids"]


def test_calc_errors_are_messages_not_tracebacks():
    r = runner.invoke(app, ["calc", "5", "GJ", "natural_gas", "--factors", "EPA-2025.1", "--basis", "LHV"])
    assert r.exit_code == 2 and "error:" in r.output and "Traceback" not in r.output


def test_factors_show_gives_provenance():
    r = runner.invoke(app, ["factors", "show", "CN_MEE_NBS.grid.location.CN.2022"])
    assert r.exit_code == 0 and "0.5366" in r.output and "MEE" in r.output


def test_data_formats_doc_is_current():
    assert (ROOT / "docs" / "data-formats.md").read_text(encoding="utf-8") == schema_markdown()


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    r = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "inventory_summary.json").read_text(encoding="utf-8"))
    t = summary["totals_tCO2e"]
    assert t["total_location_t"] > t["total_market_t"] > t["scope1_t"] > 0
    assert (tmp_path / "inventory_by_category.png").stat().st_size > 10_000
    db = f"sqlite:///{tmp_path / 'zerocarbon.sqlite'}"
    r = runner.invoke(app, ["inventory", "show", "--db", db, "--org", "DEMO-LAPTOP", "--year", "2025", "--explain",
                            "--site", "TJ01", "--scope", "2", "--method", "market", "--limit", "3"])
    assert r.exit_code == 0 and "electricity_2025.csv:" in r.output and "instrument:GEC-TJ01" in r.output
    energy = json.loads((tmp_path / "meters" / "energy_report.json").read_text())
    assert energy["idle_total_kwh"] > 0 and energy["baseline_model"]["passes"]
    assert energy["scope_note"].endswith("not the whole HF01 site")
    kpis = json.loads((tmp_path / "schedule" / "schedule_kpis.json").read_text())
    saved = kpis["savings_vs_baseline"]["energy_aware"]
    assert saved["grid_mwh_per_year"] > 0 and saved["tco2e_per_year"] > 0
    assert kpis["runs"]["energy_aware"]["kpis"]["on_time_rate"] >= kpis["runs"]["edd_always_on"]["kpis"]["on_time_rate"]
    # The same week is stored as the demo organisation's schedule run, for the dashboard's Gantt chart.
    from zerocarbon.services import schedule_runs
    from zerocarbon.services.database import open_sessions

    stored = schedule_runs.list_runs(open_sessions(db), "DEMO-LAPTOP")
    assert stored.total == 1 and stored.runs[0].summary["savings"]["grid_mwh_per_year"] == pytest.approx(
        saved["grid_mwh_per_year"])


def test_schedule_bench_prints_a_summary_and_the_operations_on_request():
    """Defect: `schedule bench ta01` printed ~1,000 lines of per-operation JSON. It now prints a one-line
    summary; --json gives the summary as JSON and --full the whole result with every operation."""
    args = ["schedule", "bench", str(ROOT / "tests" / "data" / "tiny_taillard.txt"), "--format", "taillard",
            "--time-limit", "5", "--workers", "1"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert len(r.output.splitlines()) <= 3 and "tiny_taillard: makespan 11" in text and "valid yes" in text
    assert "operations" not in text and "not a shipped instance" in text
    summary = json.loads(runner.invoke(app, args + ["--json"]).stdout)
    assert set(summary) == {"instance", "makespan", "best_known", "gap", "lower_bound", "status", "valid", "seconds"}
    assert summary["valid"] and summary["makespan"] == summary["lower_bound"] and summary["best_known"] is None
    out = json.loads(runner.invoke(app, args + ["--full"]).stdout)
    assert out["valid"] and out["makespan"] == out["lower_bound"]
    assert len(out["operations"]) == 9 and {"job", "operation", "machine", "start", "end"} <= set(out["operations"][0])


def test_schedule_run_help_says_what_the_time_limit_covers():
    """A 10 s --time-limit took 21 s and the help said only "seconds"."""
    r = runner.invoke(app, ["schedule", "run", "--help"], env={"COLUMNS": "200"})
    text = " ".join(r.output.replace("│", " ").split())
    assert "energy-aware plan" in text and "a third of it more" in text and "at least 1 s" in text


def test_schedule_run_small_week(tmp_path):
    from zerocarbon.services.demo_plant import laptop_week

    spec = laptop_week(seed=5, n_orders=12)
    (tmp_path / "p.json").write_text(json.dumps(spec), encoding="utf-8")
    r = runner.invoke(app, ["schedule", "run", str(tmp_path / "p.json"), "--time-limit", "6",
                            "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    kpis = json.loads((tmp_path / "o" / "schedule_kpis.json").read_text())
    assert set(kpis["runs"]) == {"edd_always_on", "fifo_always_on", "makespan_always_on", "energy_aware"}
    assert (tmp_path / "o" / "gantt.html").read_text(encoding="utf-8").startswith("<!doctype html>")


def test_schedule_bad_file_is_a_message(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    r = runner.invoke(app, ["schedule", "run", str(tmp_path / "bad.json")])
    assert r.exit_code == 2 and "bad.json" in r.output and "Traceback" not in r.output


def test_default_outputs_of_the_commands_are_git_ignored():
    """Following the README left week.json, schedule-output/, energy_report/ and lake/ untracked in the
    repository root: every default output file or folder of a command is ignored there."""
    import click
    import typer

    ignored = {line.strip() for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()}
    defaults = set()

    def walk(cmd: click.Command) -> None:
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)
        for p in cmd.params:
            if p.name in ("out", "lake") and isinstance(p.default, Path) and p.default.name != "demo-output":
                defaults.add(p.default.name)

    walk(typer.main.get_command(app))
    assert {"schedule-output", "energy_report", "lake", "laptop-week.json", "electricity.csv"} <= defaults
    for name in defaults | {"week.json"}:  # the README writes week.json
        assert f"/{name}" in ignored or f"/{name}/" in ignored, name


def test_demo_energy_figures_say_they_are_the_line_groups(tmp_path):
    """Defect: the demo printed "Site base load 120 kW, peak 579 kW" for HF01, a site of 62 GWh a year; its
    meters cover one line group. The demo's energy summary now carries what the meters cover."""
    from zerocarbon.io.meter_files import read_registry
    from zerocarbon.services import demo_meters
    from zerocarbon.services.demo import scope_note

    note = scope_note(read_registry(demo_meters.generate(tmp_path)["registry"]))
    assert note == ("the HF01 line group's meters (lines ASSY1, ASSY2, PACK1, SMT1, SMT2, TEST1; AIR, HVAC, PV) "
                    "behind its incomer MAIN, not the whole HF01 site")
