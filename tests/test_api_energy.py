"""The energy API /api/v1/orgs/{org}/energy/... on the plant lake of tests/test_web_energy.py: the report is what
`zerocarbon energy report --json` gives for the same site and period, the flows add up to the site's revenue
meter with the unmetered remainders, roll-ups per site, area and line, the interval profile, the problems of a
bad request (parameter named) and of a server without meter data, and the roles that may read."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.api_support import logged_in
from tests.helpers import line_day
from tests import test_web_energy
from tests.test_web_energy import DAYS, PLANT, PV_PLANT, build_lake, plant_day, product_counts, pv_day
from zerocarbon.cli import app as cli
from zerocarbon.core.access import Role, allowed
from zerocarbon.services import meter_import

ORG = "ORG"
API = f"/api/v1/orgs/{ORG}/energy"
# the energy page's fixtures: ORG with one member per role, no meter data configured, cheap password hashes
world, cheap_hashes = test_web_energy.world, test_web_energy.cheap_hashes


@pytest.fixture
def plant(tmp_path, monkeypatch):
    prod = build_lake(tmp_path, monkeypatch, PLANT, plant_day())
    monkeypatch.setenv("ZEROCARBON_PRODUCTION", str(prod))
    return tmp_path, prod


def api(world, role: str = "viewer"):
    return logged_in(world, f"{role}@acme.cn")


def cli_report(tmp_path, prod, *period) -> dict:
    # HF01 of the test organisation: 安徽, grid region east; the API takes them from the organisation
    r = CliRunner().invoke(cli, ["energy", "report", "--lake", str(tmp_path / "lake"), "--registry",
                                 str(tmp_path / "meters.csv"), "--site", "HF01", *period, "--production", str(prod),
                                 "--factors", "CN-2025.1", "--province", "安徽", "--grid-region", "east", "--org", ORG, "--out",
                                 str(tmp_path / "cli"), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize("period", [(), ("2026-08-04", "2026-08-05")])
def test_report_is_what_the_cli_reports_for_the_same_site_and_period(world, plant, period):
    tmp_path, prod = plant
    args = ("--from", period[0], "--to", period[1]) if period else ()
    expected = cli_report(tmp_path, prod, *args)
    params = {"site": "HF01", **({"from": period[0], "to": period[1]} if period else {})}
    r = api(world).get(f"{API}/report", params=params)
    assert r.status_code == 200, r.text
    got = r.json()
    expected.pop("files")
    assert got.pop("shifts") == [{"name": n, "start_hour": a, "end_hour": b} for n, a, b in expected.pop("shifts")]
    assert got == expected
    # the numbers behind the comparison are the plant's: not two empty reports
    kwh, _ = line_day()
    days = 2 if period else DAYS
    assert got["site_load"]["kwh"] == pytest.approx(days * (sum(kwh) + 96 * 11))
    assert {row["name"] for row in got["lines"]} == {"SMT1", "SMT2", "TEST1"}
    assert {(i["line"], i["shift"]): i["idle_kwh"] for i in got["idle"] if i["line"] == "SMT1"} == pytest.approx(
        {("SMT1", "day"): 32.0 * days, ("SMT1", "night"): 16.0 * days})
    assert got["idle_total_co2_kg"] == pytest.approx(got["idle_total_kwh"] * got["grid_factor"]["kg_per_kwh"])
    assert "CN-2025.1" in got["grid_factor"]["source"] or "grid.location" in got["grid_factor"]["source"]
    assert got["kwh_per_unit"] and got["kwh_per_unit"][0]["line"] == "SMT1"


def test_flows_add_up_to_the_site_total_with_the_unmetered_nodes(world, plant):
    c = api(world, "auditor")
    f = c.get(f"{API}/flows", params={"site": "HF01"}).json()
    site = c.get(f"{API}/report", params={"site": "HF01"}).json()["site_load"]["kwh"]
    levels = {n["id"]: n["level"] for n in f["nodes"]}
    lines = [lk["value"] for lk in f["links"] if levels[lk["target"]] == "line"]
    unmetered = [lk["value"] for lk in f["links"] if levels[lk["target"]] == "unmetered"]
    assert f["total"] == pytest.approx(site) and len(lines) == 3 and len(unmetered) == 2
    assert sum(lines) + sum(unmetered) == pytest.approx(site)
    assert unmetered == pytest.approx([DAYS * 96 * 5, DAYS * 96 * 1]) and f["warnings"] == []
    days = c.get(f"{API}/rollup", params={"site": "HF01", "by": "site", "freq": "day"}).json()
    assert sum(d["value"] for d in days) == pytest.approx(f["total"])
    deep = c.get(f"{API}/flows", params={"level": "asset"}).json()
    assert "HF01 › SMT hall › SMT2 › reflow oven" in {n["id"] for n in deep["nodes"]}
    gas = c.get(f"{API}/flows", params={"medium": "gas", "from": "2026-08-03", "to": "2026-08-03"}).json()
    assert (gas["unit"], gas["total"]) == ("Nm3", pytest.approx(96 * 0.5))


def test_rollup_per_site_area_and_line(world, plant):
    c = api(world, "planner")
    kwh, _ = line_day()
    site = c.get(f"{API}/rollup", params={"by": "site", "freq": "day"}).json()
    assert [(r["period"], r["basis"]) for r in site] == [(f"2026-08-0{d}", "revenue meters") for d in (3, 4, 5)]
    assert site[0]["value"] == pytest.approx(sum(kwh) + 96 * 11)
    areas = c.get(f"{API}/rollup", params={"by": "area", "freq": "month"}).json()
    assert {(r["name"], r["basis"]): r["value"] for r in areas} == pytest.approx({
        ("SMT hall", "own meters"): DAYS * (sum(kwh) + 96 * 3), ("test hall", "sum of the parts"): DAYS * 96 * 3})
    assert {r["period"] for r in areas} == {"2026-08-01"}
    lines = c.get(f"{API}/rollup", params={"by": "line", "freq": "hour", "from": "2026-08-04",
                                           "to": "2026-08-04"}).json()
    smt1 = [r for r in lines if r["name"] == "SMT1"]
    assert len(smt1) == 24 and smt1[8] == {**smt1[8], "period": "2026-08-04T08:00:00+08:00", "value": 40.0}
    assert {r["node"] for r in lines} == {"HF01 › SMT hall › SMT1", "HF01 › SMT hall › SMT2",
                                          "HF01 › test hall › TEST1"}


def test_interval_profile_and_sites(world, plant):
    c = api(world)
    p = c.get(f"{API}/profile", params={"from": "2026-08-05", "to": "2026-08-05"}).json()
    load = c.get(f"{API}/report", params={"from": "2026-08-05", "to": "2026-08-05"}).json()["site_load"]
    assert p["resolution"] == "interval" and len(p["kw"]) == 96 and p["timezone"] == "Asia/Shanghai"
    assert (p["base_kw"], p["peak_kw"], p["peak_at"]) == (load["base_kw"], load["peak_kw"], load["peak_at"])
    assert sum(p["kw"]) / 4 == pytest.approx(load["kwh"])
    assert len(c.get(f"{API}/profile", params={"resolution": "day"}).json()["kw"]) == DAYS
    s = c.get(f"{API}/sites").json()
    assert s["production_configured"] and [x["site"] for x in s["sites"]] == ["HF01"]
    assert s["sites"][0]["areas"] == ["SMT hall", "boiler house", "substation", "test hall"]
    assert s["sites"][0]["media"] == ["electricity", "gas"] and s["sites"][0]["revenue_meters"] == ["MAIN"]


@pytest.mark.parametrize("path,params,column", [
    ("report", {"from": "2026-13-01"}, "from"),
    ("flows", {"to": "yesterday"}, "to"),
    ("rollup", {"by": "workshop"}, "by"),
    ("rollup", {"freq": "week"}, "freq"),
    ("flows", {"level": "meter"}, "level"),
    ("profile", {"resolution": "minute"}, "resolution"),
])
def test_bad_query_is_a_problem_naming_the_parameter(world, plant, path, params, column):
    r = api(world).get(f"{API}/{path}", params=params)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    (item,) = r.json()["problems"]
    assert (item["file"], item["column"]) == ("query", column)


def test_unknown_site_period_without_data_and_missing_medium(world, plant):
    c = api(world)
    r = c.get(f"{API}/report", params={"site": "NOPE"})
    assert r.status_code == 400 and r.json()["problems"][0]["column"] == "site" and "NOPE" in r.text
    r = c.get(f"{API}/flows", params={"from": "2026-08-05", "to": "2026-08-03"})
    assert r.status_code == 400 and r.json()["problems"][0]["column"] == "to"
    r = c.get(f"{API}/report", params={"from": "2027-01-01"})
    assert r.status_code == 404 and "no readings" in r.json()["detail"]
    r = c.get(f"{API}/flows", params={"medium": "water"})
    assert r.status_code == 400 and r.json()["problems"][0]["file"] == "medium"


@pytest.mark.parametrize("path", ["sites", "report", "profile", "rollup", "flows"])
def test_without_meter_data_on_the_server_every_endpoint_says_so(world, path):
    r = api(world).get(f"{API}/{path}")
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert "ZEROCARBON_LAKE" in r.json()["detail"] and "ZEROCARBON_METERS" in r.json()["detail"]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_roles_read_the_energy_api_exactly_as_energy_read_allows(world, plant, role):
    r = api(world, role).get(f"{API}/flows")
    assert r.status_code == (200 if allowed(role, "energy.read") else 403), r.text


def test_hourly_line_rollup_keeps_both_hours_of_a_dst_fall_back_in_time_order(world, tmp_path, monkeypatch):
    reg = tmp_path / "meters.csv"
    reg.write_text("id,site,area,line,unit,interval_min,timezone,revenue\n"
                   "P1,DE01,press shop,PRESS,kWh,15,Europe/Berlin,false\n", encoding="utf-8")
    ts = pd.date_range("2026-10-24 22:00", periods=25 * 4, freq="15min", tz="UTC")  # local 25 October: 25 hours
    readings = tmp_path / "readings.csv"
    pd.DataFrame({"meter": "P1", "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S+00:00"), "value": 1.0}) \
        .to_csv(readings, index=False)
    meter_import.import_file(tmp_path / "lake", ORG, meter_import.read_registry(reg), readings)
    monkeypatch.setenv("ZEROCARBON_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("ZEROCARBON_METERS", str(reg))
    rows = api(world).get(f"{API}/rollup", params={"by": "line", "freq": "hour"}).json()
    assert len(rows) == 25 and all(r["value"] == 4.0 for r in rows)
    assert [r["period"] for r in rows[2:4]] == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]


def test_a_line_meter_and_its_asset_sub_meter_are_not_added_up(world, tmp_path, monkeypatch):
    """Defect guarded: the report added every meter of a line, so an oven sub-meter under the line's own meter
    counted twice in the line's kWh."""
    kwh, _ = line_day()
    build_lake(tmp_path, monkeypatch, "id,site,line,asset,unit,interval_min,timezone,revenue\n"
                                      "MAIN,HF01,,,kWh,15,Asia/Shanghai,true\n"
                                      "L1,HF01,SMT1,,kWh,15,Asia/Shanghai,false\n"
                                      "OVEN,HF01,SMT1,reflow oven,kWh,15,Asia/Shanghai,false\n",
               {"MAIN": [k + 5 for k in kwh], "L1": kwh, "OVEN": [k / 2 for k in kwh]})
    c = api(world)
    (line,) = c.get(f"{API}/report").json()["lines"]
    assert (line["name"], line["kwh"]) == ("SMT1", pytest.approx(DAYS * sum(kwh)))
    f = c.get(f"{API}/flows", params={"level": "asset"}).json()
    links = {lk["target"]: lk["value"] for lk in f["links"]}
    assert links["HF01 › SMT1"] == pytest.approx(DAYS * sum(kwh))
    assert links["HF01 › SMT1 › reflow oven"] == pytest.approx(links["HF01 › SMT1 › unmetered"])


