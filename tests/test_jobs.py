"""Background jobs: they run to their end with progress, stop when cancelled without storing half their work,
record a refused file's problems, run once however many processes look for them, survive no dead process, and
stay inside their organisation. On SQLite and PostgreSQL; the Redis queue with `zerocarbon worker`."""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text, update

from tests.api_support import (PASSWORD, YEAR, client, electricity, fast_passwords, import_bytes, load_org, logged_in,
                               person)
from tests.conftest import BACKENDS, alembic_config, blank_engine
from tests.services import require_service
from tests import test_web_browser
from zerocarbon.core.access import PERMISSIONS, Role
from zerocarbon.errors import Cancelled, PermissionDeniedError, StateError, StorageError
from zerocarbon.services import accounting, jobs
from zerocarbon.store.db import upgrade
from zerocarbon.store.tables import Base, ImportBatchRow, InventoryRow, JobRow

ORG, OTHER = "ORG", "OTHER"
REDIS_URL = os.environ.get("ZEROCARBON_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv(jobs.DATA_ENV, str(folder))
    monkeypatch.delenv(jobs.REDIS_ENV, raising=False)
    return folder


@pytest.fixture
def orgs(sessions, data_dir):
    load_org(sessions, ORG)
    load_org(sessions, OTHER)
    return sessions


def _rows(n: int, meter: str = "M") -> bytes:
    lines = ["site,meter,period_start,period_end,quantity,unit"]
    lines += [f"TJ01,{meter}{i},{YEAR}-01-01,{YEAR}-01-28,{100 + i},kWh" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def _loop_job(sessions, params, progress):
    """Works until cancelled, reporting each step; asks for its own cancellation at ``cancel_at`` when given."""
    for i in range(int(params["steps"])):
        if i == params.get("cancel_at"):
            jobs.cancel(sessions, params["org"], params["job"], actor=params["actor"], may_cancel_others=False)
        progress.update(i, int(params["steps"]), f"step {i}")
        threading.Event().wait(0.01)
    return {"finished": True}


jobs.register("test.loop", _loop_job, "inventory.compute")


def _submit_loop(sessions, steps: int, cancel_at: int | None = None) -> jobs.JobInfo:
    info = jobs.submit(sessions, ORG, "test.loop", {"steps": steps}, actor="user:a@example.org")
    with sessions.begin() as s:  # the job names itself so it can cancel itself at a chosen step
        s.execute(update(JobRow).where(JobRow.id == info.id)
                  .values(params={"steps": steps, "cancel_at": cancel_at, "job": info.id}))
    return info


# --- the table --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", BACKENDS)
def test_0007_creates_the_jobs_table_the_model_declares_and_downgrades(kind, tmp_path):
    with blank_engine(kind, tmp_path) as engine:
        upgrade(engine)
        with engine.connect() as conn:
            diff = [d for d in compare_metadata(MigrationContext.configure(conn), Base.metadata) if "jobs" in str(d)]
        assert diff == []
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0006")
        assert "jobs" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert "jobs" in inspect(engine).get_table_names()


# --- running ----------------------------------------------------------------------------------------------------

def test_inventory_job_runs_to_success_with_its_steps_and_stores_the_inventory(orgs, tmp_path, monkeypatch):
    sessions = orgs
    import_bytes(sessions, ORG, "e.csv", electricity("E1"), tmp_path)
    seen = []
    original = jobs.Progress.update

    def spy(self, done, total, message=""):
        seen.append((done, total, message))
        return original(self, done, total, message)

    monkeypatch.setattr(jobs.Progress, "update", spy)
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0.0)
    info = jobs.submit(sessions, ORG, "inventory.compute", {"year": YEAR, "factor_set": "CN-2025.1"},
                       actor="user:a@example.org")
    assert info.status == "queued" and info.done == 0
    assert jobs.run(sessions, info.id) is True
    done = jobs.get(sessions, ORG, info.id)
    assert done.status == "succeeded", done.error
    assert [m for _, _, m in seen] == ["start", "load", "compute", "save", "done"]
    assert (done.done, done.total, done.message, done.percent) == (4, 4, "done", 100.0)
    stored = accounting.inventory_meta(sessions, ORG, YEAR)
    assert done.result["totals"] == pytest.approx(stored["totals"])
    assert done.started_at is not None and done.finished_at >= done.started_at
    assert jobs.run(sessions, info.id) is False  # an ended job is never run again


def test_embedded_executor_runs_a_submitted_job_and_stops(orgs, tmp_path):
    sessions = orgs
    import_bytes(sessions, ORG, "e.csv", electricity("E1"), tmp_path)
    executor = jobs.EmbeddedExecutor(sessions, threads=1, poll=0.1).start()
    try:
        info = jobs.submit(sessions, ORG, "inventory.compute", {"year": YEAR}, actor="user:a@example.org")
        final = jobs.wait(sessions, ORG, info.id, timeout=120)
    finally:
        executor.stop()
    assert final.status == "succeeded", final.error
    # The last step is on the row even when it came sooner after the one before than progress is written.
    assert (final.done, final.total, final.message) == (4, 4, "done")
    with sessions.begin() as s:
        assert s.query(InventoryRow).count() == 1


def test_a_job_is_claimed_by_one_runner_only(orgs):
    info = _submit_loop(orgs, 3)
    with orgs.begin() as s:
        from zerocarbon.store import jobs as store

        assert store.claim(s, info.id, "host:1:a", jobs._now()) is True
        assert store.claim(s, info.id, "host:2:b", jobs._now()) is False
    assert jobs.run(orgs, info.id) is False
    assert jobs.get(orgs, ORG, info.id).status == "running"


def test_cancelling_a_running_job_ends_it_cancelled(orgs, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0.0)
    info = _submit_loop(orgs, 10_000, cancel_at=3)
    jobs.run(orgs, info.id)
    final = jobs.get(orgs, ORG, info.id)
    assert final.status == "cancelled"
    assert final.result is None and final.cancel_requested_by == "user:a@example.org"
    assert final.done == 2  # the last step reported before the request; none after it


def test_a_cancel_request_written_by_another_process_stops_the_job(orgs, monkeypatch):
    """Another process's request reaches the job through its row only (no in-process flag)."""
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0.0)

    def job(sessions, params, progress):
        for i in range(10_000):
            if i == 5:
                with sessions.begin() as s:
                    s.execute(update(JobRow).where(JobRow.id == params["job"]).values(cancel_requested=True))
            progress.update(i, 10_000)
        return {}

    jobs.register("test.remote_cancel", job, "inventory.compute")
    info = jobs.submit(orgs, ORG, "test.remote_cancel", {}, actor="user:a@example.org")
    with orgs.begin() as s:
        s.execute(update(JobRow).where(JobRow.id == info.id).values(params={"job": info.id}))
    jobs.run(orgs, info.id)
    assert jobs.get(orgs, ORG, info.id).status == "cancelled"


