"""`zerocarbon org|import|inventory|baseyear|schema`: GHG accounting on the user's own files."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import (DbOpt, JsonOpt, Method, OrgOpt, Scope, SetOpt, YearOpt, console, emit_json,
                                   group, tonnes)
from zerocarbon.core.ghg.base_year import ChangeKind
from zerocarbon.core.model import Boundary
from zerocarbon.io.schemas import SCHEMAS

org_app = group("Organisations and sites.")
inventory_app = group("Compute, close and explain inventories.")
baseyear_app = group("Base-year recalculation (GHG Protocol Corporate Standard ch.5).")

ActivityKind = __import__("enum").Enum("ActivityKind", {k: k for k in SCHEMAS}, type=str)
BoundaryOpt = Annotated[Boundary, typer.Option(help="consolidation approach")]


def print_totals(result, title: str) -> None:
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
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)
    for e in result.exclusions:
        console.print(f"[cyan]exclusion:[/] {e}", highlight=False)


@org_app.command("load")
def org_load(path: Path, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Load or update an organisation from its YAML file (format: docs/organisation.md)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import accounting

    org = accounting.load_organisation_file(open_db(db), path)
    if as_json:
        emit_json({"organisation": org.code, "name": org.name, "sites": [s.code for s in org.sites]})
        return
    console.print(f"organisation {org.code}: {len(org.sites)} site(s)")


def import_cmd(kind: Annotated[ActivityKind, typer.Argument(help="activity kind")], path: Path, org: OrgOpt,
               year: YearOpt, factors: SetOpt = "CN-2025.1", db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Import one CSV/XLSX activity file. All rows or none."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import accounting

    rep = accounting.import_file(open_db(db), org, kind.value, path, year, factors)
    if as_json:
        emit_json(rep.__dict__)
        return
    console.print(f"imported {rep.rows} {rep.kind} row(s) from {rep.source} as batch {rep.batch_id}")


@inventory_app.command("compute")
def inventory_compute(org: OrgOpt, year: YearOpt, factors: SetOpt = "CN-2025.1",
                      gwp: Annotated[str, typer.Option("--gwp", help="AR4 | AR5 | AR6 ...")] = "AR5",
                      boundary: BoundaryOpt = Boundary.OPERATIONAL_CONTROL,
                      recalculate: Annotated[Optional[str], typer.Option(help="reason, to recalculate a closed year")] = None,
                      db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Compute and store the inventory of a year."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import accounting

    result = accounting.compute(open_db(db), org, year, factors, gwp, boundary, recalculate)
    if as_json:
        emit_json({"organisation": org, "year": year, "factor_set": factors, "gwp_set": gwp,
                   "boundary": boundary.value, "totals": result.totals(), "warnings": result.warnings,
                   "exclusions": result.exclusions})
        return
    print_totals(result, f"{org} {year} ({factors}, {gwp}, {boundary.value})")


@inventory_app.command("close")
def inventory_close(org: OrgOpt, year: YearOpt, boundary: BoundaryOpt = Boundary.OPERATIONAL_CONTROL,
                    db: DbOpt = None) -> None:
    """Close a year: later computations that would change it need a recorded recalculation."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import accounting

    accounting.close_inventory(open_db(db), org, year, boundary)
    console.print(f"inventory {org} {year} closed")


