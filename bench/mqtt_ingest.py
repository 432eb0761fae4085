"""Benchmark: sustained MQTT ingest against a bare subscriber, counted end to end in the database.

A private Mosquitto with the project's zero-loss settings (unbounded queue, no in-flight limit) and, for each
payload mode (``batch``: 100 readings/message; ``single``: one reading/message), three phases of ``--seconds``
each, with the same publishers (``--publishers`` processes, QoS 1, as fast as they can):

1. publish only: no subscriber, the publishers' own ceiling on this machine;
2. bare: a subscriber process that only counts messages (paho, MQTT 5, QoS 1, automatic acknowledgement);
3. ingest: ``zerocarbon`` ingest (services.ingest.mqtt_subscriber, ``--processes`` workers) into a new
   database (``--store postgresql``: a new database on the server of $ZEROCARBON_BENCH_PG; ``sqlite``: a file),
   the 1,000 publishing meters registered first, as in a plant. ``--compare SRC`` runs the same phase a second
   time with the ``src`` folder of another build (e.g. ``git archive <commit> src | tar -x -C /tmp/old``).

Rates: readings (or messages) delivered by the end of publishing divided by the publishing time ("while
publishing"), and everything published divided by the time until the last reading was stored ("end to end").
Loss and duplicates are counted in the database after the drain: distinct stored (meter, interval) against
the distinct readings published; the primary key makes a duplicate row impossible, so redeliveries show up
as messages handled beyond those published. Everything runs on this machine's cores: broker, publishers,
subscriber and PostgreSQL share them.

Publishers: paho processes that build each payload once per interval block (``--seconds``), or, for the
single mode with ``--single-messages N``, N messages from mosquitto_pub processes (C, QoS 1, 1,000 in flight),
whose ceiling is several times paho's. The ingest's CPU per reading (its process and workers, start-up
excluded) and that of the PostgreSQL server processes of its database are reported beside the rates: on a
machine shared with other work they are steadier than rates.

Usage: PYTHONPATH=src python bench/mqtt_ingest.py --seconds 20 --modes batch,single --store postgresql \
           --publishers 2 --single-messages 200000 --processes 1 [--compare /tmp/old/src]
Writes bench/out/mqtt_ingest.json and .md.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
ORG, METERS, PER_BATCH = "BENCH", 1000, 100
ARGS = argparse.Namespace(single_messages=0, tmp=None)
PG_ADMIN = os.environ.get("ZEROCARBON_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# -- publishers ------------------------------------------------------------------------------------------------
def _stamp(k: int) -> str:
    import datetime as dt

    return (dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=15 * k)).isoformat()


def publish(port: int, seconds: float, mode: str, part: int, parts: int, out) -> None:
    """Publish distinct readings of this publisher's share of the meters (meter % parts == part) until time
    is up. A payload depends only on its interval block, not on the meter, so each is built once and sent for
    every meter: the publisher spends its time publishing, not formatting JSON."""
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{part}-{time.time_ns()}")
    c.max_inflight_messages_set(1000)  # pipelining: up to 1,000 unacknowledged QoS 1 publishes
    c.connect("127.0.0.1", port)
    c.loop_start()
    per = PER_BATCH if mode == "batch" else 1
    topics = [f"zc/{ORG}/S/A/L/M{m:04d}" for m in range(METERS) if m % parts == part]
    msgs = block = 0
    info = None
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        if per == 1:
            payload = json.dumps({"v": 1, "unit": "kWh", "interval_min": 15, "ts": _stamp(block), "value": 1.0})
        else:
            payload = json.dumps({"v": 1, "unit": "kWh", "interval_min": 15,
                                  "readings": [{"ts": _stamp(block * per + i), "value": 1.0} for i in range(per)]})
        for t in topics:
            info = c.publish(t, payload, qos=1)
            msgs += 1
            if msgs % 2000 == 0:
                info.wait_for_publish(60)
            if msgs % 200 == 0 and time.monotonic() >= t_end:
                break
        block += 1
    if info:
        info.wait_for_publish(120)
    c.loop_stop()
    c.disconnect()
    out.put({"messages": msgs, "readings": msgs * per})


def c_publishers(port: int, messages: int, n: int, tmp: Path) -> dict:
    """Single-reading messages from ``n`` mosquitto_pub processes (C; one meter each, one message per line of a
    file written beforehand), ``messages`` in all: a publisher that costs far less CPU per message than paho."""
    files = []
    for p in range(n):
        f = tmp / f"pub{p}.txt"
        if not f.exists():
            f.write_text("".join(json.dumps({"v": 1, "unit": "kWh", "interval_min": 15, "ts": _stamp(k), "value": 1.0})
                                 + "\n" for k in range(p, messages, n)))
        files.append(f)
    t0 = time.monotonic()
    procs = [subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-M", "1000", "-l",
                               "-i", f"bench-cpub-{p}-{time.time_ns()}", "-t", f"zc/{ORG}/S/A/L/M{p:04d}"],
                              stdin=open(f), stderr=subprocess.DEVNULL) for p, f in enumerate(files)]
    for pr in procs:
        pr.wait(600)
    return {"messages": messages, "readings": messages, "seconds": time.monotonic() - t0}


def run_publishers(port: int, seconds: float, mode: str, n: int) -> dict:
    if mode == "single" and ARGS.single_messages:
        return c_publishers(port, ARGS.single_messages, n, ARGS.tmp)
    q = mp.Queue()
    procs = [mp.Process(target=publish, args=(port, seconds, mode, p, n, q)) for p in range(n)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    got = [q.get(timeout=seconds + 180) for _ in procs]
    for p in procs:
        p.join(10)
    return {"messages": sum(g["messages"] for g in got), "readings": sum(g["readings"] for g in got),
            "seconds": time.monotonic() - t0}


# -- the bare subscriber -----------------------------------------------------------------------------------------
def bare(port: int, count, ready, stop) -> None:
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{time.time_ns()}", protocol=mqtt.MQTTv5)

    def on_message(client, userdata, msg):
        count.value += 1  # one process writes it: no lock needed

    c.on_message = on_message
    c.on_connect = lambda client, userdata, flags, rc, props: (client.subscribe(f"zc/{ORG}/#", qos=1), ready.set())
    c.connect("127.0.0.1", port)
    c.loop_start()
    stop.wait()
    c.loop_stop()
    c.disconnect()


# -- the zerocarbon ingest (a child process, so that another build's src can be measured alike) ----------------
def ingest_child(url: str, port: int, processes: int | None) -> None:
    import threading

    from zerocarbon.services.ingest import mqtt_subscriber
    from zerocarbon.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(url))
    kw = {} if processes is None else {"processes": processes}
    sub = mqtt_subscriber(sessions, ORG, port=port, client_id="bench-ingest", **kw)
    signal.signal(signal.SIGTERM, lambda *_: sub.stop())
    t = threading.Thread(target=sub.run, daemon=True)
    t.start()
    if not getattr(sub, "ready", sub.connected).wait(300):  # connected and its workers up
        raise SystemExit("ingest did not connect")
    at_ready = _tree_cpu()  # start-up (imports, worker processes) is not the ingest's cost per reading
    print("ready", flush=True)
    while t.is_alive():
        t.join(0.5)
    cpu = os.times()  # this process and its (reaped) worker processes; the database server is counted apart
    print(json.dumps({**sub.stats.__dict__,
                      "cpu_s": cpu.user + cpu.system + cpu.children_user + cpu.children_system - at_ready}), flush=True)


def _tree_cpu() -> float:
    """CPU seconds of this process and its live child processes."""
    me, total = os.getpid(), 0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:  # ppid
            total += int(fields[11]) + int(fields[12])
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system + total / tick


def new_database(store: str, tmp: Path, n: int) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if store == "sqlite":
        return f"sqlite:///{tmp / f'ingest{n}.sqlite'}", lambda: None
    name = f"zc_bench_mqtt_{os.getpid()}_{n}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        c.execute(text(f"CREATE DATABASE {name}"))

    def drop():
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), drop


def prepare(url: str) -> None:
    from zerocarbon.core.energy.intervals import Meter
    from zerocarbon.core.model import Organisation, Site
    from zerocarbon.services.meter_import import register_meters
    from zerocarbon.store import repos
    from zerocarbon.store.db import make_engine, session_factory, upgrade

    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        repos.save_organisation(s, Organisation(ORG, "Bench", (Site("S", "S"),)))
    register_meters(sessions, ORG, {f"M{m:04d}": Meter(f"M{m:04d}", "S") for m in range(METERS)}, actor="bench")
    engine.dispose()


def database_cpu(url: str) -> float:
    """CPU seconds the PostgreSQL server processes of ``url``'s database have used (local server only; 0 for
    SQLite, whose work is in the ingest process)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if not url.startswith("postgresql"):
        return 0.0
    engine = create_engine(url)
    with engine.connect() as c:
        mine = c.execute(text("SELECT pg_backend_pid()")).scalar()
        pids = [p for (p,) in c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                        {"d": make_url(url).database}) if p != mine]
    engine.dispose()
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def stored(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM readings")).scalar()
    engine.dispose()
    return n


# -- phases ------------------------------------------------------------------------------------------------------
def start_broker(tmp: Path) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = tmp / "m.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 0\n")
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return broker, port


