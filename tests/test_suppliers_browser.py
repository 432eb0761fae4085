"""The supplier portal in a real browser (Debian's chromium driven by Playwright): a supplier logs in, uploads its
answers with evidence files on the portal, sees the submission waiting for review, and cannot open another
supplier's page; the buyer sees the compliance chart drawn."""
from __future__ import annotations

import pytest

from tests.api_support import PASSWORD, load_org, person
from tests.test_suppliers import EVIDENCE, GOOD, SUPPLIERS
from tests.test_web_browser import CHROMIUM, SHOTS, served
from zerocarbon.services import suppliers as svc

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):
    def setup(sessions):
        load_org(sessions, "ORG")
        svc.import_suppliers(sessions, "ORG", "suppliers.csv", SUPPLIERS, actor="setup")
        person(sessions, "buyer@acme.cn", "ORG", "energy_manager")
        person(sessions, "a@s1.cn", "ORG", "supplier")
        svc.link_user(sessions, "ORG", "a@s1.cn", "S1", actor="setup")
        svc.submit(sessions, "ORG", "S2", "b.csv", GOOD, EVIDENCE, actor="setup")

    with served(tmp_path, setup) as (base, sessions):
        yield base, tmp_path, sessions


@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        pg = context.new_page()
        pg.set_default_timeout(30000)
        yield pg, server[0], server[1], server[2]
        browser.close()


def _login(pg, base, email):
    pg.context.clear_cookies()
    pg.goto(f"{base}/web/login")
    pg.fill("input[name=email]", email)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_load_state()


def test_supplier_uploads_on_the_portal_and_cannot_open_another_supplier(page):
    pg, base, tmp, sessions = page
    _login(pg, base, "a@s1.cn")
    pg.goto(f"{base}/web/orgs/ORG/portal")
    assert "S1" in pg.locator("h1").inner_text()
    answers = tmp / "answers.csv"
    answers.write_bytes(GOOD)
    paths = []
    for name, blob in EVIDENCE.items():
        (tmp / name).write_bytes(blob)
        paths.append(str(tmp / name))
    pg.set_input_files("#portal-submit input[name=file]", str(answers))
    pg.set_input_files("#portal-submit input[name=evidence]", paths)
    pg.click("#portal-submit button[type=submit]")
    pg.locator("#submitted").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "supplier-portal-zh.png"), full_page=True)
    assert "answers.csv" in pg.locator("#submissions").inner_text()
    mine = svc.list_submissions(sessions, "ORG", svc.Viewer("t", "S1", True))
    assert [s["status"] for s in mine] == ["submitted"]
    # Nothing of S2 on the portal, and S2's pages are not found.
    assert "Suzhou" not in pg.content()
    for url in ("supply/suppliers/S2", "portal?supplier=S2"):
        answer = pg.goto(f"{base}/web/orgs/ORG/{url}")
        assert answer.status == 404, url
        assert "Suzhou" not in pg.content()
    answer = pg.goto(f"{base}/web/orgs/ORG/supply/suppliers")
    assert answer.status == 403


def test_buyer_sees_the_compliance_chart(page):
    pg, base, _, _ = page
    _login(pg, base, "buyer@acme.cn")
    pg.goto(f"{base}/web/orgs/ORG/supply/compliance")
    pg.locator("#compliance-chart[data-ready='1'] canvas").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "supply-compliance-zh.png"), full_page=True)
    pg.goto(f"{base}/web/orgs/ORG/supply/reductions")
    pg.locator("#reductions-chart[data-ready='1'] canvas").wait_for()
    pg.goto(f"{base}/web/lang/en?next=/web/orgs/ORG/supply/suppliers")
    pg.wait_for_url("**/supply/suppliers")
    assert "Suppliers" in pg.locator("h1").inner_text()
    pg.screenshot(path=str(SHOTS / "supply-suppliers-en.png"), full_page=True)
    pg.goto(f"{base}/web/orgs/ORG/supply/campaigns")
    pg.screenshot(path=str(SHOTS / "supply-campaigns-en.png"), full_page=True)
