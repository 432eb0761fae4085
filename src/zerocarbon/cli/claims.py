"""`zerocarbon claim ...`: the carbon-credit register and carbon-neutrality claims per ISO 14068-1:2023
(docs/claims.md): import and list credits, create a claim with its management plan, check it, write its statement,
review it."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import (ActorOpt, DbOpt, JsonOpt, OrgOpt, YearOpt, actor, console, emit_json, escape,
                                   group, read_file)

app = group("Carbon-neutrality claims (ISO 14068-1): credits register, claims, tests, statements, review.")
credits_app = group("The carbon-credit register: import a registry export, list the credits and their use.")
app.add_typer(credits_app, name="credits")


@credits_app.command("import")
def credits_import(file: Path, org: OrgOpt, db: DbOpt = None, actor_name: ActorOpt = None,
                   as_json: JsonOpt = False) -> None:
    """Store the credits of a CSV/XLSX file, all or nothing; serials already held are refused (double counting)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import claims

    name, data = read_file(file)
    rep = claims.import_credits(open_db(db), org, name, data, actor=actor(actor_name))
    if as_json:
        emit_json(rep.__dict__)
        return
    console.print(f"{escape(name)}: {len(rep.created)} credit batch(es), {rep.quantity_t:,.0f} tCO2e stored in "
                  f"{org}", highlight=False)


@credits_app.command("list")
def credits_list(org: OrgOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The credits of the register: programme, project, vintage, serials, retirement and the claims using them."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import claims

    rows = claims.list_credits(open_db(db), org)
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"{org} carbon credits")
    for c in ("id", "programme", "project", "type", "vintage", "serials", "tCO2e", "retired", "for", "claims"):
        table.add_column(c)
    for r in rows:
        kind = r["programme"] + (" (certificate, not an offset)" if r["programme_kind"] == "certificate" else "")
        table.add_row(escape(r["credit_id"]), escape(kind), escape(r["project_id"]), r["project_type"],
                      str(r["vintage"]), ", ".join(f"{a}-{b}" for a, b in r["serials"]), f"{r['quantity_t']:,.0f}",
                      str(r["retirement_date"] or "not retired"),
                      escape(f"{r['retired_for_subject']} {r['retired_for_period'] or ''}".strip()) or "-",
                      ", ".join(map(str, r["used_by"])) or "-")
    console.print(table)


