"""The claims API per role: readers (assess.read) list credits and claims, managers (assess.manage) import credits
and create and check claims, reviewers (assess.review) sign off, never their own claim; a refused credits file is
a problem document naming row and column; a statement is refused (400, each failing test) until every test
passes."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api_support import app_with, login_client, person_per_role
from tests.test_claims_service import ORG, PLAN, credits_file, inventory
from zerocarbon.api.routes import claims as claims_api
from zerocarbon.core.access import Role, allowed
from zerocarbon.web import claims as claims_web

API = f"/api/v1/orgs/{ORG}"


def claims_app(sessions):
    return app_with(sessions, (claims_api.router, "/api/v1"), (claims_web.router, ""))


def login(sessions, email: str) -> TestClient:
    return login_client(claims_app(sessions), email)


@pytest.fixture
def people(sessions, tmp_path, cheap_passwords):
    inventory(sessions, tmp_path)
    person_per_role(sessions, ORG)
    return sessions


def test_each_role_reads_and_changes_what_its_actions_allow(people):
    for role in Role:
        c = login(people, f"{role.value}@acme.cn")
        read = allowed(role, "assess.read")
        assert c.get(f"{API}/credits").status_code == (200 if read else 403), role
        assert c.get(f"{API}/claims").status_code == (200 if read else 403), role
        rules = c.get(f"{API}/claims/rules")
        assert rules.status_code == (200 if read else 403)
        r = c.post(f"{API}/credits", files={"file": (f"{role.value}.csv", credits_file("U1").replace(
            b"U1,GS,GS-42", f"U-{role.value},GS,GS-{role.value}".encode()))})
        assert r.status_code == (201 if allowed(role, "assess.manage") else 403), (role, r.text)
    body = login(people, "viewer@acme.cn").get(f"{API}/claims/rules").json()
    assert {r["id"] for r in body["rules"]} >= {"credit.retired_in_time", "credit.not_double_counted"}
    assert any(p["id"] == "GEC" and p["kind"] == "certificate" for p in body["programmes"])


def test_refused_file_is_a_problem_document_and_the_claim_flow(people):
    manager = login(people, "energy_manager@acme.cn")
    bad = credits_file("C1").replace(b"avoidance", b"offset")
    r = manager.post(f"{API}/credits", files={"file": ("c.csv", bad)})
    assert r.status_code == 400
    [p] = r.json()["problems"]
    assert (p["row"], p["column"]) == (2, "project_type")
    assert manager.post(f"{API}/credits", files={"file": ("c.csv", credits_file("C1", "R1", "U1"))}).status_code == 201
    # A second file holding serials of C1 again: double counting across files.
    again = credits_file("C1").replace(b"C1,CCER", b"C7,CCER")
    r = manager.post(f"{API}/credits", files={"file": ("again.csv", again)})
    assert r.status_code == 400 and "double counting" in r.text
    bad_plan = PLAN.replace(b"[C1, R1]", b"[C1, U1]")
    r = manager.post(f"{API}/claims", data={"year": "2023", "site": "TJ01"}, files={"plan": ("p.yaml", bad_plan)})
    assert r.status_code == 201, r.text
    refused = r.json()["id"]
    assert manager.post(f"{API}/claims/{refused}/check").json()["passed"] is False
    r = manager.get(f"{API}/claims/{refused}/statement")
    assert r.status_code == 400 and "credit.retired" in {p["column"] for p in r.json()["problems"]}
    # The refused claim holds C1 until it is returned; then a new claim may use it.
    auditor = login(people, "auditor@acme.cn")
    assert auditor.post(f"{API}/claims/{refused}/review", json={"accept": True}).status_code == 409
    assert auditor.post(f"{API}/claims/{refused}/review", json={"accept": False}).status_code == 400
    assert auditor.post(f"{API}/claims/{refused}/review",
                        json={"accept": False, "comment": "U1 is not retired"}).json()["status"] == "returned"
    r = manager.post(f"{API}/claims", data={"year": "2023", "site": "TJ01"}, files={"plan": ("p.yaml", PLAN)})
    good = r.json()["id"]
    assert manager.post(f"{API}/claims/{good}/check").json()["passed"] is True
    r = manager.get(f"{API}/claims/{good}/statement", params={"lang": "zh"})
    assert r.status_code == 200 and "碳中和" in r.text
    # The creator may not sign off, even as admin; the auditor may; the viewer may not review at all.
    admin_claim = login(people, "admin@acme.cn").post(f"{API}/claims", data={"year": "2023", "site": "TJ01"},
                                                      files={"plan": ("p.yaml", PLAN)}).json()["id"]
    admin = login(people, "admin@acme.cn")
    admin.post(f"{API}/claims/{admin_claim}/check")
    assert admin.post(f"{API}/claims/{admin_claim}/review", json={"accept": True}).status_code == 403
    assert login(people, "viewer@acme.cn").post(f"{API}/claims/{good}/review",
                                                json={"accept": True}).status_code == 403
    r = auditor.post(f"{API}/claims/{good}/review", json={"accept": True})
    assert r.status_code == 200 and r.json()["status"] == "signed_off"
