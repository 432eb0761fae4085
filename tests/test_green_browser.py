"""The green supply chain hub in a real browser (Debian's chromium driven by Playwright): the five-dimension
page draws its ECharts charts from the stored example, and the modal-shift form answers on the logistics page."""
from __future__ import annotations

import pytest

from tests.api_support import PASSWORD, person
from tests.test_green_shells import _store
from tests.test_web_browser import CHROMIUM, SHOTS, served

pytestmark = pytest.mark.slow


@pytest.fixture
def hub(tmp_path):
    def setup(sessions):
        _store(sessions, tmp_path)
        person(sessions, "viewer@acme.cn", "ORG", "viewer")

    with served(tmp_path, setup) as (base, _):
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            pg = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en").new_page()
            pg.set_default_timeout(30000)
            yield pg, base
            browser.close()


def test_hub_draws_its_charts_and_the_modal_shift_form_answers(hub):
    pg, base = hub
    pg.goto(f"{base}/web/")
    pg.fill("input[name=email]", "viewer@acme.cn")
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_load_state()
    pg.goto(f"{base}/web/orgs/ORG/supply?year=2025&base_year=2024")
    for chart in ("#chart-logistics", "#chart-packaging", "#chart-recycling"):
        pg.wait_for_selector(f"{chart}[data-ready='1'] canvas")
        box = pg.locator(f"{chart} canvas").first.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 200, chart
    assert "绿色包装" in pg.locator("#dim-packaging").inner_text()  # Chinese by default
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "supply-hub-zh.png"), full_page=True)
    pg.click("#lang-en")
    pg.wait_for_selector("#chart-packaging[data-ready='1'] canvas")
    assert "Green packaging" in pg.locator("#dim-packaging").inner_text()
    pg.click("#supply-tabs a[data-tab='logistics']")
    pg.select_option("#modal-shift-form select[name=from]", "road")
    pg.fill("#modal-shift-form input[name=min_km]", "500")
    pg.select_option("#modal-shift-form select[name=to]", "rail")
    pg.click("#modal-shift-form button[type=submit]")
    result = pg.wait_for_selector("#modal-shift-result")
    assert float(result.get_attribute("data-change")) == pytest.approx(-1.38256, abs=1e-5)
    pg.screenshot(path=str(SHOTS / "supply-logistics-en.png"), full_page=True)
