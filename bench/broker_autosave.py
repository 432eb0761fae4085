"""Benchmark: what saving Mosquitto's state on every change costs, and what it saves after a SIGKILL.

Mosquitto keeps sessions, subscriptions and queued messages in memory and writes them to its persistence file on
shutdown and every ``autosave_interval`` (default 1800 s); ``autosave_on_changes true`` makes that interval a
number of changes instead. Three configurations of a private broker with deploy/mosquitto.conf's queue settings:

- ``shipped``: persistence true, max_queued_messages 0 and no autosave line (a save every 30 min);
- ``every change``: + autosave_on_changes true, autosave_interval 1;
- ``100 changes``: + autosave_on_changes true, autosave_interval 100.

Throughput, each configuration ``--runs`` times (median reported):

- ``online``: a persistent-session QoS 1 subscriber (paho, MQTT 5, its own process) counts while a paho publisher
  sends ``--messages`` QoS 1 messages (100 in flight): ``batch`` payloads of 100 readings (~4 KB) and ``single``
  ones (~80 bytes); the time from the first publish until the subscriber has counted them all;
- ``backlog``: the subscriber is offline while ``--backlog`` batch messages are published (the queue grows as it
  does while the ingest is stopped), then it connects and drains; publish and drain times. The publishers:
  ``--backlog-publishers`` connections (gateways) sharing the messages.

SIGKILL (``--crash``): the process-fault test's approach without the database: a slow persistent subscriber
(re-subscribing on every connect, as the ingest does), a paho gateway publishing ``--crash-messages`` paced
readings on a persistent session; the broker is SIGKILLed once a quarter have been delivered (the gateway goes on publishing) and restarted on the same
persistence folder 0.5 s later; the gateway resends what was not acknowledged. Counted: distinct messages the
subscriber received (lost = published - received) and deliveries beyond one per message (duplicates).

Usage: python bench/broker_autosave.py [--messages 20000] [--backlog 5000] [--backlog-publishers 1] [--runs 3]
           [--crash-runs 3] [--configs shipped,'every change','100 changes'] [--timeout 120]
"""
from __future__ import annotations

import argparse
import getpass
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

EXE = "/usr/sbin/mosquitto"
BASE = ("listener {port} 127.0.0.1\nuser {user}\nallow_anonymous true\npersistence true\n"
        "persistence_location {folder}/\nmax_queued_messages 0\nmax_queued_bytes 0\n")
CONFIGS = {"shipped": "", "every change": "autosave_on_changes true\nautosave_interval 1\n",
           "100 changes": "autosave_on_changes true\nautosave_interval 100\n"}
