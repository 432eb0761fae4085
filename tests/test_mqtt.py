"""Live ingest: payload shape, the file-import rules applied to live readings, dead letters, and end to end
against real Mosquitto brokers (the project's zero-loss settings, and the deploy/ set-up with passwords,
ACL and TLS)."""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from tests.api_support import load_org
from tests.helpers import database_with_org
from tests.services import require_service
from zerocarbon.core.energy.intervals import Meter
from zerocarbon.errors import InputError, StorageError
from zerocarbon.io.mqtt import PayloadError, RawReading, parse_message
from zerocarbon.services.ingest import IngestStats, check_readings, make_handler, mqtt_subscriber
from zerocarbon.services.meter_import import import_file, register_meters
from zerocarbon.store.tables import DeadLetterRow, ReadingRow

NOW = datetime(2026, 8, 3, 12, 0, tzinfo=timezone.utc)
DEPLOY = Path(__file__).parents[1] / "deploy"
METERS = {"M1": Meter("M1", "HF01", line="SMT1"), "CT": Meter("CT", "HF01", multiplier=40),
          "END": Meter("END", "HF01", stamp="end"), "R": Meter("R", "HF01", register="cumulative"),
          "GAS": Meter("GAS", "HF01", medium="gas", unit="Nm3")}


def msg(**kw):
    doc = {"v": 1, "unit": "kWh", "ts": "2026-08-03T08:15:00+08:00", "value": 1.5}
    doc.update(kw)
    return json.dumps(doc).encode()


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def raw(meter="M1", ts="2026-08-03T08:15:00+08:00", value=1.5, unit="kWh", site="HF01", stamp=None, interval=None):
    return RawReading("ORG", site, meter, ts, value, unit, stamp, interval)


def test_single_and_batch_payloads_are_read_as_sent():
    (r,) = parse_message("zc/ORG/HF01/SMT/SMT1/M1", msg())
    assert r == RawReading("ORG", "HF01", "M1", "2026-08-03T08:15:00+08:00", 1.5, "kWh", None, None)
    rs = parse_message("zc/ORG/HF01/SMT/SMT1/M1", json.dumps({"v": 1, "unit": "kWh", "stamp": "end", "interval_min": 15,
                                                          "readings": [{"ts": "2026-08-03T00:30:00Z", "value": 2}]}).encode())
    assert (rs[0].stamp, rs[0].interval_min, rs[0].value) == ("end", 15, 2)


@pytest.mark.parametrize("topic,payload,reason", [
    ("zc/HF01/M1", msg(), "not zc/<organisation>/<site>/<area>/<line>/<meter>"),
    ("zc/HF01/a/b/M1", msg(), "names no organisation .* publish under zc/<organisation>/<site>"),
    ("zc/o/a/b/c/M1", b"{oops", "not UTF-8 JSON"),
    ("zc/o/a/b/c/M1", msg(v=2), "unsupported payload version"),
    ("zc/o/a/b/c/M1", msg(unit=None), "'unit' is required"),
    ("zc/o/a/b/c/M1", msg(value="12"), "not a number"),
    ("zc/o/a/b/c/M1", msg(stamp="middle"), "stamp must be"),
    ("zc/o/a/b/c/M1", msg(interval_min=0), "interval_min must be"),
])
def test_malformed_messages_say_why(topic, payload, reason):
    with pytest.raises(PayloadError, match=reason):
        parse_message(topic, payload)


def test_live_readings_are_normalised_like_file_readings():
    ok, refused = check_readings([raw(), raw("CT", value=500, unit="Wh"), raw("END", ts="2026-08-03T00:30:00Z"),
                                  raw(ts="2026-08-04T12:00:00+00:00"), raw(ts="2024-01-01T00:00:00+00:00")],
                                 METERS, NOW)
    assert refused == []
    got = [(r.meter, r.ts, r.value, r.unit, r.flag) for _, r in ok]
    assert got == [("M1", utc(2026, 8, 3, 0, 15), 1.5, "kWh", ""),
                   ("CT", utc(2026, 8, 3, 0, 15), 0.5 * 40, "kWh", ""),  # Wh -> kWh, then the CT ratio
                   ("END", utc(2026, 8, 3, 0, 15), 1.5, "kWh", ""),  # the meter's interval-end convention
                   ("M1", utc(2026, 8, 4, 12, 0), 1.5, "kWh", "future"),
                   ("M1", utc(2024, 1, 1, 0, 0), 1.5, "kWh", "stale")]


