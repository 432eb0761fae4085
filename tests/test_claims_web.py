"""The claims pages under /web per role: the credit register (upload refused with row and column, nothing
stored), the claims list and the new-claim form, a claim's page with its tests in red and green with reasons,
the residual-vs-credits chart data, the statement in Chinese and English only when every test passes, and the
review form (never for one's own claim)."""
from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.api_support import person_per_role, web_login_client
from tests.test_claims_api import claims_app
from tests.test_claims_service import ORG, PLAN, credits_file, inventory
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import claims as svc
from zerocarbon.web import i18n

PAGES = ("claims", "claims/credits")


@pytest.fixture
def people(sessions, tmp_path, cheap_passwords):
    inventory(sessions, tmp_path)
    person_per_role(sessions, ORG)
    return sessions


def browser(sessions, email: str) -> TestClient:
    return web_login_client(claims_app(sessions), email)


def test_pages_per_role(people):
    svc.import_credits(people, ORG, "c.csv", credits_file("C1", "R1"), actor="setup")
    claim = svc.create_claim(people, ORG, 2023, "p.yaml", PLAN, site="TJ01", actor="setup")
    for role in Role:
        c = browser(people, f"{role.value}@acme.cn")
        for p in (*PAGES, f"claims/{claim['id']}"):
            r = c.get(f"/web/orgs/{ORG}/{p}")
            assert r.status_code == (200 if allowed(role, "assess.read") else 403), (role, p)
            if r.status_code == 200:
                manage = allowed(role, "assess.manage")
                assert ('id="credits-upload"' in r.text) == (manage and p == "claims/credits"), (role, p)
                assert ('id="claim-new"' in r.text) == (manage and p == "claims"), (role, p)


def test_upload_check_statement_and_review_in_both_languages(people):
    c = browser(people, "energy_manager@acme.cn")
    token = c.cookies.get("zc_csrf")
    bad = credits_file("C1").replace(b",2023-03-01,", b",first of March,")
    r = c.post(f"/web/orgs/{ORG}/claims/credits", data={"csrf": token}, files={"file": ("c.csv", bad)})
    assert r.status_code == 400 and 'id="problems"' in r.text and "verification_date" in r.text
    assert svc.list_credits(people, ORG) == []
    r = c.post(f"/web/orgs/{ORG}/claims/credits", data={"csrf": token},
               files={"file": ("c.csv", credits_file("C1", "R1", "U1"))})
    assert r.status_code == 200 and 'id="imported"' in r.text
    r = c.post(f"/web/orgs/{ORG}/claims", data={"csrf": token, "year": "2023", "site": "TJ01"},
               files={"plan": ("p.yaml", PLAN.replace(b"[C1, R1]", b"[C1, R1, U1]"))})
    assert r.status_code == 303
    url = r.headers["location"]
    claim_id = int(url.rsplit("/", 1)[1])
    assert c.post(f"{url}/check", data={"csrf": token}).status_code == 303
    page = c.get(url).text
    assert 'id="no-statement"' in page and "U1：未注销" in page and 'class="fail"' in page
    chart = json.loads(re.search(r'id="claim-chart-data">(.*?)</script>', page, re.S).group(1))
    assert [s[1][1] for s in chart["series"]][-1] == 50  # U1's 50 t fail a test
    # The same claim without U1 passes; its statement shows in both languages.
    svc.review(people, ORG, claim_id, False, "U1 is not retired", actor="user:auditor@acme.cn")
    r = c.post(f"/web/orgs/{ORG}/claims", data={"csrf": token, "year": "2023", "site": "TJ01"},
               files={"plan": ("p.yaml", PLAN)})
    url = r.headers["location"]
    c.post(f"{url}/check", data={"csrf": token})
    page = c.get(url).text
    assert 'id="statement-zh"' in page and 'id="statement-en"' in page and 'class="fail"' not in page
    assert 'id="review-form"' not in page  # energy managers do not review
    # The auditor signs off; the creator never sees the form for its own claim.
    auditor = browser(people, "auditor@acme.cn")
    assert 'id="review-form"' in auditor.get(url).text
    r = auditor.post(f"{url}/review", data={"csrf": auditor.cookies.get("zc_csrf"), "decision": "accept"})
    assert r.status_code == 303
    assert "signed_off" == svc.get_claim(people, ORG, int(url.rsplit("/", 1)[1]))["status"]
    c.cookies.set("zc_lang", "en")
    assert "Carbon neutrality statement" in c.get(url).text


