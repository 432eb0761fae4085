"""`zerocarbon pathway ...`: the abatement catalogue, the marginal abatement cost curve and the least-cost pathway
to a scenario's targets (docs/pathway.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from zerocarbon.cli.common import ActorOpt, DbOpt, JsonOpt, OrgOpt, actor, console, emit_json, escape, group

app = group("Abatement pathways: measures, MACC, least-cost pathway to targets, scenarios side by side.")
err = Console(stderr=True)

CatalogueOpt = Annotated[Optional[Path], typer.Option("--catalogue", help="own catalogue YAML (default: shipped)")]
ScenariosOpt = Annotated[list[Path], typer.Option("--scenario", help="scenario YAML (repeatable)")]
TargetsOpt = Annotated[str, typer.Option("--targets", help="auto (the scenario's, else the stored ones) | stored | "
                                                           "scenario")]
BaseYearOpt = Annotated[Optional[int], typer.Option("--year", min=1990, max=2100,
                                                    help="year of the stored inventory the base is read from "
                                                         "(default: the scenario's base year, else the latest)")]
TimeOpt = Annotated[Optional[float], typer.Option("--time-limit", help="seconds of MILP search (default: the "
                                                                       "scenario's time_limit_s)")]


def _read(path: Path | None) -> tuple[str, bytes] | None:
    from zerocarbon.errors import InputError, Problem

    if path is None:
        return None
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "file not found")])
    return path.name, path.read_bytes()


def _catalogue(path: Path | None) -> dict:
    got = _read(path)
    return {"own_catalogue": got[1], "catalogue_name": got[0]} if got else {}


def _money(x: float | None) -> str:
    return "-" if x is None else f"{x / 1e6:,.2f} M"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _mark(ids) -> str:
    return " *" if ids else ""


@app.command("measures")
def measures(catalogue: CatalogueOpt = None, as_json: JsonOpt = False) -> None:
    """The abatement catalogue: what each measure acts on, its figures and whether they are sourced."""
    from zerocarbon.services import pathway

    got = _read(catalogue)
    cat = pathway.list_measures(got[1] if got else None, got[0] if got else "catalogue.yaml")
    if as_json:
        emit_json(cat)
        return
    t = Table(title=f"Abatement measures ({escape(cat['origin'])}, {cat['currency']} {cat['price_year']})")
    for col in ("measure", "name", "scope", "acts on", "figures", "illustrative"):
        t.add_column(col)
    for m in cat["measures"]:
        figs = ", ".join(f"{k} {v['value']:g}" for k, v in m["figures"].items())
        t.add_row(m["id"], f"{m['name']['en']} / {m['name']['zh']}", str(m["scope"]),
                  f"{m['acts_on']['kind']}: {', '.join(m['acts_on']['targets'])}", escape(figs),
                  ", ".join(m["illustrative"]) or "-")
    console.print(t)
    console.print("Illustrative figures have no published source (the reason is in the catalogue); "
                  "replace them with your own catalogue file (--catalogue).", highlight=False)


def _progress(as_json: bool):
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                    transient=True, disable=as_json or not err.is_terminal)


@app.command("macc")
def macc(org: OrgOpt, year: Annotated[Optional[int], typer.Option("--year", min=1990, max=2100,
                                                                  help="year of the curve (default: base + 1)")] = None,
         scenario: Annotated[Optional[Path], typer.Option("--scenario", help="scenario YAML (default: the "
                                                                             "organisation's latest pathway run)")] = None,
         catalogue: CatalogueOpt = None,
         chart: Annotated[Optional[Path], typer.Option("--chart", help="write the curve as a PNG file")] = None,
         base_year: Annotated[Optional[int], typer.Option("--base-year", min=1990, max=2100,
                                                          help="year of the stored inventory the base is read "
                                                               "from")] = None,
         db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The marginal abatement cost curve: cheapest tonne first, each measure acting on what the others left."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import pathway

    got = _read(scenario)
    curve = pathway.macc_for_org(open_db(db), org, year, scenario=got, base_year=base_year, **_catalogue(catalogue))
    if chart:
        from zerocarbon.services.pathway import write_macc_chart

        write_macc_chart(curve, chart)
    if as_json:
        emit_json(curve)
        return
    t = Table(title=f"MACC {escape(org)} {curve['year']} ({escape(curve['scenario'])})")
    for col in ("measure", "scope", "tCO2e/yr", f"{curve['currency']}/yr", f"{curve['currency']}/t", "cumulative t"):
        t.add_column(col, justify="right" if col not in ("measure",) else "left")
    for e in curve["entries"]:
        t.add_row(e["measure"] + _mark(e["illustrative"]), str(e["scope"]), f"{e['abatement_t']:,.1f}",
                  f"{e['annual_cost']:,.0f}", "-" if e["cost_per_t"] is None else f"{e['cost_per_t']:,.1f}",
                  f"{e['cumulative_t']:,.1f}")
    console.print(t)
    console.print("* uses illustrative figures (no published source); Scope 3 measures are not in the cumulative "
                  "Scope 1+2 tonnes.", highlight=False)
    for d in curve["dropped"]:
        console.print(f"left out: {d['measure']}: {escape(d['reason'])}", highlight=False)
    if chart:
        console.print(f"chart: {chart}", highlight=False)


def _side_by_side(rows: list[dict], title: str) -> None:
    t = Table(title=title)
    t.add_column("")
    for r in rows:
        t.add_column(escape(r["scenario"]), justify="right")
    ok = [r.get("summary") for r in rows]

    def line(label, fn):
        t.add_row(label, *(fn(s) if s else "infeasible" for s in ok))

    line("net present cost", lambda s: f"{_money(s['npc'])} {s['currency']}")
    line("last year", lambda s: str(s["last_year"]))
    line("Scope 1+2 t (base)", lambda s: f"{s['scope12_t']:,.0f} ({s['base_scope12_t']:,.0f})")
    line("renewable share", lambda s: _pct(s["re_share"]))
    line("greedy cost", lambda s: f"{_money(s['greedy_npc'])}" + ("" if s["greedy_meets_targets"] else " (misses)"))
    line("measures", lambda s: ", ".join(s["measures"]))
    line("illustrative figures", lambda s: str(s["illustrative_figures"]))
    console.print(t)
    for r in rows:
        if not r.get("summary"):
            console.print(f"{escape(r['scenario'])}: {escape(r['reason'])}", highlight=False)


def _charts(result: dict, directory: Path, stem: str) -> list[Path]:
    from zerocarbon.services.pathway import write_charts

    return write_charts(result, directory, stem)


@app.command("optimise")
def optimise(org: OrgOpt, scenario: ScenariosOpt, year: BaseYearOpt = None, targets: TargetsOpt = "auto",
             catalogue: CatalogueOpt = None, time_limit: TimeOpt = None,
             chart: Annotated[Optional[Path], typer.Option("--chart", help="folder for MACC and pathway PNGs")] = None,
             db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Solve each scenario for the least-cost pathway to its targets and store the run."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import pathway

    sessions = open_db(db)
    files = [_read(p) for p in scenario]
    for name, data in files:  # every file checked before any is solved
        pathway.prepare(data, name, sessions=sessions, org_code=org, year=year, targets=targets)
    infos = []
    with _progress(as_json) as progress:
        for name, data in files:
            task = progress.add_task(f"{name}: read")
            infos.append(pathway.optimise(
                sessions, org, data, name, actor=actor(actor_name), time_limit=time_limit, year=year, targets=targets,
                **_catalogue(catalogue),
                progress=lambda done, total, message, task=task: progress.update(task, description=f"{name}: {message}")))
    if chart:
        for info in infos:
            _charts(info.result, chart, f"pathway_{info.id}")
    if as_json:
        emit_json([{"id": i.id, "summary": i.summary, "result": i.result} for i in infos])
        return
    for info in infos:
        _plan_table(info.result, f"Run {info.id}: {info.name} ({info.solver_status}, {info.solve_seconds:.2f} s)")
    if len(infos) > 1:
        _side_by_side([{"scenario": i.name, "summary": i.summary} for i in infos], "Scenarios side by side")
    if chart:
        console.print(f"charts in {chart}", highlight=False)


def bau_step_text(step: dict) -> str:
    return (f"business as usual {step['base_t']:,.0f} t in {step['base_year']} -> {step['bau_t']:,.0f} t in "
            f"{step['year']}: the {step['instruments_mwh']:,.0f} MWh of certificates and contracts of "
            f"{step['base_year']} count in that year only; from {step['year']} that electricity is priced at the grid "
            f"factor {step['grid_factor']:.4f} t/MWh: {step['instruments_t']:,.0f} t (the rest is growth of "
            f"{100 * step['growth']:g} % a year)")


def _plan_table(result: dict, title: str) -> None:
    t = Table(title=escape(title))
    for col in ("year", "Scope 1+2 t", "BAU t", "target t", "RE share", "target RE", "measures in service", "sizes"):
        t.add_column(col)
    from zerocarbon.services.pathway import constraint_lines, in_service, size_unit

    kinds = {k: m["kind"] for k, m in result["measures"].items()}
    for y, b in zip(result["years"], result["bau"]):
        sizes = ", ".join(f"{k} {v:,.0f} {size_unit(kinds.get(k))}" for k, v in y["sizes"].items())
        t.add_row(str(y["year"]), f"{y['scope12_t']:,.0f}", f"{b['scope12_t']:,.0f}",
                  "-" if y["target_cap_t"] is None else f"{y['target_cap_t']:,.0f}", _pct(y["re_share"]),
                  _pct(y["target_re_share"]), ", ".join(in_service(y)) or "-", sizes or "-")
    console.print(t)
    for line in constraint_lines(result):
        console.print(line, highlight=False)
    step = result.get("bau_step")
    if step and step["instruments_mwh"] > 0:
        console.print(bau_step_text(step), highlight=False)
    g = result["greedy"]
    cur = result["scenario"]["currency"]
    console.print(f"net present cost against business as usual: {_money(result['npc'])} {cur}; greedy cost-per-tonne "
                  f"ranking: {_money(g['npc'])} {cur}" + ("" if g["meets_targets"] else " and misses the targets"),
                  highlight=False)
    memo = result["offset_memo"]
    if memo["cost"] is not None:
        console.print(f"residual {memo['residual_t']:,.0f} t in {memo['year']}; offsetting it at "
                      f"{memo['ccer_price']:g} {cur}/t (CCER) would cost {_money(memo['cost'])} {cur} (memo; offsets "
                      "never count toward the target)", highlight=False)
    console.print(f"base ({result['base']['source']}): {escape(result['base']['note'])}", highlight=False)
    lin = result["base"].get("lineage") or {}
    if lin:
        tot = lin["totals"]
        console.print(f"stored inventory {lin['year']} ({escape(lin['factor_set'])}), {lin['ledger_rows']:,} ledger "
                      f"rows: Scope 1 {tot['scope1_t']:,.1f} t, Scope 2 market {tot['scope2_market_t']:,.1f} t "
                      f"(location {tot['scope2_location_t']:,.1f} t), renewable share {_pct(lin['renewable_share'])}",
                      highlight=False)
        if lin["unmapped_meters"]:
            console.print(f"{lin['unmapped_mwh']:,.1f} MWh of meters with no end use (in OTHER): "
                          f"{escape(', '.join(lin['unmapped_meters']))}", highlight=False)
    console.print(f"targets: {result['scenario']['targets_source']}", highlight=False)
    if result["illustrative"]:
        console.print(f"{len(result['illustrative'])} illustrative figures used (see `pathway measures`)",
                      highlight=False)


@app.command("compare")
def compare(scenario: ScenariosOpt, org: Annotated[Optional[str], typer.Option("--org", help="organisation (its stored "
                                                                                             "inventory, targets and "
                                                                                             "schedule savings)")] = None,
            year: BaseYearOpt = None, targets: TargetsOpt = "auto",
            catalogue: CatalogueOpt = None, time_limit: TimeOpt = None, db: DbOpt = None,
            as_json: JsonOpt = False) -> None:
    """Solve several scenarios on the same catalogue and show them side by side (nothing is stored)."""
    from zerocarbon.services import pathway

    sessions = None
    if org:
        from zerocarbon.cli.common import open_db

        sessions = open_db(db)
    files = [_read(p) for p in scenario]
    with _progress(as_json) as progress:
        task = progress.add_task("compare")
        rows = pathway.compare([(data, name) for name, data in files], sessions=sessions, org_code=org,
                               time_limit=time_limit, year=year, targets=targets, **_catalogue(catalogue),
                               progress=lambda done, total, message: progress.update(
                                   task, description=f"{done}/{total} {message}"))
    if as_json:
        emit_json(rows)
        return
    _side_by_side(rows, "Scenarios side by side")


@app.command("runs")
def runs(org: OrgOpt, limit: Annotated[int, typer.Option(min=1, max=1000, help="the newest N runs (1-1000)")] = 50, db: DbOpt = None,
         as_json: JsonOpt = False) -> None:
    """The organisation's stored pathway runs, newest first."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import pathway

    page = pathway.list_runs(open_db(db), org, limit=limit)
    if as_json:
        emit_json(page)
        return
    t = Table(title=f"Pathway runs of {escape(org)} ({page['total']})")
    for col in ("id", "name", "scenario file", "base", "status", "NPC", "Scope 1+2 t", "RE share", "by", "at"):
        t.add_column(col)
    for r in page["runs"]:
        s = r.summary
        t.add_row(str(r.id), escape(r.name), escape(r.scenario_file), str(r.base_year), r.solver_status,
                  _money(s.get("npc")), f"{s.get('scope12_t', 0):,.0f}", _pct(s.get("re_share")), escape(r.created_by),
                  r.created_at.strftime("%Y-%m-%d %H:%M"))
    console.print(t)


@app.command("show")
def show(run_id: Annotated[int, typer.Argument(help="run id (see `pathway runs`)")], org: OrgOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """One stored run: its plan year by year, the greedy comparison, the MACC and the base used."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import pathway

    info = pathway.get_run(open_db(db), org, run_id)
    if as_json:
        emit_json({"id": info.id, "name": info.name, "scenario_file": info.scenario_file,
                   "scenario_sha256": info.scenario_sha256, "catalogue": info.catalogue,
                   "created_by": info.created_by, "created_at": info.created_at, "result": info.result})
        return
    _plan_table(info.result, f"Run {info.id}: {info.name} ({info.scenario_file}, {info.scenario_sha256[:12]}, by "
                             f"{info.created_by})")
