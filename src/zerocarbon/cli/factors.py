"""`zerocarbon calc` and `zerocarbon factors ...`: the emission-factor library."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import JsonOpt, SetOpt, console, emit_json, group

app = group("The emission-factor library.")


class FuelUse(str, Enum):
    stationary = "stationary"
    mobile = "mobile"


def calc_cmd(value: float, unit: str, subject: str,
             factors: SetOpt = "CN-2025.1", gwp: Annotated[str, typer.Option("--gwp", help="AR4 | AR5 | AR6 ...")] = "AR5",
             use: Annotated[FuelUse, typer.Option(help="combustion use")] = FuelUse.stationary,
             basis: Annotated[str, typer.Option(help="NCV/LHV or GCV/HHV for energy quantities")] = "",
             as_json: JsonOpt = False) -> None:
    """Quick check: `zerocarbon calc 5 GJ natural_gas --factors EPA-2025.1 --basis GCV --gwp AR5 --json`."""
    from zerocarbon.core.factors import load_factor_set
    from zerocarbon.core.ghg.calc import calc as quick_calc

    r = quick_calc(load_factor_set(factors), value, unit, subject, gwp, use.value, basis)
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
                 as_json: JsonOpt = False) -> None:
    """List factors (all shipped files, or one factor set)."""
    from zerocarbon.core.factors import all_factors, available_factor_sets, load_factor_set

    rows = load_factor_set(factor_set).factors if factor_set else all_factors()
    rows = [f for f in rows if not (kind and f.kind != kind) and not (search and search not in f.factor_id)]
    if as_json:
        emit_json([f.__dict__ for f in rows])
        return
    if factor_set is None:
        console.print("factor sets: " + ", ".join(available_factor_sets()))
    table = Table()
    for c in ("factor_id", "value", "unit", "basis", "gas", "confidence"):
        table.add_column(c, overflow="fold")
    for f in rows:
        table.add_row(f.factor_id, f"{f.value:g}", f.unit, f.basis, f.gas, f.confidence)
    console.print(table)


@app.command("show")
def factors_show(factor_id: str, as_json: JsonOpt = False) -> None:
    """Everything known about one factor, provenance included."""
    from zerocarbon.core.factors import all_factors
    from zerocarbon.errors import NotFoundError

    found = next((f for f in all_factors() if f.factor_id == factor_id), None)
    if found is None:
        raise NotFoundError(f"no factor '{factor_id}'; try `zerocarbon factors list --search ...`")
    if as_json:
        emit_json(found.__dict__)
        return
    for k, v in found.__dict__.items():
        console.print(f"[bold]{k}[/]: {v}", highlight=False)


@app.command("sets")
def factors_sets(as_json: JsonOpt = False) -> None:
    """Factor sets with their fingerprints."""
    from zerocarbon.core.factors import available_factor_sets, load_factor_set

    sets = [load_factor_set(sid) for sid in available_factor_sets()]
    if as_json:
        emit_json([{"id": fs.id, "title": fs.title, "fingerprint": fs.fingerprint, "factors": len(fs.factors)}
                   for fs in sets])
        return
    for fs in sets:
        console.print(f"[bold]{fs.id}[/] {fs.fingerprint[:16]}  {fs.title}  ({len(fs.factors)} factors)")
