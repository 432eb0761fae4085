"""The zero-carbon pages under /web per role: the hub's cards, the assessment list with the start form, one
assessment with its radar data, gates, indicators marked computed (lineage) or manual (evidence, review state), the
sign-off form shown to reviewers but not on their own entries, the gap list linking measures to the pathway page;
both languages have every message."""
from __future__ import annotations

import json
import re

import pytest

from tests import api_support
from tests.api_support import fast_passwords, person_per_role
from tests.assessment_fixtures import MINI_SYSTEM
from tests.test_assessment_metrics import ORG, YEAR, stored_year
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import assessment as svc
from zerocarbon.web import i18n


@pytest.fixture(autouse=True)
def app_with_pages(monkeypatch):
    """The app with this module's router registered, as web/__init__.py will include it."""
    from zerocarbon.web import assessment as pages
    from zerocarbon.web import create_app

    def create(sessions=None):
        app = create_app(sessions)
        app.include_router(pages.router)
        return app

    monkeypatch.setattr(api_support, "create_app", create)
    for var in ("ZEROCARBON_LAKE", "ZEROCARBON_METERS", "ZEROCARBON_PRODUCTION"):
        monkeypatch.delenv(var, raising=False)
    with fast_passwords():
        yield


@pytest.fixture
def world(sessions, tmp_path):
    stored_year(sessions, tmp_path)
    person_per_role(sessions, ORG)
    svc.add_system(sessions, ORG, "mini.yaml", MINI_SYSTEM.encode(), actor="setup")
    a = svc.create(sessions, ORG, "mini_factory", YEAR, "TJ01", energy=svc.EnergyData(),
                   actor="user:energy_manager@acme.cn")
    svc.enter(sessions, ORG, a["id"], "manual.plan_items", 2, evidence_name="plan.txt", evidence=b"plan",
              actor="user:admin@acme.cn")
    return sessions, a["id"]


def browser(sessions, email: str):
    return api_support.web_login_client(api_support.create_app(sessions), email)


def test_pages_per_role(world):
    sessions, aid = world
    for role in Role:
        c = browser(sessions, f"{role.value}@acme.cn")
        hub = c.get(f"/web/orgs/{ORG}/zero-carbon")
        assert hub.status_code == 200, role
        for card in ("card-assessments", "card-targets", "card-claims", "card-pathway"):
            assert (card in hub.text) == allowed(role, "assess.read"), (role, card)
        for url in (f"/web/orgs/{ORG}/assessments", f"/web/orgs/{ORG}/assessments/{aid}"):
            r = c.get(url)
            assert r.status_code == (200 if allowed(role, "assess.read") else 403), (role, url)
        if not allowed(role, "assess.read"):
            continue
        listing = c.get(f"/web/orgs/{ORG}/assessments").text
        assert ('id="start-form"' in listing) == allowed(role, "assess.manage"), role
        page = c.get(f"/web/orgs/{ORG}/assessments/{aid}").text
        assert ('class="inline review-form"' in page) == (allowed(role, "assess.review") and role != Role.admin), role
        if role == Role.admin:  # the admin entered the value: no sign-off form for it
            assert "another reviewer signs it off" in page or "须由其他审核人签核" in page
        assert ('id="entry-form"' in page) == allowed(role, "assess.manage"), role


def test_assessment_page_shows_score_radar_gates_indicators_and_gaps(world):
    sessions, aid = world
    c = browser(sessions, "viewer@acme.cn")
    c.get("/web/lang/en")
    page = c.get(f"/web/orgs/{ORG}/assessments/{aid}").text
    radar = json.loads(re.search(r'id="radar-data">(.*?)</script>', page, re.S).group(1))
    assert radar["names"] == ["Performance", "Management"] and radar["max"] == [70, 30]
    assert re.search(r'id="ind-re_share" data-source="computed"', page)
    assert re.search(r'id="ind-plan" data-source="manual"', page)
    assert "plan.txt" in page and "awaiting review" in page and 'class="lineage"' in page
    assert f"/web/orgs/{ORG}/pathway#measure-rooftop_pv" in page
    assert "Compliance" in page and "no data" in page  # the gate on a manual value not entered
    ev = re.search(r'href="(/web/orgs/ORG/assessments/\d+/entries/\d+/evidence)"', page).group(1)
    assert c.get(ev).content == b"plan"


def test_start_review_and_refusals_through_the_forms(world):
    sessions, aid = world
    em = browser(sessions, "energy_manager@acme.cn")
    token = em.cookies.get("zc_csrf")
    r = em.post(f"/web/orgs/{ORG}/assessments", data={"csrf": token, "system": "mini_factory", "year": YEAR,
                                                      "site": "TJ01", "workshop": "W1", "lines": ""})
    assert r.status_code == 400 and "a workshop needs its lines" in r.text
    r = em.post(f"/web/orgs/{ORG}/assessments", data={"csrf": token, "system": "mini_factory", "year": YEAR,
                                                      "site": "TJ01"})
    assert r.status_code == 303 and re.search(r"/assessments/\d+$", r.headers["location"])
    bad = MINI_SYSTEM.replace("leading: 0.5", "leading: high").replace("mini_factory", "mine")
    r = em.post(f"/web/orgs/{ORG}/assessments/systems", data={"csrf": token},
                files={"file": ("mine.yaml", bad.encode())})
    assert r.status_code == 400 and "dimensions[0].indicators[0].rule.leading" in r.text
    aud = browser(sessions, "auditor@acme.cn")
    r = aud.post(f"/web/orgs/{ORG}/assessments/{aid}/entries/manual.plan_items/review",
                 data={"csrf": aud.cookies.get("zc_csrf"), "decision": "accept"})
    assert r.status_code == 303
    assert "accepted" in svc.get(sessions, ORG, aid)["current_entries"]["manual.plan_items"]["review_state"]
    r = em.post(f"/web/orgs/{ORG}/assessments/{aid}/entries", data={"csrf": token, "metric": "manual.plan_items",
                                                                    "value": "1"},
                files={"evidence": ("p2.txt", b"second")})
    assert r.status_code == 303
    # the energy manager entered it: may it review? no review right at all (assess.review is admin/auditor)
    r = em.post(f"/web/orgs/{ORG}/assessments/{aid}/entries/manual.plan_items/review",
                data={"csrf": token, "decision": "accept"})
    assert r.status_code == 403


def test_both_languages_have_every_message_the_templates_use():
    from pathlib import Path

    en, zh = i18n.catalogue("en"), i18n.catalogue("zh-CN")
    keys = {k for k in en if k.startswith("zc.")}
    assert keys and keys == {k for k in zh if k.startswith("zc.")}
    used = set()
    for path in (Path(i18n.__file__).parent / "templates" / "assessment").glob("*.html"):
        used |= set(re.findall(r"""t\(["']([a-z0-9_.-]+)["']\s*[),]""", path.read_text(encoding="utf-8")))
    assert used and used <= keys
    dynamic = {"zc.istatus.": ("scored", "missing", "awaiting_review", "not_applicable", "invalid"),
               "zc.review.": ("pending", "accepted", "returned"), "zc.origin.": ("shipped", "own"),
               "zc.status.": ("draft", "final"), "zc.short.": ("score", "condition", "gate")}
    assert {p + v for p, vs in dynamic.items() for v in vs} <= keys
