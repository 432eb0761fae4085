"""The targets page in a real browser (Debian's chromium driven by Playwright): the energy manager sees a drawn
progress chart per target and the science-based check, adds a target with the form and sees its chart too."""
from __future__ import annotations

import pytest

from tests.api_support import load_org, person
from tests.test_targets_service import inventory
from tests.test_web_browser import SHOTS, logged_in, served
from zerocarbon.api.routes import targets as api_targets
from zerocarbon.services import targets
from zerocarbon.web import targets as web_targets

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):
    def setup(sessions):
        load_org(sessions, "ORG")
        person(sessions, "em@acme.cn", "ORG", "energy_manager")
        inventory(sessions, tmp_path, 2023, 1_000_000, 500_000)
        inventory(sessions, tmp_path, 2025, 800_000, 500_000)
        targets.set_target(sessions, "ORG", kind="absolute", scopes="s1s2", base_year=2023, target_year=2030,
                           reduction=0.5, code="S12", actor="setup")

    with served(tmp_path, setup, routers=((api_targets.router, "/api/v1"), (web_targets.router, ""))) as (base, _):
        yield base


def test_targets_page_draws_charts_and_adds_a_target(server):
    with logged_in(server, "em@acme.cn") as pg:
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
