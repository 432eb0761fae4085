"""The supplier platform over the API: a supplier's user sees only the supplier it speaks for. Supplier A cannot
list, read or guess supplier B's record, submissions, evidence or projects: every code or id of B answers 404
(exactly as one that does not exist), never 403 and never data. A bad submission is refused with its reasons and
nothing is stored; the buyer reviews, and the accepted answers feed the scorecard."""
from __future__ import annotations

import pytest

from tests.api_support import load_org, logged_in, person
from tests.test_suppliers import EVIDENCE, GOOD, PROJECTS, SUPPLIERS
from zerocarbon.services import suppliers as svc

API = "/api/v1/orgs/ORG"


@pytest.fixture
def world(sessions, cheap_passwords):
    load_org(sessions, "ORG")
    load_org(sessions, "OTHER")
    svc.import_suppliers(sessions, "ORG", "suppliers.csv", SUPPLIERS, actor="setup")
    svc.import_suppliers(sessions, "OTHER", "suppliers.csv", SUPPLIERS, actor="setup")
    person(sessions, "buyer@org.cn", "ORG", "energy_manager")
    person(sessions, "a@s1.cn", "ORG", "supplier")
    person(sessions, "b@s2.cn", "ORG", "supplier")
    person(sessions, "nobody@s9.cn", "ORG", "supplier")  # a supplier user tied to no supplier
    svc.link_user(sessions, "ORG", "a@s1.cn", "S1", actor="setup")
    svc.link_user(sessions, "ORG", "b@s2.cn", "S2", actor="setup")
    b_sub = svc.submit(sessions, "ORG", "S2", "b.csv", GOOD, EVIDENCE, actor="user:b@s2.cn")
    b_proj = svc.submit_projects(sessions, "ORG", "S2", "p.csv", PROJECTS.replace(b"S1-", b"S2-"),
                                 {"pv.pdf": b"S2 pv"}, actor="user:b@s2.cn")
    return sessions, b_sub, b_proj


def _files():
    return [("file", ("answers.csv", GOOD))] + [("evidence", (n, b)) for n, b in EVIDENCE.items()]


def test_supplier_a_cannot_list_read_or_guess_supplier_b(world):
    sessions, b_sub, b_proj = world
    a = logged_in(sessions, "a@s1.cn")
    assert [r["code"] for r in a.get(f"{API}/suppliers").json()] == ["S1"]
    assert a.get(f"{API}/suppliers/S1").status_code == 200
    for url in (f"{API}/suppliers/S2", f"{API}/suppliers/S9", f"{API}/supply/submissions/{b_sub['id']}",
                f"{API}/supply/evidence/{b_sub['answers'][0]['evidence_id']}"):
        r = a.get(url)
        assert r.status_code == 404, url
        assert "Suzhou" not in r.text and "S2-PV" not in r.text
    # An id that does not exist answers the same.
    assert a.get(f"{API}/supply/submissions/999999").json()["title"] == \
        a.get(f"{API}/supply/submissions/{b_sub['id']}").json()["title"]
    assert a.post(f"{API}/suppliers/S2/submissions", files=_files()).status_code == 404
    assert a.get(f"{API}/supply/submissions").json() == []
    red = a.get(f"{API}/supply/reductions").json()
    assert red["projects"] == [] and "progress" not in red
    assert a.get(f"{API}/supply/compliance").status_code == 403  # the organisation's figures: supply.read
    campaigns = a.get(f"{API}/supply/campaigns").json()
    assert campaigns == []
    # The other organisation's S1 is out of reach too: not a member there.
    assert a.get("/api/v1/orgs/OTHER/suppliers/S1").status_code == 404
    # A supplier user tied to no supplier sees nothing.
    nobody = logged_in(sessions, "nobody@s9.cn")
    assert nobody.get(f"{API}/suppliers").json() == []
    assert nobody.get(f"{API}/suppliers/S1").status_code == 404


def test_submission_review_and_scorecard_over_the_api(world):
    sessions, _, _ = world
    buyer, a = logged_in(sessions, "buyer@org.cn"), logged_in(sessions, "a@s1.cn")
    camp = buyer.post(f"{API}/supply/campaigns", json={"name": "FY26", "due": "2020-01-31",
                                                        "suppliers": ["S1"]}).json()
    [req] = a.get(f"{API}/supply/campaigns").json()[0]["requests"]
    assert req["overdue"]
    reminded = buyer.post(f"{API}/supply/campaigns/{camp['id']}/remind").json()
    assert [(r["supplier"], r["contact"]) for r in reminded] == [("S1", "a@s1.cn")]
    # A share above 100% and a row naming S2: refused with both reasons, nothing stored.
    bad = (b"supplier,indicator,value,unit,evidence_ref,evidence_file,valid_until\n"
           b"S1,iso14001,CN-14001-77,,CQC-1,cert.pdf,2099-05-01\n"
           b"S2,substances,yes,,,rohs.pdf,\n"
           b"S1,sbti,validated,,,,\n"
           b"S1,renewable_share,145,%,,ppa.pdf,\n")
    r = a.post(f"{API}/suppliers/S1/submissions", files=[("file", ("bad.csv", bad))] + _files()[1:],
               data={"request_id": str(req["id"])})
    assert r.status_code == 400, r.text
    got = {(p["row"], p["column"]) for p in r.json()["problems"]}
    assert got == {(3, "supplier"), (5, "value")}
    assert a.get(f"{API}/supply/submissions").json() == []
    r = a.post(f"{API}/suppliers/S1/submissions", files=_files(), data={"request_id": str(req["id"])})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert buyer.post(f"{API}/supply/submissions/{sub['id']}/review", json={"accept": False}).status_code == 400
    r = buyer.post(f"{API}/supply/submissions/{sub['id']}/review", json={"accept": True})
    assert r.json()["status"] == "accepted"
    card = a.get(f"{API}/suppliers/S1").json()["scorecard"]
    assert card["passed"] and card["score"] == 100
    first = a.get(f"{API}/supply/submissions/{sub['id']}").json()["answers"][0]
    ev = a.get(f"{API}/supply/evidence/{first['evidence_id']}")
    assert ev.status_code == 200 and ev.content == EVIDENCE["cert.pdf"]
    comp = buyer.get(f"{API}/supply/compliance").json()
    assert comp["passing"] == 1 and comp["share_by_spend"] == pytest.approx(0.6)
    # The reduction project of S2 counted once: S1 claiming it with S2's id is refused, with no name of S2.
    again = PROJECTS.replace(b"S1-PV-01", b"s2 pv 01")
    r = a.post(f"{API}/suppliers/S1/projects", files=[("file", ("p.csv", again)), ("evidence", ("pv.pdf", b"S1 pv"))])
    assert r.status_code == 400
    [p] = r.json()["problems"]
    assert (p["row"], p["column"]) == (2, "project_id")
    assert "already claimed by another supplier" in p["reason"]
    assert "Suzhou" not in r.text
