"""`zerocarbon org|import|inventory|baseyear|schema`: GHG accounting on the user's own files."""
from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import (ActorOpt, DbOpt, Engine, JsonOpt, MasterOpt, Method, OrgOpt, SetOpt, YearOpt, actor, console,
                                   emit_json, err, group, tonnes)
from zerocarbon.core.ghg.base_year import ChangeKind
from zerocarbon.core.model import Boundary
from zerocarbon.services.formats import ACTIVITY_KINDS

org_app = group("Organisations and sites.")
inventory_app = group("Compute, close and explain inventories.")
baseyear_app = group("Base-year recalculation (GHG Protocol Corporate Standard ch.5).")

ActivityKind = Enum("ActivityKind", {k: k for k in ACTIVITY_KINDS}, type=str)
BoundaryOpt = Annotated[Boundary, typer.Option(help="consolidation approach")]
# Scopes of a stored inventory's ledger: 1 and 2 (Corporate Standard) and 3 (Scope 3 Standard, reported beside them).
LedgerScope = Enum("LedgerScope", {"one": "1", "two": "2", "three": "3"}, type=str)


def print_totals(result, title: str, scope3_hint: str = "") -> None:
    """The inventory's totals by site; with ``scope3_hint`` (the command that shows it) the Scope 3 total too."""
    t = result.totals()
    table = Table(title=title)
    for c, right in (("site", False), ("Scope 1 t", True), ("Scope 2 loc t", True), ("Scope 2 mkt t", True),
                     ("RE share", True)):
        table.add_column(c, justify="right" if right else "left")
    loc = result.by("site", "scope")
    mkt = result.by("site", "scope", method="market")
    share = dict(zip(result.renewable["site"], result.renewable["renewable_share"]))

    def pick(df, site, scope):
        return float(df[(df["site"] == site) & (df["scope"] == scope)]["co2e_t"].sum())

    for site in sorted(set(loc["site"])):
        table.add_row(site, tonnes(pick(loc, site, "1")), tonnes(pick(loc, site, "2")), tonnes(pick(mkt, site, "2")),
                      f"{share.get(site, 0):.1%}")
    table.add_row("[bold]total", tonnes(t["scope1_t"]), tonnes(t["scope2_location_t"]),
                  tonnes(t["scope2_market_t"]), f"{t['renewable_share']:.1%}")
    console.print(table)
    console.print(f"Total location-based [bold]{tonnes(t['total_location_t'])}[/] tCO2e, market-based "
                  f"[bold]{tonnes(t['total_market_t'])}[/] tCO2e; biogenic CO2 {tonnes(t['biogenic_co2_t'])} t "
                  f"(outside scopes); HCFC memo {tonnes(t['non_kyoto_memo_t'])} tCO2e")
    if scope3_hint and len(result.ledger) and (result.ledger["scope"] == "3").any():
        console.print(f"Scope 3 (beside Scope 1+2, not in them): [bold]{tonnes(t['scope3_t'])}[/] tCO2e; by category "
                      f"with method and data quality: `{scope3_hint}`", highlight=False)
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)
    for e in result.exclusions:
        console.print(f"[cyan]exclusion:[/] {e}", highlight=False)


