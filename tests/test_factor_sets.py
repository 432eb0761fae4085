"""User factor sets: validated, stored with their fingerprint (audited), then usable by name only."""
import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import DATA
from zerocarbon.cli import app
from zerocarbon.core.factors import COLUMNS
from zerocarbon.core.model import Site
from zerocarbon.errors import FactorNotFoundError, InputError
from zerocarbon.services.factor_sets import import_set, list_sets, resolve
from zerocarbon.store.factor_sets import FactorSetRow
from zerocarbon.store.tables import AuditRow

ROW = ("ACME.grid.location.VN.2024,grid_electricity,location,,CO2,0.41,kg/kWh,,VN,2024,"
       "Utility X,Annual disclosure 2024 p.3,2024,CC BY 4.0,supplier,acme:1,")
RULES = ("title: ACME Vietnam\nfiles: [gwp.csv]\n"
         "grid: {location_series: location, residual_series: location, resolution: [national],"
         " fallback: latest_year_first}\n"
         "combustion: {priority: [], missing_non_co2: error}\n")


@pytest.fixture
def files(tmp_path):
    csv_path = tmp_path / "acme.csv"
    csv_path.write_text(",".join(COLUMNS) + "\n" + ROW + "\n", encoding="utf-8")
    (tmp_path / "acme.yaml").write_text(RULES, encoding="utf-8")
    return csv_path


def test_import_then_resolve_by_name(db, files):
    sessions = db
    info = import_set(sessions, files, "acme-vn", actor="tester")
    assert (info.origin, info.factors, info.organisation) == ("stored", 1, "ORG") and len(info.fingerprint) == 64
    fs = resolve(sessions, "acme-vn", "ORG")
    assert fs.fingerprint == info.fingerprint and fs.origin == "stored"
    assert fs.grid_factor("location", 2024, Site("HN", "Hanoi", country="VN")).factor.value == 0.41
    with sessions.begin() as s:
        audit = s.scalars(select(AuditRow).where(AuditRow.action == "factor_set.import")).one()
        assert audit.actor == "tester" and audit.detail["fingerprint"] == info.fingerprint
    assert [x.name for x in list_sets(sessions) if x.origin == "stored"] == ["acme-vn"]
    assert resolve(sessions, "CN-2025.1").origin == "shipped"  # shipped names are found first


def test_a_bad_file_writes_nothing(db, files):
    sessions = db
    files.write_text(",".join(COLUMNS) + "\n" + ROW.replace(",0.41,", ",inf,").replace("Utility X", "") + "\n",
                     encoding="utf-8")
    with pytest.raises(InputError) as exc:
        import_set(sessions, files, "acme-vn", actor="test")
    assert {(p.row, p.column) for p in exc.value.problems} == {(2, "issuer"), (2, "value")}
    with sessions.begin() as s:
        assert s.scalars(select(FactorSetRow)).all() == []
        assert s.scalars(select(AuditRow).where(AuditRow.action == "factor_set.import")).all() == []


def test_rules_are_checked_and_required(db, files):
    sessions = db
    (files.parent / "acme.yaml").write_text(RULES.replace("latest_year_first", "nearest"), encoding="utf-8")
    with pytest.raises(InputError, match="grid.fallback"):
        import_set(sessions, files, "acme-vn", actor="test")
    (files.parent / "acme.yaml").unlink()
    with pytest.raises(InputError, match="needs its rules"):
        import_set(sessions, files, "acme-vn", actor="test")


def test_names_are_never_paths_and_never_reused(db, files):
    sessions = db
    for bad in ("../acme", "a/b", "CN-2025.1"):
        with pytest.raises((FactorNotFoundError, InputError)):
            import_set(sessions, files, bad, actor="test")
    import_set(sessions, files, "acme-vn", actor="test")
    with pytest.raises(InputError, match="ORG already has a stored factor set with this name"):
        import_set(sessions, files, "acme-vn", actor="test")
    with pytest.raises(FactorNotFoundError, match="stored by ORG: acme-vn"):
        resolve(sessions, "acme-xx")
    with pytest.raises(FactorNotFoundError, match="not a factor set name"):
        resolve(None, str(files))
    with pytest.raises(FactorNotFoundError, match="shipped: CN-2025.1.*--db"):
        resolve(None, "acme-vn")


def test_cli_import_sets_and_calc(tmp_path, files):
    db = f"sqlite:///{tmp_path / 'z.sqlite'}"
    runner = CliRunner()
    assert runner.invoke(app, ["org", "load", str(DATA / "organisation.yaml"), "--db", db]).exit_code == 0
    r = runner.invoke(app, ["factors", "import", str(files), "--name", "acme-vn", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    fp = json.loads(r.stdout)["fingerprint"]
    r = runner.invoke(app, ["factors", "sets", "--db", db, "--json"])
    listed = {x["name"]: x for x in json.loads(r.stdout)}
    assert listed["acme-vn"]["fingerprint"] == fp and listed["CN-2025.1"]["origin"] == "shipped"
    r = runner.invoke(app, ["factors", "list", "--set", "acme-vn", "--db", db, "--json"])
    assert [f["factor_id"] for f in json.loads(r.stdout)][-1] == "ACME.grid.location.VN.2024"
    r = runner.invoke(app, ["calc", "1", "kg", "CH4", "--factors", str(files)])
    assert r.exit_code == 2 and "not a factor set name" in r.output and "Traceback" not in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(COLUMNS) + "\n" + ROW.replace("kg/kWh", "kg/kWhr") + "\n", encoding="utf-8")
    r = runner.invoke(app, ["factors", "import", str(bad), "--name", "bad", "--rules", str(tmp_path / "acme.yaml"),
                            "--db", db])
    assert r.exit_code == 2 and "bad.csv, row 2, column 'unit'" in r.output
