"""`zerocarbon demo`: the whole job on a generated laptop-making group."""
from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from zerocarbon.cli.common import EXIT_BAD_INPUT, console, err

# The demo prints working passwords; it listens on this machine only.
HOST = "127.0.0.1"


def demo(out: Annotated[Path, typer.Option(help="output folder")] = Path("demo-output"),
         seed: Annotated[int, typer.Option(help="generator seed")] = 2025,
         schedule_seconds: Annotated[float, typer.Option(help="CP-SAT budget for the demo week (0: skip)", min=0)] = 20.0,
         serve: Annotated[bool, typer.Option("--serve", help="then create one demo login per role, print them and "
                                                           "serve the dashboard on 127.0.0.1 until Ctrl-C")] = False,
         port: Annotated[int, typer.Option(help="TCP port for --serve", min=1, max=65535)] = 8000) -> None:
    """Build the demo laptop group: its GHG inventory, an energy-aware week of production for one plant, its
    targets, carbon-neutrality claims, least-cost pathway and zero-carbon factory assessment."""
    # Taken before the build, so a busy port is reported at once rather than after a minute of work.
    sock = listen_socket(HOST, port) if serve else None
    try:
        db_url, meter_data = build(out, seed, schedule_seconds)
        if sock is not None:
            serve_demo(db_url, sock, meter_data)
    finally:
        if sock is not None:
            sock.close()


def build(out: Path, seed: int, schedule_seconds: float) -> tuple[str, dict[str, Path] | None]:
    """Run the demo with a progress bar, print its results; the URL of its database and its meter data."""
    from zerocarbon.cli.accounting import print_totals
    from zerocarbon.cli.schedule import kpi_table, print_savings, search_progress
    from zerocarbon.services.demo import STEPS, run_demo

    steps = list(STEPS)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("demo", total=len(steps))

        def step(name: str) -> None:
            progress.update(task, description=name, completed=steps.index(name))

        run = run_demo(out, seed=seed, progress=step, schedule_seconds=schedule_seconds,
                       search_progress=search_progress(progress, task))
        progress.update(task, completed=len(steps), description="done")
    print_totals(run.result, f"{run.org_name} — GHG inventory {run.result.year} (tCO2e)",
                 f"zerocarbon inventory scope3 --db {run.db_url} --org DEMO-LAPTOP --year {run.result.year}")
    if run.energy is not None:
        print_energy(run.energy)
    if run.schedule is not None:
        console.print(kpi_table(run.schedule))
        print_savings(run.schedule)
    if run.zero_carbon:
        print_zero_carbon(run.zero_carbon)
    if run.disclosure:
        print_disclosure(run.disclosure)
    console.print("\nFiles:")
    for name, p in run.outputs.items():
        console.print(f"  {name}: {p}")
    console.print(f"  database: {run.db_url}")
    exe = sys.argv[0] if sys.argv and sys.argv[0].endswith("zerocarbon") else "zerocarbon"
    console.print(f"\nTry: {exe} inventory show --db {run.db_url} --org DEMO-LAPTOP --year {run.result.year} "
                  "--explain --site TJ01 --scope 2 --method market")
    return run.db_url, run.meter_data


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``; exits with code 2 and the port's number when it is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As uvicorn does: a port left in TIME_WAIT by the last run is free, one with a listener is not.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        err.print(f"[bold red]error:[/] port {port} on {host} is not available ({exc.strerror}); another server "
                  f"is probably running there. Stop it or choose another port with --port.", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    return sock


def serve_demo(db_url: str, sock: socket.socket, meter_data: dict[str, Path] | None = None) -> None:
    """Create the demo logins on ``db_url``, print them with the dashboard's address, serve until Ctrl-C; the
    energy page shows the demo's meter data (``meter_data``: lake, meters, production)."""
    import os

    import uvicorn

    from zerocarbon.services import energy_report
    from zerocarbon.services.database import open_sessions
    from zerocarbon.services.demo_users import DEMO_ORG, create_demo_users

    sessions = open_sessions(db_url, create=False)
    logins = create_demo_users(sessions, DEMO_ORG, actor="demo")
    host, port = sock.getsockname()[:2]
    print_logins(logins, f"http://{host}:{port}/web/")
    os.environ["ZEROCARBON_DB"] = db_url
    for key, env in (("lake", energy_report.LAKE_ENV), ("meters", energy_report.METERS_ENV),
                     ("production", energy_report.PRODUCTION_ENV)):
        if meter_data and meter_data.get(key):
            os.environ[env] = str(meter_data[key])
    # By import string, as `zerocarbon serve` does: the web shell sits above the CLI and is not imported here.
    config = uvicorn.Config("zerocarbon.web:create_app", factory=True, host=host, port=port, proxy_headers=True)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down on; here it is the normal way out
        pass
    console.print(f"Server stopped. The demo database stays at {db_url}.", highlight=False)


