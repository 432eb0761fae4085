"""The pathway API per role: the public catalogue, solving and storing a scenario (assess.manage), reading runs
and the MACC (assess.read), refusals with field paths, infeasible targets naming the target, tenancy, the
scheduling saving taken from the latest stored schedule run and the migration."""
from __future__ import annotations

import pytest
import yaml
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect

import zerocarbon.store.pathways as _pathway_tables
from tests.api_support import BASE_URL, PASSWORD, fast_passwords, load_org, person
from tests.conftest import BACKENDS, alembic_config, blank_engine
from tests.test_pathway_core import SPEC_IDS
from zerocarbon.api.routes import pathways as api_pathways
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import pathway as svc
from zerocarbon.store.db import upgrade
from zerocarbon.store.tables import Base
from zerocarbon.web import create_app
from zerocarbon.web import pathway as web_pathway

ORG, OTHER = "ORG", "OTH"
DEMO = svc.shipped_scenarios()["demo_2030"]


@pytest.fixture(autouse=True)
def cheap_hashes():
    with fast_passwords():
        yield


def app(sessions):
    a = create_app(sessions)
    a.include_router(api_pathways.router, prefix="/api/v1")
    a.include_router(web_pathway.router)
    return a


def client(sessions, **kw) -> TestClient:
    return TestClient(app(sessions), base_url=BASE_URL, **kw)


def login(sessions, email: str) -> TestClient:
    c = client(sessions)
    r = c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


@pytest.fixture
def world(sessions):
    load_org(sessions, ORG)
    load_org(sessions, OTHER)
    for role in Role:
        person(sessions, f"{role.value}@acme.cn", ORG, role.value)
    person(sessions, "admin@other.cn", OTHER, "admin")
    return sessions


def solve(c, text=DEMO, name="demo_2030.yaml"):
    return c.post(f"/api/v1/orgs/{ORG}/pathways", files={"scenario": (name, text.encode())},
                  data={"time_limit": "30"})


def test_catalogue_is_public_and_complete(world):
    r = client(world).get("/api/v1/measures")
    assert r.status_code == 200
    body = r.json()
    assert SPEC_IDS <= {m["id"] for m in body["measures"]}
    leaks = next(m for m in body["measures"] if m["id"] == "compressed_air_leaks")
    assert leaks["figures"]["fraction"]["status"] == "sourced"
    assert "public domain" in leaks["figures"]["fraction"]["source_detail"]["licence"]
    assert "capex" in leaks["illustrative"]


def test_roles(world):
    for role in Role:
        c = login(world, f"{role.value}@acme.cn")
        listed = c.get(f"/api/v1/orgs/{ORG}/pathways")
        assert listed.status_code == (200 if allowed(role, "assess.read") else 403), (role, listed.text)
        made = solve(c)
        assert made.status_code == (201 if allowed(role, "assess.manage") else 403), (role, made.text)
    admin = login(world, "admin@acme.cn")
    runs = admin.get(f"/api/v1/orgs/{ORG}/pathways").json()
    assert runs["total"] == sum(allowed(r, "assess.manage") for r in Role)


def test_solve_store_read_and_tenancy(world):
    admin = login(world, "admin@acme.cn")
    made = solve(admin)
    assert made.status_code == 201, made.text
    run = made.json()
    result = run["result"]
    assert run["solver_status"] == "optimal" and run["base_year"] == 2025
    last = result["years"][-1]
    assert last["year"] == 2030
    assert last["scope12_t"] <= 0.5 * result["base"]["scope12_t"] + 1e-3
    assert last["re_share"] >= 0.9 - 1e-9
    assert result["base"]["source"] == "scenario"
    assert result["npc"] <= result["greedy"]["npc"] + 1e-6
    assert result["illustrative"] and all(i["reason"] for i in result["illustrative"])
    lineage = result["measures"]["energy_aware_scheduling"]["lineage"]
    assert lineage["source"] == "catalogue default"
    got = admin.get(f"/api/v1/orgs/{ORG}/pathways/{run['id']}")
    assert got.status_code == 200 and got.json()["result"]["npc"] == result["npc"]
    yaml_text = admin.get(f"/api/v1/orgs/{ORG}/pathways/{run['id']}/scenario")
    assert yaml_text.status_code == 200 and yaml_text.text == DEMO
    macc = admin.get(f"/api/v1/orgs/{ORG}/pathways/macc", params={"year": 2027})
    assert macc.status_code == 200
    costs = [e["cost_per_t"] for e in macc.json()["entries"] if e["cost_per_t"] is not None]
    assert costs == sorted(costs)
    other = login(world, "admin@other.cn")
    assert other.get(f"/api/v1/orgs/{OTHER}/pathways/{run['id']}").status_code == 404
    assert other.get(f"/api/v1/orgs/{ORG}/pathways/{run['id']}").status_code in (403, 404)


