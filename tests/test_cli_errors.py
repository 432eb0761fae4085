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


def _text(r) -> str:
    """The output with line wrapping and help-panel borders undone."""
    return " ".join(r.output.replace("│", " ").split())


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


# -- messages that pointed the wrong way ------------------------------------------------------------------------
def test_factors_import_of_a_missing_file_says_file_not_found(tmp_path):
    """Defect: `factors import nonexist.csv` said the file "needs its rules"."""
    r = _run("factors", "import", str(tmp_path / "nonexist.csv"), "--name", "mine", "--db", f"sqlite:///{tmp_path}/z.sqlite")
    assert r.exit_code == 2 and "factor file not found" in _text(r) and "rules" not in r.output, r.output
    r = _run("factors", "import", str(tmp_path), "--name", "mine", "--db", f"sqlite:///{tmp_path}/z.sqlite")
    assert r.exit_code == 2 and "is a folder" in _text(r), r.output


def test_importing_a_folder_says_it_is_a_folder(tmp_path):
    """Defect: importing a directory said "file not found"."""
    url = _loaded_db(tmp_path)
    (tmp_path / "fuel").mkdir()
    r = _run("import", "fuel", str(tmp_path / "fuel"), "--org", "ORG", "--year", "2023", "--db", url)
    assert r.exit_code == 2 and "is a folder, not a file" in _text(r) and "not found" not in r.output, r.output
    r = _run("org", "load", str(tmp_path), "--db", url)
    assert r.exit_code == 2 and "is a folder" in _text(r), r.output


def test_recomputing_a_closed_year_names_the_recalculate_option(tmp_path):
    """Defect: the message said "Pass a recalculation reason" without naming `--recalculate`."""
    url = _loaded_db(tmp_path)
    data = Path(__file__).parent / "data"
    assert _run("import", "fuel", str(data / "fuel_ok.csv"), "--org", "ORG", "--year", "2023", "--db", url).exit_code == 0
    assert _run("inventory", "compute", "--org", "ORG", "--year", "2023", "--db", url).exit_code == 0
    assert _run("inventory", "close", "--org", "ORG", "--year", "2023", "--db", url).exit_code == 0
    r = _run("inventory", "compute", "--org", "ORG", "--year", "2023", "--gwp", "AR6", "--db", url)
    assert r.exit_code == 2 and '--recalculate "reason"' in _text(r), r.output
    r = _run("inventory", "compute", "--org", "ORG", "--year", "2023", "--gwp", "AR6", "--db", url,
             "--recalculate", "AR6 adopted")
    assert r.exit_code == 0, r.output


def test_undo_of_a_withdrawn_batch_is_a_plain_message(tmp_path):
    """Defect: withdrawing a batch twice was reported as "1 problem(s) in the input"."""
    url = _loaded_db(tmp_path)
    data = Path(__file__).parent / "data"
    assert _run("import", "fuel", str(data / "fuel_ok.csv"), "--org", "ORG", "--year", "2023", "--db", url).exit_code == 0
    assert _run("import", "undo", "1", "--org", "ORG", "--reason", "wrong year", "--db", url).exit_code == 0
    r = _run("import", "undo", "1", "--org", "ORG", "--reason", "again", "--db", url)
    assert r.exit_code == 2 and "batch 1 is withdrawn; only an active batch can be withdrawn" in _text(r), r.output
    assert "problem(s) in the input" not in r.output


def test_xlsx_formula_without_a_saved_value_is_named(tmp_path):
    """Defect: a formula cell with no cached value (a workbook written by a program, never opened in Excel) was
    reported only as "value is required"."""
    import zipfile

    from openpyxl import Workbook

    from zerocarbon.errors import InputError
    from zerocarbon.io.tables import read_table

    wb = Workbook()
    ws = wb.active
    ws.append(["site", "meter", "period_start", "period_end", "quantity", "unit"])
    ws.append(["TJ01", "M1", "2023-01-01", "2023-01-31", "=2*500", "kWh"])
    ws.append(["TJ01", "M2", "2023-01-01", "2023-01-31", "=3*100", "kWh"])
    path = tmp_path / "e.xlsx"
    wb.save(path)
    with pytest.raises(InputError) as exc:
        read_table(path)
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "quantity"), (3, "quantity")]
    assert "formula (=2*500) without a saved value: open and save the file in Excel" in exc.value.problems[0].reason
    assert "paste values" in exc.value.problems[0].reason
    # With the value Excel saves beside the formula, the cell reads as that value.
    saved = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(saved, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                # an empty value element is written <v /> or <v></v>, by whichever XML library openpyxl uses
                for formula, value in ((b"2*500", b"1000"), (b"3*100", b"300")):
                    for empty in (b"<v />", b"<v/>", b"<v></v>"):
                        data = data.replace(b"<f>" + formula + b"</f>" + empty,
                                            b"<f>" + formula + b"</f><v>" + value + b"</v>")
            dst.writestr(item, data)
    assert read_table(saved)["quantity"].tolist() == ["1000", "300"]


def test_sheet_help_does_not_promise_a_default():
    """Defect: `--sheet` said "(default: the first)", but a workbook with several sheets is refused without it."""
    r = _run("import", "fuel", "--help")
    assert r.exit_code == 0 and "default: the first" not in _text(r) and "more than one sheet" in _text(r)


def test_cli_cannot_sign_as_an_api_user(tmp_path):
    """`--actor user:li.wei@acme.cn` was written to the audit trail as if the API user had acted."""
    url = _loaded_db(tmp_path)
    r = _run("org", "load", str(Path(__file__).parent / "data" / "organisation.yaml"), "--db", url,
             "--actor", "user:li.wei@acme.cn")
    assert r.exit_code == 2 and "names an API user or token" in r.output


def test_read_commands_refuse_a_database_that_does_not_exist(tmp_path):
    """`audit verify --db <typo>` created an empty database and reported it 'intact: 0 entries'."""
    for args in (["audit", "verify"], ["audit", "log"], ["users", "list"]):
        r = _run(*args, "--db", f"sqlite:///{tmp_path / 'typo.sqlite'}")
        assert r.exit_code == 2 and "no database at" in r.output, (args, r.output)
    assert not (tmp_path / "typo.sqlite").exists()
