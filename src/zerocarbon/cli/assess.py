"""`zerocarbon assess ...`: zero-carbon factory assessments against an index system: the systems (shipped and an
organisation's own), running an assessment of a site or a workshop, its score, grade, gates and gaps, manual
values with evidence and their review, charts (docs/assessment.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import (ActorOpt, DbOpt, JsonOpt, OrgOpt, YearOpt, actor, console, emit_json, err, escape,
                                   group, lake_folder, read_file)

app = group("Zero-carbon factory assessment: index systems, assessments, manual values and their review, gaps.")
systems_app = typer.Typer(help="Index systems: list the shipped ones and an organisation's own; add your own.",
                          invoke_without_command=True, no_args_is_help=False, pretty_exceptions_enable=False)
app.add_typer(systems_app, name="systems")

LakeOpt = Annotated[Optional[Path], typer.Option("--lake", help="meter-data lake folder (default $ZEROCARBON_LAKE)",
                                                 callback=lake_folder)]
MetersOpt = Annotated[Optional[Path], typer.Option("--meters", help="meter registry CSV (default $ZEROCARBON_METERS)")]
ProductionOpt = Annotated[Optional[Path], typer.Option("--production", help="production counts CSV (default "
                                                                             "$ZEROCARBON_PRODUCTION)")]


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _value(x, unit) -> str:
    if x is None:
        return "-"
    if unit == "fraction":
        return _pct(x)
    return f"{x:,.4g} {unit}" if unit not in ("count", "bool") else f"{x:g}"


def _systems_table(rows) -> None:
    t = Table("id", "version", "origin", "name", "boundaries", "indicators", "manual", "sha256")
    for r in rows:
        t.add_row(r.id, r.version, r.origin, f"{r.name_en} / {r.name_zh}", ", ".join(r.boundaries), str(r.indicators),
                  str(r.manual), r.sha256[:12])
    console.print(t)


@systems_app.callback(invoke_without_command=True)
def systems(ctx: typer.Context, org: Annotated[Optional[str], typer.Option("--org", help="also its own systems")] = None,
            db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The shipped index systems and, with --org, the organisation's own."""
    if ctx.invoked_subcommand is not None:
        return
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    rows = assessment.list_systems(open_db(db) if org else None, org)
    if as_json:
        emit_json([r.__dict__ for r in rows])
        return
    _systems_table(rows)


