"""The assessment page in a real browser (Debian's chromium driven by Playwright): the auditor opens an assessment,
sees the dimension radar drawn by ECharts and the lineage of a computed indicator, and signs off the value another
person entered; the page then counts it."""
from __future__ import annotations

import pytest

from tests.api_support import person
from tests.assessment_fixtures import MINI_SYSTEM
from tests.test_assessment_metrics import ORG, YEAR, stored_year
from tests.test_web_browser import SHOTS, logged_in, served

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path, monkeypatch):
    from zerocarbon.web import assessment as pages

    for var in ("ZEROCARBON_LAKE", "ZEROCARBON_METERS", "ZEROCARBON_PRODUCTION"):
        monkeypatch.delenv(var, raising=False)

    def setup(sessions):
        from zerocarbon.services import assessment as svc

        stored_year(sessions, tmp_path)
        person(sessions, "auditor@acme.cn", ORG, "auditor")
        svc.add_system(sessions, ORG, "mini.yaml", MINI_SYSTEM.encode(), actor="setup")
        a = svc.create(sessions, ORG, "mini_factory", YEAR, "TJ01", energy=svc.EnergyData(), actor="setup")
        svc.enter(sessions, ORG, a["id"], "manual.plan_items", 2, evidence_name="plan.txt", evidence=b"plan",
                  actor="user:manager@acme.cn")

    with served(tmp_path, setup, routers=((pages.router, ""),)) as (base, sessions):
        yield base, sessions


def test_auditor_sees_the_radar_and_signs_off_a_value(server):
    base, _ = server
    with logged_in(base, "auditor@acme.cn") as pg:
        pg.goto(f"{base}/web/orgs/{ORG}/assessments/1")
        pg.wait_for_selector("#radar[data-ready='1']")
        assert pg.locator("#radar canvas").count() == 1
        pg.locator("#ind-re_share details.lineage summary").click()
        assert "GEC-1" in pg.locator("#ind-re_share details.lineage pre").inner_text()
        assert pg.locator("#ind-plan").get_attribute("data-source") == "manual"
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "assessment-zh.png"), full_page=True)
        pg.locator("#ind-plan .review-form button[value=accept]").click()
        pg.wait_for_load_state()
        assert "已通过" in pg.locator("#ind-plan").inner_text()
        assert pg.locator("#ind-plan td.num").nth(1).inner_text().startswith("30.0")