# The same bad reading, once in a file and once live: both are refused by the same rule, in the same words.
SHARED_RULES = [
    ("negative energy", dict(value=-2.0), "negative reading -2.0"),
    ("not finite", dict(value=float("inf")), "is not a finite number"),
    ("unknown unit", dict(unit="kWhh"), "unknown unit 'kWhh'"),
    ("wrong dimension", dict(unit="kg"), "'kg' cannot be converted to 'kWh': the wrong dimension (mass, not energy)"),
    ("volume for energy", dict(unit="m3"), "unknown unit 'm3'; written m**3 it is a volume unit: the wrong dimension "
                                           "(volume, not energy) (meter M1 is in kWh)"),
    ("letter case", dict(unit="kwh"), "unknown unit 'kwh'; did you mean kWh? (meter M1 is in kWh)"),
    ("unregistered meter", dict(meter="NOPE"), "unknown meter 'NOPE' (not in the meter registry)"),
    ("blank stamp", dict(ts=" "), "timestamp is blank"),
    ("unreadable stamp", dict(ts="03/08/2026 08:15"), "'03/08/2026 08:15' is not a timestamp in ISO 8601"),
]


@pytest.mark.parametrize("name,bad,reason", SHARED_RULES, ids=[r[0] for r in SHARED_RULES])
def test_live_path_refuses_what_the_file_import_refuses(tmp_path, name, bad, reason):
    r = raw(**bad)
    f = tmp_path / "r.csv"
    pd.DataFrame([{"meter": r.meter, "timestamp": r.ts, "value": r.value, "unit": r.unit}]).to_csv(f, index=False)
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake", "ORG", METERS, f)
    assert reason in str(exc.value)
    ok, refused = check_readings([r], METERS, NOW)
    assert ok == [] and len(refused) == 1 and reason in refused[0][1]


def test_live_only_rules():
    ok, refused = check_readings([raw(ts="2026-08-03T08:15:00"), raw(site="TJ01"), raw("R"), raw(interval=5)],
                                 METERS, NOW)
    assert ok == []
    reasons = dict(refused)
    assert "has no UTC offset" in reasons[0]
    assert "meter M1 is registered at site HF01, not TJ01" in reasons[1]
    assert "R is a cumulative register" in reasons[2]
    assert "5-minute intervals, but meter M1 is registered with 15" in reasons[3]


def _batch(*messages):
    return [(i, 1, topic, payload) for i, (topic, payload) in enumerate(messages)]


def _stored(sessions):
    with sessions() as s:
        readings = {(r.meter, r.ts): r.value for r in s.scalars(select(ReadingRow))}
        dead = [(d.topic, d.payload, d.reason) for d in s.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id))]
    return readings, dead


def test_refused_readings_and_conflicts_become_dead_letters(sessions):
    """Defect: live ingest stored negative energy, unknown units and unregistered meters, and silently dropped
    a second, different value for the same meter and time (ON CONFLICT DO NOTHING)."""
    load_org(sessions, "ORG")
    register_meters(sessions, "ORG", METERS, actor="test")
    stats = IngestStats()
    handle = make_handler(sessions, "ORG", stats)
    t = "zc/ORG/HF01/SMT/SMT1/M1"
    batch = json.dumps({"v": 1, "unit": "kWh", "readings": [
        {"ts": "2026-08-03T00:00:00Z", "value": 1.0}, {"ts": "2026-08-03T00:15:00Z", "value": -1.0},
        {"ts": "2026-08-03T00:30:00Z", "value": 3.0}]}).encode()
    handle(_batch((t, batch), (t, msg(unit="kWhh")), ("zc/ORG/HF01/SMT/SMT1/NOPE", msg()),
                  ("zc/ORG/HF01/x/y/GAS", msg())))
    readings, dead = _stored(sessions)
    assert readings == {("M1", utc(2026, 8, 3, 0, 0)): 1.0, ("M1", utc(2026, 8, 3, 0, 30)): 3.0}
    reasons = [d[2] for d in dead]
    assert len(dead) == 4 and "negative reading -1.0" in reasons[0] and "unknown unit 'kWhh'" in reasons[1]
    assert "unknown meter 'NOPE'" in reasons[2] and "cannot be converted to 'Nm3'" in reasons[3]
    # one dead letter per refused reading, holding that reading alone, ready to resend
    assert json.loads(dead[0][1])["value"] == -1.0 and dead[0][0] == t
    # the identical message again: harmless; a different value for a stored interval: refused with both values
    handle(_batch((t, batch)))
    handle(_batch((t, msg(ts="2026-08-03T00:00:00Z", value=7.5))))
    readings2, dead2 = _stored(sessions)
    assert readings2 == readings
    new = [d[2] for d in dead2[len(dead):]]
    assert len(new) == 2 and "negative reading" in new[0]  # the redelivered bad reading is refused again
    assert "M1 at 2026-08-03 00:00 UTC (interval start) already holds 1 kWh; this reading says 7.5 kWh" in new[1]
    # within one batch too
    handle(_batch((t, msg(ts="2026-08-03T01:00:00Z", value=2.0)), (t, msg(ts="2026-08-03T01:00:00Z", value=2.5)),
                  (t, msg(ts="2026-08-03T01:00:00Z", value=2.0))))
    readings3, dead3 = _stored(sessions)
    assert ("M1", utc(2026, 8, 3, 1, 0)) not in readings3  # as a file holding both is refused: none is stored
    assert len(dead3) == len(dead2) + 3
    assert all("M1 at 2026-08-03 01:00 UTC (interval start) appears with different values in one batch (2, 2.5 kWh)"
               in d[2] for d in dead3[-3:])
    assert [json.loads(d[1])["value"] for d in dead3[-3:]] == [2.0, 2.5, 2.0]
    assert stats.readings == 2 and stats.dead_letters == len(dead3)