def phase_publish_only(port, a, mode) -> dict:
    pub = run_publishers(port, a.seconds, mode, a.publishers)
    return {**pub, "readings_per_s": pub["readings"] / pub["seconds"], "messages_per_s": pub["messages"] / pub["seconds"]}


def phase_bare(port, a, mode) -> dict:
    per = PER_BATCH if mode == "batch" else 1
    count, ready, stop = mp.Value("q", 0, lock=False), mp.Event(), mp.Event()
    p = mp.Process(target=bare, args=(port, count, ready, stop))
    p.start()
    ready.wait(10)
    time.sleep(0.3)
    t0 = time.monotonic()
    pub = run_publishers(port, a.seconds, mode, a.publishers)
    t_pub = time.monotonic() - t0
    at_end = count.value
    last, t_last = at_end, time.monotonic()
    while count.value < pub["messages"] and time.monotonic() - t_last < 10:
        time.sleep(0.2)
        if count.value != last:
            last, t_last = count.value, time.monotonic()
    t_all = time.monotonic() - t0
    got = count.value
    stop.set()
    p.join(10)
    return {**pub, "seconds_publishing": t_pub, "received_messages": got,
            "readings_per_s_while_publishing": at_end * per / t_pub, "messages_per_s_while_publishing": at_end / t_pub,
            "readings_per_s_end_to_end": got * per / t_all, "messages_per_s_end_to_end": got / t_all}


