"""The dashboard in a real browser (Debian's chromium driven by Playwright): log in, a refused upload shows its
row error, drill down from a total to the file row, switch language; screenshots of the main pages in both
languages go to docs/screenshots/."""
from __future__ import annotations

import importlib.util
import os
import tempfile
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.api_support import PASSWORD, YEAR, electricity, fast_passwords, import_bytes, load_org, person
from tests.services import require_service
from zerocarbon.services import accounting

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("ZEROCARBON_CHROMIUM", "/usr/bin/chromium")
# The pictures in docs/screenshots/ are refreshed with `ZEROCARBON_SCREENSHOTS=docs make test`; otherwise they go to
# a temporary folder, so a test run leaves the working tree as it was.
SHOTS = (Path(__file__).resolve().parent.parent / "docs" / "screenshots"
         if os.environ.get("ZEROCARBON_SCREENSHOTS") == "docs" else Path(tempfile.gettempdir()) / "zerocarbon-screenshots")
BAD_ROW = (b"site,meter,period_start,period_end,quantity,unit\n"
           b"TJ01,M9,2023-03-01,2023-03-31,-5,kWh\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """The app on a SQLite database with ORG, an energy manager, one batch and a computed inventory."""
    if importlib.util.find_spec("playwright") is None:
        require_service("Playwright", "the python package playwright is not installed (make installs it)")
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        require_service("chromium", f"no chromium at {CHROMIUM} (make installs Debian's chromium as root)")
    import uvicorn

    from zerocarbon.web import create_app
    from zerocarbon.store.db import make_engine, session_factory, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'web.sqlite'}")
    upgrade(engine)
    sessions = session_factory(engine)
    with fast_passwords():
        load_org(sessions, "ORG")
        person(sessions, "manager@acme.cn", "ORG", "energy_manager")
        import_bytes(sessions, "ORG", "electricity.csv", electricity("M1", 1000), tmp_path)
        import_bytes(sessions, "ORG", "electricity-feb.csv", electricity("M2", 800, month=2), tmp_path)
        accounting.compute(sessions, "ORG", YEAR, "CN-2025.1", actor="setup")
        port = _free_port()
        srv = uvicorn.Server(uvicorn.Config(create_app(sessions), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        while not srv.started:
            time.sleep(0.05)
        # localhost: browsers keep Secure cookies there without TLS, as on the laptop of docs/web.md.
        yield f"http://localhost:{port}", tmp_path
        srv.should_exit = True
        thread.join(10)
    engine.dispose()


@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        pg = context.new_page()
        pg.set_default_timeout(15000)
        yield pg, server[0], server[1]
        browser.close()


def _login(pg, base):
    pg.goto(f"{base}/web/")
    pg.fill("input[name=email]", "manager@acme.cn")
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url("**/orgs/ORG/overview")


def test_login_upload_drilldown_language_and_screenshots(page):
    pg, base, tmp = page
    _login(pg, base)
    SHOTS.mkdir(parents=True, exist_ok=True)

    # Refused upload: the row error appears in the page, swapped in by htmx, nothing stored.
    bad = tmp / "bad.csv"
    bad.write_bytes(BAD_ROW)
    pg.goto(f"{base}/web/orgs/ORG/data")
    pg.select_option("select[name=kind]", "electricity")
    pg.fill("#upload input[name=year]", str(YEAR))
    pg.set_input_files("#upload input[name=file]", str(bad))
    pg.click("#upload button[type=submit]")
    problems = pg.locator("#upload-result #problems")
    problems.wait_for()
    assert "bad.csv" in problems.inner_text() and "quantity" in problems.inner_text()
    assert pg.url.endswith("/web/orgs/ORG/data")  # a fragment swap, not a page load
    pg.screenshot(path=str(SHOTS / "data-zh.png"), full_page=True)

    # Drill down: overview total -> ledger rows -> batch and file row.
    pg.goto(f"{base}/web/orgs/ORG/overview?year={YEAR}")
    pg.locator("#chart[data-ready='1']").wait_for()
    pg.screenshot(path=str(SHOTS / "overview-zh.png"), full_page=True)
    pg.click("#total-scope2-location")
    pg.locator("#ledger-table").wait_for()
    assert pg.locator("#ledger-table tbody tr").count() == 2
    pg.screenshot(path=str(SHOTS / "ledger-zh.png"), full_page=True)
    pg.locator("a.file-row").first.click()
    pg.locator("#file-row").wait_for()
    assert "electricity.csv" in pg.locator("#file-row").inner_text()

    # Language switch: the toggle keeps the page and changes every label.
    pg.goto(f"{base}/web/orgs/ORG/overview?year={YEAR}")
    assert "总览" in pg.locator("h1").inner_text()
    pg.click("#lang-en")
    pg.wait_for_url(f"**/overview?year={YEAR}")
    assert "Overview" in pg.locator("h1").inner_text()
    pg.locator("#chart[data-ready='1']").wait_for()
    pg.screenshot(path=str(SHOTS / "overview-en.png"), full_page=True)
    for name in ("ledger", "data", "audit"):
        pg.goto(f"{base}/web/orgs/ORG/{name}?year={YEAR}")
        pg.screenshot(path=str(SHOTS / f"{name}-en.png"), full_page=True)
    pg.click("#lang-zh-CN")
    pg.wait_for_url("**/audit?year=*")
    assert "审计日志" in pg.locator("h1").inner_text()
    pg.screenshot(path=str(SHOTS / "audit-zh.png"), full_page=True)


def test_tablet_width_keeps_the_overview_usable(page):
    pg, base, _ = page
    pg.set_viewport_size({"width": 820, "height": 1180})
    _login(pg, base)
    pg.goto(f"{base}/web/orgs/ORG/overview?year={YEAR}")
    pg.locator("#chart[data-ready='1']").wait_for()
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 820, f"the overview scrolls sideways on a tablet ({width} px wide)"
    pg.screenshot(path=str(SHOTS / "overview-zh-tablet.png"), full_page=True)
