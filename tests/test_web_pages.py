"""The dashboard pages under /web: login, each page per role exactly as core.access allows, CSRF on forms,
row errors of a refused upload, the lineage from a total to a file row, and the language switch."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.api_support import PASSWORD, YEAR, client, electricity, fast_passwords, import_bytes, load_org, person
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import accounting
from zerocarbon.web import i18n

ORG = "ORG"
# page -> the action of core.access it requires (the same as the API endpoint serving the data)
PAGES = {"overview": "inventory.read", "ledger": "inventory.read", "audit": "audit.read",
         "batches/1": "import.read"}
# A role that reads only its own submissions gets the batch page of someone else's batch as if it did not exist.
NOT_FOUND_FOR_OWN_READERS = {"batches/1"}
BAD_ROW = (b"site,meter,period_start,period_end,quantity,unit\n"
           b"TJ01,M9,2023-03-01,2023-03-31,-5,kWh\n")


@pytest.fixture(autouse=True)
def cheap_hashes():
    with fast_passwords():
        yield


@pytest.fixture
def world(sessions, tmp_path):
    """ORG with one person per role, one batch and a computed inventory for YEAR."""
    load_org(sessions, ORG)
    for role in Role:
        person(sessions, f"{role.value}@acme.cn", ORG, role.value)
    import_bytes(sessions, ORG, "electricity.csv", electricity("M1", 1000), tmp_path)
    accounting.compute(sessions, ORG, YEAR, "CN-2025.1", actor="setup")
    return sessions


def browser(sessions, role: str | None = None):
    c = client(sessions, follow_redirects=False)
    if role:
        r = c.post("/web/login", data={"email": f"{role}@acme.cn", "password": PASSWORD, "next": "/web/"})
        assert r.status_code == 303, r.text
    return c


def csrf(c) -> str:
    return c.cookies.get("zc_csrf")


def test_pages_without_login_send_to_the_login_page(world):
    c = browser(world)
    for page in PAGES:
        r = c.get(f"/web/orgs/{ORG}/{page}")
        assert r.status_code == 303 and r.headers["location"].startswith("/web/login?next=")


def test_wrong_password_shows_the_login_page_again_without_a_session(world):
    c = browser(world)
    r = c.post("/web/login", data={"email": "admin@acme.cn", "password": "wrong password here"})
    assert r.status_code == 401 and 'name="password"' in r.text
    assert c.cookies.get("zc_session") is None


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_page_is_allowed_or_refused_exactly_as_the_role_allows(world, role):
    c = browser(world, role)
    for page, action in PAGES.items():
        r = c.get(f"/web/orgs/{ORG}/{page}", params={"year": YEAR} if page in ("overview", "ledger") else None)
        expected = (200 if allowed(role, action) else
                    404 if page in NOT_FOUND_FOR_OWN_READERS and allowed(role, "import.read_own") else 403)
        assert r.status_code == expected, (role, page, r.status_code)
        assert r.headers["content-type"].startswith("text/html")
    r = c.get(f"/web/orgs/{ORG}/data")
    assert r.status_code == (200 if allowed(role, "import.read") or allowed(role, "import.write") else 403)
    if r.status_code == 200:
        assert ('id="upload"' in r.text) == allowed(role, "import.write")
        assert ('id="batches"' in r.text) == (allowed(role, "import.read") or allowed(role, "import.read_own"))
        assert ('id="pending"' in r.text) == allowed(role, "import.read")
        assert ('name="undo"' in r.text) == allowed(role, "batch.undo")
        assert ('name="replace"' in r.text) == allowed(role, "import.replace")


def test_another_organisation_is_not_found(world):
    load_org(world, "OTHER")
    c = browser(world, "admin")
    assert c.get("/web/orgs/OTHER/overview").status_code == 404


def test_supplier_uploads_but_sees_no_inventory_batches_or_audit(world):
    c = browser(world, "supplier")
    for page in ("overview", "ledger", "audit"):
        assert c.get(f"/web/orgs/{ORG}/{page}").status_code == 403
    assert c.get(f"/web/orgs/{ORG}/batches/1").status_code == 404  # the organisation's batch
    r = c.post(f"/web/orgs/{ORG}/data/upload", data={"kind": "electricity", "year": str(YEAR), "csrf": csrf(c)},
               files={"file": ("supplier.csv", electricity("S1", 10, month=2), "text/csv")})
    assert r.status_code == 303
    mine = accounting.list_batches(world, ORG)[-1]
    assert (mine.source, mine.status) == ("supplier.csv", "pending")
    # Its data page lists its own submission with its status, and nothing of the organisation's.
    page = c.get(f"/web/orgs/{ORG}/data").text
    assert "supplier.csv" in page and "electricity.csv" not in page and 'class="badge pending"' in page
    assert 'id="upload"' in page and 'name="approve"' not in page
    assert c.get(f"/web/orgs/{ORG}/batches/{mine.id}").status_code == 200
    # Another supplier sees neither.
    person(world, "other@supplier.cn", ORG, "supplier")
    other = client(world, follow_redirects=False)
    other.post("/web/login", data={"email": "other@supplier.cn", "password": PASSWORD, "next": "/web/"})
    assert "supplier.csv" not in other.get(f"/web/orgs/{ORG}/data").text
    assert other.get(f"/web/orgs/{ORG}/batches/{mine.id}").status_code == 404


def test_data_entry_upload_waits_for_the_energy_manager_who_approves_or_rejects_it(world):
    entry = browser(world, "data_entry")
    r = entry.post(f"/web/orgs/{ORG}/data/upload", headers={"HX-Request": "true", "X-CSRF-Token": csrf(entry)},
                   data={"kind": "electricity", "year": str(YEAR)},
                   files={"file": ("feb.csv", electricity("M2", 500, month=2), "text/csv")})
    assert r.status_code == 200 and 'id="upload-ok"' in r.text and "待能源经理审批" in r.text
    assert 'hx-swap-oob="outerHTML:#pending"' in r.text and 'name="approve"' not in r.text
    feb = accounting.list_batches(world, ORG)[-1]
    assert feb.status == "pending"
    assert entry.post(f"/web/orgs/{ORG}/batches/{feb.id}/approve", data={"csrf": csrf(entry)}).status_code == 403
    manager = browser(world, "energy_manager")
    page = manager.get(f"/web/orgs/{ORG}/data").text
    pending = page[page.index('id="pending"'):page.index('id="batches"')]
    assert "feb.csv" in pending and f'/batches/{feb.id}/approve' in pending
    assert manager.post(f"/web/orgs/{ORG}/batches/{feb.id}/approve", data={}).status_code == 403  # no CSRF token
    r = manager.post(f"/web/orgs/{ORG}/batches/{feb.id}/approve", data={"csrf": csrf(manager)})
    assert r.status_code == 303 and r.headers["location"].endswith(f"/data?done=approved&id={feb.id}")
    assert f"批次 {feb.id} 已审批通过" in manager.get(r.headers["location"]).text
    assert accounting.list_batches(world, ORG)[-1].status == "active"
    entry.post(f"/web/orgs/{ORG}/data/upload", data={"kind": "electricity", "year": str(YEAR), "csrf": csrf(entry)},
               files={"file": ("mar.csv", electricity("M3", 5, month=3), "text/csv")})
    mar = accounting.list_batches(world, ORG)[-1]
    r = manager.post(f"/web/orgs/{ORG}/batches/{mar.id}/reject", data={"reason": "wrong meter", "csrf": csrf(manager)})
    assert r.status_code == 303
    assert (accounting.list_batches(world, ORG)[-1].status, accounting.list_batches(world, ORG)[-1].status_reason) == (
        "rejected", "wrong meter")
    assert "wrong meter" in manager.get(f"/web/orgs/{ORG}/data").text


def test_approval_refused_for_rows_counted_twice_shows_the_rows(world, tmp_path):
    entry = browser(world, "data_entry")
    entry.post(f"/web/orgs/{ORG}/data/upload", data={"kind": "electricity", "year": str(YEAR), "csrf": csrf(entry)},
               files={"file": ("feb.csv", electricity("M2", 500, month=2), "text/csv")})
    feb = accounting.list_batches(world, ORG)[-1]
    # Uploads never let two claiming batches overlap, so the clash is made behind their checks: the pending batch
    # is rejected, the same meter-month imported as active, and the rejected batch set back to pending by hand.
    accounting.reject_batch(world, ORG, feb.id, "resubmit", actor="test")
    other = import_bytes(world, ORG, "feb-manager.csv", electricity("M2", 600, month=2), tmp_path)
    from zerocarbon.store.tables import ImportBatchRow
    with world.begin() as s:
        s.get(ImportBatchRow, feb.id).status = "pending"
    manager = browser(world, "energy_manager")
    r = manager.post(f"/web/orgs/{ORG}/batches/{feb.id}/approve", data={"csrf": csrf(manager)})
    assert r.status_code == 400
    pending = r.text[r.text.index('id="pending"'):r.text.index('id="batches"')]
    assert 'id="problems"' in pending and "feb.csv" in pending and f"batch {other}" in pending


def test_replace_on_the_batch_page_shows_the_new_version_and_the_old_one_superseded(world):
    manager = browser(world, "energy_manager")
    page = manager.get(f"/web/orgs/{ORG}/batches/1").text
    assert 'id="replace"' in page
    r = manager.post(f"/web/orgs/{ORG}/batches/1/replace", data={"csrf": csrf(manager), "reason": "bill corrected"},
                     files={"file": ("electricity-fixed.csv", electricity("M1", 1200), "text/csv")})
    assert r.status_code == 303
    page = manager.get(r.headers["location"]).text
    assert 'id="notice"' in page and "electricity-fixed.csv" in page and 'class="badge superseded"' in page
    # A refused file is shown on the batch page with its rows.
    r = manager.post(f"/web/orgs/{ORG}/batches/2/replace", data={"csrf": csrf(manager)},
                     files={"file": ("bad.csv", BAD_ROW, "text/csv")})
    assert r.status_code == 400 and 'id="problems"' in r.text and "bad.csv" in r.text and 'id="replace"' in r.text
    # By data entry: the replacement waits, and batch 2 stays active; a second replacement must wait for it.
    entry = browser(world, "data_entry")
    r = entry.post(f"/web/orgs/{ORG}/batches/2/replace", data={"csrf": csrf(entry)},
                   files={"file": ("electricity-3.csv", electricity("M1", 1300), "text/csv")})
    assert r.status_code == 303 and r.headers["location"].endswith("done=replaced_pending&id=3&old=2")
    assert [b.status for b in accounting.list_batches(world, ORG)] == ["superseded", "active", "pending"]
    r = manager.post(f"/web/orgs/{ORG}/batches/2/replace", data={"csrf": csrf(manager)},
                     files={"file": ("electricity-4.csv", electricity("M1", 1400), "text/csv")})
    assert r.status_code == 409 and "batch 3" in r.text


def test_auditor_may_read_but_not_upload_withdraw_replace_or_approve(world):
    c = browser(world, "auditor")
    r = c.post(f"/web/orgs/{ORG}/data/upload", data={"kind": "electricity", "year": str(YEAR), "csrf": csrf(c)},
               files={"file": ("a.csv", electricity("A1", 10, month=3), "text/csv")})
    assert r.status_code == 403
    r = c.post(f"/web/orgs/{ORG}/batches/1/undo", data={"reason": "x", "csrf": csrf(c)})
    assert r.status_code == 403
    r = c.post(f"/web/orgs/{ORG}/batches/1/replace", data={"csrf": csrf(c)},
               files={"file": ("a.csv", electricity("M1", 10), "text/csv")})
    assert r.status_code == 403
    for verb, data in (("approve", {}), ("reject", {"reason": "x"})):
        assert c.post(f"/web/orgs/{ORG}/batches/1/{verb}", data={**data, "csrf": csrf(c)}).status_code == 403
    assert [b.status for b in accounting.list_batches(world, ORG)] == ["active"]
    page = c.get(f"/web/orgs/{ORG}/batches/1").text
    assert 'name="replace"' not in page and 'name="approve"' not in page


def test_forms_without_the_csrf_token_change_nothing(world):
    c = browser(world, "admin")
    r = c.post(f"/web/orgs/{ORG}/batches/1/undo", data={"reason": "forged"})
    assert r.status_code == 403
    r = c.post(f"/web/orgs/{ORG}/batches/1/undo", data={"reason": "forged", "csrf": "csrf_not-the-token"})
    assert r.status_code == 403
    assert [b.status for b in accounting.list_batches(world, ORG)] == ["active"]


def test_energy_manager_withdraws_a_batch_with_a_reason(world):
    c = browser(world, "energy_manager")
    r = c.post(f"/web/orgs/{ORG}/batches/1/undo", data={"reason": "meter double counted", "csrf": csrf(c)})
    assert r.status_code == 303
    assert [(b.status, b.status_reason) for b in accounting.list_batches(world, ORG)] == [
        ("withdrawn", "meter double counted")]


def test_refused_upload_lists_the_row_errors_and_stores_nothing(world):
    c = browser(world, "data_entry")
    r = c.post(f"/web/orgs/{ORG}/data/upload", headers={"HX-Request": "true", "X-CSRF-Token": csrf(c)},
               data={"kind": "electricity", "year": str(YEAR)},
               files={"file": ("bad.csv", BAD_ROW, "text/csv")})
    assert r.status_code == 200
    table = r.text[r.text.index('id="problems"'):]
    assert "bad.csv" in table and re.search(r'<td class="num">2</td><td>quantity</td>', table), table
    assert len(accounting.list_batches(world, ORG)) == 1
    # Without htmx the whole page comes back with the table and a 400.
    r = c.post(f"/web/orgs/{ORG}/data/upload", data={"kind": "electricity", "year": str(YEAR), "csrf": csrf(c)},
               files={"file": ("bad.csv", BAD_ROW, "text/csv")})
    assert r.status_code == 400 and 'id="problems"' in r.text and 'id="batches"' in r.text


def test_successful_htmx_upload_refreshes_the_batch_list(world):
    c = browser(world, "data_entry")
    r = c.post(f"/web/orgs/{ORG}/data/upload", headers={"HX-Request": "true", "X-CSRF-Token": csrf(c)},
               data={"kind": "electricity", "year": str(YEAR)},
               files={"file": ("feb.csv", electricity("M2", 500, month=2), "text/csv")})
    assert r.status_code == 200 and 'hx-swap-oob="outerHTML:#batches"' in r.text and "feb.csv" in r.text


def test_lineage_from_a_total_to_the_file_row(world):
    c = browser(world, "auditor")
    overview = c.get(f"/web/orgs/{ORG}/overview", params={"year": YEAR}).text
    link = re.search(r'id="total-scope2-location" href="([^"]+)"', overview).group(1).replace("&amp;", "&")
    assert "scope=2" in link and "method=location" in link
    ledger = c.get(link).text
    assert "0.6361" in ledger  # the location-based total of the overview, row by row
    row_link = re.search(r'class="file-row" href="([^"]+)"', ledger).group(1).replace("&amp;", "&")
    batch = c.get(row_link)
    assert batch.status_code == 200
    assert 'id="file-row"' in batch.text and "electricity.csv" in batch.text


def test_ledger_filters_and_pages(world):
    c = browser(world, "viewer")
    r = c.get(f"/web/orgs/{ORG}/ledger", params={"year": YEAR, "scope": "1"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and "0 " in r.text
    r = c.get(f"/web/orgs/{ORG}/ledger", params={"year": YEAR, "method": "market"})
    assert r.text.count("<tr") == 2  # header and the one market-based row
    # A viewer may read the ledger but not the batches: the file row is named, not linked.
    assert 'class="file-row"' not in r.text and "electricity.csv" in r.text


def test_overview_chart_data_per_site(world):
    c = browser(world, "viewer")
    r = c.get(f"/web/orgs/{ORG}/overview", params={"year": YEAR})
    spec = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', r.text, re.S)
                      .group(1))
    assert spec["sites"] == ["TJ01"] and [s["data"] for s in spec["series"]] == [[0.0], [0.6361], [0.6096]]


def test_audit_page_shows_the_chain_verification(world):
    c = browser(world, "auditor")
    r = c.get(f"/web/orgs/{ORG}/audit")
    assert r.status_code == 200 and 'id="chain"' in r.text and 'class="ok"' in r.text


def test_language_switch_shows_chinese(world):
    c = browser(world, "admin")
    c.get("/web/lang/en")
    english = c.get(f"/web/orgs/{ORG}/overview", params={"year": YEAR})
    assert "Overview" in english.text and "总览" not in english.text
    r = c.get("/web/lang/zh-CN", params={"next": f"/web/orgs/{ORG}/overview?year={YEAR}"})
    assert r.status_code == 303 and r.headers["location"] == f"/web/orgs/{ORG}/overview?year={YEAR}"
    chinese = c.get(r.headers["location"])
    assert "总览" in chinese.text and "范围二（基于位置）" in chinese.text and 'lang="zh-CN"' in chinese.text


def test_language_toggle_is_no_open_redirect(world):
    r = browser(world).get("/web/lang/en", params={"next": "//evil.example/"})
    assert r.headers["location"] == "/web/"


def test_user_locale_is_the_default_language(world):
    from zerocarbon.services import users

    users.add_member(world, "en@acme.cn", ORG, "viewer", PASSWORD, locale="en", actor="test")
    c = client(world, follow_redirects=False)
    c.post("/web/login", data={"email": "en@acme.cn", "password": PASSWORD})
    assert "Overview" in c.get(f"/web/orgs/{ORG}/overview").text


def test_logout_ends_the_session(world):
    c = browser(world, "admin")
    assert c.post("/web/logout", data={"csrf": csrf(c)}).status_code == 303
    assert c.get(f"/web/orgs/{ORG}/overview").status_code == 303


def test_static_files_are_served_and_nothing_else(world):
    c = browser(world)
    assert c.get("/web/static/vendor/htmx.min.js").status_code == 200
    assert c.get("/web/static/vendor/echarts.min.js").status_code == 200
    assert c.get("/web/static/../routes.py").status_code == 404
    assert c.get("/web/static/vendor/htmx.LICENSE").status_code == 404


def test_catalogues_have_the_same_keys_and_cover_every_key_the_templates_use():
    en, zh = i18n.catalogue("en"), i18n.catalogue("zh-CN")
    assert set(en) == set(zh)
    templates = Path(i18n.__file__).parent / "templates"
    used = set()
    for path in templates.glob("*.html"):
        used |= set(re.findall(r"""t\(["']([a-z0-9_.-]+)["']\s*[),]""", path.read_text(encoding="utf-8")))
    assert used - set(en) == set()
    for prefix, values in (("role.", [r.value for r in Role]), ("status.", ["active", "pending", "superseded", "withdrawn", "rejected"]),
                           ("error.", ["400", "401", "403", "404", "409", "429"])):
        assert {prefix + v for v in values} <= set(en)


# --- what a first-time user of the demo ran into -----------------------------------------------------------------

def _summary(html: str) -> str:
    return re.search(r'<p class="meta" id="ledger-summary">(.*?)</p>', html, re.S).group(1)


def test_ledger_without_a_method_shows_one_total_per_method_and_never_their_sum(world):
    c = browser(world, "viewer")
    c.get("/web/lang/en")
    both = _summary(c.get(f"/web/orgs/{ORG}/ledger", params={"year": YEAR}).text)
    # Scope 2 location-based 0.6361 t, market-based 0.6096 t: their sum (1.2457 t) is no total of anything.
    assert "1.2" not in both and "counted" not in both
    assert re.search(r'id="ledger-total-location">total \(location-based\) 0\.6 tCO2e', both)
    assert re.search(r'id="ledger-total-market">total \(market-based\) 0\.6 tCO2e', both)
    market = _summary(c.get(f"/web/orgs/{ORG}/ledger", params={"year": YEAR, "method": "market"}).text)
    assert 'id="ledger-total-market"' in market and 'id="ledger-total-location"' not in market


def test_ledger_totals_per_method_match_the_overview(world, tmp_path):
    import_bytes(world, ORG, "electricity-big.csv", electricity("M7", 2_000_000, month=5), tmp_path)
    accounting.compute(world, ORG, YEAR, "CN-2025.1", actor="setup")
    meta, _ = accounting.inventory_summary(world, ORG, YEAR)
    c = browser(world, "viewer")
    html = c.get(f"/web/orgs/{ORG}/ledger", params={"year": YEAR}).text
    for method in ("location", "market"):
        shown = re.search(rf'id="ledger-total-{method}">[^<]*?([\d,]+\.\d) tCO2e', html).group(1)
        assert shown == f"{meta['totals'][f'total_{method}_t']:,.1f}"


BAD_PAGES = {"overview?year=abc": ("year", 400), "ledger?year=2025&scope=7": ("scope", 400),
             "batches/abc": ("batch_id", 400), "audit?limit=-1": ("limit", 400), "jobs/999": (None, 404),
             "jobs/abc/row": ("job_id", 400), "schedules?offset=-3": ("offset", 400),
             "schedules/abc": ("run_id", 400), "factors/CN-2025.1?offset=x": ("offset", 400),
             "energy?site=" + "x" * 70: ("site", 400), "jobs/999/row": (None, 404)}


@pytest.mark.parametrize("url", list(BAD_PAGES))
def test_bad_parameters_and_unknown_addresses_answer_an_html_error_page(world, url):
    c = browser(world, "admin")
    c.get("/web/lang/en")
    r = c.get(f"/web/orgs/{ORG}/{url}")
    name, status = BAD_PAGES[url]
    assert r.status_code == status and r.headers["content-type"].startswith("text/html"), (r.status_code, r.text)
    assert 'id="error"' in r.text and "urn:zerocarbon" not in r.text
    if name:
        cell = re.search(r'<table class="problems" id="invalid">(.*?)</table>', r.text, re.S).group(1)
        assert f"<code>{name}</code>" in cell
    else:
        assert "does not exist in this organisation" in r.text


def test_a_bad_parameter_is_explained_in_chinese(world):
    c = browser(world, "admin")
    r = c.get(f"/web/orgs/{ORG}/overview", params={"year": "abc"})
    assert r.status_code == 400 and "<code>year</code>" in r.text and "不是整数" in r.text
    r = c.get(f"/web/orgs/{ORG}/audit", params={"limit": "-1"})
    assert "不能小于 1" in r.text


def test_the_api_keeps_problem_details_for_unknown_addresses(world):
    r = browser(world).get("/api/v1/no-such-endpoint")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_numbers_have_thousands_separators_and_one_decimal_of_tco2e():
    from zerocarbon.web.formatting import num

    assert num(1810.175) == "1,810.2" and num(45549.8) == "45,549.8" and num(0.6361) == "0.6"
    assert num(1234567.4, unit="kWh") == "1,234,567" and num(1234.56, unit="MWh") == "1,234.6"
    assert num(1810.175, 3) == "1,810.175" and num(12345, 0) == "12,345"
    assert num(None) == "–" and num(-0.01) == "0.0" and num("n/a") == "n/a"


def test_overview_totals_are_rounded_with_separators(world, tmp_path):
    import_bytes(world, ORG, "electricity-big.csv", electricity("M7", 2_000_000, month=5), tmp_path)
    accounting.compute(world, ORG, YEAR, "CN-2025.1", actor="setup")
    meta, _ = accounting.inventory_summary(world, ORG, YEAR)
    html = browser(world, "viewer").get(f"/web/orgs/{ORG}/overview", params={"year": YEAR}).text
    tile = re.search(r'id="total-scope2-location"[^>]*><span>[^<]*</span><strong>([^<]*)</strong>', html).group(1)
    assert tile == f"{meta['totals']['scope2_location_t']:,.1f}" and "," in tile
    # The per-site table scrolls within its box on a narrow screen.
    assert '<div class="scroll" id="sites-scroll">' in html


@pytest.mark.parametrize("lang,words", [("en", ("Purchased electricity", "File imported", "Inventory computed")),
                                        ("zh-CN", ("外购电力", "导入文件", "计算清单"))])
def test_categories_and_audit_actions_are_words_in_both_languages(world, lang, words):
    c = browser(world, "admin")
    c.get(f"/web/lang/{lang}")
    ledger = c.get(f"/web/orgs/{ORG}/ledger", params={"year": YEAR}).text
    cells = re.findall(r"<td>([^<]*)</td><td>[^<]*</td><td>[^<]*</td>\s*<td class=\"num\">", ledger)
    assert words[0] in ledger and "<td>purchased_electricity</td>" not in ledger, cells
    audit_page = c.get(f"/web/orgs/{ORG}/audit").text
    assert words[1] in audit_page and words[2] in audit_page
    assert '<small class="code">inventory.compute</small>' in audit_page  # the code stays, small


def test_a_refusal_says_in_words_what_the_role_may_not_do_and_keeps_the_detail_folded(world):
    c = browser(world, "viewer")
    r = c.get(f"/web/orgs/{ORG}/audit")
    assert r.status_code == 403
    summary = re.search(r'id="error-summary">([^<]*)<', r.text).group(1)
    assert "查看审计日志" in summary and "audit.read" not in summary
    assert re.search(r'<details id="error-detail">.*audit\.read', r.text, re.S)
    c.get("/web/lang/en")
    r = c.get(f"/web/orgs/{ORG}/data")
    summary = re.search(r'id="error-summary">([^<]*)<', r.text).group(1)
    assert "see the imported batches" in summary and "upload activity files" in summary
    assert "import.read" not in summary
    # A missing batch: a sentence, and the command-line hint only under the details.
    r = c.get("/web/lang/zh-CN") and browser(world, "admin").get(f"/web/orgs/{ORG}/batches/999")
    summary = re.search(r'id="error-summary">([^<]*)<', r.text).group(1)
    assert r.status_code == 404 and "zerocarbon import list" not in summary and "不存在" in summary
    assert re.search(r"<details id=\"error-detail\">.*zerocarbon import list", r.text, re.S)


def test_the_file_row_of_a_ledger_row_shows_its_stored_values(world):
    c = browser(world, "auditor")
    c.get("/web/lang/en")
    ledger = c.get(f"/web/orgs/{ORG}/ledger", params={"year": YEAR, "method": "location"}).text
    link = re.search(r'class="file-row" href="([^"]+)"', ledger).group(1).replace("&amp;", "&")
    html = c.get(link).text
    table = re.search(r'<table id="row-values".*?</table>', html, re.S).group(0)
    for label, value in (("Quantity", "1000"), ("Unit", "kWh"), ("Meter", "M1"), ("Site", "TJ01"),
                         ("Period start", "-01-01"), ("Period end", "-01-28")):
        assert re.search(rf"{label} <small class=\"code\">[a-z_]+</small></th><td class=\"ids\">[^<]*{value}", table), label
    # An id the batch does not hold, and a supplier asking for the organisation's batch, learn nothing.
    assert 'id="row-missing"' in c.get(f"/web/orgs/{ORG}/batches/1", params={"row": "b1:x.csv:99"}).text
    supplier = browser(world, "supplier")
    assert supplier.get(f"/web/orgs/{ORG}/batches/1", params={"row": "b1:electricity.csv:2"}).status_code == 404


def test_activity_row_keeps_the_organisation_and_the_own_submissions_rule(world):
    from zerocarbon.errors import NotFoundError

    load_org(world, "OTHER")
    aid = next(r["activity_id"] for r in accounting.ledger_page(world, ORG, YEAR, limit=10).rows)
    assert accounting.activity_row(world, ORG, 1, aid)["quantity"] == pytest.approx(1000)
    with pytest.raises(NotFoundError):
        accounting.activity_row(world, "OTHER", 1, aid)
    with pytest.raises(NotFoundError):
        accounting.activity_row(world, ORG, 1, aid, imported_by="someone-else")


def test_a_schedule_week_shows_its_last_day_included():
    from zerocarbon.web.schedule import week

    assert week("2026-08-03T00:00+08:00", "2026-08-10T00:00+08:00") == "2026-08-03 – 2026-08-09"
    assert week("2026-08-03T00:00+08:00", "2026-08-10T06:00+08:00") == "2026-08-03 – 08-10 06:00"
    assert week("2026-08-03T00:00+08:00", "2026-08-04T00:00+08:00") == "2026-08-03"
