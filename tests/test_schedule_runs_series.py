"""Schedule runs on a grid carbon-intensity series (shipped or uploaded) and with stated operating days, through the
service, the API, the jobs route and the web form."""
from __future__ import annotations

import io
import json

import pytest

from tests.api_support import PASSWORD, client, load_org, logged_in, person
from zerocarbon.errors import InputError
from zerocarbon.services import audit, jobs, schedule_runs
from zerocarbon.services.demo_plant import laptop_week

ORG = "ORG"
SHIPPED = "gb_national_2023"
HEADER = "timestamp,value,unit,source,method\n"


@pytest.fixture
def world(sessions, tmp_path, cheap_passwords, monkeypatch):
    monkeypatch.setenv(jobs.DATA_ENV, str(tmp_path / "data"))
    monkeypatch.delenv(jobs.REDIS_ENV, raising=False)
    load_org(sessions, ORG)
    for role in ("planner", "viewer"):
        person(sessions, f"{role}@acme.cn", ORG, role)
    week = tmp_path / "week.json"
    # Three orders: CP-SAT proves its plans optimal within the time limit.
    week.write_text(json.dumps(laptop_week(n_orders=3)), encoding="utf-8")
    return sessions, week


def _series_csv(start_day: int = 3, days: int = 8, bad_row: int | None = None) -> bytes:
    """An hourly series over August 2026 from the 3rd (the demo week's dates, +08:00): a made-up test input whose
    values follow the hour of day, with ``bad_row`` (file row, header = 1) holding a value that is not a number."""
    lines = [HEADER]
    for h in range(days * 24):
        value = "lots" if bad_row == h + 2 else str(300 + 200 * ((h % 24) >= 12))
        lines.append(f"2026-08-{start_day + h // 24:02d}T{h % 24:02d}:00+08:00,{value},gCO2/kWh,test grid,average\n")
    return "".join(lines).encode()


def _post(c, week, url="schedules", files=None, **data):
    return c.post(f"/api/v1/orgs/{ORG}/{url}", files={"problem": (week.name, week.read_bytes()), **(files or {})},
                  data={"time_limit": 1, "objective": "carbon", **data})


def test_a_shipped_series_is_applied_recorded_and_changes_the_carbon_of_the_plans(world):
    sessions, week = world
    c = logged_in(sessions, "planner@acme.cn")
    own = _post(c, week)
    shipped = _post(c, week, carbon_series=SHIPPED)
    assert own.status_code == 201 and shipped.status_code == 201, shipped.text
    assert own.json()["summary"]["carbon_series"] is None
    assert shipped.json()["summary"]["carbon_series"] == f"shipped:{SHIPPED}"
    a = c.get(f"/api/v1/orgs/{ORG}/schedules/{own.json()['id']}").json()["result"]
    b = c.get(f"/api/v1/orgs/{ORG}/schedules/{shipped.json()['id']}").json()["result"]
    assert a["carbon_series"] is None
    used = b["carbon_series"]
    assert used["name"] == SHIPPED and used["shipped"] and used["spec"] == f"shipped:{SHIPPED}"
    assert used["source"].startswith("NESO") and "average" in used["method"] and used["unit"] == "kgCO2/kWh"
    # The demo week (2026-08-03, +08:00) is outside the 2023 series: the same dates of 2023 are used.
    assert used["used_from"].startswith("2023-08-0") and used["shift_days"] < 0 and "2023" in used["note"]
    # The bands and every plan's carbon follow the series, not the problem file's values.
    assert [v for _, _, v in b["bands"]["carbon"]] != [v for _, _, v in a["bands"]["carbon"]]
    assert max(v for _, _, v in b["bands"]["carbon"]) < 0.4  # GB 2023 is under 0.3 kg/kWh
    base_a = a["plans"]["edd_always_on"]["kpis"]
    base_b = b["plans"]["edd_always_on"]["kpis"]
    assert base_a["grid_kwh"] == pytest.approx(base_b["grid_kwh"])  # the same plan, other intensities
    assert base_a["co2_kg"] != pytest.approx(base_b["co2_kg"], rel=1e-3)
    entry = next(e for e in audit.log(sessions, ORG) if e.entity == f"schedule:{shipped.json()['id']}")
    assert entry.detail["carbon_series"] == f"shipped:{SHIPPED}"


