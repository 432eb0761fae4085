"""The targets API per role: every role that may ``assess.read`` lists targets, progress and checks; only
``assess.manage`` sets and deletes targets and output figures; a refused target is problem details with the
field and reason, and nothing is stored; another organisation's targets are not found."""
from __future__ import annotations

import pytest

from tests.api_support import app_with, fast_passwords, load_org, login_client, person, person_per_role
from tests.test_targets_service import inventory
from zerocarbon.api.routes import targets as api_targets
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import targets
from zerocarbon.web import targets as web_targets

API = "/api/v1/orgs/ORG/targets"


def app_with_targets(sessions):
    return app_with(sessions, (api_targets.router, "/api/v1"), (web_targets.router, ""))


def make_world(sessions, tmp_path):
    """Organisations ORG (a person per role, inventories 2023 and 2025, target A) and OTHER, and the app."""
    with fast_passwords():
        load_org(sessions, "ORG")
        load_org(sessions, "OTHER")
        person_per_role(sessions, "ORG")
        person(sessions, "em@other.cn", "OTHER", "energy_manager")
        inventory(sessions, tmp_path, 2023, 1_000_000, 500_000)
        inventory(sessions, tmp_path, 2025, 800_000, 500_000)
        targets.set_target(sessions, "ORG", kind="absolute", scopes="s1s2", base_year=2023, target_year=2030,
                           reduction=0.5, code="A", actor="setup")
        yield sessions, app_with_targets(sessions)


@pytest.fixture
def world(sessions, tmp_path):
    yield from make_world(sessions, tmp_path)


def test_reads_and_writes_per_role(world):
    sessions, app = world
    body = {"kind": "absolute", "base_year": 2023, "target_year": 2030, "reduction": 0.42, "scope2_method": "location"}
    for role in Role:
        c = login_client(app, f"{role.value}@acme.cn")
        read = allowed(role, "assess.read")
        for path in ("", "/progress", "/pathway", "/outputs", "/A", "/A/check"):
            assert c.get(API + path).status_code == (200 if read else 403), (role, path)
        manage = allowed(role, "assess.manage")
        r = c.post(API, json={**body, "id": f"T-{role.value}"})
        assert r.status_code == (201 if manage else 403), (role, r.text)
        r = c.put(API + "/outputs", json={"site": "TJ01", "year": 2025, "metric": "units", "value": 5, "unit": "unit"})
        assert r.status_code == (200 if manage else 403), (role, r.text)
        if manage:
            assert c.delete(f"{API}/T-{role.value}").status_code == 204


def test_progress_and_check_content(world):
    _, app = world
    c = login_client(app, "viewer@acme.cn")
    [item] = c.get(API + "/progress").json()
    assert [p["year"] for p in item["points"]] == [2023, 2025]
    check = c.get(API + "/A/check").json()
    assert check["ambition"] == "1.5C" and check["annual_rate"] == pytest.approx(0.5 / 7)
    assert {f["rule"] for f in check["findings"]} >= {"base_year", "timeframe", "coverage", "ambition"}


def test_refused_target_is_problem_details_and_nothing_stored(world):
    sessions, app = world
    c = login_client(app, "energy_manager@acme.cn")
    r = c.post(API, json={"kind": "absolute", "base_year": 2024, "target_year": 2030, "reduction": 0.5})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert "no stored inventory of 2024" in r.text
    r = c.post(API, json={"kind": "absolute", "base_year": 2023, "target_year": 2022, "reduction": 2})
    assert r.status_code == 400 and "target_year" in r.text and "reduction" in r.text
    assert [t["id"] for t in targets.list_targets(sessions, "ORG")] == ["A"]


def test_output_file_upload(world):
    _, app = world
    c = login_client(app, "energy_manager@acme.cn")
    bad = b"site,year,metric,value,unit\nTJ01,2023,units,oops,unit\n"
    r = c.post(API + "/outputs", files={"file": ("outputs.csv", bad)})
    assert r.status_code == 400 and "value" in r.text
    good = b"site,year,metric,value,unit,source\nTJ01,2023,units,1000,unit,ERP\n"
    assert c.post(API + "/outputs", files={"file": ("outputs.csv", good)}).status_code == 201
    assert c.get(API + "/outputs").json()[0]["value"] == 1000


def test_other_organisation_cannot_reach_targets(world):
    _, app = world
    c = login_client(app, "em@other.cn")
    assert c.get(API).status_code == 404
    assert c.get("/api/v1/orgs/OTHER/targets").json() == []
    assert c.get("/api/v1/orgs/OTHER/targets/A").status_code == 404
