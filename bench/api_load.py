"""Benchmark: HTTP reads of the API and the dashboard under 50 and 200 concurrent clients, on loopback.

A database (SQLite file, or a fresh PostgreSQL database on 127.0.0.1 with ``--db postgresql``) is built through
the services: an organisation of 10 sites (generated organisation.yaml), one year of activity data (monthly
electricity of 5 meters per site, monthly natural gas, quarterly diesel and petrol, as generated CSV files
imported with ``accounting.import_file``), the inventory computed, a member (admin) and an API token. Then
`zerocarbon serve --workers W` runs as its own process on 127.0.0.1, and `wrk` (C, keep-alive connections,
2 threads) drives N connections for a fixed time over a round-robin mix of reads:

    GET /api/v1/orgs/B10/inventories/2025              (token)
    GET /api/v1/orgs/B10/inventories/2025/explain      (token; first page of 100 ledger rows)
    GET /api/v1/orgs/B10/batches                       (token)
    GET /api/v1/orgs/B10/factor-sets                   (token)
    GET /web/orgs/B10/overview?year=2025               (login-session cookie)

The baseline, in the same run and measured the same way: a bare FastAPI app whose one endpoint returns a
constant JSON object, served by uvicorn with the same settings (W processes, proxy headers) on another port.
Each endpoint is also measured alone at the lowest concurrency (``--solo-seconds``, every round). Each run also
gives the CPU time the server processes used per answered request (from /proc), which the load of other
processes on the machine changes far less than throughput and latency.

``--compare DIR`` also serves the same database with the source tree in DIR (e.g. a `git worktree` of an older
commit; its schema must be the same), alternating the two builds run after run for ``--rounds`` rounds, so
both see the same load of the machine; the table gives the median of the rounds and the ratio of the two.
Results: a Markdown table on stdout and bench/out/api_load.json.

Needs `wrk` (Debian: `apt-get install wrk`). Usage:
    PYTHONPATH=src python bench/api_load.py [--seconds 20] [--clients 50,200] [--workers 2] [--db sqlite|postgresql]
        [--solo-seconds 5] [--compare /path/to/other/tree --rounds 3]
    PYTHONPATH=src python bench/api_load.py --profile 30     # where the time goes, no wrk needed
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out"
SRC = HERE.parent / "src"
ORG = "B10"
YEAR = 2025
FACTOR_SET = "CN-2025.1"
PROVINCES = [("天津", "north"), ("安徽", "east"), ("广东", "south"), ("四川", "southwest"), ("湖北", "central")]
EMAIL, PASSWORD = "bench@example.com", "bench-password-0123456789"


# The baseline app: what any FastAPI endpoint costs on this machine under uvicorn, with no database work.
def baseline_app():
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/const")
    def const() -> dict:
        return {"organisation": ORG, "year": YEAR, "status": "computed", "totals": {"scope1": 1.0, "scope2": 2.0}}

    return app


def build_database(folder: Path, url: str) -> tuple[str, dict]:
    """An organisation of 10 sites and one year of activity data, computed; returns the URL and the data size."""
    import numpy as np
    import pandas as pd
    import yaml

    from zerocarbon.services import accounting, database, users

    rng = np.random.default_rng(10)
    sites = [(f"S{i:02d}",) + PROVINCES[i % len(PROVINCES)] for i in range(10)]
    org = {"code": ORG, "name": "Benchmark group of 10 sites", "sites": [
        {"code": c, "name": f"Site {c}", "country": "CN", "province": p, "grid_region": r,
         "timezone": "Asia/Shanghai"} for c, p, r in sites]}
    (folder / "organisation.yaml").write_text(yaml.safe_dump(org, allow_unicode=True), encoding="utf-8")
    starts = pd.date_range(f"{YEAR}-01-01", periods=12, freq="MS")
    ends = starts + pd.offsets.MonthEnd(0)
    elec, fuel = [], []
    for code, _, _ in sites:
        for m in range(5):
            for s, e in zip(starts, ends):
                elec.append({"site": code, "meter": f"{code}-M{m}", "period_start": s.date(), "period_end": e.date(),
                             "quantity": round(rng.uniform(5e4, 5e5), 1), "unit": "kWh"})
        for s, e in zip(starts, ends):
            fuel.append({"site": code, "period_start": s.date(), "period_end": e.date(), "fuel": "natural_gas",
                         "use": "stationary", "quantity": round(rng.uniform(0.5, 5), 4), "unit": "万Nm3",
                         "basis": "", "biogenic": "false"})
        for key, use in (("gas_diesel_oil", "stationary"), ("gas_diesel_oil", "mobile"), ("motor_gasoline", "mobile")):
            for q in range(4):
                s, e = starts[3 * q], ends[3 * q + 2]
                fuel.append({"site": code, "period_start": s.date(), "period_end": e.date(), "fuel": key,
                             "use": use, "quantity": round(rng.uniform(1, 8), 3), "unit": "t", "basis": "",
                             "biogenic": "false"})
    pd.DataFrame(elec).to_csv(folder / "electricity.csv", index=False)
    pd.DataFrame(fuel).to_csv(folder / "fuel.csv", index=False)
    sessions = database.open_sessions(url, create=True)
    accounting.load_organisation_file(sessions, folder / "organisation.yaml", actor="bench")
    for kind in ("electricity", "fuel"):
        accounting.import_file(sessions, ORG, kind, folder / f"{kind}.csv", YEAR, FACTOR_SET, actor="bench")
    result = accounting.compute(sessions, ORG, YEAR, FACTOR_SET, actor="bench")
    users.add_member(sessions, EMAIL, ORG, "admin", password=PASSWORD, actor="bench")
    _, token = users.create_token(sessions, ORG, "bench", ["inventory.read", "import.read", "factors.read"],
                                  actor="bench")
    size = {"sites": 10, "electricity_rows": len(elec), "fuel_rows": len(fuel),
            "ledger_rows": len(result.ledger) if hasattr(result, "ledger") else None,
            "database_bytes": (folder / "bench.sqlite").stat().st_size if url.startswith("sqlite") else None}
    return url, {"token": token, **size}


def _httpx():
    """The HTTP client of the test dependencies: httpx, or httpx2 as requirements.lock pins it."""
    try:
        import httpx
    except ImportError:
        import httpx2 as httpx
    return httpx


PG_ADMIN = os.environ.get("ZEROCARBON_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def database_url(kind: str, folder: Path) -> tuple[str, callable]:
    """A URL of an empty database of ``kind`` (sqlite: a file in ``folder``; postgresql: a new database on the
    server of PG_ADMIN) and a function that drops it."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite'}", lambda: None
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"zc_bench_{os.getpid()}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        c.exec_driver_sql(f"CREATE DATABASE {name}")

    def drop() -> None:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()

    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), drop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, path: str, proc: subprocess.Popen, seconds: float = 300) -> None:
    httpx = _httpx()

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not answer within {seconds} s")