def test_own_claim_cannot_be_reviewed_on_the_page(people):
    svc.import_credits(people, ORG, "c.csv", credits_file("C1", "R1"), actor="setup")
    d = svc.create_claim(people, ORG, 2023, "p.yaml", PLAN, site="TJ01", actor="user:admin@acme.cn")
    svc.check(people, ORG, d["id"], actor="user:admin@acme.cn")
    admin = browser(people, "admin@acme.cn")
    page = admin.get(f"/web/orgs/{ORG}/claims/{d['id']}").text
    assert 'id="review-form"' not in page
    r = admin.post(f"/web/orgs/{ORG}/claims/{d['id']}/review",
                   data={"csrf": admin.cookies.get("zc_csrf"), "decision": "accept"})
    assert r.status_code == 403 and "may not review" in r.text


def test_catalogues_have_the_same_keys_and_every_key_used_exists():
    en, zh = (i18n.catalogue(lang) for lang in ("en", "zh-CN"))
    ours = {k for k in en if k.startswith("claims.")}
    assert ours == {k for k in zh if k.startswith("claims.")}
    from importlib.resources import files

    folder = files("zerocarbon.web").joinpath("templates/claims")
    used = set()
    for f in folder.iterdir():
        used |= set(re.findall(r't\("(claims\.[a-z0-9_]+)"', f.read_text(encoding="utf-8")))
    assert {k for k in used if not k.endswith("_")} - ours == set()  # "claims.status_" ~ status: built keys


def test_the_chinese_claim_page_and_statement_carry_no_english_reasons(people):
    svc.import_credits(people, ORG, "c.csv", credits_file("C1", "R1", "U1"), actor="setup")
    bad = svc.create_claim(people, ORG, 2023, "p.yaml", PLAN.replace(b"[C1, R1]", b"[C1, R1, U1]"), site="TJ01",
                           actor="setup")
    checked = svc.check(people, ORG, bad["id"], actor="setup")
    c = browser(people, "auditor@acme.cn")
    page = c.get(f"/web/orgs/{ORG}/claims/{bad['id']}").text
    for f in checked["findings"]:
        assert f["reason_zh"] in page and f["reason"] not in page, f
    assert "U1：未注销" in page and "stored 2023 inventory" not in page and "已保存的工厂 TJ01 2023 年温室气体清单" in page
    c.get("/web/lang/en")
    page = c.get(f"/web/orgs/{ORG}/claims/{bad['id']}").text
    assert "U1: not retired" in page and "U1：未注销" not in page and "stored 2023 inventory of site TJ01" in page
    svc.review(people, ORG, bad["id"], False, "U1 is not retired", actor="user:auditor@acme.cn")
    ok = svc.create_claim(people, ORG, 2023, "p.yaml", PLAN, site="TJ01", actor="setup")
    svc.check(people, ORG, ok["id"], actor="setup")
    zh = svc.statement(people, ORG, ok["id"], "zh")
    assert "已保存的工厂 TJ01 2023 年温室气体清单，运营控制法" in zh
    assert not {"stored", "inventory", "operational control", "computed"} & set(re.findall(r"[a-z ]+", zh))
    assert "stored 2023 inventory of site TJ01, operational control" in svc.statement(people, ORG, ok["id"], "en")
