"""The Scope 3 page (/web/orgs/{org}/scope3): figures with their data-quality score and method beside them, a "no
data" row for each category without rows (in Chinese 无数据), the rows of a category with their lineage, in both
languages; the roles that may not read the inventory (a supplier) are refused; in a real browser the chart is drawn
and the "no data" row shows. The stored inventory is the worked example of tests/test_scope3_report.py."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.api_support import PASSWORD, YEAR, client, fast_passwords, load_org, person
from tests.test_scope3_report import _with_scope3
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import accounting
from zerocarbon.web import i18n

ORG = "ORG"
DATA = Path(__file__).parent / "data"


def _setup(sessions) -> None:
    load_org(sessions, ORG)
    for role in Role:
        person(sessions, f"{role.value}@acme.cn", ORG, role.value)
    for kind in ("electricity", "fuel"):
        accounting.import_file(sessions, ORG, kind, DATA / f"{kind}_ok.csv", YEAR, "CN-2025.1", actor="test")
    _with_scope3(sessions)


@pytest.fixture
def world(sessions):
    with fast_passwords():
        _setup(sessions)
        yield sessions


def browser(sessions, role: str, lang: str = "en"):
    c = client(sessions, follow_redirects=False)
    with fast_passwords():
        r = c.post("/web/login", data={"email": f"{role}@acme.cn", "password": PASSWORD, "next": "/web/"})
    assert r.status_code == 303, r.text
    c.get(f"/web/lang/{lang}")
    return c


def _row(html: str, category: str) -> str:
    return re.search(rf'<tr id="cat-{category}"[^>]*>(.*?)</tr>', html, re.S).group(1)


def test_page_in_english_shows_dq_and_method_beside_every_figure_and_no_data(world):
    r = browser(world, "viewer").get(f"/web/orgs/{ORG}/scope3", params={"year": YEAR})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    c1 = _row(r.text, "c1_purchased_goods")
    # 10.0 t, 83.3 % of 12.0 t, DQ 3.32 -> 3.3, methods with their tonnes, supplier data 20 %
    assert "10.0" in c1 and "83.3 %" in c1 and ">3.3<" in c1 and "20 %" in c1
    assert "supplier-specific 2.0" in c1 and "spend-based 6.0" in c1 and "average-data 2.0" in c1
    c4 = _row(r.text, "c4_upstream_transport")
    assert ">2.9<" in c4 or ">2.8<" in c4  # DQ 2.85 to one decimal
    assert "distance-based 1.5" in c4 and "carrier-reported 0.50" in c4
    for c in ("c2_capital_goods", "c5_waste", "c11_use_of_sold_products"):
        row = _row(r.text, c)
        assert 'data-status="no data"' in r.text.split(f'id="cat-{c}"')[1][:40] and "no data" in row, c
        assert "0.0" not in row  # never a silent zero
    assert "avoided_emissions" in _row(r.text, "c12_end_of_life")
    assert "not evaluated" in _row(r.text, "c15_investments") and "investments" in _row(r.text, "c15_investments")
    chart = json.loads(re.search(r'<script type="application/json" id="scope3-chart-data">(.*?)</script>',
                                 r.text, re.S).group(1))
    assert len(chart["categories"]) == 10 and chart["nodata"][1] is True and chart["nodata"][0] is False
    spend = next(s for s in chart["series"] if s["method"] == "spend_based")
    assert spend["data"][0] == 6.0 and spend["data"][1] is None
    assert 'id="scope3-suppliers"' in r.text and "S-002" in r.text


def test_page_in_chinese_says_no_data_in_chinese(world):
    r = browser(world, "viewer", "zh-CN").get(f"/web/orgs/{ORG}/scope3", params={"year": YEAR})
    assert r.status_code == 200
    assert "无数据" in _row(r.text, "c5_waste") and "外购商品和服务" in r.text and "供应商特定法" in r.text
    assert "未评估" in _row(r.text, "c14_franchises")


def test_drill_down_lists_the_rows_of_a_category_with_their_lineage(world):
    c = browser(world, "energy_manager")
    r = c.get(f"/web/orgs/{ORG}/scope3", params={"year": YEAR, "category": "c1_purchased_goods"})
    assert r.status_code == 200
    rows = re.search(r'<table id="scope3-rows-table">(.*?)</table>', r.text, re.S).group(1)
    assert rows.count("<tr") == 4  # header + 3 rows
    assert "TEST.spend_based@1" in rows and "spend_based (test row)" in rows and "p.csv · Row 3" in rows
    assert re.search(r'href="/web/orgs/ORG/batches/\d+\?row=b\d+%3Ap.csv%3A2"', rows)
    # htmx asks for the rows alone
    frag = c.get(f"/web/orgs/{ORG}/scope3", params={"year": YEAR, "category": "c4_upstream_transport"},
                 headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "<html" not in frag.text and "carrier-reported" in frag.text
    empty = c.get(f"/web/orgs/{ORG}/scope3", params={"year": YEAR, "category": "c7_commuting"})
    assert "No ledger rows in this category: no data." in empty.text
    assert c.get(f"/web/orgs/{ORG}/scope3", params={"year": YEAR, "category": "c14_franchises"}).status_code == 404


@pytest.mark.parametrize("query", [{"year": "abc"}, {"category": "c1'<x>"}, {"offset": -1}])
def test_bad_parameters_answer_an_html_error_page(world, query):
    r = browser(world, "viewer").get(f"/web/orgs/{ORG}/scope3", params=query)
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html") and 'id="error"' in r.text


def test_a_year_without_inventory_says_so(world):
    r = browser(world, "viewer").get(f"/web/orgs/{ORG}/scope3", params={"year": 2022})
    assert r.status_code == 200 and 'id="scope3-none"' in r.text


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_roles_without_inventory_read_are_refused(world, role):
    r = browser(world, role).get(f"/web/orgs/{ORG}/scope3", params={"year": YEAR})
    assert r.status_code == (200 if allowed(role, "inventory.read") else 403), role
    if role == "supplier":
        assert r.status_code == 403 and "S-002" not in r.text


def test_not_logged_in_goes_to_the_login_page(world):
    r = client(world, follow_redirects=False).get(f"/web/orgs/{ORG}/scope3")
    assert r.status_code == 303 and r.headers["location"].startswith("/web/login?next=")


def test_catalogues_cover_the_page_in_both_languages():
    en, zh = i18n.catalogue("en"), i18n.catalogue("zh-CN")
    templates = Path(i18n.__file__).parent / "templates" / "supply"
    used = set()
    for name in ("scope3.html", "_scope3_rows.html"):
        used |= set(re.findall(r"""t\(["']([a-z0-9_.-]+)["']\s*[),]""", (templates / name).read_text("utf-8")))
    assert used and used - set(en) == set() and used - set(zh) == set()
    from zerocarbon.services import scope3
    for c in scope3.ALL_CATEGORIES:
        assert f"category.{c}" in en and f"category.{c}" in zh
    for c in scope3.NOT_EVALUATED:
        assert f"scope3.reason.{c}" in en and f"scope3.reason.{c}" in zh
    for m in scope3.METHOD_ORDER:
        assert f"scope3.method.{m}" in en and f"scope3.method.{m}" in zh


@pytest.mark.slow
def test_in_a_browser_the_chart_and_the_no_data_row_show(tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.test_web_browser import CHROMIUM, SHOTS, served

    with served(tmp_path, _setup) as (base, _), sync_playwright() as p:
        browser_ = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = browser_.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
        pg.set_default_timeout(30000)
        pg.goto(f"{base}/web/login")
        pg.fill("input[name=email]", "viewer@acme.cn")
        pg.fill("input[name=password]", PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_url("**/orgs/ORG/overview")
        pg.goto(f"{base}/web/orgs/ORG/scope3?year={YEAR}")
        pg.wait_for_selector("#scope3-chart[data-ready='1']")
        assert pg.locator("#scope3-chart canvas").count() >= 1
        assert "无数据" in pg.inner_text("#cat-c5_waste")
        assert pg.locator("#cat-c5_waste").get_attribute("data-status") == "no data"
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "scope3-zh.png"), full_page=True)
        pg.click("#cat-c1_purchased_goods a")
        pg.wait_for_selector("#scope3-rows-table")
        assert pg.locator("#scope3-rows-table tbody tr").count() == 3
        assert "TEST.supplier_specific@1" in pg.inner_text("#scope3-rows-table")
        browser_.close()


def test_one_name_per_method_and_category_the_engine_emits_and_the_hub_uses_the_same_zh_names(world):
    """Every calculation method the engine can write into the ledger (the methods it scores: METHOD_DQ, and the
    logistics methods of a shipment leg) and every category has a name in English and in Chinese, defined once
    (locales/scope3); the supply-chain hub and the Scope 3 page show the same Chinese words."""
    from zerocarbon.core.ghg.scope3 import CATEGORIES, METHOD_DQ
    from zerocarbon.core.supply.logistics import METHODS
    from zerocarbon.services import scope3

    en, zh = i18n.catalogue("en"), i18n.catalogue("zh-CN")
    for m in {*METHOD_DQ, *METHODS, "unspecified"}:
        assert en.get(f"scope3.method.{m}") and zh.get(f"scope3.method.{m}"), m
    assert en["scope3.method.use_phase_energy"] == "use-phase energy"
    for c in {*CATEGORIES, *scope3.ALL_CATEGORIES}:
        assert en.get(f"category.{c}") and zh.get(f"category.{c}"), c
    # No second set of names: the hub's own area no longer defines any.
    assert not [k for k in en if k.startswith(("green.cat.", "green.method."))]

    # The worked example's shipment rows are stored without the columns an import requires (mode, mass): the
    # hub's logistics dimension could not read them; its Scope 3 section reads the stored ledger, kept as it is.
    from sqlalchemy import text
    with world.begin() as s:
        s.execute(text("DELETE FROM activities WHERE kind = 'shipment'"))
    c = browser(world, "viewer", "zh-CN")
    hub = c.get(f"/web/orgs/{ORG}/supply", params={"year": YEAR})
    page = c.get(f"/web/orgs/{ORG}/scope3", params={"year": YEAR})
    assert hub.status_code == 200 and page.status_code == 200
    for word in [zh[f"category.{c}"] for c in ("c1_purchased_goods", "c4_upstream_transport", "c12_end_of_life")] + \
            [zh[f"scope3.method.{m}"] for m in ("supplier_specific", "spend_based", "average_data", "distance_based",
                                                "carrier_reported")]:
        assert word in hub.text and word in page.text, word
    assert "已售产品的报废处理" in hub.text and "售出产品" not in hub.text
    chart = json.loads(hub.text.split('id="green-data">', 1)[1].split("</script>", 1)[0])
    legend = {s["name"] for s in chart["scope3"]["series"]}
    assert legend == {zh[f"scope3.method.{m}"] for m in ("supplier_specific", "spend_based", "average_data",
                                                          "distance_based", "carrier_reported")}