def test_closed_port_is_a_clear_error_naming_host_and_port(tmp_path):
    """Defect: `zerocarbon ingest mqtt` against a closed port printed "internal error: ConnectionRefusedError"."""
    from typer.testing import CliRunner

    from zerocarbon.cli import app

    port = _free_port()
    r = CliRunner().invoke(app, ["ingest", "mqtt", "--port", str(port), "--seconds", "1",
                                 "--db", database_with_org(tmp_path)])
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert f"cannot connect to the MQTT broker at 127.0.0.1:{port}" in text and "internal error" not in text
    assert "check that the broker is running" in text
    assert "listening on" not in text  # said only once the broker has accepted the connection


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mosquitto() -> str | None:
    return shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


def _start(exe: str, conf: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"mosquitto did not start: {proc.stderr.read().decode()}")
            time.sleep(0.1)
    return proc


@pytest.fixture
def broker(tmp_path):
    """A private Mosquitto with the project's zero-loss settings, or the machine's broker at :1883."""
    exe = _mosquitto()
    if exe:
        port = _free_port()
        conf = tmp_path / "m.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                        f"persistence_location {tmp_path}/\nmax_queued_messages 0\nmax_queued_bytes 0\n")
        proc = _start(exe, conf, port)
        yield port
        proc.terminate()
        proc.wait(5)
        return
    try:
        socket.create_connection(("127.0.0.1", 1883), 1).close()
    except OSError:
        require_service("Mosquitto", "no MQTT broker: install mosquitto or start one at 127.0.0.1:1883")
    yield 1883