def login_cookie(port: int) -> str:
    """The session cookie, read from Set-Cookie (it is marked Secure, so a client would not send it over http)."""
    httpx = _httpx()

    r = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
    r.raise_for_status()
    pairs = [h.split(";", 1)[0] for h in r.headers.get_list("set-cookie")]
    return "; ".join(pairs)


LUA = r"""
local reqs = {}
local counter = 0
init = function(args)
  for i = 1, #args, 2 do
    local h = {}
    local name, value = string.match(args[i + 1], "^([^:]+): (.*)$")
    if name then h[name] = value end
    table.insert(reqs, wrk.format("GET", args[i], h))
  end
end
request = function()
  counter = counter + 1
  return reqs[(counter %% #reqs) + 1]
end
done = function(summary, latency, requests)
  local f = io.open("%s", "w")
  f:write(string.format('{"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect_errors": %%d, ' ..
    '"read_errors": %%d, "write_errors": %%d, "status_errors": %%d, "timeouts": %%d, ' ..
    '"p50_ms": %%.3f, "p90_ms": %%.3f, "p99_ms": %%.3f, "max_ms": %%.3f, "mean_ms": %%.3f}',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
  f:close()
end
"""


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its descendants (the uvicorn workers), from
    /proc: unlike throughput, hardly changed by what else runs on the machine."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def run_wrk(port: int, targets: list[tuple[str, str]], clients: int, seconds: int, work: Path,
            pid: int | None = None) -> dict:
    """``targets``: (path, one header line or ''), sent round-robin on every connection; with ``pid`` (the
    server), also the server's CPU milliseconds per answered request."""
    result = work / "wrk.json"
    script = work / "mix.lua"
    script.write_text(LUA % result, encoding="utf-8")
    args = [a for path, header in targets for a in (path, header or "-")]
    cmd = ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
           f"http://127.0.0.1:{port}", "--", *args]
    cpu = server_cpu(pid) if pid else 0.0
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    cpu = server_cpu(pid) - cpu if pid else None
    r = json.loads(result.read_text())
    r["errors"] = sum(r[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["clients"] = clients
    r["server_cpu_ms"] = cpu * 1000 / r["requests"] if cpu is not None and r["requests"] else None
    return r


def profile(url: str, token: str, repeat: int) -> None:
    """Each read ``repeat`` times in this process, one at a time (no concurrency), under cProfile: where a
    request's time goes inside the server."""
    import asyncio
    import cProfile
    import pstats

    import anyio.to_thread
    httpx = _httpx()

    os.environ["ZEROCARBON_DB"] = url
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from zerocarbon.web import create_app

    statements: list[str] = []
    event.listen(Engine, "before_cursor_execute", lambda conn, cursor, statement, *args: statements.append(statement))

    async def inline(func, *args, **kwargs):
        return func(*args)

    # cProfile sees one thread: sync endpoints and dependencies run inline instead of in the thread pool.
    anyio.to_thread.run_sync = inline
    api = f"/api/v1/orgs/{ORG}"
    reads = (("inventory", f"{api}/inventories/{YEAR}"), ("explain", f"{api}/inventories/{YEAR}/explain"),
             ("batches", f"{api}/batches"), ("factor sets", f"{api}/factor-sets"),
             ("web overview", f"/web/orgs/{ORG}/overview?year={YEAR}"))

    async def go() -> None:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            (await client.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})).raise_for_status()
            for name, path in reads:
                headers = {} if path.startswith("/web") else {"Authorization": f"Bearer {token}"}
                assert (await client.get(path, headers=headers)).status_code == 200
                statements.clear()
                t, cpu = time.perf_counter(), time.process_time()
                for _ in range(repeat):
                    await client.get(path, headers=headers)
                plain = (time.perf_counter() - t) / repeat * 1000
                cpu = (time.process_time() - cpu) / repeat * 1000
                per_request = len(statements) / repeat
                prof = cProfile.Profile()
                prof.enable()
                for _ in range(repeat):
                    await client.get(path, headers=headers)
                prof.disable()
                print(f"\n## {name}: {plain:.1f} ms per request ({cpu:.2f} ms CPU, client included), one at a "
                      f"time, in-process; {per_request:g} SQL statements per request")
                stats = pstats.Stats(prof)
                stats.sort_stats("cumulative").print_stats(r"/zerocarbon/", 15)
                stats.sort_stats("tottime").print_stats(12)

    asyncio.run(go())


