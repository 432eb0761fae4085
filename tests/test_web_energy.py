"""The energy page /web/orgs/{org}/energy: per role exactly as ``energy.read`` allows, a clear notice when the
server has no meter data configured, and the load profile, base/peak load, idle energy per line and shift
with tCO2, and anomalies read from a small lake built here, in both languages."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import line_day
from tests.api_support import PASSWORD, client, fast_passwords, load_org, person
from tests import test_web_browser
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import meter_import

ORG = "ORG"
REGISTRY = """id,site,line,unit,interval_min,timezone,revenue
MAIN,HF01,,kWh,15,Asia/Shanghai,true
L1,HF01,SMT1,kWh,15,Asia/Shanghai,false
"""
DAYS = 3
# the browser test's fixtures (a served app and a chromium page), for the charts of this page
server, page = test_web_browser.server, test_web_browser.page


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


def build_lake(tmp_path, monkeypatch, registry: str, day: dict[str, list[float]], days: int = DAYS):
    """A lake of ``days`` local days built with services.meter_import.import_file from one day of 15-minute values
    per meter (repeated); the server settings point at it. Returns the production-count file of line SMT1
    (line_day's units), not yet configured."""
    reg = tmp_path / "meters.csv"
    reg.write_text(registry, encoding="utf-8")
    _, units = line_day()
    ts = pd.date_range("2026-08-03 00:00", periods=96 * days, freq="15min")
    rows = pd.concat([pd.DataFrame({"meter": m, "timestamp": ts.strftime("%Y-%m-%d %H:%M:%S"), "value": v * days})
                      for m, v in day.items()])
    readings = tmp_path / "readings.csv"
    rows.to_csv(readings, index=False)
    meter_import.import_file(tmp_path / "lake", ORG, meter_import.read_registry(reg), readings)
    prod = tmp_path / "production.csv"
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "line": "SMT1", "units": units * days}) \
        .query("units > 0").to_csv(prod, index=False)
    monkeypatch.setenv("ZEROCARBON_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("ZEROCARBON_METERS", str(reg))
    monkeypatch.delenv("ZEROCARBON_PRODUCTION", raising=False)  # configured by the tests that use it
    return prod


@pytest.fixture
def lake(tmp_path, monkeypatch):
    """MAIN (revenue) = line SMT1 (meter L1) + 5 kWh per quarter hour."""
    kwh, _ = line_day()
    return build_lake(tmp_path, monkeypatch, REGISTRY, {"L1": kwh, "MAIN": [k + 5 for k in kwh]})


# A plant as registries describe one: the revenue meter hangs in the substation, the SMT hall has a sub-main
# above its two lines (SMT2 metered at its oven only), the test hall has no meter of its own, the boiler burns gas.
PLANT = """id,site,area,line,asset,medium,unit,interval_min,timezone,revenue
MAIN,HF01,substation,,10 kV incomer,electricity,kWh,15,Asia/Shanghai,true
HALL,HF01,SMT hall,,,electricity,kWh,15,Asia/Shanghai,false
L1,HF01,SMT hall,SMT1,,electricity,kWh,15,Asia/Shanghai,false
L2,HF01,SMT hall,SMT2,reflow oven,electricity,kWh,15,Asia/Shanghai,false
L3,HF01,test hall,TEST1,,electricity,kWh,15,Asia/Shanghai,false
GAS,HF01,boiler house,,,gas,Nm3,15,Asia/Shanghai,false
"""


def plant_day() -> dict[str, list[float]]:
    """Per quarter hour [kWh]: HALL = SMT1 + SMT2 + 1 (unmetered in the hall), MAIN = HALL + TEST1 + 5."""
    kwh, _ = line_day()
    hall = [k + 2.0 + 1.0 for k in kwh]
    return {"MAIN": [h + 3.0 + 5.0 for h in hall], "HALL": hall, "L1": kwh, "L2": [2.0] * 96, "L3": [3.0] * 96,
            "GAS": [0.5] * 96}


@pytest.fixture
def plant(tmp_path, monkeypatch):
    return build_lake(tmp_path, monkeypatch, PLANT, plant_day())


# Rooftop PV as the demo registry declares it: medium pv, area roof, not a revenue meter. The lines consume
# what the grid supplies plus what the roof generates; MAIN measures only the grid import.
PV_PLANT = """id,site,area,line,medium,unit,interval_min,timezone,revenue
MAIN,HF01,incomer,,electricity,kWh,15,Asia/Shanghai,true
L1,HF01,SMT,SMT1,electricity,kWh,15,Asia/Shanghai,false
HVAC,HF01,utilities,,electricity,kWh,15,Asia/Shanghai,false
PV,HF01,roof,,pv,kWh,15,Asia/Shanghai,false
"""


def pv_day(export: bool = False) -> dict[str, list[float]]:
    """Per quarter hour [kWh]: SMT1 line_day, HVAC 40, PV 12 from 08:00 to 16:00; MAIN = SMT1 + HVAC - PV
    (+ 1 the lines do not measure). With ``export``, PVX measures 2 of the PV fed into the grid."""
    kwh, _ = line_day()
    pv = [12.0 if 32 <= i < 64 else 0.0 for i in range(96)]
    sent = [2.0 if p else 0.0 for p in pv]
    day = {"L1": kwh, "HVAC": [40.0] * 96, "PV": pv,
           "MAIN": [k + 40.0 - p + x + 1.0 for k, p, x in zip(kwh, pv, sent if export else [0.0] * 96)]}
    if export:
        day["PVX"] = sent
    return day


@pytest.fixture
def pv_plant(tmp_path, monkeypatch):
    return build_lake(tmp_path, monkeypatch, PV_PLANT, pv_day())


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
    assert {s["name"]: s["data"] for s in spec["idle"]} == {"day shift": [32.0 * DAYS],
                                                               "night shift": [16.0 * DAYS]}
    table = r.text[r.text.index('id="energy-idle"'):]
    line = re.search(r'<p class="meta" id="energy-factor">(.*?)</p>', r.text).group(1)
    factor = float(re.search(r" ([0-9.]+) kgCO2/kWh", line).group(1))
    assert "grid.location.CN" in line  # the shipped set's national factor, named with its source
    assert f"{48.0 * DAYS * factor / 1000:.2f}" in table  # total idle tCO2e
    assert 'id="energy-anomalies"' in r.text and 'id="energy-no-production"' not in r.text


def test_kpis_per_line_and_shift_on_the_page_in_both_languages(world, lake, monkeypatch):
    monkeypatch.setenv("ZEROCARBON_PRODUCTION", str(lake))
    r = browser(world, "viewer", "en").get(f"/web/orgs/{ORG}/energy", params={"from": "2026-08-04", "to": "2026-08-04"})
    table = r.text[r.text.index('id="energy-kpis"'):r.text.index("</table>", r.text.index('id="energy-kpis"'))]
    assert "Energy per line and shift" in r.text and "2026-08-04" in table and "SMT1" in table
    assert ">115<" in table and ">400<" in table and ">0.288<" in table  # day shift: kWh, units, kWh per unit
    zh = browser(world, "viewer", "zh-CN").get(f"/web/orgs/{ORG}/energy", params={"from": "2026-08-04",
                                                                                  "to": "2026-08-04"}).text
    assert "按产线和班次的能耗" in zh and "产量" in zh
    assert 'id="energy-product-kpis"' not in r.text  # the counts name no products


def product_counts(counts: Path, folder: Path, x1_share: float, monkeypatch) -> Path:
    """The counts of ``counts`` split between products X1 (``x1_share`` of the units) and X2; the server's."""
    made = pd.read_csv(counts)
    products = folder / "products.csv"
    pd.concat([made.assign(product="X1", units=made["units"] * x1_share),
               made.assign(product="X2", units=made["units"] * (1 - x1_share))]).to_csv(products, index=False)
    monkeypatch.setenv("ZEROCARBON_PRODUCTION", str(products))
    return products


def test_kpis_per_product_on_the_page_in_both_languages(world, lake, monkeypatch, tmp_path):
    product_counts(lake, tmp_path, 0.75, monkeypatch)
    day = {"from": "2026-08-04", "to": "2026-08-04"}
    r = browser(world, "viewer", "en").get(f"/web/orgs/{ORG}/energy", params=day)
    lines = r.text[r.text.index('id="energy-kpis"'):r.text.index("</table>", r.text.index('id="energy-kpis"'))]
    assert "<th>Product</th>" in lines and ">X1<" in lines and ">X2<" in lines
    table = r.text[r.text.index('id="energy-product-kpis"'):]
    table = table[:table.index("</table>")]
    # SMT1's day shift, 115.2 kWh for 400 units: X1 made 300 of them
    assert "Energy per product" in r.text and ">86.4<" in table and ">300<" in table and ">0.288<" in table
    zh = browser(world, "viewer", "zh-CN").get(f"/web/orgs/{ORG}/energy", params=day).text
    assert "各产品能耗" in zh and "<th>产品</th>" in zh


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
def test_energy_flows_sankey_counts_main_and_sub_meters_once_with_the_unmetered_rest(world, plant):
    """Defect guarded: a revenue meter placed in an area, or a hall sub-main above its lines, must not add to its
    sub-meters; what they do not measure is an explicit unmetered node."""
    c = browser(world, "viewer")
    r = c.get(f"/web/orgs/{ORG}/energy", params={"site": "HF01"})
    assert r.status_code == 200, r.text
    f = chart(r.text)["flows"]
    kwh = sum(line_day()[0])
    site = DAYS * (kwh + 96 * (2 + 1 + 3 + 5))
    nodes = {n["id"]: n for n in f["nodes"]}
    links = {(lk["source"], lk["target"]): lk["value"] for lk in f["links"]}
    assert f["unit"] == "kWh" and f["total"] == pytest.approx(site)
    assert links == pytest.approx({
        ("HF01 › grid import", "HF01"): site,  # the revenue meter is the site's supply, drawn left of it
        ("HF01", "HF01 › SMT hall"): DAYS * (kwh + 96 * 3), ("HF01", "HF01 › test hall"): DAYS * 96 * 3,
        ("HF01", "HF01 › unmetered"): DAYS * 96 * 5,
        ("HF01 › SMT hall", "HF01 › SMT hall › SMT1"): DAYS * kwh,
        ("HF01 › SMT hall", "HF01 › SMT hall › SMT2"): DAYS * 96 * 2,
        ("HF01 › SMT hall", "HF01 › SMT hall › unmetered"): DAYS * 96 * 1,
        ("HF01 › test hall", "HF01 › test hall › TEST1"): DAYS * 96 * 3})
    # the lines and both remainders add up to the revenue meter: nothing counted twice, nothing lost
    lines = sum(v for (_, t), v in links.items() if nodes[t]["level"] == "line")
    unmetered = sum(v for (_, t), v in links.items() if nodes[t]["level"] == "unmetered")
    assert lines + unmetered == pytest.approx(site)
    assert nodes["HF01"]["meters"] == ["MAIN"] and not nodes["HF01 › test hall"]["metered"]
    assert not any(n["level"] == "asset" for n in f["nodes"])
    # the table under the chart gives the same numbers, and the chart's script is there
    assert f'data-node="HF01 › SMT hall › unmetered" data-value="{DAYS * 96 * 1.0:.3f}"' in r.text
    assert 'id="energy-flows"' in r.text and 'id="energy-flow-warnings"' not in r.text


def test_energy_flows_down_to_assets_and_for_gas(world, plant):
    c = browser(world, "viewer", "zh-CN")
    r = c.get(f"/web/orgs/{ORG}/energy", params={"site": "HF01", "level": "asset"})
    f = chart(r.text)["flows"]
    assert {n["id"]: n["value"] for n in f["nodes"]}["HF01 › SMT hall › SMT2 › reflow oven"] == pytest.approx(
        DAYS * 96 * 2)
    assert "能流图" in r.text and "自身电表" in r.text
    r = c.get(f"/web/orgs/{ORG}/energy", params={"site": "HF01", "medium": "gas"})
    f = chart(r.text)["flows"]
    assert (f["medium"], f["unit"], f["total"]) == ("gas", "Nm3", pytest.approx(DAYS * 96 * 0.5))
    assert [n["id"] for n in f["nodes"]] == ["HF01", "HF01 › boiler house"]
    r = c.get(f"/web/orgs/{ORG}/energy", params={"site": "HF01", "medium": "water"})
    assert r.status_code == 200 and 'id="energy-flow-error"' in r.text and "no water meter" in r.text
    assert chart(r.text)["flows"] is None and 'id="energy-load"' in r.text


def test_sub_meters_above_the_main_meter_are_a_warning_on_the_page(world, tmp_path, monkeypatch):
    kwh, _ = line_day()
    build_lake(tmp_path, monkeypatch, REGISTRY + "L9,HF01,SMT9,kWh,15,Asia/Shanghai,false\n",
               {"L1": kwh, "MAIN": [k + 5 for k in kwh], "L9": [10.0] * 96})
    r = browser(world, "viewer").get(f"/web/orgs/{ORG}/energy")
    warning = re.search(r'id="energy-flow-warnings">(.*?)</div>', r.text, re.S).group(1)
    assert 'data-kind="children_exceed_meter"' in warning and f"{DAYS * 96 * 5:,.0f} kWh more" in warning
    assert "HF01 › unmetered" not in r.text


def test_interval_load_profile_with_base_and_peak(world, lake):
    c = browser(world, "viewer")
    r = c.get(f"/web/orgs/{ORG}/energy", params={"from": "2026-08-04", "to": "2026-08-04"})
    p = chart(r.text)["profile"]
    kwh, _ = line_day()
    assert p["resolution"] == "interval" and len(p["stamps"]) == 96
    assert p["stamps"][0] == "2026-08-04T00:00:00+08:00"
    assert p["kw"] == pytest.approx([4 * (k + 5) for k in kwh])
    assert (p["base_kw"], p["peak_kw"]) == pytest.approx((20.4, 60.0))
    hourly = chart(c.get(f"/web/orgs/{ORG}/energy", params={"resolution": "hour"}).text)["profile"]
    assert hourly["resolution"] == "hour" and len(hourly["stamps"]) == 24 * DAYS
    assert hourly["kw"][8] == pytest.approx(60.0) and hourly["kw"][10] == pytest.approx(36.0)
    assert 'id="energy-interval"' in r.text and "Load profile [kW, per interval]" in r.text
    r = c.get(f"/web/orgs/{ORG}/energy", params={"resolution": "minute"})
    assert r.status_code == 400 and "minute" in r.text


@pytest.mark.slow
def test_energy_charts_and_sankey_draw_in_a_browser(page, tmp_path, monkeypatch):
    """Defect guarded: the vendored ECharts build lacked the sankey series, so the flows chart stayed blank."""
    pg, base, _ = page
    # with rooftop PV: the Sankey draws it as a supply beside the grid import
    pv = [12.0 if 32 <= i < 64 else 0.0 for i in range(96)]
    build_lake(tmp_path, monkeypatch, PLANT + "PV,HF01,roof,,,pv,kWh,15,Asia/Shanghai,false\n",
               {**plant_day(), "PV": pv})
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    test_web_browser._login(pg, base)
    pg.goto(f"{base}/web/orgs/{ORG}/energy?level=asset")
    pg.wait_for_load_state("load")
    for chart_id in ("energy-profile", "energy-interval", "energy-flows"):
        # generous: on a loaded 2-core machine parsing the 1 MB chart library alone can take seconds
        try:
            pg.wait_for_selector(f"#{chart_id}[data-ready='1'] canvas", timeout=60_000)
        except Exception as exc:
            raise AssertionError(f"chart {chart_id} not drawn; script errors: {errors}") from exc
    assert errors == []
    assert "光伏发电" in pg.inner_text("#energy-flow-table") and "revenue meters" not in pg.inner_text("main")
    test_web_browser.SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(test_web_browser.SHOTS / "energy-zh.png"), full_page=True)


