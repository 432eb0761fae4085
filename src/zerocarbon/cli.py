"""`zerocarbon` command line: a thin shell over services. Errors print as messages, not tracebacks."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from zerocarbon.core.factors import all_factors, available_factor_sets, load_factor_set
from zerocarbon.core.ghg.base_year import BaseYearChange, ChangeKind, assess_recalculation
from zerocarbon.core.ghg.calc import calc as quick_calc
from zerocarbon.core.model import Boundary
from zerocarbon.errors import ZerocarbonError
from zerocarbon.io.schemas import SCHEMAS, schema_markdown
from zerocarbon.services import accounting
from zerocarbon.core.schedule.check import violations
from zerocarbon.io.schedule_files import read_fjs, read_plant_problem, read_taillard, schedule_json
from zerocarbon.io.meter_files import read_registry
from zerocarbon.services import ingest, meter_import, scheduling
from zerocarbon.services.demo import IMPORT_ORDER, run_demo
from zerocarbon.services.demo_plant import large_plant_week, laptop_week
from zerocarbon.services.scheduling import solve_shop
from zerocarbon.store import repos
from zerocarbon.store.db import database_url, make_engine, session_factory, upgrade

app = typer.Typer(help="zerocarbon: measure, cut and prove a factory's greenhouse-gas emissions.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
factors_app = typer.Typer(help="The emission-factor library.", no_args_is_help=True)
inventory_app = typer.Typer(help="Compute, close and explain inventories.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations and sites.", no_args_is_help=True)
baseyear_app = typer.Typer(help="Base-year recalculation.", no_args_is_help=True)
app.add_typer(factors_app, name="factors")
app.add_typer(inventory_app, name="inventory")
app.add_typer(org_app, name="org")
app.add_typer(baseyear_app, name="baseyear")
schedule_app = typer.Typer(help="Energy- and carbon-aware production scheduling (LAPS).", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")
console = Console()
err = Console(stderr=True)

DbOpt = Annotated[Optional[str], typer.Option("--db", help="SQLAlchemy URL; default $ZEROCARBON_DB or sqlite file")]
OrgOpt = Annotated[str, typer.Option("--org", help="organisation code")]
YearOpt = Annotated[int, typer.Option("--year", help="reporting year")]
SetOpt = Annotated[str, typer.Option("--factors", help="pinned factor set id")]


def _sessions(db: str | None):
    engine = make_engine(database_url(db))
    upgrade(engine)
    return session_factory(engine)


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(2)


def _tonnes(x: float) -> str:
    return f"{x:,.1f}"


def _print_totals(result, title: str) -> None:
    t = result.totals()
    table = Table(title=title)
    table.add_column("site")
    table.add_column("Scope 1 t", justify="right")
    table.add_column("Scope 2 loc t", justify="right")
    table.add_column("Scope 2 mkt t", justify="right")
    table.add_column("RE share", justify="right")
    loc = result.by("site", "scope")
    mkt = result.by("site", "scope", method="market")
    share = dict(zip(result.renewable["site"], result.renewable["renewable_share"]))
    for site in sorted(set(loc["site"])):
        def pick(df, scope):
            v = df[(df["site"] == site) & (df["scope"] == scope)]["co2e_t"]
            return float(v.sum())
        table.add_row(site, _tonnes(pick(loc, "1")), _tonnes(pick(loc, "2")), _tonnes(pick(mkt, "2")),
                      f"{share.get(site, 0):.1%}")
    table.add_row("[bold]total", _tonnes(t["scope1_t"]), _tonnes(t["scope2_location_t"]),
                  _tonnes(t["scope2_market_t"]), f"{t['renewable_share']:.1%}")
    console.print(table)
    console.print(f"Total location-based [bold]{_tonnes(t['total_location_t'])}[/] tCO2e, market-based "
                  f"[bold]{_tonnes(t['total_market_t'])}[/] tCO2e; biogenic CO2 {_tonnes(t['biogenic_co2_t'])} t "
                  f"(outside scopes); HCFC memo {_tonnes(t['non_kyoto_memo_t'])} tCO2e")
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {w}")
    for e in result.exclusions:
        console.print(f"[cyan]exclusion:[/] {e}")


@app.command()
def demo(out: Annotated[Path, typer.Option(help="output folder")] = Path("demo-output"),
         seed: Annotated[int, typer.Option(help="generator seed")] = 2025,
         schedule_seconds: Annotated[float, typer.Option(help="CP-SAT budget for the demo week (0: skip)")] = 20.0) -> None:
    """Build the demo laptop group: its GHG inventory, and an energy-aware week of production for one plant."""
    steps = (["generate", "organisation"] + [f"import {k}" for k in IMPORT_ORDER]
             + ["compute", "write", "meters", "analytics", "schedule"])
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("demo", total=len(steps))

        def step(name: str) -> None:
            progress.update(task, description=name, completed=steps.index(name))

        try:
            run = run_demo(out, seed=seed, progress=step, schedule_seconds=schedule_seconds,
                           search_progress=_search_progress(progress, task))
        except ZerocarbonError as exc:
            _fail(exc)
        progress.update(task, completed=len(steps), description="done")
    _print_totals(run.result, f"{run.org_name} — GHG inventory {run.result.year} (tCO2e)")
    if run.energy is not None:
        _print_energy(run.energy)
    if run.schedule is not None:
        console.print(_kpi_table(run.schedule))
        _print_savings(run.schedule)
    console.print("\nFiles:")
    for name, p in run.outputs.items():
        console.print(f"  {name}: {p}")
    console.print(f"  database: {run.db_url}")
    exe = sys.argv[0] if sys.argv and sys.argv[0].endswith("zerocarbon") else "zerocarbon"
    console.print(f"\nTry: {exe} inventory show --db {run.db_url} --org DEMO-LAPTOP --year {run.result.year} "
                  "--explain --site TJ01 --scope 2 --method market")


def _print_energy(rep: dict) -> None:
    table = Table(title="Idle running (line on, producing nothing), Hefei line group, 2025")
    for c in ("line", "shift", "idle MWh", "idle h", "tCO2", "share of line"):
        table.add_column(c, justify="right" if c not in ("line", "shift") else "left")
    for f in sorted(rep["idle"], key=lambda f: -f["idle_kwh"]):
        table.add_row(f["line"], f["shift"], f"{f['idle_kwh'] / 1000:,.1f}", f"{f['idle_hours']:,.0f}",
                      f"{f['co2_kg'] / 1000:,.1f}", f"{f['share_of_line_kwh']:.0%}")
    console.print(table)
    sl, fc, bm = rep["site_load"], rep["forecast_day_ahead"], rep["baseline_model"]
    console.print(f"Idle waste: [bold]{rep['idle_total_kwh'] / 1000:,.0f} MWh[/], {rep['idle_total_tco2']:,.0f} tCO2 a year. "
                  f"Site base load {sl['base_kw']:,.0f} kW, peak {sl['peak_kw']:,.0f} kW (load factor {sl['load_factor']:.0%}).")
    console.print(f"Energy-vs-output baseline: CV(RMSE) {bm['cv_rmse']:.1%}, NMBE {bm['nmbe']:+.1%} "
                  f"({'meets' if bm['passes'] else 'fails'} ASHRAE Guideline 14). Day-ahead load forecast: CV(RMSE) "
                  f"{fc['model_cv_rmse']:.1%} vs seasonal naive {fc['naive_cv_rmse']:.1%} ({fc['origins']} days backtested).")
    for note in rep["anomalies"][:3]:
        console.print(f"[yellow]anomaly:[/] {note}")


@app.command("calc")
def calc_cmd(value: float, unit: str, subject: str,
             factors: SetOpt = "CN-2025.1", gwp: Annotated[str, typer.Option("--gwp")] = "AR5",
             use: Annotated[str, typer.Option(help="stationary | mobile")] = "stationary",
             basis: Annotated[str, typer.Option(help="NCV/LHV or GCV/HHV for energy quantities")] = "",
             as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Quick check: `zerocarbon calc 5 GJ natural_gas --factors EPA-2025.1 --basis GCV --gwp AR5 --json`."""
    try:
        r = quick_calc(load_factor_set(factors), value, unit, subject, gwp, use, basis)
    except (ZerocarbonError, ValueError) as exc:
        _fail(exc)
    if as_json:
        print(json.dumps(r.as_dict(), indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{value} {unit} {subject} — set {factors}, GWP {gwp}")
    for c in ("gas", "mass kg", "GWP", "kgCO2e", "factors"):
        table.add_column(c)
    for x in r.lines:
        table.add_row(x.gas, f"{x.mass_kg:.6g}", f"{x.gwp:g}", f"{x.co2e_kg:.6g}", ", ".join(x.factor_ids))
    console.print(table)
    console.print(f"total {r.total_co2e_kg:.6g} kgCO2e" + (f"; not estimated: {', '.join(r.omitted)}" if r.omitted else ""))


@factors_app.command("list")
def factors_list(factor_set: Annotated[Optional[str], typer.Option("--set")] = None,
                 kind: Annotated[Optional[str], typer.Option(help="grid_electricity, combustion, gwp, ...")] = None,
                 search: Annotated[Optional[str], typer.Option(help="substring of the factor id")] = None) -> None:
    """List factors (all shipped files, or one pinned set)."""
    if factor_set is None:
        console.print("factor sets: " + ", ".join(available_factor_sets()))
    rows = load_factor_set(factor_set).factors if factor_set else all_factors()
    table = Table()
    for c in ("factor_id", "value", "unit", "basis", "gas", "confidence"):
        table.add_column(c, overflow="fold")
    for f in rows:
        if (kind and f.kind != kind) or (search and search not in f.factor_id):
            continue
        table.add_row(f.factor_id, f"{f.value:g}", f.unit, f.basis, f.gas, f.confidence)
    console.print(table)


@factors_app.command("show")
def factors_show(factor_id: str) -> None:
    """Everything known about one factor, provenance included."""
    for f in all_factors():
        if f.factor_id == factor_id:
            for k, v in f.__dict__.items():
                console.print(f"[bold]{k}[/]: {v}")
            return
    _fail(LookupError(f"no factor '{factor_id}'; try `zerocarbon factors list --search ...`"))


@factors_app.command("sets")
def factors_sets() -> None:
    """Pinned factor sets with their fingerprints."""
    for sid in available_factor_sets():
        fs = load_factor_set(sid)
        console.print(f"[bold]{fs.id}[/] {fs.fingerprint[:16]}  {fs.title}  ({len(fs.factors)} factors)")


@org_app.command("load")
def org_load(path: Path, db: DbOpt = None) -> None:
    """Load or update an organisation from its YAML file."""
    try:
        org = accounting.load_organisation_file(_sessions(db), path)
    except ZerocarbonError as exc:
        _fail(exc)
    console.print(f"organisation {org.code}: {len(org.sites)} site(s)")


@app.command("import")
def import_cmd(kind: Annotated[str, typer.Argument(help=" | ".join(SCHEMAS))], path: Path, org: OrgOpt,
               year: YearOpt, factors: SetOpt = "CN-2025.1", db: DbOpt = None) -> None:
    """Import one CSV/XLSX activity file. All rows or none."""
    try:
        rep = accounting.import_file(_sessions(db), org, kind, path, year, factors)
    except (ZerocarbonError, LookupError) as exc:
        _fail(exc)
    console.print(f"imported {rep.rows} {rep.kind} row(s) from {rep.source} as batch {rep.batch_id}")


@inventory_app.command("compute")
def inventory_compute(org: OrgOpt, year: YearOpt, factors: SetOpt = "CN-2025.1",
                      gwp: Annotated[str, typer.Option("--gwp")] = "AR5",
                      boundary: Annotated[Boundary, typer.Option()] = Boundary.OPERATIONAL_CONTROL,
                      recalculate: Annotated[Optional[str], typer.Option(help="reason, to recalculate a closed year")] = None,
                      db: DbOpt = None) -> None:
    """Compute and store the inventory of a year."""
    try:
        result = accounting.compute(_sessions(db), org, year, factors, gwp, boundary, recalculate)
    except (ZerocarbonError, LookupError) as exc:
        _fail(exc)
    _print_totals(result, f"{org} {year} ({factors}, {gwp}, {boundary.value})")


@inventory_app.command("close")
def inventory_close(org: OrgOpt, year: YearOpt,
                    boundary: Annotated[Boundary, typer.Option()] = Boundary.OPERATIONAL_CONTROL,
                    db: DbOpt = None) -> None:
    """Close a year: later computations that would change it need a recorded recalculation."""
    try:
        accounting.close_inventory(_sessions(db), org, year, boundary)
    except LookupError as exc:
        _fail(exc)
    console.print(f"inventory {org} {year} closed")


@inventory_app.command("show")
def inventory_show(org: OrgOpt, year: YearOpt, db: DbOpt = None,
                   explain: Annotated[bool, typer.Option("--explain", help="print the trail of each number")] = False,
                   site: Annotated[Optional[str], typer.Option()] = None,
                   scope: Annotated[Optional[str], typer.Option()] = None,
                   category: Annotated[Optional[str], typer.Option()] = None,
                   method: Annotated[str, typer.Option(help="location | market")] = "location",
                   limit: Annotated[int, typer.Option(help="rows of trail to print")] = 30,
                   boundary: Annotated[Boundary, typer.Option()] = Boundary.OPERATIONAL_CONTROL) -> None:
    """Totals of a stored inventory; with --explain, the lineage behind a number."""
    try:
        meta, ledger = accounting.stored_ledger(_sessions(db), org, year, boundary)
    except LookupError as exc:
        _fail(exc)
    console.print(f"[bold]{org} {year}[/] status {meta['status']}, factor set {meta['factor_set']} "
                  f"({meta['fingerprint'][:12]}), GWP {meta['gwp_set']}")
    for k, v in meta["totals"].items():
        console.print(f"  {k}: {v:,.3f}")
    if not explain:
        return
    led = ledger[ledger["method"].isin(["both", method])]
    for col, val in (("site", site), ("scope", scope), ("category", category)):
        if val:
            led = led[led[col] == val]
    total = led.loc[led["memo"] == "", "co2e_t"].sum()
    console.print(f"\n[bold]{total:,.3f} tCO2e[/] = sum of {len(led)} ledger rows "
                  f"(site={site or '*'}, scope={scope or '*'}, category={category or '*'}, method={method})")
    for r in led.sort_values("co2e_t", ascending=False).head(limit).itertuples():
        memo = f" [dim]({r.memo}, outside totals)[/]" if r.memo else ""
        console.print(f"[bold]{r.activity_id}[/] {r.gas} {r.gas_kg:,.3f} kg x GWP {r.gwp:g} x share {r.inclusion:g}"
                      f" = [bold]{r.co2e_t:,.4f} t[/]{memo}")
        console.print(f"    factors: {r.factor_ids.replace(';', ', ')}; GWP {r.gwp_factor_id}")
        console.print(f"    formula: {r.formula}")
    if len(led) > limit:
        console.print(f"... {len(led) - limit} more rows (--limit)")


@baseyear_app.command("record")
def baseyear_record(org: OrgOpt, base_year: Annotated[int, typer.Option("--base-year")],
                    kind: Annotated[ChangeKind, typer.Option()], delta_t: Annotated[float, typer.Option("--delta-t")],
                    reason: Annotated[str, typer.Option()], db: DbOpt = None) -> None:
    """Record a structural/method/error change to base-year emissions [tCO2e, signed]."""
    sessions = _sessions(db)
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        repos.save_base_year_change(s, org_id, base_year, kind.value, delta_t, reason)
        repos.audit(s, "cli", "baseyear.record", f"{org}:{base_year}", kind=kind.value, delta_t=delta_t, reason=reason)
    console.print("recorded")


@baseyear_app.command("assess")
def baseyear_assess(org: OrgOpt, base_year: Annotated[int, typer.Option("--base-year")],
                    threshold: Annotated[float, typer.Option(help="significance threshold, fraction")] = 0.05,
                    db: DbOpt = None) -> None:
    """Does the base year need recalculating? (GHG Protocol Corporate Standard ch.5)"""
    sessions = _sessions(db)
    try:
        meta, _ = accounting.stored_ledger(sessions, org, base_year)
    except LookupError as exc:
        _fail(exc)
    with sessions.begin() as s:
        org_id, _ = repos.load_organisation(s, org)
        changes = [BaseYearChange(ChangeKind(c.kind), c.delta_t, c.reason)
                   for c in repos.base_year_changes(s, org_id, base_year)]
    d = assess_recalculation(meta["totals"]["total_market_t"], changes, threshold)
    console.print(f"cumulative change {d.cumulative_change_t:,.1f} t = {d.relative_change:.2%} of the base year "
                  f"(threshold {d.threshold:.0%}): " + ("[bold red]recalculate[/]" if d.recalculate else "no recalculation"))
    for r in d.reasons:
        console.print(f"  - {r}")


def _search_progress(progress: Progress, task) -> callable:
    def report(phase: str, incumbent: float, bound: float, seconds: float) -> None:
        progress.update(task, description=f"CP-SAT {phase}: incumbent {incumbent:,.0f}, bound {bound:,.0f} "
                                          f"({seconds:.1f} s)")
    return report


def _kpi_table(cmp) -> Table:
    table = Table(title=f"{cmp.problem.name}: {len(cmp.problem.orders)} orders, {len(cmp.problem.lines)} lines")
    short = {"edd_always_on": "EDD, always on", "fifo_always_on": "FIFO, always on",
             "makespan_always_on": "min makespan", "energy_aware": "energy-aware"}
    # Narrow enough for an 80-column terminal; every KPI is in schedule_kpis.json.
    for c in ("plan", "on time", "kWh", "idle kWh", "grid kWh", "CNY", "kgCO2"):
        table.add_column(c, justify="right" if c != "plan" else "left", no_wrap=True)
    for key, r in cmp.runs.items():
        k = r.kpis
        table.add_row(short.get(key, key), f"{k.on_time_rate:.0%}", f"{k.total_kwh:,.0f}",
                      f"{k.energy_kwh['idle']:,.0f}", f"{k.grid_kwh:,.0f}", f"{k.energy_cost:,.0f}", f"{k.co2_kg:,.0f}")
    return table


def _print_savings(cmp) -> None:
    s = cmp.savings("energy_aware")
    console.print(f"Energy-aware plan vs {cmp.runs[cmp.baseline].label}: energy cost {s['energy_cost_change']:+.1%}, "
                  f"CO2 {s['co2_change']:+.1%}, idle energy {s['idle_change']:+.1%}.")
    console.print(f"Annualised ({scheduling.WORKING_WEEKS_PER_YEAR} such weeks): [bold]{s['grid_mwh_per_year']:,.0f} MWh[/] "
                  f"grid electricity, [bold]{s['tco2e_per_year']:,.0f} tCO2e[/], {s['cost_per_year']:,.0f} CNY saved "
                  "for this line group.")


def run_schedule(problem, out: Path, time_limit: float, workers: int, secondary: str, seed: int = 0):
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("baselines")
        cmp = scheduling.compare(problem, time_limit=time_limit, workers=workers, secondary=secondary, seed=seed,
                                 progress=_search_progress(progress, task))
    console.print(_kpi_table(cmp))
    _print_savings(cmp)
    paths = scheduling.write_outputs(cmp, out)
    for name, p in paths.items():
        console.print(f"  {name}: {p}")
    return cmp


@schedule_app.command("run")
def schedule_run(problem_file: Path, orders: Annotated[Optional[Path], typer.Option(help="orders CSV/XLSX")] = None,
                 out: Annotated[Path, typer.Option(help="output folder")] = Path("schedule-output"),
                 time_limit: Annotated[float, typer.Option("--time-limit", help="seconds")] = 60.0,
                 workers: Annotated[int, typer.Option()] = 2,
                 secondary: Annotated[str, typer.Option(help="after on-time: cost | carbon | idle")] = "cost",
                 seed: Annotated[int, typer.Option()] = 0) -> None:
    """Plan a problem file (JSON) on time first, then by energy cost/carbon; compare with conventional plans."""
    try:
        problem = read_plant_problem(problem_file, orders)
        run_schedule(problem, out, time_limit, workers, secondary, seed)
    except ZerocarbonError as exc:
        _fail(exc)


@schedule_app.command("example")
def schedule_example(out: Annotated[Path, typer.Option(help="file to write")] = Path("laptop-week.json"),
                     large: Annotated[bool, typer.Option(help="the 43-line plant instead")] = False) -> None:
    """Write the demo laptop-plant week (or the 43-line plant) as a problem file to start from."""
    spec = large_plant_week() if large else laptop_week()
    out.write_text(json.dumps(spec, indent=1, ensure_ascii=False), encoding="utf-8")
    console.print(f"wrote {out} ({len(spec['orders'])} orders, {len(spec['lines'])} lines)")


@schedule_app.command("bench")
def schedule_bench(file: Path, format: Annotated[str, typer.Option("--format", help="taillard | fjs")] = "taillard",
                   time_limit: Annotated[float, typer.Option("--time-limit")] = 60.0,
                   workers: Annotated[int, typer.Option()] = 2, seed: Annotated[int, typer.Option()] = 0) -> None:
    """Solve a job-shop (Taillard/OR-Library) or flexible job-shop (.fjs) instance; print JSON."""
    try:
        problem = read_taillard(file) if format == "taillard" else read_fjs(file)
        schedule = solve_shop(problem, time_limit=time_limit, workers=workers, seed=seed)
    except ZerocarbonError as exc:
        _fail(exc)
    bad = violations(problem, schedule)
    out = schedule_json(schedule)
    out.update({"instance": file.name, "time_limit_s": time_limit, "workers": workers, "valid": not bad,
                "status": schedule.objective.get("status")})
    print(json.dumps(out))


meters_app = typer.Typer(help="Interval meter data: bulk import into the Parquet lake, roll-ups.", no_args_is_help=True)
ingest_app = typer.Typer(help="Live ingest.", no_args_is_help=True)
app.add_typer(meters_app, name="meters")
app.add_typer(ingest_app, name="ingest")
LakeOpt = Annotated[Path, typer.Option("--lake", help="lake folder")]


@meters_app.command("import")
def meters_import(registry: Path, readings: Path, lake: LakeOpt = Path("lake"),
                  fill: Annotated[bool, typer.Option(help="fill gaps of up to 4 intervals linearly")] = False,
                  db: DbOpt = None) -> None:
    """Import a CSV/Parquet of readings (meter, timestamp, value[, unit]) for meters in REGISTRY."""
    try:
        meters = read_registry(registry)
        meter_import.register_meters(_sessions(db), meters)
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task(f"importing {readings.name}", total=len(meters))
            s = meter_import.import_file(lake, meters, readings, fill, progress=lambda n: progress.update(task, completed=n))
    except ZerocarbonError as exc:
        _fail(exc)
    console.print(f"{s.rows:,} rows read; {s.stored:,} new readings stored, {s.already_stored:,} already in the lake; "
                  f"{s.duplicates_dropped:,} duplicate rows dropped; {s.missing_intervals:,} missing intervals; "
                  f"{s.filled:,} filled ({s.filled_share:.2%}); {s.spikes:,} spikes flagged; "
                  f"{s.rollovers} register rollovers; {s.resets} resets")


@meters_app.command("rollup")
def meters_rollup(lake: LakeOpt = Path("lake"), by: Annotated[str, typer.Option(help="meter | site")] = "site",
                  freq: Annotated[str, typer.Option(help="hour | day | month")] = "month") -> None:
    """Energy per meter or site and period, from the lake (DuckDB)."""
    df = meter_import.rollup(lake, by, freq)
    table = Table()
    for c in df.columns:
        table.add_column(str(c))
    for r in df.itertuples(index=False):
        table.add_row(*[f"{v:,.1f}" if isinstance(v, float) else str(v) for v in r])
    console.print(table)


@meters_app.command("to-activity")
def meters_to_activity(registry: Path, year: YearOpt, lake: LakeOpt = Path("lake"),
                       out: Annotated[Path, typer.Option(help="electricity activity CSV to write")] = Path("electricity.csv")) -> None:
    """Monthly kWh of the revenue meters as an electricity activity file for `zerocarbon import electricity`."""
    try:
        path = meter_import.electricity_activity(lake, read_registry(registry), year, out)
    except ZerocarbonError as exc:
        _fail(exc)
    console.print(f"wrote {path}; sub-meters are left out so Scope 2 counts each kWh once")


@ingest_app.command("mqtt")
def ingest_mqtt(db: DbOpt = None, host: Annotated[str, typer.Option()] = "127.0.0.1",
                port: Annotated[int, typer.Option()] = 1883, topic: Annotated[str, typer.Option()] = "zc/#",
                client_id: Annotated[str, typer.Option()] = "zerocarbon-ingest",
                seconds: Annotated[Optional[float], typer.Option(help="stop after this long")] = None) -> None:
    """Subscribe (QoS 1, persistent session) and store readings; bad messages go to dead letters."""
    sub = ingest.mqtt_subscriber(_sessions(db), host, port, topic, client_id)
    console.print(f"listening on {host}:{port} {topic} as {client_id} (Ctrl-C to stop)")
    try:
        sub.run(seconds)
    except KeyboardInterrupt:
        sub.stop()
    st = sub.stats
    console.print(f"{st.messages:,} messages, {st.readings:,} readings, {st.dead_letters:,} dead letters, flagged {st.flagged}")


@app.command()
def schema() -> None:
    """Print the activity file formats as Markdown (docs/data-formats.md)."""
    sys.stdout.write(schema_markdown())


if __name__ == "__main__":
    app()
