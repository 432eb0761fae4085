"""`zerocarbon supply ...`: the supplier registry, the green specification and scorecards, data campaigns,
supplier submissions and their review, and the supplier reduction programme (docs/suppliers.md)."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import (ActorOpt, DbOpt, JsonOpt, OrgOpt, actor, console, emit_json, escape, group,
                                   read_file)

app = group("Suppliers: registry, green specification scorecards, data campaigns, submissions, reductions.")
campaign_app = group("Data requests to suppliers: create, list, record reminders to overdue suppliers.")
reductions_app = group("The supplier reduction programme: projects, their review, progress to the goal.")
app.add_typer(campaign_app, name="campaign")
app.add_typer(reductions_app, name="reductions")

AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="evaluation date YYYY-MM-DD (default: today, UTC)")]
EvidenceOpt = Annotated[Optional[list[Path]], typer.Option("--evidence", help="an evidence file named in the "
                                                                               "evidence_file column (repeatable)")]


def _as_of(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a date YYYY-MM-DD", param_hint="--as-of") from None


def _evidence(paths: list[Path] | None) -> dict[str, bytes]:
    return dict(read_file(p) for p in paths or [])


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


@app.command("import-suppliers")
def import_suppliers(file: Path, org: OrgOpt, db: DbOpt = None, actor_name: ActorOpt = None,
                     as_json: JsonOpt = False) -> None:
    """Create or update suppliers from a CSV/XLSX file, matched by supplier code; all or nothing."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    name, data = read_file(file)
    rep = suppliers.import_suppliers(open_db(db), org, name, data, actor=actor(actor_name))
    if as_json:
        emit_json(rep.__dict__)
        return
    console.print(f"{escape(name)}: {len(rep.created)} new, {len(rep.updated)} updated, {len(rep.unchanged)} "
                  f"unchanged supplier(s) in {org}", highlight=False)


@app.command("list")
def list_(org: OrgOpt, tier: Annotated[Optional[int], typer.Option(min=1, max=3)] = None,
          category: Annotated[Optional[str], typer.Option()] = None,
          status: Annotated[Optional[str], typer.Option(help="passing | failing")] = None,
          search: Annotated[Optional[str], typer.Option(help="in code, name and parts")] = None,
          as_of: AsOfOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Suppliers with their green-specification score and pass/fail."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    rows = suppliers.list_suppliers(open_db(db), org, suppliers.Viewer("cli"), as_of=_as_of(as_of), tier=tier,
                                    category=category, status=status, search=search)
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"{org} suppliers")
    for c in ("code", "name", "tier", "category", "country", "annual spend", "tCO2e", "score", "passes"):
        table.add_column(c)
    for r in rows:
        spend = f"{r['annual_spend']:,.0f} {r['currency']}" if r["annual_spend"] is not None else "-"
        em = f"{r['emissions_t']:,.1f} ({r['emissions_source']})" if r["emissions_t"] is not None else "-"
        table.add_row(escape(r["code"]), escape(r["name"]), str(r["tier"]), escape(r["category"]), r["country"],
                      spend, em, f"{r['score']:.1f}" if r["scored"] else "-",
                      ("yes" if r["passed"] else "no") if r["scored"] else "no scorecard yet")
    console.print(table)


