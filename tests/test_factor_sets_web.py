"""The factors browser under /web: the set list (shipped and own, never another organisation's), a set's
factors filtered and paged, and storing an own set (energy managers and admins; row errors shown; refused for a
viewer)."""
from __future__ import annotations

import re

import pytest

from tests.api_support import PASSWORD, client, fast_passwords, load_org, person
from tests.test_factor_set_owner import RULES, factor_csv, store
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import factor_sets

ORG = "ORG"


@pytest.fixture(autouse=True)
def cheap_hashes():
    with fast_passwords():
        yield


@pytest.fixture
def world(sessions):
    """ORG with one person per role and an own set; OTHER with a set of its own that ORG must never see."""
    load_org(sessions, ORG)
    load_org(sessions, "OTHER")
    for role in Role:
        person(sessions, f"{role.value}@acme.cn", ORG, role.value)
    store(sessions, ORG, "org-grid", 0.5)
    store(sessions, "OTHER", "other-secret", 0.9)
    return sessions


def browser(sessions, role: str):
    c = client(sessions, follow_redirects=False)
    r = c.post("/web/login", data={"email": f"{role}@acme.cn", "password": PASSWORD, "next": "/web/"})
    assert r.status_code == 303, r.text
    return c


def _upload(c, name: str, csv: str, htmx: bool = True):
    headers = {"HX-Request": "true", "X-CSRF-Token": c.cookies.get("zc_csrf")} if htmx else {}
    data = {"name": name} if htmx else {"name": name, "csrf": c.cookies.get("zc_csrf")}
    return c.post(f"/web/orgs/{ORG}/factors/upload", headers=headers, data=data,
                  files={"file": ("own.csv", csv.encode(), "text/csv"), "rules": ("own.yaml", RULES.encode())})


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_list_shows_shipped_and_own_sets_to_every_role_and_the_form_to_importers(world, role):
    c = browser(world, role)
    r = c.get(f"/web/orgs/{ORG}/factors")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    shipped = r.text[r.text.index('id="shipped-sets"'):r.text.index('id="own-sets"')]
    own = r.text[r.text.index('id="own-sets"'):]
    assert 'data-set="CN-2025.1"' in shipped and 'data-set="org-grid"' not in shipped
    assert 'data-set="org-grid"' in own and "CC BY 4.0" in own and "Utility X" in own
    fp = factor_sets.resolve(world, "org-grid", ORG).fingerprint
    assert fp[:16] in own
    assert "other-secret" not in r.text
    assert ('id="factor-upload"' in r.text) == allowed(role, "factors.import")
    assert f'href="/web/orgs/{ORG}/factors"' in r.text  # the nav link
    assert c.get(f"/web/orgs/{ORG}/factors/other-secret").status_code == 404


def test_set_page_filters_searches_and_pages(world):
    c = browser(world, "viewer")
    r = c.get(f"/web/orgs/{ORG}/factors/US-EGRID-2025.1", params={"region": "US-grid-CAMX", "gas": "CO2"})
    assert r.status_code == 200
    rows = r.text[r.text.index('id="factor-table"'):]
    assert rows.count("<tr>") == 2 and "EGRID2023.grid.location.US-grid-CAMX.CO2" in rows and "436.655" in rows
    # htmx asks for the table only; the search text matches the region name in the document or id.
    r = c.get(f"/web/orgs/{ORG}/factors/CN-2025.1", params={"q": "天津"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and "CN_MEE_NBS.grid.location.CN-天津.2021" in r.text
    assert "CN_MEE_NBS.grid.location.CN.2021" not in r.text
    # Paging: 50 rows a page, a link to the next one.
    r = c.get(f"/web/orgs/{ORG}/factors/CN-2025.1")
    total = len(factor_sets.resolve(None, "CN-2025.1").factors)
    assert f"1–50 of {total}" in r.text or f"第 1–50 条，共 {total} 条" in r.text
    assert re.search(r'hx-get="\?[^"]*offset=50', r.text)
    r = c.get(f"/web/orgs/{ORG}/factors/CN-2025.1", params={"offset": 50}, headers={"HX-Request": "true"})
    assert r.text.count('class="source-link"') > 0  # documents naming a web address link to it
    own = c.get(f"/web/orgs/{ORG}/factors/org-grid", params={"q": "disclosure"}).text  # the own row, after gwp.csv
    assert 'href="https://example.org/disclosure.pdf"' in own and "Utility X" in own


def test_energy_manager_stores_a_set_and_sees_row_errors_of_a_bad_one(world):
    c = browser(world, "energy_manager")
    bad = factor_csv().replace(",0.5,", ",abc,")
    r = _upload(c, "new-grid", bad)
    assert r.status_code == 200
    table = r.text[r.text.index('id="problems"'):]
    assert "own.csv" in table and re.search(r'<td class="num">2</td><td>value</td>', table), table
    assert "new-grid" not in [s.name for s in factor_sets.list_sets(world, ORG)]
    r = _upload(c, "new-grid", bad, htmx=False)  # without htmx: the whole page, 400, the name kept in the form
    assert r.status_code == 400 and 'id="problems"' in r.text and 'value="new-grid"' in r.text
    r = _upload(c, "new-grid", factor_csv(0.42))
    assert r.status_code == 200 and 'hx-swap-oob="outerHTML:#own-sets"' in r.text and 'data-set="new-grid"' in r.text
    assert factor_sets.resolve(world, "new-grid", ORG).factors[-1].value == 0.42
    assert _upload(c, "newer-grid", factor_csv(0.43), htmx=False).status_code == 303


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_upload_is_refused_for_roles_without_factors_import(world, role):
    c = browser(world, role)
    r = _upload(c, "sneaky", factor_csv())
    assert r.status_code == 403
    assert "sneaky" not in [s.name for s in factor_sets.list_sets(world, ORG)]


def test_upload_without_the_csrf_token_stores_nothing(world):
    c = browser(world, "admin")
    r = c.post(f"/web/orgs/{ORG}/factors/upload", data={"name": "forged"},
               files={"file": ("own.csv", factor_csv().encode()), "rules": ("own.yaml", RULES.encode())})
    assert r.status_code == 403
    assert "forged" not in [s.name for s in factor_sets.list_sets(world, ORG)]
