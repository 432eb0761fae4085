"""The disclosure pages under /web per role, on the stand-ins of tests/test_disclosure_api.py: the overview with a
year picker from the stored inventories, a card per framework and the publications; a framework's preview with
the prior year, change, restatement marks with their reasons, missing data points with their reasons in the
page's language, the checks, each number's lineage linked to the ledger and the batches, the files per format and
language; the inputs upload only for ``disclose.prepare`` and the publish form only for ``disclose.publish``, both
with the CSRF token; Chinese and English."""
from __future__ import annotations

import re
from importlib.resources import files

import pytest
from fastapi.testclient import TestClient

from tests.api_support import electricity, import_bytes, web_login_client
from tests.test_disclosure_api import ORG, YEAR, install, make_world
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import accounting
from zerocarbon.web import i18n

HOME = f"/web/orgs/{ORG}/disclosure"
HKEX = f"{HOME}/{YEAR}/hkex"


@pytest.fixture
def fakes(monkeypatch):
    return install(monkeypatch)


@pytest.fixture
def world(sessions, cheap_passwords, fakes):
    return make_world(sessions, fakes)


def browser(app, email: str, lang: str | None = None) -> TestClient:
    c = web_login_client(app, email)
    if lang:
        c.get(f"/web/lang/{lang}")
    return c


def test_pages_per_role(world):
    _, app, _ = world
    for role in Role:
        c = browser(app, f"{role.value}@acme.cn")
        for url in (HOME, HKEX, f"{HOME}/{YEAR}/issb_s2"):
            r = c.get(url)
            if not allowed(role, "disclose.read"):
                assert r.status_code == 403, (role, url)
                continue
            assert r.status_code == 200, (role, url, r.text[:300])
            report = url != HOME
            assert ('id="inputs-upload"' in r.text) == (report and allowed(role, "disclose.prepare")), (role, url)
            assert ('id="publish-form"' in r.text) == (report and allowed(role, "disclose.publish")), (role, url)
            if report and allowed(role, "disclose.prepare"):
                assert re.search(r'name="csrf" value="[^"]+"', r.text)


def test_overview_years_cards_and_publications(world, tmp_path):
    sessions, app, _ = world
    import_bytes(sessions, ORG, "e.csv", electricity("M1"), tmp_path)
    accounting.compute(sessions, ORG, 2023, "CN-2025.1", actor="test")
    c = browser(app, "viewer@acme.cn", "en")
    page = c.get(HOME).text
    # The stored inventory (2023) and the year published (2024) are offered; the newest is shown.
    assert re.findall(r'<option value="(\d+)"', page) == ["2024", "2023"]
    assert 'id="no-inventory"' in page  # 2024 has no stored inventory
    page = c.get(HOME, params={"year": 2023}).text
    assert 'id="no-inventory"' not in page and '<option value="2023" selected>' in page
    assert f'href="{HOME}/2023/hkex"' in page and 'id="card-issb_s2"' in page
    card = re.search(r'id="card-hkex".*?</a>', page, re.S).group(0)
    assert "Reported 3" in card and "Missing 1" in card and "1 error(s)" in card and 'data-errors="1"' in card
    assert 'id="publication-1"' in page and "user:admin@acme.cn" in page
    zh = browser(app, "viewer@acme.cn", "zh-CN").get(HOME, params={"year": 2023}).text
    assert "信息披露" in zh and "已披露 3" in zh and "香港交易所" in zh and "1 个错误" in zh


def test_report_preview_in_english(world):
    _, app, _ = world
    page = browser(app, "auditor@acme.cn", "en").get(HKEX).text
    assert "Scope 1 emissions" in page and "1,234.5" in page and "1,100.0" in page and "+12.2 %" in page
    # A restated prior year: marked, with the figure published and the reason.
    assert 'class="badge pending restated" title="base-year change: acquisition of CD01"' in page
    assert "published 1,000.0: base-year change: acquisition of CD01" in page
    # Missing: a badge and the reason, never a number.
    row = re.search(r'data-point="KPI A2.2".*?</tr>', page, re.S).group(0)
    assert 'data-status="missing"' in row and "zerocarbon disclose inputs import FILE" in row and "缺少" not in row
    # The lineage: the ledger rows (filter, link) and the file with its SHA-256.
    assert f'href="/web/orgs/{ORG}/ledger?year={YEAR}&amp;site=TJ01&amp;scope=1&amp;method="' in page
    assert f'href="/web/orgs/{ORG}/batches/7"' in page and "fuel_2025.csv" in page and "ab" * 32 in page
    assert "CN-2025.1:natural_gas" in page and "TJ01: 1,000.0" in page
    # The checks, each with its level.
    assert re.findall(r'data-level="(\w+)"', page) == ["error", "warning", "info"]
    assert "mandatory data point missing" in page and "Scope 1 changed by +12.2 %: explain why" in page
    # Files: HTML and PDF per language, the workbook; no Inline XBRL without a taxonomy.
    assert {m for m in re.findall(r'id="download-([a-z-]+)"', page)} == {"xlsx", "html-en", "html-zh", "pdf-en",
                                                                          "pdf-zh"}
    # The chart data: this year and the prior year.
    assert '"name": "2025"' in page and '"name": "2024"' in page and "Scope 2 (location)" in page
    issb = browser(app, "auditor@acme.cn", "en").get(f"{HOME}/{YEAR}/issb_s2").text
    assert 'id="download-ixbrl"' in issb


