"""The pathway page in a real browser (Debian's chromium driven by Playwright): an energy manager solves the
shipped demo scenario from the form and sees the MACC and the pathway drawn by ECharts, and the catalogue anchor
the assessment's gap list links to."""
from __future__ import annotations

import pytest

import zerocarbon.web as web
from tests.api_support import PASSWORD, load_org, person
from tests.test_web_browser import CHROMIUM, served
from zerocarbon.api.routes import pathways as api_pathways
from zerocarbon.web import pathway as web_pathway

pytestmark = pytest.mark.slow


def test_solve_from_the_form_and_see_the_charts(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    plain = web.create_app

    def with_pathway(sessions=None):
        app = plain(sessions)
        app.include_router(api_pathways.router, prefix="/api/v1")
        app.include_router(web_pathway.router)
        return app

    monkeypatch.setattr(web, "create_app", with_pathway)

    def setup(sessions):
        load_org(sessions, "ORG")
        person(sessions, "em@acme.cn", "ORG", "energy_manager")

    with served(tmp_path, setup) as (base, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en").new_page()
        pg.set_default_timeout(30000)
        pg.goto(f"{base}/web/login")
        pg.fill("input[name=email]", "em@acme.cn")
        pg.fill("input[name=password]", PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_load_state()
        pg.goto(f"{base}/web/orgs/ORG/pathway#measure-compressed_air_leaks")
        assert pg.locator("#measure-compressed_air_leaks").is_visible()
        pg.select_option("#pathway-run select[name=shipped]", "demo_2030")
        pg.click("#pathway-run button[type=submit]")
        pg.wait_for_url("**/pathway/runs/*")
        pg.wait_for_selector("#chart-macc[data-ready='1']")
        pg.wait_for_selector("#chart-pathway[data-ready='1']")
        assert pg.locator("#pathway-years tr[data-year='2030']").count() == 1
        browser.close()