@pytest.mark.slow
def test_end_to_end_exactly_once_with_restart(sessions, broker):
    import paho.mqtt.client as mqtt

    load_org(sessions, "ORG")
    register_meters(sessions, "ORG", {"M0": Meter("M0", "HF01", line="SMT1", interval_min=1)}, actor="test")
    n = 600
    cid = f"zc-test-{time.time_ns()}"
    first = mqtt_subscriber(sessions, "ORG", port=broker, client_id=cid)
    t = threading.Thread(target=first.run, daemon=True)
    t.start()
    assert first.connected.wait(5)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{cid}-pub")
    pub.connect("127.0.0.1", broker)
    pub.loop_start()

    def send(i, value=None):
        ts = f"2026-08-03T{i // 60 % 24:02d}:{i % 60:02d}:00+00:00"
        return pub.publish(f"zc/ORG/HF01/SMT/SMT1/M{i // 1440}",
                           json.dumps({"v": 1, "unit": "kWh", "ts": ts, "value": i if value is None else value}), qos=1)

    infos = [send(i) for i in range(n // 2)]
    infos += [send(i) for i in range(0, 100)]  # redelivered duplicates: same meter, time and value
    infos.append(pub.publish("zc/ORG/HF01/SMT/SMT1/M0", b"not json", qos=1))
    for info in infos:
        info.wait_for_publish(10)
    time.sleep(0.5)
    first.stop()  # subscriber goes away mid-stream; the broker keeps its persistent session
    t.join(10)
    infos = [send(i) for i in range(n // 2, n)] + [send(5, value=99.0)]  # a conflicting second value
    for info in infos:
        info.wait_for_publish(10)
    second = mqtt_subscriber(sessions, "ORG", port=broker, client_id=cid)
    t2 = threading.Thread(target=second.run, kwargs={"seconds": 4}, daemon=True)
    t2.start()
    t2.join(15)
    pub.loop_stop()
    readings, dead_letters = _stored(sessions)
    dead = sorted(d[2] for d in dead_letters)
    assert len(readings) == n and readings[("M0", utc(2026, 8, 3, 0, 5))] == 5.0
    assert len(dead) == 2 and "not UTF-8 JSON" in dead[0] and "already holds 5 kWh; this reading says 99 kWh" in dead[1]


# -- the deploy/ broker: passwords, ACL, TLS ------------------------------------------------------------------
def _certificates(folder: Path) -> dict[str, Path]:
    """A throw-away CA and a broker certificate for 127.0.0.1 (openssl), as docs/ingest.md describes."""
    folder.mkdir()

    def run(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=zerocarbon test CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "broker.key", "-out", "broker.csr")
    (folder / "san.cnf").write_text("subjectAltName = IP:127.0.0.1\n")
    run("x509", "-req", "-in", "broker.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.cnf", "-out", "broker.crt")
    return {n: folder / f"{n}" for n in ("ca.crt", "broker.crt", "broker.key")}


@pytest.fixture
def secure_broker(tmp_path):
    """Mosquitto started with deploy/mosquitto.conf and deploy/mosquitto.acl as shipped; only ports, file
    locations (and, under root, the user it runs as) are changed. Users come from deploy/mqtt-users.sh."""
    exe = _mosquitto()
    if not exe or not shutil.which("mosquitto_passwd") or not shutil.which("openssl"):
        require_service("Mosquitto", "mosquitto, mosquitto_passwd and openssl are needed (apt install mosquitto openssl)")
    users = tmp_path / "users"
    subprocess.run([str(DEPLOY / "mqtt-users.sh"), str(users), "zerocarbon-ingest", "ORG/HF01", "BETA/HF01"],
                   check=True, capture_output=True)
    certs = _certificates(tmp_path / "certs")
    plain, tls = _free_port(), _free_port()
    conf = (DEPLOY / "mosquitto.conf").read_text()
    swaps = {r"(?m)^listener 1883 127\.0\.0\.1$": f"listener {plain} 127.0.0.1",
             r"(?m)^listener 8883$": f"listener {tls} 127.0.0.1",
             r"(?m)^password_file .*$": f"password_file {users / 'passwd'}",
             r"(?m)^acl_file .*$": f"acl_file {DEPLOY / 'mosquitto.acl'}",
             r"(?m)^cafile .*$": f"cafile {certs['ca.crt']}",
             r"(?m)^certfile .*$": f"certfile {certs['broker.crt']}",
             r"(?m)^keyfile .*$": f"keyfile {certs['broker.key']}",
             r"(?m)^persistence_location .*$": f"persistence_location {tmp_path}/"}
    for pattern, line in swaps.items():
        conf, n = re.subn(pattern, line, conf)
        assert n == 1, pattern
    if os.geteuid() == 0:  # started as root, Mosquitto would switch to its own user, who cannot read tmp_path
        conf += "user root\n"
    (tmp_path / "broker.conf").write_text(conf)
    proc = _start(exe, tmp_path / "broker.conf", tls)
    secret = {u: (users / f"{u}.secret").read_text().strip() for u in ("zerocarbon-ingest", "ORG/HF01", "BETA/HF01")}
    yield {"plain": plain, "tls": tls, "ca": str(certs["ca.crt"]), "secret": secret}
    proc.terminate()
    proc.wait(5)


@pytest.mark.slow
def test_deploy_broker_refuses_anonymous_clients_and_lets_each_client_do_only_its_part(sessions, secure_broker):
    """Defect: deploy/mosquitto.conf allowed anonymous access with no password, ACL or TLS."""
    import paho.mqtt.client as mqtt

    b = secure_broker
    load_org(sessions, "ORG")
    load_org(sessions, "BETA")
    for user, password in ((None, None), ("zerocarbon-ingest", "wrong")):
        sub = mqtt_subscriber(sessions, "ORG", port=b["plain"], client_id=f"anon-{time.time_ns()}", username=user,
                              password=password)
        with pytest.raises(StorageError, match=rf"broker at 127.0.0.1:{b['plain']} refused the connection: "
                                               r"Not authorized; check --username"):
            sub.run(1)
    register_meters(sessions, "ORG", {"M1": Meter("M1", "HF01"), "T1": Meter("T1", "TJ01")}, actor="test")
    register_meters(sessions, "BETA", {"M1": Meter("M1", "HF01")}, actor="test")
    ingest = mqtt_subscriber(sessions, "ORG", port=b["tls"], client_id=f"ingest-{time.time_ns()}",
                             username="zerocarbon-ingest", password=b["secret"]["zerocarbon-ingest"], cafile=b["ca"])
    t = threading.Thread(target=ingest.run, daemon=True)
    t.start()
    assert ingest.connected.wait(10)
    def gateway_publishes(user: str, topic: str, qos: int, ts: str = "2026-08-03T00:00:00Z") -> None:
        gw = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"gw-{time.time_ns()}")
        gw.username_pw_set(user, b["secret"][user])
        gw.tls_set(ca_certs=b["ca"])
        up = threading.Event()
        gw.on_connect = lambda client, userdata, flags, rc, props: up.set()
        gw.connect("127.0.0.1", b["tls"])
        gw.loop_start()
        assert up.wait(10)
        gw.publish(topic, msg(ts=ts), qos=qos).wait_for_publish(10)
        gw.loop_stop()
        gw.disconnect()

    # The ACL drops what ORG's HF01 gateway writes under another site, and what BETA's HF01 gateway writes
    # under ORG (Mosquitto 2.0.11 also closes that client's connection); what a gateway writes under its own
    # organisation and site goes through.
    gateway_publishes("ORG/HF01", "zc/ORG/TJ01/a/b/T1", qos=0)
    gateway_publishes("BETA/HF01", "zc/ORG/HF01/a/b/M1", qos=0, ts="2026-08-03T01:00:00Z")
    gateway_publishes("ORG/HF01", "zc/ORG/HF01/a/b/M1", qos=1)
    for _ in range(100):
        if ingest.stats.readings:
            break
        time.sleep(0.1)
    ingest.stop()
    t.join(10)
    readings, dead = _stored(sessions)
    assert readings == {("M1", utc(2026, 8, 3, 0, 0)): 1.5} and dead == []


# -- the ingest pipeline: file equivalence, back-pressure, shared subscriptions, crashes ---------------------------
def _publish_all(port: int, messages: list[tuple[str, bytes]]) -> None:
    import paho.mqtt.client as mqtt

    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{time.time_ns()}")
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    infos = [pub.publish(t, p, qos=1) for t, p in messages]
    for info in infos:
        info.wait_for_publish(20)
    pub.loop_stop()
    pub.disconnect()


def _running(sub, **kw):
    """Run ``sub`` in a thread; the thread's ``error`` holds what ``run`` raised."""
    def target():
        try:
            sub.run(**kw)
        except Exception as exc:  # the test looks at it
            t.error = exc
    t = threading.Thread(target=target, daemon=True)
    t.error = None
    t.start()
    assert sub.connected.wait(10)
    return t


def _until(check, seconds: float = 20) -> None:
    end = time.monotonic() + seconds
    while not check() and time.monotonic() < end:
        time.sleep(0.05)


def _one(meter, ts, value, unit="kWh"):
    return (f"zc/ORG/HF01/a/b/{meter}", json.dumps({"v": 1, "unit": unit, "ts": ts, "value": value}).encode())


GOOD = [("M1", "2026-08-03T08:15:00+08:00", 1.5, "kWh"), ("M1", "2026-08-03T00:30:00Z", 2.0, "kWh"),
        ("CT", "2026-08-03T00:15:00Z", 500, "Wh"), ("END", "2026-08-03T00:30:00Z", 3.25, "kWh"),
        ("GAS", "2026-08-03T00:15:00Z", 7, "Nm3")]
BAD = [("M1", "2026-08-03T01:00:00Z", -2.0, "kWh"), ("M1", "2026-08-03T01:15:00Z", 1.0, "kWhh"),
       ("M1", "2026-08-03T01:30:00Z", 1.0, "kg"), ("NOPE", "2026-08-03T01:45:00Z", 1.0, "kWh"),
       ("M1", "03/08/2026 08:15", 1.0, "kWh"), ("GAS", "2026-08-03T02:00:00Z", 1.0, "kWh")]
# refused by the interval rules, which a file import applies once every row passed the reading rules above
LATE = [("M1", "2026-08-03T02:07:00Z", 1.0, "kWh")]
CLASH = [("M1", "2026-08-03T03:00:00Z", 2.0, "kWh"), ("M1", "2026-08-03T03:00:00Z", 2.5, "kWh")]


@pytest.mark.slow
def test_mqtt_and_file_import_store_the_same_values_and_refuse_the_same_readings(sessions, broker, tmp_path):
    """The same readings sent over MQTT (through a worker process) and imported from a file: the same values
    stored, and the same readings refused for the same reasons."""
    from zerocarbon.store import lake

    load_org(sessions, "ORG")
    register_meters(sessions, "ORG", METERS, actor="test")

    def csv(rows, name):
        f = tmp_path / name
        pd.DataFrame([{"meter": m, "timestamp": t, "value": v, "unit": u} for m, t, v, u in rows]).to_csv(f, index=False)
        return f

    import_file(tmp_path / "lake", "ORG", METERS, csv(GOOD, "good.csv"))
    from_file = {(m, t.to_pydatetime().replace(tzinfo=timezone.utc)): v for m, t, v in lake.query(
        tmp_path / "lake", "ORG", "SELECT meter, ts, value FROM readings").itertuples(index=False)}
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake2", "ORG", METERS, csv(GOOD + BAD, "mixed.csv"))
    file_reasons = [p.reason for p in exc.value.problems]
    with pytest.raises(InputError) as exc:
        import_file(tmp_path / "lake2", "ORG", METERS, csv(GOOD + LATE, "late.csv"))
    file_reasons = sorted(file_reasons + [p.reason for p in exc.value.problems])

    # two values for one interval: the file holding both is refused, and so is each of them live
    with pytest.raises(InputError, match="M1 at 2026-08-03T03:00:00Z appears with different values"):
        import_file(tmp_path / "lake3", "ORG", METERS, csv(GOOD + CLASH, "clash.csv"))
    clash = ("zc/ORG/HF01/a/b/M1", json.dumps({"v": 1, "unit": "kWh", "readings": [
        {"ts": t, "value": v} for _, t, v, _ in CLASH]}).encode())

    sub = mqtt_subscriber(sessions, "ORG", port=broker, client_id=f"eq-{time.time_ns()}", processes=1)
    t = _running(sub)
    _publish_all(broker, [_one(*r) for r in GOOD + BAD + LATE] + [clash])
    _until(lambda: sub.stats.messages >= len(GOOD + BAD + LATE) + 1)
    assert sub.stats.messages == len(GOOD + BAD + LATE) + 1
    sub.stop()
    t.join(15)
    assert t.error is None
    readings, dead = _stored(sessions)
    assert readings == pytest.approx(from_file) and len(readings) == len(GOOD)
    both = [reason for _, _, reason in dead if "appears with different values in one batch (2, 2.5 kWh)" in reason]
    assert len(both) == len(CLASH)
    live_reasons = sorted(reason.split(": ", 1)[1] for _, _, reason in dead if reason not in both)
    assert live_reasons == file_reasons and len(dead) == len(BAD + LATE + CLASH)


def test_a_refused_subscription_is_reported_and_connected_waits_for_the_grant():
    """Brokers that check ACLs at subscribe time answer SUBACK with a failure code; the subscriber must say so
    rather than sit connected and hear nothing. ``connected`` means subscribed, so that a publisher that waits for
    it loses nothing to the gap between CONNACK and SUBACK."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.reasoncodes import ReasonCode

    from zerocarbon.io.mqtt import Subscriber

    class Client:
        subscribed, disconnected = [], False

        def subscribe(self, topic, qos):
            self.subscribed.append(topic)

        def disconnect(self):
            self.disconnected = True

    client = Client()
    sub = Subscriber("127.0.0.1", 1, "zc/ORG/#", "c", lambda batch: None)
    sub._on_connect(client, None, None, ReasonCode(PacketTypes.CONNACK, "Success"), None)
    assert client.subscribed == ["zc/ORG/#"] and not sub.connected.is_set()
    sub._on_subscribe(client, None, 1, [ReasonCode(PacketTypes.SUBACK, "Not authorized")], None)
    assert not sub.connected.is_set() and client.disconnected
    assert sub.refused == "the subscription to 'zc/ORG/#': Not authorized"
    ok = Subscriber("127.0.0.1", 1, "zc/ORG/#", "c", lambda batch: None)
    ok._on_subscribe(client, None, 1, [ReasonCode(PacketTypes.SUBACK, "Granted QoS 1")], None)
    assert ok.connected.is_set() and ok.refused is None


def test_a_slow_writer_holds_at_most_the_window_unacknowledged(broker):
    """Back-pressure: the broker sends at most ``window`` unacknowledged messages (MQTT 5 Receive Maximum),
    so however slow the store, the subscriber's queue and memory stay bounded; nothing is lost."""
    from zerocarbon.io.mqtt import Subscriber

    got = []

    def slow(batch):
        time.sleep(0.02)
        got.extend(p for _, _, _, p in batch)

    sub = Subscriber("127.0.0.1", broker, "zc/ORG/#", f"slow-{time.time_ns()}", slow, flush_s=0.05, max_batch=5,
                     window=20)
    t = _running(sub)
    n = 300
    _publish_all(broker, [_one("M1", f"2026-08-03T{i // 60:02d}:{i % 60:02d}:00Z", i) for i in range(n)])
    _until(lambda: len(got) >= n)
    sub.stop()
    t.join(10)
    assert len(got) == n and len(set(got)) == n
    # The window filled (the writer was the bottleneck) and the broker held the rest back: without the Receive
    # Maximum all 300 would be out at once. Mosquitto 2.0.11 may send a few beyond its quota; the local queue's
    # own bound (``window``) is what caps memory then, by blocking paho's network thread.
    assert 20 <= sub.max_unacked < 40
    assert sub.max_queued <= 20


def test_a_stop_under_a_backlog_stores_what_it_holds_and_leaves_the_rest_to_the_next_session(broker):
    """Stopping takes nothing new from the broker: it stores and acknowledges the queued messages and returns,
    and the next session on the same client id gets every message the first one did not store."""
    from zerocarbon.io.mqtt import Subscriber

    first, second = [], []
    client_id = f"stop-{time.time_ns()}"
    stopping = threading.Event()

    def slow(batch):
        # Once 40 are stored the writer waits for the stop, so a busy machine cannot drain the backlog before
        # the test asks for the stop; after it, the writer stores what is queued (at most the window).
        if len(first) >= 40:
            stopping.wait(20)
        time.sleep(0.02)
        first.extend(p for _, _, _, p in batch)

    sub = Subscriber("127.0.0.1", broker, "zc/ORG/#", client_id, slow, flush_s=0.05, max_batch=5, window=20)
    t = _running(sub)
    n = 300
    _publish_all(broker, [_one("M1", f"2026-08-03T{i // 60:02d}:{i % 60:02d}:00Z", i) for i in range(n)])
    _until(lambda: len(first) >= 40)
    sub.stop()
    stopping.set()
    t.join(10)
    assert not t.is_alive()
    assert 40 <= len(first) < n  # the backlog was not drained into this session
    again = Subscriber("127.0.0.1", broker, "zc/ORG/#", client_id, lambda b: second.extend(p for *_, p in b),
                       flush_s=0.05)
    t = _running(again)
    _until(lambda: len(set(first) | set(second)) >= n)
    again.stop()
    t.join(10)
    assert len(set(first) | set(second)) == n  # nothing lost; redelivery may repeat a few, the store's key absorbs them


def test_a_shared_subscription_splits_the_feed_without_loss_or_duplicates(sessions, broker):
    load_org(sessions, "ORG")
    register_meters(sessions, "ORG", METERS, actor="test")
    subs = [mqtt_subscriber(sessions, "ORG", port=broker, client_id=f"share{k}-{time.time_ns()}", share="ingest",
                            flush_s=0.05) for k in range(2)]
    assert subs[0].topic == "$share/ingest/zc/ORG/#"
    threads = [_running(s) for s in subs]
    n = 400
    _publish_all(broker, [_one("M1", f"2026-08-{1 + i // 96:02d}T{i % 96 // 4:02d}:{i % 4 * 15:02d}:00Z", 1.0 + i)
                          for i in range(n)])
    _until(lambda: sum(s.stats.messages for s in subs) >= n)
    time.sleep(0.3)  # a duplicate delivery, were there one, would arrive now
    for s, t in zip(subs, threads):
        s.stop()
        t.join(10)
        assert t.error is None
    readings, dead = _stored(sessions)
    assert len(readings) == n and dead == []
    assert all(s.stats.messages > 0 for s in subs)  # both members took part
    assert sum(s.stats.messages for s in subs) == n and sum(s.stats.readings for s in subs) == n


@pytest.mark.slow
@pytest.mark.parametrize("when", ["before commit", "after commit, before the acknowledgement"])
def test_a_crash_means_redelivery_and_each_reading_stored_once(sessions, broker, when):
    load_org(sessions, "ORG")
    register_meters(sessions, "ORG", METERS, actor="test")
    cid = f"crash-{time.time_ns()}"
    first = mqtt_subscriber(sessions, "ORG", port=broker, client_id=cid, flush_s=0.05)
    store = first.handle
    calls = []

    def crashing(batch):
        calls.append(len(batch))
        if len(calls) == 2:  # the second batch: a crash before or after its commit; nothing of it is acked
            if when != "before commit":
                store(batch)
            raise RuntimeError("crash")
        store(batch)

    first.handle = crashing
    first.max_batch = 50
    t = _running(first)
    n = 300
    messages = [_one("M1", f"2026-08-{1 + i // 96:02d}T{i % 96 // 4:02d}:{i % 4 * 15:02d}:00Z", 1.0 + i)
                for i in range(n)]
    _publish_all(broker, messages)
    t.join(15)
    assert isinstance(t.error, RuntimeError) and len(calls) == 2
    stored_first = len(_stored(sessions)[0])
    assert stored_first == calls[0] + (calls[1] if when != "before commit" else 0)
    second = mqtt_subscriber(sessions, "ORG", port=broker, client_id=cid, flush_s=0.05)
    t2 = _running(second)
    _until(lambda: len(_stored(sessions)[0]) >= n or second.stats.messages >= n - calls[0])
    time.sleep(0.5)
    second.stop()
    t2.join(10)
    readings, dead = _stored(sessions)
    assert len(readings) == n and dead == []  # an identical redelivery is no conflict
    assert readings[("M1", utc(2026, 8, 1, 0, 15))] == 2.0
    assert second.stats.messages >= n - calls[0]  # the unacknowledged second batch came again
    assert second.stats.readings == n - stored_first


def test_a_share_group_name_with_topic_characters_is_a_usage_error(tmp_path):
    from typer.testing import CliRunner

    from zerocarbon.cli import app

    r = CliRunner().invoke(app, ["ingest", "mqtt", "--share", "a/b", "--seconds", "1", "--db", database_with_org(tmp_path)])
    assert r.exit_code == 2 and "without '/', '+' or '#'" in " ".join(r.output.split())


@pytest.mark.slow
def test_a_killed_worker_process_loses_nothing(sessions, broker):
    """The worker process dies (SIGKILL) with batches in hand: nothing of them was acknowledged, so the broker
    redelivers them to the next subscriber on the session, and each reading is stored once."""
    import multiprocessing
    import signal

    load_org(sessions, "ORG")
    register_meters(sessions, "ORG", METERS, actor="test")
    cid = f"kill-{time.time_ns()}"
    first = mqtt_subscriber(sessions, "ORG", port=broker, client_id=cid, processes=1, flush_s=0.05)
    t = _running(first)
    assert first.ready.wait(120)
    messages = [_one("M1", f"2026-08-{1 + i // 96:02d}T{i % 96 // 4:02d}:{i % 4 * 15:02d}:00Z", 1.0 + i)
                for i in range(300)]
    _publish_all(broker, messages[:100])
    _until(lambda: first.stats.readings >= 100)
    (worker,) = multiprocessing.active_children()
    os.kill(worker.pid, signal.SIGKILL)
    _publish_all(broker, messages[100:])
    t.join(30)
    assert t.error is not None  # the broken pool ends the run, before any acknowledgement of its batches
    second = mqtt_subscriber(sessions, "ORG", port=broker, client_id=cid, flush_s=0.05)
    t2 = _running(second)
    _until(lambda: len(_stored(sessions)[0]) >= 300)
    second.stop()
    t2.join(10)
    readings, dead = _stored(sessions)
    assert len(readings) == 300 and dead == [] and readings[("M1", utc(2026, 8, 1, 0, 15))] == 2.0


def test_a_live_stamp_off_the_meter_grid_is_refused_as_a_file_row_would_be():
    ok, refused = check_readings([raw(ts="2026-08-03T08:07:00+08:00"), raw(ts="2026-08-03T08:15:30+08:00"),
                                  raw(ts="2026-08-03T08:30:00+08:00")], METERS, NOW)
    assert [i for i, _ in ok] == [2]
    assert [i for i, _ in refused] == [0, 1]
    assert "ts: not on the meter's 15-min grid (…:07): interval start 2026-08-03 08:07 local time" in refused[0][1]
    assert "(…:15:30)" in refused[1][1]


def test_cli_says_listening_once_connected(broker, tmp_path):
    from typer.testing import CliRunner

    from zerocarbon.cli import app

    r = CliRunner().invoke(app, ["ingest", "mqtt", "--port", str(broker), "--seconds", "1", "--processes", "0",
                                 "--client-id", f"cli-{time.time_ns()}", "--db", database_with_org(tmp_path)])
    assert r.exit_code == 0, r.output
    assert f"listening on 127.0.0.1:{broker} zc/ORG/#" in r.output and "0 messages" in r.output


def test_cli_lists_dead_letters_newest_first(tmp_path):
    from typer.testing import CliRunner

    from zerocarbon.cli import app
    from zerocarbon.services.database import open_sessions

    url = database_with_org(tmp_path)
    sessions = open_sessions(url)
    register_meters(sessions, "ORG", METERS, actor="test")
    handle = make_handler(sessions, "ORG", IngestStats())
    t = "zc/ORG/HF01/SMT/SMT1/M1"
    handle(_batch((t, msg(value=-1.0))))
    handle(_batch((t, msg(unit="kwh")), ("zc/HF01/SMT/SMT1/M1", msg())))
    sessions.kw["bind"].dispose()
    r = CliRunner().invoke(app, ["ingest", "dead-letters", "--db", url, "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert [("did you mean kWh?" in d["reason"], "negative reading" in d["reason"]) for d in got] == \
        [(True, False), (False, True)]
    assert got[0]["topic"] == t and got[0]["received_at"].startswith("20")
    r = CliRunner().invoke(app, ["ingest", "dead-letters", "--db", url, "--limit", "1"])
    assert r.exit_code == 0 and "did you mean kWh?" in " ".join(r.output.split()) and "negative" not in r.output
    r = CliRunner().invoke(app, ["ingest", "dead-letters", "--db", url, "--unassigned", "--json"])
    assert [d["topic"] for d in json.loads(r.stdout)] == ["zc/HF01/SMT/SMT1/M1"]
