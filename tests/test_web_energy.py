"""The energy page /web/orgs/{org}/energy: per role exactly as ``energy.read`` allows, a clear notice when the
server has no meter data configured, and the load profile, base/peak load, idle energy per line and shift
with tCO2, and anomalies read from a small lake built here, in both languages."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from tests.helpers import line_day
from tests.api_support import PASSWORD, client, fast_passwords, load_org, person
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import meter_import

ORG = "ORG"
REGISTRY = """id,site,line,unit,interval_min,timezone,revenue
MAIN,HF01,,kWh,15,Asia/Shanghai,true
L1,HF01,SMT1,kWh,15,Asia/Shanghai,false
"""
DAYS = 3


@pytest.fixture(autouse=True)
def cheap_hashes():
    with fast_passwords():
        yield


@pytest.fixture
def world(sessions, monkeypatch):
    load_org(sessions, ORG)
    for role in Role:
        person(sessions, f"{role.value}@acme.cn", ORG, role.value)
    for name in ("ZEROCARBON_LAKE", "ZEROCARBON_METERS", "ZEROCARBON_PRODUCTION"):
        monkeypatch.delenv(name, raising=False)
    return sessions


@pytest.fixture
def lake(tmp_path, monkeypatch):
    """A lake of DAYS local days built with services.meter_import.import_file; the server settings point at it."""
    reg = tmp_path / "meters.csv"
    reg.write_text(REGISTRY, encoding="utf-8")
    kwh, units = line_day()
    ts = pd.date_range("2026-08-03 00:00", periods=96 * DAYS, freq="15min")
    rows = pd.concat([pd.DataFrame({"meter": "L1", "timestamp": ts.strftime("%Y-%m-%d %H:%M:%S"), "value": kwh * DAYS}),
                      pd.DataFrame({"meter": "MAIN", "timestamp": ts.strftime("%Y-%m-%d %H:%M:%S"),
                                    "value": [k + 5 for k in kwh] * DAYS})])
    readings = tmp_path / "readings.csv"
    rows.to_csv(readings, index=False)
    meter_import.import_file(tmp_path / "lake", ORG, meter_import.read_registry(reg), readings)
    prod = tmp_path / "production.csv"
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "line": "SMT1", "units": units * DAYS}) \
        .query("units > 0").to_csv(prod, index=False)
    monkeypatch.setenv("ZEROCARBON_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("ZEROCARBON_METERS", str(reg))
    return prod


def browser(sessions, role: str, lang: str = "en"):
    c = client(sessions, follow_redirects=False)
    r = c.post("/web/login", data={"email": f"{role}@acme.cn", "password": PASSWORD, "next": "/web/"})
    assert r.status_code == 303, r.text
    c.get(f"/web/lang/{lang}")
    return c


def chart(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="energy-data">(.*?)</script>', html, re.S)
                      .group(1))


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_energy_page_is_allowed_or_refused_exactly_as_the_role_allows(world, role):
    """Defect guarded: a role without energy.read (data entry, supplier) must get 403, and the menu must show
    the page only to roles that may open it."""
    c = browser(world, role)
    r = c.get(f"/web/orgs/{ORG}/energy")
    assert r.status_code == (200 if allowed(role, "energy.read") else 403), (role, r.status_code)
    assert r.headers["content-type"].startswith("text/html")
    home = c.get(f"/web/orgs/{ORG}/data" if allowed(role, "import.write") else f"/web/orgs/{ORG}/energy")
    assert ('data-nav="energy"' in home.text) == allowed(role, "energy.read")


def test_energy_read_is_given_to_the_reading_roles_only():
    assert {r.value for r in Role if allowed(r, "energy.read")} == {"admin", "energy_manager", "planner", "auditor",
                                                                    "viewer"}


def test_energy_page_without_login_goes_to_login(world):
    r = client(world, follow_redirects=False).get(f"/web/orgs/{ORG}/energy")
    assert r.status_code == 303 and r.headers["location"].startswith("/web/login?next=")


def test_without_configuration_the_page_says_energy_data_is_not_configured(world):
    c = browser(world, "viewer")
    r = c.get(f"/web/orgs/{ORG}/energy")
    assert r.status_code == 200 and 'id="energy-not-configured"' in r.text
    assert "ZEROCARBON_LAKE" in r.text and "ZEROCARBON_METERS" in r.text and 'id="energy-data"' not in r.text
    c.get("/web/lang/zh-CN")
    assert "本服务器未配置能源数据" in c.get(f"/web/orgs/{ORG}/energy").text


def test_load_profile_and_base_peak_without_production(world, lake):
    c = browser(world, "planner")
    r = c.get(f"/web/orgs/{ORG}/energy", params={"site": "HF01"})
    assert r.status_code == 200, r.text
    spec = chart(r.text)
    day = sum(k + 5 for k in line_day()[0])  # MAIN is the revenue meter: the site's grid supply
    assert spec["days"] == ["2026-08-03", "2026-08-04", "2026-08-05"]
    assert spec["kwh"] == pytest.approx([day] * DAYS)
    # peak: 15 kWh in 15 minutes = 60 kW at 08:00 local; base: the 5.1 kWh trickle = 20.4 kW
    peak = re.search(r'id="energy-peak"><span>[^<]*</span><strong>([^<]+)</strong>', r.text).group(1)
    base = re.search(r'id="energy-base"><span>[^<]*</span><strong>([^<]+)</strong>', r.text).group(1)
    assert (peak, base) == ("60.0", "20.4")
    assert "2026-08-03T08:00:00+08:00" in r.text
    assert 'id="energy-no-production"' in r.text and 'id="energy-idle"' not in r.text


def test_period_filter_cuts_local_days(world, lake):
    c = browser(world, "viewer")
    r = c.get(f"/web/orgs/{ORG}/energy", params={"site": "HF01", "from": "2026-08-04", "to": "2026-08-04"})
    assert chart(r.text)["days"] == ["2026-08-04"]


def test_idle_energy_per_line_and_shift_with_tco2_when_production_is_configured(world, lake, monkeypatch):
    monkeypatch.setenv("ZEROCARBON_PRODUCTION", str(lake))
    c = browser(world, "energy_manager")
    r = c.get(f"/web/orgs/{ORG}/energy")
    assert r.status_code == 200, r.text
    spec = chart(r.text)
    assert spec["lines"] == ["SMT1"]
    # per day: 8 idle intervals x 4 kWh in the day shift, 4 x 4 kWh at night
    assert {s["name"]: s["data"] for s in spec["idle"]} == {"day": [32.0 * DAYS], "night": [16.0 * DAYS]}
    table = r.text[r.text.index('id="energy-idle"'):]
    line = re.search(r'<p class="meta" id="energy-factor">(.*?)</p>', r.text).group(1)
    factor = float(re.search(r" ([0-9.]+) kgCO2/kWh", line).group(1))
    assert "grid.location.CN" in line  # the shipped set's national factor, named with its source
    assert f"{48.0 * DAYS * factor / 1000:.4f}" in table  # total idle tCO2
    assert 'id="energy-anomalies"' in r.text and 'id="energy-no-production"' not in r.text


def test_energy_page_in_both_languages(world, lake):
    english = browser(world, "viewer", "en").get(f"/web/orgs/{ORG}/energy").text
    assert "Daily load profile" in english and "日负荷曲线" not in english
    chinese = browser(world, "viewer", "zh-CN").get(f"/web/orgs/{ORG}/energy").text
    assert "日负荷曲线" in chinese and "基础负荷" in chinese and 'lang="zh-CN"' in chinese


def test_unknown_site_or_bad_date_is_named_on_the_page_not_a_traceback(world, lake):
    c = browser(world, "viewer")
    r = c.get(f"/web/orgs/{ORG}/energy", params={"site": "NOPE"})
    assert r.status_code == 400 and 'id="energy-error"' in r.text and "NOPE" in r.text
    r = c.get(f"/web/orgs/{ORG}/energy", params={"from": "2026-13-01"})
    assert r.status_code == 400 and "2026-13-01" in r.text
    r = c.get(f"/web/orgs/{ORG}/energy", params={"from": "2027-01-01"})
    assert r.status_code == 404 and "no readings" in r.text


def test_energy_script_is_served(world):
    assert client(world).get("/web/static/energy.js").status_code == 200


def test_another_organisation_with_the_same_site_code_sees_only_its_own_readings(world, lake):
    """The lake holds ORG's HF01; OTHER also has a site HF01 and the same registry, but none of ORG's readings."""
    load_org(world, "OTHER")
    person(world, "viewer@other.cn", "OTHER", "viewer")
    c = client(world, follow_redirects=False)
    assert c.post("/web/login", data={"email": "viewer@other.cn", "password": PASSWORD, "next": "/web/"}).status_code == 303
    r = c.get("/web/orgs/OTHER/energy", params={"site": "HF01"})
    assert r.status_code == 404 and "no readings of organisation OTHER" in r.text and 'id="energy-data"' not in r.text