def phase_ingest(port, a, mode, tmp, n, src: str | None) -> dict:
    per = PER_BATCH if mode == "batch" else 1
    url, drop = new_database(a.store, tmp, n)
    env = dict(os.environ, PYTHONPATH=src or str(Path(__file__).parents[1] / "src"))
    cmd = [sys.executable, __file__, "--ingest-child", url, "--port", str(port)]
    if src is None:
        cmd += ["--processes", str(a.processes)]

    def start():
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("ingest did not start")
        return child

    def finish(child) -> dict:
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=300)
        return json.loads(out.strip().splitlines()[-1])

    def drain(target: int, quiet: float) -> tuple[int, float]:
        last, t_last = stored(url), time.monotonic()
        while last < target and time.monotonic() - t_last < quiet:
            time.sleep(1)
            now = stored(url)
            if now != last:
                last, t_last = now, time.monotonic()
        return last, t_last

    try:
        prepare(url)
        child = start()
        t0 = time.monotonic()
        pub = run_publishers(port, a.seconds, mode, a.publishers)
        t_pub = time.monotonic() - t0
        at_end = stored(url)
        last, t_last = drain(pub["readings"], 20)
        t_all = (t_last if last < pub["readings"] else time.monotonic()) - t0
        db_cpu = database_cpu(url)  # before the ingest closes its connections
        runs = [finish(child)]
        # A subscriber that stalled under overload: a new one on the same persistent session must still receive
        # everything the broker kept; that, not the first pass, decides whether data was lost.
        while stored(url) < pub["readings"] and len(runs) < 4:
            child = start()
            drain(pub["readings"], 20)
            db_cpu += database_cpu(url)
            runs.append(finish(child))
        distinct = stored(url)
        messages = sum(r["messages"] for r in runs)
        cpu = sum(r["cpu_s"] for r in runs)
        return {**pub, "build": src or "this", "seconds_publishing": t_pub, "stored_while_publishing": at_end,
                "stored_distinct": distinct, "lost": pub["readings"] - distinct, "reconnects": len(runs) - 1,
                "duplicate_rows": 0,  # (meter, interval) is the primary key
                "messages_handled": messages, "redelivered_messages": messages - pub["messages"],
                "dead_letters": sum(r["dead_letters"] for r in runs),
                "ingest_cpu_s": cpu, "ingest_cpu_us_per_reading": cpu / max(distinct, 1) * 1e6,
                "database_cpu_s": db_cpu, "database_cpu_us_per_reading": db_cpu / max(distinct, 1) * 1e6,
                "readings_per_s_while_publishing": at_end / t_pub,
                "messages_per_s_while_publishing": at_end / per / t_pub,
                "readings_per_s_first_pass": last / t_all, "messages_per_s_first_pass": last / per / t_all}
    finally:
        drop()