def test_flows_with_rooftop_pv_are_the_pages_and_the_report_stays_grid_import(world, tmp_path, monkeypatch):
    build_lake(tmp_path, monkeypatch, PV_PLANT + "PVX,HF01,roof,,pv,kWh,15,Asia/Shanghai,true\n", pv_day(True))
    kwh, _ = line_day()
    c = api(world)
    f = c.get(f"{API}/flows").json()
    grid = DAYS * (sum(kwh) + 96 * 41 - 32 * 12 + 32 * 2)
    assert f["grid_import"] == pytest.approx(grid) and f["generation"] == pytest.approx(DAYS * 32 * 12)
    assert f["export"] == pytest.approx(DAYS * 32 * 2) and f["self_consumption"] == pytest.approx(DAYS * 32 * 10)
    assert f["total"] == pytest.approx(DAYS * (sum(kwh) + 96 * 41)) and f["warnings"] == []
    levels = {n["id"]: n["level"] for n in f["nodes"]}
    assert levels["HF01 › grid import"] == "import" and levels["HF01 › export"] == "export"
    # the report's site kWh is the revenue meter's grid import, not the consumption
    assert c.get(f"{API}/report").json()["site_load"]["kwh"] == pytest.approx(grid)


def test_kpis_per_line_and_shift_are_the_clis(world, plant, tmp_path):
    """kWh per line and shift with units made: the endpoint gives what `zerocarbon meters kpis --json` gives."""
    root, prod = plant
    got = api(world, "auditor").get(f"{API}/kpis", params={"from": "2026-08-04", "to": "2026-08-04"}).json()
    smt1 = {r["shift"]: r for r in got if r["line"] == "SMT1" and r["period"] == "2026-08-04"}
    # line_day(): 08:00-10:00 at 10 kWh and 50 units per interval, 10:00-12:00 idle at 4 kWh, 0.1 kWh otherwise
    assert smt1["day"]["kwh"] == pytest.approx(8 * 10 + 8 * 4 + 32 * 0.1)
    assert smt1["day"]["units"] == 400 and smt1["day"]["kwh_per_unit"] == pytest.approx(115.2 / 400)
    assert smt1["night"]["intervals"] == 48  # 20:00 to 08:00 on the 5th: a shift is whole, selected by its first day
    r = CliRunner().invoke(cli, ["meters", "kpis", "--registry", str(root / "meters.csv"), "--lake", str(root / "lake"),
                                 "--production", str(prod), "--from", "2026-08-04", "--to", "2026-08-04",
                                 "--org", ORG, "--json"])
    assert r.exit_code == 0, r.output
    # the counts name no products: the endpoint's product is null, the CLI leaves the column out
    assert all(row.pop("product") is None for row in got)
    assert [{k: v for k, v in row.items() if k != "site"} for row in json.loads(r.stdout)] == got
    bad = api(world).get(f"{API}/kpis", params={"shifts": "day=8-20"})
    assert bad.status_code == 400 and "every hour" in bad.text


