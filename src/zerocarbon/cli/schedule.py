"""`zerocarbon schedule ...`: energy- and carbon-aware production scheduling."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from zerocarbon.cli.common import JsonOpt, console, err, emit_json, group

app = group("Energy- and carbon-aware production scheduling (LAPS).")


class Secondary(str, Enum):
    cost = "cost"
    carbon = "carbon"
    idle = "idle"


class ShopFormat(str, Enum):
    taillard = "taillard"
    fjs = "fjs"


def search_progress(progress: Progress, task):
    def report(phase: str, incumbent: float, bound: float, seconds: float) -> None:
        progress.update(task, description=f"CP-SAT {phase}: incumbent {incumbent:,.0f}, bound {bound:,.0f} "
                                          f"({seconds:.1f} s)")
    return report


def kpi_table(cmp, gas: str = "CO2") -> Table:
    table = Table(title=f"{cmp.problem.name}: {len(cmp.problem.orders)} orders, {len(cmp.problem.lines)} lines")
    short = {"edd_always_on": "EDD, always on", "fifo_always_on": "FIFO, always on",
             "makespan_always_on": "min makespan", "energy_aware": "energy-aware"}
    # Narrow enough for an 80-column terminal; every KPI is in schedule_kpis.json.
    for c in ("plan", "on time", "kWh", "idle kWh", "grid kWh", cmp.currency, f"kg{gas}"):
        table.add_column(c, justify="right" if c != "plan" else "left", no_wrap=True)
    for key, r in cmp.runs.items():
        k = r.kpis
        table.add_row(short.get(key, key), f"{k.on_time_rate:.0%}", f"{k.total_kwh:,.0f}",
                      f"{k.energy_kwh['idle']:,.0f}", f"{k.grid_kwh:,.0f}", f"{k.energy_cost:,.0f}", f"{k.co2_kg:,.0f}")
    return table


def print_savings(cmp, gas: str = "CO2") -> None:
    """``gas``: CO2, or CO2e when the carbon series is in CO2e units (the problem file's own is kgCO2/kWh)."""
    s = cmp.savings("energy_aware")
    console.print(f"Energy-aware plan vs {cmp.runs[cmp.baseline].label}: energy cost {s['energy_cost_change']:+.1%}, "
                  f"{gas} {s['co2_change']:+.1%}, idle energy {s['idle_change']:+.1%}.")
    console.print(f"Saved, {cmp.annualisation.text}: [bold]{s['grid_mwh_per_year']:,.1f} MWh[/] grid electricity, "
                  f"[bold]{s['tco2e_per_year']:,.1f} t{gas}[/], {s['cost_per_year']:,.0f} {cmp.currency} a year for "
                  "this line group.", highlight=False)


@app.command("run")
def schedule_run(problem_file: Path, orders: Annotated[Optional[Path], typer.Option(help="orders CSV/XLSX")] = None,
                 out: Annotated[Path, typer.Option(help="output folder")] = Path("schedule-output"),
                 time_limit: Annotated[float, typer.Option(
                     "--time-limit", min=0.1,
                     help="CP-SAT search time [s] for the energy-aware plan, shared by its two phases (on time, "
                          "then cost/carbon); weeks of over 30 orders are solved in chunks of 30, each at least 1 s. "
                          "The min-makespan comparison plan gets a third of it more (at least 1 s a chunk), so a "
                          "run takes about 4/3 of it, more with many chunks, plus model building")] = 60.0,
                 workers: Annotated[int, typer.Option(min=1)] = 2,
                 secondary: Annotated[Secondary, typer.Option(help="objective after on-time delivery")] = Secondary.cost,
                 operating_days: Annotated[float, typer.Option(
                     "--operating-days", min=1, max=366,
                     help="operating days a year (default 250: a 5-day week, 50 weeks); savings are annualised x "
                          "this / the horizon's operating days (days on which a line has a working window)")] = 250.0,
                 seed: Annotated[int, typer.Option()] = 0, as_json: JsonOpt = False,
                 carbon_series: Annotated[Optional[str], typer.Option(
                     "--carbon-series", help="grid carbon series for the plan: a shipped name (`schedule "
                                             "series`) or a CSV path")] = None) -> None:
    """Plan a problem file (JSON) on time first, then by energy cost/carbon; compare with conventional plans.

    With "start_on_grid": true and a single line or a flow shop (one line per stage), the energy-aware plan comes
    from the exact time-indexed slot model on the series' step."""
    from zerocarbon.services import scheduling

    problem = scheduling.read_problem(problem_file, orders)
    gas = "CO2"
    if carbon_series:
        from zerocarbon.services.carbon_series import series_spec, with_carbon_series

        applied = with_carbon_series(problem, series_spec(carbon_series, paths=True))
        problem = applied.problem
        gas = "CO2e" if "CO2e" in applied.series.unit else "CO2"
        err.print(applied.note, markup=False, highlight=False, soft_wrap=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                  transient=True, disable=as_json or not err.is_terminal) as progress:
        task = progress.add_task("baselines")
        cmp = scheduling.compare(problem, time_limit=time_limit, workers=workers, secondary=secondary.value,
                                 seed=seed, progress=search_progress(progress, task), operating_days=operating_days)
    paths = scheduling.write_outputs(cmp, out)
    if as_json:
        emit_json({"savings": cmp.savings("energy_aware"), "files": {k: str(p) for k, p in paths.items()},
                   "currency": cmp.currency, "annualisation": cmp.annualisation.as_dict(),
                   "methods": {k: r.schedule.method for k, r in cmp.runs.items()},
                   "kpis": {k: r.kpis.__dict__ for k, r in cmp.runs.items()}})
        return
    console.print(kpi_table(cmp, gas))
    print_savings(cmp, gas)
    for name, p in paths.items():
        console.print(f"  {name}: {p}")


@app.command("example")
def schedule_example(out: Annotated[Path, typer.Option(help="file to write")] = Path("laptop-week.json"),
                     large: Annotated[bool, typer.Option(help="the 43-line plant instead")] = False) -> None:
    """Write the demo laptop-plant week (or the 43-line plant) as a problem file to start from."""
    from zerocarbon.services.scheduling import write_example

    spec = write_example(out, large)
    console.print(f"wrote {out} ({len(spec['orders'])} orders, {len(spec['lines'])} lines)")


@app.command("bench")
def schedule_bench(instance: Annotated[str, typer.Argument(help="a shipped instance (ta01-ta40, mk01-mk10) or a file path")],
                   format: Annotated[Optional[ShopFormat], typer.Option("--format", help="default: from the instance")] = None,
                   time_limit: Annotated[float, typer.Option("--time-limit", min=0.1,
                                                             help="CP-SAT search time [s] after the dispatch "
                                                                  "rules")] = 60.0,
                   workers: Annotated[int, typer.Option(min=1)] = 2, seed: Annotated[int, typer.Option()] = 0,
                   full: Annotated[bool, typer.Option("--full", help="print the whole result as JSON, every "
                                                                     "operation (job, operation, machine, start, "
                                                                     "end) included")] = False,
                   as_json: JsonOpt = False) -> None:
    """Solve a job-shop (Taillard/OR-Library) or flexible job-shop (.fjs) instance for makespan; print the
    makespan, the gap to the published best-known value (shipped instances), the proven lower bound and
    whether the plan is valid."""
    from zerocarbon.services.scheduling import benchmark_summary, solve_benchmark

    result = solve_benchmark(instance, format.value if format else None, time_limit, workers, seed)
    if full:
        emit_json(result)
        return
    s = benchmark_summary(result)
    if as_json:
        emit_json(s)
        return
    known = (f"{s['best_known']:,} (gap {s['gap']:+.1%})" if s["best_known"] is not None
             else "- (not a shipped instance)")
    lower = f"{s['lower_bound']:,.0f}" if s["lower_bound"] is not None else "-"
    console.print(f"{s['instance']}: makespan [bold]{s['makespan']:,}[/], best known {known}, CP-SAT lower bound "
                  f"{lower}, status {s['status']}, valid {'yes' if s['valid'] else 'NO'}, {s['seconds']:.1f} s "
                  "(--full for every operation)", highlight=False)


@app.command("series")
def schedule_series(name: Annotated[Optional[str], typer.Argument(help="a shipped series name or a CSV "
                                                                      "path: print its summary")] = None,
                    as_json: JsonOpt = False) -> None:
    """List the shipped grid carbon-intensity series (for --carbon-series <name>), or summarise one."""
    from zerocarbon.services.carbon_series import series_summary, shipped_summaries

    rows = [series_summary(name)] if name else shipped_summaries()
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        console.print(f"[bold]{r['name']}[/]: {r['start']} to {r['end']}, {r['rows']:,} x {r['step_min']} min, "
                      f"{r['source']} ({r['method']}); converted from {r['source_unit']} to {r['unit']}: mean {r['mean']:.3f}, "
                      f"min {r['min']:.3f}, max {r['max']:.3f}, daily swing {r['daily_swing_mean']:.3f}",
                      highlight=False)
