"""`zerocarbon doctor`: each startup check finds the fault it is for, says the fix, and passes a sound deployment.

Brokers are private Mosquitto instances on free ports in tmp folders (never the shared one): one with Mosquitto's
defaults (its per-client queue of 1000 drops QoS 1 messages for an offline session), one set up like
deploy/mosquitto.conf (persistence, max_queued_messages 0, allow_anonymous false, a password file from
deploy/mqtt-users.sh, which hashes with mosquitto_passwd, and deploy/mosquitto.acl as shipped).
The lake that cannot be written is a path under a file (the probe cannot create it, root or not) and, where the
test may mount, a read-only bind mount (root ignores chmod, not a read-only mount). The network folder is a fake
mount table the check is pointed at.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.api_support import app_with, fast_passwords, load_org, login_client, person
from tests.conftest import BACKENDS, alembic_config, blank_engine
from tests.services import require_service
from tests.test_mqtt import _start as start_mosquitto
from zerocarbon.services import doctor
from zerocarbon.store.db import make_engine, session_factory, upgrade

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def by_check(report) -> dict[str, doctor.Finding]:
    return {f.check: f for f in report.findings}


# -- brokers ------------------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mosquitto() -> str:
    exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if not exe or not shutil.which("mosquitto_passwd"):
        require_service("Mosquitto", "mosquitto and mosquitto_passwd are needed (apt install mosquitto)")
    return exe


def _start(conf: Path, port: int) -> subprocess.Popen:
    proc = start_mosquitto(_mosquitto(), conf, port)
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
    except OSError:
        proc.terminate()
        raise RuntimeError("mosquitto did not open its port") from None
    return proc


@pytest.fixture
def default_broker(tmp_path):
    """Mosquitto with its defaults, listening on loopback and letting anyone in (as a quick install does)."""
    port = _free_port()
    conf = tmp_path / "default.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    proc = _start(conf, port)
    yield {"port": port, "conf": conf}
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def deploy_broker(tmp_path):
    """Mosquitto with deploy/mosquitto.conf's settings on one plain loopback listener: persistence,
    max_queued_messages 0, allow_anonymous false, users from deploy/mqtt-users.sh and deploy/mosquitto.acl as
    shipped (it grants the probe user its topics)."""
    _mosquitto()
    users = tmp_path / "users"
    subprocess.run([str(DEPLOY / "mqtt-users.sh"), str(users), "zerocarbon-ingest", "zerocarbon-doctor"],
                   check=True, capture_output=True)
    acl = tmp_path / "zerocarbon.acl"
    shutil.copy(DEPLOY / "mosquitto.acl", acl)
    port = _free_port()
    conf = (DEPLOY / "mosquitto.conf").read_text()
    # Only the TLS listener goes (certificates are test_mqtt's business); every other line stays as shipped.
    conf = re.sub(r"(?ms)^listener 8883$.*?^tls_version .*?$", "", conf)
    swaps = {r"(?m)^listener 1883 127\.0\.0\.1$": f"listener {port} 127.0.0.1",
             r"(?m)^password_file .*$": f"password_file {users / 'passwd'}",
             r"(?m)^acl_file .*$": f"acl_file {acl}",
             r"(?m)^persistence_location .*$": f"persistence_location {tmp_path}/"}
    for pattern, line in swaps.items():
        conf, n = re.subn(pattern, line, conf)
        assert n == 1, pattern
    if os.geteuid() == 0:  # as root Mosquitto would switch to its own user, who cannot read tmp_path
        conf += "user root\n"
    (tmp_path / "broker.conf").write_text(conf)
    proc = _start(tmp_path / "broker.conf", port)
    secret = {u: (users / f"{u}.secret").read_text().strip() for u in ("zerocarbon-ingest", "zerocarbon-doctor")}
    yield {"port": port, "conf": tmp_path / "broker.conf", "secret": secret, "users": users}
    proc.terminate()
    proc.wait(5)


def test_default_broker_drops_queued_qos1_and_lets_anyone_in(default_broker, tmp_path):
    """Mosquitto's default queue: 1200 messages queued for an offline persistent session, 1000 delivered."""
    b = doctor.parse_broker(f"127.0.0.1:{default_broker['port']}")
    probe = doctor.probe_queue(b)
    assert probe.refused is None and probe.sent == doctor.PROBE_MESSAGES
    assert 0 < probe.received < probe.sent  # the drop is the broker's, not the probe's
    f = doctor.queue_finding(b, probe)
    assert f.severity == doctor.ERROR and f"dropped {probe.sent - probe.received} of {probe.sent}" in f.found
    assert "max_queued_messages 0" in f.fix and "max_queued_bytes 0" in f.fix
    anon = doctor.anonymous_finding(b, doctor.probe_login(b, None, None))
    assert anon.severity == doctor.ERROR and "allow_anonymous false" in anon.fix and "password_file" in anon.fix
    config = by_check(doctor.Report(tuple(doctor.broker_config_findings(
        doctor.read_broker_config(default_broker["conf"]), "default.conf"))))
    assert config["broker.config.queue"].severity == doctor.ERROR
    assert "at most 1000" in config["broker.config.queue"].found
    assert config["broker.config.anonymous"].severity == doctor.ERROR
    assert config["broker.config.persistence"].severity == doctor.WARNING
    from zerocarbon.cli import app

    r = CliRunner().invoke(app, ["doctor", "--db", _database_at_head(tmp_path), "--broker",
                                 f"127.0.0.1:{default_broker['port']}", "--probe-queue", "--json"],
                           env={"ZEROCARBON_MQTT_USERNAME": "", "ZEROCARBON_MQTT_PASSWORD": "", "ZEROCARBON_LAKE": ""})
    rows = {c["check"]: c for c in json.loads(r.stdout)["checks"]}
    assert r.exit_code == 3 and rows["broker.queue"]["severity"] == "error" and "dropped" in rows["broker.queue"]["found"]
    assert "丢弃" in rows["broker.queue"]["found_zh"]


