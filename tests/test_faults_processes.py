"""Process deaths, for real (SIGKILL): the web server or a `zerocarbon worker` killed in the middle of an import's,
an inventory run's or a schedule solve's database transaction; the MQTT ingest process killed during a QoS 1
burst; the broker killed and restarted mid-burst.

After each: nothing half-written (the batch, inventory or run is there whole or not at all), no reading lost or
stored twice, the job is marked failed with a message saying what happened and what to do, and retrying it
gives the complete result. Rows of RELIABILITY.md point here.
"""
from __future__ import annotations

import io
import json
import signal
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import func, select

from tests import fault_support as fs
from tests.api_support import YEAR, electricity, import_bytes, load_org
from tests.test_jobs import REDIS_URL
from tests.services import require_service
from zerocarbon.core.energy.intervals import Meter
from zerocarbon.services import jobs, schedule_runs, users
from zerocarbon.services.database import open_sessions
from zerocarbon.services.demo_plant import laptop_week
from zerocarbon.services.meter_import import register_meters
from zerocarbon.store.tables import ActivityRow, DeadLetterRow, ImportBatchRow, InventoryRow, ReadingRow

ORG = "ORG"
ROWS = 5000  # an activity file of this many rows: its import is one transaction of 5000 inserted activities


def _csv(n: int = ROWS) -> bytes:
    lines = ["site,meter,period_start,period_end,quantity,unit"]
    lines += [f"TJ01,M{i},{YEAR}-01-01,{YEAR}-01-28,{100 + i},kWh" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A SQLite database holding ORG, a jobs data folder, and the environment the subprocesses get."""
    url = f"sqlite:///{tmp_path / 'zc.sqlite'}"
    sessions = open_sessions(url)
    load_org(sessions, ORG)
    data = tmp_path / "data"
    monkeypatch.setenv(jobs.DATA_ENV, str(data))
    monkeypatch.delenv(jobs.REDIS_ENV, raising=False)
    env = fs.environment(ZEROCARBON_DATA_DIR=str(data))
    env.pop(jobs.REDIS_ENV, None)
    yield sessions, url, env
    sessions.kw["bind"].dispose()


def _stored(sessions) -> dict:
    """What a job may have written: batches with their activities, inventories."""
    with sessions() as s:
        return {"batches": s.scalar(select(func.count()).select_from(ImportBatchRow)),
                "activities": s.scalar(select(func.count()).select_from(ActivityRow)),
                "inventories": s.scalar(select(func.count()).select_from(InventoryRow))}


def _failed_for_a_stopped_process(info: jobs.JobInfo) -> str:
    assert info.status == "failed", info
    reason = info.error[0]["reason"]
    # what happened, that nothing of it is kept, what to do
    assert "stopped before it finished" in reason and "nothing of it was stored" in reason, reason
    assert f"zerocarbon jobs retry {info.id}" in reason and f"/jobs/{info.id}/retry" in reason, reason
    return reason


def _token(sessions, *scopes: str) -> str:
    _, secret = users.create_token(sessions, ORG, f"t{uuid.uuid4().hex[:8]}", list(scopes), actor="test")
    return secret


class Api(requests.Session):
    def __init__(self, base: str, token: str):
        super().__init__()
        self.base = base
        self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, path, *args, **kwargs):
        return super().request(method, self.base + path, *args, timeout=30, **kwargs)


# --- the web server ---------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("kind", ["import", "inventory"])
def test_sigkill_of_the_server_mid_job_leaves_nothing_half_written_and_the_job_failed_and_retryable(world, tmp_path,
                                                                                                    kind):
    sessions, url, env = world
    if kind == "inventory":
        import_bytes(sessions, ORG, "e.csv", electricity("E1"), tmp_path)
    before = _stored(sessions)
    port, marker = fs.free_port(), tmp_path / "paused"
    table = {"import": "import_batches", "inventory": "inventories"}[kind]
    server = fs.serve(url, port, tmp_path / "serve.log", env, pause_table=table, marker=marker)
    api = Api(f"http://127.0.0.1:{port}/api/v1", _token(sessions, "import.write", "import.read", "inventory.compute"))
    try:
        if kind == "import":
            r = api.post(f"/orgs/{ORG}/jobs/import", data={"kind": "electricity", "year": YEAR},
                         files={"file": ("big.csv", _csv())})
        else:
            r = api.post(f"/orgs/{ORG}/jobs/inventory", json={"year": YEAR})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        # the job has written its rows and is about to commit: the server dies there
        fs.until(marker.exists, 60, what="the job's transaction before its commit")
        server.sigkill()
        # A user who looks before anything restarts already sees the job failed: its process is gone.
        reason = _failed_for_a_stopped_process(jobs.get(sessions, ORG, job_id))
        assert _stored(sessions) == before  # the transaction died with the process: nothing of it is stored
        server = fs.serve(url, port, tmp_path / "serve.log", env)
        shown = api.get(f"/orgs/{ORG}/jobs/{job_id}").json()
        assert shown["status"] == "failed" and shown["error"][0]["reason"] == reason
        r = api.post(f"/orgs/{ORG}/jobs/{job_id}/retry")
        assert r.status_code == 202, r.text
        again = r.json()
        assert again["params"]["retry_of"] == job_id and again["kind"] == shown["kind"]
        done = fs.until(lambda: (lambda j: j if j["status"] in jobs.FINISHED else None)(
            api.get(f"/orgs/{ORG}/jobs/{again['id']}").json()), 90, 0.2, "the retried job's end")
        assert done["status"] == "succeeded", done
        after = _stored(sessions)
        if kind == "import":
            assert done["result"]["rows"] == ROWS
            assert after == {**before, "batches": before["batches"] + 1, "activities": before["activities"] + ROWS}
            # the upload went to the new job: a second retry is refused with what to do instead
            r = api.post(f"/orgs/{ORG}/jobs/{job_id}/retry")
            assert r.status_code == 409 and "upload the file again" in r.json()["detail"]
            assert not list((tmp_path / "data" / "uploads").rglob("*.csv"))  # the spool is gone once it succeeded
        else:
            assert after == {**before, "inventories": before["inventories"] + 1}
    finally:
        api.close()
        server.stop()


def test_a_job_of_a_dead_process_is_failed_when_read_without_waiting_for_the_stale_timeout(world, tmp_path):
    """The stale sweep waits STALE_AFTER (5 min) for a silent runner; a runner on this host whose process is gone is
    failed as soon as anyone reads the job (page, API, CLI), even if no server or worker starts again."""
    sessions, url, env = world
    info = jobs.submit_import(sessions, ORG, "electricity", YEAR, "CN-2025.1", io.BytesIO(_csv(3)), "s.csv",
                              actor="user:a@example.org")
    child = fs.zerocarbon(["--version"], tmp_path / "v.log", env=env)
    child.proc.wait(60)
    from sqlalchemy import update

    from zerocarbon.store.tables import JobRow
    with sessions.begin() as s:  # claimed by a process that has ended since, heartbeat fresh
        s.execute(update(JobRow).where(JobRow.id == info.id).values(
            status="running", runner=f"{jobs.HOST}:{child.pid}:gone", started_at=jobs._now(),
            heartbeat_at=jobs._now()))
    listed = jobs.list_jobs(sessions, ORG).jobs[0]
    assert listed.id == info.id
    _failed_for_a_stopped_process(listed)
    # and the upload was kept for the retry, which a command can run to its end by itself
    from typer.testing import CliRunner

    from zerocarbon.cli.jobs import jobs_app
    out = CliRunner().invoke(jobs_app, ["retry", str(info.id), "--db", url, "--here"])
    assert out.exit_code == 0, out.output
    assert f"retried as job {info.id + 1}: succeeded" in out.output
    assert _stored(sessions)["activities"] == 3


def test_the_jobs_page_offers_retry_for_a_failed_job_to_who_may_run_its_kind_and_checks_csrf(world, tmp_path):
    from tests.api_support import PASSWORD, client, fast_passwords, person
    from zerocarbon.store.tables import JobRow
    from sqlalchemy import update

    sessions, url, env = world
    import_bytes(sessions, ORG, "e.csv", electricity("E1"), tmp_path)
    failed = jobs.submit(sessions, ORG, "inventory.compute", {"year": YEAR}, actor="user:someone@example.org")
    with sessions.begin() as s:
        s.execute(update(JobRow).where(JobRow.id == failed.id).values(status="failed", error=[
            {"file": None, "row": None, "column": None, "reason": "stopped"}]))
    with fast_passwords():
        for email, role in (("em@example.org", "energy_manager"), ("v@example.org", "viewer")):
            person(sessions, email, ORG, role)
            c = client(sessions, follow_redirects=False)
            assert c.post("/web/login", data={"email": email, "password": PASSWORD, "next": "/web/"}
                          ).status_code == 303
            row = c.get(f"/web/orgs/{ORG}/jobs/{failed.id}/row")
            if role == "viewer":  # may not run inventories: neither sees the job nor may retry it
                assert row.status_code == 404
                continue
            assert 'name="retry"' in row.text
            assert c.post(f"/web/orgs/{ORG}/jobs/{failed.id}/retry", data={}).status_code == 403  # no CSRF token
            r = c.post(f"/web/orgs/{ORG}/jobs/{failed.id}/retry", data={"csrf": c.cookies.get("zc_csrf")})
            assert r.status_code == 303
            new = jobs.list_jobs(sessions, ORG).jobs[0]
            assert new.params == {"year": YEAR, "retry_of": failed.id} and new.created_by == f"user:{email}"
            row = c.get(f"/web/orgs/{ORG}/jobs/{new.id}/row").text
            assert f"任务 {failed.id} 的重试" in row and 'name="retry"' not in row  # queued: nothing to retry
            r = c.post(f"/web/orgs/{ORG}/jobs/{new.id}/retry", data={"csrf": c.cookies.get("zc_csrf")})
            assert r.status_code == 409 and "only a failed or cancelled job can be retried" in r.text


# --- `zerocarbon worker` on Redis -------------------------------------------------------------------------------

def _redis(monkeypatch):
    try:
        import redis

        r = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        r.ping()
    except Exception as exc:
        require_service("Redis", f"Redis not reachable at {REDIS_URL}: {exc}")
    queue = f"zerocarbon-faults:{uuid.uuid4().hex}"
    monkeypatch.setenv(jobs.QUEUE_ENV, queue)
    monkeypatch.setenv(jobs.REDIS_ENV, REDIS_URL)
    return r, queue


def _schedule_runs(sessions) -> int:
    return schedule_runs.list_runs(sessions, ORG).total


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["import", "inventory", "schedule"])
def test_sigkill_of_a_worker_mid_job_leaves_nothing_half_written_and_the_job_failed_and_retryable(
        world, tmp_path, monkeypatch, kind):
    sessions, url, env = world
    r, queue = _redis(monkeypatch)
    env = dict(env, ZEROCARBON_REDIS_URL=REDIS_URL, ZEROCARBON_REDIS_QUEUE=queue)
    actor = "user:a@example.org"
    if kind == "import":
        info = jobs.submit_import(sessions, ORG, "electricity", YEAR, "CN-2025.1", io.BytesIO(_csv()), "big.csv",
                                  actor=actor)
    elif kind == "inventory":
        import_bytes(sessions, ORG, "e.csv", electricity("E1"), tmp_path)
        info = jobs.submit(sessions, ORG, "inventory.compute", {"year": YEAR}, actor=actor)
    else:
        week = json.dumps(laptop_week(n_orders=3)).encode()
        info = jobs.submit_schedule(sessions, ORG, io.BytesIO(week), "week.json", actor=actor, time_limit=1,
                                    workers=1)
    before = (_stored(sessions), _schedule_runs(sessions))
    marker = tmp_path / "paused"
    table = {"import": "import_batches", "inventory": "inventories", "schedule": "schedule_runs"}[kind]
    worker = fs.zerocarbon(["worker", "--db", url], tmp_path / "worker.log", env=env, pause_table=table,
                           marker=marker)
    try:
        fs.until(lambda: marker.exists() or worker.proc.poll() is not None, 90,
                 what="the job's transaction before its commit")
        assert marker.exists(), worker.output()
        worker.sigkill()
        reason = _failed_for_a_stopped_process(jobs.get(sessions, ORG, info.id))
        assert (_stored(sessions), _schedule_runs(sessions)) == before
        assert "nothing of it was stored" in reason
        worker = fs.zerocarbon(["worker", "--db", url], tmp_path / "worker.log", env=env)
        again = jobs.retry(sessions, ORG, info.id, actor=actor)
        done = fs.until(lambda: (lambda j: j if j.finished else None)(jobs.get(sessions, ORG, again.id)), 90, 0.2,
                        "the retried job's end")
        assert done.status == "succeeded", (done, worker.output()[-2000:])
        stored, runs = _stored(sessions), _schedule_runs(sessions)
        if kind == "import":
            assert stored["batches"] == before[0]["batches"] + 1 and stored["activities"] == ROWS
        elif kind == "inventory":
            assert stored["inventories"] == before[0]["inventories"] + 1
        else:
            assert runs == before[1] + 1 and done.result["run_id"]
        # the restarted worker pushed the queued retry again (a restarted Redis loses its list): run once, drained
        fs.until(lambda: r.llen(queue) == 0, 30, 0.1, "the queue drained")
    finally:
        worker.stop()
        r.delete(queue)


# --- MQTT ingest and the broker ---------------------------------------------------------------------------------

N = 2000
CID = "fault-ingest"


def _message(i: int) -> tuple[str, bytes]:
    """Reading i of meter M0 (1-minute intervals from 2026-08-01), value i + 1 kWh."""
    ts = f"2026-08-{1 + i // 1440:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z"
    return "zc/ORG/HF01/SMT/SMT1/M0", json.dumps({"v": 1, "unit": "kWh", "ts": ts, "value": i + 1.0}).encode()


EXPECTED_SUM = sum(i + 1.0 for i in range(N))


def _readings(sessions) -> tuple[int, float, int]:
    with sessions() as s:
        count, total = s.execute(select(func.count(), func.coalesce(func.sum(ReadingRow.value), 0.0))).one()
        dead = s.scalar(select(func.count()).select_from(DeadLetterRow))
    return int(count), float(total), int(dead)


def _ingest(url: str, port: int, log, env) -> fs.Command:
    return fs.zerocarbon(["ingest", "mqtt", "--db", url, "--port", str(port), "--client-id", CID,
                          "--processes", "1"], log, env=env)


class Publisher:
    """A gateway as paho behaves: QoS 1 on a persistent session (clean_session False), resending what the broker has
    not acknowledged after each reconnect; publishes ``messages`` in a thread, ``pace`` seconds apart, holding
    after the first ``hold_after`` until ``go`` is set (so a fault is sure to fall inside the burst)."""

    def __init__(self, port: int, messages, pace: float = 0.0, hold_after: int | None = None):
        import paho.mqtt.client as mqtt

        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{CID}-gateway", clean_session=False,
                                  protocol=mqtt.MQTTv311)
        self.client.max_queued_messages_set(0)  # nothing dropped while the broker is away
        self.client.max_inflight_messages_set(100)
        self.client.reconnect_delay_set(0.1, 1)
        self.acked: set[int] = set()  # mids the broker acknowledged (PUBACK); published while away, paho resends
        self.client.on_publish = lambda client, userdata, mid, reason_code, properties: self.acked.add(mid)
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        self.messages, self.pace, self.sent, self.infos = messages, pace, 0, []
        self.hold_after, self.go = hold_after, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for i, (topic, payload) in enumerate(self.messages):
            if i == self.hold_after:
                self.go.wait(120)
            self.infos.append(self.client.publish(topic, payload, qos=1))
            self.sent += 1
            if self.pace:
                time.sleep(self.pace)

    def finish(self, seconds: float = 60.0) -> None:
        self.thread.join(seconds)
        mids = {i.mid for i in self.infos}
        assert len(mids) == len(self.messages)
        fs.until(lambda: mids <= self.acked, seconds, 0.1, "the broker's acknowledgement of every message")
        self.client.loop_stop()
        self.client.disconnect()


def _meters(sessions) -> None:
    register_meters(sessions, ORG, {"M0": Meter("M0", "HF01", line="SMT1", interval_min=1)}, actor="test")


@pytest.mark.slow
def test_sigkill_of_the_ingest_process_mid_burst_stores_every_reading_exactly_once(world, tmp_path):
    """tests/test_mqtt.py kills the ingest's worker process; here the `zerocarbon ingest mqtt` process itself dies,
    with readings received, some stored and acknowledged, some stored and not yet acknowledged."""
    sessions, url, env = world
    _meters(sessions)
    with fs.private_broker(tmp_path / "broker") as broker:
        ingest = _ingest(url, broker.port, tmp_path / "ingest.log", env)
        try:
            fs.until(lambda: "listening on" in ingest.output(), 90, 0.1, "ingest listening")
            pub = Publisher(broker.port, [_message(i) for i in range(N)], pace=0.0002, hold_after=N // 2)
            fs.until(lambda: _readings(sessions)[0] >= N // 4, 60, 0.02, "a quarter of the burst stored")
            ingest.sigkill()
            killed_at = _readings(sessions)[0]
            pub.go.set()
            pub.finish()
            assert killed_at < N
            ingest.stop()
            ingest = _ingest(url, broker.port, tmp_path / "ingest.log", env)
            fs.until(lambda: _readings(sessions)[0] >= N, 60, 0.1, "every reading stored")
            time.sleep(1)  # anything redelivered twice would be stored (or dead-lettered) within this
            assert _readings(sessions) == (N, EXPECTED_SUM, 0)
        finally:
            ingest.stop()


# Mosquitto keeps its sessions, subscriptions and queued messages in memory and writes them to its persistence file
# on shutdown and every autosave_interval (default 30 min). Killed, it forgets what came since: even the ingest's
# subscription, so a gateway reconnecting first has its resent messages acknowledged and dropped. Saving on every
# change closes that window (bench/broker_autosave.py measures the cost; deploy/mosquitto.conf explains why it is
# offered, not shipped). The other tests here leave it out: they do not kill the broker.
SAVE_EVERY_CHANGE = "autosave_interval 1\nautosave_on_changes true\n"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_broker_restart_mid_burst_loses_and_duplicates_nothing(world, tmp_path, how):
    """The broker goes away mid-burst and comes back on the same persistence folder: the ingest reconnects by
    itself, the gateway resends what was not acknowledged, and every reading is stored once."""
    sessions, url, env = world
    _meters(sessions)
    with fs.private_broker(tmp_path / "broker", SAVE_EVERY_CHANGE if how == "SIGKILL" else "") as broker:
        ingest = _ingest(url, broker.port, tmp_path / "ingest.log", env)
        try:
            fs.until(lambda: "listening on" in ingest.output(), 90, 0.1, "ingest listening")
            pub = Publisher(broker.port, [_message(i) for i in range(N)], pace=0.0002, hold_after=N // 2)
            fs.until(lambda: _readings(sessions)[0] >= N // 4, 60, 0.02, "a quarter of the burst stored")
            broker.kill(getattr(signal, how))
            pub.go.set()  # the gateway goes on publishing while the broker is away
            time.sleep(0.5)
            broker.start()
            pub.finish(90)
            try:
                fs.until(lambda: _readings(sessions)[0] >= N, 30, 0.1, "every reading stored")
            except AssertionError:
                raise AssertionError(f"{_readings(sessions)} {ingest.output()[-3000:]}")
            time.sleep(1)
            assert _readings(sessions) == (N, EXPECTED_SUM, 0)
            assert ingest.proc.poll() is None, ingest.output()  # it reconnected by itself
        finally:
            ingest.stop()