@app.command("show")
def show(code: str, org: OrgOpt, as_of: AsOfOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """One supplier: its record, scorecard, requests, submissions (with review comments) and projects."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    d = suppliers.get_supplier(open_db(db), org, code, suppliers.Viewer("cli"), _as_of(as_of))
    if as_json:
        emit_json(d)
        return
    console.print(f"{escape(d['code'])} {escape(d['name'])} · tier {d['tier']} · {escape(d['category'])} · "
                  f"{d['country']} {escape(d['region'])}", highlight=False)
    _print_card(d["scorecard"])
    if d["requests"]:
        table = Table(title="requests")
        for c in ("id", "campaign", "due", "status"):
            table.add_column(c)
        for r in d["requests"]:
            table.add_row(str(r["id"]), escape(r["campaign"]), r["due"],
                          r["status"] + (" (overdue)" if r["overdue"] else ""))
        console.print(table)
    else:
        console.print("requests: none", highlight=False)
    for s in d["submissions"]:
        console.print(f"submission {s['id']} {escape(s['source'])}: {s['status']}"
                      + (f" — {escape(s['review_comment'])}" if s["review_comment"] else ""), highlight=False)
    for r in d["projects"]:
        console.print(f"project {escape(r['project_id'])} ({r['type']}, from {r['start_year']}): "
                      f"{r['annual_reduction_t']:,.0f} tCO2e/a — {r['status']}", highlight=False)


def _print_card(card: dict) -> None:
    verdict = (f"{card['score']:.1f} — {'PASS' if card['passed'] else 'FAIL'}" if card["scored"]
               else "no scorecard yet (no accepted answers)")
    table = Table(title=f"scorecard on {card['as_of']}: {verdict}")
    for c in ("indicator", "weight", "mandatory", "points", "met", "reason"):
        table.add_column(c)
    for r in card["indicators"]:
        table.add_row(r["key"], f"{r['weight']:g}", "yes" if r["mandatory"] else "", f"{r['points']:.2f}",
                      "yes" if r["met"] else "no", escape(r["reason"]))
    console.print(table)
    for reason in card["reasons"]:
        console.print(f"  - {escape(reason)}", highlight=False)


@app.command("scorecard")
def scorecard(code: str, org: OrgOpt, as_of: AsOfOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """A supplier's scorecard: score, pass/fail and the reason for each indicator."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    d = suppliers.get_supplier(open_db(db), org, code, suppliers.Viewer("cli"), _as_of(as_of))
    if as_json:
        emit_json(d["scorecard"])
        return
    _print_card(d["scorecard"])


@app.command("spec")
def spec(org: OrgOpt, set_file: Annotated[Optional[Path], typer.Option("--set", help="store this YAML as the "
                                                                                    "organisation's own spec")] = None,
         db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """The green specification in force (shipped, or the organisation's own); --set stores an own one."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    sessions = open_db(db)
    if set_file is not None:
        name, data = read_file(set_file)
        info = suppliers.set_spec(sessions, org, name, data, actor=actor(actor_name))
    else:
        info = suppliers.get_spec(sessions, org)
    if as_json:
        emit_json({"origin": info.origin, "sha256": info.sha256, "name": info.spec.name,
                   "edition": info.spec.edition, "pass_mark": info.spec.pass_mark,
                   "indicators": [i.__dict__ for i in info.spec.indicators], "engagement": info.spec.engagement,
                   "programme": info.spec.programme})
        return
    console.print(f"{escape(info.spec.name)} {info.spec.edition} ({info.origin}); pass mark {info.spec.pass_mark:g}",
                  highlight=False)
    table = Table()
    for c in ("indicator", "type", "weight", "threshold", "mandatory", "evidence", "valid (months)"):
        table.add_column(c)
    for i in info.spec.indicators:
        table.add_row(i.key, i.type, f"{i.weight:g}", "" if i.threshold is None else str(i.threshold),
                      "yes" if i.mandatory else "", "yes" if i.evidence else "", str(i.validity_months or ""))
    console.print(table)


@app.command("template")
def template(org: OrgOpt, out: Annotated[Path, typer.Option(help="file to write: .csv or .xlsx")],
             db: DbOpt = None) -> None:
    """Write a blank answers file for the green specification in force: one row per indicator, for suppliers."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise typer.BadParameter(f"'{out.name}' is not a .csv or .xlsx file", param_hint="--out")
    _, _, data = suppliers.answers_template(open_db(db), org, fmt)
    out.write_bytes(data)
    console.print(f"wrote {out}: one row per indicator; fill value (and evidence_file, valid_until where the "
                  "indicator needs them), delete rows you do not answer", highlight=False)


@app.command("compliance")
def compliance(org: OrgOpt, as_of: AsOfOpt = None,
               by: Annotated[str, typer.Option(help="trend per quarter | year")] = "quarter",
               db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Share of suppliers and of spend meeting the green specification, its trend, and the engagement target."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    rep = suppliers.compliance_report(open_db(db), org, as_of=_as_of(as_of), by=by)
    if as_json:
        emit_json(rep)
        return
    console.print(f"{rep['passing']} of {rep['suppliers']} suppliers comply ({_pct(rep['share_by_count'])} by count, "
                  f"{_pct(rep['share_by_spend'])} by spend) on {rep['as_of']}", highlight=False)
    if rep["note"]:
        console.print(escape(rep["note"]), highlight=False)
    e = rep["engagement"]
    console.print(f"engagement: {_pct(e['share'])} of supplier emissions ({e['covered_t']:,.1f} of "
                  f"{e['emissions_t']:,.1f} tCO2e) with {'/'.join(e['counts'])} science-based targets; target "
                  f"{_pct(e['target_share'])} by {e['target_year']}", highlight=False)
    table = Table(title="trend")
    for c in ("period", "suppliers", "passing", "by count", "by spend"):
        table.add_column(c)
    for t in rep["trend"]:
        table.add_row(t["period"], str(t["suppliers"]), str(t["passing"]), _pct(t["share_by_count"]),
                      _pct(t["share_by_spend"]))
    console.print(table)


@campaign_app.command("create")
def campaign_create(org: OrgOpt, name: Annotated[str, typer.Option("--name")],
                    due: Annotated[str, typer.Option("--due", help="due date YYYY-MM-DD")],
                    indicator: Annotated[Optional[list[str]], typer.Option("--indicator", help="repeatable; default "
                                                                                                "all")] = None,
                    supplier: Annotated[Optional[list[str]], typer.Option("--supplier", help="repeatable; default "
                                                                                              "all")] = None,
                    db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Request data from suppliers: indicators, due date, suppliers."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    due_date = _as_of(due)
    out = suppliers.create_campaign(open_db(db), org, name, indicator or [], due_date, supplier or None,
                                    actor=actor(actor_name))
    if as_json:
        emit_json(out)
        return
    console.print(f"campaign {out['id']} '{escape(out['name'])}': {len(out['suppliers'])} supplier(s), due "
                  f"{out['due']}", highlight=False)


@campaign_app.command("list")
def campaign_list(org: OrgOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Campaigns and the state of each supplier's request (overdue ones marked)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    rows = suppliers.list_campaigns(open_db(db), org, suppliers.Viewer("cli"))
    if as_json:
        emit_json(rows)
        return
    for c in rows:
        states = {}
        for r in c["requests"]:
            states[r["status"]] = states.get(r["status"], 0) + 1
        overdue = sum(r["overdue"] for r in c["requests"])
        console.print(f"{c['id']} {escape(c['name'])} due {c['due']}: "
                      + ", ".join(f"{n} {s}" for s, n in sorted(states.items())) + f"; {overdue} overdue",
                      highlight=False)


@campaign_app.command("remind")
def campaign_remind(org: OrgOpt, campaign: Annotated[Optional[int], typer.Option("--campaign")] = None,
                    db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """List the overdue suppliers and record a reminder to each. No e-mail is sent (there is no mail server):
    write to the contacts listed."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    rows = suppliers.remind(open_db(db), org, campaign, actor=actor(actor_name))
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        console.print(f"{escape(r['supplier'])} {escape(r['name'])} <{escape(r['contact'])}>: '{escape(r['campaign'])}' "
                      f"due {r['due']}, reminder {r['reminders']}", highlight=False)
    console.print(f"{len(rows)} reminder(s) recorded; no e-mail was sent", highlight=False)


@app.command("submit")
def submit(file: Path, org: OrgOpt,
           supplier: Annotated[str, typer.Option("--supplier", help="code of the supplier whose answers these are")],
           evidence: EvidenceOpt = None,
           request: Annotated[Optional[int], typer.Option("--request", help="id of the data request answered (see "
                                                                            "`supply show CODE`); default: the "
                                                                            "supplier's open request due last")] = None,
           db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Submit a supplier's answers file (indicator, value, unit, evidence_ref, evidence_file, valid_until) with its
    evidence files; checked row by row, stored whole or not at all. It answers the request named, or else the
    supplier's open request due last."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    name, data = read_file(file)
    out = suppliers.submit(open_db(db), org, supplier, name, data, _evidence(evidence), request_id=request,
                           actor=actor(actor_name))
    if as_json:
        emit_json(out)
        return
    answered = f" for request {out['request_id']}" if out["request_id"] is not None else " (no open request)"
    console.print(f"submission {out['id']} of {escape(supplier)}{answered}: {len(out['answers'])} answer(s), waiting "
                  "for review", highlight=False)


@app.command("submissions")
def submissions(org: OrgOpt, status: Annotated[Optional[str], typer.Option(help="submitted | accepted | "
                                                                                 "returned")] = None,
                db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Submissions, newest first."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    rows = suppliers.list_submissions(open_db(db), org, suppliers.Viewer("cli"), status)
    if as_json:
        emit_json(rows)
        return
    for s in rows:
        console.print(f"{s['id']} {escape(s['supplier'])} {escape(s['source'])}: {s['status']}"
                      + (f" — {escape(s['review_comment'])}" if s["review_comment"] else ""), highlight=False)


@app.command("review")
def review(submission: int, org: OrgOpt,
           accept: Annotated[bool, typer.Option("--accept/--return", help="accept, or return with --comment")],
           comment: Annotated[Optional[str], typer.Option("--comment")] = None,
           db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Accept a submission (it then feeds the scorecard) or return it with a comment for the supplier."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    out = suppliers.review(open_db(db), org, submission, accept, comment, actor=actor(actor_name))
    console.print(f"submission {out['id']} of {escape(out['supplier'])}: {out['status']}", highlight=False)


@app.command("link-user")
def link_user(email: str, org: OrgOpt,
              supplier: Annotated[Optional[str], typer.Option("--supplier", help="supplier code; omit to untie")] = None,
              db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Tie a member with the supplier role to one supplier: they then see and submit only its data."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    out = suppliers.link_user(open_db(db), org, email, supplier, actor=actor(actor_name))
    console.print(f"{out['email']} in {org}: " + (f"speaks for supplier {escape(supplier)}" if supplier
                                                  else "tied to no supplier"), highlight=False)


@reductions_app.command("submit")
def reductions_submit(file: Path, org: OrgOpt, supplier: Annotated[str, typer.Option("--supplier")],
                      evidence: EvidenceOpt = None, db: DbOpt = None, actor_name: ActorOpt = None,
                      as_json: JsonOpt = False) -> None:
    """Submit a supplier's reduction projects (project_id, description, type, start_year, annual_reduction_t,
    baseline_t, evidence_ref, evidence_file); a project or evidence claimed before is refused."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    name, data = read_file(file)
    rows = suppliers.submit_projects(open_db(db), org, supplier, name, data, _evidence(evidence),
                                     actor=actor(actor_name))
    if as_json:
        emit_json(rows)
        return
    console.print(f"{len(rows)} project(s) of {supplier} waiting for review", highlight=False)


@reductions_app.command("review")
def reductions_review(project: int, org: OrgOpt,
                      accept: Annotated[bool, typer.Option("--accept/--return")],
                      comment: Annotated[Optional[str], typer.Option("--comment")] = None,
                      db: DbOpt = None, actor_name: ActorOpt = None) -> None:
    """Accept a reduction project (it then counts towards the goal) or return it with a comment."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    out = suppliers.review_project(open_db(db), org, project, accept, comment, actor=actor(actor_name))
    console.print(f"project {escape(out['project_id'])}: {out['status']}", highlight=False)


@reductions_app.command("progress")
def reductions_progress(org: OrgOpt, until: Annotated[Optional[int], typer.Option("--until", help="last programme "
                                                                                  "year shown")] = None,
                        as_of: AsOfOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Projects and cumulative accepted reductions per year against the programme goal; years after the evaluation
    date are a projection, never counted as achieved."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import suppliers

    out = suppliers.programme(open_db(db), org, suppliers.Viewer("cli"), until, _as_of(as_of))
    if as_json:
        emit_json(out)
        return
    p = out["progress"]
    table = Table(title=f"goal {p['goal_t']:,.0f} tCO2e cumulative, {p['start_year']}-{p['end_year']}")
    for c in ("year", "accepted tCO2e/a", "cumulative tCO2e", "progress", "under review (cumulative)"):
        table.add_column(c)
    for y in p["years"]:
        table.add_row(f"{y['year']} (projection)" if y["projected"] else str(y["year"]), f"{y['annual_t']:,.0f}",
                      f"{y['cumulative_t']:,.0f}", _pct(y["progress"]), f"{y['pipeline_cumulative_t']:,.0f}")
    console.print(table)
    if p["achieved_year"] is not None:
        console.print(f"Achieved to {p['achieved_year']} (as of {p['as_of']}): {p['achieved_t']:,.0f} tCO2e, "
                      f"progress {_pct(p['progress'])}", highlight=False)
    else:
        console.print(f"Achieved (as of {p['as_of']}): none yet, the programme starts in {p['start_year']}",
                      highlight=False)
    if p["years"] and p["years"][-1]["projected"]:
        console.print(f"Projection to {p['end_year']} (accepted projects, not achieved): {p['projected_t']:,.0f} "
                      f"tCO2e, {_pct(p['projected_progress'])} of the goal", highlight=False)
    for r in out["projects"]:
        console.print(f"{r['id']} {escape(r['project_id'])} ({escape(r['supplier'])}, {r['type']}, from "
                      f"{r['start_year']}): {r['annual_reduction_t']:,.0f} tCO2e/a — {r['status']}", highlight=False)
