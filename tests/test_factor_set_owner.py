"""A stored factor set belongs to one organisation: another organisation can neither list, read, nor compute
with it, whatever name it asks for; the upgrade gives existing sets an owner; the API stores a set all or
nothing."""
from __future__ import annotations

import json
from importlib import resources

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from tests.api_support import YEAR, electricity, import_bytes, load_org, logged_in, person
from tests.conftest import BACKENDS, DATA, blank_engine
from zerocarbon.cli import app
from zerocarbon.core.factors import COLUMNS
from zerocarbon.errors import FactorNotFoundError, InputError
from zerocarbon.services import accounting, energy_report, factor_sets
from zerocarbon.store.db import session_factory, upgrade
from zerocarbon.store.factor_sets import FactorSetRow
from zerocarbon.store.tables import AuditRow, Base

RULES = ("title: Own China grid\nfiles: [gwp.csv]\n"
         "grid: {location_series: location, residual_series: location, resolution: [national],"
         " fallback: latest_year_first}\n"
         "combustion: {priority: [], missing_non_co2: error}\n")


def factor_csv(value: float = 0.5, issuer: str = "Utility X", region: str = "CN") -> str:
    row = (f"OWN.grid.location.{region}.{YEAR},grid_electricity,location,,CO2,{value},kg/kWh,,{region},{YEAR},"
           f"{issuer},Annual disclosure {YEAR} https://example.org/disclosure.pdf,{YEAR},CC BY 4.0,supplier,own:1,")
    return ",".join(COLUMNS) + "\n" + row + "\n"


def store(sessions, org: str, name: str = "own-cn", value: float = 0.5) -> factor_sets.SetInfo:
    return factor_sets.store_set(sessions, name, "own.csv", factor_csv(value), "own.yaml", RULES, org=org,
                                 actor="test")


@pytest.fixture
def two(sessions):
    """Organisations A and B, each with one month of electricity at TJ01 (1000 kWh)."""
    for code in ("A", "B"):
        load_org(sessions, code)
    return sessions


def test_one_organisations_set_is_invisible_to_another(two, tmp_path):
    sessions = two
    mine = store(sessions, "A", value=0.5)
    assert mine.organisation == "A"
    assert "own-cn" in [s.name for s in factor_sets.list_sets(sessions, "A")]
    assert "own-cn" not in [s.name for s in factor_sets.list_sets(sessions, "B")]
    with pytest.raises(FactorNotFoundError, match="stored by B: none"):
        factor_sets.resolve(sessions, "own-cn", "B")
    with pytest.raises(FactorNotFoundError):
        factor_sets.factor_page(sessions, "own-cn", "B")
    with pytest.raises(FactorNotFoundError):
        factor_sets.resolve(factor_sets.for_organisation(sessions, "B"), "own-cn")
    with pytest.raises(FactorNotFoundError):
        energy_report.grid_factor("own-cn", YEAR, stored_sets=factor_sets.for_organisation(sessions, "B"))
    assert energy_report.grid_factor("own-cn", YEAR, stored_sets=factor_sets.for_organisation(sessions, "A")
                                     ).kg_per_kwh == 0.5
    for code in ("A", "B"):
        import_bytes(sessions, code, f"{code}.csv", electricity(f"M{code}", 1000), tmp_path)
    with pytest.raises(FactorNotFoundError, match="own-cn"):
        accounting.compute(sessions, "B", YEAR, "own-cn", actor="test")
    result = accounting.compute(sessions, "A", YEAR, "own-cn", actor="test")
    assert result.factor_set_fingerprint == mine.fingerprint  # the inventory pins the set it used
    assert result.totals()["scope2_location_t"] == pytest.approx(0.5)  # 1000 kWh x 0.5 kg/kWh


def test_names_are_unique_per_organisation_and_never_shadow_a_shipped_set(two, tmp_path):
    sessions = two
    a = store(sessions, "A", value=0.5)
    b = store(sessions, "B", value=0.7)  # the same name in another organisation is another set
    assert a.fingerprint != b.fingerprint
    assert factor_sets.resolve(sessions, "own-cn", "A").fingerprint == a.fingerprint
    assert factor_sets.resolve(sessions, "own-cn", "B").fingerprint == b.fingerprint
    with pytest.raises(InputError, match="A already has a stored factor set"):
        store(sessions, "A", value=0.6)
    with pytest.raises(InputError, match="shipped factor set"):
        store(sessions, "A", name="CN-2025.1")
    # Without an organisation, several organisations make the owner ambiguous: refused, nothing stored.
    with pytest.raises(InputError, match="name one with --org"):
        factor_sets.store_set(sessions, "x", "own.csv", factor_csv(), "own.yaml", RULES, org=None, actor="test")
    with pytest.raises(FactorNotFoundError, match="name one with --org"):
        factor_sets.resolve(sessions, "own-cn")
    with sessions.begin() as s:
        assert sorted(s.scalars(select(FactorSetRow.name)).all()) == ["own-cn", "own-cn"]


