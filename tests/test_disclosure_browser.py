"""The disclosure pages in a real browser (Debian's chromium driven by Playwright), on the small company of
tests/disclosure_fixture.py with its 2024 reports published and a 2024 file corrected since: the overview's card
per framework with its counts; the HKEX report switched to Chinese with the Chinese labels, the restated prior year
and its reason, a missing data point's Chinese reason, the Chinese governance narrative and a number's lineage down
to the file's SHA-256; the workbook downloaded from its link; the publish form for the administrator only."""
from __future__ import annotations

import re

import pytest

from tests.api_support import person
from tests.disclosure_fixture import BASE_YEAR, FACTOR_SET, YEAR, make_company
from tests.test_web_browser import logged_in, served
from zerocarbon.services import accounting, disclosure

pytestmark = pytest.mark.slow

ORG = "DISC"
REASON = "meter CT ratio corrected"
GOVERNANCE_ZH = "董事会每年两次审阅气候相关风险。"
INPUTS = f"""organisation: {ORG}
year: {YEAR}
inputs:
  - key: text.governance
    en: The board reviews climate risks twice a year.
    zh: {GOVERNANCE_ZH}
    source: board charter (test data)
"""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("disclosure-browser")

    def setup(sessions):
        make_company(tmp, sessions)
        person(sessions, "admin@acme.cn", ORG, "admin")
        person(sessions, "viewer@acme.cn", ORG, "viewer")
        inputs = tmp / "inputs.yaml"
        inputs.write_text(INPUTS, encoding="utf-8")
        disclosure.import_inputs(sessions, ORG, YEAR, inputs, actor="setup")
        # 2024 as published: every framework without an error check (ISSB S2 and ESRS E1 lack inputs).
        publishable = [r.framework.id for r in disclosure.build(sessions, ORG, BASE_YEAR)
                       if not any(c.level == "error" for c in r.checks)]
        assert "hkex" in publishable
        disclosure.publish(sessions, ORG, BASE_YEAR, actor="setup", frameworks=publishable)
        # Then the 2024 electricity file is corrected and 2024 computed again: the 2025 reports restate it.
        [old] = [b.id for b in accounting.list_batches(sessions, ORG, year=BASE_YEAR, kind="electricity")]
        fixed = tmp / "fixed" / f"electricity_{BASE_YEAR}.csv"
        fixed.parent.mkdir()
        fixed.write_text("site,meter,period_start,period_end,quantity,unit\n"
                         f"SZ01,SZ01-M1,{BASE_YEAR}-01-01,{BASE_YEAR}-12-31,60000,kWh\n", encoding="utf-8")
        accounting.replace_batch(sessions, ORG, old, fixed, actor="setup", reason=REASON)
        accounting.compute(sessions, ORG, BASE_YEAR, FACTOR_SET, actor="setup")

    # The disclosure pages are part of the application create_app builds: no router to add.
    with served(tmp, setup) as (base, sessions):
        yield base, sessions, tmp