def test_cancelling_a_queued_job_ends_it_at_once_and_it_never_runs(orgs):
    info = _submit_loop(orgs, 3)
    out = jobs.cancel(orgs, ORG, info.id, actor="user:a@example.org", may_cancel_others=False)
    assert out.status == "cancelled" and out.finished_at is not None
    assert jobs.run(orgs, info.id) is False
    with pytest.raises(StateError, match="already ended"):
        jobs.cancel(orgs, ORG, info.id, actor="user:a@example.org", may_cancel_others=False)


def test_cancelling_another_persons_job_needs_jobs_cancel(orgs):
    info = _submit_loop(orgs, 3)
    with pytest.raises(PermissionDeniedError, match="jobs.cancel"):
        jobs.cancel(orgs, ORG, info.id, actor="user:b@example.org", may_cancel_others=False)
    assert jobs.cancel(orgs, ORG, info.id, actor="user:b@example.org", may_cancel_others=True).status == "cancelled"


def test_a_cancelled_import_stores_nothing(orgs, monkeypatch):
    """Cancelled while its rows are being stored: the import's transaction is rolled back."""
    sessions = orgs
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0.0)
    calls = []
    original = jobs.Progress.update

    def cancel_while_storing(self, done, total, message=""):
        calls.append((done, total, message))
        if message == "store" and done > 0 and not self.flag.is_set():
            jobs.cancel(sessions, ORG, self.job_id, actor="user:a@example.org", may_cancel_others=False)
        return original(self, done, total, message)

    monkeypatch.setattr(jobs.Progress, "update", cancel_while_storing)
    monkeypatch.setattr("zerocarbon.store.repos.CHUNK", 100)
    info = jobs.submit_import(sessions, ORG, "electricity", YEAR, "CN-2025.1", io.BytesIO(_rows(1000)), "big.csv",
                              actor="user:a@example.org")
    jobs.run(sessions, info.id)
    final = jobs.get(sessions, ORG, info.id)
    assert final.status == "cancelled", final.error
    assert final.cancel_requested_by == "user:a@example.org"
    assert [e.action for e in accounting.audit_trail(sessions, ORG)].count("job.cancel") == 1
    assert any(m == "store" and d > 0 for d, _, m in calls)
    with sessions.begin() as s:
        assert s.query(ImportBatchRow).count() == 0
        assert s.execute(text("select count(*) from activities")).scalar() == 0
    assert not any((jobs.data_dir() / "uploads").iterdir())  # the spooled upload is gone


