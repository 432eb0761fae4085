"""The content security policy in a real browser: the pages with inline scripts (charts, the jobs filter's
onchange), htmx and Swagger UI work under it and the browser reports no violation; a script the server did not
ship is blocked."""
from __future__ import annotations

import pytest

from tests.api_support import PASSWORD, YEAR, electricity, import_bytes, load_org, person
from tests.test_web_browser import CHROMIUM, served
from zerocarbon.services import accounting

pytestmark = pytest.mark.slow


def test_pages_and_api_docs_run_under_the_policy_and_an_injected_script_is_blocked(tmp_path):
    from playwright.sync_api import sync_playwright

    def setup(sessions):
        load_org(sessions, "ORG")
        person(sessions, "manager@acme.cn", "ORG", "energy_manager")
        import_bytes(sessions, "ORG", "electricity.csv", electricity("M1", 1000), tmp_path)
        accounting.compute(sessions, "ORG", YEAR, "CN-2025.1", actor="setup")

    with served(tmp_path, setup) as (base, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
        page.set_default_timeout(30000)
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{base}/web/login")
        page.fill("input[name=email]", "manager@acme.cn")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/orgs/ORG/overview")
        page.goto(f"{base}/web/orgs/ORG/overview?year={YEAR}")
        page.wait_for_selector("#chart[data-ready]", state="attached")  # app.js and ECharts from the server ran
        page.goto(f"{base}/web/orgs/ORG/disclosure/{YEAR}/ghgp")
        page.wait_for_selector("#disclosure-chart[data-ready]", state="attached")  # an inline script, by its hash
        page.goto(f"{base}/web/orgs/ORG/jobs")
        page.select_option("select[name=status]", "failed")  # onchange="this.form.submit()", allowed by its hash
        page.wait_for_url("**status=failed**")
        page.goto(f"{base}/web/orgs/ORG/ledger")
        page.wait_for_selector("#ledger")
        page.goto(f"{base}/api/v1/docs")
        page.wait_for_selector(".swagger-ui .info .title")  # Swagger UI's inline start-up script ran
        assert violations == []
        # A script the server did not ship: refused by the policy, and the browser says so.
        page.goto(f"{base}/web/orgs/ORG/overview")
        page.evaluate("""() => { const s = document.createElement('script');
                                 s.textContent = 'window.injected = 1'; document.body.appendChild(s); }""")
        assert page.evaluate("() => window.injected") is None
        assert any("Content Security Policy" in v for v in violations)
        browser.close()