def test_rooftop_pv_is_a_supply_of_the_site_not_a_metering_fault(world, pv_plant):
    """Defect guarded: the lines measured grid import + PV and the page warned that they measure the PV's energy
    more than the revenue meter (check CT ratios)."""
    kwh, _ = line_day()
    grid = DAYS * (sum(kwh) + 96 * 41 - 32 * 12)
    pv, consumed = DAYS * 32 * 12, DAYS * (sum(kwh) + 96 * 41)
    r = browser(world, "viewer").get(f"/web/orgs/{ORG}/energy")
    assert r.status_code == 200, r.text
    assert 'id="energy-flow-warnings"' not in r.text and "CT ratio" not in r.text
    f = chart(r.text)["flows"]
    links = {(lk["source"], lk["target"]): lk["value"] for lk in f["links"]}
    assert f["total"] == pytest.approx(consumed) and f["generation"] == pytest.approx(pv)
    assert links[("HF01 › grid import", "HF01")] == pytest.approx(grid)
    assert links[("HF01 › generation", "HF01")] == pytest.approx(pv)
    assert links[("HF01", "HF01 › unmetered")] == pytest.approx(DAYS * 96)
    assert "HF01 › roof" not in {n["id"] for n in f["nodes"]}
    # the tiles say which figure is which: grid import (the CLI report's number) beside site consumption
    tiles = re.search(r'id="energy-load">(.*?)</div>\s*<p', r.text, re.S).group(1)
    assert f"Grid import</span><strong>{grid:,.0f}</strong>" in tiles
    assert f"Site consumption</span><strong>{consumed:,.0f}</strong>" in tiles
    assert "without an export meter all generation counts as consumed on site" in r.text