@app.command("new")
def new(org: OrgOpt, year: YearOpt,
        plan: Annotated[Path, typer.Option("--plan", help="management plan YAML (docs/claims.md)")],
        site: Annotated[Optional[str], typer.Option("--site", help="site code; omit for the organisation")] = None,
        workshop: Annotated[Optional[str], typer.Option("--workshop", help="workshop name within --site")] = None,
        lines: Annotated[Optional[list[str]], typer.Option("--lines", help="a line in the workshop (repeatable)")]
        = None, db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Create a draft claim for the organisation, a site or a workshop, with emissions from the stored inventory."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import claims

    name, data = read_file(plan)
    d = claims.create_claim(open_db(db), org, year, name, data, site=site, workshop=workshop, lines=lines,
                            actor=actor(actor_name))
    if as_json:
        emit_json(d)
        return
    where = " ".join(x for x in (d["subject"], d["site"] or org, d["workshop"]) if x)
    console.print(f"claim {d['id']} ({escape(where)} {year}): residual {d['residual_t']:,.3f} tCO2e, credits "
                  f"{escape(', '.join(d['credit_ids']))}; run `zerocarbon claim check {d['id']} --org {org}`",
                  highlight=False)


@app.command("list")
def list_(org: OrgOpt, year: Annotated[Optional[int], typer.Option("--year", help="only the claims of this year; omit for every year")]
          = None, db: DbOpt = None,
          as_json: JsonOpt = False) -> None:
    """The organisation's claims with their status."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import claims

    rows = claims.list_claims(open_db(db), org, year)
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"{org} carbon-neutrality claims")
    for c in ("id", "subject", "year", "residual tCO2e", "credits tCO2e", "status", "tests"):
        table.add_column(c)
    for r in rows:
        tests = "-" if not r["findings"] else ("all pass" if r["passed"] else
                                               f"{sum(not f['passed'] for f in r['findings'])} fail")
        table.add_row(str(r["id"]), escape(f"{r['subject']} {r['site']} {r['workshop']}".strip()), str(r["year"]),
                      f"{r['residual_t']:,.3f}", f"{r['credits_t']:,.3f}", r["status"], tests)
    console.print(table)


def _print_findings(d: dict) -> None:
    table = Table(title=f"claim {d['id']}: tests")
    for c in ("test", "credit", "result", "basis", "reason"):
        table.add_column(c)
    for f in d["findings"]:
        table.add_row(f["test"], escape(f["credit"] or ""), "[green]pass[/]" if f["passed"] else "[red]FAIL[/]",
                      f["status"], escape(f["reason"]))
    console.print(table)


@app.command("check")
def check(claim_id: Annotated[int, typer.Argument(metavar="ID")], org: OrgOpt,
          chart: Annotated[Optional[Path], typer.Option("--chart", help="write residual vs credits as PNG")] = None,
          db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Run every test; prints each with pass/fail and its reason (exit 0 either way)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import claims

    sessions = open_db(db)
    d = claims.check(sessions, org, claim_id, actor=actor(actor_name))
    if chart is not None:
        claims.chart(sessions, org, claim_id, chart)
    if as_json:
        emit_json(d)
        return
    _print_findings(d)
    failed = sum(not f["passed"] for f in d["findings"])
    share = "-" if d["removals_share"] is None else f"{100 * d['removals_share']:.1f}%"
    console.print(f"residual {d['residual_t']:,.3f} tCO2e, credits {d['credits_t']:,.3f} tCO2e, removals {share}",
                  highlight=False)
    console.print("[bold green]every test passes[/]: `zerocarbon claim statement` writes the statement" if not failed
                  else f"[bold red]{failed} test(s) fail[/]: no statement until they pass", highlight=False)
    if chart is not None:
        console.print(f"chart: {escape(str(chart))}", highlight=False)


@app.command("statement")
def statement(claim_id: Annotated[int, typer.Argument(metavar="ID")], org: OrgOpt,
              lang: Annotated[str, typer.Option("--lang", help="language of the statement: en | zh")] = "en",
              out: Annotated[Optional[Path], typer.Option("--out", help="write to this file")] = None,
              db: DbOpt = None) -> None:
    """The carbon-neutrality statement of a claim passing every test; refused with the failing tests otherwise."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import claims

    text = claims.statement(open_db(db), org, claim_id, lang)
    if out is None:
        console.print(escape(text), highlight=False)
        return
    out.write_text(text + "\n", encoding="utf-8")
    console.print(f"statement of claim {claim_id} ({lang}) written to {escape(str(out))}", highlight=False)


@app.command("submit")
def submit(claim_id: Annotated[int, typer.Argument(metavar="ID")], org: OrgOpt, db: DbOpt = None,
           actor_name: ActorOpt = None) -> None:
    """Send a checked claim that passes every test for review."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import claims

    d = claims.submit(open_db(db), org, claim_id, actor=actor(actor_name))
    console.print(f"claim {d['id']}: {d['status']}", highlight=False)


@app.command("review")
def review(claim_id: Annotated[int, typer.Argument(metavar="ID")], org: OrgOpt,
           accept: Annotated[bool, typer.Option("--accept/--return", help="sign off, or return with --comment")],
           comment: Annotated[Optional[str], typer.Option(
               "--comment", help="the reviewer's comment, recorded with the decision; required with --return "
                                 "(say why the claim goes back)")] = None,
           db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Sign off or return a checked claim; the reviewer may not be the claim's creator."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import claims

    d = claims.review(open_db(db), org, claim_id, accept, comment, actor=actor(actor_name))
    console.print(f"claim {d['id']}: {d['status']} by {escape(d['reviewed_by'])}", highlight=False)


@app.command("rules")
def rules(as_json: JsonOpt = False) -> None:
    """Every test with its basis (sourced, or proposed with the reason) and its sources."""
    from zerocarbon.services import claims

    rows = claims.rules()
    if as_json:
        emit_json(rows)
        return
    table = Table(title="carbon-neutrality tests (ISO 14068-1:2023)")
    for c in ("test", "checks", "basis", "sources / reason"):
        table.add_column(c)
    for r in rows:
        table.add_row(r["id"], escape(r["en"]), r["status"], escape("; ".join(r["sources"]) + (
            f" — {r['note']}" if r["note"] else "")))
    console.print(table)
