"""Which commands may create a database, and which database the factor commands read.

Defects: `inventory show --db sqlite:///typo.sqlite` created an empty database file and then said the
organisation was missing; `factors sets`, `factors list` and `calc` ignored $ZEROCARBON_DB, so a factor set
stored there was "unknown" unless --db was given again.
"""
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zerocarbon.cli import app
from zerocarbon.core.factors import COLUMNS
from zerocarbon.errors import StorageError
from zerocarbon.services.database import open_sessions

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_open_without_create_refuses_a_missing_sqlite_file(tmp_path):
    path = tmp_path / "typo.sqlite"
    with pytest.raises(StorageError) as exc:
        open_sessions(f"sqlite:///{path}", create=False)
    assert str(exc.value) == f"no database at {path}; load an organisation first with `zerocarbon org load`"
    assert not path.exists()
    open_sessions(f"sqlite:///{path}")  # the default still creates it
    assert path.is_file()
    open_sessions(f"sqlite:///{path}", create=False)


@pytest.mark.parametrize("args", [
    ("inventory", "show", "--org", "ORG", "--year", "2023"),
    ("inventory", "close", "--org", "ORG", "--year", "2023"),
    ("inventory", "compute", "--org", "ORG", "--year", "2023"),
    ("import", "list", "--org", "ORG"),
    ("import", "show", "1", "--org", "ORG"),
    ("import", "undo", "1", "--org", "ORG", "--reason", "x"),
    ("import", "fuel", str(DATA / "fuel_ok.csv"), "--org", "ORG", "--year", "2023"),
    ("baseyear", "assess", "--org", "ORG", "--base-year", "2023"),
])
def test_commands_on_stored_data_do_not_create_a_database(tmp_path, args):
    path = tmp_path / "typo.sqlite"
    r = runner.invoke(app, [*args, "--db", f"sqlite:///{path}"])
    assert r.exit_code == 2 and "no database at" in r.output and "zerocarbon org load" in r.output, r.output
    assert not path.exists()


def test_org_load_creates_the_database(tmp_path):
    path = tmp_path / "new.sqlite"
    assert runner.invoke(app, ["org", "load", str(DATA / "organisation.yaml"), "--db", f"sqlite:///{path}"]).exit_code == 0
    assert path.is_file()
    r = runner.invoke(app, ["import", "list", "--org", "ORG", "--db", f"sqlite:///{path}"])
    assert r.exit_code == 0, r.output


@pytest.fixture
def stored_set(tmp_path):
    """A database holding the stored factor set `acme-vn` (a sourced-looking row for a made-up utility)."""
    csv_path = tmp_path / "acme.csv"
    csv_path.write_text(",".join(COLUMNS) + "\nACME.grid.location.VN.2024,grid_electricity,location,,CO2,0.41,kg/kWh,,"
                        "VN,2024,Utility X,Annual disclosure 2024 p.3,2024,CC BY 4.0,supplier,acme:1,\n",
                        encoding="utf-8")
    (tmp_path / "acme.yaml").write_text(
        "title: ACME Vietnam\nfiles: [gwp.csv]\ngrid: {location_series: location, residual_series: location, "
        "resolution: [national], fallback: latest_year_first}\ncombustion: {priority: [], missing_non_co2: error}\n",
        encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'z.sqlite'}"
    org = Path(__file__).parent / "data" / "organisation.yaml"  # a stored set belongs to an organisation
    assert runner.invoke(app, ["org", "load", str(org), "--db", url]).exit_code == 0
    r = runner.invoke(app, ["factors", "import", str(csv_path), "--name", "acme-vn", "--db", url])
    assert r.exit_code == 0, r.output
    return url


def test_factor_commands_read_stored_sets_from_zerocarbon_db(stored_set, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"ZEROCARBON_DB": stored_set}
    r = runner.invoke(app, ["factors", "sets"], env=env)
    assert r.exit_code == 0 and "acme-vn" in r.output, r.output
    r = runner.invoke(app, ["factors", "list", "--set", "acme-vn", "--kind", "grid_electricity", "--json"], env=env)
    assert r.exit_code == 0 and '"ACME.grid.location.VN.2024"' in r.output, r.output
    r = runner.invoke(app, ["calc", "10", "kg", "SF6", "--factors", "acme-vn", "--json"], env=env)
    assert r.exit_code == 0 and '"factor_set": "acme-vn"' in r.output, r.output


def test_factor_commands_never_create_a_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "nowhere.sqlite"
    for env in ({"ZEROCARBON_DB": ""}, {"ZEROCARBON_DB": f"sqlite:///{missing}"}):
        r = runner.invoke(app, ["factors", "sets"], env=env)
        assert r.exit_code == 0 and "CN-2025.1" in r.output, r.output
        r = runner.invoke(app, ["calc", "1", "t", "gas_diesel_oil"], env=env)
        assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["factors", "sets", "--db", f"sqlite:///{missing}"])
    assert r.exit_code == 2 and "no database at" in r.output
    assert list(tmp_path.iterdir()) == []
