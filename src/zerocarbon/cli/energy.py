"""`zerocarbon energy ...`: analytics, M&V baselines and forecasts on any site and period of a meter lake."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zerocarbon.cli.common import DbOpt, JsonOpt, StoredOpt, console, emit_json, err, group, lake_folder, stored_sets_db
from zerocarbon.cli.meters import OrgCodeOpt, organisation

app = group("Energy analytics on a meter lake: report, M&V baseline, forecast.")

LakeOpt = Annotated[Path, typer.Option("--lake", help="lake folder (`zerocarbon meters import`)",
                                                 callback=lake_folder)]
RegistryOpt = Annotated[Path, typer.Option("--registry", help="meter registry CSV (sites, lines, time zones)")]
SiteOpt = Annotated[Optional[str], typer.Option("--site", help="site code (needed when the registry has several)")]
MeterOpt = Annotated[Optional[list[str]], typer.Option("--meter", help="meter id; repeat to add meters up "
                                                                       "(default: the site's revenue meters)")]
FromOpt = Annotated[Optional[str], typer.Option("--from", help="first local date, YYYY-MM-DD")]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="last local date (included), YYYY-MM-DD")]
OutOpt = Annotated[Path, typer.Option("--out", help="folder for the JSON, CSV and PNG files")]
ProductionOpt = Annotated[Optional[Path], typer.Option("--production", help="production counts CSV: timestamp,line,"
                                                                            "units (docs/energy.md)")]


class Model(str, Enum):
    linear = "linear"
    towt = "towt"


class Horizon(str, Enum):
    day = "day"
    week = "week"


def _progress(as_json: bool) -> Progress:
    # Progress goes to stderr so that --json output on stdout stays clean.
    return Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err,
                    transient=True, disable=as_json or not err.is_terminal)


def _num(v, fmt: str = ",.1f") -> str:
    return "-" if v is None or v != v else format(v, fmt)


@app.command("report")
def report_cmd(lake: LakeOpt, registry: RegistryOpt, out: OutOpt = Path("energy_report"), site: SiteOpt = None,
               date_from: FromOpt = None, date_to: ToOpt = None, production: ProductionOpt = None,
               factors: Annotated[Optional[str], typer.Option("--factors", help="factor set for the grid factor "
                                                                                "(`zerocarbon factors sets`)")] = None,
               province: Annotated[Optional[str], typer.Option("--province", help="site province for the grid "
                                                                                  "factor, e.g. 安徽")] = None,
               grid_region: Annotated[Optional[str], typer.Option("--grid-region", help="site grid region, e.g. "
                                                                                        "east")] = None,
               country: Annotated[str, typer.Option("--country", help="site country (ISO code) for the grid "
                                                                      "factor")] = "CN",
               org: Annotated[Optional[Path], typer.Option("--org-file", help="organisation YAML giving the site's "
                                                                              "country, province and grid region")] = None,
               kg_per_kwh: Annotated[Optional[float], typer.Option("--kg-per-kwh", help="grid factor "
                                                                                        "[kgCO2/kWh] instead of "
                                                                                        "--factors")] = None,
               db: StoredOpt = None, organisation_code: OrgCodeOpt = None,
               shifts: Annotated[str, typer.Option("--shifts", help="local shifts NAME=START-END, comma "
                                                                    "separated")] = "day=8-20,night=20-8",
               as_json: JsonOpt = False) -> None:
    """Base and peak load, load factor, kWh per unit, idle load per line and shift with its CO2, anomalies."""
    from zerocarbon.errors import InputError, Problem
    from zerocarbon.services import energy_report
    from zerocarbon.services.meter_import import read_registry

    meters = read_registry(registry)
    if factors and kg_per_kwh is not None:
        raise InputError([Problem("--factors/--kg-per-kwh", None, None, "give one grid factor source, not both")])
    grid = energy_report.given_factor(kg_per_kwh) if kg_per_kwh is not None else None
    code = organisation(organisation_code, db)
    if factors and org is not None:
        province, grid_region, country = energy_report.grid_site(meters, site, org, province, grid_region)
    with _progress(as_json) as progress:
        task = progress.add_task("energy report", total=None)
        rep = energy_report.report(lake, code, meters, out, site, date_from, date_to, production, grid,
                                   energy_report.parse_shifts(shifts), factor_set=factors, province=province,
                                   grid_region=grid_region, country=country,
                                   stored_sets=stored_sets_db(db) if factors else None,
                                   progress=lambda step: progress.update(task, description=step))
    if as_json:
        emit_json(rep.to_dict())
        return
    _print_report(rep)


def _print_report(rep) -> None:
    console.print(f"[bold]Site {rep.site}[/] ({rep.timezone}), {rep.first_day} to {rep.last_day}, "
                  f"{rep.interval_min}-min intervals, meters {', '.join(rep.meters)}")
    table = Table(title="Load")
    for c in ("", "MWh", "base kW", "peak kW", "peak at (local)", "load factor"):
        table.add_column(c, justify="left" if c in ("", "peak at (local)") else "right", no_wrap=c != "")
    for s in ([rep.site_load] if rep.site_load else []) + rep.lines:
        table.add_row(s.name, _num(s.kwh / 1000), _num(s.base_kw), _num(s.peak_kw), (s.peak_at or "-")[:16],
                      _num(s.load_factor, ".0%"))
    console.print(table)
    if rep.idle:
        t = Table(title="Idle running (line on, producing nothing)")
        for c in ("line", "shift", "idle MWh", "idle h", "kgCO2", "share of line"):
            t.add_column(c, justify="left" if c in ("line", "shift") else "right", no_wrap=c != "line")
        for f in sorted(rep.idle, key=lambda f: -f["idle_kwh"]):
            t.add_row(f["line"], f["shift"], _num(f["idle_kwh"] / 1000, ",.2f"), _num(f["idle_hours"], ",.0f"),
                      _num(f["co2_kg"], ",.0f"), _num(f["share_of_line_kwh"], ".0%"))
        console.print(t)
        co2 = f", {rep.idle_total_co2_kg / 1000:,.1f} tCO2" if rep.idle_total_co2_kg is not None else ""
        console.print(f"Idle energy: [bold]{rep.idle_total_kwh / 1000:,.1f} MWh[/]{co2}"
                      + (f" (grid factor {rep.grid_factor.kg_per_kwh:.4f} kgCO2/kWh, {rep.grid_factor.source})"
                         if rep.grid_factor else ""), highlight=False)
    if rep.kwh_per_unit:
        totals: dict[str, list[float]] = {}
        for r in rep.kwh_per_unit:
            t = totals.setdefault(r["line"], [0.0, 0.0])
            t[0] += r["kwh"]
            t[1] += r["units"]
        console.print("kWh per unit: " + ", ".join(f"{line} {k / u:.3f}" for line, (k, u) in totals.items() if u))
    for note in rep.anomalies[:5]:
        console.print(f"[yellow]anomaly:[/] {note}", highlight=False)
    if len(rep.anomalies) > 5:
        console.print(f"... {len(rep.anomalies) - 5} more anomalies in the JSON report")
    for note in rep.notes:
        console.print(f"note: {note}", highlight=False)
    _files(rep.files)


def _files(files: dict[str, str]) -> None:
    if files:
        console.print("Files:\n" + "\n".join(f"  {k}: {v}" for k, v in files.items()), highlight=False)


@app.command("baseline")
def baseline_cmd(lake: LakeOpt, registry: RegistryOpt,
                 baseline_from: Annotated[str, typer.Option("--baseline-from", help="first local date of the "
                                                                                    "baseline period")],
                 baseline_to: Annotated[str, typer.Option("--baseline-to", help="last local date of the baseline "
                                                                                "period")],
                 reporting_from: Annotated[Optional[str], typer.Option("--reporting-from",
                                                                       help="first local date of the reporting "
                                                                            "period")] = None,
                 reporting_to: Annotated[Optional[str], typer.Option("--reporting-to", help="last local date of "
                                                                                            "the reporting period")] = None,
                 meter: MeterOpt = None, site: SiteOpt = None,
                 temperature: Annotated[Optional[Path], typer.Option("--temperature", help="outdoor temperature CSV: "
                                                                                          "timestamp,temperature"
                                                                                          "[,unit]")] = None,
                 production: ProductionOpt = None, model: Annotated[Model, typer.Option("--model")] = Model.linear,
                 confidence: Annotated[float, typer.Option("--confidence", min=0.5, max=0.99,
                                                           help="confidence of the savings uncertainty")] = 0.90,
                 out: OutOpt = Path("energy_baseline"), org: OrgCodeOpt = None, db: DbOpt = None,
                 as_json: JsonOpt = False) -> None:
    """M&V baseline with ASHRAE Guideline 14 metrics and the reporting period's avoided energy, or a refusal."""
    from zerocarbon.services import energy_baseline
    from zerocarbon.services.meter_import import read_registry

    code = organisation(org, db)
    with _progress(as_json) as progress:
        task = progress.add_task("baseline", total=None)
        res = energy_baseline.baseline(lake, code, read_registry(registry), baseline_from, baseline_to, reporting_from,
                                       reporting_to, meter, site, temperature, production, model.value, confidence,
                                       out, progress=lambda step: progress.update(task, description=step))
    if as_json:
        emit_json(res.to_dict())
        return
    console.print(f"[bold]{' + '.join(res.meters)}[/] (site {res.site}, {res.timezone}): {res.model} model on "
                  f"{res.granularity} data, drivers {', '.join(res.drivers) or 'none'}; baseline "
                  f"{res.baseline_period[0]} to {res.baseline_period[1]}: {res.baseline_points} of "
                  f"{res.expected_points} points", highlight=False)
    f = res.fit
    if f is not None:
        bp = "".join([f", heating below {f.heating_base_c:g} °C" if f.heating_base_c is not None else "",
                      f", cooling above {f.cooling_base_c:g} °C" if f.cooling_base_c is not None else ""])
        console.print(f"Fit: CV(RMSE) {f.cv_rmse:.1%} (limit {f.max_cv_rmse:.0%}), NMBE {f.nmbe:+.2%} "
                      f"(limit ±{f.max_abs_nmbe:.0%}), R² {f.r2:.3f}, n={f.n}, p={f.p}{bp}; residual lag-1 "
                      f"autocorrelation ρ={f.rho:.3f}, n'={f.n_effective:.1f} independent points", highlight=False)
    if res.passes:
        console.print("[green]The baseline meets ASHRAE Guideline 14.[/]")
    else:
        console.print("[bold red]Baseline refused:[/]")
        for r in res.reasons:
            console.print(f"  - {r}", highlight=False)
    s = res.savings
    if s is not None:
        console.print(f"Reporting {res.reporting_period[0]} to {res.reporting_period[1]}: baseline "
                      f"{s.baseline_kwh:,.0f} kWh, actual {s.actual_kwh:,.0f} kWh, avoided [bold]{s.avoided_kwh:,.0f} "
                      f"± {s.uncertainty_kwh:,.0f} kWh[/] ({s.fraction:+.1%}) at {s.confidence:.0%} confidence "
                      f"(ASHRAE Guideline 14 with ρ={s.rho:.3f}, n'={s.n_effective:.1f}, t={s.t:.2f})"
                      f"{'' if s.significant else '; not statistically distinguishable from zero'}", highlight=False)
    for note in res.notes:
        console.print(f"note: {note}", highlight=False)
    _files(res.files)


