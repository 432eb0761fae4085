"""PACT footprints over the API: upload with JSON-path reasons, read back the PACT JSON, export, and a supplier
that cannot read or overwrite another supplier's footprints."""
from __future__ import annotations

import json

import pytest

from tests.api_support import fast_passwords, load_org, logged_in, person
from tests.test_pact import coil

ORG = "ORG"
COIL = "3f6d2b1e-8c4a-4e27-9b1d-5a0c7e9f2d41"


@pytest.fixture
def world(sessions):
    with fast_passwords():
        load_org(sessions, ORG)
        for email, role in (("manager@x.org", "energy_manager"), ("s1@x.org", "supplier"), ("s2@x.org", "supplier")):
            person(sessions, email, ORG, role)
        yield {e: logged_in(sessions, e) for e in ("manager@x.org", "s1@x.org", "s2@x.org")}


def _upload(c, doc, name="f.json"):
    return c.post(f"/api/v1/orgs/{ORG}/footprints", files={"file": (name, json.dumps(doc).encode())})


def test_upload_refused_with_json_path_and_nothing_stored(world):
    bad = coil()
    bad["pcf"]["pCfExcludingBiogenic"] = "-2"
    r = _upload(world["manager@x.org"], {"data": [bad]})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert "$.data[0].pcf.pCfExcludingBiogenic" in r.text and "must be >= 0" in r.text
    assert world["manager@x.org"].get(f"/api/v1/orgs/{ORG}/footprints").json() == []


def test_supplier_sees_and_touches_only_its_own(world):
    s1, s2, manager = world["s1@x.org"], world["s2@x.org"], world["manager@x.org"]
    r = _upload(s1, coil())
    assert r.status_code == 201, r.text
    assert s1.get(f"/api/v1/orgs/{ORG}/footprints/{COIL}").json() == coil()
    # another supplier: not listed, 404 on the id, and its upload of the same id is refused without a leak
    assert s2.get(f"/api/v1/orgs/{ORG}/footprints").json() == []
    assert s2.get(f"/api/v1/orgs/{ORG}/footprints/{COIL}").status_code == 404
    newer = dict(coil(), version=2)
    r = _upload(s2, newer)
    assert r.status_code == 400 and "not one of your footprints" in r.text and "s1@x.org" not in r.text
    assert [f["version"] for f in s1.get(f"/api/v1/orgs/{ORG}/footprints").json()] == [1]
    # the organisation sees every supplier's footprints
    assert [f["pf_id"] for f in manager.get(f"/api/v1/orgs/{ORG}/footprints").json()] == [COIL]
    # and the supplier itself may send a newer version
    assert _upload(s1, newer).status_code == 201
    assert s1.get(f"/api/v1/orgs/{ORG}/footprints/{COIL}").json()["version"] == 2


def test_supplier_may_not_export(world):
    r = world["s1@x.org"].get(f"/api/v1/orgs/{ORG}/footprints/export",
                              params={"site": "TJ01", "year": 2023, "product": "W", "units": 10, "cpc": "4"})
    assert r.status_code == 403


# --- the web page ----------------------------------------------------------------------------------------------

def _page_upload(c, doc):
    return c.post(f"/web/orgs/{ORG}/supply/footprints", data={"csrf": c.cookies.get("zc_csrf")},
                  files={"file": ("f.json", json.dumps(doc).encode())})


def test_page_lists_and_shows_upload_problems_in_both_languages(world):
    manager = world["manager@x.org"]
    bad = coil()
    del bad["pcf"]["declaredUnit"]
    manager.get("/web/lang/en")
    r = _page_upload(manager, bad)
    assert r.status_code == 400
    assert "$.pcf.declaredUnit" in r.text and "required field is missing" in r.text
    assert "The file was refused; nothing was stored." in r.text
    manager.get("/web/lang/zh-CN")
    r = _page_upload(manager, bad)
    assert "文件被拒绝，未保存任何内容。" in r.text and "JSON 路径" in r.text
    r = _page_upload(manager, coil())
    assert r.status_code == 200 and COIL in r.text and "Example Steel Works" in r.text


def test_page_shows_a_supplier_only_its_own(world):
    assert _page_upload(world["s1@x.org"], coil()).status_code == 200
    r = world["s2@x.org"].get(f"/web/orgs/{ORG}/supply/footprints")
    assert r.status_code == 200 and COIL not in r.text
    assert COIL in world["s1@x.org"].get(f"/web/orgs/{ORG}/supply/footprints").text
