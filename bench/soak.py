"""Soak: live MQTT ingest at half the benchmarked rate plus dashboard load, for a bounded time, on loopback.

Everything is started by this script and stopped by it, whatever happens (a hard deadline of the run time
plus the drain):

* a private Mosquitto on a free port with the zero-loss settings of deploy/mosquitto.conf (persistence on,
  ``max_queued_messages 0``, ``max_queued_bytes 0``) without its TLS listener, password file and ACL, which
  need certificates and users made for them; a private broker rather than the shared one on 1883, whose per-client queue limit is
  Mosquitto's default (1,000 messages) and would drop QoS 1 messages whenever the ingest fell behind, and whose
  traffic from other users would mix into the figures;
* a new PostgreSQL database (on the server of $ZEROCARBON_BENCH_PG, dropped at the end) holding what the two
  benchmarks it follows build: bench/api_load.py's organisation of 10 sites with a year of activity data, its
  inventory computed and a member who logs in, and bench/mqtt_ingest.py's organisation ``BENCH`` with 1,000
  registered meters;
* ``zerocarbon ingest mqtt --processes 1`` (the product's command, as a process of its own) storing BENCH's
  readings;
* ``zerocarbon serve --workers 1`` with the dashboard;
* a paced publisher (paho, QoS 1, one process) sending messages of 100 readings, one per meter in turn, at
  ``--rate`` readings/s: by default half of the batched end-to-end rate of BENCHMARKS.md's MQTT ingest table
  (the row is read from BENCHMARKS.md and printed); held while the ingest is more than ``--max-backlog``
  readings behind, so that a machine short of CPU cannot grow the broker's queue and the final drain without
  bound (the time held and the rate actually published are reported);
* dashboard load: a client logged in through ``POST /api/v1/auth/login`` (its session cookie, as a browser
  would send it) reading dashboard pages and API endpoints round-robin at ``--rps`` requests/s.

Every ``--sample`` seconds: resident memory (RSS) of the ingest, the web server and the broker (each with its
child processes, from /proc), the ingest lag (from publishing to stored: the ``received_at`` of meter M0000's
readings, stamped by the ingest just before its commit, against the publisher's clock for that message),
request latency p50/p95/p99 and errors of the window, the load average. At the end, after the ingest has
drained: readings published against stored (count and sum of values, integers so that the sums are exact),
messages handled against published (redeliveries), dead letters, memory slope (least squares, MB per
hour, after a warm-up), latency of the first and the last window, the ingest's reconnections (its connections
seen in /proc and the broker's log). Results in --out (default bench/results): soak.json, soak.md (the table of
BENCHMARKS.md), soak.png, and the ingest's and the broker's logs.

Usage: PYTHONPATH=src python bench/soak.py [--minutes 60] [--rate R] [--rps 5] [--sample 30]
           [--max-backlog 1000000] [--drain-max 900] [--out DIR]
       PYTHONPATH=src python bench/soak.py --report bench/results/soak.json     # the table again
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = ROOT / "src"
sys.path.insert(0, str(HERE))

import api_load  # noqa: E402  (bench/ is a folder of scripts, not a package)
import mqtt_ingest  # noqa: E402

ORG = mqtt_ingest.ORG  # the ingest's organisation and its meters, as the ingest benchmark registers them
METERS, PER_MESSAGE = mqtt_ingest.METERS, mqtt_ingest.PER_BATCH
WEB_ORG, YEAR = api_load.ORG, api_load.YEAR
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)  # first interval; an hour at the default rate ends in 2026
STEP = dt.timedelta(minutes=15)
PROBE = "M0000"  # the meter whose readings measure the lag


# -- the rate, from the benchmark ---------------------------------------------------------------------------------
def benchmark_rate(path: Path = ROOT / "BENCHMARKS.md") -> tuple[float, str]:
    """The batched end-to-end ingest rate [readings/s] of BENCHMARKS.md's MQTT ingest table, and its row."""
    text = path.read_text(encoding="utf-8")
    section = text.split("## Factory data: MQTT live ingest", 1)
    if len(section) < 2:
        raise SystemExit(f"{path}: no section 'Factory data: MQTT live ingest'; give --rate")
    for line in section[1].splitlines():
        if "**zerocarbon ingest**" in line and "readings/s" in line:
            rates = re.findall(r"\*\*([\d,]+) readings/s", line)
            if rates:
                return float(rates[0].replace(",", "")), line.strip()
    raise SystemExit(f"{path}: no batched 'zerocarbon ingest' row with an end-to-end rate; give --rate")


# -- the paced publisher (a process of its own) -------------------------------------------------------------------
def payload(block: int) -> tuple[str, int]:
    """Message ``block``'s JSON (100 consecutive 15-minute intervals; the same for every meter) and the sum of
    its values: integers, so that sums are exact in float8."""
    first = block * PER_MESSAGE
    values = [(first + i) % 50 + 1 for i in range(PER_MESSAGE)]
    body = {"v": 1, "unit": "kWh", "interval_min": 15,
            "readings": [{"ts": (T0 + (first + i) * STEP).isoformat(), "value": v} for i, v in enumerate(values)]}
    return json.dumps(body), sum(values)