def test_deploy_broker_passes_with_the_probe_user_and_refuses_anonymous(deploy_broker, tmp_path):
    port, secret = deploy_broker["port"], deploy_broker["secret"]
    b = doctor.parse_broker(f"127.0.0.1:{port}", "zerocarbon-doctor", secret["zerocarbon-doctor"])
    probe = doctor.probe_queue(b)
    assert (probe.sent, probe.received, probe.refused) == (doctor.PROBE_MESSAGES, doctor.PROBE_MESSAGES, None)
    assert doctor.queue_finding(b, probe).severity == doctor.OK
    assert doctor.anonymous_finding(b, doctor.probe_login(b, None, None)).severity == doctor.OK
    assert doctor.probe_login(b, "zerocarbon-ingest", "zerocarbon-ingest").accepted is False
    # The ingest user may read but not write the probe's topics: the probe says it could not run, not "drops".
    ingest = doctor.parse_broker(f"127.0.0.1:{port}", "zerocarbon-ingest", secret["zerocarbon-ingest"])
    refused = doctor.queue_finding(ingest, doctor.probe_queue(ingest, count=5))
    assert refused.severity == doctor.WARNING and "could not run" in refused.found
    assert "topic readwrite zerocarbon-doctor/#" in refused.fix
    # The shipped configuration read statically: only the crash window it leaves open (deploy/mosquitto.conf).
    shipped = by_check(doctor.Report(tuple(doctor.broker_config_findings(
        doctor.read_broker_config(DEPLOY / "mosquitto.conf"), "deploy/mosquitto.conf"))))
    assert {k for k, f in shipped.items() if f.severity != doctor.OK} == {"broker.config.autosave"}

    # The whole command: broker rows pass, the password never appears in the output, exit code 0.
    from zerocarbon.cli import app

    db = _database_at_head(tmp_path)
    env = {"ZEROCARBON_MQTT_USERNAME": "zerocarbon-doctor", "ZEROCARBON_MQTT_PASSWORD": secret["zerocarbon-doctor"],
           "ZEROCARBON_DATA_DIR": str(tmp_path), "ZEROCARBON_PASSWORD": ""}
    r = CliRunner().invoke(app, ["doctor", "--db", db, "--broker", f"127.0.0.1:{port}", "--probe-queue", "--json",
                                 "--lake", str(tmp_path), "--broker-config", str(DEPLOY / "mosquitto.conf"),
                                 "--broker-secrets", str(deploy_broker["users"])], env=env)
    out = json.loads(r.stdout)
    rows = {c["check"]: c["severity"] for c in out["checks"]}
    assert r.exit_code == 0 and out["errors"] == 0, r.stdout
    for check in ("broker.queue", "broker.anonymous", "secrets.broker_default_login", "secrets.broker_password",
                  "secrets.broker_files", "broker.config.queue", "database.migrations", "lake.writable"):
        assert rows[check] == "ok", (check, r.stdout)
    assert secret["zerocarbon-doctor"] not in r.stdout