def _alembic(conn) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("zerocarbon.store") / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


def _old_database(engine, organisations: list[str]) -> None:
    """The schema of revision 0006 (sets shared by everyone) holding one stored set and ``organisations``."""
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), "0006")
        for i, code in enumerate(organisations, start=1):
            conn.execute(text("INSERT INTO organisations (id, code, name) VALUES (:i, :c, :c)"), {"i": i, "c": code})
        conn.execute(text(
            "INSERT INTO factor_sets (name, title, rules_yaml, factors_file, factors_csv, fingerprint, rows, "
            "created_at, created_by) VALUES ('old-set', 'Own China grid', :rules, 'own.csv', :csv, :fp, 1, "
            "'2026-01-01 00:00:00', 'cli:someone')"),
            {"rules": RULES, "csv": factor_csv(), "fp": _fingerprint()})


def _fingerprint() -> str:
    from zerocarbon.core.factors import build_factor_set

    return build_factor_set("old-set", RULES, [("own.csv", factor_csv())]).fingerprint


@pytest.mark.parametrize("kind", BACKENDS)
def test_upgrade_gives_existing_sets_to_the_only_organisation(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        _old_database(engine, ["ONLY"])
        upgrade(engine)
        sessions = session_factory(engine)
        assert [s.organisation for s in factor_sets.list_sets(sessions, "ONLY") if s.name == "old-set"] == ["ONLY"]
        assert factor_sets.resolve(sessions, "old-set", "ONLY").fingerprint == _fingerprint()
        with engine.connect() as conn:
            assert [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata)
                    if "factor_sets" in str(d)] == []
        with engine.begin() as conn:
            command.downgrade(_alembic(conn), "0010-1")
        assert "organisation_id" not in {c["name"] for c in inspect(engine).get_columns("factor_sets")}
        assert [u["column_names"] for u in inspect(engine).get_unique_constraints("factor_sets")] == [["name"]]
        upgrade(engine)
        assert factor_sets.resolve(sessions, "old-set", "ONLY").fingerprint == _fingerprint()