def publisher(port: int, messages_per_s: float, seconds: float, sent_at, counters, stop) -> None:
    """Publish at ``messages_per_s`` for ``seconds``; ``sent_at[block]``: wall-clock time of the probe meter's
    message of that block; ``counters``: messages, readings, sum of values (updated as it goes), then 1 when
    every publish is acknowledged by the broker, the hold flag (set by the soak: publish nothing meanwhile) and
    the seconds held. The schedule counts only the time not held: no burst after a hold."""
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"soak-pub-{time.time_ns()}")
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.loop_start()
    topics = [f"zc/{ORG}/S/A/L/M{m:04d}" for m in range(METERS)]
    sent = block = total = 0
    body, info = "", None
    t0 = time.monotonic()
    held = 0.0
    while not stop.is_set():
        elapsed = time.monotonic() - t0
        if elapsed >= seconds:
            break
        if counters[4]:
            time.sleep(0.1)
            held += time.monotonic() - t0 - elapsed
            counters[5] = held
            continue
        due = min(int(messages_per_s * (elapsed - held)) + 1, int(messages_per_s * seconds))
        while sent < due:
            m = sent % METERS
            if m == 0:
                block = sent // METERS
                body, part = payload(block)
                if block < len(sent_at):
                    sent_at[block] = time.time()
            info = c.publish(topics[m], body, qos=1)
            sent += 1
            total += part
            if sent % 1000 == 0:
                info.wait_for_publish(120)  # bounded in-flight window; a stalled broker shows as a lower rate
        counters[0], counters[1], counters[2] = sent, sent * PER_MESSAGE, total
        time.sleep(0.01)
    if info is not None:
        info.wait_for_publish(600)
    counters[0], counters[1], counters[2] = sent, sent * PER_MESSAGE, total
    c.loop_stop()
    c.disconnect()
    counters[3] = 1


# -- dashboard load (a thread: it waits on sockets, not on the CPU) -----------------------------------------------
def web_targets() -> list[str]:
    api = f"/api/v1/orgs/{WEB_ORG}"
    web = f"/web/orgs/{WEB_ORG}"
    return [f"{web}/overview?year={YEAR}", f"{api}/inventories/{YEAR}", f"{web}/data", f"{api}/batches",
            f"{web}/ledger?year={YEAR}", "/api/v1/auth/me", f"{web}/audit", f"{api}/factor-sets"]


def dashboard_load(port: int, cookie: str, rps: float, stop: threading.Event, log: list) -> None:
    """GET the targets round-robin at ``rps`` requests/s on one keep-alive connection; ``log`` gets
    (wall time, path, status or -1, seconds). Anything but 200 is an error: an expired session answers 401
    (API) or a redirect to the login page (dashboard)."""
    httpx = api_load._httpx()
    targets = web_targets()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Cookie": cookie}, timeout=60) as client:
        t0, i = time.monotonic(), 0
        while not stop.is_set():
            wait = t0 + i / rps - time.monotonic()
            if wait > 0 and stop.wait(wait):
                break
            path = targets[i % len(targets)]
            start = time.perf_counter()
            try:
                status = client.get(path).status_code
            except httpx.HTTPError:
                status = -1
            log.append((time.time(), path, status, time.perf_counter() - start))
            i += 1


# -- processes ----------------------------------------------------------------------------------------------------
def proc_table() -> dict[int, tuple[int, int, int]]:
    """Every process: pid -> (parent pid, resident memory [kB], CPU time [clock ticks]), from /proc."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = stat.read_text().rsplit(")", 1)[1].split()
            rss = 0
            for line in (stat.parent / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
            out[int(stat.parent.name)] = (int(f[1]), rss, int(f[11]) + int(f[12]))
        except (OSError, ValueError, IndexError):
            continue
    return out


def tree_usage(pid: int, table: dict) -> tuple[float, float]:
    """Resident memory [MB] and CPU time [s] of ``pid`` and its descendants (0, 0 once it has exited)."""
    todo, rss, ticks = [pid], 0, 0
    while todo:
        p = todo.pop()
        if p not in table:
            continue
        rss += table[p][1]
        ticks += table[p][2]
        todo += [c for c, v in table.items() if v[0] == p]
    return rss / 1024, ticks / os.sysconf("SC_CLK_TCK")


def broker_connections(pid: int, broker_port: int) -> set[int]:
    """Local ports of process ``pid``'s TCP connections to ``broker_port`` on loopback (from /proc): a new port
    is a new connection, so the ports seen over a run count the ingest's reconnections."""
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            link = os.readlink(fd)
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return set()
    ports = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) > 9 and f[9] in inodes and int(f[2].rsplit(":", 1)[1], 16) == broker_port:
                ports.add(int(f[1].rsplit(":", 1)[1], 16))
    return ports