def start(cmd: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def median(values: list[float]) -> float:
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--clients", default="50,200")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server processes (default: cores)")
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                    help=f"postgresql: a new database on the server of $ZEROCARBON_BENCH_PG ({PG_ADMIN})")
    ap.add_argument("--compare", type=Path, metavar="DIR",
                    help="also serve the same database with the source tree in DIR (its src/ is put first on "
                         "PYTHONPATH), alternating with this one")
    ap.add_argument("--rounds", type=int, default=1, help="runs of each build and client count, alternated")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="instead of the load test: run each read N times in-process under cProfile")
    ap.add_argument("--solo-seconds", type=int, default=5, help="per-endpoint runs at the lowest concurrency; 0: none")
    a = ap.parse_args()
    if not shutil.which("wrk") and not a.profile:
        raise SystemExit("needs wrk: apt-get install wrk")
    clients = [int(c) for c in a.clients.split(",")]
    OUT.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="zc-load-"))
    url, drop = database_url(a.db, work)
    try:
        t = time.perf_counter()
        url, data = build_database(work, url)
        data["build_seconds"] = round(time.perf_counter() - t, 1)
        token = data.pop("token")
        if a.profile:
            return profile(url, token, a.profile)
        runs = load_test(a, url, token, clients, data, work)
    finally:
        drop()
        shutil.rmtree(work, ignore_errors=True)
    report(a, runs, data)