def test_a_refused_import_fails_with_the_row_level_problems(orgs):
    bad = b"site,meter,period_start,period_end,quantity,unit\nTJ01,M1,2023-01-01,2023-01-28,abc,kWh\n" \
          b"NOPE,M2,2023-01-01,2023-01-28,5,kWh\n"
    info = jobs.submit_import(orgs, ORG, "electricity", YEAR, "CN-2025.1", io.BytesIO(bad), "bad.csv",
                              actor="user:a@example.org")
    assert "path" not in info.params and info.params["file"] == "bad.csv"
    jobs.run(orgs, info.id)
    final = jobs.get(orgs, ORG, info.id)
    assert final.status == "failed"
    where = {(p["file"], p["row"], p["column"]) for p in final.error}
    assert ("bad.csv", 2, "quantity") in where and ("bad.csv", 3, "site") in where
    assert all(p["reason"] for p in final.error)
    with orgs.begin() as s:
        assert s.query(ImportBatchRow).count() == 0


def test_an_import_job_stores_the_batch(orgs):
    info = jobs.submit_import(orgs, ORG, "electricity", YEAR, "CN-2025.1", io.BytesIO(_rows(30)), "ok.csv",
                              actor="user:a@example.org")
    jobs.run(orgs, info.id)
    final = jobs.get(orgs, ORG, info.id)
    assert final.status == "succeeded", final.error
    assert final.result["rows"] == 30
    batches = accounting.list_batches(orgs, ORG)
    assert [b.id for b in batches] == [final.result["batch_id"]] and batches[0].imported_by == "user:a@example.org"


def test_a_running_job_of_a_dead_process_is_marked_failed_on_start_up(orgs):
    dead = _submit_loop(orgs, 3)
    silent = _submit_loop(orgs, 3)
    alive = _submit_loop(orgs, 3)
    host = socket.gethostname()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    now = jobs._now()
    with orgs.begin() as s:
        s.execute(update(JobRow).where(JobRow.id == dead.id).values(
            status="running", runner=f"{host}:{gone}:x", started_at=now, heartbeat_at=now))
        s.execute(update(JobRow).where(JobRow.id == silent.id).values(
            status="running", runner="elsewhere:1:y", started_at=now, heartbeat_at=now - timedelta(hours=1)))
        s.execute(update(JobRow).where(JobRow.id == alive.id).values(
            status="running", runner="elsewhere:2:z", started_at=now, heartbeat_at=now))
    executor = jobs.EmbeddedExecutor(orgs, threads=1, poll=60).start()
    executor.stop()
    for job in (dead, silent):
        info = jobs.get(orgs, ORG, job.id)
        assert info.status == "failed" and "stopped before it finished" in info.error[0]["reason"]
    assert jobs.get(orgs, ORG, alive.id).status == "running"