@inventory_app.command("show")
def inventory_show(org: OrgOpt, year: YearOpt, db: DbOpt = None,
                   explain: Annotated[bool, typer.Option("--explain", help="print the trail of each number")] = False,
                   site: Annotated[Optional[str], typer.Option(help="only this site")] = None,
                   scope: Annotated[Optional[Scope], typer.Option(help="only this scope")] = None,
                   category: Annotated[Optional[str], typer.Option(help="only this category")] = None,
                   method: Annotated[Method, typer.Option(help="Scope 2 method")] = Method.location,
                   limit: Annotated[int, typer.Option(help="rows of trail to print", min=0)] = 30,
                   boundary: BoundaryOpt = Boundary.OPERATIONAL_CONTROL, as_json: JsonOpt = False) -> None:
    """Totals of a stored inventory; with --explain, the lineage behind a number."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import accounting

    meta, ledger = accounting.stored_ledger(open_db(db), org, year, boundary)
    trail = None
    if explain:
        led = ledger[ledger["method"].isin(["both", method.value])]
        for col, val in (("site", site), ("scope", scope.value if scope else None), ("category", category)):
            if val:
                led = led[led[col] == val]
        trail = led.sort_values("co2e_t", ascending=False)
        total = float(trail.loc[trail["memo"] == "", "co2e_t"].sum())
    if as_json:
        out = dict(meta)
        if trail is not None:
            out["explain"] = {"filter": {"site": site, "scope": scope.value if scope else None,
                                         "category": category, "method": method.value},
                              "total_co2e_t": total, "rows": trail.head(limit).to_dict(orient="records"),
                              "rows_total": len(trail)}
        emit_json(out)
        return
    console.print(f"[bold]{org} {year}[/] status {meta['status']}, factor set {meta['factor_set']} "
                  f"({meta['fingerprint'][:12]}), GWP {meta['gwp_set']}")
    for k, v in meta["totals"].items():
        console.print(f"  {k}: {v:,.3f}")
    if trail is None:
        return
    console.print(f"\n[bold]{total:,.3f} tCO2e[/] = sum of {len(trail)} ledger rows "
                  f"(site={site or '*'}, scope={scope.value if scope else '*'}, category={category or '*'}, "
                  f"method={method.value})")
    for r in trail.head(limit).itertuples():
        memo = f" [dim]({r.memo}, outside totals)[/]" if r.memo else ""
        console.print(f"[bold]{r.activity_id}[/] {r.gas} {r.gas_kg:,.3f} kg x GWP {r.gwp:g} x share {r.inclusion:g}"
                      f" = [bold]{r.co2e_t:,.4f} t[/]{memo}", highlight=False)
        console.print(f"    factors: {r.factor_ids.replace(';', ', ')}; GWP {r.gwp_factor_id}", highlight=False)
        console.print(f"    formula: {r.formula}", highlight=False)
    if len(trail) > limit:
        console.print(f"... {len(trail) - limit} more rows (--limit)")


@baseyear_app.command("record")
def baseyear_record(org: OrgOpt, base_year: Annotated[int, typer.Option("--base-year")],
                    kind: Annotated[ChangeKind, typer.Option()], delta_t: Annotated[float, typer.Option("--delta-t")],
                    reason: Annotated[str, typer.Option()], db: DbOpt = None) -> None:
    """Record a structural/method/error change to base-year emissions [tCO2e, signed]."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import accounting

    accounting.record_base_year_change(open_db(db), org, base_year, kind, delta_t, reason)
    console.print("recorded")


@baseyear_app.command("assess")
def baseyear_assess(org: OrgOpt, base_year: Annotated[int, typer.Option("--base-year")],
                    threshold: Annotated[float, typer.Option(help="significance threshold, fraction", min=0, max=1)] = 0.05,
                    db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Does the base year need recalculating? (GHG Protocol Corporate Standard ch.5)"""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import accounting

    d = accounting.assess_base_year(open_db(db), org, base_year, threshold)
    if as_json:
        emit_json(d.__dict__)
        return
    console.print(f"cumulative change {d.cumulative_change_t:,.1f} t = {d.relative_change:.2%} of the base year "
                  f"(threshold {d.threshold:.0%}): " + ("[bold red]recalculate[/]" if d.recalculate else "no recalculation"))
    for r in d.reasons:
        console.print(f"  - {r}")


def schema() -> None:
    """Print the activity file formats as Markdown (docs/data-formats.md)."""
    from zerocarbon.io.schemas import schema_markdown

    sys.stdout.write(schema_markdown())
