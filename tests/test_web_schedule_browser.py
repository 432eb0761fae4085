"""The schedule pages in a real browser: a planner uploads the example week and opens its Gantt chart, one row per
line, in Chinese and English; an auditor reads the run but has no upload form and its POST is refused.
Screenshots go where tests/test_web_browser.py puts them (docs/screenshots/ with ZEROCARBON_SCREENSHOTS=docs)."""
from __future__ import annotations

import json
import re

import pytest

from tests.api_support import PASSWORD, load_org, person
from tests.test_web_browser import CHROMIUM, SHOTS, served
from zerocarbon.services.scheduling import write_example

pytestmark = pytest.mark.slow

ORDERS = 24  # the example week's first orders, as an orders file: one solver chunk, so the run stays short


@pytest.fixture
def server(tmp_path, monkeypatch):
    """The app on a SQLite database with ORG, a planner and an auditor; schedule runs on its embedded executor."""
    monkeypatch.setenv("ZEROCARBON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ZEROCARBON_REDIS_URL", raising=False)

    def setup(sessions):
        load_org(sessions, "ORG")
        person(sessions, "planner@acme.cn", "ORG", "planner")
        person(sessions, "auditor@acme.cn", "ORG", "auditor")

    with served(tmp_path, setup) as (base, _):
        yield base, tmp_path


def _login(browser, base, email):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(30000)
    pg.goto(f"{base}/web/")
    pg.fill("input[name=email]", email)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url("**/orgs/ORG/**")
    return pg


def test_planner_opens_the_gantt_auditor_only_reads(server):
    from playwright.sync_api import sync_playwright

    base, tmp = server
    spec = write_example(tmp / "laptop-week.json")
    orders = spec["orders"][:ORDERS]
    (tmp / "orders.csv").write_text("id,family,quantity,release_min,due_min,weight\n" + "".join(
        f"{o['id']},{o['family']},{o['quantity']},{o['release_min']},{o['due_min']},{o['weight']}\n" for o in orders),
        encoding="utf-8")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = _login(browser, base, "planner@acme.cn")
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.click("a[data-nav=schedules]")
        pg.set_input_files("#schedule-upload input[name=problem]", str(tmp / "laptop-week.json"))
        pg.set_input_files("#schedule-upload input[name=orders]", str(tmp / "orders.csv"))
        pg.fill("#schedule-upload input[name=time_limit]", "1")
        pg.click("#schedule-upload button[type=submit]")
        # The run is queued: its row shows the progress and, once it is stored, the link to the run.
        pg.wait_for_url(re.compile(r".*/schedules\?job=\d+"))
        pg.locator("#schedule-jobs a.schedule-run").wait_for(timeout=180_000)
        pg.click("#schedule-jobs a.schedule-run")
        pg.wait_for_url(re.compile(r".*/schedules/\d+$"))
        gantt = pg.locator("#schedule-gantt[data-ready='1']")
        gantt.wait_for()
        rows = pg.evaluate("echarts.getInstanceByDom(document.getElementById('schedule-gantt'))"
                           ".getOption().yAxis[0].data")
        assert rows == [line["id"] for line in spec["lines"]] and not errors
        assert "生产排产" in pg.locator("h1").inner_text()
        chart = json.loads(pg.locator("#schedule-data").text_content())
        assert {s[5] for s in chart["segments"]["energy_aware"] if s[1] == "run"} == {o["id"] for o in orders}
        pg.check(f"#schedule-plan input[value={chart['baseline']}]")
        assert gantt.get_attribute("data-plan") == chart["baseline"]
        pg.check(f"#schedule-plan input[value={chart['optimised']}]")
        pg.screenshot(path=str(SHOTS / "schedule-zh.png"), full_page=True)
        run_url = pg.url

        pg.click("#lang-en")
        pg.wait_for_url(run_url)
        assert "Production schedule" in pg.locator("h1").inner_text()
        pg.locator("#schedule-gantt[data-ready='1']").wait_for()
        pg.screenshot(path=str(SHOTS / "schedule-en.png"), full_page=True)

        pg.set_viewport_size({"width": 820, "height": 1180})
        pg.reload()
        pg.locator("#schedule-gantt[data-ready='1']").wait_for()
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 820, f"the schedule page scrolls sideways on a tablet ({width} px wide)"

        auditor = _login(browser, base, "auditor@acme.cn")
        auditor.goto(f"{base}/web/orgs/ORG/schedules")
        assert auditor.locator("#schedule-upload").count() == 0
        auditor.locator(f"#schedule-runs a[href$='{run_url.rsplit('/', 1)[1]}']").first.click()
        auditor.locator("#schedule-gantt[data-ready='1']").wait_for()
        csrf = next(c["value"] for c in auditor.context.cookies() if c["name"] == "zc_csrf")
        refused = auditor.request.post(f"{base}/api/v1/orgs/ORG/schedules", headers={"X-CSRF-Token": csrf},
                                       multipart={"problem": {"name": "laptop-week.json", "mimeType": "application/json",
                                                              "buffer": (tmp / "laptop-week.json").read_bytes()},
                                                  "time_limit": "1"})
        assert refused.status == 403
        browser.close()