def test_a_failing_kind_records_its_error_and_an_unknown_kind_is_refused(orgs):
    def broken(sessions, params, progress):
        raise ZeroDivisionError("division by zero")

    jobs.register("test.broken", broken, "inventory.compute")
    info = jobs.submit(orgs, ORG, "test.broken", {}, actor="user:a@example.org")
    jobs.run(orgs, info.id)
    final = jobs.get(orgs, ORG, info.id)
    assert final.status == "failed" and "ZeroDivisionError" in final.error[0]["reason"]
    with pytest.raises(LookupError, match="no job kind"):
        jobs.submit(orgs, ORG, "no.such.kind", {}, actor="user:a@example.org")


def test_progress_raises_cancelled_once_its_flag_is_set(orgs):
    info = _submit_loop(orgs, 3)
    progress = jobs.Progress(orgs, info.id, interval=0.0)
    progress.update(1, 3, "one")
    progress.flag.set()
    with pytest.raises(Cancelled):
        progress.update(2, 3, "two")


# --- tenancy and listing ----------------------------------------------------------------------------------------

def test_an_organisation_never_sees_anothers_job(orgs):
    info = _submit_loop(orgs, 3)
    with pytest.raises(LookupError):
        jobs.get(orgs, OTHER, info.id)
    with pytest.raises(LookupError):
        jobs.cancel(orgs, OTHER, info.id, actor="user:a@example.org", may_cancel_others=True)
    assert jobs.list_jobs(orgs, OTHER).total == 0
    assert [j.id for j in jobs.list_jobs(orgs, ORG).jobs] == [info.id]


def test_listing_filters_by_status_and_kind_and_pages(orgs):
    ids = [_submit_loop(orgs, 3).id for _ in range(5)]
    jobs.cancel(orgs, ORG, ids[0], actor="user:a@example.org", may_cancel_others=False)
    page = jobs.list_jobs(orgs, ORG, status="queued", limit=2, offset=1)
    assert page.total == 4 and [j.id for j in page.jobs] == [ids[3], ids[2]]
    assert [j.id for j in jobs.list_jobs(orgs, ORG, status="cancelled").jobs] == [ids[0]]
    assert jobs.list_jobs(orgs, ORG, kind="import").total == 0


# --- the API ----------------------------------------------------------------------------------------------------

@pytest.fixture
def api(orgs, tmp_path):
    with fast_passwords():
        for role in Role:
            person(orgs, f"{role.value}@example.org", ORG, role.value)
        person(orgs, "outsider@example.org", OTHER, "admin")
        import_bytes(orgs, ORG, "e.csv", electricity("E1"), tmp_path)
        yield {role: logged_in(orgs, f"{role.value}@example.org") for role in Role} | {
            "outsider": logged_in(orgs, "outsider@example.org")}


def test_api_starts_an_inventory_job_and_the_server_runs_it(orgs, tmp_path):
    with fast_passwords():
        person(orgs, "em@example.org", ORG, "energy_manager")
        import_bytes(orgs, ORG, "e.csv", electricity("E1"), tmp_path)
        with client(orgs) as c:  # as a context manager the app's lifespan starts the embedded executor
            r = c.post("/api/v1/auth/login", json={"email": "em@example.org", "password": "correct horse battery "
                                                                                         "staple"})
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            r = c.post(f"/api/v1/orgs/{ORG}/jobs/inventory", json={"year": YEAR})
            assert r.status_code == 202, r.text
            assert r.json()["status"] == "queued" and r.json()["created_by"] == "user:em@example.org"
            final = jobs.wait(orgs, ORG, r.json()["id"], timeout=120)
            assert final.status == "succeeded", final.error
            body = c.get(f"/api/v1/orgs/{ORG}/jobs/{final.id}").json()
            assert body["status"] == "succeeded" and body["percent"] == 100.0 and body["result"]["totals"]