# -- database ----------------------------------------------------------------------------------------------------
def _database_at_head(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'zc.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_database_behind_or_ahead_of_the_code_is_an_error_and_doctor_changes_nothing(kind, tmp_path):
    heads, _known = doctor.code_revisions()
    (head,) = heads
    with blank_engine(kind, tmp_path) as engine:
        with engine.connect() as conn:
            from alembic import command

            cfg = alembic_config(conn)
            command.upgrade(cfg, "0018")  # one migration behind the code's head
            conn.commit()
        f = by_check(doctor.run(doctor.Options(env={}), engine=engine))["database.migrations"]
        assert f.severity == doctor.ERROR and "behind" in f.found and "zerocarbon db upgrade" in f.fix
        assert doctor.database_revisions(engine) == {"0018"}  # reported, not migrated
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        f = by_check(doctor.run(doctor.Options(env={}), engine=engine))["database.migrations"]
        assert f.severity == doctor.ERROR and "code is older than the database" in f.found
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE alembic_version SET version_num = '{head}'"))
        report = by_check(doctor.run(doctor.Options(env={}), engine=engine))
        assert report["database.migrations"].severity == doctor.OK
        clock = report["clock.database"]
        # PostgreSQL answers with its own clock (here the same machine's); SQLite has none of its own.
        assert clock.severity == (doctor.OK if kind == "postgresql" else doctor.SKIPPED), clock


def test_sqlite_on_a_network_mount_is_an_error(tmp_path):
    db = _database_at_head(tmp_path)
    mounts = tmp_path / "mounts"
    share = str(tmp_path).replace(" ", "\\040")
    mounts.write_text("/dev/vda / ext4 rw 0 0\n"
                      f"//files.plant.local/zerocarbon {share} cifs rw,vers=3.0 0 0\n")
    f = by_check(doctor.run(doctor.Options(db=db, mounts_file=mounts, env={})))["database.filesystem"]
    assert f.severity == doctor.ERROR and "cifs" in f.found and "PostgreSQL" in f.fix
    # The same file on a local mount passes; a mount above a network one (a local disk over an NFS parent) wins.
    mounts.write_text(f"server:/export / nfs4 rw 0 0\n/dev/sdb {share} ext4 rw 0 0\n")
    assert by_check(doctor.run(doctor.Options(db=db, mounts_file=mounts, env={})))["database.filesystem"].severity == doctor.OK
    for fstype in ("nfs", "nfs4", "smb3", "sshfs", "fuse.sshfs", "9p"):
        assert doctor.is_network_fs(fstype), fstype
    assert not doctor.is_network_fs("ext4") and not doctor.is_network_fs("xfs")
    escaped = doctor.read_mounts(_write(tmp_path / "m2", "nas:/v /mnt/plant\\040data nfs rw 0 0\n"))
    assert doctor.mount_of(Path("/mnt/plant data/zc.sqlite"), escaped).fstype == "nfs"


def _write(path: Path, content: str) -> Path:
    path.write_text(content)
    return path


# -- clocks --------------------------------------------------------------------------------------------------------
def test_clock_skew_thresholds_count_only_what_the_round_trip_cannot_explain():
    def sev(skew, rtt_half=0.0):
        return doctor.skew_finding("clock.x", ("x", "x"), doctor.ClockReading(skew, rtt_half), doctor.NTP_FIX).severity

    assert sev(4.0) == doctor.OK and sev(-4.9) == doctor.OK
    assert sev(6.0) == doctor.WARNING and sev(-30.0) == doctor.WARNING
    assert sev(61.0) == doctor.ERROR and sev(-3600.0) == doctor.ERROR
    assert sev(6.0, rtt_half=2.0) == doctor.OK  # 6 s measured over a 4 s round trip may be no skew at all
    f = doctor.skew_finding("clock.x", ("the database server", "数据库服务器"), doctor.ClockReading(-90, 0.01),
                            doctor.NTP_FIX)
    assert "90.0 s behind" in f.found and "chrony" in f.fix


def test_gateway_clocks_ahead_are_named_from_the_readings(tmp_path):
    from zerocarbon.store.tables import OrganisationRow, ReadingRow

    sessions = session_factory(make_engine(_database_at_head(tmp_path)))
    load_org(sessions, "ACME")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with sessions.begin() as s:
        org_id = s.query(OrganisationRow.id).filter_by(code="ACME").scalar()
        s.add_all([ReadingRow(organisation_id=org_id, meter="FAST", ts=now + timedelta(minutes=3), value=1.0,
                              unit="kWh", flag="", received_at=now),
                   ReadingRow(organisation_id=org_id, meter="GOOD", ts=now - timedelta(minutes=15), value=1.0,
                              unit="kWh", flag="", received_at=now)])
    f = by_check(doctor.run(doctor.Options(db=str(sessions.kw["bind"].url), env={})))["clock.devices"]
    assert f.severity == doctor.ERROR and "ACME/FAST +180 s" in f.found and "GOOD" not in f.found
    assert "NTP" in f.fix
    assert doctor.device_clock_finding([]).severity == doctor.SKIPPED
    remote = doctor.broker_clock_finding(doctor.parse_broker("broker.plant.local:8883"))
    assert remote.severity == doctor.SKIPPED and "chronyc tracking" in remote.fix


# -- folders ---------------------------------------------------------------------------------------------------------
def test_lake_that_cannot_be_created_is_an_error_and_a_sound_one_passes(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    f = doctor.folder_findings("lake", ("lake folder", "数据湖文件夹"), doctor.probe_folder(blocker / "lake"), "--lake")
    assert f[0].severity == doctor.ERROR and "is a file" in f[0].found and "mkdir -p" in f[0].fix
    good = tmp_path / "lake"
    good.mkdir()
    found = doctor.folder_findings("lake", ("lake folder", "数据湖文件夹"), doctor.probe_folder(good), "--lake")
    assert [x.severity for x in found] == [doctor.OK, doctor.OK]
    assert list(good.iterdir()) == []  # the probe file is gone
    missing = doctor.folder_findings("lake", ("lake folder", "数据湖文件夹"), doctor.probe_folder(good / "new"), "--lake")
    assert missing[0].severity == doctor.WARNING and "does not exist" in missing[0].found
    low = doctor.folder_findings("lake", ("lake folder", "数据湖文件夹"), doctor.probe_folder(good), "--lake",
                                 min_free=1 << 60)
    assert low[1].severity == doctor.WARNING and "free" in low[1].found


def test_lake_on_a_read_only_mount_is_an_error(tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(lake), str(lake)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"this test may not mount (needs CAP_SYS_ADMIN): {mounted.stderr.decode().strip()}")
    try:
        probe = doctor.probe_folder(lake)
    finally:
        subprocess.run(["umount", str(lake)], check=True)
    f = doctor.folder_findings("lake", ("lake folder", "数据湖文件夹"), probe, "--lake")
    assert f[0].severity == doctor.ERROR and "Read-only file system" in f[0].found


# -- secrets ---------------------------------------------------------------------------------------------------------
def test_default_secrets_are_each_reported_with_their_fix(tmp_path):
    from zerocarbon.services import demo_users, users

    url = _database_at_head(tmp_path)
    sessions = session_factory(make_engine(url))
    with fast_passwords():
        load_org(sessions, "ACME")
        load_org(sessions, demo_users.DEMO_ORG)
        demo_users.create_demo_users(sessions, actor="demo")
        users.create_token(sessions, "ACME", "gateway-1", ["import.write"], actor="test")
        users.create_token(sessions, "ACME", "erp", ["inventory.read"], actor="test")
    from zerocarbon.store.users import ApiTokenRow

    with sessions.begin() as s:
        s.query(ApiTokenRow).filter_by(name="gateway-1").update(
            {"created_at": datetime.now(timezone.utc) - timedelta(days=400)})
    secrets_dir = tmp_path / "mqtt"
    secrets_dir.mkdir()
    (secrets_dir / "zerocarbon-ingest.secret").write_text("x" * 32)
    (secrets_dir / "zerocarbon-ingest.secret").chmod(0o644)
    pg_url = "postgresql+psycopg://postgres:postgres@db.plant.local/zerocarbon"
    env = {"ZEROCARBON_PASSWORD": "a passphrase of several words",
           "ZEROCARBON_REDIS_URL": "redis://:redis@127.0.0.1:6379/0"}
    found = doctor.environment_findings(env, "zerocarbon-ingest", "zerocarbon-ingest", pg_url,
                                        doctor._shown(pg_url))
    report = doctor.run(doctor.Options(db=url, broker_secrets=secrets_dir, env=env))
    rows = by_check(doctor.Report(tuple(found) + report.findings))
    demo = rows["secrets.demo_users"]
    assert demo.severity == doctor.ERROR and "viewer@demo.zerocarbon" in demo.found
    assert "zerocarbon users disable admin@demo.zerocarbon" in demo.fix
    tokens = rows["secrets.tokens"]
    assert tokens.severity == doctor.WARNING and "ACME/gateway-1" in tokens.found and "erp" not in tokens.found
    assert "zerocarbon users token revoke --org ACME --name gateway-1" in tokens.fix
    assert rows["secrets.env_password"].severity == doctor.ERROR
    assert rows["secrets.broker_password"].severity == doctor.ERROR and "mqtt-users.sh" in rows["secrets.broker_password"].fix
    assert rows["secrets.database_password"].severity == doctor.ERROR and "ALTER ROLE postgres" in rows["secrets.database_password"].fix
    assert rows["secrets.redis_password"].severity == doctor.ERROR
    assert rows["secrets.broker_files"].severity == doctor.ERROR and "chmod 600" in rows["secrets.broker_files"].fix
    # Never the secret itself.
    dumped = json.dumps([f.to_dict() for f in found] + report.to_dict()["checks"], ensure_ascii=False)
    assert "postgres:postgres" not in dumped and "several words" not in dumped and ":redis@" not in dumped

    # A demo database (only the demo organisation) is what `zerocarbon demo` is for: no finding.
    (tmp_path / "demo").mkdir()
    demo_only = session_factory(make_engine(_database_at_head(tmp_path / "demo")))
    with fast_passwords():
        load_org(demo_only, demo_users.DEMO_ORG)
        demo_users.create_demo_users(demo_only, actor="demo")
    assert by_check(doctor.run(doctor.Options(db=str(demo_only.kw["bind"].url), env={})))[
        "secrets.demo_users"].severity == doctor.OK


def test_broker_config_static_reading_follows_include_dir_and_flags_open_plain_listeners(tmp_path):
    extra = tmp_path / "conf.d"
    extra.mkdir()
    (extra / "limits.conf").write_text("max_queued_messages 5000\n")
    main = _write(tmp_path / "mosquitto.conf", f"# comment\nlistener 1883\nallow_anonymous false\npassword_file /p\n"
                                               f"acl_file /a\npersistence true\ninclude_dir {extra}\n")
    rows = by_check(doctor.Report(tuple(doctor.broker_config_findings(doctor.read_broker_config(main), "m"))))
    assert rows["broker.config.queue"].severity == doctor.ERROR and "5000" in rows["broker.config.queue"].found
    assert "limits.conf:1" in rows["broker.config.queue"].found
    assert rows["broker.config.tls"].severity == doctor.WARNING
    assert rows["broker.config.anonymous"].severity == doctor.OK
    # Persistence on, saved only every 30 min (Mosquitto's default): a crash forgets the sessions and queues.
    autosave = rows["broker.config.autosave"]
    assert autosave.severity == doctor.WARNING and "every 1800 s" in autosave.found
    assert "a broker crash forgets persistent sessions and queued messages" in autosave.found
    assert "autosave_on_changes true\n  autosave_interval 1" in autosave.fix and "崩溃" in autosave.found_zh
    (extra / "save.conf").write_text("autosave_on_changes true\nautosave_interval 100\n")
    autosave = by_check(doctor.Report(tuple(doctor.broker_config_findings(doctor.read_broker_config(main), "m"))))[
        "broker.config.autosave"]
    assert autosave.severity == doctor.WARNING and "every 100 changes" in autosave.found
    assert "save.conf:2" in autosave.found
    (extra / "save.conf").write_text("autosave_on_changes true\nautosave_interval 1\n")
    assert by_check(doctor.Report(tuple(doctor.broker_config_findings(doctor.read_broker_config(main), "m"))))[
        "broker.config.autosave"].severity == doctor.OK
    # The shipped configuration: only the crash window it leaves open by choice (deploy/mosquitto.conf).
    shipped = by_check(doctor.Report(tuple(doctor.broker_config_findings(
        doctor.read_broker_config(DEPLOY / "mosquitto.conf"), "deploy/mosquitto.conf"))))
    assert {k for k, f in shipped.items() if f.severity != doctor.OK} == {"broker.config.autosave"}


# -- the command and the endpoint ------------------------------------------------------------------------------------
def test_cli_exit_codes_and_json(tmp_path):
    from zerocarbon.cli import app

    db = _database_at_head(tmp_path)
    lake = tmp_path / "lake"
    lake.mkdir()
    env = {"ZEROCARBON_PASSWORD": "", "ZEROCARBON_MQTT_BROKER": "", "ZEROCARBON_LAKE": ""}
    r = CliRunner().invoke(app, ["doctor", "--db", db, "--lake", str(lake), "--data-dir", str(tmp_path), "--json"],
                           env=env)
    out = json.loads(r.stdout)
    assert r.exit_code == 0 and out["ok"] and out["errors"] == 0, r.stdout
    assert {c["check"]: c["severity"] for c in out["checks"]}["broker"] == "skipped"
    r = CliRunner().invoke(app, ["doctor", "--db", db, "--lake", str(tmp_path / "f" / "lake"), "--lang", "zh"],
                           env=dict(env, COLUMNS="200"))
    assert r.exit_code == 0  # a lake not yet made is a warning
    (tmp_path / "f").write_text("a file where the lake's parent should be")
    r = CliRunner().invoke(app, ["doctor", "--db", db, "--lake", str(tmp_path / "f" / "lake"), "--lang", "zh"],
                           env=dict(env, COLUMNS="200"))
    assert r.exit_code == 3 and "错误" in r.stdout and "数据湖文件夹可写" in r.stdout
    r = CliRunner().invoke(app, ["doctor", "--db", db, "--broker", "host:99999"], env=env)
    assert r.exit_code == 2 and "not 1..65535" in r.output
    closed = _free_port()  # nothing listens there
    r = CliRunner().invoke(app, ["doctor", "--db", db, "--broker", f"127.0.0.1:{closed}", "--json"], env=env)
    rows = {c["check"]: c for c in json.loads(r.stdout)["checks"]}
    assert r.exit_code == 3 and rows["broker.anonymous"]["severity"] == "error"
    assert f"cannot connect to 127.0.0.1:{closed}" in rows["broker.anonymous"]["found"]
    r = CliRunner().invoke(app, ["doctor", "--db", db, "--probe-queue"], env=env)
    assert r.exit_code == 2 and "--broker" in r.output


def test_endpoint_is_for_admins_and_shows_no_secret(tmp_path, monkeypatch):
    from zerocarbon.api.routes import system
    from zerocarbon.services import users

    sessions = session_factory(make_engine(_database_at_head(tmp_path)))
    monkeypatch.setenv("ZEROCARBON_LAKE", str(tmp_path))
    monkeypatch.setenv("ZEROCARBON_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ZEROCARBON_PASSWORD", "a passphrase of several words")
    monkeypatch.delenv("ZEROCARBON_MQTT_BROKER", raising=False)
    with fast_passwords():
        load_org(sessions, "ACME")
        person(sessions, "boss@acme.cn", "ACME", "admin")
        person(sessions, "alice@acme.cn", "ACME", "energy_manager")
        _info, secret = users.create_token(sessions, "ACME", "ops", ["users.manage"], actor="test")
        app = app_with(sessions, (system.router, "/api/v1"))
        admin = login_client(app, "boss@acme.cn")
        manager = login_client(app, "alice@acme.cn")
    r = admin.get("/api/v1/doctor")
    assert r.status_code == 200, r.text
    body = r.json()
    rows = {c["check"]: c for c in body["checks"]}
    assert rows["database.migrations"]["severity"] == "ok" and rows["lake.writable"]["severity"] == "ok"
    assert rows["secrets.env_password"]["severity"] == "error" and not body["ok"]
    assert rows["secrets.env_password"]["title_zh"]
    assert "several words" not in r.text
    assert manager.get("/api/v1/doctor").status_code == 403
    from fastapi.testclient import TestClient

    machine = TestClient(app, base_url="https://testserver")  # a token, even one allowed users.manage: refused
    assert machine.get("/api/v1/doctor", headers={"Authorization": f"Bearer {secret}"}).status_code == 403
    assert machine.get("/api/v1/doctor").status_code == 401


def test_checks_page_is_for_admins_in_the_page_language_and_never_probes_the_queue(tmp_path, monkeypatch):
    from tests.api_support import app_with, web_login_client
    from zerocarbon.web import i18n

    sessions = session_factory(make_engine(_database_at_head(tmp_path)))
    broker_secret = "q7Vd2LmZ8xT4nR6pK1sW9yB3cF5hJ0gA"
    for name, value in {"ZEROCARBON_LAKE": str(tmp_path), "ZEROCARBON_DATA_DIR": str(tmp_path),
                        "ZEROCARBON_PASSWORD": "a passphrase of several words",
                        "ZEROCARBON_MQTT_BROKER": "127.0.0.1:1", "ZEROCARBON_MQTT_USERNAME": "zerocarbon-ingest",
                        "ZEROCARBON_MQTT_PASSWORD": broker_secret}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ZEROCARBON_MQTT_CONFIG", raising=False)
    # A broker that lets anyone in, without a broker: the page must report it and must not run the queue probe.
    monkeypatch.setattr(doctor, "probe_login", lambda *a, **k: doctor.ConnectResult(True, "Success"))

    def no_probe(*_a, **_k):
        raise AssertionError("the page ran the active queue probe")

    monkeypatch.setattr(doctor, "probe_queue", no_probe)
    with fast_passwords():
        load_org(sessions, "ACME")
        load_org(sessions, "BETA")
        person(sessions, "boss@acme.cn", "ACME", "admin")
        person(sessions, "boss@acme.cn", "BETA", "viewer")
        person(sessions, "alice@acme.cn", "ACME", "energy_manager")
        person(sessions, "alice@acme.cn", "BETA", "energy_manager")
        app = app_with(sessions)
        admin = web_login_client(app, "boss@acme.cn")
        manager = web_login_client(app, "alice@acme.cn")

    admin.get("/web/lang/en")
    r = admin.get("/web/system/checks")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
    rows = dict(re.findall(r'<tr data-check="([a-z_.]+)" data-severity="([a-z]+)">', r.text))
    assert rows["database.migrations"] == "ok" and rows["lake.writable"] == "ok"
    assert rows["secrets.env_password"] == "error" and rows["broker.anonymous"] == "error"
    assert rows["broker.queue"] == "skipped" and rows["clock.broker"] == "ok"
    assert "allow_anonymous false" in r.text and "Startup checks" in r.text and "启动检查" not in r.text
    assert "several words" not in r.text and broker_secret not in r.text
    # The link: on the organisation list of an admin, in the menu where the role is admin, nowhere else.
    assert 'href="/web/system/checks"' in admin.get("/web/").text
    assert 'href="/web/system/checks"' in admin.get("/web/orgs/ACME/jobs").text
    assert 'href="/web/system/checks"' not in admin.get("/web/orgs/BETA/jobs").text
    assert 'href="/web/system/checks"' not in manager.get("/web/orgs/ACME/jobs").text
    assert "Test org BETA" in manager.get("/web/").text and 'href="/web/system/checks"' not in manager.get("/web/").text

    admin.get("/web/lang/zh-CN")
    zh = admin.get("/web/system/checks")
    assert zh.status_code == 200 and "启动检查" in zh.text and ">错误<" in zh.text and ">正常<" in zh.text
    assert "代理拒绝匿名客户端" in zh.text and "接受了无用户名和密码的客户端" in zh.text
    assert "Startup checks" not in zh.text

    refused = manager.get("/web/system/checks")
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert "data-check=" not in refused.text
    from fastapi.testclient import TestClient

    anonymous = TestClient(app, base_url="https://testserver", follow_redirects=False)
    r = anonymous.get("/web/system/checks")
    assert r.status_code == 303 and r.headers["location"].startswith("/web/login?next=")

    template = (Path(i18n.__file__).parent / "templates" / "system" / "checks.html").read_text(encoding="utf-8")
    keys = set(re.findall(r"""t\(["']([a-z0-9_.-]+)["']\s*[),]""", template)) | {
        f"system.checks.severity.{s}" for s in doctor.SEVERITIES} | {"nav.checks"}
    assert keys <= set(i18n.catalogue("en")) and keys <= set(i18n.catalogue("zh-CN"))


def test_the_server_engine_setting_is_checked():
    from zerocarbon.services import doctor

    assert doctor.engine_finding({}).severity == doctor.OK
    assert doctor.engine_finding({"ZEROCARBON_ENGINE": " spark "}).severity == doctor.OK
    bad = doctor.engine_finding({"ZEROCARBON_ENGINE": "polars"})
    assert bad.severity == doctor.ERROR and "'polars' is not an engine" in bad.found
    assert "duckdb or spark" in bad.fix
    env = {"ZEROCARBON_ENGINE": "polars"}
    assert any(f.check == "settings.zerocarbon_engine" and f.severity == doctor.ERROR
               for f in doctor.environment_findings(env, None, None, "sqlite://", "sqlite://"))