def markdown(res: dict) -> str:
    lines = [f"{res['cpu']} cores; store {res['store']}; {res['publishers']} publisher process(es); "
             f"{res['processes']} ingest worker process(es); {res['seconds']:g} s per phase", "",
             "| mode | phase | published | delivered/stored | lost | rate while publishing | end to end |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for mode, r in res["modes"].items():
        unit = "readings/s" if mode == "batch" else "msg/s"
        key = "readings" if mode == "batch" else "messages"
        p = r["publish_only"]
        lines.append(f"| {mode} | publish only (ceiling) | {p[key]:,} {key} | – | – | "
                     f"{p[key + '_per_s']:,.0f} {unit} | – |")
        b = r["bare"]
        lines.append(f"| {mode} | bare counting subscriber | {b[key]:,} | {b['received_messages'] * (PER_BATCH if mode == 'batch' else 1):,} readings | – | "
                     f"{b[key + '_per_s_while_publishing']:,.0f} {unit} | {b[key + '_per_s_end_to_end']:,.0f} {unit} |")
        for i in r["ingest"]:
            ratio = i[key + "_per_s_while_publishing"] / b[key + "_per_s_while_publishing"]
            lines.append(f"| {mode} | zerocarbon ingest ({i['build']}) | {i[key]:,} | {i['stored_distinct']:,} readings | "
                         f"{i['lost']} | {i[key + '_per_s_while_publishing']:,.0f} {unit} ({ratio:.2f}× bare) | "
                         f"{i[key + '_per_s_first_pass']:,.0f} {unit}; {i['reconnects']} reconnect(s); "
                         f"CPU/reading: {i['ingest_cpu_us_per_reading']:.1f} µs ingest + "
                         f"{i['database_cpu_us_per_reading']:.1f} µs database |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--modes", default="batch,single")
    ap.add_argument("--store", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--publishers", type=int, default=2)
    ap.add_argument("--processes", type=int, default=1, help="ingest worker processes")
    ap.add_argument("--compare", help="src folder of another build to run the ingest phase with as well")
    ap.add_argument("--single-messages", type=int, default=0,
                    help="single mode: publish this many messages with mosquitto_pub (C) instead of paho for "
                         "--seconds")
    ap.add_argument("--ingest-child")
    ap.add_argument("--port", type=int)
    a = ap.parse_args()
    if a.ingest_child:
        ingest_child(a.ingest_child, a.port, a.processes if "--processes" in sys.argv else None)
        return
    mp.set_start_method("fork")
    tmp = Path(tempfile.mkdtemp())
    ARGS.single_messages, ARGS.tmp = a.single_messages, tmp
    res = {"cpu": os.cpu_count(), "store": a.store, "publishers": a.publishers, "processes": a.processes,
           "seconds": a.seconds, "modes": {}}
    n = 0
    for mode in a.modes.split(","):
        broker, port = start_broker(tmp)  # a fresh broker per mode: nothing queued from the mode before
        try:
            r = {"publish_only": phase_publish_only(port, a, mode), "bare": phase_bare(port, a, mode), "ingest": []}
            for src in ([None, a.compare] if a.compare else [None]):
                n += 1
                r["ingest"].append(phase_ingest(port, a, mode, tmp, n, src))
        finally:
            broker.terminate()
            broker.wait(10)
        res["modes"][mode] = r
        print(json.dumps({mode: r}, indent=1), flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "mqtt_ingest.json").write_text(json.dumps(res, indent=2))
    md = markdown(res)
    (OUT / "mqtt_ingest.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
