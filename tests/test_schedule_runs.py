"""Stored scheduler runs: planned from uploaded files, kept with the comparison on the site's local dates, read back
through the service, the API and the pages; bad files store nothing; other organisations and read-only roles are
refused."""
from __future__ import annotations

import io
import json
from importlib import resources

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from typer.testing import CliRunner

from tests.api_support import PASSWORD, client, load_org, logged_in, person
from tests.conftest import BACKENDS, blank_engine
from zerocarbon.cli import app as cli
from zerocarbon.errors import InputError, NotFoundError, StateError
from zerocarbon.services import audit, jobs, schedule_runs
from zerocarbon.services.demo_plant import laptop_week
from zerocarbon.store.db import upgrade
from zerocarbon.store.tables import Base

ORG, OTHER = "ORG", "OTHER"
ORDERS = ("id,family,quantity,release_min,due_min,weight\n"
          "A1,consumer,120,0,2880,1\n"
          "A2,commercial,80,60,4320,2\n"
          "A3,gaming,60,0,5760,1\n")


@pytest.fixture
def world(sessions, tmp_path, cheap_passwords, monkeypatch):
    monkeypatch.setenv(jobs.DATA_ENV, str(tmp_path / "data"))  # uploads of schedule jobs are spooled there
    monkeypatch.delenv(jobs.REDIS_ENV, raising=False)
    load_org(sessions, ORG)
    load_org(sessions, OTHER)
    for role in ("planner", "auditor", "viewer"):
        person(sessions, f"{role}@acme.cn", ORG, role)
    person(sessions, "planner@other.cn", OTHER, "planner")
    week = tmp_path / "week.json"
    # Three orders: CP-SAT proves its plans optimal within the time limit, so two runs give the same plan.
    week.write_text(json.dumps(laptop_week(n_orders=3)), encoding="utf-8")
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS, encoding="utf-8")
    return sessions, week, orders


def _post(c, week, orders=None, **data):
    files = {"problem": (week.name, week.read_bytes())}
    if orders is not None:
        files["orders"] = (orders.name, orders.read_bytes())
    return c.post(f"/api/v1/orgs/{ORG}/schedules", files=files, data={"time_limit": 1, **data})


def test_a_run_is_stored_and_read_back_with_its_gantt_on_local_dates(world):
    sessions, week, orders = world
    c = logged_in(sessions, "planner@acme.cn")
    r = _post(c, week, orders, objective="carbon", name="week 32")
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["name"] == "week 32" and made["created_by"] == "user:planner@acme.cn" and made["objective"] == "carbon"
    assert made["problem_file"] == "week.json" and made["orders_file"] == "orders.csv"
    assert len(made["problem_sha256"]) == 64 and made["summary"]["orders"] == 3

    listed = c.get(f"/api/v1/orgs/{ORG}/schedules").json()
    assert listed["total"] == 1 and [x["id"] for x in listed["runs"]] == [made["id"]]
    assert "result" not in listed["runs"][0]

    detail = c.get(f"/api/v1/orgs/{ORG}/schedules/{made['id']}").json()
    result = detail["result"]
    assert set(result["plans"]) == {"edd_always_on", "fifo_always_on", "makespan_always_on", "energy_aware"}
    assert result["start"] == "2026-08-03T00:00+08:00" and result["timezone"] == "Asia/Shanghai"
    lines = [ln["id"] for ln in result["lines"]]
    fields = result["segment_fields"]
    for plan in ("edd_always_on", "energy_aware"):
        segments = [dict(zip(fields, s)) for s in result["segments"][plan]]
        assert {s["state"] for s in segments} <= {"run", "changeover", "idle", "standby", "off"}
        # Each line's segments tile the horizon without a gap, on the site's clock.
        for i in range(len(lines)):
            own = [s for s in segments if s["line"] == i]
            assert own[0]["start"] == result["start"] and own[-1]["end"] == result["end"]
            assert all(a["end"] == b["start"] for a, b in zip(own, own[1:]))
        ran = {(s["order"], s["operation"]) for s in segments if s["state"] == "run"}
        assert ran == {(o, k) for o in ("A1", "A2", "A3") for k in range(4)}
        run_kwh = sum(s["kwh"] for s in segments if s["state"] == "run")
        assert run_kwh == pytest.approx(result["plans"][plan]["kpis"]["energy_kwh"]["run"], rel=1e-3)
    assert result["bands"]["price"][0][0] == result["start"] and result["bands"]["price_unit"] == "CNY/kWh"
    assert [e.action for e in audit.log(sessions, ORG) if e.entity == f"schedule:{made['id']}"] == ["schedule.run"]