TOPIC = "zc/BENCH/HF01/SMT/SMT1/M{}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, folder: Path, extra: str):
        self.folder, self.extra, self.port, self.proc = folder, extra, free_port(), None
        folder.mkdir(parents=True, exist_ok=True)

    def start(self) -> Broker:
        conf = self.folder / "mosquitto.conf"
        conf.write_text(BASE.format(port=self.port, user=getpass.getuser(), folder=self.folder) + self.extra)
        self.proc = subprocess.Popen([EXE, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=(self.folder / "mosquitto.log").open("ab"))
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start: {(self.folder / 'mosquitto.log').read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)


def payload(i: int, mode: str) -> bytes:
    if mode == "single":
        return json.dumps({"v": 1, "unit": "kWh", "ts": f"2026-08-01T00:00:{i % 60:02d}Z", "value": i + 1.0,
                           "seq": i}).encode()
    readings = [{"ts": f"2026-08-01T{k // 60:02d}:{k % 60:02d}:00Z", "value": round(1000.0 + k * 1.25, 3)}
                for k in range(100)]
    return json.dumps({"v": 1, "unit": "kWh", "seq": i, "readings": readings}).encode()


# -- the subscriber (its own process) ----------------------------------------------------------------------------
def subscriber(port: int, cid: str, count, seen_q, ready, stop, delay: float) -> None:
    """A persistent MQTT 5 session that subscribes on every connect; counts deliveries, reports distinct seqs."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.properties import Properties
    from paho.mqtt.packettypes import PacketTypes

    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0xFFFFFFFF
    seqs: list[int] = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
    c.reconnect_delay_set(0.1, 1)

    def on_connect(client, userdata, flags, reason_code, properties):
        client.subscribe("zc/#", qos=1)

    def on_subscribe(client, userdata, mid, reason_codes, properties):
        ready.set()

    def on_message(client, userdata, msg):
        if delay:
            time.sleep(delay)
        seqs.append(json.loads(msg.payload)["seq"])
        with count.get_lock():
            count.value += 1

    c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
    c.connect("127.0.0.1", port, keepalive=5, clean_start=False, properties=props)
    c.loop_start()
    stop.wait()
    c.loop_stop()
    c.disconnect()
    seen_q.put(seqs)


class Sub:
    def __init__(self, port: int, cid: str, delay: float = 0.0):
        ctx = mp.get_context("spawn")
        self.count, self.q = ctx.Value("l", 0), ctx.Queue()
        self.ready, self.stop_ev = ctx.Event(), ctx.Event()
        self.proc = ctx.Process(target=subscriber, args=(port, cid, self.count, self.q, self.ready, self.stop_ev,
                                                         delay), daemon=True)
        self.proc.start()
        if not self.ready.wait(30):
            raise RuntimeError("the subscriber did not subscribe")

    def finish(self) -> list[int]:
        self.stop_ev.set()
        seqs = self.q.get(timeout=60)
        self.proc.join(10)
        return seqs


def wait(check, seconds: float, what: str) -> float:
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            raise TimeoutError(what)
        time.sleep(0.005)
    return time.monotonic()


class Publisher:
    """paho, QoS 1 on a persistent session, resending what was not acknowledged after a reconnect."""

    def __init__(self, port: int, cid: str):
        import paho.mqtt.client as mqtt

        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, clean_session=False,
                             protocol=mqtt.MQTTv311)
        self.c.max_queued_messages_set(0)
        self.c.max_inflight_messages_set(100)
        self.c.reconnect_delay_set(0.1, 1)
        self.acked = 0
        self.lock = threading.Lock()

        def on_publish(client, userdata, mid, reason_code, properties):
            with self.lock:
                self.acked += 1
        self.c.on_publish = on_publish
        self.c.connect("127.0.0.1", port, keepalive=5)
        self.c.loop_start()

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


# -- scenarios ---------------------------------------------------------------------------------------------------
def online(extra: str, mode: str, n: int, timeout: float) -> float | None:
    with tempfile.TemporaryDirectory(prefix="zc-autosave-") as tmp:
        broker = Broker(Path(tmp), extra).start()
        try:
            sub = Sub(broker.port, "bench-sub")
            pub = Publisher(broker.port, "bench-pub")
            bodies = [payload(i, mode) for i in range(n)]
            t0 = time.monotonic()
            for i, body in enumerate(bodies):
                pub.c.publish(TOPIC.format(i % 1000), body, qos=1)
            try:
                t1 = wait(lambda: sub.count.value >= n, timeout, "delivery")
            except TimeoutError:
                t1 = None
            pub.close()
            sub.finish()
            return None if t1 is None else t1 - t0
        finally:
            broker.stop()


def backlog(extra: str, n: int, timeout: float, publishers: int = 1) -> tuple[float | None, float | None]:
    with tempfile.TemporaryDirectory(prefix="zc-autosave-") as tmp:
        broker = Broker(Path(tmp), extra).start()
        try:
            Sub(broker.port, "bench-sub").finish()  # its session and subscription exist; now it is offline
            pubs = [Publisher(broker.port, f"bench-pub{k}") for k in range(publishers)]
            body = payload(0, "batch")
            t0 = time.monotonic()
            for i in range(n):
                pubs[i % publishers].c.publish(TOPIC.format(i % 1000), body, qos=1)
            try:
                t_pub = wait(lambda: sum(p.acked for p in pubs) >= n, timeout, "publish") - t0
            except TimeoutError:
                t_pub = None
            for p in pubs:
                p.close()
            if t_pub is None:
                return None, None
            t1 = time.monotonic()
            sub = Sub(broker.port, "bench-sub")
            try:
                t_drain = wait(lambda: sub.count.value >= n, timeout, "drain") - t1
            except TimeoutError:
                t_drain = None
            sub.finish()
            return t_pub, t_drain
        finally:
            broker.stop()


def crash(extra: str, n: int) -> tuple[int, int, int]:
    """(published, lost, duplicated deliveries) around a SIGKILL of the broker mid-burst."""
    with tempfile.TemporaryDirectory(prefix="zc-autosave-") as tmp:
        broker = Broker(Path(tmp), extra).start()
        try:
            sub = Sub(broker.port, "bench-ingest", delay=0.001)  # slower than the gateway: a queue builds up
            pub = Publisher(broker.port, "bench-gateway")

            def kill_and_restart():  # mid-burst: the gateway does not pause for it
                wait(lambda: sub.count.value >= n // 4, 60, "a quarter delivered")
                broker.stop(signal.SIGKILL)
                acked_at_kill.append(pub.acked)
                time.sleep(0.5)
                broker.start()
            acked_at_kill: list[int] = []
            killer = threading.Thread(target=kill_and_restart)
            killer.start()
            for i in range(n):
                pub.c.publish(TOPIC.format(0), payload(i, "single"), qos=1)
                time.sleep(0.0005)
            killer.join()
            if acked_at_kill[0] >= n:
                raise RuntimeError("the broker was killed after the burst; raise --crash-messages")
            wait(lambda: pub.acked >= n, 120, "every publish acknowledged")
            pub.close()
            last, still = -1, time.monotonic()
            while time.monotonic() - still < 3:  # until nothing more arrives for 3 s
                if sub.count.value != last:
                    last, still = sub.count.value, time.monotonic()
                time.sleep(0.1)
            seqs = sub.finish()
            return n, n - len(set(seqs)), len(seqs) - len(set(seqs))
        finally:
            broker.stop()


def fmt(x: float | None, timeout: float) -> str:
    return f"> {timeout:g}" if x is None else f"{x:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--backlog", type=int, default=5000)
    ap.add_argument("--backlog-publishers", type=int, default=1,
                    help="publishing connections sharing the backlog (gateways)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--crash-runs", type=int, default=3)
    ap.add_argument("--crash-messages", type=int, default=2000)
    ap.add_argument("--timeout", type=float, default=120.0, help="give up on one measurement after this (s)")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    a = ap.parse_args()
    names = [c.strip() for c in a.configs.split(",")]
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; cores: {os.cpu_count()}",
          flush=True)
    rows = []
    for name in names:
        extra = CONFIGS[name]
        res = {}
        for mode in ("batch", "single"):
            ts = [online(extra, mode, a.messages, a.timeout) for _ in range(a.runs)]
            print(f"  {name} online {mode}: {[fmt(t, a.timeout) for t in ts]}", flush=True)
            res[mode] = None if None in ts else statistics.median(ts)
        bl = [backlog(extra, a.backlog, a.timeout, a.backlog_publishers) for _ in range(a.runs)]
        print(f"  {name} backlog: {[(fmt(p, a.timeout), fmt(d, a.timeout)) for p, d in bl]}", flush=True)
        pubs, drains = [p for p, _ in bl], [d for _, d in bl]
        res["bpub"] = None if None in pubs else statistics.median(pubs)
        res["bdrain"] = None if None in drains else statistics.median(drains)
        cr = [crash(extra, a.crash_messages) for _ in range(a.crash_runs)]
        print(f"  {name} SIGKILL (published, lost, duplicated): {cr}", flush=True)
        res["crash"] = cr
        rows.append((name, res))
    print(f"\nload average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    print(f"\n| broker setting | online {a.messages:,} × 4 KB (s) | online {a.messages:,} × 80 B (s) | "
          f"backlog {a.backlog:,} × 4 KB from {a.backlog_publishers} connection(s): publish / drain (s) | SIGKILL mid-burst: lost, duplicated "
          f"(of {a.crash_messages:,}, each run) |")
    print("|---|---|---|---|---|")
    for name, r in rows:
        crashes = "; ".join(f"{lost}, {dup}" for _, lost, dup in r["crash"])
        print(f"| {name} | {fmt(r['batch'], a.timeout)} | {fmt(r['single'], a.timeout)} | "
              f"{fmt(r['bpub'], a.timeout)} / {fmt(r['bdrain'], a.timeout)} | {crashes} |")


if __name__ == "__main__":
    sys.exit(main())
