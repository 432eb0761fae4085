"""The targets page under /web per role: the progress chart data, the science-based check and its rules, the
base-year recalculation note, in Chinese and English; the add form only for ``assess.manage``, refusing an
impossible target with the field and reason and storing nothing."""
from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.api_support import web_login_client
from tests.test_targets_api import make_world
from zerocarbon.core.access import Role, allowed
from zerocarbon.core.ghg.base_year import ChangeKind
from zerocarbon.services import accounting, targets
from zerocarbon.web import i18n

PAGE = "/web/orgs/ORG/targets"


@pytest.fixture
def world(sessions, tmp_path):
    yield from make_world(sessions, tmp_path)


def browser(app, email: str) -> TestClient:
    return web_login_client(app, email)


def test_page_per_role(world):
    _, app = world
    for role in Role:
        c = browser(app, f"{role.value}@acme.cn")
        r = c.get(PAGE)
        if not allowed(role, "assess.read"):
            assert r.status_code == 403, role
            continue
        assert r.status_code == 200, (role, r.text[:300])
        assert 'id="target-A"' in r.text and 'id="check-A"' in r.text
        assert ('id="target-form"' in r.text) is allowed(role, "assess.manage")


def test_chart_data_and_check(world):
    _, app = world
    page = browser(app, "viewer@acme.cn").get(PAGE).text
    data = json.loads(re.search(r'data-for="chart-A">(.*?)</script>', page, re.S).group(1))
    assert [p[0] for p in data["trajectory"]] == list(range(2023, 2031))
    assert [p[0] for p in data["actual"]] == [2023, 2025] and data["target"][0] == 2030
    assert 'data-ambition="1.5C"' in page and 'data-rule="timeframe"' in page
    assert "/static/targets.js" in page
    assert browser(app, "viewer@acme.cn").get("/web/static/targets.js").status_code == 200


def test_both_languages(world):
    _, app = world
    c = browser(app, "viewer@acme.cn")
    for lang in i18n.LANGUAGES:
        c.get(f"/web/lang/{lang}?next={PAGE}")  # the language toggle sets its cookie
        page = c.get(PAGE).text
        t = i18n.translator(lang)
        assert t("targets.check") in page
        assert t("targets.reason.base_year.ok", base_year=2023, earliest=2015) in page  # reasons in the language
    assert set(i18n.catalogue("en")) == set(i18n.catalogue("zh-CN"))


def test_recalculated_base_year_is_shown(world):
    sessions, app = world
    accounting.record_base_year_change(sessions, "ORG", 2023, ChangeKind.STRUCTURAL, 500.0, "acquired plant",
                                       actor="t")
    page = browser(app, "viewer@acme.cn").get(PAGE).text
    assert 'id="recalc-A"' in page and "acquired plant" in page


def test_add_form_refuses_and_stores(world):
    sessions, app = world
    c = browser(app, "energy_manager@acme.cn")
    token = c.cookies.get("zc_csrf")
    r = c.post(PAGE, data={"kind": "absolute", "base_year": 2023, "target_year": 2021, "amount": "50 %",
                           "csrf": token})
    assert r.status_code == 400 and 'id="problems"' in r.text and "target_year" in r.text
    assert [t["id"] for t in targets.list_targets(sessions, "ORG")] == ["A"]
    r = c.post(PAGE, data={"kind": "renewable_electricity", "base_year": 2023, "target_year": 2030,
                           "amount": "90%", "csrf": token})
    assert r.status_code == 303, r.text
    [re_target] = [t for t in targets.list_targets(sessions, "ORG") if t["kind"] == "renewable_electricity"]
    assert re_target["re_share"] == pytest.approx(0.9)
    assert c.post(PAGE, data={"kind": "absolute", "base_year": 2023, "target_year": 2030}).status_code == 403  # CSRF
    viewer = browser(app, "viewer@acme.cn")
    r = viewer.post(PAGE + "/A/delete", data={"csrf": viewer.cookies.get("zc_csrf")})
    assert r.status_code == 403
    assert c.post(PAGE + "/A/delete", data={"csrf": token}).status_code == 303


def test_template_keys_are_in_both_catalogues():
    from pathlib import Path

    used = set()
    for path in (Path(i18n.__file__).parent / "templates" / "targets").glob("*.html"):
        used |= set(re.findall(r"""t\(["']([a-z0-9_.-]+)["']\s*[),]""", path.read_text(encoding="utf-8")))
    assert used and used - set(i18n.catalogue("en")) == set() and used - set(i18n.catalogue("zh-CN")) == set()
