"""A claim's page in a real browser (Debian's chromium driven by Playwright): the residual-vs-credits chart is
drawn by ECharts, the tests show in red and green, and the statement appears in both languages."""
from __future__ import annotations

import pytest

import zerocarbon.web as web
from tests.api_support import PASSWORD, person
from tests.test_claims_service import ORG, PLAN, credits_file, inventory
from tests.test_web_browser import CHROMIUM, served
from zerocarbon.api.routes import claims as claims_api
from zerocarbon.services import claims as svc
from zerocarbon.web import claims as claims_web

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path, monkeypatch):
    plain = web.create_app

    def with_claims(sessions):  # the claims routers, as the application will register them
        app = plain(sessions)
        app.include_router(claims_api.router, prefix="/api/v1")
        app.include_router(claims_web.router)
        return app

    monkeypatch.setattr(web, "create_app", with_claims)

    def setup(sessions):
        inventory(sessions, tmp_path)
        person(sessions, "em@acme.cn", ORG, "energy_manager")
        svc.import_credits(sessions, ORG, "c.csv", credits_file("C1", "R1"), actor="setup")
        d = svc.create_claim(sessions, ORG, 2023, "p.yaml", PLAN, site="TJ01", actor="setup")
        svc.check(sessions, ORG, d["id"], actor="setup")

    with served(tmp_path, setup) as (base, sessions):
        yield base


def test_claim_page_draws_the_chart_and_shows_the_statement(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
        pg.set_default_timeout(30000)
        pg.goto(f"{server}/web/login")
        pg.fill("input[name=email]", "em@acme.cn")
        pg.fill("input[name=password]", PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_load_state()
        pg.goto(f"{server}/web/orgs/{ORG}/claims/1")
        pg.wait_for_selector("#claim-chart[data-ready='1']")
        assert pg.locator("#claim-chart canvas").count() >= 1
        assert "碳中和" in pg.locator("#statement-zh").inner_text()
        assert pg.locator("#tests tr.fail").count() == 0 and pg.locator("#tests tr.pass").count() > 20
        browser.close()