def test_api_import_job_reports_the_problems_of_a_refused_file(orgs, api):
    bad = b"site,meter,period_start,period_end,quantity,unit\nTJ01,M1,2023-01-01,2023-01-28,-5,kWh\n"
    r = api[Role.data_entry].post(f"/api/v1/orgs/{ORG}/jobs/import", files={"file": ("bad.csv", bad)},
                                  data={"kind": "electricity", "year": YEAR})
    assert r.status_code == 202, r.text
    jobs.run(orgs, r.json()["id"])
    body = api[Role.data_entry].get(f"/api/v1/orgs/{ORG}/jobs/{r.json()['id']}").json()
    assert body["status"] == "failed"
    assert body["error"][0]["file"] == "bad.csv" and body["error"][0]["row"] == 2
    assert body["error"][0]["column"] == "quantity"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_api_members_see_the_jobs_of_kinds_their_role_may_run(orgs, api, role):
    info = jobs.submit(orgs, ORG, "inventory.compute", {"year": YEAR}, actor="user:admin@example.org")
    may = "inventory.compute" in PERMISSIONS[role]
    listed = api[role].get(f"/api/v1/orgs/{ORG}/jobs")
    assert listed.status_code == 200
    assert [j["id"] for j in listed.json()["jobs"]] == ([info.id] if may else [])
    shown = api[role].get(f"/api/v1/orgs/{ORG}/jobs/{info.id}")
    assert shown.status_code == (200 if may else 404)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_api_cancel_own_job_always_anothers_only_with_jobs_cancel(orgs, api, role):
    may_import = "import.write" in PERMISSIONS[role]
    others = jobs.submit_import(orgs, ORG, "electricity", YEAR, "CN-2025.1", io.BytesIO(_rows(2)), "x.csv",
                                actor="user:someone@example.org")
    r = api[role].post(f"/api/v1/orgs/{ORG}/jobs/{others.id}/cancel")
    if "jobs.cancel" in PERMISSIONS[role]:
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
    else:
        assert r.status_code == 403 and "jobs.cancel" in r.json()["detail"]
    if may_import:
        own = api[role].post(f"/api/v1/orgs/{ORG}/jobs/import", files={"file": ("own.csv", _rows(2, "O"))},
                             data={"kind": "electricity", "year": YEAR})
        assert own.status_code == 202, own.text
        r = api[role].post(f"/api/v1/orgs/{ORG}/jobs/{own.json()['id']}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"


def test_api_supplier_sees_only_its_own_import_jobs(orgs, api):
    jobs.submit_import(orgs, ORG, "electricity", YEAR, "CN-2025.1", io.BytesIO(_rows(2)), "x.csv",
                       actor="user:someone@example.org")
    own = api[Role.supplier].post(f"/api/v1/orgs/{ORG}/jobs/import", files={"file": ("own.csv", _rows(2, "S"))},
                                  data={"kind": "electricity", "year": YEAR}).json()
    assert [j["id"] for j in api[Role.supplier].get(f"/api/v1/orgs/{ORG}/jobs").json()["jobs"]] == [own["id"]]
    assert len(api[Role.energy_manager].get(f"/api/v1/orgs/{ORG}/jobs").json()["jobs"]) == 2


def test_api_another_organisations_job_is_not_found(orgs, api):
    info = jobs.submit(orgs, ORG, "inventory.compute", {"year": YEAR}, actor="user:admin@example.org")
    outsider = api["outsider"]
    assert outsider.get(f"/api/v1/orgs/{OTHER}/jobs/{info.id}").status_code == 404
    assert outsider.post(f"/api/v1/orgs/{OTHER}/jobs/{info.id}/cancel").status_code == 404
    assert outsider.get(f"/api/v1/orgs/{OTHER}/jobs").json()["total"] == 0
    assert outsider.get(f"/api/v1/orgs/{ORG}/jobs/{info.id}").status_code == 404  # not a member of ORG
    assert jobs.get(orgs, ORG, info.id).status == "queued"


# --- Redis and `zerocarbon worker` ------------------------------------------------------------------------------

def _redis_or_skip(monkeypatch):
    """The test Redis, with a queue of this test's own (tests run in parallel)."""
    try:
        import redis

        r = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        r.ping()
    except Exception as exc:
        require_service("Redis", f"Redis not reachable at {REDIS_URL}: {exc}")
    monkeypatch.setenv(jobs.QUEUE_ENV, f"zerocarbon-test:{uuid.uuid4().hex}")
    return r


@pytest.mark.slow
def test_redis_queue_and_zerocarbon_worker_run_jobs_end_to_end(tmp_path, monkeypatch, data_dir):
    r = _redis_or_skip(monkeypatch)
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    from zerocarbon.services.database import open_sessions

    sessions = open_sessions(url)
    load_org(sessions, ORG)
    import_bytes(sessions, ORG, "e.csv", electricity("E1"), tmp_path)
    monkeypatch.setenv(jobs.REDIS_ENV, REDIS_URL)
    assert jobs.start_server_executor(sessions) is None  # the server only enqueues
    compute = jobs.submit(sessions, ORG, "inventory.compute", {"year": YEAR}, actor="user:a@example.org")
    imported = jobs.submit_import(sessions, ORG, "electricity", YEAR, "CN-2025.1", io.BytesIO(_rows(5)),
                                  "w.csv", actor="user:a@example.org")
    assert r.llen(jobs.queue_key()) == 2
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1] / "src"), ZEROCARBON_REDIS_URL=REDIS_URL)
    out = subprocess.run([sys.executable, "-m", "zerocarbon.cli", "worker", "--db", url, "--burst"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 job(s)" in out.stdout
    assert jobs.get(sessions, ORG, compute.id).status == "succeeded"
    final = jobs.get(sessions, ORG, imported.id)
    assert final.status == "succeeded" and final.result["rows"] == 5
    assert r.llen(jobs.queue_key()) == 0


def test_redis_worker_runs_a_job_once_even_if_its_id_is_queued_twice(orgs, monkeypatch):
    r = _redis_or_skip(monkeypatch)
    monkeypatch.setenv(jobs.REDIS_ENV, REDIS_URL)
    runs = []

    def counted(sessions, params, progress):
        runs.append(params["org"])
        return {}

    jobs.register("test.counted", counted, "inventory.compute")
    info = jobs.submit(orgs, ORG, "test.counted", {}, actor="user:a@example.org")
    r.lpush(jobs.queue_key(), info.id)
    assert jobs.work(orgs, REDIS_URL, burst=True) == 1
    assert runs == [ORG] and jobs.get(orgs, ORG, info.id).status == "succeeded"


def test_an_unreachable_queue_fails_the_submitted_job_with_the_reason(orgs, monkeypatch):
    monkeypatch.setenv(jobs.REDIS_ENV, "redis://127.0.0.1:1/0")
    with pytest.raises(StorageError, match="does not answer"):
        jobs.submit(orgs, ORG, "test.loop", {"steps": 1}, actor="user:a@example.org")
    page = jobs.list_jobs(orgs, ORG)
    assert page.jobs[0].status == "failed" and "does not answer" in page.jobs[0].error[0]["reason"]


# --- the jobs page ----------------------------------------------------------------------------------------------

def _browser(sessions, email: str):
    c = client(sessions, follow_redirects=False)
    r = c.post("/web/login", data={"email": email, "password": PASSWORD, "next": "/web/"})
    assert r.status_code == 303, r.text
    return c


@pytest.fixture
def web(orgs, tmp_path):
    with fast_passwords():
        for role in Role:
            person(orgs, f"{role.value}@example.org", ORG, role.value)
        import_bytes(orgs, ORG, "e.csv", electricity("E1"), tmp_path)
        yield lambda role: _browser(orgs, f"{role.value}@example.org")


def test_page_form_starts_an_inventory_job_and_its_row_polls_until_it_ends(orgs, web):
    c = web(Role.energy_manager)
    page = c.get(f"/web/orgs/{ORG}/jobs")
    assert page.status_code == 200 and 'id="compute"' in page.text and 'data-nav="jobs"' in page.text
    r = c.post(f"/web/orgs/{ORG}/jobs/inventory", data={"year": YEAR, "factor_set": "CN-2025.1",
                                                         "csrf": c.cookies.get("zc_csrf")})
    assert r.status_code == 303 and r.headers["location"] == f"/web/orgs/{ORG}/jobs"
    (job,) = jobs.list_jobs(orgs, ORG).jobs
    assert job.created_by == "user:energy_manager@example.org" and job.params["year"] == YEAR
    row = c.get(f"/web/orgs/{ORG}/jobs/{job.id}/row")
    assert 'hx-trigger="every 1s"' in row.text and 'data-status="queued"' in row.text
    jobs.run(orgs, job.id)
    row = c.get(f"/web/orgs/{ORG}/jobs/{job.id}/row")
    assert 'data-status="succeeded"' in row.text and "hx-trigger" not in row.text  # polling stops
    assert "<progress" in row.text and "100.0%" in row.text
    page = c.get(f"/web/orgs/{ORG}/jobs")
    assert f'id="job-{job.id}"' in page.text and f"overview?year={YEAR}" in page.text


def test_page_shows_a_running_jobs_progress_and_cancels_it_with_the_csrf_token(orgs, web):
    info = _submit_loop(orgs, 10)
    with orgs.begin() as s:
        s.execute(update(JobRow).where(JobRow.id == info.id).values(
            status="running", runner=jobs.RUNNER, progress_done=4, progress_total=10, progress_message="step 4"))
    c = web(Role.admin)
    row = c.get(f"/web/orgs/{ORG}/jobs/{info.id}/row").text
    assert 'value="4"' in row and 'max="10"' in row and "40.0%" in row and "step 4" in row
    assert 'name="cancel"' in row
    refused = c.post(f"/web/orgs/{ORG}/jobs/{info.id}/cancel", data={})
    assert refused.status_code == 403 and not jobs.get(orgs, ORG, info.id).cancel_requested
    r = c.post(f"/web/orgs/{ORG}/jobs/{info.id}/cancel", data={"csrf": c.cookies.get("zc_csrf")},
               headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'name="cancel"' not in r.text
    assert jobs.get(orgs, ORG, info.id).cancel_requested


def test_page_lists_only_the_jobs_a_role_may_see_and_offers_cancel_only_where_allowed(orgs, web):
    info = _submit_loop(orgs, 3)  # needs inventory.compute to be seen; started by someone else
    viewer = web(Role.viewer)
    page = viewer.get(f"/web/orgs/{ORG}/jobs")
    assert page.status_code == 200 and f'id="job-{info.id}"' not in page.text
    assert 'id="compute"' not in page.text and 'data-nav="jobs"' not in page.text
    assert viewer.get(f"/web/orgs/{ORG}/jobs/{info.id}/row").status_code == 404
    manager = web(Role.energy_manager).get(f"/web/orgs/{ORG}/jobs").text
    assert f'id="job-{info.id}"' in manager and 'name="cancel"' in manager


@pytest.mark.parametrize("lang, word", [("en", "Background jobs"), ("zh-CN", "后台任务")])
def test_page_speaks_both_languages(orgs, web, lang, word):
    c = web(Role.admin)
    assert c.get(f"/web/lang/{lang}").status_code == 303
    assert word in c.get(f"/web/orgs/{ORG}/jobs").text


# --- in a browser -----------------------------------------------------------------------------------------------

# The browser test's fixtures: the app served by uvicorn (with its embedded executor) and a logged-out page.
server, page = test_web_browser.server, test_web_browser.page
_gate = {"done": 0}


def _gated_job(sessions, params, progress):
    """Reports whatever step the test has set until it is cancelled."""
    while True:
        progress.update(_gate["done"], 10, "gate")
        threading.Event().wait(0.05)


jobs.register("test.gate", _gated_job, "inventory.compute")


@pytest.mark.slow
def test_browser_progress_bar_moves_live_and_cancel_stops_the_job(page, tmp_path):
    """The jobs page in chromium: a running job's bar follows its progress without reloading the page; Cancel
    ends it cancelled and the row stops asking the server."""
    from zerocarbon.store.db import make_engine, session_factory

    pg, base, tmp = page
    sessions = session_factory(make_engine(f"sqlite:///{tmp / 'web.sqlite'}"))
    _gate["done"] = 3
    info = jobs.submit(sessions, ORG, "test.gate", {}, actor="user:manager@acme.cn")
    test_web_browser._login(pg, base)
    pg.goto(f"{base}/web/orgs/{ORG}/jobs")
    bar = pg.locator(f"#job-{info.id} progress")
    pg.locator(f"#job-{info.id}[data-status='running'] progress[value='3']").wait_for()
    loaded = pg.evaluate("performance.timeOrigin")
    _gate["done"] = 7
    pg.locator(f"#job-{info.id} progress[value='7']").wait_for()
    assert bar.get_attribute("max") == "10"
    assert pg.evaluate("performance.timeOrigin") == loaded  # swapped in by htmx, not a page load
    test_web_browser.SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(test_web_browser.SHOTS / "jobs-zh.png"), full_page=True)
    pg.locator(f"#job-{info.id} button[name=cancel]").click()
    pg.locator(f"#job-{info.id}[data-status='cancelled']").wait_for()
    assert pg.locator(f"#job-{info.id}").get_attribute("hx-trigger") is None
    assert jobs.wait(sessions, ORG, info.id, timeout=30).status == "cancelled"


def test_a_job_of_a_kind_this_process_does_not_know_is_shown_to_those_who_may_cancel_any_and_fails_when_run(orgs):
    info = _submit_loop(orgs, 3)
    with orgs.begin() as s:
        s.execute(update(JobRow).where(JobRow.id == info.id).values(kind="later.kind"))
    admin, viewer = PERMISSIONS[Role.admin], PERMISSIONS[Role.viewer]
    assert [j.id for j in jobs.list_jobs(orgs, ORG, actor="user:x", actions=admin).jobs] == [info.id]
    assert jobs.list_jobs(orgs, ORG, actor="user:x", actions=viewer).total == 0
    jobs.run(orgs, info.id)
    final = jobs.get(orgs, ORG, info.id, actor="user:x", actions=admin)
    assert final.status == "failed" and "no job kind 'later.kind'" in final.error[0]["reason"]


def test_page_imports_a_file_as_a_job_and_shows_a_refused_files_problems(orgs, web):
    c = web(Role.data_entry)
    page = c.get(f"/web/orgs/{ORG}/jobs").text
    assert 'id="import"' in page and 'id="compute"' not in page
    bad = b"site,meter,period_start,period_end,quantity,unit\nTJ01,M1,2023-01-01,2023-01-28,-5,kWh\n"
    r = c.post(f"/web/orgs/{ORG}/jobs/import", files={"file": ("bad.csv", bad)},
               data={"kind": "electricity", "year": YEAR, "csrf": c.cookies.get("zc_csrf")})
    assert r.status_code == 303
    (job,) = jobs.list_jobs(orgs, ORG).jobs
    jobs.run(orgs, job.id)
    row = c.get(f"/web/orgs/{ORG}/jobs/{job.id}/row").text
    assert 'data-status="failed"' in row and "bad.csv" in row and "quantity" in row
    assert "hx-trigger" not in row