def test_an_export_meter_takes_exported_pv_out_of_the_site_consumption_on_the_page(world, tmp_path, monkeypatch):
    build_lake(tmp_path, monkeypatch, PV_PLANT + "PVX,HF01,roof,,pv,kWh,15,Asia/Shanghai,true\n", pv_day(True))
    kwh, _ = line_day()
    r = browser(world, "viewer").get(f"/web/orgs/{ORG}/energy")
    f = chart(r.text)["flows"]
    links = {(lk["source"], lk["target"]): lk["value"] for lk in f["links"]}
    assert f["export"] == pytest.approx(DAYS * 32 * 2) and f["total"] == pytest.approx(DAYS * (sum(kwh) + 96 * 41))
    assert links[("HF01 › generation", "HF01 › export")] == pytest.approx(DAYS * 32 * 2)
    assert links[("HF01 › generation", "HF01")] == pytest.approx(DAYS * 32 * 10)
    assert 'id="energy-flow-warnings"' not in r.text


def test_the_chinese_energy_page_has_no_english_words_of_the_services(world, pv_plant, monkeypatch):
    monkeypatch.setenv("ZEROCARBON_PRODUCTION", str(pv_plant))
    r = browser(world, "viewer", "zh-CN").get(f"/web/orgs/{ORG}/energy")
    assert r.status_code == 200, r.text
    body = r.text[r.text.index("<main"):]
    visible = re.sub(r"<script.*?</script>|<[^>]+>", " ", body, flags=re.S)
    for english in ("revenue meters", "sum of the lines", "unmetered", "electricity", ">pv<", "day", "night"):
        assert english not in visible, english
    assert "关口表（电网购入）" in visible and "白班" in visible and "夜班" in visible
    assert '<option value="pv">光伏发电</option>' in body and '<option value="electricity" selected>电力</option>' in body
    assert "电网购入电量" in visible and "厂区用电量" in visible
    words = chart(r.text)["words"]
    assert (words["import"], words["generation"], words["unmetered"]) == ("电网购入", "光伏发电", "未计量 / 损耗")