def test_report_in_chinese_with_restatement_lineage_download_and_publish_form(server):
    base, sessions, tmp = server
    reports = {r.framework.id: r for r in disclosure.build(sessions, ORG, YEAR)}
    with logged_in(base, "admin@acme.cn") as pg:
        # The overview: the newest stored year, a card per framework with its data points reported / in all.
        pg.goto(f"{base}/web/orgs/{ORG}/disclosure")
        assert pg.locator("#year-picker select").input_value() == str(YEAR)
        assert pg.locator("#framework-cards a.tile").count() == len(reports) == 7
        for fid, report in reports.items():
            statuses = [line.status for line in report.lines]
            card = pg.locator(f"#card-{fid}")
            assert card.locator("strong").inner_text() == f"{statuses.count('reported')} / {len(statuses)}", fid
            counts = card.locator("small").first.inner_text()
            assert f"已披露 {statuses.count('reported')} · 缺失 {statuses.count('missing')}" in counts, (fid, counts)
            errors = [c for c in report.checks if c.level == "error"]
            assert card.get_attribute("data-errors") == str(len(errors)), fid
        assert pg.locator("#card-hkex").get_attribute("data-errors") == "0"
        assert f"{BASE_YEAR}" in pg.locator("#publications tbody tr").first.inner_text()

        # The HKEX report, in English, then switched to Chinese by the toggle, which keeps the page.
        pg.click("#card-hkex")
        pg.wait_for_url(f"**/disclosure/{YEAR}/hkex")
        pg.click("#lang-en")
        pg.wait_for_url(f"**/disclosure/{YEAR}/hkex")
        points = {line.point.id: line.point for line in reports["hkex"].lines}
        scope1 = pg.locator("tr[data-point='A1.2.scope1']")
        assert points["A1.2.scope1"].label_en in scope1.inner_text()
        assert points["A1.2.scope1"].label_zh not in scope1.inner_text()
        pg.click("#lang-zh-CN")
        pg.wait_for_url(f"**/disclosure/{YEAR}/hkex")
        assert "香港交易所" in pg.locator("h1").inner_text()
        for pid in ("A1.2.scope1", "A2.1.total", "D.governance"):
            assert points[pid].label_zh in pg.locator(f"tr[data-point='{pid}']").inner_text(), pid
        assert "直接(范围一)温室气体排放量" in scope1.inner_text()

        # The prior year restated after the file was replaced: the mark, the figure published and the reason.
        scope2 = pg.locator("tr[data-point='A1.2.scope2']")
        assert "能源间接(范围二)温室气体排放量" in scope2.inner_text()
        mark = scope2.locator(".restated")
        assert mark.inner_text() == "已重述" and REASON in mark.get_attribute("title")
        assert REASON in scope2.locator(".restatement").inner_text()
        assert not pg.locator("tr[data-point='A1.2.scope1'] .restated").count()

        # A missing data point: its badge and the reason in Chinese, never a number.
        nox = pg.locator("tr[data-point='A1.1.nox']")
        assert nox.get_attribute("data-status") == "missing"
        assert "未填写" in nox.locator(".reason").inner_text() and "not entered" not in nox.inner_text()

        # The governance narrative entered in both languages reads in Chinese.
        assert GOVERNANCE_ZH in pg.locator("tr[data-point='D.governance']").inner_text()

        # The lineage opens on click and names the corrected file with its SHA-256.
        details = scope2.locator("details.lineage")
        assert details.get_attribute("open") is None and not details.locator("dl").is_visible()
        details.locator("summary").click()
        assert details.get_attribute("open") is not None and details.locator("dl").is_visible()
        lineage = details.inner_text()
        assert "SHA-256" in lineage and re.search(r"\b[0-9a-f]{64}\b", lineage), lineage
        assert f"electricity_{YEAR}.csv" in lineage

        # The workbook from its link: a real file, and the link's address answers with the workbook's type.
        with pg.expect_download() as caught:
            pg.click("#download-xlsx")
        download = caught.value
        assert download.suggested_filename == f"hkex_{YEAR}.xlsx"
        saved = tmp / download.suggested_filename
        download.save_as(saved)
        assert saved.read_bytes()[:2] == b"PK"
        r = pg.request.get(base + pg.locator("#download-xlsx").get_attribute("href"))
        assert r.status == 200 and r.headers["content-type"] == XLSX

        # The administrator may publish: the form, with the button for this framework enabled (no error).
        assert pg.locator("#publish-form").count() == 1
        assert pg.locator("#publish-form button[value=this]").is_enabled()
        shot = tmp / "disclosure-hkex-zh.png"
        pg.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000


def test_the_viewer_reads_the_report_without_the_publish_form(server):
    base, _, _ = server
    with logged_in(base, "viewer@acme.cn") as pg:
        pg.goto(f"{base}/web/orgs/{ORG}/disclosure/{YEAR}/hkex")
        assert pg.locator("#report-lines tbody tr").count() > 20
        assert pg.locator("#publish-form").count() == 0 and pg.locator("#publish").count() == 0
        assert pg.locator("#inputs-upload").count() == 0
        assert pg.locator("#download-xlsx").count() == 1
