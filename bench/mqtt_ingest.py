"""Benchmark: sustained MQTT ingest, counted end to end (published vs stored distinct readings).

A private Mosquitto with the project's zero-loss settings (deploy/mosquitto.conf: unbounded queue), the
zerocarbon subscriber (services.ingest, SQLite file) in one process and a paho publisher in another,
publishing QoS 1 as fast as it can for S seconds, in batched (100 readings/message) or single-reading mode.
Usage: python bench/mqtt_ingest.py --seconds 60 --mode batch|single
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


def publisher(port: int, seconds: float, mode: str) -> None:
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-pub")
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.loop_start()
    per = 100 if mode == "batch" else 1
    sent = msgs = 0
    t_end = time.monotonic() + seconds
    info = None
    while time.monotonic() < t_end:
        meter = f"M{msgs % 1000:04d}"
        base = (msgs // 1000) * per
        if per == 1:
            payload = json.dumps({"v": 1, "unit": "kWh", "interval_min": 15, "ts": _ts(base), "value": 1.0})
        else:
            payload = json.dumps({"v": 1, "unit": "kWh", "interval_min": 15,
                                  "readings": [{"ts": _ts(base + i), "value": 1.0} for i in range(per)]})
        info = c.publish(f"zc/BENCH/S/A/L/{meter}", payload, qos=1)
        msgs += 1
        sent += per
        if msgs % 5000 == 0:
            info.wait_for_publish(30)
    if info:
        info.wait_for_publish(60)
    c.loop_stop()
    print(json.dumps({"messages": msgs, "readings": sent}))


def _ts(k: int) -> str:
    # distinct 15-minute intervals per meter, counting from 2026-01-01
    import datetime as dt

    return (dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=15 * k)).isoformat()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--mode", default="batch")
    ap.add_argument("--publisher", action="store_true")
    ap.add_argument("--port", type=int)
    a = ap.parse_args()
    if a.publisher:
        publisher(a.port, a.seconds, a.mode)
        return
    from sqlalchemy import func, select

    from zerocarbon.core.energy.intervals import Meter
    from zerocarbon.services.ingest import mqtt_subscriber
    from zerocarbon.services.meter_import import register_meters
    from zerocarbon.store.db import make_engine, session_factory, upgrade
    from zerocarbon.store.tables import ReadingRow
    import threading

    tmp = Path(tempfile.mkdtemp())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = tmp / "m.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 0\n")
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    engine = make_engine(f"sqlite:///{tmp / 'ingest.sqlite'}")
    upgrade(engine)
    sessions = session_factory(engine)
    # live readings obey the file rules: the publisher's 1,000 meters are registered first, as in a plant
    from zerocarbon.core.model import Organisation, Site
    from zerocarbon.store import repos

    with sessions.begin() as s:
        repos.save_organisation(s, Organisation("BENCH", "Bench", (Site("S", "S"),)))
    register_meters(sessions, "BENCH", {f"M{m:04d}": Meter(f"M{m:04d}", "S") for m in range(1000)}, actor="bench")
    sub = mqtt_subscriber(sessions, "BENCH", port=port, client_id="bench-sub")
    t = threading.Thread(target=sub.run, daemon=True)
    t.start()
    sub.connected.wait(5)
    t0 = time.monotonic()
    pub = subprocess.run([sys.executable, __file__, "--publisher", "--port", str(port), "--seconds", str(a.seconds),
                          "--mode", a.mode], capture_output=True, text=True, check=True)
    published = json.loads(pub.stdout)
    t_pub = time.monotonic() - t0
    stored_while_publishing = sub.stats.readings

    def drain(subscriber, quiet: float, base: int = 0) -> None:
        # Progress from the subscriber's own counter: reading the SQLite file here would contend for its lock.
        last_change, prev = time.monotonic(), -1
        while time.monotonic() - last_change < quiet:
            time.sleep(0.5)
            done = subscriber.stats.readings
            if done != prev:
                prev, last_change = done, time.monotonic()
            if base + done >= published["readings"]:
                return

    def with_db_count() -> int:
        with sessions() as s:
            return s.scalar(select(func.count()).select_from(ReadingRow))

    drain(sub, 10)
    t_all = time.monotonic() - t0
    sub.stop()
    t.join(10)
    reconnects = 0
    # If the subscriber fell behind so far that it stalled, a new one on the same persistent session must
    # still receive everything the broker kept: that, not the first pass, decides whether data was lost.
    while with_db_count() < published["readings"] and reconnects < 3:
        reconnects += 1
        again = mqtt_subscriber(sessions, "BENCH", port=port, client_id="bench-sub")
        t2 = threading.Thread(target=again.run, daemon=True)
        t2.start()
        again.connected.wait(5)
        drain(again, 10, with_db_count())
        again.stop()
        t2.join(10)
    t_final = time.monotonic() - t0
    with sessions() as s:
        distinct = s.scalar(select(func.count()).select_from(ReadingRow))
    broker.terminate()
    res = {"mode": a.mode, "seconds_publishing": t_pub, "seconds_first_pass": t_all, "seconds_final": t_final,
           **published, "stored_while_publishing": stored_while_publishing, "stored_distinct": distinct,
           "lost": published["readings"] - distinct, "reconnects": reconnects,
           "sustained_readings_per_s": stored_while_publishing / t_pub,
           "readings_per_s_first_pass": sub.stats.readings / t_all,
           "dead_letters": sub.stats.dead_letters, "cpu": os.cpu_count()}
    OUT.mkdir(exist_ok=True)
    (OUT / f"mqtt_{a.mode}.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