def test_report_preview_in_chinese(world):
    _, app, _ = world
    page = browser(app, "viewer@acme.cn", "zh-CN").get(HKEX).text
    assert "报告预览" in page and "范围一排放" in page and "香港交易所" in page
    row = re.search(r'data-point="KPI A2.2".*?</tr>', page, re.S).group(0)
    assert "缺少披露输入" in row and "enter it with" not in row and "缺失" in row
    assert "强制披露项缺失" in page and "mandatory data point missing" not in page
    assert "已重述" in page and "数据来源" in page and "查看台账" in page
    assert "我们每年降低能耗。" in page  # the Chinese text of an input


def test_download_from_the_page(world):
    _, app, _ = world
    c = browser(app, "viewer@acme.cn")
    r = c.get(f"{HKEX}/download", params={"format": "pdf", "lang": "zh"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="hkex_2025_zh.pdf"'
    r = c.get(f"{HKEX}/download", params={"format": "ixbrl"})
    assert r.status_code == 400 and "text/html" in r.headers["content-type"] and "no XBRL taxonomy" in r.text


def test_inputs_upload(world):
    _, app, fakes = world
    c = browser(app, "data_entry@acme.cn", "en")
    token = c.cookies.get("zc_csrf")
    r = c.post(f"{HOME}/{YEAR}/inputs", data={"framework": "hkex"}, files={"file": ("in.yaml", b"inputs: []\n")})
    assert r.status_code == 403  # no CSRF token
    r = c.post(f"{HOME}/{YEAR}/inputs", data={"csrf": token, "framework": "hkex"},
               files={"file": ("in.yaml", b"bad: yes\n")})
    assert r.status_code == 400 and 'id="problems"' in r.text and "litre of nothing" in r.text
    r = c.post(f"{HOME}/{YEAR}/inputs", data={"csrf": token, "framework": "hkex"},
               files={"file": ("acme.yaml", b"inputs: []\n")})
    assert r.status_code == 303 and r.headers["location"] == f"{HKEX}?imported=2#inputs"
    assert 'id="imported"' in c.get(r.headers["location"]).text
    assert ("import_inputs", ORG, YEAR, "acme.yaml", "user:data_entry@acme.cn") in fakes.calls
    viewer = browser(app, "viewer@acme.cn")
    r = viewer.post(f"{HOME}/{YEAR}/inputs", data={"csrf": viewer.cookies.get("zc_csrf"), "framework": "hkex"},
                    files={"file": ("acme.yaml", b"inputs: []\n")})
    assert r.status_code == 403


def test_publish(world):
    _, app, fakes = world
    c = browser(app, "energy_manager@acme.cn", "en")
    token = c.cookies.get("zc_csrf")
    page = c.get(HKEX).text
    assert 'id="publish-blocked"' in page
    r = c.post(f"{HOME}/{YEAR}/publish", data={"csrf": token, "framework": "hkex", "scope": "all"})
    assert r.status_code == 409 and 'id="refused"' in r.text and "error check" in r.text and fakes.published == []
    r = c.post(f"{HOME}/{YEAR}/publish", data={"csrf": token, "framework": "issb_s2", "scope": "this"})
    assert r.status_code == 303 and r.headers["location"] == f"{HOME}?year={YEAR}&published=1#publications"
    assert fakes.published[0].frameworks == ["issb_s2"]
    page = c.get(r.headers["location"]).text
    assert 'id="published"' in page and 'id="publication-1"' in page
    data_entry = browser(app, "data_entry@acme.cn")
    r = data_entry.post(f"{HOME}/{YEAR}/publish", data={"csrf": data_entry.cookies.get("zc_csrf"),
                                                        "framework": "issb_s2"})
    assert r.status_code == 403


def test_unknown_framework_is_an_error_page(world):
    _, app, _ = world
    r = browser(app, "viewer@acme.cn").get(f"{HOME}/{YEAR}/nope")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]


def test_catalogues_have_the_same_keys_and_every_key_used_exists():
    en, zh = (i18n.catalogue(lang) for lang in ("en", "zh-CN"))
    ours = {k for k in en if k.startswith("disclosure.")}
    assert ours == {k for k in zh if k.startswith("disclosure.")}
    folder = files("zerocarbon.web").joinpath("templates")
    used = set()
    for f in folder.iterdir():
        if f.name.startswith("disclosure"):
            used |= set(re.findall(r"""t\(["'](disclosure\.[a-z0-9_.]+)["']""", f.read_text(encoding="utf-8")))
    used |= set(re.findall(r'"(disclosure\.chart\.[a-z0-9_]+)"',
                           files("zerocarbon.web").joinpath("disclosure.py").read_text(encoding="utf-8")))
    assert {k for k in used if not k.endswith(".")} - ours == set()
    for prefix, values in (("disclosure.level.", ("error", "warning", "info")),
                           ("disclosure.kind.", ("completeness", "consistency", "change")),
                           ("disclosure.requirement.", ("mandatory", "comply_or_explain", "voluntary")),
                           ("disclosure.status.", ("missing", "not_applicable")),
                           ("disclosure.format.", ("xlsx", "html", "pdf", "ixbrl"))):
        assert {prefix + v for v in values} <= ours, prefix