def load_test(a, url: str, token: str, clients: list[int], data: dict, work: Path) -> list[dict]:
    builds = {"this": SRC}
    if a.compare:
        builds = {"compared": (a.compare / "src").resolve(), "this": SRC}
        for tree in builds.values():
            if not (tree / "zerocarbon").is_dir():
                raise SystemExit(f"no zerocarbon package under {tree}")
    servers, ports = {}, {}
    base_port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{HERE}", "ZEROCARBON_DB": url}
    baseline = start([sys.executable, "-m", "uvicorn", "api_load:baseline_app", "--factory", "--host", "127.0.0.1",
                      "--port", str(base_port), "--proxy-headers", "--log-level", "warning",
                      "--workers", str(a.workers)], env)
    try:
        for name, tree in builds.items():
            ports[name] = free_port()
            servers[name] = start([sys.executable, "-m", "zerocarbon.cli", "serve", "--db", url, "--port",
                                   str(ports[name]), "--workers", str(a.workers)],
                                  {**env, "PYTHONPATH": f"{tree}{os.pathsep}{HERE}"})
        for name in builds:
            wait_up(ports[name], "/api/v1/openapi.json", servers[name])
        wait_up(base_port, "/const", baseline)
        cookie = login_cookie(ports["this"])
        bearer = f"Authorization: Bearer {token}"
        api = f"/api/v1/orgs/{ORG}"
        targets = {
            "inventory": (f"{api}/inventories/{YEAR}", bearer),
            "explain": (f"{api}/inventories/{YEAR}/explain", bearer),
            "batches": (f"{api}/batches", bearer),
            "factor sets": (f"{api}/factor-sets", bearer),
            "web overview": (f"/web/orgs/{ORG}/overview?year={YEAR}", f"Cookie: {cookie}"),
        }
        httpx = _httpx()  # every target answers 200, and the same in both builds, before it is timed
        for name, (path, header) in targets.items():
            k, v = header.split(": ", 1)
            bodies = {}
            for build, port in ports.items():
                r = httpx.get(f"http://127.0.0.1:{port}{path}", headers={k: v})
                if r.status_code != 200:
                    raise SystemExit(f"{build}: {name}: {path} answered {r.status_code}: {r.text[:300]}")
                bodies[build] = len(r.content)
            data[f"{name} bytes"] = bodies["this"]
            if len(set(bodies.values())) > 1:
                print(f"note: {name} answers differ in size between builds: {bodies}", file=sys.stderr)
        runs = []

        def run(build: str, label: str, port: int, tg: list, c: int, seconds: int, rnd: int, pid: int) -> None:
            r = run_wrk(port, tg, c, seconds, work, pid)
            runs.append({"build": build, "target": label, "round": rnd, **r})
            print(f"{build:9s} {label:26s} c={c:3d} {r['rps']:8.1f} req/s p50 {r['p50_ms']:7.1f} "
                  f"p99 {r['p99_ms']:7.1f} ms server CPU {r['server_cpu_ms']:.2f} ms/req errors {r['errors']} "
                  f"(load average {os.getloadavg()[0]:.1f})", file=sys.stderr)

        for rnd in range(a.rounds):
            for c in clients:
                run("-", "baseline (constant JSON)", base_port, [("/const", "")], c, a.seconds, rnd, baseline.pid)
                for build in (builds if rnd % 2 == 0 else list(reversed(builds))):
                    run(build, "mix of 5 reads", ports[build], list(targets.values()), c, a.seconds, rnd,
                        servers[build].pid)
        if a.solo_seconds:
            for rnd in range(a.rounds):
                for name, tg in targets.items():
                    for build in (builds if rnd % 2 == 0 else list(reversed(builds))):
                        run(build, name, ports[build], [tg], clients[0], a.solo_seconds, rnd, servers[build].pid)
    finally:
        for p in (*servers.values(), baseline):
            stop(p)
    return runs


