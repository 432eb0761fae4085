"""Live ingest: payload parsing, and end to end against a real Mosquitto broker."""
import json
import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import func, select

from tests.services import require_service
from zerocarbon.io.mqtt import PayloadError, parse_message
from zerocarbon.services.ingest import mqtt_subscriber
from zerocarbon.store.tables import DeadLetterRow, ReadingRow

NOW = datetime(2026, 8, 3, 12, 0)


def msg(**kw):
    doc = {"v": 1, "unit": "kWh", "ts": "2026-08-03T08:15:00+08:00", "value": 1.5}
    doc.update(kw)
    return json.dumps(doc).encode()


def test_single_and_batch_payloads_normalise_to_utc_interval_start():
    (r,) = parse_message("zc/HF01/SMT/SMT1/M1", msg(), NOW)
    assert (r.meter, r.ts, r.value, r.flag) == ("M1", datetime(2026, 8, 3, 0, 15), 1.5, "")
    rs = parse_message("zc/HF01/SMT/SMT1/M1", json.dumps({"v": 1, "unit": "kWh", "stamp": "end", "interval_min": 15,
                                                          "readings": [{"ts": "2026-08-03T00:30:00Z", "value": 2}]}).encode(), NOW)
    assert rs[0].ts == datetime(2026, 8, 3, 0, 15)


@pytest.mark.parametrize("topic,payload,reason", [
    ("zc/HF01/M1", msg(), "not zc/<site>"),
    ("zc/a/b/c/M1", b"{oops", "not UTF-8 JSON"),
    ("zc/a/b/c/M1", msg(v=2), "unsupported payload version"),
    ("zc/a/b/c/M1", msg(unit="kWhh"), "unknown unit"),
    ("zc/a/b/c/M1", msg(ts="2026-08-03T08:15:00"), "no UTC offset"),
    ("zc/a/b/c/M1", msg(value="12"), "not a number"),
    ("zc/a/b/c/M1", msg(stamp="middle"), "stamp must be"),
])
def test_malformed_messages_say_why(topic, payload, reason):
    with pytest.raises(PayloadError, match=reason):
        parse_message(topic, payload, NOW)


def test_future_and_stale_readings_are_flagged():
    assert parse_message("zc/a/b/c/M", msg(ts="2026-08-04T12:00:00+00:00"), NOW)[0].flag == "future"
    assert parse_message("zc/a/b/c/M", msg(ts="2024-01-01T00:00:00+00:00"), NOW)[0].flag == "stale"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def broker(tmp_path):
    """A private Mosquitto with the project's zero-loss settings, or the machine's broker at :1883."""
    exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if shutil.os.path.exists("/usr/sbin/mosquitto") else None)
    if exe:
        port = _free_port()
        conf = tmp_path / "m.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                        f"persistence_location {tmp_path}/\nmax_queued_messages 0\nmax_queued_bytes 0\n")
        proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
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

    n = 600
    cid = f"zc-test-{time.time_ns()}"
    first = mqtt_subscriber(sessions, port=broker, topic="zc/#", client_id=cid)
    t = threading.Thread(target=first.run, daemon=True)
    t.start()
    assert first.connected.wait(5)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{cid}-pub")
    pub.connect("127.0.0.1", broker)
    pub.loop_start()

    def send(i):
        ts = f"2026-08-03T{i // 60 % 24:02d}:{i % 60:02d}:00+00:00"
        return pub.publish(f"zc/HF01/SMT/SMT1/M{i // 1440}", json.dumps({"v": 1, "unit": "kWh", "ts": ts, "value": i}),
                           qos=1)

    infos = [send(i) for i in range(n // 2)]
    infos += [send(i) for i in range(0, 100)]  # duplicates: same meter and timestamp again
    infos.append(pub.publish("zc/HF01/SMT/SMT1/M0", b"not json", qos=1))
    for info in infos:
        info.wait_for_publish(10)
    time.sleep(0.5)
    first.stop()  # subscriber goes away mid-stream; the broker keeps its persistent session
    t.join(10)
    infos = [send(i) for i in range(n // 2, n)]
    for info in infos:
        info.wait_for_publish(10)
    second = mqtt_subscriber(sessions, port=broker, topic="zc/#", client_id=cid)
    t2 = threading.Thread(target=second.run, kwargs={"seconds": 4}, daemon=True)
    t2.start()
    t2.join(15)
    pub.loop_stop()
    with sessions() as s:
        stored = s.scalar(select(func.count()).select_from(ReadingRow))
        dead = list(s.scalars(select(DeadLetterRow)))
    assert stored == n
    assert len(dead) == 1 and "not UTF-8 JSON" in dead[0].reason