def test_bad_scenario_lists_field_paths_and_stores_nothing(world):
    admin = login(world, "admin@acme.cn")
    bad = yaml.safe_load(DEMO)
    bad["discount_rate"] = 2
    bad["targets"][0]["min_re_share"] = 1.5
    r = solve(admin, yaml.safe_dump(bad), "bad.yaml")
    assert r.status_code == 400
    columns = {p["column"] for p in r.json()["problems"]}
    assert {"discount_rate", "targets[0].min_re_share"} <= columns
    assert all(p["file"] == "bad.yaml" for p in r.json()["problems"])
    assert admin.get(f"/api/v1/orgs/{ORG}/pathways").json()["total"] == 0


def test_infeasible_targets_are_refused_naming_the_target(world):
    admin = login(world, "admin@acme.cn")
    sc = yaml.safe_load(DEMO)
    sc["exclude"] = ["green_certificates", "green_power_contract"]
    r = solve(admin, yaml.safe_dump(sc), "no-re.yaml")
    assert r.status_code == 400
    assert "renewable share >= 90.0% in 2030" in r.json()["detail"]
    assert admin.get(f"/api/v1/orgs/{ORG}/pathways").json()["total"] == 0


def test_compare_side_by_side(world):
    admin = login(world, "admin@acme.cn")
    files = [("scenarios", (f"{n}.yaml", t.encode())) for n, t in sorted(svc.shipped_scenarios().items())]
    r = admin.post(f"/api/v1/orgs/{ORG}/pathways/compare", files=files)
    assert r.status_code == 200, r.text
    rows = r.json()
    assert len(rows) == 3 and all(x["feasible"] for x in rows)
    by = {x["scenario"]: x["summary"] for x in rows}
    # without certificates the renewable share is bought as green-power contracts, dearer per MWh
    assert by["demo-2030-no-certificates"]["npc"] > by["demo-2030"]["npc"]
    assert login(world, "viewer@acme.cn").post(f"/api/v1/orgs/{ORG}/pathways/compare", files=files).status_code == 403


def test_scheduling_saving_comes_from_the_latest_schedule_run(world):
    from zerocarbon.store import repos
    from zerocarbon.store.tables import ScheduleRunRow

    with world.begin() as s:
        org_id, _ = repos.load_organisation(s, ORG)
        s.add(ScheduleRunRow(organisation_id=org_id, name="week", created_by="t", created_at=repos.now(),
                             problem_file="p.json", problem_sha256="0" * 64, time_limit_s=10, objective="cost",
                             status="done", summary={"problem": "week", "savings": {"grid_mwh_per_year": 1262.5,
                                                                                    "tco2e_per_year": 700.0}},
                             result={}))
    curve = svc.macc_for_org(world, ORG, 2026, scenario=("demo_2030.yaml", DEMO))
    entry = next(e for e in curve["entries"] if e["measure"] == "energy_aware_scheduling")
    run_id = entry["lineage"]["schedule_run"]
    assert entry["lineage"]["source"] == "schedule run" and entry["lineage"]["grid_mwh_per_year"] == 1262.5
    assert "fraction" not in entry["illustrative"]
    # 1262.5 MWh over SMT + ASSY + TEST + PACK = 42,124.8 MWh of the base: 2.997 %, before the other measures
    sc = svc.read_scenario(DEMO, "demo_2030.yaml")
    cat = svc.with_scheduling(svc.catalogue(), sc, svc.latest_schedule_saving(world, ORG))
    assert cat.get("energy_aware_scheduling").fraction.value == pytest.approx(1262.5 / 42124.8)
    assert cat.get("energy_aware_scheduling").fraction.source == f"schedule_run:{run_id}"


@pytest.mark.parametrize("kind", BACKENDS)
def test_0018_matches_the_model_and_downgrades(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        upgrade(engine)
        with engine.connect() as conn:
            diff = [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata)
                    if "pathway_runs" in str(d)]
        assert diff == []
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0017")
        assert "pathway_runs" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert "pathway_runs" in inspect(engine).get_table_names()


assert _pathway_tables.__name__  # imported for its table on Base