def test_kpis_per_product_are_the_clis(world, plant, tmp_path, monkeypatch):
    """Counts that name products share each line's kWh in a shift by units; per product, as the CLI gives it."""
    root, prod = plant
    none = api(world, "auditor").get(f"{API}/product-kpis")
    assert none.status_code == 400 and "name no product" in none.text
    products = product_counts(prod, tmp_path, 0.6, monkeypatch)
    day = {"from": "2026-08-04", "to": "2026-08-04"}
    got = api(world, "auditor").get(f"{API}/product-kpis", params=day).json()
    by = {r["product"]: r for r in got}
    # SMT1's day shift: 115.2 kWh for 400 units, 60 % of them X1
    assert by["X1"]["kwh"] == pytest.approx(115.2 * 0.6) and by["X1"]["units"] == pytest.approx(240)
    assert by["X2"]["kwh_per_unit"] == pytest.approx(115.2 / 400)
    lines = api(world, "auditor").get(f"{API}/kpis", params=day).json()
    smt1_day = [r for r in lines if r["line"] == "SMT1" and r["shift"] == "day"]
    assert sorted(r["product"] for r in smt1_day) == ["X1", "X2"]
    assert sum(r["kwh"] for r in smt1_day) == pytest.approx(115.2)
    assert [r["product"] for r in lines if r["line"] == "SMT1" and r["shift"] == "night"] == [None]  # made nothing
    r = CliRunner().invoke(cli, ["meters", "kpis", "--registry", str(root / "meters.csv"), "--lake", str(root / "lake"),
                                 "--production", str(products), "--from", "2026-08-04", "--to", "2026-08-04",
                                 "--per", "product", "--org", ORG, "--json"])
    assert r.exit_code == 0, r.output
    assert [{k: v for k, v in row.items() if k != "site"} for row in json.loads(r.stdout)] == got
    # Counts of one day only: a month's figure is that day's; the other days' shifts made nothing, and their
    # energy is in no product.
    one_day = pd.read_csv(products)
    one_day[one_day["timestamp"].str.startswith("2026-08-04")].to_csv(products, index=False)
    month = api(world, "auditor").get(f"{API}/product-kpis", params={"freq": "month"}).json()
    assert {r["product"]: round(r["kwh"], 6) for r in month} == {"X1": round(115.2 * 0.6, 6),
                                                                 "X2": round(115.2 * 0.4, 6)}
