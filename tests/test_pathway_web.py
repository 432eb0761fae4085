"""The pathway pages per role, in Chinese and English: the catalogue with an anchor per measure (the assessment's
gap list links to /web/orgs/<org>/pathway#measure-<id>), the MACC and pathway chart data, the run form
(assess.manage only, a refused file listed, infeasible targets named), a run's page and runs side by side."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.api_support import PASSWORD, fast_passwords, load_org, person
from tests.test_pathway_api import DEMO, ORG, client
from tests.test_pathway_core import SPEC_IDS
from zerocarbon.core.access import Role, allowed
from zerocarbon.web import i18n


@pytest.fixture(autouse=True)
def cheap_hashes():
    with fast_passwords():
        yield


@pytest.fixture
def world(sessions):
    load_org(sessions, ORG)
    for role in Role:
        person(sessions, f"{role.value}@acme.cn", ORG, role.value)
    return sessions


def browser(sessions, email: str, lang: str = "en"):
    c = client(sessions, follow_redirects=False)
    c.cookies.set(i18n.COOKIE, lang)
    r = c.post("/web/login", data={"email": email, "password": PASSWORD, "next": "/web/"})
    assert r.status_code == 303, r.text
    return c


def data(page: str, element: str = "pathway-data"):
    m = re.search(rf'<script type="application/json" id="{element}">(.*?)</script>', page, re.S)
    return json.loads(m.group(1))


def test_pages_per_role(world):
    for role in Role:
        c = browser(world, f"{role.value}@acme.cn")
        r = c.get(f"/web/orgs/{ORG}/pathway")
        assert r.status_code == (200 if allowed(role, "assess.read") else 403), role
        if r.status_code == 200:
            assert ('id="pathway-run"' in r.text) == allowed(role, "assess.manage"), role
        made = c.post(f"/web/orgs/{ORG}/pathway/run", data={"shipped": "demo_2030", "csrf": c.cookies.get("zc_csrf")})
        assert made.status_code == (303 if allowed(role, "assess.manage") else 403), (role, made.text[:300])


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_catalogue_anchors_charts_and_run_page(world, lang):
    c = browser(world, "energy_manager@acme.cn", lang)
    hub = c.get(f"/web/orgs/{ORG}/pathway")
    assert hub.status_code == 200
    for mid in SPEC_IDS:
        assert f'id="measure-{mid}"' in hub.text
    assert 'id="pathway-no-runs"' in hub.text
    t = i18n.translator(lang)
    assert t("pathway.illustrative") in hub.text and t("pathway.sourced") in hub.text
    made = c.post(f"/web/orgs/{ORG}/pathway/run", data={"shipped": "demo_2030", "name": "first",
                                                        "csrf": c.cookies.get("zc_csrf")})
    assert made.status_code == 303
    run_url = made.headers["location"]
    page = c.get(run_url)
    assert page.status_code == 200 and t("pathway.pathway") in page.text
    spec = data(page.text)
    assert spec["years"] == [2026, 2027, 2028, 2029, 2030]
    widths = [e["abatement_t"] for e in spec["macc"]]
    heights = [e["cost_per_t"] for e in spec["macc"]]
    assert all(w > 0 for w in widths) and heights == sorted(heights)
    assert spec["targets"]["2030"] == pytest.approx(0.5 * 26235.22, rel=1e-6)
    assert 'id="chart-macc"' in page.text and 'id="chart-pathway"' in page.text
    hub = c.get(f"/web/orgs/{ORG}/pathway")
    assert 'data-run="' in hub.text and data(hub.text)["macc"]


def test_refused_file_and_infeasible_targets_are_shown(world):
    c = browser(world, "admin@acme.cn")
    token = c.cookies.get("zc_csrf")
    bad = c.post(f"/web/orgs/{ORG}/pathway/run", data={"csrf": token},
                 files={"file": ("bad.yaml", b"base: {source: scenario, year: 2025}\ngrid_factor: {2025: 9}\n")})
    assert bad.status_code == 400 and "grid_factor.2025" in bad.text and "base.electricity_mwh" in bad.text
    sc = yaml.safe_load(DEMO)
    sc["targets"] = [{"year": 2030, "max_scope12_t": 10}]
    sc["exclude"] = ["green_certificates", "green_power_contract"]
    infeasible = c.post(f"/web/orgs/{ORG}/pathway/run", data={"csrf": token},
                        files={"file": ("tight.yaml", yaml.safe_dump(sc).encode())})
    assert infeasible.status_code == 400
    assert "Scope 1+2 &lt;= 10.0 tCO2e in 2030" in infeasible.text
    assert 'id="pathway-no-runs"' in infeasible.text


def test_runs_side_by_side(world):
    c = browser(world, "admin@acme.cn")
    token = c.cookies.get("zc_csrf")
    for name in ("demo_2030", "demo_2030_carbon_price"):
        assert c.post(f"/web/orgs/{ORG}/pathway/run", data={"shipped": name, "csrf": token}).status_code == 303
    page = c.get(f"/web/orgs/{ORG}/pathway/compare", params=[("runs", 1), ("runs", 2)])
    assert page.status_code == 200 and 'id="pathway-side-by-side"' in page.text
    spec = data(page.text, "pathway-compare-data")
    assert len(spec["series"]) == 2 and spec["years"] == ["2026", "2027", "2028", "2029", "2030"]
    viewer = browser(world, "viewer@acme.cn")
    assert viewer.get(f"/web/orgs/{ORG}/pathway/compare", params=[("runs", 1)]).status_code == 200
    assert viewer.get(f"/web/orgs/{ORG}/pathway/runs/99").status_code == 404


def test_locales_have_the_same_keys_and_cover_the_templates():
    from pathlib import Path

    from zerocarbon.core.pathway.measures import STREAM_KINDS

    en = {k for k in i18n.catalogue("en") if k.startswith("pathway.")}
    zh = {k for k in i18n.catalogue("zh-CN") if k.startswith("pathway.")}
    assert en == zh and len(en) > 50
    used = set()
    for path in (Path(i18n.__file__).parent / "templates" / "pathway").glob("*.html"):
        used |= set(re.findall(r"""t\(["']([a-z0-9_.-]+)["']\s*[),]""", path.read_text(encoding="utf-8")))
    assert used and used <= en
    fields = {"capex", "fixed_opex", "variable_opex", "fraction", "electricity_per_fuel", "yield", "lifetime", "ramp"}
    assert {f"pathway.field.{f}" for f in fields} | {f"pathway.stream.{k}" for k in STREAM_KINDS} <= en


def test_static_script_is_served(world):
    r = client(world).get("/web/static/pathway.js")
    assert r.status_code == 200 and "chart-macc" in r.text
