"""The supplier pages under /web: the buyer's suppliers list, scorecard, compliance charts, campaigns and review,
the reduction programme; the supplier portal, where a supplier uploads its answers and evidence and sees its own
scorecard and returned comments and nothing of other suppliers (another supplier's page is not found)."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from tests.api_support import PASSWORD, client, fast_passwords, load_org, person
from tests.test_suppliers import EVIDENCE, GOOD, PROJECTS, SUPPLIERS
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import suppliers as svc
from zerocarbon.web import i18n

ORG = "ORG"
PAGES = ("supply/suppliers", "supply/suppliers/S1", "supply/compliance", "supply/campaigns", "supply/reductions")


@pytest.fixture(autouse=True)
def cheap_hashes():
    with fast_passwords():
        yield


@pytest.fixture
def world(sessions):
    load_org(sessions, ORG)
    svc.import_suppliers(sessions, ORG, "suppliers.csv", SUPPLIERS, actor="setup")
    for role in Role:
        person(sessions, f"{role.value}@acme.cn", ORG, role.value)
    person(sessions, "b@s2.cn", ORG, "supplier")
    svc.link_user(sessions, ORG, "supplier@acme.cn", "S1", actor="setup")
    svc.link_user(sessions, ORG, "b@s2.cn", "S2", actor="setup")
    return sessions


def browser(sessions, email: str):
    c = client(sessions, follow_redirects=False)
    r = c.post("/web/login", data={"email": email, "password": PASSWORD, "next": "/web/"})
    assert r.status_code == 303, r.text
    return c


def test_buyer_pages_per_role(world):
    for role in Role:
        c = browser(world, f"{role.value}@acme.cn")
        for p in PAGES:
            r = c.get(f"/web/orgs/{ORG}/{p}")
            if allowed(role, "supply.read"):
                assert r.status_code == 200, (role, p, r.text[:500])
            elif role == Role.supplier and p == "supply/suppliers/S1":
                assert r.status_code == 200  # its own supplier's page
            else:
                assert r.status_code == 403, (role, p)
        portal = c.get(f"/web/orgs/{ORG}/portal")
        assert portal.status_code == (200 if allowed(role, "supply.submit_own") else 403)


def test_supplier_portal_upload_returned_comment_and_no_other_supplier(world):
    c = browser(world, "supplier@acme.cn")
    page = c.get(f"/web/orgs/{ORG}/portal").text
    assert "S1" in page and "Suzhou" not in page
    token = c.cookies.get("zc_csrf")
    # A refused upload lists its rows; nothing is stored.
    bad = GOOD.replace(b"renewable_share,45,%", b"renewable_share,145,%")
    files = [("file", ("answers.csv", bad))] + [("evidence", (n, b)) for n, b in EVIDENCE.items()]
    r = c.post(f"/web/orgs/{ORG}/portal/submit", data={"csrf": token}, files=files)
    assert r.status_code == 400 and "145" in r.text and 'id="problems"' in r.text
    assert svc.list_submissions(world, ORG, svc.Viewer("t")) == []
    files = [("file", ("answers.csv", GOOD))] + [("evidence", (n, b)) for n, b in EVIDENCE.items()]
    r = c.post(f"/web/orgs/{ORG}/portal/submit", data={"csrf": token}, files=files)
    assert r.status_code == 200 and 'id="submitted"' in r.text
    [sub] = svc.list_submissions(world, ORG, svc.Viewer("t"))
    # The buyer returns it with a comment on the campaigns page; the supplier sees the comment.
    buyer = browser(world, "energy_manager@acme.cn")
    assert f"/supply/submissions/{sub['id']}/review" in buyer.get(f"/web/orgs/{ORG}/supply/campaigns").text
    r = buyer.post(f"/web/orgs/{ORG}/supply/submissions/{sub['id']}/review",
                   data={"csrf": buyer.cookies.get("zc_csrf"), "decision": "return", "comment": "证书过期 expired"})
    assert r.status_code == 303
    assert "证书过期 expired" in c.get(f"/web/orgs/{ORG}/portal").text
    # Another supplier's pages are not found, whichever way they are asked for.
    assert c.get(f"/web/orgs/{ORG}/supply/suppliers/S2").status_code == 404
    assert c.get(f"/web/orgs/{ORG}/portal?supplier=S2").status_code == 404
    b_sub = svc.submit(world, ORG, "S2", "b.csv", GOOD, EVIDENCE, actor="user:b@s2.cn")
    assert c.get(f"/web/orgs/{ORG}/supply/submissions/{b_sub['id']}").status_code == 404
    assert c.get(f"/web/orgs/{ORG}/supply/evidence/{b_sub['answers'][0]['evidence_id']}").status_code == 404
    r = c.post(f"/web/orgs/{ORG}/portal/submit", data={"csrf": token, "supplier": "S2"}, files=files)
    assert r.status_code == 404
    # Without the CSRF token nothing is stored.
    r = c.post(f"/web/orgs/{ORG}/portal/submit", files=files)
    assert r.status_code == 403
    assert len(svc.list_submissions(world, ORG, svc.Viewer("t"))) == 2
    # Reduction projects from the portal: stored for the caller's own supplier, a repeat refused with the reason.
    projects = [("file", ("projects.csv", PROJECTS)), ("evidence", ("pv.pdf", b"pv contract"))]
    r = c.post(f"/web/orgs/{ORG}/portal/projects", data={"csrf": token}, files=projects, follow_redirects=False)
    assert r.status_code == 303
    mine = svc.programme(world, ORG, svc.Viewer("t"))["projects"]
    assert {p["project_id"] for p in mine} == {"S1-PV-01", "S1-EE-02"} and {p["supplier"] for p in mine} == {"S1"}
    r = c.post(f"/web/orgs/{ORG}/portal/projects", data={"csrf": token}, files=projects)
    assert r.status_code == 400 and 'id="problems"' in r.text and "S1-PV-01" in r.text
    assert len(svc.programme(world, ORG, svc.Viewer("t"))["projects"]) == 2


def test_campaign_reminders_compliance_and_reductions_pages(world, monkeypatch):
    buyer = browser(world, "energy_manager@acme.cn")
    token = buyer.cookies.get("zc_csrf")
    r = buyer.post(f"/web/orgs/{ORG}/supply/campaigns", data={"csrf": token, "name": "FY26", "due": "2020-01-31",
                                                              "indicators": ["iso14001", "sbti"]})
    assert r.status_code == 303
    page = buyer.get(f"/web/orgs/{ORG}/supply/campaigns").text
    camp = re.search(r"/supply/campaigns/(\d+)/remind", page).group(1)
    r = buyer.post(f"/web/orgs/{ORG}/supply/campaigns/{camp}/remind", data={"csrf": token})
    assert r.status_code == 200 and "3 reminder(s) recorded" in r.text.replace("已记录 3 条催办", "3 reminder(s) recorded")
    sub = svc.submit(world, ORG, "S1", "a.csv", GOOD, EVIDENCE, actor="user:supplier@acme.cn")
    svc.review(world, ORG, sub["id"], True, actor="buyer")
    r = buyer.get(f"/web/orgs/{ORG}/supply/compliance")
    chart = json.loads(re.search(r'id="compliance-chart-data">(.*?)</script>', r.text, re.S).group(1))
    assert chart["now"] == {"count": pytest.approx(1 / 3), "spend": pytest.approx(0.6)}
    rows = svc.submit_projects(world, ORG, "S1", "p.csv", PROJECTS, {"pv.pdf": b"pv"}, actor="user:supplier@acme.cn")
    r = buyer.post(f"/web/orgs/{ORG}/supply/reductions/{rows[0]['id']}/review",
                   data={"csrf": token, "decision": "accept"})
    assert r.status_code == 303
    r = buyer.get(f"/web/orgs/{ORG}/supply/reductions")
    chart = json.loads(re.search(r'id="reductions-chart-data">(.*?)</script>', r.text, re.S).group(1))
    assert chart["goal"] == 1_000_000 and chart["cumulative"][1] == 1500  # 2022: the PV project's first year
    # On 2026-11-27, 2027-2030 are a projection (5 x 1500 t achieved of 1,000,000 t; 9 x 1500 t projected). Only
    # this page sees that day: the submissions above are stamped with the real one, which may be later.
    with monkeypatch.context() as m:
        m.setattr(svc, "today", lambda: date(2026, 11, 27))
        r = buyer.get(f"/web/orgs/{ORG}/supply/reductions")
    chart = json.loads(re.search(r'id="reductions-chart-data">(.*?)</script>', r.text, re.S).group(1))
    assert chart["cumulative"][-5:] == [7500, None, None, None, None]
    assert chart["projection"][-5:] == [None, 9000, 10500, 12000, 13500]
    assert re.search(r'id="achieved">7,500 tCO2e<', r.text) and re.search(r'id="progress">0.8%<', r.text)
    assert re.search(r'id="projected">13,500 tCO2e<', r.text)
    listing = buyer.get(f"/web/orgs/{ORG}/supply/suppliers?status=passing").text
    assert "Shenzhen Boards" in listing and "Suzhou Panels" not in listing


def test_supplier_catalogues_cover_every_key_of_the_supplier_templates():
    en, zh = i18n.catalogue("en"), i18n.catalogue("zh-CN")
    assert set(en) == set(zh)
    folder = Path(i18n.__file__).parent / "templates" / "supply"
    used = set()
    for name in ("_nav.html", "_feedback.html", "_card.html", "_history.html", "suppliers.html", "supplier.html",
                 "submission.html", "compliance.html", "campaigns.html", "reductions.html", "portal.html"):
        used |= set(re.findall(r"""t\(["']([a-z0-9_.-]+)["']\s*[),]""", (folder / name).read_text(encoding="utf-8")))
    assert used - set(en) == set()
    for prefix in ("suppliers.req.", "suppliers.source.", "suppliers.spec_origin."):
        assert {k for k in en if k.startswith(prefix)}


def test_own_specification_upload_on_the_suppliers_page(world):
    import yaml

    from zerocarbon.core.supply.scorecard import shipped_text

    buyer = browser(world, "energy_manager@acme.cn")
    token = buyer.cookies.get("zc_csrf")
    r = buyer.post(f"/web/orgs/{ORG}/supply/spec", data={"csrf": token},
                   files={"file": ("bad.yaml", b"pass_mark: 300\nindicators: []\n")})
    assert r.status_code == 400 and "pass_mark" in r.text
    doc = yaml.safe_load(shipped_text())
    doc["name"], doc["pass_mark"] = "ORG green spec", 60
    r = buyer.post(f"/web/orgs/{ORG}/supply/spec", data={"csrf": token},
                   files={"file": ("own.yaml", yaml.safe_dump(doc).encode())})
    assert r.status_code == 303
    assert "ORG green spec" in buyer.get(f"/web/orgs/{ORG}/supply/suppliers").text
    viewer = browser(world, "viewer@acme.cn")
    assert viewer.post(f"/web/orgs/{ORG}/supply/spec", data={"csrf": viewer.cookies.get("zc_csrf")},
                       files={"file": ("own.yaml", b"x")}).status_code == 403


def test_zh_pages_show_the_specifications_chinese_words_one_tab_strip_and_no_placeholder_scores(world):
    """zh pages: the shipped spec's title_zh / name_zh, translated types, levels and values, project types; a
    supplier without a spend shows "–", one never answered "no scorecard yet"; one tab strip, the shared one."""
    svc.import_suppliers(world, ORG, "more.csv", b"supplier code,name,tier,category\nS4,Tier-two Mill,2,steel\n",
                         actor="setup")
    sub = svc.submit(world, ORG, "S1", "a.csv", GOOD, EVIDENCE, actor="user:supplier@acme.cn")
    svc.review(world, ORG, sub["id"], True, actor="buyer")
    svc.submit_projects(world, ORG, "S1", "p.csv", PROJECTS, {"pv.pdf": b"pv"}, actor="user:supplier@acme.cn")
    buyer = browser(world, "energy_manager@acme.cn")
    page = buyer.get(f"/web/orgs/{ORG}/supply/suppliers").text
    assert 'lang="zh-CN"' in page
    for zh in ("ISO 14001 环境管理体系认证证书", "zerocarbon 默认绿色供应链规范", "证书", "声明", "等级", "比例", "数量",
               "已承诺", "轻微不符合"):
        assert zh in page, zh
    assert "ISO 14001 environmental management system certificate" not in page
    row = re.search(r'<tr>\s*<td><a href="[^"]*/S4">S4</a>.*?</tr>', page, re.S).group(0)
    assert "0 CNY" not in row and "暂无评分卡" in row and "0.0" not in row
    s1 = re.search(r'<tr>\s*<td><a href="[^"]*/S1">S1</a>.*?</tr>', page, re.S).group(0)
    assert "100.0" in s1 and "暂无评分卡" not in s1
    # One tab strip on every supply page, with the shared names.
    for p in PAGES:
        html = buyer.get(f"/web/orgs/{ORG}/{p}").text
        assert html.count('id="supply-tabs"') == 1 and 'id="suppliers-nav"' not in html, p
        assert "数据收集与审核" not in html, p
    card = buyer.get(f"/web/orgs/{ORG}/supply/suppliers/S1").text
    assert "已验证" in card and "环境管理体系认证证书" in card  # sbti = validated; the indicator's zh title
    assert "可再生电力" in buyer.get(f"/web/orgs/{ORG}/supply/reductions").text
    assert "暂无评分卡" in buyer.get(f"/web/orgs/{ORG}/supply/suppliers/S4").text
    buyer.get("/web/lang/en")
    en = buyer.get(f"/web/orgs/{ORG}/supply/suppliers").text
    assert "ISO 14001 environmental management system certificate" in en and "环境管理" not in en
    assert "no scorecard yet" in en