MOSQUITTO_PATHS = ("/usr/sbin/mosquitto",)  # where Debian puts it, outside a user's PATH


def mosquitto() -> str | None:
    return shutil.which("mosquitto") or next((p for p in MOSQUITTO_PATHS if Path(p).exists()), None)


def start_broker(folder: Path) -> tuple[subprocess.Popen, int, Path]:
    exe = mosquitto()
    if exe is None:
        raise SystemExit("no mosquitto executable (Debian: apt-get install mosquitto)")
    port = api_load.free_port()
    store = folder / "mosquitto"
    store.mkdir()
    # Started as root, Mosquitto drops to its own user ("mosquitto"), which must be able to write the
    # persistence file: in a root-owned scratch folder its autosave fails with "Permission denied".
    store.chmod(0o777)
    folder.chmod(folder.stat().st_mode | 0o011)  # and reach it
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {store}/\nmax_queued_messages 0\nmax_queued_bytes 0\n")
    # its log says why a client was disconnected (e.g. "exceeded timeout")
    broker = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                              stderr=open(folder / "broker.log", "w"))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return broker, port, conf
        except OSError:
            if broker.poll() is not None:
                raise SystemExit(f"mosquitto exited with {broker.returncode} ({conf})")
            time.sleep(0.1)
    raise SystemExit("mosquitto did not listen within 10 s")