@app.command("forecast")
def forecast_cmd(lake: LakeOpt, registry: RegistryOpt, horizon: Annotated[Horizon, typer.Option("--horizon")] = Horizon.day,
                 meter: MeterOpt = None, site: SiteOpt = None, date_from: FromOpt = None, date_to: ToOpt = None,
                 backtest_days: Annotated[int, typer.Option("--backtest-days", min=1, max=365,
                                                            help="days of rolling-origin backtest")] = 14,
                 out: OutOpt = Path("energy_forecast"), org: OrgCodeOpt = None, db: DbOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Day- or week-ahead load forecast, backtested against seasonal naive; writes CSV and a chart."""
    from zerocarbon.services import energy_forecast
    from zerocarbon.services.meter_import import read_registry

    code = organisation(org, db)
    with _progress(as_json) as progress:
        task = progress.add_task("forecast", total=None)

        def step(name: str, done: int, total: int) -> None:
            progress.update(task, description=name, completed=done, total=total)

        res = energy_forecast.forecast(lake, code, read_registry(registry), horizon.value, meter, site, date_from, date_to,
                                       backtest_days, out, progress=step)
    if as_json:
        emit_json(res.to_dict())
        return
    console.print(f"[bold]{' + '.join(res.meters)}[/] (site {res.site}): {res.horizon}-ahead, {res.history_days:.0f} "
                  f"days of {res.interval_min}-min history", highlight=False)
    table = Table(title=f"Backtest, {res.backtest_days} rolling origins")
    for c in ("", "CV(RMSE)", "MAPE"):
        table.add_column(c, justify="left" if not c else "right", no_wrap=True)
    table.add_row("model", _num(res.model_cv_rmse, ".1%"), _num(res.model_mape, ".1%"))
    table.add_row("seasonal naive", _num(res.naive_cv_rmse, ".1%"), _num(res.naive_mape, ".1%"))
    console.print(table)
    console.print(f"Skill vs seasonal naive: [bold]{res.skill:+.0%}[/]. Forecast {res.forecast_from} to "
                  f"{res.forecast_to}: {res.forecast_kwh:,.0f} kWh (seasonal naive {res.naive_kwh:,.0f} kWh)",
                  highlight=False)
    for note in res.notes:
        console.print(f"note: {note}", highlight=False)
    _files(res.files)


__all__ = ["app"]