def test_savings_equal_the_cli_for_the_same_input(world, tmp_path):
    sessions, week, _ = world
    out = CliRunner().invoke(cli, ["schedule", "run", str(week), "--out", str(tmp_path / "cli"), "--time-limit", "5",
                                   "--workers", "1", "--json"])
    assert out.exit_code == 0, out.output
    expected = json.loads(out.stdout)["savings"]
    info = schedule_runs.run_plan(sessions, ORG, week, actor="planner@acme.cn", time_limit=5, workers=1)
    stored = schedule_runs.get_run(sessions, ORG, info.id).result["savings"]["energy_aware"]
    assert expected["grid_mwh_per_year"] > 0
    assert {k: pytest.approx(v) for k, v in expected.items()} == {k: stored[k] for k in expected}
    assert info.summary["savings"]["tco2e_per_year"] == pytest.approx(expected["tco2e_per_year"])


def test_a_bad_file_is_refused_with_its_row_and_column_and_nothing_is_stored(world, tmp_path):
    sessions, week, _ = world
    bad_orders = tmp_path / "orders.csv"
    bad_orders.write_text(ORDERS.replace("A2,commercial,80", "A2,commercial,lots"), encoding="utf-8")
    c = logged_in(sessions, "planner@acme.cn")
    r = _post(c, week, bad_orders)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["problems"] == [{"file": "orders.csv", "row": 3, "column": "quantity",
                                     "reason": "'lots' is not a number"}]
    spec = json.loads(week.read_text(encoding="utf-8"))
    spec["orders"][1]["quantity"] = -5
    week.write_text(json.dumps(spec), encoding="utf-8")
    r = _post(c, week)
    assert r.status_code == 400
    assert [(p["file"], p["column"]) for p in r.json()["problems"]] == [("week.json", "orders[1].quantity")]
    del spec["start"]
    spec["orders"][1]["quantity"] = 5
    week.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        schedule_runs.run_plan(sessions, ORG, week, actor="t", time_limit=1)
    assert [(p.source, p.column) for p in exc.value.problems] == [("week.json", "start")]
    for wrong in ("5", "[]", '{"stages": ["A"], "horizon_min": 60, "lines": 7, "orders": []}',
                  '{"stages": ["A"], "horizon_min": 60, "lines": [{"id": "L", "stage": "A", "rates": {"x": 1}}], '
                  '"orders": [{"id": "O", "family": "x", "quantity": 1}], "series": [1]}'):
        (tmp_path / "wrong.json").write_text(wrong, encoding="utf-8")
        r = _post(c, tmp_path / "wrong.json")
        assert r.status_code == 400 and r.json()["problems"][0]["file"] == "wrong.json", (wrong, r.text)
    too_long = _post(c, week, time_limit=500)
    assert too_long.status_code == 400 and "time_limit" in too_long.text
    assert schedule_runs.list_runs(sessions, ORG).total == 0
    assert not [e for e in audit.log(sessions, ORG) if e.action == "schedule.run"]


def test_a_run_of_another_organisation_is_not_found(world):
    sessions, week, _ = world
    info = schedule_runs.run_plan(sessions, ORG, week, actor="planner@acme.cn", time_limit=1)
    other = logged_in(sessions, "planner@other.cn")
    assert other.get(f"/api/v1/orgs/{OTHER}/schedules/{info.id}").status_code == 404
    assert other.get(f"/api/v1/orgs/{OTHER}/schedules").json()["total"] == 0
    assert other.get(f"/api/v1/orgs/{ORG}/schedules/{info.id}").status_code == 404  # not a member there
    with pytest.raises(NotFoundError):
        schedule_runs.get_run(sessions, OTHER, info.id)