def zerocarbon(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "300", "NO_COLOR": "1"}
    # Ctrl-C (SIGINT) is how the commands stop cleanly; a shell starts a background job (nohup ... &) with
    # SIGINT ignored, which children inherit, so it is restored here.
    return subprocess.Popen([sys.executable, "-m", "zerocarbon.cli", *args], env=env, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for_line(log: Path, proc: subprocess.Popen, needle: str, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if needle in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise SystemExit(f"{log.name}: exited with {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    raise SystemExit(f"{log.name}: no '{needle}' within {seconds:.0f} s")


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGINT, seconds: float = 120) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# -- database -----------------------------------------------------------------------------------------------------
class Store:
    """The soak's database: the probe meter's new readings, and the final count and sum."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine, text

        self.engine = create_engine(url, pool_size=1)
        self.text = text
        with self.engine.connect() as c:
            self.org_id = c.execute(text("SELECT id FROM organisations WHERE code = :c"), {"c": ORG}).scalar_one()
        self.last = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

    def probe(self) -> list[tuple[int, float]]:
        """(block, received_at as epoch seconds) of the probe meter's readings stored since the last call; one
        row per message (its first interval)."""
        with self.engine.connect() as c:
            rows = c.execute(self.text(
                "SELECT ts, received_at FROM readings WHERE organisation_id = :o AND meter = :m AND ts > :t "
                "ORDER BY ts"), {"o": self.org_id, "m": PROBE, "t": self.last}).all()
        out = []
        for ts, received in rows:
            ts = ts if ts.tzinfo else ts.replace(tzinfo=dt.timezone.utc)
            received = received if received.tzinfo else received.replace(tzinfo=dt.timezone.utc)
            k = round((ts - T0) / STEP)
            if k % PER_MESSAGE == 0:
                out.append((k // PER_MESSAGE, received.timestamp()))
            self.last = ts
        return out

    def totals(self) -> tuple[int, float]:
        with self.engine.connect() as c:
            n, s = c.execute(self.text("SELECT count(*), coalesce(sum(value), 0) FROM readings WHERE "
                                       "organisation_id = :o"), {"o": self.org_id}).one()
        return int(n), float(s)

    def dead_letters(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(self.text("SELECT count(*) FROM dead_letters")).scalar())

    def backends(self) -> list[int]:
        """Server process ids of this database's connections but this one."""
        with self.engine.connect() as c:
            return [p for (p,) in c.execute(self.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))]

    def size_mb(self) -> float:
        with self.engine.connect() as c:
            return c.execute(self.text("SELECT pg_database_size(current_database())")).scalar() / 2**20

    def close(self) -> None:
        self.engine.dispose()


def build(folder: Path) -> tuple[str, callable]:
    url, drop = api_load.database_url("postgresql", folder)
    try:
        api_load.build_database(folder, url)  # organisation B10, its inventory, the member who logs in
        mqtt_ingest.prepare(url)  # organisation BENCH and its 1,000 meters
    except BaseException:
        drop()
        raise
    return url, drop


# -- statistics ---------------------------------------------------------------------------------------------------
def percentiles(values: list[float]) -> dict:
    import numpy as np

    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    a = np.asarray(values, float)
    return {"n": len(values), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "p99": float(np.percentile(a, 99)), "max": float(a.max())}


def slope_mb_per_hour(samples: list[dict], key: str, after_s: float) -> float | None:
    import numpy as np

    pts = [(s["t_s"], s["rss_mb"][key]) for s in samples if s["t_s"] >= after_s and s["rss_mb"][key] > 0]
    if len(pts) < 3:
        return None
    t, mb = np.asarray(pts, float).T
    return float(np.polyfit(t / 3600, mb, 1)[0])


def window(log: list, lags: list, start: float, end: float) -> dict:
    lat = [x[3] * 1000 for x in log if start <= x[0] < end]
    return {"from_s": None, "requests": len(lat), "errors": sum(1 for x in log if start <= x[0] < end and x[2] != 200),
            "latency_ms": percentiles(lat), "lag_s": percentiles([lag for t, lag in lags if start <= t < end])}


# -- the run ------------------------------------------------------------------------------------------------------
@dataclass
class Options:
    minutes: float = 60
    rate: float | None = None  # readings/s; None: half of BENCHMARKS.md's
    rps: float = 5
    sample: float = 30
    out: Path = HERE / "results"
    drain_max: float = 900  # seconds to wait for the ingest to store what was published
    max_backlog: int = 1_000_000  # readings not yet stored before the publisher is held
    chart: bool = True


def say(msg: str) -> None:
    print(f"[{dt.datetime.now(dt.timezone.utc):%H:%M:%S}] {msg}", flush=True)


def run(o: Options) -> dict:
    bench_rate, bench_row = benchmark_rate()
    rate = o.rate if o.rate is not None else bench_rate / 2
    rate_source = ("half of BENCHMARKS.md, 'Factory data: MQTT live ingest', batch (100 readings/message), "
                   f"zerocarbon ingest, end to end: {bench_rate:,.0f} readings/s / 2" if o.rate is None
                   else "given with --rate")
    seconds = o.minutes * 60
    say(f"soak: {o.minutes:g} min, {rate:,.0f} readings/s ({rate / PER_MESSAGE:,.1f} messages of {PER_MESSAGE} "
        f"readings/s, QoS 1) -- {rate_source}")
    say(f"benchmark row: {bench_row}")
    o.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="zc-soak-"))
    procs: dict[str, subprocess.Popen] = {}
    drop = lambda: None  # noqa: E731
    store = None
    stop = threading.Event()
    pub_stop = mp.Event()
    pub = None
    try:
        t_setup = time.monotonic()
        url, drop = build(folder)
        say(f"database ready ({time.monotonic() - t_setup:.0f} s): {url.rsplit('/', 1)[-1]}")
        procs["broker"], port, conf = start_broker(folder)
        ingest_log, web_log = folder / "ingest.log", folder / "serve.log"
        procs["ingest"] = zerocarbon(["ingest", "mqtt", "--db", url, "--org", ORG, "--port", str(port),
                                      "--client-id", "soak-ingest", "--processes", "1"], ingest_log)
        web_port = api_load.free_port()
        procs["web"] = zerocarbon(["serve", "--db", url, "--port", str(web_port), "--workers", "1"], web_log)
        wait_for_line(ingest_log, procs["ingest"], "listening on", 300)  # subscribed: the session keeps all
        api_load.wait_up(web_port, "/api/v1/openapi.json", procs["web"])
        cookie = api_load.login_cookie(web_port)
        httpx = api_load._httpx()
        for path in web_targets():  # every target answers 200 before anything is measured
            r = httpx.get(f"http://127.0.0.1:{web_port}{path}", headers={"Cookie": cookie}, timeout=60)
            if r.status_code != 200:
                raise SystemExit(f"{path} answered {r.status_code}: {r.text[:300]}")
        store = Store(url)
        say(f"broker :{port}, ingest pid {procs['ingest'].pid}, web :{web_port} pid {procs['web'].pid}; "
            f"{len(web_targets())} targets at {o.rps:g} req/s")

        messages_per_s = rate / PER_MESSAGE
        blocks = int(messages_per_s * seconds / METERS) + 2
        sent_at = mp.Array("d", blocks, lock=False)
        counters = mp.Array("d", 6, lock=False)
        pub = mp.get_context("fork").Process(target=publisher,
                                             args=(port, messages_per_s, seconds, sent_at, counters, pub_stop))
        log: list = []
        web = threading.Thread(target=dashboard_load, args=(web_port, cookie, o.rps, stop, log), daemon=True)
        table = proc_table()
        cpu_base = {k: tree_usage(p.pid, table)[1] for k, p in procs.items()}
        cpu_base["database"] = sum(table.get(b, (0, 0, 0))[2] for b in store.backends()) / os.sysconf("SC_CLK_TCK")
        t_start = time.time()
        pub.start()
        web.start()

        samples: list[dict] = []
        lags: list[tuple[float, float]] = []  # (stored at, lag s)
        seen_blocks: set[int] = set()
        cpu_db: dict[int, float] = {}
        state = {"i": 0, "prev": t_start, "holds": 0}

        def backlog() -> int:
            """Readings published but not yet stored, at most: the ingest stores in arrival order, so every
            block of messages before that of the newest stored probe message is stored."""
            for block, received in store.probe():
                if block < len(sent_at) and sent_at[block] > 0 and block not in seen_blocks:
                    seen_blocks.add(block)
                    lags.append((received, received - sent_at[block]))
            done = max(seen_blocks) * METERS * PER_MESSAGE if seen_blocks else 0
            return max(0, int(counters[1]) - done)

        connections: set[int] = set()

        def guard() -> None:
            """Bound what the broker holds (memory on a shared machine) and the drain: hold the publisher while
            the ingest is more than --max-backlog readings behind, until it is back under half of that."""
            connections.update(broker_connections(procs["ingest"].pid, port))
            b = backlog()
            if not counters[4] and b > o.max_backlog:
                counters[4] = 1
                state["holds"] += 1
                say(f"ingest {b:,} readings behind: publisher held")
            elif counters[4] and b < o.max_backlog / 2:
                counters[4] = 0
                say(f"ingest {b:,} readings behind: publisher resumed")

        def sample(phase: str) -> dict:
            now = time.time()
            behind = backlog()
            connections.update(broker_connections(procs["ingest"].pid, port))
            new = log[state["i"]:]
            state["i"] += len(new)
            window_lags = [lag for t, lag in lags if state["prev"] <= t < now]
            table = proc_table()
            usage = {k: tree_usage(p.pid, table) for k, p in procs.items()}
            # an exited publisher keeps the CPU time it had used
            usage["publisher"] = (tree_usage(pub.pid, table) if pub.is_alive() or not samples
                                  else (0.0, samples[-1]["cpu_s"]["publisher"]))
            usage["soak"] = tree_usage(os.getpid(), table)[0], sum(os.times()[:2])  # itself: sampler, web client
            for b in store.backends():  # the ingest's and the web server's PostgreSQL server processes
                cpu_db[b] = table.get(b, (0, 0, 0))[2] / os.sysconf("SC_CLK_TCK")
            cpu = {k: v[1] for k, v in usage.items()}
            cpu["database"] = sum(cpu_db.values())
            s = {"t_s": round(now - t_start, 1), "phase": phase,
                 "rss_mb": {k: round(usage[k][0], 1) for k in procs},
                 "cpu_s": {k: round(v, 2) for k, v in cpu.items()},
                 "published_readings": int(counters[1]), "not_yet_stored_at_most": behind,
                 "publisher_held": bool(counters[4]), "held_s": round(counters[5], 1),
                 "ingest_connections": len(connections),
                 "probe_blocks_published": sum(1 for x in sent_at if x > 0), "probe_blocks_stored": len(seen_blocks),
                 "lag_s": percentiles(window_lags)["max"],
                 "requests": len(new), "errors": sum(1 for x in new if x[2] != 200),
                 "latency_ms": {k: v for k, v in percentiles([x[3] * 1000 for x in new]).items()
                                if k in ("p50", "p95", "p99")},
                 "load_average": os.getloadavg()[0]}
            if samples:
                span = s["t_s"] - samples[-1]["t_s"]
                s["cores_used"] = {k: round((v - samples[-1]["cpu_s"].get(k, 0)) / span, 3) for k, v in cpu.items()}
            state["prev"] = now
            samples.append(s)
            lat = s["latency_ms"]
            say(f"{s['t_s'] / 60:5.1f} min {phase}: published {s['published_readings']:,} readings, "
                f"{behind:,} not yet stored{' (held)' if counters[4] else ''}; "
                f"RSS ingest {s['rss_mb']['ingest']:.0f} MB, web {s['rss_mb']['web']:.0f} MB, broker "
                f"{s['rss_mb']['broker']:.0f} MB; lag {s['lag_s'] if s['lag_s'] is None else round(s['lag_s'], 2)} s; "
                f"{s['requests']} req p50/p95/p99 {_ms(lat['p50'])}/{_ms(lat['p95'])}/{_ms(lat['p99'])} ms, "
                f"{s['errors']} errors; load {s['load_average']:.2f}; cores used: "
                f"{', '.join(f'{k} {v:.2f}' for k, v in s.get('cores_used', {}).items())}")
            for name, p in procs.items():
                if p.poll() is not None:
                    raise SystemExit(f"{name} exited with {p.returncode} during the soak")
            return s

        end = t_start + seconds
        next_sample = t_start + o.sample
        while time.time() < end:
            time.sleep(max(0.0, min(5.0, next_sample - time.time(), end - time.time())))
            if time.time() >= next_sample or time.time() >= end:
                sample("load")
                next_sample += o.sample
            guard()
        stop.set()
        web.join(120)
        pub.join(600)
        published, published_sum = int(counters[1]), float(counters[2])
        if counters[3] != 1:
            raise SystemExit("the publisher did not finish: its messages were not all acknowledged by the broker")
        say(f"published {published:,} readings ({int(counters[0]):,} messages); draining")
        t_drain = time.time()
        stored, stored_sum = 0, 0.0
        last_change, last_n = time.time(), -1
        while time.time() - t_drain < o.drain_max:
            time.sleep(min(o.sample, 10))
            s = sample("drain")
            if s["probe_blocks_stored"] < s["probe_blocks_published"]:
                continue
            stored, stored_sum = store.totals()
            if stored >= published:
                break
            if stored != last_n:
                last_change, last_n = time.time(), stored
            elif time.time() - last_change > 120:
                break
        drain_s = time.time() - t_drain
        stored, stored_sum = store.totals()
        stop_process(procs["ingest"])
        text = ingest_log.read_text(errors="replace")
        got = re.findall(r"([\d,]+) messages, ([\d,]+) readings, ([\d,]+) dead letters", text)
        handled = [int(x.replace(",", "")) for x in got[-1]] if got else None
        dead = store.dead_letters()
        size = store.size_mb()
        stop_process(procs["web"])
        stop_process(procs["broker"], signal.SIGTERM)
        broker_log = (folder / "broker.log").read_text(errors="replace").splitlines()

        load = [s for s in samples if s["phase"] == "load"]
        warm = min(300.0, seconds * 0.2)
        win = min(600.0, seconds / 3)
        first = window(log, lags, t_start, t_start + win)
        last = window(log, lags, t_start + seconds - win, t_start + seconds)
        first["from_s"], last["from_s"] = 0, round(seconds - win, 1)
        loads = [s["load_average"] for s in samples]
        result = {
            "started_utc": dt.datetime.fromtimestamp(t_start, dt.timezone.utc).isoformat(timespec="seconds"),
            "minutes": o.minutes, "rate_readings_per_s": rate,
            "max_backlog_readings": o.max_backlog, "publisher_holds": state["holds"],
            "publisher_held_s": round(counters[5], 1),
            "published_rate_readings_per_s": round(published / seconds, 1), "rate_messages_per_s": rate / PER_MESSAGE,
            "rate_source": rate_source, "benchmark_row": bench_row, "qos": 1, "readings_per_message": PER_MESSAGE,
            "meters": METERS, "requests_per_s": o.rps, "web_targets": web_targets(),
            "broker": "private Mosquitto on loopback: persistence true, max_queued_messages 0, max_queued_bytes 0, "
                      "anonymous (deploy/mosquitto.conf without TLS, password file and ACL)",
            "store": "postgresql (new database, dropped after the run)", "database_mb_at_end": round(size, 1),
            "machine": {"cores": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE")
                                                                    * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                        "platform": platform.platform(), "python": platform.python_version(),
                        "load_average_1min": {"min": min(loads), "mean": sum(loads) / len(loads), "max": max(loads)}},
            "published": {"messages": int(counters[0]), "readings": published, "sum": published_sum},
            "stored": {"readings": stored, "sum": stored_sum},
            "drained": stored >= published,
            # Until the ingest has caught up the rest is still queued in the broker's persistent session: only a
            # drained run can say whether anything was lost.
            "lost": published - stored if stored >= published else None,
            "not_yet_stored": max(0, published - stored), "duplicated": max(0, stored - published),
            "cpu_us_per_stored_reading": {k: round((samples[-1]["cpu_s"][k] - cpu_base[k]) / max(stored, 1) * 1e6, 1)
                                          for k in ("ingest", "database")},
            "sum_matches": stored_sum == published_sum,
            "ingest_stats": dict(zip(("messages", "readings", "dead_letters"), handled)) if handled else None,
            "redelivered_messages": handled[0] - int(counters[0]) if handled else None,
            # seen every 5 s: a connection shorter than that can be missed, so this is a lower bound
            "ingest_reconnections_at_least": max(0, len(connections) - 1),
            # the broker's own account: each session start of the ingest, and what went wrong on its side
            "broker_log": {"ingest_connects": sum(" as soak-ingest " in line for line in broker_log),
                           "client_timeouts": sum("exceeded timeout" in line for line in broker_log),
                           "errors": [line for line in broker_log if "Error" in line][:10]},
            "dead_letters": dead, "drain_s": round(drain_s, 1),
            "requests": len(log), "http_errors": sum(1 for x in log if x[2] != 200),
            "http_statuses": _count(x[2] for x in log),
            "warm_up_s": warm,
            "memory_slope_mb_per_hour": {k: slope_mb_per_hour(load, k, warm) for k in procs},
            "rss_mb_first_last": {k: [load[0]["rss_mb"][k], load[-1]["rss_mb"][k]] for k in procs} if load else {},
            "lag_s": percentiles([lag for _, lag in lags]),
            "window_s": win, "first_window": first, "last_window": last,
            "samples": samples,
        }
        (o.out / "soak.json").write_text(json.dumps(result, indent=1))
        (o.out / "soak.md").write_text(markdown(result))
        if o.chart:
            chart(result, o.out / "soak.png")
        say(summary(result))
        return result
    finally:
        stop.set()
        pub_stop.set()
        if pub is not None and pub.is_alive():
            pub.join(30)
            if pub.is_alive():
                pub.kill()
        for name in ("ingest", "web", "broker"):
            if name in procs:
                stop_process(procs[name], signal.SIGINT if name != "broker" else signal.SIGTERM, 60)
        if store is not None:
            store.close()
        drop()
        for name in ("ingest.log", "serve.log", "broker.log"):
            if (folder / name).exists():
                (o.out / f"soak-{name}").write_text((folder / name).read_text(errors="replace"))
        shutil.rmtree(folder, ignore_errors=True)  # the broker's persistence file and the data files


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.0f}"


