"""The assessment API per role: readers read, energy managers run assessments and enter values with evidence,
auditors review (never their own entry: 403), others are refused; malformed systems answer 400 with every JSON path
and nothing is stored."""
from __future__ import annotations

import pytest

from tests.api_support import load_org, logged_in, person
from tests.assessment_fixtures import MINI_SYSTEM
from tests.test_assessment_metrics import ORG, YEAR, stored_year

API = f"/api/v1/orgs/{ORG}"


@pytest.fixture(autouse=True)
def with_router(monkeypatch):
    """The app with this router registered, as api/app.py will list it."""
    from zerocarbon.api import app as api_app
    from zerocarbon.api.routes import assessments

    monkeypatch.setattr(api_app, "ROUTERS", (*api_app.ROUTERS, assessments.router))
    for var in ("ZEROCARBON_LAKE", "ZEROCARBON_METERS", "ZEROCARBON_PRODUCTION"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def world(sessions, cheap_passwords, tmp_path):
    stored_year(sessions, tmp_path)
    load_org(sessions, "OTHER")
    for email, role in (("em@org.cn", "energy_manager"), ("admin@org.cn", "admin"), ("aud@org.cn", "auditor"),
                        ("view@org.cn", "viewer"), ("plan@org.cn", "planner"), ("sup@org.cn", "supplier")):
        person(sessions, email, ORG, role)
    return sessions


def _system_file(text=MINI_SYSTEM):
    return {"file": ("mini.yaml", text.encode())}


def test_workflow_per_role(world):
    em, aud, view, plan, sup, admin = (logged_in(world, f"{x}@org.cn") for x in ("em", "aud", "view", "plan", "sup",
                                                                                 "admin"))
    assert view.post(f"{API}/index-systems", files=_system_file()).status_code == 403
    r = em.post(f"{API}/index-systems", files=_system_file())
    assert r.status_code == 201 and r.json()["id"] == "mini_factory"
    assert "mini_factory" in {s["id"] for s in view.get(f"{API}/index-systems").json()}
    assert view.get(f"{API}/index-systems/mini_factory").json()["dimensions"][0]["indicators"][0]["metric"] == \
        "energy.renewable_electricity_share"
    assert sup.get(f"{API}/index-systems").status_code == 403

    body = {"system": "mini_factory", "year": YEAR, "site": "TJ01"}
    assert aud.post(f"{API}/assessments", json=body).status_code == 403
    assert plan.post(f"{API}/assessments", json=body).status_code == 403
    r = em.post(f"{API}/assessments", json=body)
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    assert view.get(f"{API}/assessments").json()[0]["id"] == aid
    inds = plan.get(f"{API}/assessments/{aid}/indicators").json()
    re = next(i for i in inds if i["id"] == "re_share")
    assert re["source"] == "computed" and re["lineage"]["instruments"] == ["GEC-1"]

    files = {"evidence": ("minutes.txt", b"board minutes")}
    form = {"metric": "manual.plan_items", "value": "2", "note": "approved"}
    assert view.post(f"{API}/assessments/{aid}/entries", data=form, files=files).status_code == 403
    r = admin.post(f"{API}/assessments/{aid}/entries", data=form, files=files)
    assert r.status_code == 201, r.text
    entry = r.json()
    # The admin may review (assess.review) but not the value it entered itself.
    r = admin.post(f"{API}/assessments/{aid}/entries/manual.plan_items/review", json={"accept": True})
    assert r.status_code == 403 and "may not review" in r.json()["detail"]
    assert em.post(f"{API}/assessments/{aid}/entries/manual.plan_items/review",
                   json={"accept": True}).status_code == 403
    r = aud.post(f"{API}/assessments/{aid}/entries/manual.plan_items/review", json={"accept": False})
    assert r.status_code == 400  # a return needs a comment
    r = aud.post(f"{API}/assessments/{aid}/entries/manual.plan_items/review", json={"accept": True, "comment": "ok"})
    assert r.status_code == 200 and r.json()["review_state"] == "accepted"
    got = view.get(f"{API}/assessments/{aid}").json()
    assert next(i for i in got["result"]["indicators"] if i["id"] == "plan")["points"] == pytest.approx(30)
    r = view.get(f"{API}/assessments/{aid}/entries/{entry['id']}/evidence")
    assert r.content == b"board minutes" and r.headers["X-Content-SHA256"] == entry["evidence"]["sha256"]
    gaps = view.get(f"{API}/assessments/{aid}/gaps").json()
    assert {"rooftop_pv", "green_certificates"} <= {m for g in gaps for m in g["measures"]}
    assert em.post(f"{API}/assessments/{aid}/finalise").json()["status"] == "final"
    assert em.post(f"{API}/assessments/{aid}/recompute").status_code == 409

    # Another organisation's member cannot see it.
    assert em.get(f"/api/v1/orgs/OTHER/assessments/{aid}").status_code == 404


def test_malformed_system_is_400_with_paths_and_nothing_stored(world):
    em = logged_in(world, "em@org.cn")
    bad = MINI_SYSTEM.replace("leading: 0.5", "leading: high")
    r = em.post(f"{API}/index-systems", files=_system_file(bad))
    assert r.status_code == 400
    assert "dimensions[0].indicators[0].rule.leading" in r.text
    assert "mini_factory" not in {s["id"] for s in em.get(f"{API}/index-systems").json()}
    r = em.post("/api/v1/index-systems/validate", files=_system_file(bad))
    assert r.status_code == 400 and "rule.leading" in r.text
    ok = em.post("/api/v1/index-systems/validate", files=_system_file())
    assert ok.status_code == 200 and ok.json()["valid"] is True


def test_shipped_systems_need_a_login(world):
    from tests.api_support import client

    assert client(world).get("/api/v1/index-systems").status_code == 401
    shipped = logged_in(world, "view@org.cn").get("/api/v1/index-systems").json()
    assert "zero_carbon_factory" in {s["id"] for s in shipped}
    bad_site = logged_in(world, "em@org.cn").post(f"{API}/assessments", json={"system": "mini_factory",
                                                                               "year": YEAR, "site": "XX"})
    assert bad_site.status_code in (400, 404)