def test_read_only_roles_see_runs_but_cannot_plan(world):
    sessions, week, _ = world
    info = schedule_runs.run_plan(sessions, ORG, week, actor="planner@acme.cn", time_limit=1)
    auditor = logged_in(sessions, "auditor@acme.cn")
    r = _post(auditor, week)
    assert r.status_code == 403 and "schedule.run" in r.json()["detail"]
    assert auditor.get(f"/api/v1/orgs/{ORG}/schedules/{info.id}").status_code == 200

    page = client(sessions, follow_redirects=False)
    assert page.post("/web/login", data={"email": "auditor@acme.cn", "password": PASSWORD}).status_code == 303
    listing = page.get(f"/web/orgs/{ORG}/schedules")
    assert listing.status_code == 200 and f"/schedules/{info.id}" in listing.text
    assert 'id="schedule-upload"' not in listing.text
    refused = page.post(f"/web/orgs/{ORG}/schedules", files={"problem": (week.name, week.read_bytes())},
                        data={"csrf": page.cookies.get("zc_csrf"), "time_limit": 1})
    assert refused.status_code == 403
    shown = page.get(f"/web/orgs/{ORG}/schedules/{info.id}")
    assert shown.status_code == 200 and 'id="schedule-gantt"' in shown.text and 'id="schedule-savings"' in shown.text
    assert schedule_runs.list_runs(sessions, ORG).total == 1


def test_the_planners_form_queues_the_run_shows_its_progress_and_links_the_run_or_lists_the_problems(world,
                                                                                                     tmp_path):
    sessions, week, orders = world
    page = client(sessions, follow_redirects=False)
    page.post("/web/login", data={"email": "planner@acme.cn", "password": PASSWORD})
    assert 'id="schedule-upload"' in page.get(f"/web/orgs/{ORG}/schedules").text
    token = page.cookies.get("zc_csrf")
    r = page.post(f"/web/orgs/{ORG}/schedules", data={"csrf": token, "time_limit": 1, "objective": "cost"},
                  files={"problem": (week.name, week.read_bytes()), "orders": ("", b"")})
    (job,) = jobs.list_jobs(sessions, ORG).jobs
    assert job.kind == "schedule.run" and job.status == "queued" and job.created_by == "user:planner@acme.cn"
    assert r.status_code == 303 and r.headers["location"] == f"/web/orgs/{ORG}/schedules?job={job.id}#job-{job.id}"
    assert schedule_runs.list_runs(sessions, ORG).total == 0  # the request did not plan
    waiting = page.get(r.headers["location"])
    assert waiting.status_code == 200 and 'id="schedule-jobs"' in waiting.text
    assert f'id="job-{job.id}"' in waiting.text and 'hx-trigger="every 1s"' in waiting.text
    assert f"/jobs/{job.id}/row" in waiting.text

    assert jobs.run(sessions, job.id)
    (run,) = schedule_runs.list_runs(sessions, ORG).runs
    row = page.get(f"/web/orgs/{ORG}/jobs/{job.id}/row").text
    assert 'data-status="succeeded"' in row and "hx-trigger" not in row
    assert f'href="/web/orgs/{ORG}/schedules/{run.id}"' in row
    done = page.get(f"/web/orgs/{ORG}/schedules?job={job.id}").text
    assert f'href="/web/orgs/{ORG}/schedules/{run.id}"' in done and 'data-status="succeeded"' in done
    assert f'id="job-{job.id}"' not in page.get(f"/web/orgs/{ORG}/schedules").text  # ended: listed as a run

    bad = tmp_path / "bad.csv"
    bad.write_text(ORDERS.replace("0,2880", "0,soon"), encoding="utf-8")
    r = page.post(f"/web/orgs/{ORG}/schedules", data={"csrf": token, "time_limit": 1},
                  files={"problem": (week.name, week.read_bytes()), "orders": (bad.name, bad.read_bytes())})
    assert r.status_code == 400 and 'id="problems"' in r.text and "due_min" in r.text and "bad.csv" in r.text
    assert jobs.list_jobs(sessions, ORG).total == 1 and schedule_runs.list_runs(sessions, ORG).total == 1


