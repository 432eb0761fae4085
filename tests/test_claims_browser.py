"""A claim's page in a real browser (Debian's chromium driven by Playwright): the residual-vs-credits chart is
drawn by ECharts, the tests show in red and green, and the statement appears in both languages."""
from __future__ import annotations

import pytest

from tests.api_support import person
from tests.test_claims_service import ORG, PLAN, credits_file, inventory
from tests.test_web_browser import logged_in, served
from zerocarbon.api.routes import claims as claims_api
from zerocarbon.services import claims as svc
from zerocarbon.web import claims as claims_web

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):
    def setup(sessions):
        inventory(sessions, tmp_path)
        person(sessions, "em@acme.cn", ORG, "energy_manager")
        svc.import_credits(sessions, ORG, "c.csv", credits_file("C1", "R1"), actor="setup")
        d = svc.create_claim(sessions, ORG, 2023, "p.yaml", PLAN, site="TJ01", actor="setup")
        svc.check(sessions, ORG, d["id"], actor="setup")

    with served(tmp_path, setup, routers=((claims_api.router, "/api/v1"), (claims_web.router, ""))) as (base, _):
        yield base


def test_claim_page_draws_the_chart_and_shows_the_statement(server):
    with logged_in(server, "em@acme.cn") as pg:
        pg.goto(f"{server}/web/orgs/{ORG}/claims/1")
        pg.wait_for_selector("#claim-chart[data-ready='1']")
        assert pg.locator("#claim-chart canvas").count() >= 1
        assert "碳中和" in pg.locator("#statement-zh").inner_text()
        assert pg.locator("#tests tr.fail").count() == 0 and pg.locator("#tests tr.pass").count() > 20