@systems_app.command("add")
def systems_add(file: Path, org: OrgOpt, db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False
                ) -> None:
    """Store your own index system (YAML, as data/index/*.yaml); refused with every problem and its JSON path."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    info = assessment.add_system(open_db(db), org, file.name, read_file(file)[1], actor=actor(actor_name))
    if as_json:
        emit_json(info.__dict__)
        return
    console.print(f"stored {escape(info.id)} version {escape(info.version)} for {escape(org)} ({info.indicators} "
                  f"indicators, sha256 {info.sha256[:12]})", highlight=False)


@app.command("validate")
def validate(file: Path) -> None:
    """Check an index-system file without a database: every problem with its JSON path (exit 2), or a summary."""
    from zerocarbon.services import assessment

    system = assessment.validate_system(file.name, read_file(file)[1])
    inds = system.indicators()
    console.print(f"{escape(file.name)}: valid index system {escape(system.id)} version {escape(system.version)}; "
                  f"{len(system.dimensions)} dimensions, {len(inds)} indicators ({sum(i.manual for i in inds)} "
                  f"manual), {len(system.gates)} gates, {len(system.grades)} grades", highlight=False)


@app.command("run")
def run(org: OrgOpt, year: YearOpt, system: Annotated[str, typer.Option("--system", help="index system id")],
        site: Annotated[str, typer.Option("--site", help="site code")],
        workshop: Annotated[Optional[str], typer.Option("--workshop", help="workshop name (a workshop boundary)")] = None,
        lines: Annotated[Optional[str], typer.Option("--lines", help="the workshop's lines, comma separated")] = None,
        meters: Annotated[Optional[str], typer.Option("--meters-in", help="further meters of the workshop "
                                                                          "(utilities, PV), comma separated")] = None,
        base_year: Annotated[Optional[int], typer.Option("--base-year", help="base year of the change metrics")] = None,
        factors: Annotated[Optional[str], typer.Option("--factors", help="factor set (default: the inventory's)")] = None,
        lake: LakeOpt = None, meter_registry: MetersOpt = None, production: ProductionOpt = None,
        db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Assess a site (or a workshop of it) for a year: compute every metric of the system and score it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    server = assessment.EnergyData.from_server()
    energy = assessment.EnergyData(lake or server.lake, meter_registry or server.meters,
                                   production or server.production)
    split = lambda text: [x.strip() for x in (text or "").split(",") if x.strip()]  # noqa: E731
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err, transient=True,
                  disable=as_json or not err.is_terminal) as progress:
        task = progress.add_task("metrics", total=None)
        got = assessment.create(open_db(db), org, system, year, site, workshop=workshop, lines=split(lines),
                                meters=split(meters), base_year=base_year, factor_set=factors, energy=energy,
                                actor=actor(actor_name),
                                progress=lambda key, i, n: progress.update(task, description=key or "scoring",
                                                                           completed=i, total=n))
    if as_json:
        emit_json(got)
        return
    _show(got)


def _show(got: dict) -> None:
    r = got["result"] or {}
    b = got["boundary"]
    where = b["site"] if b["kind"] == "site" else f"{b['workshop']} ({b['site']}: {', '.join(b['lines'] + b['meters'])})"
    grade = r.get("grade")
    console.print(f"assessment {got['id']} [{got['status']}] {escape(got['system']['id'])} "
                  f"{escape(got['system']['version'])}, {got['year']}, {b['kind']} {escape(where)}", highlight=False)
    console.print(f"score {r.get('total', 0):.1f} / {r.get('max_total', 100):.0f}; grade "
                  f"{escape(grade['name']['en'] + ' / ' + grade['name']['zh']) if grade else 'none'}", highlight=False)
    for text in r.get("missing_for_next", []):
        console.print(f"  for the next grade: {escape(text)}", highlight=False)
    dims = Table("dimension", "score", "max", "note")
    zeroed = dict(r.get("zeroed", []))
    for d in r.get("dimensions", []):
        why = (f"zeroed: mandatory indicator {zeroed[d['id']]} scored 0, so the whole dimension counts 0"
               if d["id"] in zeroed else "")
        dims.add_row(f"{d['name']['en']} / {d['name']['zh']}", f"{d['score']:.1f}", f"{d['max']:.1f}", why)
    console.print(dims)
    gates = Table("gate", "metric", "passed", "reason")
    for g in r.get("gates", []):
        gates.add_row(g["id"], g["metric"], {True: "yes", False: "NO", None: "no data"}[g["passed"]], g["reason"])
    console.print(gates)
    entries = got.get("current_entries", {})
    t = Table("indicator", "metric", "kind", "value", "points", "status", "note")
    for i in r.get("indicators", []):
        kind = "manual" if i["manual"] else "computed"
        if i["manual"] and i["metric"] in entries:
            kind += f" ({entries[i['metric']]['review_state']})"
        t.add_row(i["id"], i["metric"], kind, _value(i["value"], i["unit"]), f"{i['points']:.1f}/{i['max_points']:.1f}",
                  i["status"], i["note"] or i["reason"])  # rich wraps a long note at word boundaries
    console.print(t)


@app.command("show")
def show(assessment_id: Annotated[int, typer.Argument(metavar="ID")], org: OrgOpt, db: DbOpt = None,
         as_json: JsonOpt = False) -> None:
    """Score, grade, dimensions, gates and indicators (computed or manual, with review state) of an assessment."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    got = assessment.get(open_db(db), org, assessment_id)
    if as_json:
        emit_json(got)
        return
    _show(got)


@app.command("list")
def list_(org: OrgOpt, year: Annotated[Optional[int], typer.Option("--year", help="only assessments of this year")] = None, db: DbOpt = None,
          as_json: JsonOpt = False) -> None:
    """The organisation's assessments, newest first."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    rows = assessment.list_assessments(open_db(db), org, year)
    if as_json:
        emit_json(rows)
        return
    t = Table("id", "system", "year", "boundary", "status", "score", "grade")
    for r in rows:
        b = r["boundary"]
        t.add_row(str(r["id"]), r["system"]["id"], str(r["year"]),
                  b["site"] if b["kind"] == "site" else f"{b['workshop']} ({b['site']})", r["status"],
                  "-" if r["total"] is None else f"{r['total']:.1f}", (r["grade"] or {}).get("id", "-"))
    console.print(t)


@app.command("gaps")
def gaps(assessment_id: Annotated[int, typer.Argument(metavar="ID")], org: OrgOpt, db: DbOpt = None,
         as_json: JsonOpt = False) -> None:
    """What stands between the assessment and full points: biggest gain first, with the measures that close it."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    rows = assessment.gaps(open_db(db), org, assessment_id)
    if as_json:
        emit_json(rows)
        return
    t = Table("indicator", "gain", "value", "needed", "measures")
    for g in rows:
        t.add_row(f"{g['indicator']}: {g['name']['en']}", f"{g['gain']:.1f}", _value(g["value"], g["unit"]),
                  _value(g["needed"], g["unit"]), ", ".join(g["measures"]))
    console.print(t)