def _spooled(tmp_path) -> list:
    return [p for p in (tmp_path / "data").rglob("*") if p.is_file()]


def _submit(sessions, week, orders=None, **settings):
    return jobs.submit_schedule(sessions, ORG, io.BytesIO(week.read_bytes()), week.name,
                                io.BytesIO(orders.read_bytes()) if orders else None,
                                orders.name if orders else None, actor="user:planner@acme.cn",
                                **{"time_limit": 1, **settings})


def test_a_schedule_job_stores_the_same_run_as_the_synchronous_call_and_reports_its_phases(world, tmp_path,
                                                                                          monkeypatch):
    sessions, week, orders = world
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0.0)
    heard = []
    original = jobs.Progress.update

    def spy(self, done, total, message=""):
        heard.append((done, total, message))
        return original(self, done, total, message)

    monkeypatch.setattr(jobs.Progress, "update", spy)
    # One CP-SAT worker searches deterministically and stops once it has proved this week optimal (about a second
    # alone); the generous limit only keeps a loaded CI machine from cutting the search short in one run only.
    info = _submit(sessions, week, orders, objective="carbon", name="week 32", time_limit=120, workers=1)
    assert info.params == {"file": "week.json", "orders": "orders.csv", "time_limit": 120.0, "objective": "carbon",
                           "name": "week 32", "site": None, "workers": 1, "operating_days": 250.0,
                           "carbon_series": None}  # the spooled files' paths are not shown
    assert len(_spooled(tmp_path)) == 2
    assert jobs.run(sessions, info.id)
    final = jobs.get(sessions, ORG, info.id)
    assert final.status == "succeeded", final.error
    assert _spooled(tmp_path) == []
    phases = [m for _, _, m in heard if m in schedule_runs.PHASES]
    assert phases == ["read", "plan energy-aware", "plan conventional", "compare", "store"]
    assert [d for d, t, m in heard if m in schedule_runs.PHASES] == [0, 1, 2, 3, 4] and {t for _, t, _ in heard} == {5}
    by_job = schedule_runs.get_run(sessions, ORG, final.result["run_id"])

    direct = schedule_runs.run_plan(sessions, ORG, week, orders, actor="user:planner@acme.cn", time_limit=120,
                                    objective="carbon", name="week 32", workers=1)
    direct = schedule_runs.get_run(sessions, ORG, direct.id)
    assert by_job.id != direct.id and schedule_runs.list_runs(sessions, ORG).total == 2
    same = ("name", "created_by", "problem_file", "problem_sha256", "orders_file", "orders_sha256", "time_limit_s",
            "objective", "status", "summary", "result")
    assert {k: getattr(by_job, k) for k in same} == {k: getattr(direct, k) for k in same}
    assert final.result["solver_status"] == by_job.summary["solver_status"] == "OPTIMAL"


@pytest.mark.parametrize("at, heard_last", [("read", "read"), ("plan energy-aware", "plan energy-aware")])
def test_a_cancelled_schedule_job_stops_between_phases_and_stores_nothing(world, tmp_path, monkeypatch, at,
                                                                            heard_last):
    """Cancelled while reading, the run never plans; cancelled while the energy-aware solve runs, that solve
    finishes and the run stops before the conventional plans."""
    sessions, week, _ = world
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0.0)
    heard = []
    original = jobs.Progress.update

    def cancel_at(self, done, total, message=""):
        heard.append(message)
        if message == at and not self.flag.is_set():
            jobs.cancel(sessions, ORG, self.job_id, actor="user:planner@acme.cn", may_cancel_others=False)
        return original(self, done, total, message)

    monkeypatch.setattr(jobs.Progress, "update", cancel_at)
    info = _submit(sessions, week)
    assert jobs.run(sessions, info.id)
    final = jobs.get(sessions, ORG, info.id)
    assert final.status == "cancelled", final.error
    assert final.cancel_requested_by == "user:planner@acme.cn"
    assert [m for m in heard if m in schedule_runs.PHASES][-1] == heard_last
    assert schedule_runs.list_runs(sessions, ORG).total == 0
    assert not [e for e in audit.log(sessions, ORG) if e.action == "schedule.run"]
    assert _spooled(tmp_path) == []