def test_numbers_have_thousands_separators_and_sensible_decimals(world, pv_plant, monkeypatch):
    monkeypatch.setenv("ZEROCARBON_PRODUCTION", str(pv_plant))
    for lang in ("en", "zh-CN"):
        r = browser(world, "viewer", lang).get(f"/web/orgs/{ORG}/energy")
        table = r.text[r.text.index('id="energy-idle"'):r.text.index("</table>", r.text.index('id="energy-idle"'))]
        hours = re.findall(r'<td class="num">([^<]*)</td><td class="num">[^<]*</td></tr>', table)
        assert hours and all(re.fullmatch(r"[0-9,]+\.[0-9]", h) for h in hours), hours
        flow = r.text[r.text.index('id="energy-flow-table"'):]
        cells = re.findall(r'<td class="num">([^<]*)</td>', flow[:flow.index("</table>")])
        big = [c for c in cells if float(c.replace(",", "")) > 1000]
        assert big and all("," in c and "." not in c for c in big), cells


def test_num_filter_formats_with_separators_and_decimals():
    from zerocarbon.web.formatting import qty

    assert qty(3174017.652) == "3,174,018" and qty(1903.5, 1) == "1,903.5" and qty(12.345) == "12.3"
    assert qty(0.0123) == "0.01" and qty(2.5, 2) == "2.50" and qty(None) == "–" and qty(-0.01, 1) == "0.0"