def _count(items) -> dict:
    out: dict = {}
    for i in items:
        out[str(i)] = out.get(str(i), 0) + 1
    return out


def summary(r: dict) -> str:
    f, la = r["first_window"], r["last_window"]

    def lat(w):
        x = w["latency_ms"]
        return f"{_ms(x['p50'])}/{_ms(x['p95'])}/{_ms(x['p99'])} ms"

    slopes = ", ".join(f"{k} {v:+.1f}" if v is not None else f"{k} -" for k, v in r["memory_slope_mb_per_hour"].items())
    return (f"published {r['published']['readings']:,} readings (sum {r['published']['sum']:,.0f}), stored "
            f"{r['stored']['readings']:,} (sum {r['stored']['sum']:,.0f}): lost {r['lost']}, duplicated "
            f"{r['duplicated']}, redelivered messages {r['redelivered_messages']} (ingest reconnected at least "
            f"{r['ingest_reconnections_at_least']} times), dead letters {r['dead_letters']}; "
            f"publisher held {r['publisher_held_s']:g} s ({r['publisher_holds']} holds), published "
            f"{r['published_rate_readings_per_s']:,.0f} readings/s on average; "
            f"{r['requests']:,} requests, {r['http_errors']} errors; memory slope MB/h: {slopes}; latency "
            f"p50/p95/p99 first {lat(f)}, last {lat(la)}; lag p50 {r['lag_s']['p50']} s max {r['lag_s']['max']} s")