def test_a_bad_file_is_refused_when_the_job_is_submitted_and_nothing_is_queued(world, tmp_path):
    sessions, week, _ = world
    bad = tmp_path / "orders.csv"
    bad.write_text(ORDERS.replace("A2,commercial,80", "A2,commercial,lots"), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        _submit(sessions, week, bad)
    assert [(p.source, p.row, p.column) for p in exc.value.problems] == [("orders.csv", 3, "quantity")]
    with pytest.raises(InputError) as exc:
        _submit(sessions, week, site="NOWHERE")
    assert exc.value.problems[0].column == "site"
    c = logged_in(sessions, "planner@acme.cn")
    r = c.post(f"/api/v1/orgs/{ORG}/jobs/schedule", files={"problem": (week.name, week.read_bytes()),
                                                           "orders": (bad.name, bad.read_bytes())},
               data={"time_limit": 1})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["problems"] == [{"file": "orders.csv", "row": 3, "column": "quantity",
                                     "reason": "'lots' is not a number"}]
    assert jobs.list_jobs(sessions, ORG).total == 0 and _spooled(tmp_path) == []


def test_api_queues_a_schedule_job_whose_result_names_the_stored_run(world):
    sessions, week, orders = world
    c = logged_in(sessions, "planner@acme.cn")
    r = c.post(f"/api/v1/orgs/{ORG}/jobs/schedule", files={"problem": (week.name, week.read_bytes()),
                                                           "orders": (orders.name, orders.read_bytes())},
               data={"time_limit": 1, "objective": "idle", "name": "week 33"})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["kind"] == "schedule.run" and body["status"] == "queued" and "path" not in body["params"]
    assert jobs.run(sessions, body["id"])
    done = c.get(f"/api/v1/orgs/{ORG}/jobs/{body['id']}").json()
    assert done["status"] == "succeeded" and done["percent"] == 100.0, done
    shown = c.get(f"/api/v1/orgs/{ORG}/schedules/{done['result']['run_id']}").json()
    assert shown["name"] == "week 33" and shown["objective"] == "idle" and shown["orders_file"] == "orders.csv"
    viewer = logged_in(sessions, "viewer@acme.cn")
    assert viewer.get(f"/api/v1/orgs/{ORG}/jobs/{body['id']}").status_code == 404  # may not plan: does not see it


def test_a_cancelled_run_stores_nothing_and_progress_hears_the_steps(world):
    sessions, week, _ = world
    heard = []
    with pytest.raises(StateError):
        schedule_runs.run_plan(sessions, ORG, week, actor="t", time_limit=1,
                               progress=lambda done, total, message: heard.append((done, total, message)),
                               cancelled=lambda: True)
    assert heard == [(0, 5, "read")] and schedule_runs.list_runs(sessions, ORG).total == 0


@pytest.mark.parametrize("kind", BACKENDS)
def test_migration_matches_the_model_and_downgrades(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        upgrade(engine)
        with engine.connect() as conn:
            assert [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata)
                    if "schedule_runs" in str(d)] == []
        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("zerocarbon.store") / "migrations"))
        before = ScriptDirectory.from_config(cfg).get_revision("0008").down_revision
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, before)
        assert "schedule_runs" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert "schedule_runs" in inspect(engine).get_table_names()


def test_minutes_are_elapsed_time_across_a_daylight_saving_change():
    from zerocarbon.core.schedule.model import Problem
    from zerocarbon.services.schedule_runs import _clock

    berlin = _clock(Problem("w", (), (), 1440, start="2026-03-28T12:00"), "w.json", "Europe/Berlin")
    assert (berlin(0), berlin(1440)) == ("2026-03-28T12:00+01:00", "2026-03-29T13:00+02:00")
    shanghai = _clock(Problem("w", (), (), 60, start="2026-08-03T00:00+08:00"), "w.json", None)
    assert shanghai(90) == "2026-08-03T01:30+08:00"