def test_an_uploaded_series_is_applied_with_its_file_hash(world):
    sessions, week = world
    c = logged_in(sessions, "planner@acme.cn")
    r = _post(c, week, files={"carbon_series_file": ("site-grid.csv", _series_csv())})
    assert r.status_code == 201, r.text
    result = c.get(f"/api/v1/orgs/{ORG}/schedules/{r.json()['id']}").json()["result"]
    used = result["carbon_series"]
    assert used["spec"] == "site-grid.csv" and not used["shipped"] and used["shift_days"] == 0
    assert used["source"] == "test grid" and len(used["sha256"]) == 64
    # 300 g before noon, 500 g after, on the problem's own clock.
    assert {v for _, _, v in result["bands"]["carbon"]} == {0.3, 0.5}


def test_a_bad_series_is_refused_with_its_row_and_column_and_nothing_is_stored(world, tmp_path):
    sessions, week = world
    c = logged_in(sessions, "planner@acme.cn")
    r = _post(c, week, files={"carbon_series_file": ("grid.csv", _series_csv(bad_row=5))})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    (p,) = r.json()["problems"]
    assert (p["file"], p["row"], p["column"]) == ("grid.csv", 5, "value"), p
    short = _post(c, week, files={"carbon_series_file": ("short.csv", _series_csv(days=2))})
    assert short.status_code == 400
    assert [(p["file"], p["column"]) for p in short.json()["problems"]] == [("short.csv", "start")]
    unknown = _post(c, week, carbon_series="../../etc/passwd")
    assert unknown.status_code == 400 and "no shipped series" in unknown.json()["problems"][0]["reason"]
    both = _post(c, week, carbon_series=SHIPPED, files={"carbon_series_file": ("grid.csv", _series_csv())})
    assert both.status_code == 400 and both.json()["problems"][0]["column"] == "carbon_series"
    # The same through the jobs route: refused before anything is queued, no upload left behind.
    queued = _post(c, week, url="jobs/schedule", files={"carbon_series_file": ("grid.csv", _series_csv(bad_row=5))})
    assert queued.status_code == 400 and queued.json()["problems"][0]["row"] == 5
    with pytest.raises(InputError) as exc:
        schedule_runs.run_plan(sessions, ORG, week, actor="t", time_limit=1, carbon_series="shipped:nowhere")
    assert exc.value.problems[0].source == "shipped:nowhere"
    assert schedule_runs.list_runs(sessions, ORG).total == 0 and jobs.list_jobs(sessions, ORG).total == 0
    assert not [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert not [e for e in audit.log(sessions, ORG) if e.action == "schedule.run"]


def test_operating_days_set_the_annualisation_factor(world):
    sessions, week = world
    c = logged_in(sessions, "planner@acme.cn")
    default = _post(c, week).json()["summary"]
    fewer = _post(c, week, operating_days=125).json()["summary"]
    assert default["annualisation"]["operating_days"] == 250 and fewer["annualisation"]["operating_days"] == 125
    days = default["annualisation"]["horizon_operating_days"]
    assert 0 < days <= default["annualisation"]["horizon_days"]
    assert default["annualisation"]["factor"] == pytest.approx(250 / days)
    assert fewer["annualisation"]["factor"] == pytest.approx(125 / days)
    for run in (default, fewer):  # the horizon's saving, scaled by the run's own factor
        saved = run["savings"]
        assert saved["grid_kwh_per_horizon"] > 0
        assert saved["grid_mwh_per_year"] == pytest.approx(saved["grid_kwh_per_horizon"] / 1000
                                                           * run["annualisation"]["factor"])
    for wrong in (400, 0):
        r = _post(c, week, operating_days=wrong)
        assert r.status_code == 400 and "operating_days" in r.text
    with pytest.raises(InputError) as exc:
        schedule_runs.run_plan(sessions, ORG, week, actor="t", time_limit=1, operating_days=0.5)
    assert exc.value.problems[0].column == "operating_days"
    assert schedule_runs.list_runs(sessions, ORG).total == 2


def test_the_jobs_route_plans_on_the_series_and_the_days_given(world, tmp_path):
    sessions, week = world
    c = logged_in(sessions, "planner@acme.cn")
    r = _post(c, week, url="jobs/schedule", operating_days=300,
              files={"carbon_series_file": ("site-grid.csv", _series_csv())})
    assert r.status_code == 202, r.text
    params = r.json()["params"]
    assert params["carbon_series"] == "site-grid.csv" and params["operating_days"] == 300
    assert not any(k.endswith("path") for k in params)
    assert jobs.run(sessions, r.json()["id"])
    done = c.get(f"/api/v1/orgs/{ORG}/jobs/{r.json()['id']}").json()
    assert done["status"] == "succeeded" and done["result"]["carbon_series"] == "site-grid.csv", done
    run = schedule_runs.get_run(sessions, ORG, done["result"]["run_id"])
    assert run.result["carbon_series"]["source"] == "test grid"
    assert run.result["annualisation"]["operating_days"] == 300
    assert not [p for p in (tmp_path / "data").rglob("*") if p.is_file()]  # the spooled series is removed


def test_shipped_series_are_listed_with_their_provenance(world):
    sessions, _ = world
    viewer = logged_in(sessions, "viewer@acme.cn")
    r = viewer.get(f"/api/v1/orgs/{ORG}/schedules/series")
    assert r.status_code == 200, r.text
    (row,) = [x for x in r.json() if x["name"] == SHIPPED]
    assert row["spec"] == f"shipped:{SHIPPED}" and row["step_min"] == 60 and row["rows"] == 7030
    assert row["source"].startswith("NESO") and row["source_unit"] == "gCO2/kWh" and row["unit"] == "kgCO2/kWh"
    assert row["start"].startswith("2023-01-01") and 0 < row["min"] < row["mean"] < row["max"]
    assert "file" not in row  # no server path


def test_the_web_form_runs_on_a_series_and_the_run_page_names_it(world):
    sessions, week = world
    page = client(sessions, follow_redirects=False)
    page.post("/web/login", data={"email": "planner@acme.cn", "password": PASSWORD})
    form = page.get(f"/web/orgs/{ORG}/schedules").text
    assert 'name="operating_days"' in form and 'name="carbon_series_file"' in form
    assert f'<option value="{SHIPPED}"' in form and "NESO" in form
    token = page.cookies.get("zc_csrf")
    r = page.post(f"/web/orgs/{ORG}/schedules",
                  data={"csrf": token, "time_limit": 1, "objective": "carbon", "operating_days": 200,
                        "carbon_series": SHIPPED},
                  files={"problem": (week.name, week.read_bytes()), "orders": ("", b""),
                         "carbon_series_file": ("", b"")})
    assert r.status_code == 303, r.text
    (job,) = jobs.list_jobs(sessions, ORG).jobs
    assert jobs.run(sessions, job.id)
    (run,) = schedule_runs.list_runs(sessions, ORG).runs
    page.get("/web/lang/en")
    assert f"Carbon: shipped:{SHIPPED}" in page.get(f"/web/orgs/{ORG}/schedules").text
    shown = page.get(f"/web/orgs/{ORG}/schedules/{run.id}").text
    assert 'id="schedule-carbon-series"' in shown and SHIPPED in shown and "NESO" in shown
    assert "200 operating days a year / 6 operating days in the 7-day horizon" in shown and "2023" in shown
    assert "Plans over the horizon (7 days)" in shown and "this week" not in shown
    # the series interval is in UTC and says so; the gas is the series' (CO2), in every table and tile
    assert "values of 2023-08-02 16:00 UTC to 2023-08-09 16:00 UTC used" in shown
    assert "tCO2/a" in shown and "kgCO2<" in shown and "tCO2e" not in shown
    assert "tCO2/a" in page.get(f"/web/orgs/{ORG}/schedules").text
    page.get("/web/lang/zh-CN")
    zh = page.get(f"/web/orgs/{ORG}/schedules/{run.id}").text
    assert "电网碳排放强度：" in zh and "每年 200 个运行日 / 7 天计划期内的 6 个运行日" in zh
    assert "本计划期各方案（7 天）" in zh and "本周" not in zh

    bad = page.post(f"/web/orgs/{ORG}/schedules", data={"csrf": token, "time_limit": 1, "operating_days": 200},
                    files={"problem": (week.name, week.read_bytes()),
                           "carbon_series_file": ("grid.csv", _series_csv(bad_row=7))})
    assert bad.status_code == 400 and 'id="problems"' in bad.text and "grid.csv" in bad.text
    assert 'value="200"' in bad.text  # the form keeps what was entered
    assert jobs.list_jobs(sessions, ORG).total == 1


def test_a_run_plan_call_and_submit_schedule_agree_on_the_series(world):
    sessions, week = world
    info = schedule_runs.run_plan(sessions, ORG, week, actor="t", time_limit=1, carbon_series=f"shipped:{SHIPPED}",
                                  operating_days=250)
    job = jobs.submit_schedule(sessions, ORG, io.BytesIO(week.read_bytes()), week.name, actor="user:planner@acme.cn",
                               time_limit=1, carbon_series=SHIPPED)
    assert job.params["carbon_series"] == f"shipped:{SHIPPED}"
    assert jobs.run(sessions, job.id)
    other = schedule_runs.get_run(sessions, ORG, jobs.get(sessions, ORG, job.id).result["run_id"])
    assert other.result["carbon_series"] == schedule_runs.get_run(sessions, ORG, info.id).result["carbon_series"]


def _day(tmp_path):
    """The demo plant cut to one day: its first 24 hourly price, carbon and PV values, lines working all day and
    two small orders (test inputs, not data)."""
    spec = laptop_week(n_orders=2)
    spec["horizon_min"] = 1440
    spec["series"] = {k: v[:24] for k, v in spec["series"].items()}
    for line in spec["lines"]:
        line["calendar"] = [[0, 1440]]
    for o in spec["orders"]:
        o.update(quantity=20, release_min=0, due_min=1440)
    path = tmp_path / "day.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_a_one_day_run_names_its_differences_per_horizon_and_old_runs_read_back(world, tmp_path):
    """Defect guarded: a 1-day run returned ``grid_kwh_per_week`` for the horizon's difference."""
    from sqlalchemy import update

    from zerocarbon.store.tables import ScheduleRunRow

    sessions, _ = world
    c = logged_in(sessions, "planner@acme.cn")
    r = _post(c, _day(tmp_path))
    assert r.status_code == 201, r.text
    summary = r.json()["summary"]
    assert summary["annualisation"]["horizon_days"] == 1 and summary["annualisation"]["horizon_operating_days"] == 1
    saved = summary["savings"]
    assert {"grid_kwh_per_horizon", "co2_kg_per_horizon", "cost_per_horizon"} <= set(saved)
    assert not any(k.endswith("_per_week") for k in saved)
    run_id = r.json()["id"]
    stored = c.get(f"/api/v1/orgs/{ORG}/schedules/{run_id}").json()
    # a run stored with the former key names reads back with the horizon's names and the same figures
    legacy = {k.replace("_per_horizon", "_per_week"): v for k, v in saved.items()}
    result = dict(stored["result"], savings={k: {kk.replace("_per_horizon", "_per_week"): vv for kk, vv in v.items()}
                                             for k, v in stored["result"]["savings"].items()})
    with sessions.begin() as s:
        s.execute(update(ScheduleRunRow).where(ScheduleRunRow.id == run_id)
                  .values(summary=dict(stored["summary"], savings=legacy), result=result))
    again = c.get(f"/api/v1/orgs/{ORG}/schedules/{run_id}").json()
    assert again["summary"]["savings"] == saved
    assert again["result"]["savings"] == stored["result"]["savings"]
    listed = c.get(f"/api/v1/orgs/{ORG}/schedules").json()
    rows = listed["runs"] if isinstance(listed, dict) else listed
    assert [x for x in rows if x["id"] == run_id][0]["summary"]["savings"] == saved


def test_the_gas_and_the_utc_interval_labels():
    from zerocarbon.web.schedule import utc

    assert schedule_runs.gas(None) == "CO2" and schedule_runs.gas({"unit": "kgCO2/kWh"}) == "CO2"
    assert schedule_runs.gas({"unit": "kgCO2e/kWh"}) == "CO2e"
    assert utc("2026-08-03T00:00:00+08:00") == "2026-08-02 16:00 UTC"
    assert utc("2023-08-02T16:00:00+00:00") == "2023-08-02 16:00 UTC"