@app.command("manual")
def manual(assessment_id: Annotated[int, typer.Argument(metavar="ID")], metric: str, value: float, org: OrgOpt,
           evidence: Annotated[Path, typer.Option("--evidence", help="evidence file (required)")],
           note: Annotated[Optional[str], typer.Option("--note", help="a remark stored with the value")] = None, db: DbOpt = None,
           actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Enter a manual metric's value with its evidence file; it counts once another person accepts it."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    got = assessment.enter(open_db(db), org, assessment_id, metric, value, evidence_name=evidence.name,
                           evidence=read_file(evidence)[1], note=note, actor=actor(actor_name))
    if as_json:
        emit_json(got)
        return
    console.print(f"entered {escape(metric)} = {value:g} with {escape(evidence.name)} (sha256 "
                  f"{got['evidence']['sha256'][:12]}); awaiting review", highlight=False)


@app.command("review")
def review(assessment_id: Annotated[int, typer.Argument(metavar="ID")], metric: str, org: OrgOpt,
           accept: Annotated[bool, typer.Option("--accept/--return", help="accept the value, or return it")],
           comment: Annotated[Optional[str], typer.Option("--comment", help="why (required to return)")] = None,
           db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Accept or return a manual value (never one you entered yourself)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    got = assessment.review(open_db(db), org, assessment_id, metric, accept, comment, actor=actor(actor_name))
    if as_json:
        emit_json(got)
        return
    console.print(f"{escape(metric)}: {got['review_state']}", highlight=False)


@app.command("recompute")
def recompute(assessment_id: Annotated[int, typer.Argument(metavar="ID")], org: OrgOpt, lake: LakeOpt = None,
              meter_registry: MetersOpt = None, production: ProductionOpt = None, db: DbOpt = None,
              actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Compute a draft assessment's metrics again from the current data and score it."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    server = assessment.EnergyData.from_server()
    energy = assessment.EnergyData(lake or server.lake, meter_registry or server.meters,
                                   production or server.production)
    got = assessment.recompute(open_db(db), org, assessment_id, energy=energy, actor=actor(actor_name))
    if as_json:
        emit_json(got)
        return
    _show(got)


@app.command("evidence")
def evidence(assessment_id: Annotated[int, typer.Argument(metavar="ID")],
             entry_id: Annotated[int, typer.Argument(metavar="ENTRY")], org: OrgOpt,
             out: Annotated[Path, typer.Option("--out", help="file to write the evidence to")], db: DbOpt = None
             ) -> None:
    """Write a manual entry's evidence file as it was uploaded (its SHA-256 is printed)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    name, sha, content = assessment.evidence_file(open_db(db), org, assessment_id, entry_id)
    out.write_bytes(content)
    console.print(f"{escape(name)} -> {escape(str(out))} (sha256 {sha})", highlight=False)


@app.command("finalise")
def finalise(assessment_id: Annotated[int, typer.Argument(metavar="ID")], org: OrgOpt, db: DbOpt = None,
             actor_name: ActorOpt = None) -> None:
    """Freeze an assessment (no value may await review)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    got = assessment.finalise(open_db(db), org, assessment_id, actor=actor(actor_name))
    console.print(f"assessment {got['id']} is final: {got['total']:.1f} points", highlight=False)


@app.command("chart")
def chart(assessment_id: Annotated[int, typer.Argument(metavar="ID")], org: OrgOpt,
          out: Annotated[Path, typer.Option("--out", help="folder for the PNG files")],
          lang: Annotated[str, typer.Option("--lang", help="zh or en")] = "en", db: DbOpt = None) -> None:
    """The radar of the dimensions and the gap chart as PNG files."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import assessment

    for name, path in assessment.write_charts(open_db(db), org, assessment_id, out, lang).items():
        console.print(f"{name}: {escape(str(path))}", highlight=False)


__all__ = ["app"]
