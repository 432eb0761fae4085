"""`zerocarbon calc` and `zerocarbon factors ...`: the emission-factor library."""
from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import (ActorOpt, DbOpt, JsonOpt, SetOpt, StoredOpt, actor, console, emit_json, group,
                                   open_db, stored_sets_db)

app = group("The emission-factor library.")

SetOrgOpt = Annotated[Optional[str], typer.Option(
    "--org", help="organisation whose stored sets are meant (default: the database's only organisation)")]


def calc_cmd(value: float, unit: str, subject: str,
             factors: SetOpt = "CN-2025.1", gwp: Annotated[str, typer.Option("--gwp", help="AR4 | AR5 | AR6 ...")] = "AR5",
             use: Annotated[str, typer.Option(help="stationary | mobile | nonroad.<equipment category>")] = "stationary",
             basis: Annotated[str, typer.Option(help="NCV/LHV or GCV/HHV for energy quantities")] = "",
             db: StoredOpt = None, org: SetOrgOpt = None, as_json: JsonOpt = False) -> None:
    """Quick check: `zerocarbon calc 5 GJ natural_gas --factors EPA-2025.1 --basis GCV --gwp AR5 --json`."""
    from zerocarbon.services.factor_sets import calc

    r = calc(stored_sets_db(db), factors, value, unit, subject, gwp, use, basis, org=org)
    if as_json:
        emit_json(r.as_dict())
        return
    table = Table(title=f"{value} {unit} {subject} — set {factors}, GWP {gwp}")
    for c in ("gas", "mass kg", "GWP", "kgCO2e", "factors"):
        table.add_column(c)
    for x in r.lines:
        table.add_row(x.gas, f"{x.mass_kg:.6g}", f"{x.gwp:g}", f"{x.co2e_kg:.6g}", ", ".join(x.factor_ids))
    console.print(table)
    console.print(f"total {r.total_co2e_kg:.6g} kgCO2e" + (f"; not estimated: {', '.join(r.omitted)}" if r.omitted else ""))


@app.command("list")
def factors_list(factor_set: Annotated[Optional[str], typer.Option("--set", help="only this factor set")] = None,
                 kind: Annotated[Optional[str], typer.Option(help="grid_electricity, combustion, gwp, ...")] = None,
                 search: Annotated[Optional[str], typer.Option(help="substring of the factor id")] = None,
                 db: StoredOpt = None, org: SetOrgOpt = None, as_json: JsonOpt = False) -> None:
    """List factors (all shipped files, or one factor set)."""
    from zerocarbon.services.factor_sets import list_factors, shipped_set_names

    rows = list_factors(stored_sets_db(db) if factor_set else None, factor_set, kind, search, org=org)
    if as_json:
        emit_json([f.__dict__ for f in rows])
        return
    if factor_set is None:
        console.print("factor sets: " + ", ".join(shipped_set_names()))
    table = Table()
    for c in ("factor_id", "value", "unit", "basis", "gas", "confidence"):
        table.add_column(c, overflow="fold")
    for f in rows:
        table.add_row(f.factor_id, f"{f.value:g}", f.unit, f.basis, f.gas, f.confidence)
    console.print(table)


@app.command("show")
def factors_show(factor_id: str, as_json: JsonOpt = False) -> None:
    """Everything known about one factor, provenance included."""
    from zerocarbon.services.factor_sets import factor

    found = factor(factor_id)
    if as_json:
        emit_json(found.__dict__)
        return
    for k, v in found.__dict__.items():
        console.print(f"[bold]{k}[/]: {v}", highlight=False)


@app.command("sets")
def factors_sets(db: StoredOpt = None, org: SetOrgOpt = None,
                 unowned: Annotated[bool, typer.Option(
                     "--unowned", help="list the stored sets no organisation sees yet (see `factors assign`)")] = False,
                 as_json: JsonOpt = False) -> None:
    """Factor sets with their fingerprints: shipped ones, and with --db the organisation's own stored ones."""
    from zerocarbon.services.factor_sets import list_sets, unowned_sets

    where = stored_sets_db(db)
    if unowned:
        sets = unowned_sets(where) if where is not None else []
    else:
        sets = list_sets(where, org)
    if as_json:
        emit_json([s.as_dict() for s in sets])
        return
    for s in sets:
        owner = f" ({s.organisation})" if s.organisation else ""
        console.print(f"[bold]{s.name}[/] {s.fingerprint[:16]}  {s.origin}{owner}  {s.title}  ({s.factors} factors)",
                      highlight=False)
    if not unowned and where is not None and unowned_sets(where):
        console.print("some stored sets have no organisation and are used by none: "
                      "`zerocarbon factors sets --unowned`, then `zerocarbon factors assign NAME --org ORG`",
                      highlight=False)


@app.command("import")
def factors_import(file: Annotated[str, typer.Argument(help="factor CSV in the shipped schema (docs/factors.md)")],
                   name: Annotated[str, typer.Option("--name", help="name of the new set: letters, digits, . _ -")],
                   rules: Annotated[Optional[str], typer.Option(
                       "--rules", help="the set's rules (YAML); default: the .yaml file beside FILE")] = None,
                   org: SetOrgOpt = None, db: DbOpt = None, actor_name: ActorOpt = None,
                   as_json: JsonOpt = False) -> None:
    """Validate your own factor file and store it as a factor set of one organisation, usable as `--factors NAME`."""
    from zerocarbon.services.factor_sets import import_set

    info = import_set(open_db(db, create=True), file, name, rules, org=org, actor=actor(actor_name))
    if as_json:
        emit_json(info.as_dict())
        return
    console.print(f"stored factor set [bold]{info.name}[/] of {info.organisation} ({info.factors} factors from "
                  f"{info.files[0]}), fingerprint {info.fingerprint}", highlight=False)


@app.command("assign")
def factors_assign(name: Annotated[str, typer.Argument(help="a stored set without organisation (`factors sets --unowned`)")],
                   org: Annotated[str, typer.Option("--org", help="the organisation that owns it from now on")],
                   db: DbOpt = None, actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Give a stored set that has no organisation (stored before sets had owners) to one organisation."""
    from zerocarbon.services.factor_sets import assign

    info = assign(open_db(db), name, org, actor=actor(actor_name))
    if as_json:
        emit_json(info.as_dict())
        return
    console.print(f"factor set [bold]{info.name}[/] now belongs to {info.organisation}", highlight=False)