def report(a, runs: list[dict], data: dict) -> None:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    machine = {"nproc": os.cpu_count(), "ram_gib": round(mem, 1), "python": platform.python_version(),
               "load average at the end": os.getloadavg(),
               "server": f"zerocarbon serve --workers {a.workers} (uvicorn), database {a.db}",
               "load generator": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
               + "; 2 threads, keep-alive connections"}
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["target"], r["clients"], r["build"]), []).append(r)
    rows = []
    for (target, c, build), rs in groups.items():
        rows.append({"target": target, "clients": c, "build": build, "rounds": len(rs),
                     **{k: median([r[k] for r in rs]) for k in ("rps", "p50_ms", "p90_ms", "p99_ms", "server_cpu_ms")},
                     "errors": sum(r["errors"] for r in rs)})
    base = {r["clients"]: r for r in rows if r["target"].startswith("baseline")}
    other = {(r["target"], r["clients"]): r for r in rows if r["build"] == "compared"}
    print(f"\n{data['sites']} sites, {data['electricity_rows']} electricity + {data['fuel_rows']} fuel rows; "
          f"{a.seconds} s per run, {a.rounds} round(s) (medians); {machine['server']}; "
          f"machine: {machine['nproc']} cores, {machine['ram_gib']} GiB, load average at the end "
          f"{', '.join(f'{x:.1f}' for x in machine['load average at the end'])}\n")
    print("| target | build | clients | req/s | p50 ms | p90 ms | p99 ms | server CPU ms/req | errors | "
          "req/s vs constant JSON | req/s vs compared | p99 vs compared | CPU/req vs compared |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        b = base.get(r["clients"])
        o = other.get((r["target"], r["clients"])) if r["build"] == "this" else None
        vs_base = f"{r['rps'] / b['rps']:.3f}×" if b else ""
        vs_other = (f"{r['rps'] / o['rps']:.2f}×", f"{r['p99_ms'] / o['p99_ms']:.2f}×",
                    f"{r['server_cpu_ms'] / o['server_cpu_ms']:.2f}×") if o else ("", "", "")
        print(f"| {r['target']} | {r['build']} | {r['clients']} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | "
              f"{r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {r['server_cpu_ms']:.2f} | {r['errors']} | {vs_base} | "
              f"{vs_other[0]} | {vs_other[1]} | {vs_other[2]} |")
    (OUT / "api_load.json").write_text(json.dumps({"machine": machine, "data": data, "seconds": a.seconds,
                                                   "rounds": a.rounds, "compare": str(a.compare or ""),
                                                   "runs": runs, "medians": rows}, indent=2, ensure_ascii=False),
                                       encoding="utf-8")


if __name__ == "__main__":
    main()