@org_app.command("load")
def org_load(path: Path, db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Load or update an organisation from its YAML file (format: docs/organisation.md)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import accounting

    org = accounting.load_organisation_file(open_db(db, create=True), path, actor=actor(actor_name))
    if as_json:
        emit_json({"organisation": org.code, "name": org.name, "sites": [s.code for s in org.sites]})
        return
    console.print(f"organisation {org.code}: {len(org.sites)} site(s)")


import_app = group("Import activity files as batches; list, show, replace or withdraw them.")

SheetOpt = Annotated[Optional[str], typer.Option(
    "--sheet", help="XLSX sheet to read; needed when the workbook has more than one sheet with data")]


def _stored(db: str | None):
    """Sessions on an existing database: every command but `org load` works on what that command stored, so a
    mistyped --db is an error instead of a new empty database."""
    from zerocarbon.services.database import open_sessions

    return open_sessions(db, create=False)


def _with_progress(label: str, as_json: bool, run):
    """Run ``run(progress)`` with a progress bar fed by the service's (done, total) callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=as_json or not err.is_terminal) as progress:
        task = progress.add_task(label, total=None)
        return run(lambda done, total: progress.update(task, completed=done, total=total))


def _print_warnings(warnings: list[str]) -> None:
    from zerocarbon.cli.common import escape

    for w in warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)


def _import_kind(kind: str):
    def command(path: Annotated[Path, typer.Argument(help="CSV or XLSX file")], org: OrgOpt, year: YearOpt,
                factors: SetOpt = "CN-2025.1", sheet: SheetOpt = None, actor_name: ActorOpt = None, db: DbOpt = None,
                as_json: JsonOpt = False) -> None:
        from zerocarbon.services import accounting

        sessions = _stored(db)
        rep = _with_progress(f"storing {path.name}", as_json, lambda progress: accounting.import_file(
            sessions, org, kind, path, year, factors, actor=actor(actor_name), sheet=sheet, progress=progress))
        if as_json:
            emit_json(rep.__dict__)
            return
        console.print(f"imported {rep.rows} {rep.kind} row(s) from {rep.path} as batch {rep.batch_id}",
                      highlight=False)
        _print_warnings(rep.warnings)

    command.__doc__ = (f"Import one CSV/XLSX file of {kind} activity data as a new batch. All rows or none; "
                       "rows that repeat an active record are refused.")
    return command


for _kind in ACTIVITY_KINDS:
    import_app.command(_kind)(_import_kind(_kind))


def _batch_dict(b) -> dict:
    return dict(b.__dict__)


def _batch_table(batches, title: str) -> Table:
    table = Table(title=title)
    for c in ("batch", "kind", "year", "rows", "status", "file", "sha256", "imported", "by", "note"):
        table.add_column(c, justify="right" if c in ("batch", "rows", "year") else "left")
    for b in batches:
        note = (f"replaced by {b.superseded_by}" if b.superseded_by else
                f"{b.status}: {b.status_reason}" if b.status in ("withdrawn", "rejected") else
                f"waiting for approval, would replace {b.replaces}" if b.status == "pending" and b.replaces else
                "waiting for approval" if b.status == "pending" else
                f"replaces {b.replaces}" if b.replaces else "")
        table.add_row(str(b.id), b.kind, str(b.year), f"{b.rows:,}", b.status, b.path, b.sha256[:12],
                      f"{b.imported_at:%Y-%m-%d %H:%M}", b.imported_by, note)
    return table


class BatchStatus(str, Enum):
    active = "active"
    pending = "pending"
    superseded = "superseded"
    withdrawn = "withdrawn"
    rejected = "rejected"


@import_app.command("list")
def import_list(org: OrgOpt, year: Annotated[Optional[int], typer.Option("--year", help="only this year")] = None,
                kind: Annotated[Optional[ActivityKind], typer.Option("--kind", help="only this kind")] = None,
                status: Annotated[Optional[BatchStatus], typer.Option("--status", help="only this status")] = None,
                db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List the imported batches (every version, active or not)."""
    from zerocarbon.services import accounting

    batches = accounting.list_batches(_stored(db), org, year, kind.value if kind else None,
                                      status.value if status else None)
    if as_json:
        emit_json([_batch_dict(b) for b in batches])
        return
    console.print(_batch_table(batches, f"{org} batches"))


@import_app.command("show")
def import_show(batch: Annotated[int, typer.Argument(help="batch id (`zerocarbon import list`)")], org: OrgOpt,
                db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """One batch: its file, checksum and status, the versions it replaced or was replaced by, its audit trail."""
    from zerocarbon.services import accounting

    d = accounting.show_batch(_stored(db), org, batch)
    if as_json:
        emit_json({"batch": _batch_dict(d.batch), "versions": [_batch_dict(b) for b in d.versions],
                   "audit": [a.__dict__ for a in d.audit]})
        return
    b = d.batch
    console.print(f"[bold]batch {b.id}[/] {b.kind} {b.year}: {b.rows:,} row(s), [bold]{b.status}[/]", highlight=False)
    console.print(f"  file {b.path}\n  sha256 {b.sha256}\n  imported {b.imported_at:%Y-%m-%d %H:%M:%S} UTC by "
                  f"{b.imported_by}", highlight=False)
    if b.status == "pending":
        console.print(f"  waiting for approval (`zerocarbon import approve {b.id}` or `zerocarbon import reject "
                      f"{b.id} --reason ...`)" + (f"; replaces batch {b.replaces}" if b.replaces else "")
                      + (f": {b.status_reason}" if b.status_reason else ""), highlight=False)
    elif b.status != "active" or b.status_changed_at is not None:
        console.print(f"  {b.status} {b.status_changed_at:%Y-%m-%d %H:%M:%S} UTC by {b.status_changed_by}"
                      + (f": {b.status_reason}" if b.status_reason else ""), highlight=False)
    if len(d.versions) > 1:
        console.print(_batch_table(d.versions, "versions"))
    for a in d.audit:
        console.print(f"  {a.at:%Y-%m-%d %H:%M:%S} {a.actor} {a.action} {a.entity} "
                      + ", ".join(f"{k}={v}" for k, v in a.detail.items() if v is not None), highlight=False,
                      markup=False)


@import_app.command("replace")
def import_replace(batch: Annotated[int, typer.Argument(help="active batch to replace")],
                   path: Annotated[Path, typer.Argument(help="corrected CSV or XLSX file")], org: OrgOpt,
                   reason: Annotated[Optional[str], typer.Option("--reason", help="why the file is replaced")] = None,
                   factors: Annotated[Optional[str], typer.Option(
                       "--factors", help="factor set to validate against (default: the set the replaced batch was "
                                         "imported with)")] = None,
                   sheet: SheetOpt = None, actor_name: ActorOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Replace a batch by a corrected file in one step; the old version is kept, marked superseded."""
    from zerocarbon.services import accounting

    sessions = _stored(db)
    rep = _with_progress(f"storing {path.name}", as_json, lambda progress: accounting.replace_batch(
        sessions, org, batch, path, factors, actor=actor(actor_name), reason=reason, sheet=sheet, progress=progress))
    if as_json:
        emit_json(rep.__dict__)
        return
    console.print(f"batch {batch} replaced by batch {rep.batch_id}: {rep.rows} {rep.kind} row(s) from {rep.path}; "
                  "recompute the inventory to use it", highlight=False)
    _print_warnings(rep.warnings)


@import_app.command("undo")
def import_undo(batch: Annotated[int, typer.Argument(help="active batch to withdraw")], org: OrgOpt,
                reason: Annotated[str, typer.Option("--reason", help="why the batch is withdrawn")],
                actor_name: ActorOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Withdraw a batch: it is kept, marked withdrawn with the reason, and no longer used by inventories."""
    from zerocarbon.services import accounting

    b = accounting.undo_batch(_stored(db), org, batch, reason, actor=actor(actor_name))
    if as_json:
        emit_json(_batch_dict(b))
        return
    console.print(f"batch {b.id} ({b.path}) withdrawn; recompute the inventory of {b.year} to drop its rows",
                  highlight=False)


@import_app.command("approve")
def import_approve(batch: Annotated[int, typer.Argument(help="batch waiting for approval")], org: OrgOpt,
                   actor_name: ActorOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Approve a batch waiting for approval: it becomes active (and the batch it replaces superseded)."""
    from zerocarbon.services import accounting

    b = accounting.approve_batch(_stored(db), org, batch, actor=actor(actor_name))
    if as_json:
        emit_json(_batch_dict(b))
        return
    console.print(f"batch {b.id} ({b.path}) approved" + (f", batch {b.replaces} superseded" if b.replaces else "")
                  + f"; recompute the inventory of {b.year} to use it", highlight=False)


@import_app.command("reject")
def import_reject(batch: Annotated[int, typer.Argument(help="batch waiting for approval")], org: OrgOpt,
                  reason: Annotated[str, typer.Option("--reason", help="why the batch is rejected")],
                  actor_name: ActorOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Reject a batch waiting for approval: it is kept, marked rejected with the reason, and never used."""
    from zerocarbon.services import accounting

    b = accounting.reject_batch(_stored(db), org, batch, reason, actor=actor(actor_name))
    if as_json:
        emit_json(_batch_dict(b))
        return
    console.print(f"batch {b.id} ({b.path}) rejected: {b.status_reason}", highlight=False, markup=False)


@inventory_app.command("compute")
def inventory_compute(org: OrgOpt, year: YearOpt, factors: SetOpt = "CN-2025.1",
                      gwp: Annotated[str, typer.Option("--gwp", help="AR4 | AR5 | AR6 ...")] = "AR5",
                      boundary: BoundaryOpt = Boundary.OPERATIONAL_CONTROL,
                      recalculate: Annotated[Optional[str], typer.Option(help="reason, to recalculate a closed year")] = None,
                      engine: Annotated[Optional[Engine], typer.Option(
                          "--engine", help="compute the combustion, grid-electricity and purchase (Scope 3 "
                                           "categories 1 and 2) rows on DuckDB or Apache Spark, from one SQL "
                                           "definition each (docs/spark.md); default: in this process")] = None,
                      spark_master: MasterOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Compute and store the inventory of a year."""
    from zerocarbon.services import accounting

    result = accounting.compute(_stored(db), org, year, factors, gwp, boundary, recalculate, actor=actor(),
                                engine=engine.value if engine else None, spark_master=spark_master)
    if as_json:
        emit_json({"organisation": org, "year": year, "factor_set": factors, "gwp_set": gwp,
                   "boundary": boundary.value, "totals": result.totals(), "warnings": result.warnings,
                   "exclusions": result.exclusions})
        return
    print_totals(result, f"{org} {year} ({factors}, {gwp}, {boundary.value})",
                 f"zerocarbon inventory scope3 --org {org} --year {year}")


@inventory_app.command("close")
def inventory_close(org: OrgOpt, year: YearOpt, boundary: BoundaryOpt = Boundary.OPERATIONAL_CONTROL,
                    db: DbOpt = None) -> None:
    """Close a year: later computations that would change it need a recorded recalculation."""
    from zerocarbon.services import accounting

    accounting.close_inventory(_stored(db), org, year, boundary, actor=actor())
    console.print(f"inventory {org} {year} closed")


@inventory_app.command("reopen")
def inventory_reopen(org: OrgOpt, year: YearOpt,
                     reason: Annotated[str, typer.Option("--reason", help="why the closed year is reopened")],
                     actor_name: ActorOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Reopen a closed year (recorded with the reason) so its batches can be replaced or withdrawn."""
    from zerocarbon.services import accounting

    boundaries = accounting.reopen_inventory(_stored(db), org, year, reason, actor=actor(actor_name))
    if as_json:
        emit_json({"organisation": org, "year": year, "reopened": boundaries, "reason": reason})
        return
    console.print(f"inventory {org} {year} reopened ({', '.join(boundaries)})")


@inventory_app.command("show")
def inventory_show(org: OrgOpt, year: YearOpt, db: DbOpt = None,
                   explain: Annotated[bool, typer.Option("--explain", help="print the trail of each number")] = False,
                   site: Annotated[Optional[str], typer.Option(help="only this site")] = None,
                   scope: Annotated[Optional[LedgerScope], typer.Option(help="only this scope (1, 2 or 3)")] = None,
                   category: Annotated[Optional[str], typer.Option(help="only this category")] = None,
                   method: Annotated[Method, typer.Option(help="Scope 2 method")] = Method.location,
                   limit: Annotated[int, typer.Option(help="rows of trail to print", min=0)] = 30,
                   boundary: BoundaryOpt = Boundary.OPERATIONAL_CONTROL, as_json: JsonOpt = False) -> None:
    """Totals of a stored inventory; with --explain, the lineage behind a number."""
    from zerocarbon.services import accounting

    sessions = _stored(db)
    meta = accounting.inventory_meta(sessions, org, year, boundary)
    trail = accounting.explain(sessions, org, year, boundary, site=site, scope=scope.value if scope else None,
                               category=category, method=method.value, limit=limit) if explain else None
    if as_json:
        out = dict(meta)
        if trail is not None:
            out["batches"] = {str(k): v for k, v in trail.batches.items()}
            out["explain"] = {"filter": trail.filter, "total_co2e_t": trail.total_co2e_t, "rows": trail.rows,
                              "rows_total": trail.rows_total}
        emit_json(out)
        return
    console.print(f"[bold]{org} {year}[/] status {meta['status']}, factor set {meta['factor_set']} "
                  f"({meta['fingerprint'][:12]}), GWP {meta['gwp_set']}")
    for k, v in meta["totals"].items():
        console.print(f"  {k}: {v:,.3f}")
    for code, lines in sorted(meta["report_lines"].items()):
        standard = "GB/T 32150" if meta["methodology"].get(code) == "gbt32150" else "GHG Protocol"
        console.print(f"[bold]{code}[/] report lines ({standard}), tCO2e:")
        for line, t in lines.items():
            console.print(f"  {line}: {t:,.3f}", highlight=False)
    if trail is None:
        return
    console.print(f"\n[bold]{trail.total_co2e_t:,.3f} tCO2e[/] = sum of {trail.rows_total} ledger rows "
                  f"(site={site or '*'}, scope={scope.value if scope else '*'}, category={category or '*'}, "
                  f"method={trail.filter['method']})")
    for r in trail.rows:
        memo = f" [dim]({r['memo']}, outside totals)[/]" if r["memo"] else ""
        scope3 = f" [dim]Scope 3 {r['calc_method']}, DQ {r['dq']:.1f}[/]" if r.get("dq") is not None else ""
        console.print(f"[bold]{r['activity_id']}[/] {r['gas']} {r['gas_kg']:,.3f} kg x GWP {r['gwp']:g} x share "
                      f"{r['inclusion']:g} = [bold]{r['co2e_t']:,.4f} t[/]{scope3}{memo}", highlight=False)
        b = trail.batches.get(r["batch_id"])
        if b is not None:
            status = "" if b["status"] == "active" else f", {b['status']}"
            console.print(f"    from batch {r['batch_id']}{status}: {b['path']} row {r['row']} "
                          f"(sha256 {b['sha256'][:12]})", highlight=False, markup=False)
        console.print(f"    factors: {r['factor_ids'].replace(';', ', ')}; GWP {r['gwp_factor_id']}", highlight=False)
        console.print(f"    formula: {r['formula']}", highlight=False)
    if trail.rows_total > limit:
        console.print(f"... {trail.rows_total - limit} more rows (--limit)")


def _t3(x: float) -> str:
    return f"{x:,.3f}"


@inventory_app.command("scope3")
def inventory_scope3(org: OrgOpt, year: YearOpt, db: DbOpt = None,
                     category: Annotated[Optional[str], typer.Option(
                         help="print the ledger rows behind this category (e.g. c1_purchased_goods)")] = None,
                     site: Annotated[Optional[str], typer.Option(help="with --category: only this site")] = None,
                     limit: Annotated[int, typer.Option(help="with --category: rows to print", min=0)] = 30,
                     offset: Annotated[int, typer.Option(help="with --category: rows to skip", min=0)] = 0,
                     method: Annotated[Method, typer.Option(
                         help="Scope 2 method under which Scope 3 rows depending on it are counted")] = Method.location,
                     boundary: BoundaryOpt = Boundary.OPERATIONAL_CONTROL, as_json: JsonOpt = False) -> None:
    """Scope 3 of a stored inventory by category (tCO2e, data quality, methods, status), beside Scope 1+2; with
    --category, the ledger rows behind one category and their lineage."""
    from dataclasses import asdict

    from zerocarbon.cli.common import escape
    from zerocarbon.services import scope3

    sessions = _stored(db)
    if category is not None:
        page = scope3.category_rows(sessions, org, year, category, boundary, site=site, limit=limit, offset=offset)
        if as_json:
            emit_json({"organisation": org, "year": year, "category": category, "total": page.total,
                       "co2e_t": page.co2e_t, "limit": limit, "offset": offset, "rows": page.rows,
                       "batches": {str(k): v for k, v in page.batches.items()}})
            return
        console.print(f"[bold]{org} {year} {category}[/]: {page.total} ledger rows, {_t3(page.co2e_t)} tCO2e "
                      "(memo items left out)", highlight=False)
        for r in page.rows:
            memo = f" ({r['memo']}, outside totals)" if r["memo"] else ""
            dq = "-" if r["dq"] is None else f"{r['dq']:.1f}"
            console.print(f"[bold]{r['activity_id']}[/] {r['site']} {r['calc_method'] or '-'} DQ {dq}: {r['gas']} "
                          f"{r['gas_kg']:,.3f} kg x GWP {r['gwp']:g} x share {r['inclusion']:g} = "
                          f"[bold]{r['co2e_t']:,.4f} t[/]{memo}", highlight=False)
            b = page.batches.get(r["batch_id"])
            if b is not None:
                console.print(f"    from batch {r['batch_id']}: {b['path']} (sha256 {b['sha256'][:12]})",
                              highlight=False, markup=False)
            console.print(f"    factors: {r['factor_ids'].replace(';', ', ')}", highlight=False, markup=False)
            console.print(f"    formula: {r['formula']}", highlight=False, markup=False)
        if page.total > offset + len(page.rows):
            console.print(f"... {page.total - offset - len(page.rows)} more rows (--offset, --limit)")
        return
    rep = scope3.report(sessions, org, year, boundary, scope2_method=method.value)
    if as_json:
        emit_json(asdict(rep))
        return

    def dq(fig) -> str:
        return "-" if fig is None or fig.dq is None else f"{fig.dq:.1f}"

    def methods(fig) -> str:
        if fig is None:
            return ""
        return ", ".join(f"{m} {_t3(t)}" for m, t in fig.methods.items())

    table = Table(title=f"{org} {year} Scope 3 ({rep.boundary}, factor set {rep.factor_set}, GWP {rep.gwp_set})")
    for c, right in (("category", False), ("tCO2e", True), ("share", True), ("DQ", True), ("methods (tCO2e)", False),
                     ("supplier data", True), ("status", False)):
        table.add_column(c, justify="right" if right else "left")
    for c in rep.categories:
        f = c.figure
        status = c.status if c.status != "not evaluated" else f"not evaluated: {c.reason}"
        if c.memo:
            status += "; memo " + ", ".join(f"{k} {_t3(v)}" for k, v in c.memo.items())
        table.add_row(f"{c.number} {c.category}", _t3(f.co2e_t) if f else "-" if c.status == "not evaluated" else "no data",
                      f"{c.share:.1%}" if c.share is not None else "", dq(f), methods(f),
                      f"{f.supplier_data_share:.0%}" if f and f.supplier_data_share is not None else "", status)
    total = rep.total
    table.add_row("[bold]Scope 3", _t3(total.co2e_t) if total else "no data", "", dq(total), methods(total),
                  f"{total.supplier_data_share:.0%}" if total and total.supplier_data_share is not None else "", "")
    console.print(table)
    s12 = rep.scope12
    console.print(f"Beside it (not included): Scope 1 {_t3(s12['scope1_t'])}, Scope 2 location-based "
                  f"{_t3(s12['scope2_location_t'])}, market-based {_t3(s12['scope2_market_t'])} tCO2e",
                  highlight=False)
    if rep.suppliers:
        st = Table(title="Purchases (categories 1 and 2) by supplier")
        for c, right in (("supplier", False), ("tCO2e", True), ("DQ", True), ("methods (tCO2e)", False)):
            st.add_column(c, justify="right" if right else "left")
        for sf in rep.suppliers:
            st.add_row(sf.supplier or "(none named)", _t3(sf.figure.co2e_t), dq(sf.figure), methods(sf.figure))
        console.print(st)
    for k, v in rep.memo.items():
        console.print(f"[cyan]memo (outside every total):[/] {k} {_t3(v)} tCO2e", highlight=False)
    for e in rep.exclusions:
        console.print(f"[cyan]exclusion:[/] {escape(e)}", highlight=False)


@baseyear_app.command("record")
def baseyear_record(org: OrgOpt, base_year: Annotated[int, typer.Option("--base-year")],
                    kind: Annotated[ChangeKind, typer.Option()], delta_t: Annotated[float, typer.Option("--delta-t")],
                    reason: Annotated[str, typer.Option()], db: DbOpt = None) -> None:
    """Record a structural/method/error change to base-year emissions [tCO2e, signed]."""
    from zerocarbon.services import accounting

    accounting.record_base_year_change(_stored(db), org, base_year, kind, delta_t, reason, actor=actor())
    console.print("recorded")


@baseyear_app.command("assess")
def baseyear_assess(org: OrgOpt, base_year: Annotated[int, typer.Option("--base-year")],
                    threshold: Annotated[float, typer.Option(help="significance threshold, fraction", min=0, max=1)] = 0.05,
                    db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Does the base year need recalculating? (GHG Protocol Corporate Standard ch.5)"""
    from zerocarbon.services import accounting

    d = accounting.assess_base_year(_stored(db), org, base_year, threshold)
    if as_json:
        emit_json(d.__dict__)
        return
    console.print(f"cumulative change {d.cumulative_change_t:,.1f} t = {d.relative_change:.2%} of the base year "
                  f"(threshold {d.threshold:.0%}): " + ("[bold red]recalculate[/]" if d.recalculate else "no recalculation"))
    for r in d.reasons:
        console.print(f"  - {r}")


def schema(json_schema: Annotated[Optional[str], typer.Option(
        "--json-schema", metavar="KIND", help="print the JSON Schema of one row of KIND (" + ", ".join(ACTIVITY_KINDS)
        + ") instead, as in docs/schemas/KIND.schema.json")] = None) -> None:
    """Print the activity file formats as Markdown (docs/data-formats.md), or one kind's row as JSON Schema."""
    from zerocarbon.services import formats

    if json_schema is None:
        sys.stdout.write(formats.schema_markdown())
    else:
        sys.stdout.write(formats.schema_json_text(json_schema))
