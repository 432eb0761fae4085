"""The command line never shows a traceback: bad input or usage exits 2 with a message, an internal error exits 1
and names a log file holding the trace. Each case below printed a Python traceback before."""
import subprocess
from pathlib import Path
import sys

import pytest
from typer.testing import CliRunner

from zerocarbon.cli import app

runner = CliRunner()


def _run(*args, env=None):
    return runner.invoke(app, list(args), env=env)


def test_db_in_a_missing_folder_is_a_message(tmp_path):
    r = _run("inventory", "show", "--org", "X", "--year", "2025", "--db", f"sqlite:///{tmp_path}/no/such/x.sqlite")
    assert r.exit_code == 2 and "does not exist" in r.output and "Traceback" not in r.output


def _loaded_db(tmp_path) -> str:
    """URL of a database holding the test organisation ORG."""
    url = f"sqlite:///{tmp_path}/z.sqlite"
    assert _run("org", "load", str(Path(__file__).parent / "data" / "organisation.yaml"), "--db", url).exit_code == 0
    return url


def test_unknown_organisation_for_baseyear_record_is_a_message(tmp_path):
    r = _run("baseyear", "record", "--org", "NOPE", "--base-year", "2020", "--kind", "error", "--delta-t", "1",
             "--reason", "x", "--db", _loaded_db(tmp_path))
    assert r.exit_code == 2 and "NOPE" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("args", [
    ("inventory", "show", "--org", "X", "--year", "2025", "--method", "mkt"),
    ("inventory", "show", "--org", "X", "--year", "2025", "--scope", "9"),
    ("meters", "rollup", "--freq", "week"),
])
def test_option_values_are_checked_as_choices(args):
    """`--method mkt` and `--scope 9` were silently accepted; `--freq week` crashed."""
    r = _run(*args)
    assert r.exit_code == 2 and "Invalid value" in r.output


def test_unknown_fuel_use_is_a_message():
    r = _run("calc", "1", "t", "gas_diesel_oil", "--use", "flying")
    assert r.exit_code == 2 and "is not stationary, mobile or nonroad" in r.output and "Traceback" not in r.output


def test_internal_error_exits_1_with_a_log_file(tmp_path, monkeypatch):
    from zerocarbon.services import accounting

    def broken(*a, **k):
        raise RuntimeError("deliberately broken")

    monkeypatch.setattr(accounting, "inventory_meta", broken)
    r = _run("inventory", "show", "--org", "X", "--year", "2025", "--db", _loaded_db(tmp_path),
             env={"ZEROCARBON_LOG_DIR": str(tmp_path / "logs")})
    assert r.exit_code == 1 and "internal error" in r.output and "Traceback" not in r.output
    logs = list((tmp_path / "logs").glob("error-*.log"))
    assert len(logs) == 1 and "deliberately broken" in logs[0].read_text() and "Traceback" in logs[0].read_text()


def test_version():
    from zerocarbon import __version__

    r = _run("--version")
    assert r.exit_code == 0 and __version__ in r.output


def test_help_loads_no_heavy_library():
    """`zerocarbon --help` took 3.5 s of CPU because every heavy library loaded up front."""
    code = ("import sys; from zerocarbon.cli import app; "
            "heavy = [m for m in ('pandas', 'numpy', 'sqlalchemy', 'ortools', 'matplotlib', 'duckdb', 'sklearn', "
            "'scipy', 'pint') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


@pytest.mark.parametrize("args, reason", [
    (("calc", "nan", "GJ", "natural_gas", "--basis", "NCV"), "'nan' is not a finite number"),
    (("calc", "inf", "GJ", "natural_gas", "--basis", "NCV", "--json"), "'inf' is not a finite number"),
    (("calc", "--basis", "NCV", "--", "-5", "GJ", "natural_gas"), "-5 is negative"),
    (("calc", "1e308", "t", "natural_gas", "--json"), "beyond the range of numbers"),
])
def test_calc_refuses_non_finite_and_negative_quantities(args, reason):
    """Defect: `calc nan` printed `total nan` (exit 0), `--json` with inf printed Infinity (not JSON), and a
    negative quantity was an internal error."""
    r = _run(*args)
    assert r.exit_code == 2, r.output
    assert reason in r.output and "internal error" not in r.output and "Infinity" not in r.output


@pytest.mark.parametrize("value, year, reason, message", [
    ("nan", "2020", "acquisition", "'nan' is not a finite number"),
    ("inf", "2020", "acquisition", "'inf' is not a finite number"),
    ("5", "1800", "acquisition", "1800 is not a plausible base year"),
    ("5", "2020", "", "give the reason for the change"),
    ("5", "2020", "   ", "give the reason for the change"),
])
def test_baseyear_record_refuses_impossible_changes(tmp_path, value, year, reason, message):
    """Defect: `--delta-t nan` was an internal error (IntegrityError); `--delta-t inf`, base year 1800 and an empty
    reason were recorded."""
    from zerocarbon.services.database import open_sessions

    url = _loaded_db(tmp_path)
    r = _run("baseyear", "record", "--org", "ORG", "--base-year", year, "--kind", "structural", "--delta-t", value,
             "--reason", reason, "--db", url)
    assert r.exit_code == 2 and message in r.output and "internal error" not in r.output, r.output
    from zerocarbon.store.tables import BaseYearChangeRow

    with open_sessions(url)() as s:
        assert s.query(BaseYearChangeRow).count() == 0
