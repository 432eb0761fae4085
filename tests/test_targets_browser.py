"""The targets page in a real browser (Debian's chromium driven by Playwright): the energy manager sees a drawn
progress chart per target and the science-based check, adds a target with the form and sees its chart too."""
from __future__ import annotations

import pytest

import zerocarbon.web
from tests.api_support import PASSWORD, load_org, person
from tests.test_targets_service import inventory
from tests.test_web_browser import CHROMIUM, SHOTS, served
from zerocarbon.services import targets

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path, monkeypatch):
    from tests.test_targets_api import app_with_targets

    plain = zerocarbon.web.create_app
    monkeypatch.setattr(zerocarbon.web, "create_app", lambda sessions: app_with_targets(sessions))
    monkeypatch.setattr("tests.test_targets_api.create_app", plain)

    def setup(sessions):
        load_org(sessions, "ORG")
        person(sessions, "em@acme.cn", "ORG", "energy_manager")
        inventory(sessions, tmp_path, 2023, 1_000_000, 500_000)
        inventory(sessions, tmp_path, 2025, 800_000, 500_000)
        targets.set_target(sessions, "ORG", kind="absolute", scopes="s1s2", base_year=2023, target_year=2030,
                           reduction=0.5, code="S12", actor="setup")

    with served(tmp_path, setup) as (base, sessions):
        yield base


def test_targets_page_draws_charts_and_adds_a_target(server):
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
        pg.goto(f"{server}/web/orgs/ORG/targets")
        pg.wait_for_selector("#chart-S12[data-ready='1']")
        assert pg.locator("#chart-S12 canvas").count() == 1
        pg.select_option("select[name=kind]", "renewable_electricity")
        pg.fill("input[name=base_year]", "2023")
        pg.fill("input[name=target_year]", "2030")
        pg.fill("input[name=amount]", "100%")
        pg.click("#target-form button[type=submit]")
        pg.wait_for_selector("#chart-T1[data-ready='1']")
        assert pg.locator("#check-T1").get_attribute("data-ambition") == "1.5C"
        pg.screenshot(path=str(SHOTS / "targets-zh.png"), full_page=True)
        browser.close()
