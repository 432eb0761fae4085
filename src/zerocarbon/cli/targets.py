"""`zerocarbon targets ...`: reduction and renewable-electricity targets, their progress against the stored
inventories, the science-based check, and the output figures intensity targets divide by (docs/targets.md)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import ActorOpt, DbOpt, JsonOpt, OrgOpt, actor, console, emit_json, escape, group

app = group("Targets: set, list, progress against the inventories (chart), science-based check, output figures.")
output_app = group("Output figures (production units, revenue) per site and year, for intensity targets.")
app.add_typer(output_app, name="output")


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


# Problems of the service name the fields of a target or an output figure; these are the options that set them.
_OPTION_OF = {"base_value": "--base-year", "coverage": "--boundary"}


@contextmanager
def _as_options():
    """The service's refusal with every field named as the option that sets it (``--target-year``)."""
    from zerocarbon.errors import InputError, Problem

    try:
        yield
    except InputError as exc:
        raise InputError([Problem(_OPTION_OF.get(p.column, "--" + p.column.replace("_", "-")), p.row, None, p.reason)
                          if p.source in ("target", "output") and p.column else p for p in exc.problems]) from None


def _share(x: float) -> str:
    return f"{100 * x:.4g} %"


def _stored(t: dict) -> str:
    """What was stored, in the words of the target: "-42 % by 2030", "90 % renewable electricity by 2030"."""
    if t["kind"] == "renewable_electricity":
        return f"{_share(t['re_share'])} renewable electricity by {t['target_year']}"
    return f"-{_share(t['reduction'])} by {t['target_year']}"


def _value(x, unit: str) -> str:
    if x is None:
        return "-"
    return _pct(x) if unit == "fraction" else f"{x:,.3f}" if x < 100 else f"{x:,.1f}"