def _broker_log(r: dict) -> str:
    b = r.get("broker_log")
    return f" (broker log: {b['ingest_connects']} connects, {b['client_timeouts']} client timeouts)" if b else ""


def markdown(r: dict) -> str:
    """The figures of a run as the table of BENCHMARKS.md's "Soak" section."""
    m, f, la = r["machine"], r["first_window"], r["last_window"]
    first, last = r.get("rss_mb_first_last", {}), r["memory_slope_mb_per_hour"]
    win = r["window_s"] / 60

    def lat(w):
        x = w["latency_ms"]
        return f"{_ms(x['p50'])} / {_ms(x['p95'])} / {_ms(x['p99'])} ms ({w['requests']:,} requests)"

    def lag(w):
        x = w["lag_s"]
        return "–" if not x["n"] else f"{x['p50']:.1f} / {x['p95']:.1f} / {x['max']:.1f} s"

    rows = [
        ("started (UTC), publishing time", f"{r['started_utc']}, {r['minutes']:g} min"),
        ("machine", f"{m['cores']} cores, {m['memory_gb']} GiB, Python {m['python']}; load average (1 min) "
                    f"{m['load_average_1min']['min']:.1f} / {m['load_average_1min']['mean']:.1f} / "
                    f"{m['load_average_1min']['max']:.1f} (min / mean / max)"),
        ("rate offered", f"{r['rate_readings_per_s']:,.0f} readings/s = {r['rate_messages_per_s']:,.1f} messages/s "
                         f"of {r['readings_per_message']} readings, QoS 1, {r['meters']:,} meters ({r['rate_source']})"),
        ("rate published", f"{r['published_rate_readings_per_s']:,.0f} readings/s on average; publisher held "
                           f"{r['publisher_held_s']:,.0f} s in {r['publisher_holds']} holds by the "
                           f"{r['max_backlog_readings']:,}-reading backlog bound"),
        ("readings published / stored", f"{r['published']['readings']:,} / {r['stored']['readings']:,} "
                                        f"(sum of values {r['published']['sum']:,.0f} / {r['stored']['sum']:,.0f})"),
        ("lost / duplicated", f"**{r['lost']} / {r['duplicated']}**; dead letters {r['dead_letters']}; "
                              f"messages redelivered {r['redelivered_messages']}; ingest reconnections ≥ "
                              f"{r.get('ingest_reconnections_at_least', '–')}{_broker_log(r)}; drain after publishing {r['drain_s']:.0f} s"),
        ("ingest CPU per stored reading", f"{r['cpu_us_per_stored_reading']['ingest']} µs ingest + "
                                          f"{r['cpu_us_per_stored_reading']['database']} µs PostgreSQL"),
    ]
    for k in ("ingest", "web", "broker"):
        a, b = first.get(k, (None, None))
        rows.append((f"RSS {k}: first → last sample, slope after {r['warm_up_s'] / 60:g} min",
                     f"{a:.0f} → {b:.0f} MB, **{last[k]:+.1f} MB/h**" if last[k] is not None else f"{a} → {b} MB"))
    rows += [
        ("HTTP requests, errors", f"{r['requests']:,} at {r['requests_per_s']:g}/s, **{r['http_errors']} errors**"),
        (f"latency p50 / p95 / p99, first {win:.3g} min", lat(f)),
        (f"latency p50 / p95 / p99, last {win:.3g} min", lat(la)),
        (f"ingest lag p50 / p95 / max, first {win:.3g} min", lag(f)),
        (f"ingest lag p50 / p95 / max, last {win:.3g} min", lag(la)),
        ("ingest lag p50 / p95 / max, whole run", lag(r)),
        ("database at the end", f"{r['database_mb_at_end']:,.0f} MB"),
    ]
    return "| figure | value |\n|---|---|\n" + "".join(f"| {a} | {b} |\n" for a, b in rows)