def print_logins(logins, address: str) -> None:
    table = Table(title=f"Demo logins for {address}")
    for c in ("role", "e-mail", "password"):
        table.add_column(c)
    for login in logins:
        table.add_row(login.role, login.email, login.password)
    console.print(table)
    console.print("[bold red]DEMO-ONLY CREDENTIALS: new random passwords on every run, for this demo database "
                  "only. Never use them, or this database, in production.[/]", highlight=False)
    console.print(f"Dashboard: [bold]{address}[/] (Ctrl-C stops the server)", highlight=False)


def print_zero_carbon(z: dict) -> None:
    """Targets, claims, the pathway and the assessments of the demo group in one table."""
    table = Table(title="Zero-carbon factory: targets, claims, pathway, assessment")
    for c in ("what", "result"):
        table.add_column(c)
    for t in z.get("targets", []):
        unit = "" if t["kind"] == "renewable_electricity" else " tCO2e"
        value = f"{t['actual']:.1%}" if not unit else f"{t['actual']:,.0f}{unit}"
        expected = f"{t['expected']:.1%}" if not unit else f"{t['expected']:,.0f}{unit}"
        table.add_row(f"target {t['id']} ({t['target_year']})",
                      f"{t['year']}: {value} against {expected} on the trajectory: "
                      + ("on track" if t["on_track"] else "off track"))
    for c in z.get("claims", []):
        verdict = "passes, " + c["status"].replace("_", " ") if c["passed"] else f"refused ({len(c['failed'])} tests fail)"
        table.add_row(f"carbon-neutrality claim {c['site']}",
                      f"{verdict}: residual {c['residual_t']:,.0f} t, credits {c['credits_t']:,.0f} t")
    if p := z.get("pathway"):
        table.add_row(f"least-cost pathway to {p['last_year']}",
                      f"{p['status']}: Scope 1+2 {p['scope12_t']:,.0f} t, renewable {p['re_share']:.0%}, net present "
                      f"cost {p['npc'] / 1e6:,.1f} M {p['currency']} (greedy ranking {p['greedy_npc'] / 1e6:,.1f} M); "
                      f"{', '.join(p['measures'])}")
    for a in z.get("assessments", []):
        b = a["boundary"]
        where = b["site"] if b["kind"] == "site" else f"{b['workshop']} ({b['site']})"
        table.add_row(f"assessment {where}", f"{a['total']:.1f} / {a['max_total']:.0f}, grade: {a['grade'] or 'none'}")
    console.print(table)


def print_disclosure(d: dict) -> None:
    """Per framework: data points reported, missing, restated, and the checks that block publishing."""
    table = Table(title=f"Disclosure {d['year']} (prior year {d['prior_year']} published, then corrected: "
                        f"{d['correction']})")
    for c in ("framework", "points", "reported", "missing", "restated", "errors", "warnings"):
        table.add_column(c, justify="left" if c == "framework" else "right")
    for r in d["reports"]:
        table.add_row(r["framework"], str(r["points"]), str(r["reported"]), str(r["missing"]),
                      str(len(r["restated"])), str(r["errors"]), str(r["warnings"]))
    console.print(table)
    console.print(f"Every reported number recomputed from its lineage: {d['verified']} equal, "
                  f"{len(d['differences'])} different.", highlight=False)


def print_energy(rep: dict) -> None:
    table = Table(title="Idle running (line on, producing nothing), Hefei line group, 2025")
    for c in ("line", "shift", "idle MWh", "idle h", "tCO2", "share of line"):
        table.add_column(c, justify="right" if c not in ("line", "shift") else "left")
    for f in sorted(rep["idle"], key=lambda f: -f["idle_kwh"]):
        table.add_row(f["line"], f["shift"], f"{f['idle_kwh'] / 1000:,.1f}", f"{f['idle_hours']:,.0f}",
                      f"{f['co2_kg'] / 1000:,.1f}", f"{f['share_of_line_kwh']:.0%}")
    console.print(table)
    sl, fc, bm = rep["site_load"], rep["forecast_day_ahead"], rep["baseline_model"]
    console.print(f"Idle waste: [bold]{rep['idle_total_kwh'] / 1000:,.0f} MWh[/], {rep['idle_total_tco2']:,.0f} tCO2 a year. "
                  f"Base load {sl['base_kw']:,.0f} kW, peak {sl['peak_kw']:,.0f} kW (load factor {sl['load_factor']:.0%}) "
                  f"of {rep['scope_note']}.")
    console.print(f"Energy-vs-output baseline: CV(RMSE) {bm['cv_rmse']:.1%}, NMBE {bm['nmbe']:+.1%} "
                  f"({'meets' if bm['passes'] else 'fails'} ASHRAE Guideline 14). Day-ahead load forecast: CV(RMSE) "
                  f"{fc['model_cv_rmse']:.1%} vs seasonal naive {fc['naive_cv_rmse']:.1%} ({fc['origins']} days backtested).")
    for note in rep["anomalies"][:3]:
        console.print(f"[yellow]anomaly:[/] {note}", highlight=False)