@app.command("set")
def set_(org: OrgOpt,
         kind: Annotated[str, typer.Option(help="absolute | intensity | renewable_electricity | net_zero")],
         base_year: Annotated[int, typer.Option("--base-year", help="year whose stored inventory gives the base "
                                                                   "value")],
         target_year: Annotated[int, typer.Option("--target-year", help="year by which the target is met")],
         reduction: Annotated[Optional[float], typer.Option(
             help="absolute, intensity, net_zero: fraction of the base value to cut, in (0, 1]; 0.42 is -42 %")
         ] = None,
         re_share: Annotated[Optional[float], typer.Option(
             "--re-share", help="renewable_electricity: share of electricity to reach, in (0, 1]; 0.9 is 90 %")
         ] = None,
         scopes: Annotated[str, typer.Option(help="s1s2 | s3 | s1s2s3")] = "s1s2",
         method: Annotated[str, typer.Option("--scope2-method", help="market | location")] = "market",
         boundary: Annotated[str, typer.Option(help="org, or a site code")] = "org",
         denominator: Annotated[Optional[str], typer.Option(help="intensity: units | revenue")] = None,
         projected_output: Annotated[Optional[float], typer.Option(
             "--projected-output", help="intensity: output expected in the target year (for the SBT check)")] = None,
         submitted: Annotated[Optional[str], typer.Option(help="date set or submitted, YYYY-MM-DD (timeframe rule)")
                              ] = None,
         target_id: Annotated[Optional[str], typer.Option("--id", help="target id (default T1, T2, ...)")] = None,
         note: Annotated[str, typer.Option(help="free text kept with the target")] = "",
         db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Set a target; its base value comes from the stored inventory of the base year."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import targets

    try:
        when = date.fromisoformat(submitted) if submitted else None
    except ValueError:
        raise typer.BadParameter(f"'{submitted}' is not a date YYYY-MM-DD", param_hint="--submitted") from None
    with _as_options():
        t = targets.set_target(open_db(db), org, kind=kind, scopes=scopes, base_year=base_year,
                               target_year=target_year, reduction=reduction, re_share=re_share, scope2_method=method,
                               boundary=boundary, denominator=denominator, projected_output=projected_output,
                               submitted=when, code=target_id, note=note, actor=actor(actor_name))
    if as_json:
        emit_json(t)
        return
    console.print(f"target {t['id']} set: {_stored(t)}; {t['kind']} {t['scopes']} ({t['boundary']}), base "
                  f"{t['base_year']} "
                  f"{_value(t['base_value'], t['unit'])} -> {t['target_year']} {_value(t['target_value'], t['unit'])} "
                  f"[{escape(t['unit'])}]", highlight=False)


@app.command("list")
def list_(org: OrgOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The organisation's targets."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import targets

    rows = targets.list_targets(open_db(db), org)
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "kind", "scopes", "Scope 2", "boundary", "base year", "base", "target year", "target",
                  "unit", title=f"Targets of {escape(org)}")
    for t in rows:
        table.add_row(t["id"], t["kind"], t["scopes"], t["scope2_method"], t["boundary"], str(t["base_year"]),
                      _value(t["base_value"], t["unit"]), str(t["target_year"]), _value(t["target_value"], t["unit"]),
                      escape(t["unit"]))
    console.print(table)


@app.command("delete")
def delete(target_id: Annotated[str, typer.Argument(help="target id, as `targets list` shows it")], org: OrgOpt, db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Delete a target (recorded in the audit trail)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import targets

    targets.delete_target(open_db(db), org, target_id, actor=actor(actor_name))
    console.print(f"target {escape(target_id)} deleted", highlight=False)


@app.command("progress")
def progress(org: OrgOpt,
             target_id: Annotated[Optional[str], typer.Option("--id", help="one target only (default: every target)")
                                  ] = None,
             chart: Annotated[Optional[Path], typer.Option("--chart", help="write a PNG: actual vs trajectory")
                              ] = None,
             db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Actual vs the linear trajectory in every year with a stored inventory; base-year recalculation shown."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import targets

    items = targets.progress(open_db(db), org, target_id)
    if chart is not None:
        targets.write_progress_chart(items, chart)
    if as_json:
        emit_json(items)
        return
    for item in items:
        t = item["target"]
        table = Table("year", "actual", "expected", "on track", "change so far", "rate still needed /yr",
                      title=f"{t['id']}: {t['kind']} {t['scopes']} ({t['boundary']}) {t['base_year']} -> "
                            f"{t['target_year']} [{escape(t['unit'])}]")
        for p in item["points"]:
            table.add_row(str(p["year"]), _value(p["actual"], t["unit"]), _value(p["expected"], t["unit"]),
                          "yes" if p["on_track"] else "NO", _pct(p["achieved_change"]), _pct(p["rate_needed"]))
        console.print(table)
        rec = item["recalculation"]
        if rec.get("note"):
            console.print(f"  base year: {escape(rec['note'])}; base used {_value(t['base_value'], t['unit'])} "
                          f"(stored when set: {_value(item['stored_base_value'], t['unit'])})", highlight=False)
    if chart is not None:
        console.print(f"chart: {chart}", highlight=False)


_AMBITION = {"1.5C": "1.5 °C aligned", "WB2C": "well-below 2 °C aligned"}


@app.command("check")
def check(target_id: Annotated[str, typer.Argument(help="target id, as `targets list` shows it")], org: OrgOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The science-based check: ambition (1.5 °C / well-below 2 °C / not aligned) with the linear annual rate, the
    rules that fail, and every rule with its reason."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import targets

    rep = targets.check(open_db(db), org, target_id)
    if as_json:
        emit_json(rep)
        return
    rate = "" if rep["annual_rate"] is None else f" (linear annual rate {_pct(rep['annual_rate'])}/yr)"
    console.print(f"{escape(target_id)}: ambition: {_AMBITION.get(rep['ambition'], rep['ambition'])}{rate}; "
                  f"rules failing: {', '.join(rep['failing']) or 'none'}", highlight=False)
    findings = list(rep["findings"]) + ([rep["scope3_materiality"]] if rep.get("scope3_materiality") else [])
    for f in findings:
        mark = {True: "ok", False: "FAIL", None: "n/a"}[f["passed"]]
        console.print(f"  [{mark}] {f['rule']}: {escape(f['reason'])}", highlight=False)


@output_app.command("set")
def output_set(org: OrgOpt, year: Annotated[int, typer.Option(help="year of the figure")],
               metric: Annotated[str, typer.Option(help="units | revenue")],
               value: Annotated[float, typer.Option(help="the figure, a positive number")],
               unit: Annotated[str, typer.Option(help="its unit, e.g. unit, laptop, CNY, 万元")],
               site: Annotated[str, typer.Option(help="site code; empty for the whole organisation")] = "",
               source: Annotated[str, typer.Option(help="where the figure comes from")] = "",
               db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Create or replace one output figure."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import targets

    with _as_options():
        r = targets.set_output(open_db(db), org, year=year, metric=metric, value=value, unit=unit, site=site,
                               source=source, actor=actor(actor_name))
    console.print(f"{r['site'] or org} {r['year']} {r['metric']}: {r['value']:,} {escape(r['unit'])}", highlight=False)


@output_app.command("import")
def output_import(file: Annotated[Path, typer.Argument(help="CSV/XLSX file, columns site, year, metric, value, "
                                                           "unit, source")], org: OrgOpt, db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Store the output figures of a CSV/XLSX file (site, year, metric, value, unit, source); all or nothing."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import targets

    rows = targets.import_outputs(open_db(db), org, file, actor=actor(actor_name))
    console.print(f"{escape(file.name)}: {len(rows)} output figure(s) stored for {escape(org)}", highlight=False)


@output_app.command("list")
def output_list(org: OrgOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The stored output figures."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import targets

    rows = targets.list_outputs(open_db(db), org)
    if as_json:
        emit_json(rows)
        return
    table = Table("site", "year", "metric", "value", "unit", "source")
    for r in rows:
        table.add_row(r["site"] or "(org)", str(r["year"]), r["metric"], f"{r['value']:,}", escape(r["unit"]),
                      escape(r["source"]))
    console.print(table)