def chart(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = r["samples"]
    t = [x["t_s"] / 60 for x in s]
    fig, ax = plt.subplots(4, 1, figsize=(9, 10), sharex=True)
    for k in ("ingest", "web", "broker"):
        ax[0].plot(t, [x["rss_mb"][k] for x in s], label=f"{k} ({r['memory_slope_mb_per_hour'][k] or 0:+.1f} MB/h)")
    ax[0].set_ylabel("RSS [MB]")
    ax[0].legend(fontsize=8)
    ax[1].plot(t, [x["lag_s"] if x["lag_s"] is not None else float("nan") for x in s], ".-")
    ax[1].set_ylabel("ingest lag, max [s]")
    behind = ax[1].twinx()
    behind.plot(t, [x["not_yet_stored_at_most"] / 1e6 for x in s], color="tab:red", alpha=0.6)
    behind.set_ylabel("not yet stored [M readings]", color="tab:red")
    for k in ("p50", "p95", "p99"):
        ax[2].plot(t, [x["latency_ms"][k] if x["latency_ms"][k] is not None else float("nan") for x in s], label=k)
    ax[2].set_ylabel("HTTP latency [ms]")
    ax[2].set_yscale("log")
    ax[2].legend(fontsize=8)
    ax[3].plot(t, [x["load_average"] for x in s], color="grey")
    ax[3].set_ylabel("load average (1 min)")
    ax[3].set_xlabel("minutes")
    fig.suptitle(f"zerocarbon soak {r['started_utc']}: {r['rate_readings_per_s']:,.0f} readings/s QoS 1 + "
                 f"{r['requests_per_s']:g} req/s; lost {r['lost']}, duplicated {r['duplicated']}, "
                 f"HTTP errors {r['http_errors']}\npublisher held {r['publisher_held_s']:g} s by the backlog bound; "
                 f"published {r['published_rate_readings_per_s']:,.0f} readings/s on average; load average "
                 f"{r['machine']['load_average_1min']['mean']:.1f} on {r['machine']['cores']} cores", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60, help="publishing time (default 60)")
    ap.add_argument("--rate", type=float, help="readings/s (default: half of BENCHMARKS.md's batched ingest rate)")
    ap.add_argument("--rps", type=float, default=5, help="dashboard requests/s (default 5)")
    ap.add_argument("--sample", type=float, default=30, help="seconds between samples (default 30)")
    ap.add_argument("--drain-max", type=float, default=900, help="most seconds to wait for the ingest afterwards")
    ap.add_argument("--max-backlog", type=int, default=1_000_000,
                    help="hold the publisher while the ingest is this many readings behind (default 1,000,000: "
                         "about 100 MB queued in the broker)")
    ap.add_argument("--out", type=Path, default=HERE / "results", help="folder for soak.json and soak.png")
    ap.add_argument("--report", type=Path, help="print the Markdown table of a soak.json and stop")
    a = ap.parse_args()
    if a.report:
        print(markdown(json.loads(a.report.read_text())))
        return
    # Stopped early (Ctrl-C, or kill of a background run): the cleanup in run() still stops what it started and
    # drops its database.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    r = run(Options(a.minutes, a.rate, a.rps, a.sample, a.out, a.drain_max, a.max_backlog))
    sys.exit(0 if r["lost"] == 0 and r["duplicated"] == 0 and r["http_errors"] == 0 and r["sum_matches"] else 1)


if __name__ == "__main__":
    main()