@pytest.mark.parametrize("kind", BACKENDS)
def test_upgrade_with_several_organisations_leaves_sets_unowned_until_assigned(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        _old_database(engine, ["A", "B"])
        upgrade(engine)
        sessions = session_factory(engine)
        for code in ("A", "B"):
            with pytest.raises(FactorNotFoundError):
                factor_sets.resolve(sessions, "old-set", code)
        assert [s.name for s in factor_sets.unowned_sets(sessions)] == ["old-set"]
        factor_sets.assign(sessions, "old-set", "B", actor="admin")
        assert factor_sets.resolve(sessions, "old-set", "B").fingerprint == _fingerprint()
        with pytest.raises(FactorNotFoundError):
            factor_sets.resolve(sessions, "old-set", "A")
        assert factor_sets.unowned_sets(sessions) == []
        with sessions.begin() as s:
            assert s.scalars(select(AuditRow.action).where(AuditRow.entity == "factor_set:old-set")).all() == [
                "factor_set.assign"]


def _upload(c, org: str, name: str, csv: str, rules: str | None = RULES):
    files = {"file": ("own.csv", csv.encode())}
    if rules is not None:
        files["rules"] = ("own.yaml", rules.encode())
    return c.post(f"/api/v1/orgs/{org}/factor-sets", files=files, data={"name": name})


@pytest.fixture
def people(two, cheap_passwords):
    person(two, "em@a.cn", "A", "energy_manager")
    person(two, "em@b.cn", "B", "energy_manager")
    return two


def test_api_upload_with_a_bad_row_reports_the_problems_and_stores_nothing(people):
    c = logged_in(people, "em@a.cn")
    bad = factor_csv().replace(",0.5,", ",-1,").replace("Utility X", "")
    r = _upload(c, "A", "own-cn", bad)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert {(p["file"], p["row"], p["column"]) for p in r.json()["problems"]} == {
        ("own.csv", 2, "value"), ("own.csv", 2, "issuer")}
    r = _upload(c, "A", "own-cn", factor_csv(), rules=None)
    assert r.status_code == 400 and "needs its rules" in r.json()["problems"][0]["reason"]
    r = _upload(c, "A", "own-cn", factor_csv().replace("Utility X", "x" * 200_000))
    assert r.status_code == 400 and "not a readable CSV file" in r.json()["problems"][0]["reason"]
    r = _upload(c, "A", "../own", factor_csv())
    assert r.status_code == 400 and r.json()["problems"][0]["file"] == "name"
    with people.begin() as s:
        assert s.scalars(select(FactorSetRow)).all() == []
        assert s.scalars(select(AuditRow).where(AuditRow.action == "factor_set.import")).all() == []


def test_api_stores_lists_and_pages_a_set_for_its_organisation_only(people):
    a, b = logged_in(people, "em@a.cn"), logged_in(people, "em@b.cn")
    r = _upload(a, "A", "own-cn", factor_csv())
    assert r.status_code == 201, r.text
    stored = r.json()
    assert (stored["organisation"], stored["factors"], stored["issuers"], stored["licences"]) == (
        "A", 1, ["Utility X"], ["CC BY 4.0"])
    listed = {s["name"]: s for s in a.get("/api/v1/orgs/A/factor-sets").json()}
    assert listed["own-cn"]["fingerprint"] == stored["fingerprint"] and listed["CN-2025.1"]["origin"] == "shipped"
    assert "US EPA" in listed["EPA-2025.1"]["issuers"] and listed["EPA-2025.1"]["editions"]
    assert "own-cn" not in {s["name"] for s in b.get("/api/v1/orgs/B/factor-sets").json()}
    assert b.get("/api/v1/orgs/B/factor-sets/own-cn/factors").status_code == 404
    assert b.get("/api/v1/orgs/A/factor-sets/own-cn/factors").status_code == 404  # not B's organisation
    page = a.get("/api/v1/orgs/A/factor-sets/own-cn/factors", params={"region": "CN"}).json()
    assert [f["factor_id"] for f in page["factors"]][-1] == f"OWN.grid.location.CN.{YEAR}"
    # Filters on a shipped set: region, gas and text, a page at a time.
    r = a.get("/api/v1/orgs/A/factor-sets/US-EGRID-2025.1/factors",
              params={"region": "US-grid-CAMX", "gas": "CO2", "kind": "grid_electricity"}).json()
    assert r["total"] == 1 and r["factors"][0]["value"] == pytest.approx(436.655)
    r = a.get("/api/v1/orgs/A/factor-sets/CN-2025.1/factors", params={"search": "天津", "limit": 1}).json()
    assert r["total"] >= 2 and len(r["factors"]) == 1 and "CN-天津" in r["regions"]


def test_cli_import_needs_an_organisation_when_there_are_several(tmp_path):
    db = f"sqlite:///{tmp_path / 'z.sqlite'}"
    (tmp_path / "own.csv").write_text(factor_csv(), encoding="utf-8")
    (tmp_path / "own.yaml").write_text(RULES, encoding="utf-8")
    runner = CliRunner()
    for code in ("A", "B"):
        org_file = tmp_path / f"{code}.yaml"
        org_file.write_text((DATA / "organisation.yaml").read_text(encoding="utf-8").replace("code: ORG", f"code: {code}"),
                            encoding="utf-8")
        assert runner.invoke(app, ["org", "load", str(org_file), "--db", db]).exit_code == 0
    r = runner.invoke(app, ["factors", "import", str(tmp_path / "own.csv"), "--name", "own-cn", "--db", db])
    assert r.exit_code == 2 and "--org" in r.output and "A, B" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["factors", "import", str(tmp_path / "own.csv"), "--name", "own-cn", "--org", "A",
                            "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["organisation"] == "A"
    names = lambda org: {s["name"] for s in json.loads(  # noqa: E731
        runner.invoke(app, ["factors", "sets", "--org", org, "--db", db, "--json"]).stdout)}
    assert "own-cn" in names("A") and "own-cn" not in names("B")
    r = runner.invoke(app, ["calc", "1", "kg", "CH4", "--factors", "own-cn", "--org", "B", "--db", db])
    assert r.exit_code != 0 and "stored by B: none" in r.output
